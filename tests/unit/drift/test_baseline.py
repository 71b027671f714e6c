"""Baseline files: parsing (errors name key and line), deviations, and `init` round trips."""

from __future__ import annotations

from typing import Any

import pytest

from plumbob.drift import DriftAnalysis
from plumbob.drift.attributes import snapshot_attributes
from plumbob.drift.baseline import BaselineError, parse_baseline
from plumbob.drift.baseline_init import dump_baseline, initial_baseline
from plumbob.model.snapshot import ClusterInfo, Discovery, Snapshot
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


def _snap(
    *objects: dict[str, Any], server: str = "v1.31.4", name: str = "c1", live: bool = True
) -> Snapshot:
    """A snapshot; `live` gives it API discovery, as a capture of a running cluster has, so
    a component's absence is visible (a folder of manifests cannot show one)."""
    return Snapshot(
        cluster=ClusterInfo(name=name, server_version=server),
        objects=[decode(o) for o in objects],
        discovery=Discovery(group_versions=["v1", "apps/v1"]) if live else None,
        captured=None if live else (),  # files hold only the kinds they contain
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
    # Manifests alone cannot show that a component is absent: not reported missing.
    manifests = _deviations(GOOD, _snap(*nodes, web, kueue, live=False))
    assert sorted(f.message for f in manifests if f.check == "baseline:component") == [
        "component kueue v0.8.0 does not match baseline '>=0.9'"
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


def test_init_leaves_instance_shape_open_for_pools_whose_nodes_choose_it() -> None:
    def node(name: str, instance: str, gpus: int) -> dict[str, Any]:
        labels = {"karpenter.sh/nodepool": "infer", "node.kubernetes.io/instance-type": instance}
        out = pool_node(name, "infer", gpus=gpus, driver="550.90.07", labels=labels)
        del out["metadata"]["labels"]["eks.amazonaws.com/nodegroup"]
        return out

    snap = _snap(
        node("a", "g5.2xlarge", 1), node("b", "g5.2xlarge", 1), node("c", "g5.12xlarge", 4)
    )
    baseline = initial_baseline([snap], {"c1": snapshot_attributes(snap)})
    pool = baseline.pools["infer"]
    assert pool.nvidia_driver == "550.90.07" and pool.kernel is not None
    assert pool.instance_type is None and pool.gpu_count is None
    assert _deviations(dump_baseline(baseline), snap) == []


def test_values_keep_the_text_the_user_wrote() -> None:
    """Unquoted numbers and booleans are read as written: 12.10 stays 12.10, not 12.1."""
    loaded = parse_baseline(
        "cluster:\n  min-kubernetes-version: 1.30\npools:\n  gpu:\n    gpu-count: 8\n"
        "    cuda: 12.10\n    required-labels: {efa: true, spot: no}\n",
        "b.yaml",
    )
    assert loaded.baseline.cluster.min_kubernetes_version == "1.30"
    gpu = loaded.baseline.pools["gpu"]
    assert gpu.gpu_count == "8" and gpu.cuda == "12.10"
    assert gpu.required_labels == {"efa": "true", "spot": "no"}


def test_more_malformed_baselines_name_key_and_line() -> None:
    cases = {
        "apiVersion: plumbob.dev/v2\n": r"^b.yaml:1: apiVersion: expected plumbob.dev/v1",
        "kind: Policy\n": r"^b.yaml:1: kind: expected Baseline",
        "pools:\n  gpu:\n    kernel: '6.1.*'\n    kernel: '6.2.*'\n": (
            r"^b.yaml:4: pools.gpu.kernel: given twice \(first on line 3\)"
        ),
        "pools:\n  gpu:\n    nvidia-driver: '>=550, <56x0'\n": (
            r"^b.yaml:3: pools.gpu.nvidia-driver: '<56x0' is not a version clause"
        ),
        "cluster:\n  required-components:\n    veloro: '*'\n": (
            r"^b.yaml:3: cluster.required-components.veloro: unknown component 'veloro'.*velero"
        ),
        "cluster:\n  required-components:\n    kyverno|gatekeeper: '*'\n": (
            r"^b.yaml:3: cluster.required-components.kyverno\|gatekeeper: unknown component "
            r"'gatekeeper'.*opa-gatekeeper"
        ),
        "pools:\n  gpu:\n    required-taints: nvidia.com/gpu\n": (
            r"^b.yaml:3: pools.gpu.required-taints: Expected `array`"
        ),
        "pools:\n  - gpu\n": r"^b.yaml:2: pools: Expected `object`",
        "- just a list\n": r"^b.yaml:1: a baseline is a mapping",
    }
    for text, pattern in cases.items():
        with pytest.raises(BaselineError, match=pattern):
            parse_baseline(text, "b.yaml")


def test_required_component_alternatives() -> None:
    """`kyverno|opa-gatekeeper`: any one of them will do (an admission policy engine)."""
    text = "cluster:\n  required-components:\n    kyverno|opa-gatekeeper: '*'\n"
    gatekeeper = make_deployment(
        "gatekeeper-controller-manager",
        "gatekeeper-system",
        containers=[make_container(image="openpolicyagent/gatekeeper:v3.17.1")],
    )
    assert _deviations(text, _snap(pool_node("c0", "cpu"), gatekeeper)) == []
    (missing,) = _deviations(text, _snap(pool_node("c0", "cpu")))
    assert missing.message == "none of the required components kyverno, opa-gatekeeper was found"
