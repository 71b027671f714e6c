"""One parametrized test over tests/checks/<category>/<check-id>/: every `trigger-*` file makes the
check fire, every `clean-*` file does not; `expected.yaml` pins exact subjects. A `*.real` file
holds the path of a file under the shared real fixtures (skipped when they are absent)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from plumbob import engine
from plumbob.checks.registry import Registry
from plumbob.report.model import CheckStatus, Finding, Level
from plumbob.sources.files import FileSource
from tests.conftest import REAL

HERE = Path(__file__).parent
REGISTRY = Registry.discover()
TODAY = "2026-12-01"
"""The day support windows are judged on (option `today` of kubernetes-version-eol and
api-version-removed), so fixtures keep their meaning as Kubernetes releases age."""
CASES = sorted(p for p in HERE.glob("*/*/*") if p.name.startswith(("trigger-", "clean-")))


def findings_for(check_id: str, path: Path) -> list[Finding]:
    if path.suffix == ".real":
        target = REAL / path.read_text().strip()
        if not target.exists():
            pytest.skip(f"real fixture {target} absent")
        path = target
    loaded = FileSource((path,), cluster="fixture").load()
    config = engine.Config(only=[check_id], options={check_id: {"today": TODAY}})
    report = engine.run(loaded.snapshots, REGISTRY, config)
    errors = [d for d in report.diagnostics if d.level == Level.ERROR]
    assert not errors, [str(d) for d in errors]
    runs = [r for r in report.checks if r.check == check_id]
    # A clean case must be a pass, not a check that could not see its input (or crashed).
    assert runs and all(r.status in (CheckStatus.PASSED, CheckStatus.FAILED) for r in runs), [
        (r.status, r.reason) for r in runs
    ]
    return [f for f in report.findings if f.check == check_id]


@pytest.mark.parametrize("case", CASES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_fixture(case: Path) -> None:
    check_id = case.parent.name
    assert check_id in REGISTRY, f"fixture folder {case.parent} names no check"
    found = findings_for(check_id, case)
    if case.name.startswith("trigger-"):
        assert found, f"{check_id} did not fire on {case.name}"
        expected_file = case.parent / "expected.yaml"
        if expected_file.exists():
            expected = yaml.safe_load(expected_file.read_text()).get(case.name)
            if expected is not None:
                got = sorted(
                    f"{f.subject.kind}/{f.subject.namespace or ''}/{f.subject.name}" for f in found
                )
                assert got == sorted(expected)
    else:
        assert not found, [f.message for f in found]
