"""The well-configured GPU cluster (tests/fixtures/well-configured) end to end.

A clean, well-configured cluster produces no high or critical finding. To keep "clean" from
meaning "the checks saw nothing", the scan must show the GPU inventory and every check running,
and for every check one defect planted into the same cluster must make that check fire: each
check's fixture folder holds its `mutation.yaml` (tests/e2e/mutations.py says how it reads), and
the catalog test fails for a check without one.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from plumbob import engine
from plumbob.checks.registry import Registry
from plumbob.cli import app
from plumbob.config import Config
from plumbob.drift.assessed import FLEET_IDS
from plumbob.model.metrics import GpuMetrics, GpuUsage
from plumbob.model.snapshot import Snapshot
from plumbob.report.model import CheckStatus, Level, Report, Severity
from tests.conftest import snapshot_of
from tests.e2e.mutations import mutations

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "well-configured"
REGISTRY = Registry.discover()
MUTATIONS = mutations(Path(__file__).resolve().parents[1] / "checks")
"""Check id -> how to make it fire on this cluster (its fixture folder's mutation.yaml)."""
OPTIONS = {c: m.options for c, m in MUTATIONS.items() if m.options}
"""Options a check takes on this cluster (kubernetes-version-eol judges support windows on a
fixed day, so the fixture keeps its meaning as releases age)."""

ACCEPTED = {(c, subject) for c, m in MUTATIONS.items() for subject in m.fires_already}
"""Findings that are true on this cluster (mutation.yaml `fires-already`): the vLLM image is
12.4 GB (image-large-gpu, medium)."""
NEEDS_METRICS = {"gpu-allocated-idle", "gpu-low-utilization"}
"""Checks that read DCGM utilisation, which manifests cannot carry."""

Doc = dict[str, Any]


def _docs() -> list[Doc]:
    out: list[Doc] = []
    for path in sorted(FIXTURE.glob("*.yaml")):
        out += [d for d in yaml.safe_load_all(path.read_text()) if d]
    return out


DOCS = _docs()


def subject_key(check: str, kind: str, namespace: str | None, name: str) -> tuple[str, str]:
    return check, f"{kind}/{namespace or ''}/{name}"


def _key(finding: Any) -> tuple[str, str]:
    s = finding.subject
    return subject_key(finding.check, s.kind, s.namespace, s.name)


def busy_metrics(snap: Snapshot, util: float = 85.0) -> GpuMetrics:
    """DCGM utilisation as Prometheus would report it for a busy cluster: every GPU pod busy."""
    by_pod = {
        f"{p.namespace}/{p.name}": GpuUsage(
            gpus=int(
                sum(float(c.resources.limits.get("nvidia.com/gpu", 0)) for c in p.spec.containers)
            ),
            util_percent=util,
            max_util_percent=min(100.0, util + 8),
            memory_used_mib=41000.0,
        )
        for p in snap.pods
        if any("nvidia.com/gpu" in c.resources.limits for c in p.spec.containers)
    }
    return GpuMetrics(
        source="http://prometheus-operated.monitoring.svc:9090", window="24h", by_pod=by_pod
    )


# ------------------------------------------------------------------ the clean scan


@pytest.fixture(scope="module")
def cli_report(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("well-configured")
    config = tmp / "plumbob.yaml"
    config.write_text(yaml.safe_dump({"options": OPTIONS}))
    out = tmp / "report.json"
    result = CliRunner().invoke(
        app,
        [
            "scan",
            str(FIXTURE),
            "--complete",  # the folder declares the whole cluster
            "-q",
            "--config",
            str(config),
            "--fail-on",
            "high",
            "--format",
            "json",
            "--output",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output  # --fail-on high: nothing high or critical
    data: dict[str, Any] = json.loads(out.read_text())
    return data


def test_no_high_or_critical_findings(cli_report: dict[str, Any]) -> None:
    severe = [f for f in cli_report["findings"] if f["severity"] in ("critical", "high")]
    assert severe == []
    found = {
        subject_key(f["check"], s["kind"], s.get("namespace"), s["name"])
        for f in cli_report["findings"]
        for s in [f["subject"]]
    }
    assert found == ACCEPTED


def test_input_read_cleanly(cli_report: dict[str, Any]) -> None:
    assert [d for d in cli_report["diagnostics"] if d["level"] != "info"] == []
    inputs = cli_report["inputs"]
    assert inputs["files"] == inputs["read"] + 1
    (readme,) = inputs["unread"]  # named as not read, not skipped without a word
    assert readme["path"].endswith("README.md") and "documentation" in readme["reason"]
    assert cli_report["notVisible"] == [
        {
            "cluster": "well-configured",
            "reason": "GpuMetrics: no GPU utilisation metrics: scan with --prometheus URL "
            "(DCGM exporter)",
            "checks": sorted(NEEDS_METRICS),
        }
    ]


def test_gpu_inventory_seen(cli_report: dict[str, Any]) -> None:
    (inv,) = cli_report["clusters"]
    assert inv["nodes"] == 6 and inv["gpuNodes"] == 4
    assert inv["gpusAllocatable"] == 24 and inv["gpusRequested"] == 24
    assert inv["gpuModels"] == {"NVIDIA-H100-80GB-HBM3": 16, "NVIDIA-L40S": 8}
    assert inv["gpuWorkloads"] == 2 and inv["workloads"] >= 30
    pools = {p["name"]: p for p in inv["pools"]}
    assert pools["gpu-training"]["gpusRequested"] == 16
    assert pools["gpu-inference"]["gpusRequested"] == 8
    assert not inv.get("notVisible")


def test_every_check_ran(cli_report: dict[str, Any]) -> None:
    runs = {r["check"]: r for r in cli_report["checks"] if not r["check"].startswith("drift:")}
    assert set(runs) == {c.id for c in REGISTRY}
    drift = {r["check"]: r["status"] for r in cli_report["checks"] if r["check"] not in runs}
    assert set(drift) == set(FLEET_IDS) and set(drift.values()) == {"passed"}  # compared
    not_run = {c for c, r in runs.items() if r["status"] not in ("passed", "failed")}
    assert not_run == NEEDS_METRICS  # no Prometheus URL: honestly "not visible"
    passed = [c for c, r in runs.items() if r["status"] == "passed"]
    assert len(passed) == len(REGISTRY) - len(NEEDS_METRICS) - len(ACCEPTED)
    gpu = [c.id for c in REGISTRY if c.category == "gpu"]
    assert all(runs[c]["status"] == "passed" for c in gpu)


def test_cost_section_prices_every_gpu(cli_report: dict[str, Any]) -> None:
    cost = cli_report["sections"]["gpu-cost"]
    (cluster,) = cost["clusters"]
    assert cluster["gpus"] == 24 and cluster["idle"] == 0 and cost["idle_monthly_cost"] == 0
    assert {p["product"] for p in cluster["pools"]} == {"NVIDIA-H100-80GB-HBM3", "NVIDIA-L40S"}
    assert all(p["usd_per_gpu_hour"] for p in cluster["pools"])


@pytest.fixture(scope="module")
def snapshot() -> Snapshot:
    return snapshot_of(*DOCS, cluster="well-configured")


def run(snap: Snapshot, only: list[str] | None = None) -> Report:
    config = Config(only=only or [], options=OPTIONS)
    return engine.run([snap], REGISTRY, config)


def test_with_gpu_metrics_every_check_runs_and_passes(snapshot: Snapshot) -> None:
    report = run(snapshot.with_gpu_metrics(busy_metrics(snapshot)))
    statuses = {r.check: r.status for r in report.checks}
    assert all(s in (CheckStatus.PASSED, CheckStatus.FAILED) for s in statuses.values()), statuses
    assert {_key(f) for f in report.findings} == ACCEPTED
    assert not [d for d in report.diagnostics if d.level == Level.ERROR]
    assert report.worst() == Severity.MEDIUM


# ------------------------------------------------------------------ one defect per check


PLANTED = sorted(c for c, m in MUTATIONS.items() if m.plant)
METERED = sorted(c for c, m in MUTATIONS.items() if m.gpu_util_percent is not None)


def _subjects(report: Report, check_id: str) -> set[str]:
    return {
        f"{f.subject.kind}/{f.subject.namespace or ''}/{f.subject.name}"
        for f in report.findings
        if f.check == check_id
    }


def test_every_check_has_a_planted_defect() -> None:
    """Each check's fixture folder says how to make it fire here (tests/e2e/mutations.py)."""
    assert set(MUTATIONS) == {c.id for c in REGISTRY}
    assert set(METERED) >= NEEDS_METRICS


@pytest.mark.parametrize("check_id", PLANTED)
def test_planted_defect_is_found(snapshot: Snapshot, check_id: str) -> None:
    mutation = MUTATIONS[check_id]
    mutated = snapshot_of(*mutation.apply(DOCS), cluster="well-configured")
    assert _subjects(run(snapshot, [check_id]), check_id) == set()
    found = _subjects(run(mutated, [check_id]), check_id)
    assert found, f"{check_id} did not fire on its planted defect ({mutation.source})"
    if mutation.expect is not None:
        assert found == set(mutation.expect)


@pytest.mark.parametrize("check_id", METERED)
def test_idle_gpus_are_found(snapshot: Snapshot, check_id: str) -> None:
    mutation = MUTATIONS[check_id]
    assert mutation.gpu_util_percent is not None
    busy = run(snapshot.with_gpu_metrics(busy_metrics(snapshot)), [check_id])
    assert [r.status for r in busy.checks] == [CheckStatus.PASSED]
    idle = snapshot.with_gpu_metrics(busy_metrics(snapshot, mutation.gpu_util_percent))
    found = _subjects(run(idle, [check_id]), check_id)
    assert found and (mutation.expect is None or found == set(mutation.expect))


# ------------------------------------------------------------------ conformance and terminal


def test_conformance_product_yaml(tmp_path: Path) -> None:
    """`plumbob conformance --version 1.35 --product-yaml` on the cluster: every MUST plumbob can
    see is Implemented, the rest blank for the vendor, and the file keeps the program's rules
    (cncf/k8s-ai-conformance scripts/validate.go) except the vendor's own metadata and links."""
    out = tmp_path / "PRODUCT.yaml"
    result = CliRunner().invoke(
        app,
        ["conformance", str(FIXTURE), "--version", "1.35", "-q", "--product-yaml", str(out)],
        env={"COLUMNS": "200"},
    )
    assert result.exit_code == 0, result.output
    assert "Kubernetes AI Conformance v1.35" in result.stdout
    doc = yaml.safe_load(out.read_text())
    assert doc["metadata"]["kubernetesVersion"] == "v1.35"
    rows = {row["id"]: row for rows in doc["spec"].values() for row in rows}
    assert set(doc["spec"]) == {
        "accelerators",
        "networking",
        "schedulingOrchestration",
        "observability",
        "security",
        "operator",
    }
    implemented = {i for i, r in rows.items() if r["status"] == "Implemented"}
    assert implemented >= {
        "ai_inference",
        "gang_scheduling",
        "cluster_autoscaling",
        "pod_autoscaling",
        "accelerator_metrics",
        "ai_service_metrics",
        "secure_accelerator_access",
        "robust_controller",
        "driver_runtime_management",
    }
    musts = {i for i, r in rows.items() if r["level"] == "MUST"}
    assert musts - implemented == {"dra_support"}  # no resource.k8s.io objects in manifests
    assert rows["dra_support"]["status"] == ""  # not visible: left for the vendor
    for rid, row in rows.items():
        assert row["status"] in (
            "Implemented",
            "Not Implemented",
            "Partially Implemented",
            "N/A",
            "",
        )
        assert row["evidence"] == [], rid
        assert row["notes"].startswith("plumbob pre-check: "), rid
        if row["status"] == "Implemented":
            assert "; seen: " in row["notes"], rid
    assert "Kueue" in rows["gang_scheduling"]["notes"]
    assert rows["gang_scheduling"]["description"].startswith("The platform must allow")


def test_terminal_report_shows_gpu_cost(tmp_path: Path) -> None:
    config = tmp_path / "plumbob.yaml"
    config.write_text(yaml.safe_dump({"options": OPTIONS}))
    result = CliRunner().invoke(
        app, ["scan", str(FIXTURE), "-q", "--config", str(config)], env={"COLUMNS": "120"}
    )
    assert result.exit_code == 0, result.output
    assert "GPU cost — 0 of 24 GPUs idle ≈ $0/month" in result.stdout
    assert "H100-80GB-HBM3" in result.stdout and "L40S" in result.stdout
    assert "0 critical, 0 high, 1 medium" in result.stdout
