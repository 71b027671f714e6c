"""`plumbob conformance` and the scan say the same about the DCGM exporter: both run on the same
clusters, and accelerator_metrics is ready exactly where gpu-node-no-dcgm-exporter finds an
exporter, not covered exactly where it reports nodes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from plumbob import conformance as cc
from plumbob import engine
from plumbob.checks.registry import Registry
from plumbob.model.snapshot import Snapshot
from plumbob.sources.demo import DemoSource, DemoSpec
from plumbob.sources.files import FileSource
from tests.conftest import ROOT, make_container, make_node, snapshot_of

CHECK = "gpu-node-no-dcgm-exporter"
NO_EXPORTER = "the cluster runs no DCGM exporter DaemonSet"


def daemon_set(name: str, namespace: str, image: str, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [make_container(name, image=image)], **spec},
            },
        },
    }


SERVICE_MONITOR = {
    "apiVersion": "monitoring.coreos.com/v1",
    "kind": "ServiceMonitor",
    "metadata": {"name": "nvidia-dcgm-exporter", "namespace": "gpu-operator"},
    "spec": {"selector": {"matchLabels": {"app": "nvidia-dcgm-exporter"}}, "endpoints": []},
}
TAINTED = [{"key": "nvidia.com/gpu", "value": "present", "effect": "NoSchedule"}]


def synthetic() -> list[Snapshot]:
    gpu = make_node("gpu-1", gpus=8, product="NVIDIA-H100-80GB-HBM3")
    tainted = make_node("gpu-2", gpus=8, taints=TAINTED)
    operator = daemon_set(
        "nvidia-dcgm-exporter",
        "gpu-operator",
        "nvcr.io/nvidia/k8s/dcgm-exporter:3.3.5-3.4.1-ubuntu22.04",
        tolerations=[{"key": "nvidia.com/gpu", "operator": "Exists"}],
    )
    # a private mirror under another path: known by the operator's operand name
    mirrored = daemon_set(
        "nvidia-dcgm-exporter", "gpu-operator", "registry.corp.example/mirror/exporter:3.3.5"
    )
    untolerant = daemon_set(
        "dcgm-exporter", "monitoring", "nvcr.io/nvidia/k8s/dcgm-exporter:4.5.3-4.8.2-distroless"
    )
    return [
        snapshot_of(gpu, operator, SERVICE_MONITOR, cluster="operator-with-servicemonitor"),
        snapshot_of(gpu, mirrored, cluster="mirrored-image"),
        snapshot_of(gpu, tainted, untolerant, cluster="skips-tainted-node"),
        snapshot_of(gpu, cluster="no-exporter"),
        snapshot_of(make_node("cpu-1"), untolerant, cluster="no-gpus"),
    ]


def real_clusters(real: Path) -> list[Snapshot]:
    paths = (
        real / "nodes" / "akash-k3s-node1-8gpu-no-gfd.json",
        real / "workloads" / "dcgm-exporter-daemonset.yaml",
        real / "workloads" / "dcgm-exporter-servicemonitor.yaml",
    )
    loaded = FileSource(paths, cluster="upstream-dcgm-manifest").load()
    dumps = [
        real / "dumps" / name / name
        for name in ("k8s-ha-2017-cluster-info-dump", "rke2-omen-desktop-cluster-info-dump")
    ]
    return [*loaded.snapshots, *FileSource(tuple(dumps)).load().snapshots]


def assert_agree(snapshots: list[Snapshot]) -> list[str]:
    report = engine.run(snapshots, Registry.discover())
    seen: list[str] = []
    for snap in snapshots:
        name = snap.cluster.name
        found = [f for f in report.findings if f.check == CHECK and f.cluster == name]
        (metrics,) = [
            a
            for a in cc.assess(snap, report.findings, cc.default_version(snap))
            if a.requirement.id == "accelerator_metrics"
        ]
        status = metrics.status
        seen.append(f"{name}: {status.value}")
        if not snap.gpu_nodes:
            assert status is cc.Status.NOT_APPLICABLE and not found, name
        elif status is cc.Status.READY:
            assert not any(NO_EXPORTER in f.message for f in found), name
            if found:
                assert metrics.notes == "not every GPU node is covered", name
                assert f"{len(found)}/{len(snap.gpu_nodes)} GPU nodes not covered" in " ".join(
                    metrics.evidence
                ), name
            else:
                assert not metrics.notes, name
        else:
            checked = any(
                r.check == CHECK and r.cluster == name and r.status != "not-visible"
                for r in report.checks
            )
            assert not checked or (
                len(found) == len(snap.gpu_nodes) and all(NO_EXPORTER in f.message for f in found)
            ), name
    return seen


def test_synthetic_clusters() -> None:
    seen = assert_agree(synthetic())
    assert seen == [
        "operator-with-servicemonitor: ready",
        "mirrored-image: ready",
        "skips-tainted-node: ready",
        "no-exporter: not visible",
        "no-gpus: not applicable",
    ]


def test_the_exporter_and_its_servicemonitor_are_the_evidence() -> None:
    (snap, *_) = synthetic()
    (metrics,) = [
        a for a in cc.assess(snap, [], "1.35") if a.requirement.id == "accelerator_metrics"
    ]
    assert metrics.status is cc.Status.READY
    assert "gpu-operator/nvidia-dcgm-exporter" in metrics.evidence[0]
    assert metrics.evidence[1] == "scraped by ServiceMonitor gpu-operator/nvidia-dcgm-exporter"


def test_demo_fleet() -> None:
    assert_agree(DemoSource(DemoSpec()).load().snapshots)


def test_well_configured_cluster() -> None:
    folder = ROOT / "tests" / "fixtures" / "well-configured"
    seen = assert_agree(FileSource((folder,), cluster="well-configured").load().snapshots)
    assert seen == ["well-configured: ready"]


def test_real_clusters(real: Path) -> None:
    seen = assert_agree(real_clusters(real))
    assert seen == [
        "upstream-dcgm-manifest: ready",
        "k8s-ha-2017-cluster-info-dump: not applicable",
        "rke2-omen-desktop-cluster-info-dump: not applicable",
    ]


@pytest.mark.parametrize("cluster", ["no-exporter"])
def test_absent_exporter_is_cited_from_the_check(cluster: str) -> None:
    snaps = [s for s in synthetic() if s.cluster.name == cluster]
    report = engine.run(snaps, Registry.discover())
    (metrics,) = [
        a
        for a in cc.assess(snaps[0], report.findings, "1.35")
        if a.requirement.id == "accelerator_metrics"
    ]
    assert any(CHECK in e for e in metrics.evidence)
