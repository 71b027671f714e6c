"""A Markdown report for a pull-request comment: score with its coverage, what was not seen,
findings by severity, idle GPU cost, the top findings with where and how to fix, and what was
cut, under GitHub's 65,536-character limit for a comment body."""

from __future__ import annotations

import re
from collections import Counter
from typing import TextIO

from plumbob.render.locate import field_label, input_files, object_label
from plumbob.render.rules import Rules
from plumbob.report.model import Finding, Report, Severity
from plumbob.report.text import shown_line
from plumbob.sources.positions import FieldLocator

MAX_CHARS = 65_536
"""GitHub refuses a comment body longer than this."""
MAX_FINDINGS = 100
"""Findings listed at most; the rest are counted."""
MAX_LISTED = 10
"""Unread files and not-visible reasons listed; the rest are counted."""
_RESERVE = 1_500
"""Room kept for the closing lines (what was cut)."""

_SPECIAL = re.compile(r"([\\`*_{}\[\]|#~])")


def escape(text: str) -> str:
    """Text from the cluster, safe in a table cell: Markdown and HTML characters escaped, line
    breaks and control characters made visible on one line."""
    html = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    escaped = _SPECIAL.sub(r"\\\1", html)
    return shown_line(escaped)


def _code(text: str) -> str:
    """Text in a code span inside a table cell (GFM reads `\\|` there as a pipe)."""
    clean = re.sub(r"[\x00-\x1f\x7f]", "?", text).replace("`", "'").replace("|", "\\|")
    return f"`{clean}`"


def _money(amount: float, currency: str) -> str:
    return f"${amount:,.0f}" if currency == "USD" else f"{currency} {amount:,.0f}"


def headline(report: Report) -> list[str]:
    scores = report.scores
    counts = Counter(f.severity for f in report.findings)
    if scores.overall is None:
        score = "**No score**: nothing could be assessed"
    else:
        score = f"**Score {scores.overall}/100**"
        if scores.capped_by is not None:
            score += f" (capped by {scores.capped_by.value} findings; {scores.uncapped} uncapped)"
    lines = [
        f"## plumbob: {score} · coverage {scores.coverage}% "
        f"({scores.assessed:g} of {scores.runs} check runs assessed)",
        "",
    ]
    severities = ", ".join(
        f"**{counts[s]} {s.value}**" if s.rank >= Severity.HIGH.rank else f"{counts[s]} {s.value}"
        for s in Severity
    )
    summary = f"Findings: {severities}"
    cost = report.sections.gpu_cost
    if cost is not None and cost.clusters:
        idle = sum(c.idle for c in cost.clusters)
        gpus = sum(c.gpus for c in cost.clusters)
        summary += (
            f" · idle GPUs: {idle:g} of {gpus:g}, ≈ "
            f"{_money(cost.idle_monthly_cost, cost.currency)}/month"
        )
    lines += [summary, ""]
    return lines


def not_seen(report: Report) -> list[str]:
    """What was not seen, before anything else is judged."""
    lines: list[str] = []
    inputs = report.inputs
    if inputs is not None and inputs.files:
        lines.append(f"- Read {inputs.read} of {inputs.files} files")
        lines.extend(
            f"  - not read: {_code(u.path)}: {escape(u.reason or '')}"
            for u in inputs.unread[:MAX_LISTED]
        )
        if len(inputs.unread) > MAX_LISTED:
            lines.append(f"  - and {len(inputs.unread) - MAX_LISTED} more files not read")
    multi = len(report.clusters) > 1
    for nv in report.not_visible[:MAX_LISTED]:
        where = f" on {escape(nv.cluster)}" if multi else ""
        checks = ", ".join(_code(c) for c in nv.checks)
        lines.append(f"- Not assessed{where}: {escape(nv.reason)} ({checks})")
    if len(report.not_visible) > MAX_LISTED:
        lines.append(f"- and {len(report.not_visible) - MAX_LISTED} more reasons")
    if not lines:
        return []
    return ["### Not seen", "", *lines, ""]


def _categories(report: Report) -> list[str]:
    if not report.scores.categories:
        return []
    lines = ["| category | score | checks failed |", "|---|---:|---:|"]
    lines += [
        f"| {c.category} | {c.score} | {c.failed}/{c.checks} |" for c in report.scores.categories
    ]
    return [*lines, ""]


def _row(
    f: Finding, rules: Rules, files: frozenset[str], fixed: set[str], locator: FieldLocator
) -> str:
    where = escape(object_label(f.subject))
    if f.subject.path:
        where += f" {_code(f.subject.path)}"
    at = field_label(f.subject, files, locator)
    if at:
        where += f"<br>{_code(at)}"
    if f.check in fixed:
        fix = "as above"
    else:
        fixed.add(f.check)
        rule = rules.get(f.check)
        fix = (escape(rule.fix_line) + "<br>" if rule and rule.fix_line else "") + _code(
            f"plumbob explain {f.check}"
        )
    return f"| {f.severity.value} | {_code(f.check)} | {where} | {escape(f.message)} | {fix} |"


def document(report: Report, rules: Rules, *, max_chars: int = MAX_CHARS) -> str:
    files = input_files(report)
    parts = [*headline(report), *not_seen(report), *_categories(report)]
    text = "\n".join(parts) + "\n"
    rows: list[str] = []
    fixed: set[str] = set()
    locator = FieldLocator()
    budget = max_chars - _RESERVE - len(text)
    header = [
        "### Findings",
        "",
        "| severity | check | where | finding | fix |",
        "|---|---|---|---|---|",
    ]
    used = sum(len(h) + 1 for h in header)
    shown = 0
    for f in report.findings[:MAX_FINDINGS]:
        row = _row(f, rules, files, fixed, locator)
        if used + len(row) + 1 > budget:
            break
        rows.append(row)
        used += len(row) + 1
        shown += 1
    if rows:
        text += "\n".join([*header, *rows]) + "\n"
    cut = report.findings[shown:]
    if cut:
        by = Counter(f.severity for f in cut)
        counts = ", ".join(f"{by[s]} {s.value}" for s in Severity if by[s])
        text += (
            f"\n{len(cut)} more findings not shown ({counts}): the full list is in the HTML, "
            "JSON or SARIF report (`plumbob scan ... --output html=report.html`).\n"
        )
    elif not report.findings:
        text += "\nNo findings.\n"
    text += f"\n<sub>plumbob {escape(report.plumbob_version)} · {report.generated_at}</sub>\n"
    return text


def render(report: Report, out: TextIO, *, rules: Rules) -> None:
    out.write(document(report, rules))
