"""The `gpu-cost` report section: GPUs allocatable, requested and idle per cluster and pool, and
what the idle ones cost per month at the price table's rates.

Section shape (report `sections["gpu-cost"]`, `report.sections.CostSection`):

    currency, hours_per_month, price_source,
    idle_monthly_cost            total over clusters (priced GPUs only)
    clusters: [{cluster, gpus, requested, idle, idle_monthly_cost, unpriced_idle_gpus,
                pools: [{pool, product, nodes, gpus, requested, idle, usd_per_gpu_hour,
                         idle_monthly_cost, unpriced_idle_gpus}]}]

GPU counts are physical GPUs (MIG slices and time-sliced replicas converted, as gpu-idle does).
Clusters whose nodes or pods the input does not show are left out: their use is not part of
the input.
"""

from __future__ import annotations

from collections.abc import Sequence

from plumbob.checks.cost.gpu_idle import NodeUse, gpu_use
from plumbob.checks.options import PRICES
from plumbob.checks.registry import GPU_IDENTITY
from plumbob.findings import AnalysisResult, FindingPolicy
from plumbob.knowledge.prices import HOURS_PER_MONTH, Prices
from plumbob.model.snapshot import Snapshot
from plumbob.report.sections import ClusterCost, CostSection, PoolCost, Sections

SECTION = "gpu-cost"


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
    snapshots: Sequence[Snapshot], policy: FindingPolicy, *, prices: Prices | None = None
) -> AnalysisResult:
    """An engine analysis: adds no findings (gpu-idle reports them), only the section.
    `prices`: the table gpu-idle prices with in this scan (the scan passes the one it resolved
    from --prices or plumbob.yaml), else the shipped table. A cluster whose nodes or pods the
    input does not show is left out, and so are nodes whose GPUs its text did not show: their
    use is not part of the input."""
    if prices is None:
        prices = PRICES.make_default()
    clusters: list[ClusterCost] = []
    for snap in snapshots:
        if not (snap.visible("Pod") and snap.visible("Node")):
            continue
        hidden = frozenset(n.name for n in snap.partial_nodes if not n.knows(*GPU_IDENTITY))
        seen = snap.without_nodes(hidden) if hidden else snap
        pools: dict[str, list[NodeUse]] = {}
        for use in gpu_use(seen):
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
        return AnalysisResult()
    section = CostSection(
        currency=prices.currency,
        hours_per_month=HOURS_PER_MONTH,
        price_source=prices.origin,
        idle_monthly_cost=_round(sum(c.idle_monthly_cost for c in clusters)),
        clusters=clusters,
    )
    return AnalysisResult(sections=Sections(gpu_cost=section))
