"""Cross-cluster drift: same pool / same GPU product, components and their versions."""

from __future__ import annotations

from typing import Any

from plumbob.drift import DriftAnalysis
from plumbob.model.snapshot import ClusterInfo, Snapshot
from tests.conftest import decode, make_container, make_deployment
from tests.unit.drift.helpers import pool_node


def _snap(name: str, *objects: dict[str, Any]) -> Snapshot:
    return Snapshot(
        cluster=ClusterInfo(name=name, server_version="v1.31.4"),
        objects=[decode(o) for o in objects],
    )


def _dcgm(tag: str) -> dict[str, Any]:
    return make_deployment(
        "dcgm-exporter",
        "gpu-operator",
        containers=[make_container(image=f"nvcr.io/nvidia/k8s/dcgm-exporter:{tag}")],
    )


def test_same_pool_different_driver_and_missing_component() -> None:
    east = _snap(
        "east",
        *(pool_node(f"e{i}", "gpu", gpus=8, driver="550.90.07") for i in range(2)),
        _dcgm("3.3.5"),
    )
    west = _snap(
        "west",
        *(pool_node(f"w{i}", "gpu", gpus=8, driver="550.90.07") for i in range(2)),
        _dcgm("3.3.5"),
    )
    south = _snap(
        "south", *(pool_node(f"s{i}", "gpu", gpus=8, driver="535.104.05") for i in range(2))
    )
    findings, section = DriftAnalysis()([east, west, south])
    got = {(f.check, f.cluster, f.subject.kind, f.subject.name) for f in findings}
    assert got == {
        ("cross-cluster:nvidia_driver", "south", "Pool", "gpu"),
        ("cross-cluster:nvidia_driver", "south", "GPUProduct", "NVIDIA-H100-80GB-HBM3"),
        ("cross-cluster:component-missing", "south", "Cluster", "south"),
    }
    assert all(f.severity == "high" for f in findings if "nvidia_driver" in f.check)
    rows = {(r["group"], r["attribute"]): r["values"] for r in section["cross"]}
    assert rows[("pool:gpu", "nvidia_driver")] == {
        "east": "550.90.07",
        "south": "535.104.05",
        "west": "550.90.07",
    }
    assert section["components"] == [
        {
            "component": "nvidia-dcgm-exporter",
            "versions": {"east": "3.3.5", "south": None, "west": "3.3.5"},
        }
    ]


def test_component_versions_differ() -> None:
    a = _snap("a", pool_node("a0", "cpu"), _dcgm("3.3.5"))
    b = _snap("b", pool_node("b0", "cpu"), _dcgm("4.1.0"))
    findings, _ = DriftAnalysis()([a, b])
    # two clusters, one version each: neither is "most", both are named
    assert sorted((f.check, f.cluster) for f in findings) == [
        ("cross-cluster:component-version", "a"),
        ("cross-cluster:component-version", "b"),
    ]


def test_single_cluster_has_no_cross_section() -> None:
    findings, section = DriftAnalysis()([_snap("a", pool_node("a0", "cpu"))])
    assert findings == [] and "cross" not in section and "components" not in section


def test_component_detection_prefers_specific_components_and_operator_versions() -> None:
    from plumbob.drift.components import components

    operator = make_deployment(
        "gpu-operator",
        "gpu-operator",
        containers=[make_container(image="nvcr.io/nvidia/gpu-operator:v24.9.1")],
    )
    toolkit = make_deployment(
        "nvidia-container-toolkit-daemonset",
        "gpu-operator",
        containers=[
            make_container(image="nvcr.io/nvidia/k8s/container-toolkit:v1.17.0-ubuntu20.04")
        ],
    )
    mirror = make_deployment(
        "dcgm",
        "monitoring",
        containers=[make_container(image="mirror.example.com/nvidia/k8s/dcgm-exporter:3.3.9")],
    )
    found = components(_snap("a", toolkit, operator, mirror))
    assert found == {"nvidia-dcgm-exporter": "3.3.9", "nvidia-gpu-operator": "v24.9.1"}
