"""The `gpu-cost` report section: GPUs allocatable, requested and idle per cluster and pool, and
what the idle ones cost per month at the price table's rates.

Section shape (report `sections["gpu-cost"]`, the `CostSection` struct below as plain data):

    currency, hours_per_month, price_source,
    idle_monthly_cost            total over clusters (priced GPUs only)
    clusters: [{cluster, gpus, requested, idle, idle_monthly_cost, unpriced_idle_gpus,
                pools: [{pool, product, nodes, gpus, requested, idle, usd_per_gpu_hour,
                         idle_monthly_cost, unpriced_idle_gpus}]}]

GPU counts are physical GPUs (MIG slices and time-sliced replicas converted, as gpu-idle does).
Snapshots without any Pod are left out: their use is not part of the input.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import msgspec

from plumbob.checks.cost.gpu_idle import NodeUse, gpu_use
from plumbob.checks.options import PRICES
from plumbob.knowledge.prices import HOURS_PER_MONTH, Prices
from plumbob.model.snapshot import Snapshot
from plumbob.report.model import Finding

SECTION = "gpu-cost"


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
    hours_per_month: float = HOURS_PER_MONTH
    price_source: str = ""
    idle_monthly_cost: float = 0.0
    """Total over clusters, priced GPUs only."""
    clusters: list[ClusterCost] = []


def _round(value: float) -> float:
    return round(value, 2)


def _pool_row(pool: str, uses: list[NodeUse], prices: Prices) -> PoolCost:
    products = sorted({u.product for u in uses if u.product})
    priced = [(u.idle, prices.per_gpu_hour(u.product)) for u in uses]
    cost = sum(i * h * HOURS_PER_MONTH for i, h in priced if h is not None)
    hourly = {h for _, h in priced if h is not None}
    return PoolCost(
        pool=pool,
        product=", ".join(products) or None,
        nodes=len(uses),
        gpus=_round(sum(u.physical for u in uses)),
        requested=_round(sum(u.physical - u.idle for u in uses)),
        idle=_round(sum(u.idle for u in uses)),
        usd_per_gpu_hour=hourly.pop() if len(hourly) == 1 else None,
        idle_monthly_cost=_round(cost),
        unpriced_idle_gpus=_round(sum(i for i, h in priced if h is None)),
    )


def cost_section(
    snapshots: Sequence[Snapshot], config: Any, *, prices: Prices | None = None
) -> tuple[list[Finding], Any]:
    """An engine Analysis: adds no findings (gpu-idle reports them), only the section, as plain
    data (what the JSON report holds; `CostSection` reads it back). `prices`: the table gpu-idle
    prices with in this scan (the scan passes the one it loaded); without it, gpu-idle's
    `prices` option in `config`, else the shipped table."""
    if prices is None:
        given = (getattr(config, "options", {}) or {}).get("gpu-idle", {})
        raw = given.get("prices")
        prices = PRICES.make_default() if raw is None else PRICES.type.convert(raw)
    clusters: list[ClusterCost] = []
    for snap in snapshots:
        if not snap.pods:
            continue
        pools: dict[str, list[NodeUse]] = {}
        for use in gpu_use(snap):
            pools.setdefault(use.pool, []).append(use)
        if not pools:
            continue
        rows = [_pool_row(pool, uses, prices) for pool, uses in sorted(pools.items())]
        clusters.append(
            ClusterCost(
                cluster=snap.cluster.name,
                gpus=_round(sum(r.gpus for r in rows)),
                requested=_round(sum(r.requested for r in rows)),
                idle=_round(sum(r.idle for r in rows)),
                idle_monthly_cost=_round(sum(r.idle_monthly_cost for r in rows)),
                unpriced_idle_gpus=_round(sum(r.unpriced_idle_gpus for r in rows)),
                pools=rows,
            )
        )
    if not clusters:
        return [], None
    section = CostSection(
        currency=prices.currency,
        hours_per_month=HOURS_PER_MONTH,
        price_source=prices.origin,
        idle_monthly_cost=_round(sum(c.idle_monthly_cost for c in clusters)),
        clusters=clusters,
    )
    return [], msgspec.to_builtins(section)
