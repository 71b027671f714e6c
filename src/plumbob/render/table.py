"""The terminal report (rich): inventory, scores, findings by category and severity, drift, GPU
cost, counts."""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import TextIO

from rich import box
from rich.console import Group
from rich.padding import Padding
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from plumbob.render.locate import field_label, input_files, object_label, short_path
from plumbob.render.rules import Rules
from plumbob.render.terminal import SafeConsole
from plumbob.report.model import Finding, Inventory, Level, Report, Severity
from plumbob.sources.positions import FieldLocator

SEVERITY_STYLE = {
    Severity.CRITICAL: "bold white on red",
    Severity.HIGH: "bold red",
    Severity.MEDIUM: "yellow",
    Severity.LOW: "cyan",
    Severity.INFO: "dim",
}
MAX_PER_CHECK = 8
"""Findings shown per check and cluster; the rest are counted (all are in the JSON report)."""
NARROW = 110
"""Below this many columns, tables of many columns are stacked (a block per row) instead of
squeezed: names are wrapped, never cut to `gpu-tra…`."""


def _score_style(value: int) -> str:
    return "green" if value >= 85 else "yellow" if value >= 60 else "red"


def _bar(value: int, width: int = 20) -> Text:
    filled = round(value / 100 * width)
    return Text("█" * filled + "░" * (width - filled), style=_score_style(value))


_INVENTORY_COLUMNS = (
    "cluster",
    "version",
    "nodes",
    "GPU nodes",
    "GPUs",
    "requested",
    "GPU models",
    "workloads",
)


def _inventory_cells(inv: Inventory) -> list[str | Text]:
    models = ", ".join(f"{n}× {m}" for m, n in inv.gpu_models.items()) or "-"
    no_nodes = "Node" in inv.not_visible
    no_pods = "Pod" in inv.not_visible
    return [
        Text(inv.cluster),
        _version(inv.kubernetes_version, inv.kubernetes_version_source),
        Text("not seen", style="yellow") if no_nodes else str(inv.nodes),
        "-" if no_nodes else str(inv.gpu_nodes),
        "-" if no_nodes else _gpus(inv),
        "-" if no_pods else _requested(inv),
        models,
        f"{inv.workloads} ({inv.gpu_workloads} GPU"
        + (
            f", {inv.gpu_workloads_count_unknown} GPU count unknown)"
            if inv.gpu_workloads_count_unknown
            else ")"
        ),
    ]


def _inventory(report: Report, width: int) -> Table | Text:
    if width < NARROW:  # stacked: one block per cluster, every value whole
        out = Text()
        out.append("Clusters\n", style="bold")
        for inv in report.clusters:
            for col, cell in zip(_INVENTORY_COLUMNS, _inventory_cells(inv), strict=True):
                text = cell.copy() if isinstance(cell, Text) else Text(cell)
                if col == "cluster":
                    text.stylize("bold")
                    out.append("  ")
                else:
                    out.append(f"    {col}: ", style="dim")
                out.append_text(text)
                out.append("\n")
        out.rstrip()
        return out
    t = Table(box=box.SIMPLE_HEAVY, title="Clusters", title_justify="left", expand=False)
    for col in _INVENTORY_COLUMNS:
        numeric = col in ("nodes", "GPU nodes", "GPUs", "requested", "workloads")
        t.add_column(col, justify="right" if numeric else "left", overflow="fold")
    for inv in report.clusters:
        t.add_row(*_inventory_cells(inv))
    return t


def _gpus(inv: Inventory) -> str:
    """Physical GPUs, MIG slices listed apart: '2 (4 MIG slices)', '≥2 ...' for a lower
    bound."""
    count = f"{'≥' if inv.gpus_at_least else ''}{inv.gpus}"
    slices = sum(inv.mig_slices.values())
    return f"{count} ({slices:g} MIG slices)" if slices else count


def _requested(inv: Inventory) -> str:
    """GPU units requested: whole GPUs, and MIG slices apart ('1 + 2 MIG slices')."""
    if not inv.mig_slices_requested:
        return f"{inv.gpus_requested:g}"
    whole = inv.gpus_requested - inv.mig_slices_requested
    return f"{whole:g} + {inv.mig_slices_requested:g} MIG slices"


MAX_LISTED = 8
"""Unread files and not-visible reasons listed in the terminal; the JSON report has them all."""


def _what_was_seen(report: Report) -> Text | None:
    """The report's first lines: files not read and checks not assessed, before any score."""
    out = Text()
    inputs = report.inputs
    if inputs is not None and inputs.files:
        style = "bold yellow" if inputs.unread else "bold"
        out.append(f"Read {inputs.read} of {inputs.files} files", style=style)
        if inputs.inventories:
            nodes = sum(f.objects for f in inputs.inventories)
            out.append(f" ({len(inputs.inventories)} as text inventories: {nodes} nodes)")
        if inputs.unread:
            out.append("; not read:", style="yellow")
        out.append("\n")
        for f in inputs.unread[:MAX_LISTED]:
            out.append(f"  {short_path(f.path)}", style="yellow")
            out.append(f": {f.reason}\n" if f.reason else "\n")
        if len(inputs.unread) > MAX_LISTED:
            out.append(f"  and {len(inputs.unread) - MAX_LISTED} more (see the JSON report)\n")
        if inputs.skipped_hidden:
            shown = ", ".join(inputs.skipped_hidden[:MAX_LISTED])
            more = len(inputs.skipped_hidden) - MAX_LISTED
            out.append(f"  hidden, not looked into: {shown}", style="dim")
            out.append(f" and {more} more\n" if more > 0 else "\n", style="dim")
    multi = len(report.clusters) > 1
    for nv in report.not_visible[:MAX_LISTED]:
        partly, reason = _partly(nv.reason)
        out.append("Partly assessed: " if partly else "Not assessed: ", style="bold yellow")
        if multi:
            out.append(f"[{nv.cluster}] ", style="magenta")
        out.append(reason)
        count = f"{len(nv.checks)} check{'' if len(nv.checks) == 1 else 's'}"
        out.append(f" ({count}: {', '.join(nv.checks)})\n", style="dim")
    if len(report.not_visible) > MAX_LISTED:
        out.append(f"and {len(report.not_visible) - MAX_LISTED} more reasons (see the JSON)\n")
    out.rstrip()
    return out if out.plain else None


def _partly(reason: str) -> tuple[bool, str]:
    prefix = "partly assessed: "
    return (True, reason[len(prefix) :]) if reason.startswith(prefix) else (False, reason)


def _headline(report: Report) -> Text:
    """The score with its coverage, and beside it what can contradict a good number: findings
    by severity, the cap the worst of them put on the score, idle GPUs and their cost."""
    scores = report.scores
    coverage = (
        f"coverage {scores.coverage}% ({scores.assessed:g} of {scores.runs} check runs assessed)"
    )
    out = Text()
    if scores.overall is None:
        out.append("No score: nothing could be assessed", style="bold red")
    else:
        style = f"bold {_score_style(min(scores.overall, scores.coverage))}"
        out.append(f"Score {scores.overall}/100", style=style)
        if scores.capped_by is not None:
            out.append(
                f" (capped by {scores.capped_by.value} findings; {scores.uncapped} uncapped)",
                style="bold red",
            )
    out.append(f" · {coverage}\n")
    counts = Counter(f.severity for f in report.findings)
    out.append("Findings: ")
    for i, sev in enumerate(Severity):
        if i:
            out.append(", ")
        out.append(f"{counts[sev]} {sev.value}", style=SEVERITY_STYLE[sev] if counts[sev] else "")
    cost = report.sections.gpu_cost
    if cost is not None and cost.clusters:
        idle = sum(c.idle for c in cost.clusters)
        gpus = sum(c.gpus for c in cost.clusters)
        symbol = "$" if cost.currency == "USD" else f"{cost.currency} "
        out.append(" · idle GPUs: ")
        out.append(
            f"{idle:g} of {gpus:g} ≈ {symbol}{cost.idle_monthly_cost:,.0f}/month",
            style="yellow" if idle else "green",
        )
    return out


def _scores(report: Report) -> Table | None:
    if not report.scores.categories:
        return None
    t = Table(box=box.SIMPLE_HEAVY, title="Scores by category", title_justify="left")
    t.add_column("category")
    t.add_column("score", justify="right")
    t.add_column("")
    t.add_column("checks failed", justify="right")
    for c in report.scores.categories:
        t.add_row(c.category, str(c.score), _bar(c.score), f"{c.failed}/{c.checks}")
    return t


def _findings(report: Report, max_per_check: int, rules: Rules | None) -> list[Panel]:
    by_cat: dict[str, list[Finding]] = defaultdict(list)
    for f in report.findings:
        by_cat[f.category].append(f)
    multi = len(report.clusters) > 1
    files = input_files(report)
    locator = FieldLocator() if files else None
    hinted: set[str] = set()
    panels = []
    for cat, items in by_cat.items():
        t = Table(box=None, show_header=False, expand=True, padding=(0, 1))
        t.add_column("severity", no_wrap=True, width=8)
        t.add_column("finding", ratio=1, overflow="fold")
        shown: Counter[tuple[str, str]] = Counter()
        hidden: Counter[tuple[str, str]] = Counter()
        for f in items:
            key = (f.check, f.cluster)
            if shown[key] >= max_per_check:
                hidden[key] += 1
                continue
            shown[key] += 1
            line = Text()
            line.append(f"{f.check}", style="bold")
            if multi:
                line.append(f" [{f.cluster}]", style="magenta")
            line.append(f"  {f.message}")
            detail = Text()
            detail.append(object_label(f.subject), style="cyan")
            if f.subject.path:
                detail.append(f" · {f.subject.path}", style="dim")
            at = field_label(f.subject, files, locator)
            if at:
                detail.append(f" · {at}", style="dim")
            role = _role(f)
            if role:
                detail.append(f"\n{role}", style="dim")
            if f.check not in hinted:
                hinted.add(f.check)
                rule = rules.get(f.check) if rules is not None else None
                hint = rule.fix_line if rule is not None else ""
                detail.append("\nfix: ", style="green")
                detail.append(
                    f"{hint} (plumbob explain {f.check})" if hint else f"plumbob explain {f.check}",
                    style="green",
                )
            body = Group(line, Padding(detail, (0, 0, 0, 2)))
            t.add_row(Text(f.severity.value.upper(), style=SEVERITY_STYLE[f.severity]), body)
        for (check, cluster), n in hidden.items():
            label = f" [{cluster}]" if multi else ""
            t.add_row("", Text(f"{check}{label}: {n} more (see the JSON report)", style="dim"))
        counts = Counter(f.severity for f in items)
        summary = ", ".join(f"{counts[s]} {s.value}" for s in Severity if counts[s])
        panels.append(
            Panel(t, title=f"[bold]{cat}[/] — {summary}", title_align="left", border_style="grey50")
        )
    return panels


def _role(finding: Finding) -> str:
    """'role: serving (Service ml/vllm selects its pods)' for a finding about a workload."""
    role = finding.evidence.get("role")
    if not isinstance(role, str):
        return ""
    reasons = finding.evidence.get("roleEvidence")
    first = reasons[0] if isinstance(reasons, list) and reasons else ""
    return f"role: {role} ({first})" if first else f"role: {role}"


def render(
    report: Report,
    out: TextIO,
    *,
    max_per_check: int = MAX_PER_CHECK,
    width: int | None = None,
    rules: Rules | None = None,
) -> None:
    """The terminal report. `rules` (render/rules.py) gives each check's first finding its
    one-line fix; without it the line says `plumbob explain ID`."""
    console = SafeConsole(file=out, width=width, highlight=False, soft_wrap=False)
    seen = _what_was_seen(report)
    if seen is not None:
        console.print(seen)
    console.print(_headline(report))
    console.print(_inventory(report, console.width))
    scores = _scores(report)
    if scores is not None:
        console.print(scores)
    panels = _findings(report, max_per_check, rules)
    if panels:
        console.print(Group(*panels))
    else:
        console.print(Text("No findings.", style="bold green"))
    if report.sections.drift is not None:
        from plumbob.render.drift import drift_panel

        drift = drift_panel(report.sections.drift, width=console.width)
        if drift is not None:
            console.print(drift)
    if report.sections.gpu_cost is not None:
        from plumbob.render.cost import cost_panel

        cost = cost_panel(report.sections.gpu_cost)
        if cost is not None:
            console.print(cost)
    counts = Counter(f.severity for f in report.findings)
    summary = Text("Findings: ", style="bold")
    summary.append(", ".join(f"{counts[s]} {s.value}" for s in Severity) or "none")
    not_visible = sum(1 for r in report.checks if r.status == "not-visible")
    if not_visible:
        summary.append(f"  ·  {not_visible} check runs not visible", style="yellow")
    errors = sum(1 for d in report.diagnostics if d.level == Level.ERROR)
    warnings = sum(1 for d in report.diagnostics if d.level == Level.WARNING)
    if errors or warnings:
        summary.append(f"  ·  input: {errors} errors, {warnings} warnings", style="yellow")
    console.print(summary)


def _version(version: str | None, source: str | None) -> str:
    if not version:
        return "-"
    return f"{version} (kubelet)" if source == "newest kubelet" else version
