"""The HTML report opened in headless Chromium (Debian's, driven by Playwright): charts render,
filters change the table, a finding expands to its evidence, why and fix, no console errors,
no request leaves the page. Screenshots are kept in test-artifacts/html/."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from plumbob.render import html
from tests.conftest import CHROMIUM_FLAGS, ROOT, chromium
from tests.unit.render.helpers import demo

ARTIFACTS = ROOT / "test-artifacts" / "html"

try:
    import playwright.sync_api as playwright_api
except ImportError:  # the test extras install it; under CI its absence is a failure
    if os.environ.get("CI"):
        raise
    pytest.skip("playwright is not installed (pip install -e '.[test]')", allow_module_level=True)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    path = chromium()
    with playwright_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(path), args=list(CHROMIUM_FLAGS))
        yield b
        b.close()


@pytest.fixture(scope="module")
def report_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    report, rules = demo()
    path = tmp_path_factory.mktemp("html") / "report.html"
    path.write_text(html.document(report, rules), encoding="utf-8")
    return path


def test_report_works_in_chromium(browser: object, report_file: Path) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 1280, "height": 900})  # type: ignore[attr-defined]
    errors: list[str] = []
    requests: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("request", lambda r: requests.append(r.url))
    page.goto(report_file.as_uri())
    page.screenshot(path=str(ARTIFACTS / "overview.png"), full_page=True)

    # charts render: every SVG chart has a size and drawn marks
    charts = page.locator("svg.chart")
    assert charts.count() >= 4
    for i in range(charts.count()):
        box = charts.nth(i).bounding_box()
        assert box is not None and box["width"] > 50 and box["height"] > 20
    assert page.locator("svg.bars rect").count() >= 18

    report, _ = demo()
    rows = page.locator("#findings-table tbody tr.finding")
    assert rows.count() == min(50, len(report.findings))
    total = len(report.findings)
    assert f"of {total} findings" in page.locator("#status").inner_text()

    # a filter changes the table
    page.select_option("select[name=severity]", "high")
    high = sum(1 for f in report.findings if f.severity.value == "high")
    assert rows.count() == high
    assert f"of {high} findings (filtered from {total})" in page.locator("#status").inner_text()
    page.select_option("select[name=check]", "gpu-node-untainted")
    assert rows.count() == 1
    page.select_option("select[name=check]", "")
    page.select_option("select[name=severity]", "")
    page.select_option("select[name=category]", "drift")
    assert rows.count() == sum(1 for f in report.findings if f.category == "drift")
    page.select_option("select[name=category]", "")
    page.fill("input[name=text]", "whisper")
    whisper = sum(1 for f in report.findings if "whisper" in f"{f.subject.name} {f.message}")
    playwright_api.expect(rows).to_have_count(whisper)  # polls: the text filter waits 150 ms
    assert all("whisper" in rows.nth(i).inner_text() for i in range(rows.count()))
    page.click("button[type=reset]")
    playwright_api.expect(rows).to_have_count(min(50, total))

    # a finding expands to its evidence, why and fix
    first = rows.first
    first.locator("button.expand").click()
    detail = page.locator("#findings-table tbody tr.detail")
    assert detail.count() == 1
    text = detail.inner_text()
    assert "Why it matters" in text and "How to fix" in text and "fingerprint" in text
    assert first.locator("button.expand").get_attribute("aria-expanded") == "true"
    page.screenshot(path=str(ARTIFACTS / "expanded.png"), full_page=False)

    # the drift matrix opens to its outlier nodes
    cell = page.locator("table.matrix details").first
    cell.locator("summary").click()
    assert "outlier nodes" in cell.inner_text()

    assert errors == []
    assert all(u.startswith(("file:", "data:")) for u in requests), requests
    page.close()
