"""deploy/dashboard.yaml: the real kube-apiserver accepts it (server-side dry run, with
deploy/rbac.yaml's namespace), it probes /healthz, and every flag it passes is one `plumbob
serve` takes."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from typing import Any

import pytest
import yaml

from tests.conftest import ROOT, service_dir

MANIFEST = ROOT / "deploy" / "dashboard.yaml"


def _container() -> dict[str, Any]:
    docs = list(yaml.safe_load_all(MANIFEST.read_text(encoding="utf-8")))
    (deployment,) = [d for d in docs if d["kind"] == "Deployment"]
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    assert deployment["spec"]["template"]["spec"]["automountServiceAccountToken"] is False
    return dict(container)


def test_the_manifest_passes_flags_serve_takes() -> None:
    container = _container()
    args = container["args"]
    assert args[0] == "serve"
    done = subprocess.run(
        [sys.executable, "-m", "plumbob", "serve", "--help"],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT / "src"), "COLUMNS": "200"},
        check=True,
    )
    for arg in args[1:]:
        assert arg.split("=")[0] in done.stdout, arg
    assert container["readinessProbe"]["httpGet"]["path"] == "/healthz"
    assert {e["name"] for e in container["env"]} == {"PLUMBOB_STORE"}


def test_the_api_server_accepts_the_manifest() -> None:
    kube = service_dir("kube", "plumbob.kubeconfig", tools=("go", "openssl"))
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("no kubectl")
    done = subprocess.run(
        [kubectl, "--kubeconfig", str(kube / "admin.kubeconfig"), "apply",
         "--dry-run=server", "-f", str(MANIFEST)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "deployment.apps/plumbob-dashboard created (server dry run)" in done.stdout
    assert "service/plumbob-dashboard created (server dry run)" in done.stdout
