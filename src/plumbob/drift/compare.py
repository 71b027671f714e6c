"""Drift in time: compare two states of a cluster (snapshots or stored scans): nodes added and
removed, attribute changes per node (old -> new), findings that appeared and were resolved."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import msgspec

from plumbob.drift.attributes import NodeAttributes, values_of
from plumbob.report.model import Finding

_STRUCT = {"frozen": True, "kw_only": True, "rename": "camel", "omit_defaults": True}

DIFF_API_VERSION = "plumbob.dev/v1"


class Change(msgspec.Struct, **_STRUCT):
    """One attribute of one node that changed."""

    subject: str
    """Node name."""
    attribute: str
    """Attribute id (docs/drift.md), `label:<key>` or `pool`."""
    before: str | None = None
    after: str | None = None


class Side(msgspec.Struct, **_STRUCT):
    """What one side of a diff was: a file or a stored scan."""

    label: str
    cluster: str
    time: str | None = None
    scan_id: int | None = None
    digest: str | None = None


class Diff(msgspec.Struct, **_STRUCT):
    """`plumbob diff` output (JSON with --format json)."""

    api_version: str = DIFF_API_VERSION
    kind: str = "Diff"
    before: Side | None = None
    after: Side | None = None
    nodes_added: list[str] = []
    nodes_removed: list[str] = []
    node_pools: dict[str, str] = {}
    """Pool of each added and removed node."""
    changes: list[Change] = []
    findings_appeared: list[Finding] = []
    findings_resolved: list[Finding] = []

    @property
    def empty(self) -> bool:
        return not (
            self.nodes_added
            or self.nodes_removed
            or self.changes
            or self.findings_appeared
            or self.findings_resolved
        )


@dataclass(frozen=True, slots=True)
class State:
    """One side of a comparison."""

    side: Side
    nodes: Sequence[NodeAttributes]
    findings: Sequence[Finding]


def _finding_key(finding: Finding, across: bool) -> str:
    """Findings are the same on both sides by fingerprint, which names the cluster; across two
    clusters (`diff --force`) by check and subject alone, a finding about the cluster itself
    being the same finding in both."""
    if not across:
        return finding.fingerprint
    s = finding.subject
    name = "" if s.name == finding.cluster else s.name  # the cluster itself
    return "\x1f".join((finding.check, s.kind, s.namespace or "", name, s.path or ""))


def diff(before: State, after: State, *, across: bool = False) -> Diff:
    """What changed from `before` to `after`; `across`: they are two clusters, whose findings
    are matched by check and subject."""
    old = {n.node: n for n in before.nodes}
    new = {n.node: n for n in after.nodes}
    changes: list[Change] = []
    for name in sorted(old.keys() & new.keys()):
        a, b = old[name], new[name]
        if a == b:
            continue
        if a.pool != b.pool:
            changes.append(Change(subject=name, attribute="pool", before=a.pool, after=b.pool))
        va, vb = values_of(a), values_of(b)
        changes.extend(
            Change(subject=name, attribute=key, before=va.get(key), after=vb.get(key))
            for key in [*va, *(k for k in vb if k not in va)]
            if va.get(key) != vb.get(key)
        )
    before_f = {_finding_key(f, across): f for f in before.findings}
    after_f = {_finding_key(f, across): f for f in after.findings}
    added = sorted(new.keys() - old.keys())
    removed = sorted(old.keys() - new.keys())
    return Diff(
        before=before.side,
        after=after.side,
        nodes_added=added,
        nodes_removed=removed,
        node_pools={n: new[n].pool for n in added} | {n: old[n].pool for n in removed},
        changes=changes,
        findings_appeared=[f for k, f in after_f.items() if k not in before_f],
        findings_resolved=[f for k, f in before_f.items() if k not in after_f],
    )
