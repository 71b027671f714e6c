"""The HTML report at 35,000 findings: how big it is, how long `plumbob scan` takes to write
it, and how fast it opens and filters in headless Chromium (Debian's, driven by Playwright).

    python bench/html_report.py [--findings 35000]

Input: rendered workload manifests (bench/manifests.py, about 1.2 findings each) generated
into .bench/ once, as many as the findings asked for need. Figures are printed as a table.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import manifests
from bench.measure import ROOT

WORK = ROOT / ".bench"
CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
FINDINGS_PER_MANIFEST = 1.17
"""Measured on bench/manifests.py output; the folder is grown until the findings suffice."""


def _all_formats(folder: Path) -> dict[str, float]:
    """One scan writing every file format, its phases from `--timings`, and the sizes."""
    outputs = {
        fmt: WORK / f"report-all.{suffix}"
        for fmt, suffix in (
            ("html", "html"),
            ("json", "json"),
            ("sarif", "sarif"),
            ("junit", "xml"),
            ("markdown", "md"),
        )
    }
    args = [sys.executable, "-m", "plumbob", "scan", str(folder), "-q", "--timings"]
    for fmt, path in outputs.items():
        args += ["--output", f"{fmt}={path}"]
    done = subprocess.run(args, check=True, cwd=ROOT, capture_output=True, text=True)
    phase = re.search(r"writing the report\s+([0-9.]+)", done.stderr)
    out = {"write html+json+sarif+junit+markdown (s)": float(phase.group(1)) if phase else -1.0}
    for fmt, path in outputs.items():
        if fmt != "html":
            out[f"{fmt} size (MiB)"] = path.stat().st_size / 2**20
    return out


def _scan(folder: Path, html: Path, data: Path) -> tuple[float, int]:
    started = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "plumbob",
            "scan",
            str(folder),
            "-q",
            "--output",
            f"html={html}",
            "--output",
            f"json={data}",
        ],
        check=True,
        cwd=ROOT,
    )
    seconds = time.perf_counter() - started
    return seconds, len(json.loads(data.read_bytes())["findings"])


def _browser(html: Path, findings: int) -> dict[str, float]:
    from playwright.sync_api import expect, sync_playwright

    out: dict[str, float] = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        started = time.perf_counter()
        page.goto(html.as_uri(), wait_until="load")
        out["open: load event (s)"] = time.perf_counter() - started
        status = page.locator("#status")
        expect(status).to_contain_text(f"of {findings:,} findings", timeout=60_000)
        out["open: table drawn (s)"] = time.perf_counter() - started
        started = time.perf_counter()
        page.select_option("select[name=severity]", "medium")
        expect(status).to_contain_text("filtered from", timeout=60_000)
        out["filter by severity (s)"] = time.perf_counter() - started
        started = time.perf_counter()
        page.fill("input[name=text]", "team-")
        page.wait_for_timeout(200)
        expect(status).to_contain_text("filtered from", timeout=60_000)
        out["filter by text (s, incl. 150 ms debounce)"] = time.perf_counter() - started
        started = time.perf_counter()
        page.click("#pager button[data-page=last]")
        expect(page.locator("#page")).not_to_contain_text("page 1 of", timeout=60_000)
        out["last page (s)"] = time.perf_counter() - started
        started = time.perf_counter()
        page.locator("#findings-table button.expand").first.click()
        expect(page.locator("tr.detail")).to_have_count(1)
        out["expand a finding (s)"] = time.perf_counter() - started
        cdp = page.context.new_cdp_session(page)
        cdp.send("Performance.enable")
        metrics = cdp.send("Performance.getMetrics")
        values = {m["name"]: m["value"] for m in metrics["metrics"]}
        out["JS heap used (MiB)"] = values.get("JSHeapUsedSize", 0.0) / 2**20
        page.screenshot(path=str(WORK / "html-report-35k.png"))
        browser.close()
    if errors:
        raise SystemExit(f"page errors: {errors}")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--findings", type=int, default=35_000)
    args = parser.parse_args()
    count = int(args.findings / FINDINGS_PER_MANIFEST) + 1
    while True:
        folder = WORK / f"html-manifests-{count}"
        if not folder.is_dir():
            manifests.write(count, folder)
        html, data = WORK / f"report-{count}.html", WORK / f"report-{count}.json"
        seconds, findings = _scan(folder, html, data)
        if findings >= args.findings:
            break
        count = int(count * args.findings / max(findings, 1)) + 100
    size = html.stat().st_size
    figures = {
        "findings": float(findings),
        "manifests scanned": float(count),
        "scan + write HTML and JSON (s)": seconds,
        "HTML size (MiB)": size / 2**20,
        **_browser(html, findings),
        **_all_formats(folder),
    }
    width = max(len(k) for k in figures)
    print(f"HTML report at {findings:,} findings (Chromium {CHROMIUM}, 1280x900)")
    for name, value in figures.items():
        shown = f"{value:,.0f}" if value.is_integer() and value > 100 else f"{value:,.2f}"
        print(f"  {name:<{width}}  {shown:>10}")


if __name__ == "__main__":
    main()
