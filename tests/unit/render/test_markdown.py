"""The pull-request comment: headline, what was not seen, top findings with where and fix,
what was cut, under GitHub's 65,536 characters."""

from __future__ import annotations

import msgspec

from plumbob.render import markdown
from plumbob.report.model import Finding, Subject
from tests.unit.render.helpers import demo, idle_cost


def many(count: int) -> tuple[object, object]:
    report, rules = demo()
    base = report.findings[0]
    long = "x" * 400
    findings = [
        msgspec.structs.replace(
            base,
            subject=Subject(kind="Node", name=f"node-{i}-{long}", path="spec.taints"),
            fingerprint=f"{i}",
        )
        for i in range(count)
    ]
    return msgspec.structs.replace(report, findings=findings), rules


def test_demo_comment_says_what_matters_first() -> None:
    report, rules = demo()
    text = markdown.document(report, rules)
    lines = text.splitlines()
    scores = report.scores
    assert scores.capped_by is not None
    assert lines[0].startswith(
        f"## plumbob: **Score {scores.overall}/100** (capped by {scores.capped_by.value} "
        f"findings; {scores.uncapped} uncapped)"
    )
    assert f"coverage {scores.coverage}%" in lines[0]
    high = sum(1 for f in report.findings if f.severity.value == "high")
    assert f"**{high} high**" in text and idle_cost(report)[2] in text
    assert text.index("### Not seen") < text.index("### Findings")
    assert "`gpu-allocated-idle`" in text
    assert "| high | `gpu-node-untainted` | Node ip-10-0-138-17" in text
    assert "`plumbob explain gpu-node-untainted`" in text
    assert text.count("`plumbob explain gpu-node-no-dcgm-exporter`") == 1  # fix once per check
    assert "more findings not shown" not in text


def test_long_reports_are_cut_under_the_limit_and_say_so() -> None:
    report, rules = many(2_000)
    text = markdown.document(report, rules)
    assert len(text) <= markdown.MAX_CHARS
    shown = text.count("| high | ")
    assert 0 < shown <= markdown.MAX_FINDINGS
    assert f"{2_000 - shown} more findings not shown ({2_000 - shown} high)" in text


def test_cell_text_is_escaped() -> None:
    assert markdown.escape("a|b <script> *x* `y`\n") == r"a\|b &lt;script&gt; \*x\* \`y\`\x0a"
    report, rules = demo()
    evil = Finding(
        check="gpu-node-untainted",
        severity=report.findings[0].severity,
        category="gpu",
        title="t",
        cluster="c",
        subject=Subject(kind="Node", name="n|</table>", path="spec.taints"),
        message="pipe | and <img src=x>",
        fingerprint="f",
    )
    text = markdown.document(msgspec.structs.replace(report, findings=[evil]), rules)
    row = next(line for line in text.splitlines() if line.startswith("| high"))
    assert row.count(" | ") == 4  # five cells: no pipe from the input splits one
    assert "<img" not in row and "</table>" not in row
