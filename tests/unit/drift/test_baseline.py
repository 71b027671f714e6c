"""Baseline files: parsing (errors name key and line), deviations, and `init` round trips."""

from __future__ import annotations

from typing import Any

import pytest

from plumbob.drift import DriftAnalysis
from plumbob.drift.attributes import snapshot_attributes
from plumbob.drift.baseline import (
    BaselineError,
    dump_baseline,
    initial_baseline,
    parse_baseline,
)
from plumbob.model.snapshot import ClusterInfo, Snapshot
from plumbob.report.model import Finding
from tests.conftest import decode, make_container, make_deployment
from tests.unit.drift.helpers import pool_node

GOOD = """\
apiVersion: plumbob.dev/v1
kind: Baseline
cluster:
  min-kubernetes-version: "1.31"
  required-components:
    nvidia-dcgm-exporter: "*"
    kueue: ">=0.9"
  approved-registries: [nvcr.io, registry.k8s.io]
pools:
  gpu:
    nvidia-driver: ">=550.54, <560"
    kernel: "6.1.*"
    required-taints: ["nvidia.com/gpu:NoSchedule"]
    required-labels: {team: ml}
"""


def _snap(*objects: dict[str, Any], server: str = "v1.31.4", name: str = "c1") -> Snapshot:
    return Snapshot(
        cluster=ClusterInfo(name=name, server_version=server), objects=[decode(o) for o in objects]
    )


def _deviations(text: str, snap: Snapshot) -> list[Finding]:
    loaded = parse_baseline(text, "b.yaml")
    findings, section = DriftAnalysis(baseline=loaded)([snap])
    out = [f for f in findings if f.check.startswith("baseline:")]
    assert section.get("baselineDeviations", 0) == len(out)
    return out


def test_parse_error_names_key_and_line() -> None:
    bad = GOOD.replace('    kernel: "6.1.*"', '    kernal: "6.1.*"')
    with pytest.raises(BaselineError) as err:
        parse_baseline(bad, "b.yaml")
    assert str(err.value).startswith("b.yaml:12: pools.gpu.kernal:")
    assert "unknown field" in str(err.value)


def test_bad_range_and_bad_type_name_their_line() -> None:
    with pytest.raises(BaselineError, match=r"^b.yaml:11: pools.gpu.nvidia-driver: "):
        parse_baseline(GOOD.replace(">=550.54, <560", ">=550.54, <<560"), "b.yaml")
    with pytest.raises(BaselineError, match=r"^b.yaml:8: cluster.approved-registries: "):
        parse_baseline(GOOD.replace("[nvcr.io, registry.k8s.io]", "nvcr.io"), "b.yaml")
    with pytest.raises(BaselineError, match=r"^b.yaml:\d+: not valid YAML"):
        parse_baseline("pools: [\n", "b.yaml")
    with pytest.raises(BaselineError, match="min-kubernetes-version"):
        parse_baseline("cluster: {min-kubernetes-version: latest}\n", "b.yaml")


def test_conforming_cluster_has_no_deviations() -> None:
    taint = [{"key": "nvidia.com/gpu", "value": "present", "effect": "NoSchedule"}]
    nodes = [
        pool_node(f"g{i}", "gpu", gpus=8, driver="550.90.07", taints=taint, labels={"team": "ml"})
        for i in range(2)
    ]
    dcgm = make_deployment(
        "dcgm-exporter",
        "gpu-operator",
        containers=[
            make_container(image="nvcr.io/nvidia/k8s/dcgm-exporter:3.3.5-3.4.1-ubuntu22.04")
        ],
    )
    kueue = make_deployment(
        "kueue-controller-manager",
        "kueue-system",
        containers=[make_container(image="registry.k8s.io/kueue/kueue:v0.10.1")],
    )
    assert _deviations(GOOD, _snap(*nodes, dcgm, kueue)) == []


def test_every_kind_of_deviation() -> None:
    nodes = [
        pool_node(
            "g0", "gpu", gpus=8, driver="535.104.05", kernel="5.15.0-1", labels={"team": "web"}
        ),
        pool_node(
            "g1",
            "gpu",
            gpus=8,
            driver="550.90.07",
            kernel="6.1.0-28",
            labels={"team": "ml"},
            taints=[{"key": "nvidia.com/gpu", "effect": "NoSchedule"}],
        ),
    ]
    web = make_deployment("web", containers=[make_container(image="docker.io/nginx:1.27")])
    kueue = make_deployment(
        "kueue-controller-manager",
        "kueue-system",
        containers=[make_container(image="registry.k8s.io/kueue/kueue:v0.8.0")],
    )
    found = {
        (f.check, f.subject.name): f
        for f in _deviations(GOOD, _snap(*nodes, web, kueue, server="v1.30.2"))
    }
    assert set(found) == {
        ("baseline:nvidia_driver", "g0"),
        ("baseline:kernel", "g0"),
        ("baseline:taints", "g0"),
        ("baseline:labels", "g0"),
        ("baseline:kubernetes_version", "c1"),
        ("baseline:component", "c1"),
        ("baseline:registry", "web"),
    }
    assert found[("baseline:nvidia_driver", "g0")].severity == "high"
    assert found[("baseline:kernel", "g0")].severity == "medium"
    assert found[("baseline:labels", "g0")].severity == "low"
    assert found[("baseline:kubernetes_version", "c1")].severity == "high"
    components = [
        f for f in _deviations(GOOD, _snap(*nodes, web, kueue)) if f.check == "baseline:component"
    ]
    messages = sorted(f.message for f in components)
    assert messages == [
        "component kueue v0.8.0 does not match baseline '>=0.9'",
        "required component nvidia-dcgm-exporter was not found",
    ]


def test_missing_pool_is_reported() -> None:
    found = _deviations(GOOD, _snap(pool_node("c0", "cpu")))
    assert ("baseline:pool-missing", "gpu") in {(f.check, f.subject.name) for f in found}


def test_init_writes_majority_values_that_parse_and_hold() -> None:
    taint = [{"key": "nvidia.com/gpu", "value": "present", "effect": "NoSchedule"}]
    nodes = [
        pool_node(f"g{i}", "gpu", gpus=8, driver="550.90.07", taints=taint, labels={"team": "ml"})
        for i in range(3)
    ]
    nodes.append(
        pool_node("g3", "gpu", gpus=8, driver="535.104.05", taints=taint, labels={"team": "ml"})
    )
    nodes += [pool_node(f"c{i}", "cpu") for i in range(2)]
    app = make_deployment("app", containers=[make_container(image="nvcr.io/nvidia/pytorch:24.05")])
    snap = _snap(*nodes, app)
    baseline = initial_baseline([snap], {"c1": snapshot_attributes(snap)})
    assert baseline.pools["gpu"].nvidia_driver == "550.90.07"
    assert baseline.pools["gpu"].required_taints == ["nvidia.com/gpu=present:NoSchedule"]
    assert baseline.pools["gpu"].required_labels == {"team": "ml"}
    assert baseline.cluster.min_kubernetes_version == "1.31"
    assert baseline.cluster.approved_registries == ["nvcr.io"]
    text = dump_baseline(baseline)
    assert text.startswith("# plumbob baseline")
    found = _deviations(text, snap)
    assert [(f.check, f.subject.name) for f in found] == [("baseline:nvidia_driver", "g3")]
