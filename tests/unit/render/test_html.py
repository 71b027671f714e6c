"""The HTML report as a file: self-contained, no network, what was not seen first, text from
the cluster escaped, every finding in its data block."""

from __future__ import annotations

import json
import re

import msgspec

from plumbob.render import html
from plumbob.render.interface import HistoryPoint
from plumbob.report.model import Subject
from tests.unit.render.helpers import demo, idle_cost


def data_of(page: str) -> dict[str, object]:
    block = re.search(
        r'<script type="application/json" id="plumbob-data">(.*?)</script>', page, re.S
    )
    assert block is not None
    return json.loads(block.group(1))


def test_self_contained_and_offline() -> None:
    report, rules = demo()
    page = html.document(report, rules)
    assert "Content-Security-Policy" in page and "default-src 'none'" in page
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)
    assert '<link rel="stylesheet"' not in page and "<script src" not in page
    assert page.count("<svg") >= 4  # gauge, severity bar, categories, GPUs per pool


def test_not_seen_comes_first_then_score_with_coverage() -> None:
    report, rules = demo()
    page = html.document(report, rules)
    score = f"Score {report.scores.overall}/100"
    assert page.index("What this report did not see") < page.index(score)
    assert "gpu-allocated-idle" in page[: page.index('id="overview"')]
    assert report.scores.capped_by is not None
    assert f"capped by {report.scores.capped_by.value} findings" in page
    assert f"Coverage <b>{report.scores.coverage}%</b>" in page
    assert idle_cost(report)[2] in page


def test_every_finding_is_in_the_data_with_its_rule() -> None:
    report, rules = demo()
    data = data_of(html.document(report, rules))
    rows = data["rows"]
    assert isinstance(rows, list) and len(rows) == len(report.findings)
    checks = data["checks"]
    assert isinstance(checks, list)
    described = data["rules"]
    assert isinstance(described, dict)
    for row, finding in zip(rows, report.findings, strict=True):
        assert checks[row[1]] == finding.check and row[5] == finding.subject.name
        assert described[finding.check]["fix"]


def test_text_from_the_cluster_cannot_close_the_script_or_inject_markup() -> None:
    report, rules = demo()
    evil = msgspec.structs.replace(
        report.findings[0],
        message="</script><script>alert(1)</script>",
        subject=Subject(kind="Node", name="<img src=x onerror=alert(1)>"),
    )
    inventory = msgspec.structs.replace(report.clusters[0], cluster="<b>c</b>")
    page = html.document(
        msgspec.structs.replace(report, findings=[evil], clusters=[inventory]), rules
    )
    assert "<script>alert(1)" not in page and "<img src=x" not in page
    assert "&lt;b&gt;c&lt;/b&gt;" in page
    assert data_of(page)["rows"][0][8] == "</script><script>alert(1)</script>"


def test_drift_matrix_lists_outliers_per_cell_and_history_draws() -> None:
    report, rules = demo()
    history = [
        HistoryPoint("demo-ai-platform", f"2026-01-0{i}T00:00:00Z", 60 + i, 30 - i, 48)
        for i in range(1, 5)
    ]
    page = html.document(report, rules, history)
    matrix = page[
        page.index('class="matrix"') : page.index("</table>", page.index('class="matrix"'))
    ]
    assert "ip-10-0-147-189.us-west-2.compute.internal" in matrix
    assert "majority: <code>550.127.05</code>" in matrix
    assert 'class="chart history"' in page and "4 scans" in page
    assert 'id="history"' not in html.document(report, rules)
