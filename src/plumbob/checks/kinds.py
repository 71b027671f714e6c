"""The kinds a scan reads, for a live capture to list: what the checks declare (`reads=`,
`consults=`), what the analyses besides the checks read, and the components table, each with the
API groups that serve it (knowledge/kinds.py).

    capture_kinds(Registry.discover()) -> {("", "Node"), ("apps", "Deployment"), ...}

A check that reads a new kind declares it in its `reads=` or `consults=` and nothing else
changes: the capture lists it, and deploy/rbac.yaml grants it (a test keeps the two equal).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import cache
from types import MappingProxyType

from plumbob.checks.registry import COMPONENTS, EVERY_KIND, WORKLOADS, Check
from plumbob.knowledge.kinds import ANY_KIND, api_kinds, component_kinds
from plumbob.model.metrics import GPU_METRICS
from plumbob.model.workloads import WORKLOAD_KINDS

ANALYSES_READ: tuple[str, ...] = (
    "Namespace",
    "Node",
    "Pod",
    "Service",
    WORKLOADS,
    COMPONENTS,
    "ResourceSlice",
    "DeviceClass",
    "RuntimeClass",
    "GatewayClass",
    "Gateway",
    "HTTPRoute",
    "InferencePool",
    "InferenceObjective",
    "InferenceModel",
    "NetworkAttachmentDefinition",
    "ServiceMonitor",
    "PodMonitor",
)
"""Kinds read outside the checks: exemptions by Namespace annotation (engine), the inventory,
drift and GPU cost (Node, Pod, workloads), workload roles (Service), and the AI-conformance
pre-check (components, DRA, RuntimeClass, Gateway API and inference-gateway objects, secondary
networks, Prometheus Operator monitors)."""

IMPLIED: Mapping[str, frozenset[str]] = MappingProxyType(
    {
        WORKLOADS: WORKLOAD_KINDS,
        COMPONENTS: WORKLOAD_KINDS | {"APIService"},
        "Node": frozenset({"ResourceSlice"}),
    }
)
"""What a name in `reads=`/`consults=` stands for besides itself: WORKLOADS is the workload
kinds; COMPONENTS their workloads and APIServices (knowledge/components.py; the components' own
CRDs are listed whole, by `capture_kinds`); a Node's GPUs include the DRA devices ResourceSlices
publish for it (`Snapshot.node_gpus`)."""

_NO_KIND = frozenset({WORKLOADS, COMPONENTS, GPU_METRICS, EVERY_KIND})


def expand(names: Iterable[str]) -> frozenset[str]:
    """The kind keys a check's `reads=` and `consults=` stand for (`IMPLIED`); GPU metrics
    and EVERY_KIND are no kind a capture lists."""
    out: set[str] = set()
    for name in names:
        out |= IMPLIED.get(name, frozenset())
        if name not in _NO_KIND:
            out.add(name)
    return frozenset(out)


def kind_keys(checks: Iterable[Check]) -> frozenset[str]:
    """The kind keys the checks read or consult, and those of ANALYSES_READ, expanded."""
    return expand((*ANALYSES_READ, *(k for c in checks for k in (*c.reads, *c.consults))))


class UnknownKindError(ValueError):
    """A check declares a kind no API group plumbob knows serves: add its group to
    knowledge/api_kinds.yaml (or its component to ai_components.yaml)."""


def capture_kinds(checks: Iterable[Check]) -> frozenset[tuple[str, str]]:
    """(group, kind) of everything a live capture lists when the server serves it: every kind
    the checks and analyses read, in each group that serves it, and every CRD of the components
    table (kind '*': every kind of that group). Raises UnknownKindError naming a kind whose
    group is unknown."""
    pairs, unknown = api_kinds(kind_keys(checks))
    if unknown:
        raise UnknownKindError(
            f"no known API group serves {', '.join(unknown)}: add it to "
            "knowledge/api_kinds.yaml or to its component in knowledge/ai_components.yaml"
        )
    every = pairs | component_kinds()
    whole = {group for group, kind in every if kind == ANY_KIND}
    return frozenset((g, k) for g, k in every if k == ANY_KIND or g not in whole)


@cache
def component_groups() -> frozenset[str]:
    """API groups of the components table's CRDs: any kind of them can show a component."""
    return frozenset(group for group, _ in component_kinds())


__all__ = [
    "ANALYSES_READ",
    "IMPLIED",
    "UnknownKindError",
    "capture_kinds",
    "component_groups",
    "expand",
    "kind_keys",
]
