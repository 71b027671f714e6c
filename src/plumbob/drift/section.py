"""The drift section of a Report (`report.sections["drift"]`): tables renderers draw as
heatmaps. Field docstrings are its schema (docs/drift.md)."""

from __future__ import annotations

import msgspec

_STRUCT = {"frozen": True, "kw_only": True, "rename": "camel", "omit_defaults": True}


class Cell(msgspec.Struct, **_STRUCT):
    """One pool × attribute cell."""

    distinct: int
    """Number of distinct values (an absent value counts as one): 1 means uniform."""
    majority: str | None = None
    """The value more than half of the nodes hold."""
    split: bool = False
    """No value is held by more than half of the nodes."""
    outliers: list[str] = []
    """Nodes whose value differs from the majority (every node of a split pool)."""
    values: dict[str, int] = {}
    """Value -> number of nodes ("(absent)" for nodes without it); only when distinct > 1."""


class PoolRow(msgspec.Struct, **_STRUCT):
    cluster: str
    pool: str
    nodes: int
    gpu: bool = False
    cells: dict[str, Cell] = {}
    """Attribute id -> cell. Every attribute any node has; `label:<key>` only when it drifts."""
    not_compared: str | None = None
    """Why this group of nodes was not compared (nodes read from text without their labels)."""


class CrossRow(msgspec.Struct, **_STRUCT):
    """One attribute of one group of pools compared across clusters."""

    group: str
    """`pool:<name>` (same pool name) or `gpu:<product>` (same GPU model, named by its most
    common `nvidia.com/gpu.product` label)."""
    attribute: str
    values: dict[str, str | None]
    """Cluster -> the group's majority value there (None: absent or split)."""


class ComponentRow(msgspec.Struct, **_STRUCT):
    component: str
    versions: dict[str, str | None]
    """Cluster -> version seen ("" when present without a readable version, None when absent).
    A cluster whose snapshot cannot show absence (manifests only) and lacks the component is
    not listed: not visible."""


class PolicyRow(msgspec.Struct, **_STRUCT):
    """One admission policy compared across clusters."""

    policy: str
    """`<Kind>/<name>` (`<Kind>/<namespace>/<name>` for a namespaced Kyverno Policy)."""
    states: dict[str, str | None]
    """Cluster -> "enforce", "audit", or None when absent. A cluster that could not show
    absence (not a live capture, or the kind was not readable) and lacks the policy is not
    listed: not visible."""


class DriftSection(msgspec.Struct, **_STRUCT):
    """Fleet drift per pool, plus cross-cluster comparisons when several clusters were read."""

    columns: list[str] = []
    """Attribute ids in display order (those present in at least one pool)."""
    pools: list[PoolRow] = []
    cross: list[CrossRow] = []
    """Only rows where clusters differ."""
    components: list[ComponentRow] = []
    """Components found in some clusters, with their versions; only rows where clusters differ."""
    policies: list[PolicyRow] = []
    """Admission policies applied unevenly: missing in some clusters or enforcing in some and
    only auditing in others; only rows where clusters differ."""
    baseline: str | None = None
    """The baseline file compared against, when one was given."""
    baseline_deviations: int = 0
