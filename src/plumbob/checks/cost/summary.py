"""The `gpu-cost` report section: GPUs allocatable, requested and idle per cluster and pool, and
what the idle ones cost per month at the price table's rates.

Section shape (report `sections["gpu-cost"]`):

    currency, hours_per_month, price_source,
    idle_monthly_cost            total over clusters (priced GPUs only)
    clusters: [{cluster, gpus, requested, idle, idle_monthly_cost, unpriced_idle_gpus,
                pools: [{pool, product, nodes, gpus, requested, idle, usd_per_gpu_hour,
                         idle_monthly_cost}]}]

GPU counts are physical GPUs (MIG slices and time-sliced replicas converted, as gpu-idle does).
Snapshots without any Pod are left out: their use is not part of the input.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from plumbob.checks.cost.gpu_idle import NodeUse, gpu_use, prices_for
from plumbob.checks.registry import CheckContext
from plumbob.knowledge.prices import HOURS_PER_MONTH, Prices
from plumbob.model.snapshot import Snapshot
from plumbob.report.model import Finding

SECTION = "gpu-cost"


def _round(value: float) -> float:
    return round(value, 2)


def _pool_row(pool: str, uses: list[NodeUse], prices: Prices) -> dict[str, Any]:
    products = sorted({u.product for u in uses if u.product})
    gpus = sum(u.physical for u in uses)
    idle = sum(u.idle for u in uses)
    requested = sum(u.physical - u.idle for u in uses)
    priced = [(u.idle, prices.per_gpu_hour(u.product)) for u in uses]
    cost = sum(i * h * HOURS_PER_MONTH for i, h in priced if h is not None)
    hourly = {h for _, h in priced if h is not None}
    return {
        "pool": pool,
        "product": ", ".join(products) or None,
        "nodes": len(uses),
        "gpus": _round(gpus),
        "requested": _round(requested),
        "idle": _round(idle),
        "usd_per_gpu_hour": hourly.pop() if len(hourly) == 1 else None,
        "idle_monthly_cost": _round(cost),
        "unpriced_idle_gpus": _round(sum(i for i, h in priced if h is None)),
    }


def cost_section(snapshots: Sequence[Snapshot], config: Any) -> tuple[list[Finding], Any]:
    """An engine Analysis: adds no findings (gpu-idle reports them), only the section."""
    options = getattr(config, "options", {}) or {}
    prices = prices_for(CheckContext(options=options.get("gpu-idle", {})))
    clusters: list[dict[str, Any]] = []
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
            {
                "cluster": snap.cluster.name,
                "gpus": _round(sum(r["gpus"] for r in rows)),
                "requested": _round(sum(r["requested"] for r in rows)),
                "idle": _round(sum(r["idle"] for r in rows)),
                "idle_monthly_cost": _round(sum(r["idle_monthly_cost"] for r in rows)),
                "unpriced_idle_gpus": _round(sum(r["unpriced_idle_gpus"] for r in rows)),
                "pools": rows,
            }
        )
    if not clusters:
        return [], None
    return [], {
        "currency": prices.currency,
        "hours_per_month": HOURS_PER_MONTH,
        "price_source": prices.origin,
        "idle_monthly_cost": _round(sum(c["idle_monthly_cost"] for c in clusters)),
        "clusters": clusters,
    }
