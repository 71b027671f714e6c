"""The AI conformance pre-check: requirement table, per-requirement judgement, PRODUCT.yaml, CLI."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from plumbob import conformance as cc
from plumbob.cli import app
from plumbob.knowledge import load_table
from plumbob.model.snapshot import Discovery
from tests.conftest import make_container, make_deployment, make_node, snapshot_of


def statuses(snap: Any, version: str = "1.35") -> dict[str, cc.Status]:
    return {a.requirement.id: a.status for a in cc.assess(snap, [], version)}


def test_versions_and_levels() -> None:
    assert cc.versions() == ("1.33", "1.34", "1.35", "1.36", "1.37")
    ids_136 = {r.id for r in cc.requirements("1.36")}
    assert "dra_support" not in ids_136 and "advanced_inference_ingress" in ids_136
    r133 = {r.id: r.level for r in cc.requirements("1.33")}
    assert r133["dra_support"] == "SHOULD" and r133["gang_scheduling"] == "MUST"
    assert "workload_sandboxing" in {r.id for r in cc.requirements("1.37")}
    with pytest.raises(Exception, match="no AI conformance checklist"):
        cc.requirements("1.20")


def test_every_requirement_has_a_rule() -> None:
    ids = {row["id"] for row in load_table("ai_conformance")["requirements"]}
    assert ids == set(cc.EVALUATORS)


def test_no_gpus_no_discovery() -> None:
    got = statuses(snapshot_of(make_node("cpu-1")))
    assert got["secure_accelerator_access"] is cc.Status.NOT_APPLICABLE
    assert got["accelerator_metrics"] is cc.Status.NOT_APPLICABLE
    assert got["gang_scheduling"] is cc.Status.NOT_VISIBLE  # files: no discovery to rule it out
    assert got["ai_inference"] is cc.Status.NOT_VISIBLE


def test_discovery_turns_absence_into_not_ready() -> None:
    snap = snapshot_of(
        make_node("gpu-1", gpus=8, product="NVIDIA-H100-80GB-HBM3"),
        discovery=Discovery(group_versions=["v1", "apps/v1"]),
    )
    got = statuses(snap)
    assert got["ai_inference"] is cc.Status.NOT_READY
    assert got["gang_scheduling"] is cc.Status.NOT_READY
    assert got["accelerator_metrics"] is cc.Status.NOT_READY
    assert got["dra_support"] is cc.Status.NOT_READY
    assert got["secure_accelerator_access"] is cc.Status.READY  # nvidia.com/gpu allocatable


def test_ready_from_objects_and_images() -> None:
    gateway = {
        "apiVersion": "gateway.networking.k8s.io/v1",
        "kind": "GatewayClass",
        "metadata": {"name": "gke-l7-rilb"},
        "spec": {"controllerName": "x"},
    }
    dcgm = make_deployment(
        "dcgm",
        "gpu-operator",
        containers=[make_container(image="nvcr.io/nvidia/k8s/dcgm-exporter:4.1.1")],
    )
    dcgm["kind"] = "DaemonSet"  # the exporter runs per node
    del dcgm["spec"]["replicas"]
    kueue = {
        "apiVersion": "kueue.x-k8s.io/v1beta1",
        "kind": "ClusterQueue",
        "metadata": {"name": "gpu"},
        "spec": {},
    }
    sandbox = {
        "apiVersion": "node.k8s.io/v1",
        "kind": "RuntimeClass",
        "metadata": {"name": "gvisor"},
        "handler": "runsc",
    }
    snap = snapshot_of(
        make_node("gpu-1", gpus=8, labels={"karpenter.sh/nodepool": "gpu"}),
        gateway,
        dcgm,
        kueue,
        sandbox,
    )
    assessed = {a.requirement.id: a for a in cc.assess(snap, [], "1.37")}
    for rid in (
        "ai_inference",
        "accelerator_metrics",
        "gang_scheduling",
        "cluster_autoscaling",
        "workload_sandboxing",
        "robust_controller",
    ):
        assert assessed[rid].status is cc.Status.READY, (rid, assessed[rid])
        assert assessed[rid].evidence
    assert "gke-l7-rilb" in " ".join(assessed["ai_inference"].evidence)


def test_product_yaml_shape() -> None:
    snap = snapshot_of(make_node("cpu-1"))
    doc = cc.product_yaml(cc.assess(snap, [], "1.37"), "1.37", snap)
    assert doc["metadata"]["kubernetesVersion"] == "v1.37"
    allowed = {*load_table("ai_conformance")["status_values"], ""}
    fields = set(load_table("ai_conformance")["product_yaml_fields"])
    rows = [row for rows in doc["spec"].values() for row in rows]
    assert {row["id"] for row in rows} == {r.id for r in cc.requirements("1.37")}
    for row in rows:
        assert set(row) == fields
        assert row["status"] in allowed
        assert row["notes"].startswith("plumbob pre-check: ")
        assert row["evidence"] == []  # the program takes links/files only: left to the vendor
        assert len(row["description"]) > 60  # the checklist's wording, not plumbob's title
    meta = load_table("ai_conformance")["product_yaml_metadata"]
    assert list(doc["metadata"]) == [m["key"] for m in meta]
    assert doc["metadata"]["vendorName"] == "" and doc["metadata"]["k8sConformanceUrl"] == ""
    assert set(doc["spec"]) <= {
        "accelerators",
        "networking",
        "schedulingOrchestration",
        "observability",
        "security",
        "operator",
    }


SNAPSHOT = {
    "apiVersion": "plumbob.dev/v1",
    "kind": "Snapshot",
    "cluster": {"name": "lab", "serverVersion": "v1.34.2"},
    "discovery": {"groupVersions": ["v1", "apps/v1", "resource.k8s.io/v1"]},
    "objects": [make_node("gpu-1", gpus=4, product="NVIDIA-L4")],
}


def test_cli_json_and_product_yaml(tmp_path: Path) -> None:
    path = tmp_path / "lab.json"
    path.write_text(json.dumps(SNAPSHOT))
    out = tmp_path / "PRODUCT.yaml"
    result = CliRunner().invoke(
        app, ["conformance", str(path), "--format", "json", "-q", "--product-yaml", str(out)]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data[0]["cluster"] == "lab" and data[0]["version"] == "1.34"  # the cluster's minor
    by_id = {r["id"]: r for r in data[0]["requirements"]}
    assert by_id["dra_support"]["status"] == "ready"
    assert by_id["ai_inference"]["status"] == "not ready"
    doc = yaml.safe_load(out.read_text())
    assert doc["metadata"]["kubernetesVersion"] == "v1.34"
    assert doc["spec"]["accelerators"][0]["id"] == "dra_support"


def test_cli_table_and_usage_errors(tmp_path: Path) -> None:
    path = tmp_path / "lab.json"
    path.write_text(json.dumps(SNAPSHOT))
    runner = CliRunner()
    table = runner.invoke(app, ["conformance", str(path), "--version", "1.36", "-q"])
    assert table.exit_code == 0
    assert "gang_scheduling" in table.stdout and "dra_support" not in table.stdout
    assert runner.invoke(app, ["conformance", str(path), "--version", "1.20"]).exit_code == 2
    assert runner.invoke(app, ["conformance"]).exit_code == 2
    assert runner.invoke(app, ["conformance", str(tmp_path / "missing.yaml")]).exit_code == 2


def test_cli_demo() -> None:
    result = CliRunner().invoke(app, ["conformance", "--demo", "--format", "json", "-q"])
    assert result.exit_code == 0, result.output
    by_id = {r["id"]: r for r in json.loads(result.stdout)[0]["requirements"]}
    assert by_id["cluster_autoscaling"]["status"] == "ready"
    assert any("gpu-hpa-cpu-only" in e for e in by_id["pod_autoscaling"]["evidence"])
