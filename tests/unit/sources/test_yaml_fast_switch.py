"""PLUMBOB_YAML_FAST turns the yaml-rs fast path off; with it on or off, every fixture file reads
as the same documents, with the same lines and the same problems."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from plumbob.sources import yamlload
from tests.conftest import REAL, ROOT

pytestmark = pytest.mark.skipif(yamlload.yaml_rs is None, reason="yaml-rs is not installed")

SRC = str(ROOT / "src")


def _corpus() -> list[Path]:
    roots = [ROOT / "tests" / "fixtures", ROOT / "tests" / "checks"]
    if REAL.is_dir():
        roots.append(REAL)
    return sorted(
        p
        for root in roots
        for p in root.rglob("*")
        if p.suffix in (".yaml", ".yml") and p.is_file()
    )


def _read(text: bytes, fast: bool) -> tuple[list[object], list[object]]:
    problems: list[yamlload.YamlError] = []
    docs = list(yamlload.load_documents(text, problems, fast=fast))
    # repr: tells 1 from 1.0 from True, and nan compares equal to itself
    return (
        [(d.index, d.line, repr(d.data), d.item_lines) for d in docs],
        [(p.line, str(p.level), str(p)) for p in problems],
    )


def _took_the_fast_path(text: bytes) -> bool:
    try:
        return yamlload._fast_documents(text) is not None
    except yamlload.YamlError:  # a separator kubectl refuses: named, on either path
        return False


def test_every_fixture_file_reads_the_same_with_the_fast_path_on_and_off() -> None:
    files = _corpus()
    fast = 0
    for path in files:
        text = path.read_bytes()
        assert _read(text, fast=True) == _read(text, fast=False), path
        fast += _took_the_fast_path(text)
    # the comparison means something only if many files took the fast path
    assert fast >= len(files) // 2, f"only {fast} of {len(files)} files took the fast path"


def _fast_in_a_process(value: str | None) -> bool:
    env = {k: v for k, v in os.environ.items() if k != yamlload.FAST_SWITCH}
    env["PYTHONPATH"] = SRC
    if value is not None:
        env[yamlload.FAST_SWITCH] = value
    out = subprocess.run(
        [sys.executable, "-c", "from plumbob.sources import yamlload; print(yamlload.FAST)"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.strip() == "True"


@pytest.mark.parametrize(
    ("value", "on"),
    [(None, True), ("1", True), ("", True), ("0", False), ("off", False), (" False ", False)],
)
def test_the_switch(value: str | None, on: bool) -> None:
    assert _fast_in_a_process(value) is on


def _scan(folder: Path, value: str | None) -> dict[str, object]:
    env = {k: v for k, v in os.environ.items() if k != yamlload.FAST_SWITCH}
    env["PYTHONPATH"] = SRC
    if value is not None:
        env[yamlload.FAST_SWITCH] = value
    out = subprocess.run(
        [sys.executable, "-m", "plumbob", "scan", str(folder), "-q", "--format", "json"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode in (0, 1), out.stderr
    report: dict[str, object] = json.loads(out.stdout)
    for key in ("generatedAt", "timings"):
        report.pop(key, None)
    return report


def test_a_scan_reports_the_same_with_the_fast_path_off() -> None:
    folder = ROOT / "tests" / "fixtures" / "well-configured"
    assert _scan(folder, "0") == _scan(folder, None)
