"""`plumbob scan --demo` end to end: every planted defect whose check exists is found."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from plumbob import engine
from plumbob.checks.registry import Registry
from plumbob.report.model import Report
from plumbob.sources.demo import DemoSource, DemoSpec, planted


@pytest.fixture(scope="module")
def demo_report() -> Report:
    loaded = DemoSource(DemoSpec()).load()
    assert not [d for d in loaded.diagnostics if d.level == "error"], loaded.diagnostics
    return engine.run(loaded.snapshots, Registry.discover(), diagnostics=loaded.diagnostics)


def test_planted_defects_are_found(demo_report: Report) -> None:
    registry = Registry.discover()
    found = {(f.check, f.subject.name) for f in demo_report.findings}
    checked = 0
    for item in planted(DemoSpec()):
        if item.check not in registry:
            continue  # drift items and checks of later catalog parts are tested with them
        check = registry.get(item.check)
        assert check is not None
        assert (check.id, item.name) in found, f"planted {item} not found"
        checked += 1
    assert checked >= 4


def test_foundation_checks_have_negatives_in_the_demo(demo_report: Report) -> None:
    """The demo is not uniformly broken: each foundation check passes on most subjects."""
    inv = demo_report.clusters[0]
    untainted = [f for f in demo_report.findings if f.check == "gpu-node-untainted"]
    assert 0 < len(untainted) < inv.gpu_nodes


def test_scan_demo_cli_writes_report(tmp_path: Path) -> None:
    out = tmp_path / "plumbob-report.json"
    result = subprocess.run(
        [sys.executable, "-m", "plumbob", "scan", "--demo", "--report-json", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
        env={"CI": "1", "PATH": "/usr/bin:/bin", "COLUMNS": "120"},
    )
    assert result.returncode == 0, result.stderr
    assert "Score" in result.stdout and "gpu-node-untainted" in result.stdout
    report = json.loads(out.read_text())
    assert report["clusters"][0]["gpuNodes"] > 0
    assert report["clusters"][0]["kubernetesVersion"].startswith("v1.")


def test_demo_is_deterministic(tmp_path: Path) -> None:
    a = tmp_path / "a.json"
    b = tmp_path / "b.json"
    for path in (a, b):
        subprocess.run(
            [
                sys.executable,
                "-m",
                "plumbob",
                "demo",
                "-o",
                str(path),
                "--nodes",
                "12",
                "--pods",
                "100",
                "--seed",
                "3",
                "--quiet",
            ],
            check=True,
            timeout=120,
        )
    assert a.read_bytes() == b.read_bytes()
    result = subprocess.run(
        [sys.executable, "-m", "plumbob", "scan", str(a), "-f", "json"],
        capture_output=True,
        text=True,
        timeout=120,
        env={"CI": "1"},
    )
    assert json.loads(result.stdout)["clusters"][0]["nodes"] == 12
