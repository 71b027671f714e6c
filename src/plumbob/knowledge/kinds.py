"""Which API groups serve a kind: Kubernetes' built-in kinds and the custom resources plumbob knows
(knowledge/api_kinds.yaml, and the CRDs of knowledge/ai_components.yaml), so that a live capture
can list a kind that a check names only by its kind key.

    groups_of("PodGroup") -> {"scheduling.x-k8s.io", "scheduling.volcano.sh", "scheduling.run.ai"}
    groups_of("Job") -> {"batch"};  groups_of("Job.batch.volcano.sh") -> {"batch.volcano.sh"}
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from functools import cache
from types import MappingProxyType
from typing import Any

from plumbob.knowledge.loader import KnowledgeError, load_table
from plumbob.model.objects import as_list, kind_key

ANY_KIND = "*"
"""In a (group, kind) pair: every kind of the group (Gatekeeper constraint kinds are generated at
run time from ConstraintTemplates)."""


def _kinds_of(row: Mapping[str, Any]) -> list[str]:
    """A table row's kinds: `kind: X` or `kinds: [X, Y]`; a generated kind (`<Name>`) is '*'."""
    names = [row.get("kind"), *as_list(row.get("kinds"))]
    return [ANY_KIND if n.startswith("<") else n for n in names if isinstance(n, str) and n]


@cache
def builtin_kinds() -> frozenset[tuple[str, str]]:
    """(group, kind) of every built-in kind that can be listed."""
    groups = load_table("api_kinds").get("builtin", {}).get("groups")
    if not isinstance(groups, dict):
        raise KnowledgeError("api_kinds.yaml: builtin.groups is not a mapping")
    return frozenset((str(g), str(k)) for g, kinds in groups.items() for k in as_list(kinds))


def _component_crds(*, grouped: bool) -> frozenset[tuple[str, str]]:
    """(group, kind) of the CRDs knowledge/ai_components.yaml lists (shipped or used by a
    component): its `kind:` rows, and with `grouped` also its rows of several `kinds:`."""
    out: set[tuple[str, str]] = set()
    for comp in as_list(load_table("ai_components").get("components")):
        for key in ("crds", "crds_used"):
            for crd in as_list(comp.get(key)):
                if not isinstance(crd, dict) or not isinstance(crd.get("group"), str):
                    continue
                if grouped or "kinds" not in crd:
                    out.update((crd["group"], kind) for kind in _kinds_of(crd))
    return frozenset(out)


@cache
def component_kinds() -> frozenset[tuple[str, str]]:
    """(group, kind) of the CRDs of knowledge/ai_components.yaml that a capture lists whole;
    kind '*' for groups whose kinds are generated at run time. Rows naming several kinds at
    once (Gatekeeper's per-pod statuses, Kyverno's policy reports: objects by the thousand that
    no analysis reads) only say which group serves a kind, for `groups_of`."""
    return _component_crds(grouped=False)


@cache
def custom_kinds() -> frozenset[tuple[str, str]]:
    """(group, kind) of the custom resources of api_kinds.yaml `custom`."""
    out: set[tuple[str, str]] = set()
    for row in as_list(load_table("api_kinds").get("custom")):
        if isinstance(row, dict) and isinstance(row.get("group"), str):
            out.update((row["group"], kind) for kind in _kinds_of(row))
    return frozenset(out)


@cache
def _groups_by_key() -> Mapping[str, frozenset[str]]:
    """Kind key -> the groups serving it: a custom kind that shares a built-in kind's name is
    indexed as 'Kind.group' (model/objects.py `kind_key`), so it is no group of the plain name."""
    out: dict[str, set[str]] = defaultdict(set)
    for group, kind in builtin_kinds() | _component_crds(grouped=True) | custom_kinds():
        if kind != ANY_KIND:
            api_version = f"{group}/v1" if group else "v1"
            out[kind_key(api_version, kind)].add(group)
    return MappingProxyType({k: frozenset(v) for k, v in out.items()})


def groups_of(key: str) -> frozenset[str]:
    """The API groups that serve the kind a kind key names (`Node`, `PodGroup`,
    `Job.batch.volcano.sh`); empty when plumbob knows none."""
    return _groups_by_key().get(key, frozenset())


def api_kinds(keys: Iterable[str]) -> tuple[frozenset[tuple[str, str]], tuple[str, ...]]:
    """(group, kind) pairs for kind keys, and the keys no known group serves."""
    pairs: set[tuple[str, str]] = set()
    unknown: list[str] = []
    for key in keys:
        groups = groups_of(key)
        if not groups:
            unknown.append(key)
        kind = key.partition(".")[0]
        pairs.update((group, kind) for group in groups)
    return frozenset(pairs), tuple(sorted(set(unknown)))


__all__ = [
    "ANY_KIND",
    "api_kinds",
    "builtin_kinds",
    "component_kinds",
    "custom_kinds",
    "groups_of",
]
