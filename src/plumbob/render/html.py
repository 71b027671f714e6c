"""The HTML report: one self-contained file for people who never run a CLI.

What was not seen first, then the score with its coverage, categories, the drift matrix (pools
× attributes, outlier nodes per cell), GPUs per pool with idle ones and their monthly cost,
history when the scan was recorded in a store, and every finding in a table that filters by
severity, category, namespace, cluster and check and expands to evidence, why and fix.

Charts are inline SVG drawn here; the table's script and styles are bundled in the package
(render/templates/), and a Content-Security-Policy forbids any network access: the file opens
the same offline. Findings travel as one JSON block the script pages through (50 rows at a
time), so 35,000 findings open in a browser in about a second (bench/html_report.py).
"""

from __future__ import annotations

import functools
import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any, TextIO

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from plumbob.render.interface import HistoryPoint
from plumbob.render.locate import input_files, short_path
from plumbob.render.rules import Rules
from plumbob.report.model import Level, Report, Severity
from plumbob.report.sections import Cell, CostSection, DriftSection
from plumbob.report.text import json_bytes

SEVERITY_COLOR = {
    Severity.CRITICAL: "#7f1d1d",
    Severity.HIGH: "#dc2626",
    Severity.MEDIUM: "#d97706",
    Severity.LOW: "#0891b2",
    Severity.INFO: "#64748b",
}
MAX_DIAGNOSTICS = 500
"""Input problems listed in the page; all are in the JSON report."""
MAX_OUTLIERS = 50
"""Outlier nodes listed per drift cell."""


def _score_color(value: int | None) -> str:
    if value is None:
        return "#64748b"
    return "#16a34a" if value >= 85 else "#d97706" if value >= 60 else "#dc2626"


# ---------------------------------------------------------------- charts (inline SVG)


def _gauge(score: int | None, coverage: int) -> Markup:
    """A ring for the score, a thinner one inside it for the coverage."""
    r1, r2 = 52.0, 40.0
    c1, c2 = 2 * math.pi * r1, 2 * math.pi * r2
    s = 0 if score is None else score
    label = "–" if score is None else str(score)
    return Markup(
        '<svg class="chart gauge" viewBox="0 0 140 140" role="img" '
        f'aria-label="score {label} of 100, coverage {coverage}%">'
        f'<circle cx="70" cy="70" r="{r1}" fill="none" stroke="#e2e8f0" stroke-width="12"/>'
        f'<circle cx="70" cy="70" r="{r1}" fill="none" stroke="{_score_color(score)}" '
        f'stroke-width="12" stroke-dasharray="{c1 * s / 100:.1f} {c1:.1f}" '
        'transform="rotate(-90 70 70)" stroke-linecap="round"/>'
        f'<circle cx="70" cy="70" r="{r2}" fill="none" stroke="#e2e8f0" stroke-width="5"/>'
        f'<circle cx="70" cy="70" r="{r2}" fill="none" stroke="#6366f1" stroke-width="5" '
        f'stroke-dasharray="{c2 * coverage / 100:.1f} {c2:.1f}" transform="rotate(-90 70 70)"/>'
        f'<text x="70" y="74" text-anchor="middle" class="gauge-value">{label}</text>'
        '<text x="70" y="92" text-anchor="middle" class="gauge-sub">/100</text></svg>'
    )


def _bars(rows: Sequence[tuple[str, int, str]], width: int = 520) -> Markup:
    """Horizontal 0-100 bars: (label, value, note)."""
    height = 26 * len(rows) + 8
    out = [
        f'<svg class="chart bars" viewBox="0 0 {width} {height}" role="img" '
        'aria-label="scores by category">'
    ]
    for i, (label, value, note) in enumerate(rows):
        y = 6 + i * 26
        w = (width - 220) * value / 100
        out.append(
            f'<text x="0" y="{y + 14}" class="bar-label">{_x(label)}</text>'
            f'<rect x="110" y="{y}" width="{width - 220}" height="18" rx="4" fill="#e2e8f0"/>'
            f'<rect x="110" y="{y}" width="{w:.1f}" height="18" rx="4" '
            f'fill="{_score_color(value)}"/>'
            f'<text x="{width - 104}" y="{y + 14}" class="bar-value">{value}</text>'
            f'<text x="{width - 70}" y="{y + 14}" class="bar-note">{_x(note)}</text>'
        )
    out.append("</svg>")
    return Markup("".join(out))


def _severity_bar(counts: Counter[Severity], width: int = 520) -> Markup:
    total = sum(counts.values())
    out = [
        f'<svg class="chart severity" viewBox="0 0 {width} 28" role="img" '
        'aria-label="findings by severity">'
    ]
    if not total:
        out.append(f'<rect x="0" y="4" width="{width}" height="20" rx="4" fill="#16a34a"/>')
    x = 0.0
    for sev in Severity:
        n = counts[sev]
        if not n:
            continue
        w = max(width * n / total, 3.0)
        out.append(
            f'<rect x="{x:.1f}" y="4" width="{w:.1f}" height="20" fill="{SEVERITY_COLOR[sev]}">'
            f"<title>{n} {sev.value}</title></rect>"
        )
        x += w
    out.append("</svg>")
    return Markup("".join(out))


def _gpu_bars(section: CostSection, width: int = 640) -> Markup | None:
    """Per pool: requested GPUs and idle ones, stacked."""
    multi = len(section.clusters) > 1
    rows = [
        (f"{c.cluster}/{p.pool}" if multi else p.pool, p.requested, p.idle, p.gpus)
        for c in section.clusters
        for p in c.pools
        if p.gpus
    ]
    if not rows:
        return None
    rows.sort(key=lambda r: -r[3])
    rows = rows[:30]
    most = max(r[3] for r in rows) or 1.0
    height = 24 * len(rows) + 30
    out = [
        f'<svg class="chart gpus" viewBox="0 0 {width} {height}" role="img" '
        'aria-label="GPUs requested and idle per pool">'
    ]
    for i, (label, used, idle, gpus) in enumerate(rows):
        y = 4 + i * 24
        span = width - 300
        wu = span * min(used, gpus) / most
        wi = span * idle / most
        out.append(
            f'<text x="0" y="{y + 13}" class="bar-label">{_x(label[:28])}</text>'
            f'<rect x="190" y="{y}" width="{wu:.1f}" height="16" fill="#6366f1">'
            f"<title>{used:g} requested</title></rect>"
            f'<rect x="{190 + wu:.1f}" y="{y}" width="{wi:.1f}" height="16" fill="#f59e0b">'
            f"<title>{idle:g} idle</title></rect>"
            f'<text x="{width - 104}" y="{y + 13}" class="bar-note">'
            f"{used:g} used · {idle:g} idle</text>"
        )
    y = 8 + len(rows) * 24
    out.append(
        f'<rect x="190" y="{y}" width="12" height="12" fill="#6366f1"/>'
        f'<text x="206" y="{y + 10}" class="bar-note">requested by pods</text>'
        f'<rect x="330" y="{y}" width="12" height="12" fill="#f59e0b"/>'
        f'<text x="346" y="{y + 10}" class="bar-note">idle</text></svg>'
    )
    return Markup("".join(out))


def _history_chart(points: Sequence[HistoryPoint], width: int = 640) -> Markup | None:
    """Score over time per cluster, findings as a second line."""
    if len(points) < 2:
        return None
    times = sorted({p.scanned_at for p in points})
    clusters = sorted({p.cluster for p in points})
    height = 200
    left, right, top, bottom = 40, width - 20, 16, height - 36
    most = max((p.findings for p in points), default=1) or 1

    def x(t: str) -> float:
        i = times.index(t)
        return left + (right - left) * (i / (len(times) - 1) if len(times) > 1 else 0.5)

    palette = ("#6366f1", "#0891b2", "#16a34a", "#d97706", "#dc2626", "#7c3aed")
    out = [
        f'<svg class="chart history" viewBox="0 0 {width} {height}" role="img" '
        'aria-label="score and findings over time">',
        f'<line x1="{left}" y1="{bottom}" x2="{right}" y2="{bottom}" stroke="#cbd5e1"/>',
        f'<text x="0" y="{top + 4}" class="bar-note">100</text>'
        f'<text x="8" y="{bottom}" class="bar-note">0</text>',
    ]
    for n, cluster in enumerate(clusters):
        color = palette[n % len(palette)]
        series = sorted((p for p in points if p.cluster == cluster), key=lambda p: p.scanned_at)
        scored = [p for p in series if p.score is not None]
        if scored:
            path = " ".join(
                f"{x(p.scanned_at):.1f},{bottom - (bottom - top) * (p.score or 0) / 100:.1f}"
                for p in scored
            )
            out.append(
                f'<polyline points="{path}" fill="none" stroke="{color}" stroke-width="2.5"/>'
            )
        found = " ".join(
            f"{x(p.scanned_at):.1f},{bottom - (bottom - top) * p.findings / most:.1f}"
            for p in series
        )
        out.append(
            f'<polyline points="{found}" fill="none" stroke="{color}" stroke-width="1.5" '
            'stroke-dasharray="4 3"/>'
        )
        for p in series:
            cy = bottom - (bottom - top) * (p.score or 0) / 100
            out.append(
                f'<circle cx="{x(p.scanned_at):.1f}" cy="{cy:.1f}" r="3" fill="{color}">'
                f"<title>{_x(cluster)} {p.scanned_at}: score "
                f"{'-' if p.score is None else p.score}, {p.findings} findings, "
                f"{p.nodes} nodes</title></circle>"
            )
        out.append(
            f'<text x="{left + 120 * n}" y="{height - 6}" class="bar-note" fill="{color}">'
            f"● {_x(cluster)}</text>"
        )
    out.append(
        f'<text x="{right}" y="{height - 6}" text-anchor="end" class="bar-note">'
        f"solid: score · dashed: findings (max {most})</text></svg>"
    )
    return Markup("".join(out))


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def visible(text: str) -> str:
    """Control characters (a terminal escape sequence in a hostile name) written as `\\x1b`,
    never passed to the page."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def _x(text: str) -> str:
    """Text escaped for SVG and HTML."""
    return (
        visible(text)
        .replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
    )


# ---------------------------------------------------------------- view model


@dataclass(frozen=True, slots=True)
class _CellView:
    distinct: int
    split: bool
    majority: str | None
    outliers: list[str]
    more: int
    values: list[tuple[str, int]]


@dataclass(frozen=True, slots=True)
class _PoolView:
    name: str
    nodes: int
    gpu: bool
    cells: list[_CellView | None]
    drifting: bool
    not_compared: str | None


@dataclass(frozen=True, slots=True)
class _GpuRow:
    pool: str
    product: str
    nodes: int
    gpus: str
    requested: str
    idle: float
    idle_text: str
    price: str
    monthly: str
    cost: float


def _cell(cell: Cell | None) -> _CellView | None:
    if cell is None:
        return None
    return _CellView(
        distinct=cell.distinct,
        split=cell.split,
        majority=cell.majority,
        outliers=cell.outliers[:MAX_OUTLIERS],
        more=max(0, len(cell.outliers) - MAX_OUTLIERS),
        values=sorted(cell.values.items(), key=lambda kv: -kv[1]),
    )


def _gpu_rows(cost: CostSection) -> list[_GpuRow]:
    multi = len(cost.clusters) > 1
    rows = [
        _GpuRow(
            pool=f"{c.cluster}/{p.pool}" if multi else p.pool,
            product=(p.product or "-").replace("NVIDIA-", ""),
            nodes=p.nodes,
            gpus=f"{p.gpus:g}",
            requested=f"{p.requested:g}",
            idle=p.idle,
            idle_text=f"{p.idle:g}",
            price="-"
            if p.usd_per_gpu_hour is None
            else money(p.usd_per_gpu_hour, cost.currency, 2),
            monthly=money(p.idle_monthly_cost, cost.currency)
            + (f" (+{p.unpriced_idle_gpus:g} unpriced)" if p.unpriced_idle_gpus else ""),
            cost=p.idle_monthly_cost,
        )
        for c in cost.clusters
        for p in c.pools
    ]
    rows.sort(key=lambda r: (-r.cost, -r.idle, r.pool))
    return rows


def _drift(section: DriftSection | None) -> dict[str, Any] | None:
    if section is None or not (
        section.pools or section.cross or section.components or section.policies
    ):
        return None
    columns = [
        c
        for c in section.columns
        if c != "zone"
        and any((p.cells.get(c) or Cell(distinct=1)).distinct > 1 for p in section.pools)
    ]
    multi = len({p.cluster for p in section.pools}) > 1
    rows = []
    for p in section.pools:
        cells = [_cell(p.cells.get(c)) for c in columns]
        rows.append(
            _PoolView(
                name=f"{p.cluster}/{p.pool}" if multi else p.pool,
                nodes=p.nodes,
                gpu=p.gpu,
                cells=cells,
                drifting=any(cell is not None and cell.distinct > 1 for cell in cells),
                not_compared=p.not_compared,
            )
        )
    rows.sort(key=lambda r: (not r.drifting, r.name))
    clusters = sorted(
        {p.cluster for p in section.pools}
        | {c for r in section.cross for c in r.values}
        | {c for r in section.components for c in r.versions}
        | {c for r in section.policies for c in r.states}
    )
    return {
        "columns": columns,
        "rows": rows,
        "cross": section.cross,
        "components": section.components,
        "policies": section.policies,
        "clusters": clusters,
        "baseline": section.baseline,
        "baseline_deviations": section.baseline_deviations,
    }


def _prose(text: str) -> str:
    """Text wrapped in the source, as paragraphs the browser wraps itself."""
    return "\n\n".join(" ".join(p.split()) for p in text.split("\n\n"))


def money(amount: float, currency: str, decimals: int = 0) -> str:
    """An amount as the report writes it: `$66,325`, `EUR 1,200`."""
    symbol = "$" if currency == "USD" else f"{currency} "
    return f"{symbol}{amount:,.{decimals}f}"


def _findings_data(report: Report, rules: Rules) -> bytes:
    """The findings as compact JSON rows the page's script reads (and the rules they refer
    to), `<` escaped so that no text can close the script element."""
    files = input_files(report)
    checks = sorted({f.check for f in report.findings})
    check_index = {c: i for i, c in enumerate(checks)}
    clusters = sorted({f.cluster for f in report.findings})
    cluster_index = {c: i for i, c in enumerate(clusters)}
    severities = [s.value for s in Severity]
    rows = []
    for f in report.findings:
        s = f.subject
        at = None
        if s.file and s.file in files:
            at = short_path(s.file) + (f":{s.line}" if s.line else "")
        rows.append(
            (
                severities.index(f.severity.value),
                check_index[f.check],
                cluster_index[f.cluster],
                s.namespace or "",
                s.kind,
                s.name,
                s.path or "",
                at or "",
                f.message,
                f.evidence or None,
                f.fingerprint,
            )
        )
    described = {}
    for c in checks:
        rule = rules.get(c)
        described[c] = {
            "title": rule.title if rule else c,
            "category": rule.category if rule else "other",
            "why": _prose(rule.why) if rule else "",
            "fix": rule.fix if rule else "",
            "refs": list(rule.references) if rule else [],
        }
    data = {
        "severities": severities,
        "checks": checks,
        "clusters": clusters,
        "rules": described,
        "rows": rows,
    }
    return json_bytes(data).replace(b"<", b"\\u003c")


def context(report: Report, rules: Rules, history: Sequence[HistoryPoint] = ()) -> dict[str, Any]:
    scores = report.scores
    counts = Counter(f.severity for f in report.findings)
    cost = report.sections.gpu_cost
    gpu_rows = _gpu_rows(cost) if cost is not None else []
    idle = sum(c.idle for c in cost.clusters) if cost else 0.0
    gpus = sum(c.gpus for c in cost.clusters) if cost else 0.0
    categories = [(c.category, c.score, f"{c.failed}/{c.checks} failed") for c in scores.categories]
    diagnostics = sorted(
        report.diagnostics, key=lambda d: {"error": 0, "warning": 1}.get(d.level, 2)
    )
    return {
        "report": report,
        "title": "plumbob report — " + ", ".join(inv.cluster for inv in report.clusters),
        "scores": scores,
        "score_color": _score_color(
            None if scores.overall is None else min(scores.overall, scores.coverage)
        ),
        "counts": [(s.value, counts[s], SEVERITY_COLOR[s]) for s in Severity],
        "total": len(report.findings),
        "idle_cost": money(cost.idle_monthly_cost, cost.currency) if cost else None,
        "idle": f"{idle:g}",
        "gpus": f"{gpus:g}",
        "cost": cost,
        "gpu_rows": gpu_rows,
        "gauge": _gauge(scores.overall, scores.coverage),
        "category_chart": _bars(categories) if categories else None,
        "severity_chart": _severity_bar(counts),
        "gpu_chart": _gpu_bars(cost) if cost else None,
        "history_chart": _history_chart(history),
        "history": sorted(history, key=lambda p: (p.cluster, p.scanned_at)),
        "drift": _drift(report.sections.drift),
        "inputs": report.inputs,
        "not_visible": report.not_visible,
        "errors": sum(1 for d in report.diagnostics if d.level == Level.ERROR),
        "warnings": sum(1 for d in report.diagnostics if d.level == Level.WARNING),
        "diagnostics": diagnostics[:MAX_DIAGNOSTICS],
        "diagnostics_more": max(0, len(diagnostics) - MAX_DIAGNOSTICS),
        "checks_not_visible": sum(1 for r in report.checks if r.status == "not-visible"),
        "data": Markup(_findings_data(report, rules).decode("utf-8")),
        "script": Markup(asset("report.js")),
        "style": Markup(asset("report.css")),
    }


def asset(name: str) -> str:
    """A bundled file of the report (its styles, its script), as text."""
    return (resources.files("plumbob.render") / "templates" / name).read_text(encoding="utf-8")


def finalize(value: Any) -> Any:
    """Every `{{ }}` value of the page: text with control characters made visible; markup
    built here is left alone."""
    if isinstance(value, str) and not isinstance(value, Markup):
        return visible(value)
    return value


@functools.cache
def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("plumbob.render", "templates"),
        autoescape=select_autoescape(("html", "j2")),
        trim_blocks=True,
        lstrip_blocks=True,
        finalize=finalize,
    )


def document(report: Report, rules: Rules, history: Sequence[HistoryPoint] = ()) -> str:
    template = _environment().get_template("report.html.j2")
    return template.render(**context(report, rules, history))


def render(
    report: Report, out: TextIO, *, rules: Rules, history: Sequence[HistoryPoint] = ()
) -> None:
    out.write(document(report, rules, history))
