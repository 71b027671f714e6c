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


__all__ = ["Placement", "eligible_nodes", "placement", "requested_gpu_resources", "required_terms"]
