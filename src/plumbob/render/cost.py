"""The terminal's GPU cost panel: GPUs, requested and idle per pool, and what idle costs a month."""

from __future__ import annotations

from rich import box
from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from plumbob.report.sections import CostSection

MAX_POOLS_SHOWN = 8
"""Pools listed, most idle cost first; the rest are counted (all are in the JSON report)."""


def _money(amount: float, currency: str, decimals: int = 0) -> str:
    symbol = "$" if currency == "USD" else f"{currency} "
    return f"{symbol}{amount:,.{decimals}f}"


def _count(value: float) -> str:
    return f"{value:g}"


def cost_panel(section: CostSection) -> RenderableType | None:
    """The `gpu-cost` section as a short table, one row per GPU pool. None when it has no
    cluster."""
    if not section.clusters:
        return None
    multi = len(section.clusters) > 1
    rows = [(c.cluster, p) for c in section.clusters for p in c.pools]
    rows.sort(key=lambda r: (-r[1].idle_monthly_cost, -r[1].idle, r[0], r[1].pool))
    t = Table(box=box.SIMPLE_HEAD, expand=False, padding=(0, 1), pad_edge=False)
    t.add_column("pool", overflow="fold")
    t.add_column("GPU", overflow="fold", min_width=4)
    for col in ("GPUs/nodes", "idle", "/GPU-h", "idle/mo"):
        t.add_column(col, justify="right", no_wrap=True)
    currency = section.currency
    for cluster, pool in rows[:MAX_POOLS_SHOWN]:
        idle_style = "yellow" if pool.idle else "green"
        hourly = pool.usd_per_gpu_hour
        price = "-" if hourly is None else _money(hourly, currency, 2)
        monthly = _money(pool.idle_monthly_cost, currency)
        if pool.unpriced_idle_gpus:
            monthly += f" (+{_count(pool.unpriced_idle_gpus)} unpriced)"
        t.add_row(
            f"{cluster}/{pool.pool}" if multi else pool.pool,
            (pool.product or "-").replace("NVIDIA-", ""),
            f"{_count(pool.gpus)}/{pool.nodes}",
            Text(_count(pool.idle), style=idle_style),
            price,
            Text(monthly, style=idle_style),
        )
    parts: list[RenderableType] = [t]
    if len(rows) > MAX_POOLS_SHOWN:
        parts.append(
            Text(f"{len(rows) - MAX_POOLS_SHOWN} more pools (see the JSON report)", style="dim")
        )
    gpus = sum(c.gpus for c in section.clusters)
    idle = sum(c.idle for c in section.clusters)
    unpriced = sum(c.unpriced_idle_gpus for c in section.clusters)
    title = (
        f"[bold]GPU cost[/] — {_count(idle)} of {_count(gpus)} GPUs idle ≈ "
        f"{_money(section.idle_monthly_cost, currency)}/month"
    )
    if unpriced:
        title += f" (+{_count(unpriced)} GPUs without a price)"
    parts.append(
        Text(
            f"{section.hours_per_month:g} h/month at prices from {section.price_source}; "
            f"scan --prices FILE for yours",
            style="dim",
        )
    )
    return Panel(Group(*parts), title=title, title_align="left", border_style="grey50")
