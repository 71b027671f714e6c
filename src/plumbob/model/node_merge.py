"""One node from several inputs: a `kubectl describe node` beside a `kubectl get nodes -o wide`
of the same cluster, or text beside JSON, describe one node; each shows some of its parts."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import msgspec

from plumbob.model.objects import Node, NodeSystemInfo

_NODE_INFO = ("kernel_version", "os_image", "container_runtime_version", "kubelet_version")
_SYSTEM_INFO = tuple(f for f in NodeSystemInfo.__struct_fields__ if f not in _NODE_INFO)


@dataclass(frozen=True, slots=True)
class _Part:
    read: Callable[[Node], Any]
    write: Callable[[Node, Any], Node]


def _meta(field: str) -> _Part:
    return _Part(
        read=lambda n: getattr(n.metadata, field),
        write=lambda n, v: msgspec.structs.replace(
            n, metadata=msgspec.structs.replace(n.metadata, **{field: v})
        ),
    )


def _spec(field: str) -> _Part:
    return _Part(
        read=lambda n: getattr(n.spec, field),
        write=lambda n, v: msgspec.structs.replace(
            n, spec=msgspec.structs.replace(n.spec, **{field: v})
        ),
    )


def _status(field: str) -> _Part:
    return _Part(
        read=lambda n: getattr(n.status, field),
        write=lambda n, v: msgspec.structs.replace(
            n, status=msgspec.structs.replace(n.status, **{field: v})
        ),
    )


def _info(fields: tuple[str, ...]) -> _Part:
    def write(n: Node, v: tuple[Any, ...]) -> Node:
        info = msgspec.structs.replace(n.status.node_info, **dict(zip(fields, v, strict=True)))
        return msgspec.structs.replace(n, status=msgspec.structs.replace(n.status, node_info=info))

    return _Part(read=lambda n: tuple(getattr(n.status.node_info, f) for f in fields), write=write)


PARTS: dict[str, _Part] = {
    "labels": _meta("labels"),
    "annotations": _meta("annotations"),
    "taints": _spec("taints"),
    "unschedulable": _spec("unschedulable"),
    "providerID": _spec("provider_id"),
    "capacity": _status("capacity"),
    "allocatable": _status("allocatable"),
    "nodeInfo": _info(_NODE_INFO),
    "systemInfo": _info(_SYSTEM_INFO),
    "conditions": _status("conditions"),
    "images": _status("images"),
}
"""Each of NODE_PARTS: how to read it from a node and put it on another."""


def merge_nodes(first: Node, second: Node) -> tuple[Node, list[str]]:
    """One node from two descriptions of it, and the parts on which both showed different
    values. Each part comes from whichever input showed it; where both did and they differ, the
    fuller description wins (an object read whole over text; `describe` over `get -o wide`),
    and between equals the second, as a later file does for any object. The merged node is
    unknown only in what neither showed."""
    fuller_first = len(first.unknown) < len(second.unknown)
    base, other = (first, second) if fuller_first else (second, first)
    merged = base
    conflicts: list[str] = []
    for name, part in PARTS.items():
        if base.knows(name):
            if other.knows(name) and _differs(name, part.read(base), part.read(other)):
                conflicts.append(name)
            continue
        if other.knows(name):
            merged = part.write(merged, part.read(other))
    unknown = tuple(p for p in base.unknown if p in other.unknown)
    if base.metadata.creation_timestamp is None and other.metadata.creation_timestamp:
        merged = msgspec.structs.replace(
            merged,
            metadata=msgspec.structs.replace(
                merged.metadata, creation_timestamp=other.metadata.creation_timestamp
            ),
        )
    return msgspec.structs.replace(merged, unknown=unknown), conflicts


def _differs(name: str, a: Any, b: Any) -> bool:
    if name == "conditions":  # `-o wide` shows Ready only: compare the types both show
        mine = {c.type: c.status for c in a}
        theirs = {c.type: c.status for c in b}
        return any(mine[t] != theirs[t] for t in mine.keys() & theirs.keys())
    if name == "annotations":  # kubectl describe shortens long values
        return any(
            k in b and b[k] != v and not (v.endswith("...") or b[k].endswith("..."))
            for k, v in a.items()
        )
    return bool(a != b)
