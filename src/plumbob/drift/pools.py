"""Pools: nodes a cloud or provisioner meant to be identical, with their attributes.

Membership comes from `plumbob.model.nodes.pool_of` (pool labels, OpenShift and Cluster API
MachineSets, `--pool-label`, fallback role + instance type + GPU product).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from plumbob.drift.attributes import NodeAttributes, known, values_of


@dataclass(frozen=True, slots=True)
class Pool:
    cluster: str
    name: str
    nodes: tuple[NodeAttributes, ...]

    @property
    def gpu(self) -> bool:
        """A GPU pool: most of its nodes have GPUs."""
        return sum(1 for n in self.nodes if n.gpu) * 2 > len(self.nodes)

    @property
    def shapes_chosen(self) -> bool:
        """Most of its nodes had their instance type chosen by a provisioner (Karpenter): their
        shapes differ by design."""
        return sum(1 for n in self.nodes if n.shape_chosen) * 2 > len(self.nodes)


def pools_of(cluster: str, attrs: Iterable[NodeAttributes]) -> list[Pool]:
    grouped: dict[str, list[NodeAttributes]] = defaultdict(list)
    for a in attrs:
        grouped[a.pool].append(a)
    return [
        Pool(cluster, name, tuple(sorted(nodes, key=lambda n: n.node)))
        for name, nodes in sorted(grouped.items())
    ]


@dataclass(frozen=True, slots=True)
class Spread:
    """How one attribute is spread over a pool's nodes."""

    attribute: str
    by_value: Mapping[str | None, tuple[str, ...]]
    """Value (None: absent) -> node names, most common first."""

    @property
    def distinct(self) -> int:
        return len(self.by_value)

    @property
    def majority(self) -> str | None:
        """The value more than half of the nodes hold; None when there is none (see `split`)."""
        total = sum(len(v) for v in self.by_value.values())
        for value, nodes in self.by_value.items():
            if len(nodes) * 2 > total:
                return value
        return None

    @property
    def split(self) -> bool:
        """Nodes differ and no value is held by more than half of them (e.g. 50/50)."""
        if self.distinct < 2:
            return False
        total = sum(len(v) for v in self.by_value.values())
        return not any(len(nodes) * 2 > total for nodes in self.by_value.values())


def spreads(pool: Pool) -> dict[str, Spread]:
    """Attribute id -> spread, for every attribute any node of the pool has."""
    per_node = [(n.node, values_of(n)) for n in pool.nodes]
    keys: dict[str, None] = {}
    for _, values in per_node:
        for key, value in values.items():
            if value is not None:
                keys.setdefault(key, None)
    out: dict[str, Spread] = {}
    for key in keys:
        groups: dict[str | None, list[str]] = defaultdict(list)
        for (name, values), node in zip(per_node, pool.nodes, strict=True):
            if known(node, key):
                groups[values.get(key)].append(name)
        counts = Counter({v: len(ns) for v, ns in groups.items()})
        ordered = sorted(groups, key=lambda v: (-counts[v], v is None, v or ""))
        out[key] = Spread(key, {v: tuple(groups[v]) for v in ordered})
    return out
