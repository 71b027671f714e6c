"""Terminal drawings of drift: the pool × attribute heatmap, cross-cluster tables, and diffs."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TextIO

from rich import box
from rich.console import Group, RenderableType
from rich.padding import Padding
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from plumbob.drift.attributes import LABEL_PREFIX, attribute_title
from plumbob.drift.compare import Diff
from plumbob.render.terminal import SafeConsole
from plumbob.report.model import Finding
from plumbob.report.sections import Cell, DriftSection, PoolRow

Present = Callable[[str], Text]
"""How a value seen in a cluster is shown (a component's version, a policy's mode)."""

MAX_OUTLIERS_SHOWN = 3
SHORT = {
    "kernel": "kernel",
    "os_image": "OS",
    "architecture": "arch",
    "kubelet": "kubelet",
    "kube_proxy": "proxy",
    "container_runtime": "runtime",
    "nvidia_driver": "driver",
    "cuda": "CUDA",
    "vgpu_host_driver": "vGPU host",
    "gpu_product": "GPU",
    "gpu_count": "GPUs",
    "mig_strategy": "MIG",
    "mig_config": "MIG cfg",
    "mig_layout": "MIG devs",
    "sharing_strategy": "sharing",
    "sharing_replicas": "replicas",
    "instance_type": "type",
    "zone": "zone",
    "taints": "taints",
    "allocatable_cpu": "cpu",
    "allocatable_memory": "mem",
    "allocatable_gpu": "GPU alloc",
}


def _heat(cell: Cell | None) -> Text:
    if cell is None:
        return Text("")
    if cell.split:
        return Text("split", style="bold magenta")
    if cell.distinct <= 1:
        return Text("·", style="green")
    style = "yellow" if cell.distinct == 2 else "bold red"
    return Text(str(cell.distinct), style=style)


def _outliers(names: list[str]) -> str:
    shown = ", ".join(names[:MAX_OUTLIERS_SHOWN])
    more = len(names) - MAX_OUTLIERS_SHOWN
    return shown + (f" +{more}" if more > 0 else "")


def drift_panel(section: DriftSection, width: int | None = None) -> RenderableType | None:
    """The drift section as a heatmap: a row per drifting pool, a column per drifting attribute
    (cell: number of distinct values, `split` when no majority). None when there is nothing.
    Where the heatmap would not fit in `width` columns, each drifting pool is a block instead:
    its drifting attributes, then its outlier nodes, every name whole."""
    if not section.pools and not section.cross and not section.components and not section.policies:
        return None
    parts: list[RenderableType] = []
    drifting = [
        p
        for p in section.pools
        if any(c.distinct > 1 and not _fixed(k) for k, c in p.cells.items())
    ]
    columns = [
        c
        for c in section.columns
        if not _fixed(c)
        and any((p.cells.get(c) or Cell(distinct=1)).distinct > 1 for p in drifting)
    ]
    multi = len({p.cluster for p in section.pools}) > 1
    if drifting and width is not None and _heatmap_width(drifting, columns, multi) > width:
        parts.append(_stacked(drifting, columns, multi))
    elif drifting:
        t = Table(box=box.SIMPLE_HEAVY, expand=False, padding=(0, 1))
        t.add_column("pool")
        t.add_column("nodes", justify="right")
        labels = [c for c in columns if c.startswith(LABEL_PREFIX)]
        plain = [c for c in columns if not c.startswith(LABEL_PREFIX)]
        for c in plain:
            t.add_column(SHORT.get(c, c), justify="center")
        if labels:
            t.add_column("labels", justify="center")
        t.add_column("outlier nodes")
        for row in drifting:
            name = f"{row.cluster}/{row.pool}" if multi else row.pool
            cells = [_heat(row.cells.get(c)) for c in plain]
            if labels:
                drifted = sum(
                    1 for c in labels if (row.cells.get(c) or Cell(distinct=1)).distinct > 1
                )
                cells.append(
                    Text(str(drifted), style="cyan") if drifted else Text("·", style="green")
                )
            outliers = sorted(
                {n for k, c in row.cells.items() if not _fixed(k) for n in c.outliers}
            )
            t.add_row(
                Text(name + (" (GPU)" if row.gpu else "")),
                str(row.nodes),
                *cells,
                _outliers(outliers),
            )
        parts.append(t)
    skipped = [p for p in section.pools if p.not_compared]
    uniform = len(section.pools) - len(drifting) - len(skipped)
    for row in skipped:
        where = f"{row.cluster}: " if multi else ""
        parts.append(
            Text(f"{where}{row.nodes} nodes not compared: {row.not_compared}", style="yellow")
        )
    parts.append(
        Text(
            f"{len(drifting)} pools drift, {uniform} uniform"
            + (
                f"  ·  baseline {section.baseline}: {section.baseline_deviations} deviations"
                if section.baseline
                else ""
            ),
            style="dim",
        )
    )
    if section.cross:
        clusters = sorted({c for r in section.cross for c in r.values})
        t = Table(box=box.SIMPLE_HEAVY, title="across clusters", title_justify="left")
        t.add_column("group")
        t.add_column("attribute")
        for c in clusters:
            t.add_column(c)
        for r in section.cross:
            t.add_row(
                r.group, attribute_title(r.attribute), *(r.values.get(c) or "-" for c in clusters)
            )
        parts.append(t)
    scanned = {p.cluster for p in section.pools}
    across: list[tuple[str, str, list[tuple[str, Mapping[str, str | None]]], Present]] = [
        (
            "components across clusters",
            "component",
            [(comp.component, comp.versions) for comp in section.components],
            lambda version: Text(version or "present"),
        ),
        (
            "admission policies across clusters",
            "policy",
            [(policy.policy, policy.states) for policy in section.policies],
            lambda state: Text(state, style="green" if state == "enforce" else "yellow"),
        ),
    ]
    for title, column, rows, present in across:
        if rows:
            parts.append(_across_clusters(title, column, scanned, rows, present))
    return Panel(
        Group(*parts),
        title="[bold]drift[/] — pools × attributes (distinct values)",
        title_align="left",
        border_style="grey50",
    )


def _across_clusters(
    title: str,
    column: str,
    scanned: set[str],
    rows: list[tuple[str, Mapping[str, str | None]]],
    present: Present,
) -> Table:
    """One row per component or policy, one column per cluster (those scanned and those the
    rows name). A cluster whose scan could not show the row is "not visible", never "missing":
    absence is only said where it was seen."""
    clusters = sorted(scanned | {c for _, values in rows for c in values})
    t = Table(box=box.SIMPLE_HEAVY, title=title, title_justify="left")
    t.add_column(column)
    for c in clusters:
        t.add_column(c)
    for name, values in rows:
        cells = []
        for c in clusters:
            if c not in values:
                cells.append(Text("not visible", style="dim"))
            else:
                value = values[c]
                cells.append(Text("missing", style="red") if value is None else present(value))
        t.add_row(name, *cells)
    return t


def _heatmap_width(rows: list[PoolRow], columns: list[str], multi: bool) -> int:
    """Columns the heatmap needs: pool names, a cell per attribute, outliers."""
    names = max(len(f"{r.cluster}/{r.pool}" if multi else r.pool) + 6 for r in rows)
    plain = [c for c in columns if not c.startswith(LABEL_PREFIX)]
    cells = sum(max(len(SHORT.get(c, c)), 5) + 3 for c in plain)
    labels = 9 if len(plain) < len(columns) else 0
    return names + 10 + cells + labels + 40 + 4


def _stacked(rows: list[PoolRow], columns: list[str], multi: bool) -> Group:
    blocks: list[RenderableType] = []
    for row in rows:
        head = Text()
        head.append(f"{row.cluster}/{row.pool}" if multi else row.pool, style="bold")
        head.append((" (GPU)" if row.gpu else "") + f" · {row.nodes} nodes", style="dim")
        blocks.append(head)
        out = Text()
        for c in columns:
            cell = row.cells.get(c)
            if cell is None or cell.distinct <= 1:
                continue
            name = attribute_title(c) if c.startswith(LABEL_PREFIX) else SHORT.get(c, c)
            out.append(f"{name}: ")
            out.append_text(_heat(cell))
            if cell.majority:
                out.append(f" (majority {cell.majority})", style="dim")
            out.append("\n")
        outliers = sorted({n for k, c in row.cells.items() if not _fixed(k) for n in c.outliers})
        if outliers:
            out.append("outlier nodes: ", style="dim")
            out.append(_outliers(outliers))
        out.rstrip()
        blocks.append(Padding(out, (0, 0, 0, 2)))
    return Group(*blocks)


def _fixed(attribute: str) -> bool:
    """Attributes that differ by design inside a pool and are not drawn (zone)."""
    return attribute == "zone"


def _finding_line(f: Finding) -> Text:
    line = Text()
    line.append(f"{f.severity.value.upper():8}", style="bold")
    line.append(f" {f.check}", style="bold")
    line.append(f"  {f.message}")
    return line


def render_diff(result: Diff, out: TextIO, *, width: int | None = None) -> None:
    console = SafeConsole(file=out, width=width, highlight=False, soft_wrap=False)
    before, after = result.before, result.after
    if before is not None and after is not None:
        console.print(
            Text.assemble(
                ("diff ", "bold"),
                f"{before.label} → {after.label}",
                (
                    f"  ({before.cluster}"
                    + (f" {before.time}" if before.time else "")
                    + " → "
                    + after.cluster
                    + (f" {after.time}" if after.time else "")
                    + ")",
                    "dim",
                ),
            )
        )
    if result.empty:
        console.print(Text("No changes.", style="bold green"))
        return
    if result.nodes_added or result.nodes_removed:
        t = Table(box=box.SIMPLE_HEAVY, title="nodes", title_justify="left")
        t.add_column("")
        t.add_column("node")
        t.add_column("pool")
        for n in result.nodes_added:
            t.add_row(Text("+", style="green"), n, result.node_pools.get(n, ""))
        for n in result.nodes_removed:
            t.add_row(Text("-", style="red"), n, result.node_pools.get(n, ""))
        console.print(t)
    if result.changes:
        t = Table(box=box.SIMPLE_HEAVY, title="attribute changes", title_justify="left")
        for col in ("node", "attribute", "before", "after"):
            t.add_column(col)
        for c in result.changes:
            t.add_row(
                c.subject,
                attribute_title(c.attribute) if c.attribute != "pool" else "pool",
                Text(c.before or "-", style="red"),
                Text(c.after or "-", style="green"),
            )
        console.print(t)
    if result.findings_appeared:
        console.print(
            Text(f"findings appeared ({len(result.findings_appeared)})", style="bold red")
        )
        for f in result.findings_appeared:
            console.print(_finding_line(f))
    if result.findings_resolved:
        console.print(
            Text(f"findings resolved ({len(result.findings_resolved)})", style="bold green")
        )
        for f in result.findings_resolved:
            console.print(_finding_line(f))
    console.print(
        Text(
            f"{len(result.nodes_added)} nodes added, {len(result.nodes_removed)} "
            f"removed, {len(result.changes)} attribute changes, "
            f"{len(result.findings_appeared)} findings appeared, "
            f"{len(result.findings_resolved)} resolved",
            style="dim",
        )
    )
