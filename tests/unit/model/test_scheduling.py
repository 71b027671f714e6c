"""Which nodes a pod spec can land on."""

from __future__ import annotations

import random
from typing import Any

import pytest

from plumbob.model.objects import Node, Pod
from plumbob.model.scheduling import NodeClasses, eligible_nodes, placement
from tests.conftest import decode, make_container, make_node, make_pod


def node(
    name: str = "n",
    *,
    labels: dict[str, str] | None = None,
    gpus: int = 0,
    taints: list[dict[str, str]] | None = None,
    **extra: Any,
) -> Node:
    data = make_node(name, labels=labels, gpus=gpus, taints=taints)
    data["spec"].update(extra)
    obj = decode(data)
    assert isinstance(obj, Node)
    return obj


def pod(gpus: int = 0, **spec: Any) -> Pod:
    data = make_pod(containers=[make_container(gpus=gpus)])
    data["spec"].update(spec)
    obj = decode(data)
    assert isinstance(obj, Pod)
    return obj


def affinity(*terms: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "nodeAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [{"matchExpressions": t} for t in terms]
            }
        }
    }


def test_node_selector() -> None:
    p = pod(nodeSelector={"pool": "gpu"})
    assert placement(p.spec, node(labels={"pool": "gpu"})).fits
    miss = placement(p.spec, node(labels={"pool": "cpu"}))
    assert not miss.fits and "nodeSelector" in miss.reason


@pytest.mark.parametrize(
    ("expr", "labels", "fits"),
    [
        ({"key": "gpu", "operator": "In", "values": ["a100", "h100"]}, {"gpu": "h100"}, True),
        ({"key": "gpu", "operator": "In", "values": ["a100"]}, {"gpu": "h100"}, False),
        ({"key": "gpu", "operator": "In", "values": ["a100"]}, {}, False),
        ({"key": "gpu", "operator": "NotIn", "values": ["t4"]}, {"gpu": "h100"}, True),
        ({"key": "gpu", "operator": "NotIn", "values": ["t4"]}, {}, True),
        ({"key": "gpu", "operator": "NotIn", "values": ["t4"]}, {"gpu": "t4"}, False),
        ({"key": "gpu", "operator": "Exists"}, {"gpu": ""}, True),
        ({"key": "gpu", "operator": "Exists"}, {}, False),
        ({"key": "spot", "operator": "DoesNotExist"}, {}, True),
        ({"key": "spot", "operator": "DoesNotExist"}, {"spot": "true"}, False),
        ({"key": "count", "operator": "Gt", "values": ["4"]}, {"count": "8"}, True),
        ({"key": "count", "operator": "Gt", "values": ["8"]}, {"count": "8"}, False),
        ({"key": "count", "operator": "Lt", "values": ["8"]}, {"count": "4"}, True),
        ({"key": "count", "operator": "Lt", "values": ["8"]}, {"count": "x"}, False),
        ({"key": "count", "operator": "Bogus"}, {"count": "1"}, False),
    ],
)
def test_affinity_operators(expr: dict[str, Any], labels: dict[str, str], fits: bool) -> None:
    assert placement(pod(affinity=affinity([expr])).spec, node(labels=labels)).fits is fits


def test_terms_are_ored_and_expressions_anded() -> None:
    p = pod(
        affinity=affinity(
            [{"key": "a", "operator": "Exists"}, {"key": "b", "operator": "Exists"}],
            [{"key": "c", "operator": "Exists"}],
        )
    )
    assert placement(p.spec, node(labels={"a": "1", "b": "1"})).fits
    assert placement(p.spec, node(labels={"c": "1"})).fits
    assert not placement(p.spec, node(labels={"a": "1"})).fits


def test_match_fields_on_name() -> None:
    p = pod(
        affinity={
            "nodeAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": {
                    "nodeSelectorTerms": [
                        {
                            "matchFields": [
                                {"key": "metadata.name", "operator": "In", "values": ["gpu-7"]}
                            ]
                        }
                    ]
                }
            }
        }
    )
    assert placement(p.spec, node("gpu-7")).fits
    assert not placement(p.spec, node("gpu-8")).fits


def test_taints_and_tolerations() -> None:
    tainted = node(taints=[{"key": "nvidia.com/gpu", "value": "present", "effect": "NoSchedule"}])
    assert not placement(pod().spec, tainted).fits
    assert placement(
        pod(tolerations=[{"key": "nvidia.com/gpu", "operator": "Exists"}]).spec, tainted
    ).fits
    assert not placement(
        pod(tolerations=[{"key": "nvidia.com/gpu", "value": "other", "operator": "Equal"}]).spec,
        tainted,
    ).fits
    soft = node(taints=[{"key": "x", "effect": "PreferNoSchedule"}])
    assert placement(pod().spec, soft).fits
    evict = node(taints=[{"key": "x", "effect": "NoExecute"}])
    assert not placement(pod().spec, evict).fits
    assert placement(pod(tolerations=[{"operator": "Exists"}]).spec, evict).fits


def test_gpu_resource_offered() -> None:
    assert placement(pod(gpus=2).spec, node(gpus=8)).fits
    assert not placement(pod(gpus=8).spec, node(gpus=4)).fits
    assert not placement(pod(gpus=1).spec, node(gpus=0)).fits
    assert placement(pod(gpus=0).spec, node(gpus=0)).fits


def test_cordoned_and_node_name() -> None:
    cordoned = node(unschedulable=True)
    assert not placement(pod().spec, cordoned).fits
    assert placement(pod().spec, cordoned, include_cordoned=True).fits
    bound = pod(nodeName="n2")
    assert [n.name for n in eligible_nodes(bound.spec, [node("n1"), node("n2")])] == ["n2"]


def test_malformed_affinity_matches_nothing() -> None:
    p = pod(
        affinity={
            "nodeAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [{}]}
            }
        }
    )
    assert not placement(p.spec, node()).fits
    q = pod(affinity={"nodeAffinity": "nonsense"})
    assert placement(q.spec, node()).fits


@pytest.mark.parametrize(
    "term",
    [
        {"matchExpressions": 5},
        {"matchFields": True},
        {"matchExpressions": [{"key": "zone", "operator": "In", "values": 5}]},
        {"matchExpressions": "zone In a"},
    ],
)
def test_affinity_parts_of_the_wrong_type_match_nothing_and_raise_nothing(
    term: dict[str, Any],
) -> None:
    p = pod(
        affinity={
            "nodeAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [term]}
            }
        }
    )
    assert not placement(p.spec, node(labels={"zone": "a"})).fits


def _random_node(rng: random.Random, i: int) -> Node:
    labels = {
        k: rng.choice(["a", "b", "8", "16"]) for k in ("zone", "gpu", "count") if rng.random() < 0.7
    }
    taints = [
        {
            "key": rng.choice(["nvidia.com/gpu", "spot"]),
            "value": rng.choice(["", "true"]),
            "effect": rng.choice(["NoSchedule", "NoExecute", "PreferNoSchedule"]),
        }
        for _ in range(rng.randrange(3))
    ]
    extra = {"unschedulable": True} if rng.random() < 0.1 else {}
    data = make_node(f"n{i}", labels=labels, gpus=rng.choice([0, 1, 4, 8]), taints=taints)
    data["spec"].update(extra)
    if rng.random() < 0.1:
        data["status"]["allocatable"] = {}
        data["status"]["capacity"] = {}
    obj = decode(data)
    assert isinstance(obj, Node)
    return obj


def _random_spec(rng: random.Random, names: list[str]) -> dict[str, Any]:
    spec: dict[str, Any] = {}
    if rng.random() < 0.4:
        spec["nodeSelector"] = {rng.choice(["zone", "gpu"]): rng.choice(["a", "b"])}
    if rng.random() < 0.5:
        exprs = [
            {
                "key": rng.choice(["zone", "gpu", "count"]),
                "operator": rng.choice(["In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt"]),
                "values": rng.sample(["a", "b", "4", "10"], rng.randrange(1, 3)),
            }
            for _ in range(rng.randrange(1, 3))
        ]
        terms: list[dict[str, Any]] = [{"matchExpressions": exprs}]
        if rng.random() < 0.2:
            terms.append(
                {
                    "matchFields": [
                        {"key": "metadata.name", "operator": "In", "values": [rng.choice(names)]}
                    ]
                }
            )
        spec["affinity"] = {
            "nodeAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": terms}
            }
        }
    if rng.random() < 0.5:
        spec["tolerations"] = [
            {"key": rng.choice(["nvidia.com/gpu", "spot"]), "operator": "Exists"}
            for _ in range(rng.randrange(1, 3))
        ]
    if rng.random() < 0.1:
        spec["nodeName"] = rng.choice([*names, "elsewhere"])
    return spec


def test_node_classes_answer_as_placement_node_by_node() -> None:
    """NodeClasses places a spec once per class of alike nodes; the answer is placement's."""
    rng = random.Random(20261207)
    nodes = [_random_node(rng, i) for i in range(60)]
    classes = NodeClasses(nodes)
    names = [n.name for n in nodes]
    for _ in range(400):
        spec = pod(gpus=rng.choice([0, 1, 2, 8]), **_random_spec(rng, names)).spec
        cordoned = rng.random() < 0.2
        want = [n.name for n in eligible_nodes(spec, nodes, include_cordoned=cordoned)]
        got = classes.eligible(spec, include_cordoned=cordoned)
        assert len(got) == len(want)
        assert [n.name for n in got.first(len(nodes))] == want
        assert [n.name for n in got.first(3)] == want[:3]
    assert len(classes._partitions) < 40  # few distinct sets of tested labels and resources
