"""Which nodes a pod template can land on, as the scheduler's filters decide it.

Covered: `nodeName`, `nodeSelector`, required node affinity (`nodeSelectorTerms` are ORed, the
`matchExpressions`/`matchFields` inside a term ANDed; operators In, NotIn, Exists, DoesNotExist,
Gt, Lt), taints with effect NoSchedule/NoExecute against tolerations, cordoned nodes, and the
extended GPU resources a template requests against what the node offers. Preferred affinity,
pod (anti-)affinity, topology spread and free capacity are not filters on *which* nodes can ever
run the pod, so they are left out.
https://kubernetes.io/docs/concepts/scheduling-eviction/assign-pod-node/
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from plumbob.model.gpu import container_gpu_resources, is_gpu_resource
from plumbob.model.objects import Node, PodSpec, as_list
from plumbob.model.quantity import quantity_or_zero


@dataclass(frozen=True, slots=True)
class Placement:
    """Whether a pod spec fits a node, and the first filter that rejected it."""

    fits: bool
    reason: str = ""


def _as_int(value: str) -> int | None:
    try:
        return int(value)
    except ValueError:
        return None


def _expression_matches(expr: Mapping[str, Any], labels: Mapping[str, str]) -> bool:
    key = expr.get("key")
    op = expr.get("operator")
    values = [str(v) for v in as_list(expr.get("values"))]
    if not isinstance(key, str):
        return False
    present = key in labels
    value = labels.get(key)
    match op:
        case "In":
            return present and value in values
        case "NotIn":
            return not present or value not in values
        case "Exists":
            return present
        case "DoesNotExist":
            return not present
        case "Gt" | "Lt":
            if not present or len(values) != 1 or value is None:
                return False
            have, bound = _as_int(value), _as_int(values[0])
            if have is None or bound is None:
                return False
            return have > bound if op == "Gt" else have < bound
        case _:
            return False


def _term_matches(term: Mapping[str, Any], node: Node) -> bool:
    exprs = as_list(term.get("matchExpressions"))
    fields = as_list(term.get("matchFields"))
    if not exprs and not fields:
        return False  # an empty term matches no objects (core/v1 NodeSelectorTerm)
    labels = node.labels
    if not all(isinstance(e, dict) and _expression_matches(e, labels) for e in exprs):
        return False
    field_values = {"metadata.name": node.name}
    return all(isinstance(f, dict) and _expression_matches(f, field_values) for f in fields)


def required_terms(spec: PodSpec) -> list[dict[str, Any]] | None:
    """The required node-affinity terms, or None when the pod has none."""
    affinity = spec.affinity or {}
    node_affinity = affinity.get("nodeAffinity") if isinstance(affinity, dict) else None
    if not isinstance(node_affinity, dict):
        return None
    required = node_affinity.get("requiredDuringSchedulingIgnoredDuringExecution")
    if not isinstance(required, dict):
        return None
    terms = required.get("nodeSelectorTerms")
    if not isinstance(terms, list):
        return None
    return [t for t in terms if isinstance(t, dict)]


def requested_gpu_resources(spec: PodSpec) -> dict[str, float]:
    """GPU resource name -> largest amount one container asks for."""
    out: dict[str, float] = {}
    for container in spec.all_containers:
        for name, amount in container_gpu_resources(container).items():
            if amount > 0:
                out[name] = max(out.get(name, 0.0), amount)
    return out


def _offers(node: Node, resource: str, amount: float) -> bool:
    alloc = node.status.allocatable or node.status.capacity
    if not alloc:
        return True  # a trimmed export without resources: nothing to refute
    return quantity_or_zero(alloc.get(resource)) >= amount


def placement(
    spec: PodSpec,
    node: Node,
    *,
    gpu_resources: Mapping[str, float] | None = None,
    include_cordoned: bool = False,
) -> Placement:
    """Whether the scheduler could ever bind a pod with this spec to `node`."""
    if spec.node_name:
        return Placement(spec.node_name == node.name, f"nodeName is {spec.node_name}")
    if node.spec.unschedulable and not include_cordoned:
        return Placement(False, "node is cordoned")
    labels = node.labels
    for key, value in spec.node_selector.items():
        if labels.get(key) != value:
            return Placement(False, f"nodeSelector {key}={value}")
    terms = required_terms(spec)
    if terms is not None and not any(_term_matches(t, node) for t in terms):
        return Placement(False, "required node affinity")
    for taint in node.spec.taints:
        if taint.effect not in ("NoSchedule", "NoExecute"):
            continue
        if not any(t.tolerates(taint) for t in spec.tolerations):
            return Placement(False, f"untolerated taint {taint.key}:{taint.effect}")
    wanted = requested_gpu_resources(spec) if gpu_resources is None else gpu_resources
    for resource, amount in wanted.items():
        if is_gpu_resource(resource) and not _offers(node, resource, amount):
            return Placement(False, f"node offers no {resource}")
    return Placement(True)


def eligible_nodes(
    spec: PodSpec, nodes: Iterable[Node], *, include_cordoned: bool = False
) -> list[Node]:
    """The nodes a pod with this spec can be scheduled on (or, with nodeName, is bound to)."""
    wanted = requested_gpu_resources(spec)
    return [
        n
        for n in nodes
        if placement(spec, n, gpu_resources=wanted, include_cordoned=include_cordoned).fits
    ]


def _tested_labels(spec: PodSpec) -> tuple[frozenset[str], bool]:
    """(label keys the spec's nodeSelector and required node affinity test, whether the
    affinity tests node fields, i.e. names)."""
    keys = set(spec.node_selector)
    by_field = False
    for term in required_terms(spec) or ():
        for expr in as_list(term.get("matchExpressions")):
            if isinstance(expr, dict) and isinstance(expr.get("key"), str):
                keys.add(expr["key"])
        by_field = by_field or bool(as_list(term.get("matchFields")))
    return frozenset(keys), by_field


def _blocking_taints(node: Node) -> tuple[tuple[str, str | None, str], ...]:
    return tuple(
        (t.key, t.value, t.effect)
        for t in node.spec.taints
        if t.effect in ("NoSchedule", "NoExecute")
    )


class NodeClasses:
    """Which of a fixed list of nodes a pod spec can land on, answered once per class of nodes
    alike in everything `placement` reads for that spec: the values of the labels the spec
    tests, the NoSchedule/NoExecute taints, whether the node is cordoned, and what it offers of
    the GPU resources the spec requests. Nodes differ in their hostname label and little else,
    so a fleet of thousands falls into a few classes, and asking for many pod specs costs the
    specs times the classes, not the specs times the nodes. Partitions are kept per set of
    tested labels and requested resources (templates test few distinct sets). A spec bound by
    `nodeName` is answered by a lookup, one whose affinity tests node names node by node."""

    def __init__(self, nodes: Iterable[Node]) -> None:
        self.nodes = tuple(nodes)
        self._index = {id(n): i for i, n in enumerate(self.nodes)}
        self._by_name = {n.name: n for n in self.nodes}
        self._partitions: dict[tuple[frozenset[str], tuple[str, ...]], list[tuple[Node, ...]]] = {}

    def _partition(
        self, keys: frozenset[str], resources: tuple[str, ...]
    ) -> list[tuple[Node, ...]]:
        found = self._partitions.get((keys, resources))
        if found is not None:
            return found
        ordered = sorted(keys)
        classes: dict[tuple[Any, ...], list[Node]] = {}
        for node in self.nodes:
            labels = node.labels
            alloc = node.status.allocatable or node.status.capacity
            key = (
                tuple(labels.get(k) for k in ordered),
                _blocking_taints(node),
                bool(node.spec.unschedulable),
                bool(alloc),
                tuple(alloc.get(r) for r in resources) if alloc else (),
            )
            classes.setdefault(key, []).append(node)
        found = self._partitions[(keys, resources)] = [tuple(c) for c in classes.values()]
        return found

    def eligible(
        self,
        spec: PodSpec,
        *,
        gpu_resources: Mapping[str, float] | None = None,
        include_cordoned: bool = False,
    ) -> Eligible:
        """The nodes a pod with this spec can be scheduled on (or, with nodeName, is bound to),
        as `placement` decides for each."""
        wanted = requested_gpu_resources(spec) if gpu_resources is None else gpu_resources
        if spec.node_name:
            node = self._by_name.get(spec.node_name)
            return Eligible(((node,),) if node is not None else (), self._index)
        keys, by_field = _tested_labels(spec)
        if by_field:
            fits = tuple(
                n
                for n in self.nodes
                if placement(spec, n, gpu_resources=wanted, include_cordoned=include_cordoned).fits
            )
            return Eligible((fits,) if fits else (), self._index)
        resources = tuple(sorted(r for r in wanted if is_gpu_resource(r)))
        return Eligible(
            tuple(
                c
                for c in self._partition(keys, resources)
                if placement(
                    spec, c[0], gpu_resources=wanted, include_cordoned=include_cordoned
                ).fits
            ),
            self._index,
        )


@dataclass(frozen=True, slots=True)
class Eligible:
    """The nodes a spec fits, as classes of alike nodes (each in input order)."""

    classes: tuple[tuple[Node, ...], ...]
    _index: Mapping[int, int]

    def __len__(self) -> int:
        return sum(len(c) for c in self.classes)

    def first(self, count: int) -> list[Node]:
        """The first `count` of them, in the order the nodes were given."""
        merged = heapq.merge(*self.classes, key=lambda n: self._index[id(n)])
        return list(itertools.islice(merged, count))


__all__ = [
    "Eligible",
    "NodeClasses",
    "Placement",
    "eligible_nodes",
    "placement",
    "requested_gpu_resources",
    "required_terms",
]
