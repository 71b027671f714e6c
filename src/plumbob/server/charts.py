"""Inline SVG charts for the dashboard: a score sparkline per cluster and the history charts of
a cluster page. Drawn on the server, so they show without JavaScript; every label escaped."""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

from plumbob.render.html import SEVERITY_COLOR
from plumbob.report.model import Severity
from plumbob.server.views import HistoryRow


def sparkline(values: Sequence[int | None], width: int = 120, height: int = 28) -> Markup:
    """Scores 0-100 over time as a small line; gaps (no score) are skipped."""
    points = [(i, v) for i, v in enumerate(values) if v is not None]
    if not points:
        return Markup('<span class="dim">–</span>')
    span = max(len(values) - 1, 1)
    coords = " ".join(
        f"{2 + (width - 4) * i / span:.1f},{height - 2 - (height - 4) * v / 100:.1f}"
        for i, v in points
    )
    last = points[-1][1]
    return Markup(
        f'<svg class="chart spark" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}" role="img" aria-label="score trend, last {last}">'
        f'<polyline points="{coords}" fill="none" stroke="#6366f1" stroke-width="1.5"/></svg>'
    )


def lines(
    title: str,
    xs: Sequence[str],
    series: Sequence[tuple[str, str, Sequence[float | None]]],
    width: int = 640,
    height: int = 180,
    fixed_max: float | None = None,
    unit: str = "",
) -> Markup:
    """One chart of several series over the same scans: (name, color, values)."""
    left, right, top, bottom = 48, width - 12, 14, height - 34
    values = [v for _, _, vs in series for v in vs if v is not None]
    most = fixed_max if fixed_max is not None else max(values, default=0.0) or 1.0
    span = max(len(xs) - 1, 1)

    def x(i: int) -> float:
        return left + (right - left) * i / span

    def y(v: float) -> float:
        return bottom - (bottom - top) * v / most

    out = [
        f'<svg class="chart history" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(title)}">',
        f'<line x1="{left}" y1="{bottom}" x2="{right}" y2="{bottom}" stroke="#cbd5e1"/>',
        f'<text x="{left - 4}" y="{top + 4}" text-anchor="end" class="bar-note">'
        f"{most:,.0f}{escape(unit)}</text>",
        f'<text x="{left - 4}" y="{bottom}" text-anchor="end" class="bar-note">0</text>',
    ]
    if xs:
        out.append(f'<text x="{left}" y="{height - 18}" class="bar-note">{escape(xs[0])}</text>')
        out.append(
            f'<text x="{right}" y="{height - 18}" text-anchor="end" class="bar-note">'
            f"{escape(xs[-1])}</text>"
        )
    for n, (name, color, vs) in enumerate(series):
        coords = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(vs) if v is not None)
        if coords:
            out.append(
                f'<polyline class="series" points="{coords}" fill="none" stroke="{color}" '
                f'stroke-width="2"><title>{escape(name)}</title></polyline>'
            )
        out.append(
            f'<text x="{left + 110 * n}" y="{height - 4}" class="bar-note" style="fill:{color}">'
            f"● {escape(name)}</text>"
        )
    out.append("</svg>")
    return Markup("".join(out))


def history_charts(rows: Sequence[HistoryRow], currency: str) -> list[tuple[str, Markup]]:
    """Score and coverage, findings by severity, drifted nodes, idle GPU cost per month."""
    xs = [r.scanned_at[:10] for r in rows]
    symbol = "$" if currency == "USD" else f" {currency}"
    return [
        (
            "Score and coverage",
            lines(
                "score and coverage over time",
                xs,
                [
                    ("score", "#16a34a", [r.score for r in rows]),
                    ("coverage", "#6366f1", [r.coverage for r in rows]),
                ],
                fixed_max=100,
            ),
        ),
        (
            "Findings by severity",
            lines(
                "findings by severity over time",
                xs,
                [
                    (s.value, SEVERITY_COLOR[s], [r.severities.get(s.value) for r in rows])
                    for s in Severity
                ],
            ),
        ),
        (
            "Drifted nodes",
            lines(
                "drifted nodes over time",
                xs,
                [("nodes", "#d97706", [r.drifted_nodes for r in rows])],
            ),
        ),
        (
            "Idle GPU cost per month",
            lines(
                "idle GPU cost per month over time",
                xs,
                [("idle cost", "#dc2626", [r.idle_monthly_cost for r in rows])],
                unit=symbol if symbol != "$" else "",
            ),
        ),
    ]
