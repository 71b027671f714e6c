"""Run by tests/services/kube.sh once the API server is ready: applies deploy/rbac.yaml, asks
for a token of its ServiceAccount, and writes admin.kubeconfig and plumbob.kubeconfig."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from kubeadmin import Api, Credentials, apply_all, kubeconfig, yaml_documents


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--server", required=True)
    parser.add_argument("--pki", type=Path, required=True, help="the folder of the keys")
    parser.add_argument("--out", type=Path, required=True, help=".services/kube")
    parser.add_argument("--rbac", type=Path, required=True)
    args = parser.parse_args()
    ca = str(args.out / "ca.crt")
    admin = kubeconfig(
        args.server,
        ca,
        "plumbob-test-admin",
        {
            "client-certificate": str(args.pki / "admin.crt"),
            "client-key": str(args.pki / "admin.key"),
        },
        args.out / "admin.kubeconfig.tmp",
    )
    api = Api(
        Credentials(args.server, ca, str(args.pki / "admin.crt"), str(args.pki / "admin.key"))
    )
    docs = list(yaml_documents(args.rbac))
    # the namespace first: everything else lives in it or names it
    apply_all(api, [d for d in docs if d["kind"] == "Namespace"], with_status=False)
    apply_all(api, [d for d in docs if d["kind"] != "Namespace"], with_status=False)
    (sa,) = [d for d in docs if d["kind"] == "ServiceAccount"]
    token = api.token(sa["metadata"]["namespace"], sa["metadata"]["name"])
    kubeconfig(args.server, ca, "plumbob", {"token": token}, args.out / "plumbob.kubeconfig")
    admin.rename(args.out / "admin.kubeconfig")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
