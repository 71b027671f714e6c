"""Fleet drift inside one snapshot: majority, outliers, split pools, severities, exemptions."""

from __future__ import annotations

from typing import Any

from plumbob.config import Config, Exemption
from plumbob.drift import DriftAnalysis
from plumbob.model.snapshot import ClusterInfo, Snapshot
from plumbob.report.model import Finding
from tests.conftest import decode
from tests.unit.drift.helpers import pool_node


def _run(
    *nodes: dict[str, Any], server: str | None = None, config: Config | None = None
) -> tuple[list[Finding], dict[str, Any]]:
    snap = Snapshot(
        cluster=ClusterInfo(name="c1", server_version=server), objects=[decode(n) for n in nodes]
    )
    return DriftAnalysis()([snap], config.policy() if config is not None else None)


def _by(findings: list[Finding]) -> dict[tuple[str, str], Finding]:
    return {(f.check, f.subject.name): f for f in findings}


def test_uniform_pool_has_no_drift() -> None:
    findings, section = _run(
        *(pool_node(f"g{i}", "gpu", gpus=8, driver="550.54.15") for i in range(4))
    )
    assert findings == []
    row = section["pools"][0]
    assert row["pool"] == "gpu" and row["gpu"] and row["nodes"] == 4
    assert row["cells"]["nvidia_driver"] == {"distinct": 1, "majority": "550.54.15"}


def test_driver_outlier_in_gpu_pool_is_high_and_kernel_medium() -> None:
    nodes = [pool_node(f"g{i}", "gpu", gpus=8, driver="550.54.15") for i in range(4)]
    nodes.append(pool_node("g4", "gpu", gpus=8, driver="535.104.05", kernel="6.1.0-25-cloud-amd64"))
    findings, section = _run(*nodes)
    found = _by(findings)
    assert set(found) == {("drift:nvidia_driver", "g4"), ("drift:kernel", "g4")}
    driver = found[("drift:nvidia_driver", "g4")]
    assert driver.severity == "high" and driver.category == "drift"
    assert driver.evidence["majority"] == "550.54.15" and driver.evidence["majorityNodes"] == 4
    assert "535.104.05" in driver.message and "g4" in driver.message
    assert found[("drift:kernel", "g4")].severity == "medium"
    cell = section["pools"][0]["cells"]["nvidia_driver"]
    assert cell["distinct"] == 2 and cell["outliers"] == ["g4"]
    assert cell["values"] == {"550.54.15": 4, "535.104.05": 1}


def test_cuda_outlier_high_only_in_gpu_pool() -> None:
    nodes = [pool_node(f"g{i}", "gpu", gpus=8, cuda="12.4") for i in range(3)]
    nodes.append(pool_node("g3", "gpu", gpus=8, cuda="12.2"))
    findings, _ = _run(*nodes)
    assert [(f.check, f.severity) for f in findings] == [("drift:cuda", "high")]


def test_split_pool_is_reported_not_resolved() -> None:
    nodes = [
        pool_node("a1", "cpu", kernel="6.1.0-28"),
        pool_node("a2", "cpu", kernel="6.1.0-28"),
        pool_node("a3", "cpu", kernel="6.1.0-30"),
        pool_node("a4", "cpu", kernel="6.1.0-30"),
    ]
    findings, section = _run(*nodes)
    assert len(findings) == 1
    split = findings[0]
    assert split.check == "drift:kernel" and split.subject.kind == "Pool"
    assert split.subject.name == "cpu" and split.evidence["split"] is True
    assert "split" in split.message
    cell = section["pools"][0]["cells"]["kernel"]
    assert cell["split"] is True and "majority" not in cell
    assert cell["outliers"] == ["a1", "a2", "a3", "a4"]


def test_kubelet_outside_skew_is_high_inside_skew_medium() -> None:
    base = [pool_node(f"n{i}", "cpu", kubelet="v1.33.2") for i in range(3)]
    old = _run(*base, pool_node("n3", "cpu", kubelet="v1.29.8"), server="v1.33.2")[0]
    near = _run(*base, pool_node("n3", "cpu", kubelet="v1.32.5"), server="v1.33.2")[0]
    assert {(f.check, f.severity) for f in old} == {
        ("drift:kubelet", "high"),
        ("drift:kube_proxy", "high"),
    }
    assert {(f.check, f.severity) for f in near} == {
        ("drift:kubelet", "medium"),
        ("drift:kube_proxy", "medium"),
    }


def test_label_difference_is_low_and_zone_is_not_drift() -> None:
    nodes = [
        pool_node(f"n{i}", "cpu", labels={"team": "ml", "topology.kubernetes.io/zone": f"z{i}"})
        for i in range(3)
    ]
    nodes.append(pool_node("n3", "cpu", labels={"team": "web"}))
    findings, _ = _run(*nodes)
    assert [(f.check, f.subject.name, f.severity, f.subject.path) for f in findings] == [
        ("drift:label", "n3", "low", "label:team")
    ]


def test_runtime_and_taint_differences() -> None:
    taint = [{"key": "nvidia.com/gpu", "value": "present", "effect": "NoSchedule"}]
    nodes = [pool_node(f"g{i}", "gpu", gpus=8, taints=taint) for i in range(3)]
    nodes.append(pool_node("g3", "gpu", gpus=8, runtime="containerd://1.6.20"))
    found = _by(_run(*nodes)[0])
    assert set(found) == {("drift:container_runtime", "g3"), ("drift:taints", "g3")}
    assert "(absent)" in found[("drift:taints", "g3")].message


def test_config_exemption_severity_and_ignore_annotation() -> None:
    nodes = [pool_node(f"n{i}", "cpu") for i in range(3)]
    odd = pool_node("n3", "cpu", kernel="5.10", labels={"team": "x"})
    findings, _ = _run(*nodes, odd)
    assert {f.check for f in findings} == {"drift:kernel", "drift:label"}
    cfg = Config(
        severity={"drift:kernel": "critical"},  # type: ignore[dict-item]
        exemptions=[Exemption(check="drift:label", name="n3")],
    )
    configured, _ = _run(*nodes, odd, config=cfg)
    assert [(f.check, f.severity) for f in configured] == [("drift:kernel", "critical")]
    odd["metadata"]["annotations"] = {"plumbob.dev/ignore": "drift"}
    assert _run(*nodes, odd)[0] == []
    assert (
        _run(*nodes, pool_node("n3", "cpu", kernel="5.10"), config=Config(disable=["drift"]))[0]
        == []
    )


def test_fingerprints_are_stable_and_distinct() -> None:
    nodes = [pool_node(f"n{i}", "cpu") for i in range(3)]
    nodes.append(pool_node("n3", "cpu", kernel="5.10", runtime="containerd://1.6.0"))
    first, _ = _run(*nodes)
    second, _ = _run(*nodes)
    assert [f.fingerprint for f in first] == [f.fingerprint for f in second]
    assert len({f.fingerprint for f in first}) == len(first) == 2


def test_section_columns_follow_attribute_order() -> None:
    _, section = _run(
        pool_node("a", "p", gpus=1, driver="1"), pool_node("b", "p", gpus=1, driver="1")
    )
    cols = section["columns"]
    assert cols.index("kernel") < cols.index("kubelet") < cols.index("nvidia_driver")


def _shaped(name: str, karpenter: bool, instance: str, gpus: int, **kw: Any) -> dict[str, Any]:
    """A node of pool `infer`, as Karpenter or an EKS node group labels it."""
    labels = {
        "node.kubernetes.io/instance-type": instance,
        "karpenter.sh/capacity-type": "spot" if gpus > 1 else "on-demand",
        "feature.node.kubernetes.io/cpu-model.family": "25" if gpus > 1 else "23",
    }
    if karpenter:
        labels["karpenter.sh/nodepool"] = "infer"
    node = pool_node(name, "infer", gpus=gpus, driver="550.54.15", labels=labels, **kw)
    if karpenter:
        del node["metadata"]["labels"]["eks.amazonaws.com/nodegroup"]
    cpu = str(8 * gpus)
    node["status"]["allocatable"]["cpu"] = node["status"]["capacity"]["cpu"] = cpu
    return node


def _mixed(karpenter: bool) -> list[dict[str, Any]]:
    return [
        _shaped("a", karpenter, "g5.2xlarge", 1),
        _shaped("b", karpenter, "g5.2xlarge", 1),
        _shaped("c", karpenter, "g5.2xlarge", 1),
        _shaped("d", karpenter, "g5.12xlarge", 4, kernel="6.1.0-25-cloud-amd64"),
    ]


def test_karpenter_pools_mix_instance_shapes_by_design() -> None:
    findings, section = _run(*_mixed(karpenter=True))
    # the shape differs by design; the kernel does not
    assert sorted((f.check, f.subject.name) for f in findings) == [("drift:kernel", "d")]
    cells = section["pools"][0]["cells"]
    assert cells["instance_type"]["distinct"] == 2  # still shown in the pool's table


def test_node_groups_of_one_instance_type_still_drift_in_shape() -> None:
    findings, _ = _run(*_mixed(karpenter=False))
    drifted = {f.check for f in findings if f.subject.name == "d"}
    assert {"drift:instance_type", "drift:gpu_count", "drift:allocatable_cpu"} <= drifted
    assert "drift:kernel" in drifted
    labels = {f.subject.path for f in findings if f.check == "drift:label"}
    assert any("capacity-type" in (p or "") for p in labels)
