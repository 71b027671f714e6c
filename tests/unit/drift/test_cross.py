"""Cross-cluster drift: same pool / same GPU product, components and their versions."""

from __future__ import annotations

from typing import Any

from plumbob.drift import DriftAnalysis
from plumbob.model.snapshot import ClusterInfo, Discovery, Snapshot
from tests.conftest import decode, make_container, make_deployment
from tests.unit.drift.helpers import pool_node


def _snap(name: str, *objects: dict[str, Any], live: bool = True) -> Snapshot:
    """`live`: with API discovery, as a capture of a running cluster (absence is visible)."""
    return Snapshot(
        cluster=ClusterInfo(name=name, server_version="v1.31.4"),
        objects=[decode(o) for o in objects],
        discovery=Discovery(group_versions=["v1", "apps/v1"]) if live else None,
        captured=None if live else (),  # files hold only the kinds they contain
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


def test_same_pool_with_different_kernels_and_kubelets() -> None:
    east = _snap(
        "east",
        *(pool_node(f"e{i}", "web", kernel="6.1.0-28", kubelet="v1.31.4") for i in range(3)),
    )
    west = _snap(
        "west",
        *(pool_node(f"w{i}", "web", kernel="5.15.0-1", kubelet="v1.30.9") for i in range(3)),
    )
    findings, section = DriftAnalysis()([east, west])
    got = {(f.check, f.cluster, f.severity) for f in findings}
    # a tie: both clusters are named, neither is "the usual"
    assert got == {
        ("cross-cluster:kernel", "east", "medium"),
        ("cross-cluster:kernel", "west", "medium"),
        ("cross-cluster:kubelet", "east", "medium"),
        ("cross-cluster:kubelet", "west", "medium"),
    }
    rows = {(r["group"], r["attribute"]): r["values"] for r in section["cross"]}
    assert rows[("pool:web", "kernel")] == {"east": "6.1.0-28", "west": "5.15.0-1"}


def test_one_gpu_model_however_nodes_name_it() -> None:
    """GKE names the H100 by accelerator label, a time-sliced node adds -SHARED: one model,
    compared as one group across the three clusters (pools named differently)."""
    gke = {"cloud.google.com/gke-accelerator": "nvidia-h100-80gb"}
    a = _snap("a", *(pool_node(f"a{i}", "p-a", gpus=8, driver="550.90.07") for i in range(2)))
    b = _snap(
        "b",
        *(
            pool_node(
                f"b{i}", "p-b", gpus=8, driver="550.90.07", product="NVIDIA-H100-80GB-HBM3-SHARED"
            )
            for i in range(2)
        ),
    )
    c_nodes = [pool_node(f"c{i}", "p-c", gpus=8, driver="535.104.05", labels=gke) for i in range(2)]
    for node in c_nodes:
        del node["metadata"]["labels"]["nvidia.com/gpu.product"]
    c = _snap("c", *c_nodes)
    findings, section = DriftAnalysis()([a, b, c])
    gpu = [f for f in findings if f.subject.kind == "GPUProduct"]
    assert [(f.check, f.cluster, f.subject.name, f.severity) for f in gpu] == [
        ("cross-cluster:nvidia_driver", "c", "NVIDIA-H100-80GB-HBM3", "high")
    ]
    assert "550.90.07 in most clusters" in gpu[0].message
    groups = {r["group"] for r in section["cross"]}
    assert groups == {"gpu:NVIDIA-H100-80GB-HBM3"}


def test_components_across_clusters_only_where_absence_is_visible() -> None:
    """A folder of manifests without the DCGM exporter is "not visible", not "missing"; tags
    v3.3.5 and 3.3.5 are one version."""
    a = _snap("a", pool_node("a0", "cpu"), _dcgm("v3.3.5"))
    b = _snap("b", pool_node("b0", "cpu"), _dcgm("3.3.5"))
    manifests = _snap("m", pool_node("m0", "cpu"), live=False)
    findings, section = DriftAnalysis()([a, b, manifests])
    assert [f.check for f in findings if f.check.startswith("cross-cluster:component")] == []
    assert section.get("components", []) == []
    live = _snap("l", pool_node("l0", "cpu"))
    findings, section = DriftAnalysis()([a, b, manifests, live])
    assert [(f.check, f.cluster) for f in findings] == [("cross-cluster:component-missing", "l")]
    (row,) = section["components"]
    assert row["versions"] == {"a": "v3.3.5", "b": "3.3.5", "l": None}  # "m": not visible


def _kyverno(name: str, action: str = "Enforce") -> dict[str, Any]:
    return {
        "apiVersion": "kyverno.io/v1",
        "kind": "ClusterPolicy",
        "metadata": {"name": name},
        "spec": {"validationFailureAction": action, "rules": []},
    }


def _vap(name: str, deny: bool = True) -> list[dict[str, Any]]:
    return [
        {
            "apiVersion": "admissionregistration.k8s.io/v1",
            "kind": "ValidatingAdmissionPolicy",
            "metadata": {"name": name},
            "spec": {"validations": [{"expression": "true"}]},
        },
        {
            "apiVersion": "admissionregistration.k8s.io/v1",
            "kind": "ValidatingAdmissionPolicyBinding",
            "metadata": {"name": f"{name}-binding"},
            "spec": {"policyName": name, "validationActions": ["Deny" if deny else "Audit"]},
        },
    ]


def test_admission_policies_applied_unevenly() -> None:
    """prod and staging enforce require-gpu-limits; dev lacks it and only audits the VAP;
    a folder of manifests without policies is not visible, not missing."""
    prod = _snap(
        "prod",
        pool_node("p0", "cpu"),
        _kyverno("require-gpu-limits"),
        *_vap("gpu-images-from-nvcr"),
    )
    staging = _snap(
        "staging",
        pool_node("s0", "cpu"),
        _kyverno("require-gpu-limits"),
        *_vap("gpu-images-from-nvcr"),
    )
    dev = _snap("dev", pool_node("d0", "cpu"), *_vap("gpu-images-from-nvcr", deny=False))
    manifests = _snap("ci", pool_node("m0", "cpu"), live=False)
    findings, section = DriftAnalysis()([prod, staging, dev, manifests])
    got = sorted(
        (f.check, f.cluster, f.subject.path, f.severity) for f in findings if "policy" in f.check
    )
    assert got == [
        (
            "cross-cluster:policy-missing",
            "dev",
            "policies[ClusterPolicy/require-gpu-limits]",
            "medium",
        ),
        (
            "cross-cluster:policy-mode",
            "dev",
            "policies[ValidatingAdmissionPolicy/gpu-images-from-nvcr]",
            "low",
        ),
    ]
    rows = {r["policy"]: r["states"] for r in section["policies"]}
    assert rows == {
        "ClusterPolicy/require-gpu-limits": {"dev": None, "prod": "enforce", "staging": "enforce"},
        "ValidatingAdmissionPolicy/gpu-images-from-nvcr": {
            "dev": "audit",
            "prod": "enforce",
            "staging": "enforce",
        },
    }
    mode = next(f for f in findings if f.check == "cross-cluster:policy-mode")
    assert "only audits here, enforces in most clusters" in mode.message
