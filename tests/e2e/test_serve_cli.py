"""`plumbob serve` refuses what it cannot use with one line and exit 2, before listening."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT


def plumbob(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "plumbob", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
    )


def _one_line(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    lines = [ln for ln in done.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, done.stderr
    return lines[0]


def test_a_store_that_does_not_exist(tmp_path: Path) -> None:
    line = _one_line(plumbob("serve", "--store", str(tmp_path / "none.sqlite")))
    assert "none.sqlite: no scan history here yet" in line
    assert not (tmp_path / "none.sqlite").exists()


def test_a_token_file_that_cannot_be_used(tmp_path: Path) -> None:
    missing = _one_line(plumbob("serve", "--token-file", str(tmp_path / "token")))
    assert "--token-file" in missing and "cannot read it" in missing
    two = tmp_path / "two"
    two.write_text("secret one\n")
    line = _one_line(plumbob("serve", "--token-file", str(two)))
    assert "expected one token on one line" in line and "secret" not in line


def test_a_stale_after_that_is_not_a_duration() -> None:
    assert "--stale-after 'soon'" in _one_line(plumbob("serve", "--stale-after", "soon"))


def test_serve_is_listed_in_help() -> None:
    done = plumbob("--help")
    assert "  serve " in done.stdout and "Serve the fleet dashboard" in done.stdout


def test_scan_store_records_what_the_dashboard_reads(tmp_path: Path) -> None:
    """`plumbob scan --store` writes the cluster's report, its score and coverage columns and
    the rollup with the scan's duration."""
    from plumbob.store import open_store

    path = tmp_path / "h.sqlite"
    done = plumbob("scan", "--demo", "--store", str(path), "-f", "json", "-o", os.devnull)
    assert done.returncode in (0, 1), done.stderr
    store = open_store(str(path), readonly=True)
    ((info, summary),) = store.latest()
    report = store.report(info.id)
    assert report is not None and [c.cluster for c in report.clusters] == [info.cluster]
    assert len(report.findings) == info.findings
    assert info.score == report.scores.overall and info.coverage == report.scores.coverage
    rollup = summary["rollup"]
    assert isinstance(rollup, dict)
    assert 0 < rollup["durationSeconds"] < 120
    assert sum(rollup["severities"].values()) == info.findings
    assert rollup["idleGpus"] == 12.0  # the demo's idle GPUs
    store.close()
