"""The Helm chart in deploy/chart, with a real helm (built by tests/services/tools.sh): it
lints and renders; deploy/rbac.yaml is its rendering; the CronJob and the optional dashboard
are hardened and read-only; the rendering passes a server-side dry run on the real API server
(with a real kubectl); and plumbob finds nothing high or critical in its own chart."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import service_dir
from tests.delivery.conftest import ROOT, tool
from tests.services.kubeadmin import Api, Credentials

CHART = ROOT / "deploy" / "chart"
RBAC = ROOT / "deploy" / "rbac.yaml"
RBAC_VALUES = ROOT / "deploy" / "rbac-values.yaml"
RBAC_HEADER = """\
# Rendered from the chart in deploy/chart; do not edit here (tests/delivery/test_chart.py keeps
# it equal to the chart):
#   helm template plumbob deploy/chart --namespace plumbob -f deploy/rbac-values.yaml
#   kubectl apply -f deploy/rbac.yaml
"""
SERVE = ("--set", "store.existingSecret=plumbob-store", "--set", "serve.enabled=true")


def helm(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(tool("helm")), *args],
        capture_output=True, text=True, timeout=120, cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "HOME": str(ROOT / ".services" / "tools")},
    )  # fmt: skip


def render(*args: str, namespace: str = "plumbob") -> str:
    done = helm("template", "plumbob", str(CHART), "--namespace", namespace, *args)
    assert done.returncode == 0, done.stderr
    return done.stdout


def objects(text: str) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(text) if d]


def pod_specs(docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for d in docs:
        if d["kind"] == "CronJob":
            out.append(d["spec"]["jobTemplate"]["spec"]["template"]["spec"])
        elif d["kind"] == "Deployment":
            out.append(d["spec"]["template"]["spec"])
    return out


def test_lint() -> None:
    for values in ((), SERVE, ("-f", str(RBAC_VALUES))):
        done = helm("lint", "--strict", str(CHART), *values)
        assert done.returncode == 0, done.stdout + done.stderr


def test_deploy_rbac_yaml_is_the_chart_rendered() -> None:
    rendered = render("-f", str(RBAC_VALUES))
    assert RBAC.read_text() == RBAC_HEADER + rendered, (
        "deploy/rbac.yaml differs from the chart; regenerate it with the command in its header"
    )


def test_the_role_reads_and_secrets_need_a_value() -> None:
    for values, secrets in (((), False), (("--set", "rbac.secrets=true"), True)):
        [role] = [d for d in objects(render(*values)) if d["kind"] == "ClusterRole"]
        verbs = {v for rule in role["rules"] for v in rule["verbs"]}
        assert verbs == {"get", "list"}
        granted = {r for rule in role["rules"] for r in rule.get("resources", ())}
        assert ("secrets" in granted) is secrets
        assert "*" not in {g for rule in role["rules"] for g in rule.get("apiGroups", ())}


def test_the_cronjob_and_the_dashboard_are_hardened() -> None:
    docs = objects(render(*SERVE))
    kinds = {d["kind"] for d in docs}
    assert {"CronJob", "Deployment", "Service", "ServiceAccount", "ClusterRole"} <= kinds
    [cron] = [d for d in docs if d["kind"] == "CronJob"]
    assert cron["apiVersion"] == "batch/v1"
    assert cron["spec"]["concurrencyPolicy"] == "Forbid"
    assert cron["spec"]["jobTemplate"]["spec"]["ttlSecondsAfterFinished"] > 0
    specs = pod_specs(docs)
    assert len(specs) == 2
    for spec in specs:
        pod = spec["securityContext"]
        assert pod["runAsNonRoot"] is True and pod["runAsUser"] != 0
        assert pod["seccompProfile"] == {"type": "RuntimeDefault"}
        for c in spec["containers"]:
            sc = c["securityContext"]
            assert sc["readOnlyRootFilesystem"] is True
            assert sc["allowPrivilegeEscalation"] is False
            assert sc["capabilities"] == {"drop": ["ALL"]}
            for part in ("requests", "limits"):
                assert set(c["resources"][part]) == {"cpu", "memory"}
            [store] = [e for e in c["env"] if e["name"] == "PLUMBOB_STORE"]
            assert store["valueFrom"]["secretKeyRef"] == {"name": "plumbob-store", "key": "url"}
    args = cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["args"]
    assert args[:2] == ["scan", "--in-cluster"] and "--store=$(PLUMBOB_STORE)" in args
    # without a store the scan only logs its report; the dashboard needs one
    plain = objects(render())
    assert "--store=$(PLUMBOB_STORE)" not in pod_specs(plain)[0]["containers"][0]["args"]
    refused = helm("template", "plumbob", str(CHART), "--set", "serve.enabled=true")
    assert refused.returncode != 0 and "serve.enabled needs store.existingSecret" in refused.stderr


def test_plumbob_finds_nothing_high_in_its_own_chart(tmp_path: Path) -> None:
    rendered = tmp_path / "chart.yaml"
    rendered.write_text(render(*SERVE))
    done = subprocess.run(
        [sys.executable, "-m", "plumbob", "scan", str(rendered), "-q", "-f", "json",
         "--fail-on", "high"],
        capture_output=True, text=True, timeout=300,
        env={**os.environ, "CI": "1", "PYTHONPATH": str(ROOT / "src")},
    )  # fmt: skip
    report = json.loads(done.stdout)
    high = [(f["check"], f["message"]) for f in report["findings"]
            if f["severity"] in ("high", "critical")]  # fmt: skip
    assert done.returncode == 0 and not high, high
    assert report["inputs"]["read"] == 1


def test_server_side_dry_run_on_the_real_api_server(tmp_path: Path) -> None:
    kubectl = tool("kubectl")
    kube = service_dir("kube", "plumbob.kubeconfig", tools=("go", "openssl"))
    namespace = "plumbob-test-chart"
    admin = Api(Credentials.admin(kube))
    admin.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}})
    rendered = tmp_path / "chart.yaml"
    rendered.write_text(render(*SERVE, "--set", "rbac.secrets=true", namespace=namespace))
    done = subprocess.run(
        [str(kubectl), "apply", "--server-side", "--dry-run=server",
         "--field-manager=plumbob-tests", "-f", str(rendered)],
        capture_output=True, text=True, timeout=120,
        env={"PATH": "/usr/bin:/bin", "KUBECONFIG": str(kube / "admin.kubeconfig"),
             "HOME": str(tmp_path)},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    applied = done.stdout.splitlines()
    assert len(applied) == len(objects(rendered.read_text()))
    assert all(line.endswith("serverside-applied (server dry run)") for line in applied), applied
    # a dry run stores nothing
    assert (
        admin.request("GET", f"/apis/batch/v1/namespaces/{namespace}/cronjobs/plumbob-scan")[0]
        == 404
    )


@pytest.mark.parametrize("values", [(), SERVE])
def test_images_default_to_the_chart_version(values: tuple[str, ...]) -> None:
    for spec in pod_specs(objects(render(*values))):
        for c in spec["containers"]:
            assert c["image"] == "plumbob:0.1.0"
    pinned = render("--set", "image.digest=sha256:" + "a" * 64)
    assert "image: plumbob@sha256:" + "a" * 64 in pinned
