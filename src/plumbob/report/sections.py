"""Typed report sections: what analyses beside the checks add to a Report (`Report.sections`),
read directly by every renderer. Field docstrings are their schema (docs/report.md, docs/drift.md).

- `drift`: fleet drift per pool, cross-cluster comparisons, baseline deviations (plumbob.drift).
- `gpu-cost`: GPUs allocatable, requested and idle per cluster and pool, and what the idle ones
  cost per month (checks/cost/summary.py).
"""

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


# ---------------------------------------------------------------- GPU cost


class PoolCost(msgspec.Struct, frozen=True, kw_only=True):
    """One node pool's GPUs and what its idle ones cost."""

    pool: str
    product: str | None = None
    """GPU product label(s) of the pool's nodes, comma-separated."""
    nodes: int = 0
    gpus: float = 0.0
    requested: float = 0.0
    idle: float = 0.0
    usd_per_gpu_hour: float | None = None
    """The pool's price per GPU-hour, when one price covers all its nodes."""
    idle_monthly_cost: float = 0.0
    unpriced_idle_gpus: float = 0.0
    """Idle GPUs of products the price table does not know (not in idle_monthly_cost)."""


class ClusterCost(msgspec.Struct, frozen=True, kw_only=True):
    cluster: str
    gpus: float = 0.0
    requested: float = 0.0
    idle: float = 0.0
    idle_monthly_cost: float = 0.0
    unpriced_idle_gpus: float = 0.0
    pools: list[PoolCost] = []


class CostSection(msgspec.Struct, frozen=True, kw_only=True):
    currency: str = "USD"
    hours_per_month: float = 730.0
    """Hours a month is priced at (knowledge/prices.py HOURS_PER_MONTH: 8760 / 12)."""
    price_source: str = ""
    idle_monthly_cost: float = 0.0
    """Total over clusters, priced GPUs only."""
    clusters: list[ClusterCost] = []


class Sections(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """The sections a scan adds beside its findings; absent when their analysis did not run."""

    drift: DriftSection | None = None
    """Fleet drift (plumbob.drift)."""
    gpu_cost: CostSection | None = msgspec.field(default=None, name="gpu-cost")
    """GPU totals and idle cost per cluster and pool (checks/cost/summary.py)."""
