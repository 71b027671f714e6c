"""`kubectl plumbob`: the kubectl-plumbob executable the package installs, found by a real
kubectl (built by tests/services/tools.sh at the test API server's release) on PATH and
scanning the real API server of tests/services with the read-only ServiceAccount of
deploy/rbac.yaml; and the krew manifest, whose archive is rebuilt and checked."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import subprocess
import tomllib
from pathlib import Path

import yaml

from tests.conftest import service_dir
from tests.delivery.conftest import ROOT, run_env, tool
from tests.services.kubeadmin import Api, Credentials

MANIFEST = ROOT / "plugins" / "plumbob.yaml"


def test_the_krew_manifest() -> None:
    doc = yaml.safe_load(MANIFEST.read_text())
    assert doc["apiVersion"] == "krew.googlecontainertools.github.com/v1alpha2"
    assert doc["kind"] == "Plugin" and doc["metadata"]["name"] == "plumbob"
    spec = doc["spec"]
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert spec["version"] == f"v{version}"
    assert spec["homepage"].startswith("https://")
    assert 0 < len(spec["shortDescription"]) <= 50  # krew's index asks for a short line
    assert spec["description"] and spec["caveats"]
    spec_ = importlib.util.spec_from_file_location("archive", ROOT / "plugins" / "archive.py")
    assert spec_ is not None and spec_.loader is not None
    module = importlib.util.module_from_spec(spec_)
    spec_.loader.exec_module(module)
    data = module.archive()  # the archive the release publishes
    for platform in spec["platforms"]:
        assert platform["selector"]["matchExpressions"] or platform["selector"]["matchLabels"]
        assert platform["uri"].startswith("https://") and platform["uri"].endswith(".tar.gz")
        assert f"/v{version}/" in platform["uri"]
        assert platform["sha256"] == hashlib.sha256(data).hexdigest()
        assert platform["bin"] == "kubectl-plumbob"
        assert {f["from"] for f in platform["files"]} == {"kubectl-plumbob", "LICENSE"}


def test_kubectl_finds_the_plugin_and_scans_the_real_server(
    installed: Path, tmp_path: Path
) -> None:
    kubectl = tool("kubectl")
    kube = service_dir("kube", "plumbob.kubeconfig", tools=("go", "openssl"))
    admin = Api(Credentials.admin(kube))
    namespace = "plumbob-test-plugin"
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "infer", "namespace": namespace},
        "spec": {
            "selector": {"matchLabels": {"app": "infer"}},
            "template": {
                "metadata": {"labels": {"app": "infer"}},
                "spec": {
                    "containers": [
                        {
                            "name": "vllm",
                            "image": "vllm/vllm-openai:latest",
                            "resources": {"limits": {"nvidia.com/gpu": "1"}},
                        }
                    ]
                },
            },
        },
    }
    admin.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}})
    admin.apply(deployment)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "kubectl").symlink_to(kubectl)
    env = run_env(bin_dir, installed, HOME=str(tmp_path),
                  KUBECONFIG=str(kube / "plumbob.kubeconfig"))  # fmt: skip
    listed = subprocess.run(
        ["kubectl", "plugin", "list"], env=env, capture_output=True, text=True, timeout=60
    )
    assert listed.returncode == 0, listed.stderr
    assert str(installed / "kubectl-plumbob") in listed.stdout
    scanned = subprocess.run(
        ["kubectl", "plumbob", "scan", "-q", "--format", "json", "--namespace", namespace],
        env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert scanned.returncode == 0, scanned.stderr
    report = json.loads(scanned.stdout)
    [cluster] = report["clusters"]
    server = (kube / "server.url").read_text().strip()
    assert cluster["source"].startswith("live ") and server in cluster["source"]
    found = {(f["check"], f["subject"]["name"]) for f in report["findings"]}
    assert ("gpu-image-mutable-tag", "infer") in found
    subjects = [f["subject"] for f in report["findings"]]
    assert {
        s.get("namespace", s["name"] if s["kind"] == "Namespace" else None) for s in subjects
    } == {namespace}  # --namespace: nothing about other namespaces or cluster-wide objects
    admin.delete(deployment)
