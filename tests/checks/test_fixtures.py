"""One parametrized test over tests/checks/<category>/<check-id>/: every `trigger-*` file makes the
check fire, every `clean-*` file does not, and every `unseen-*` file leaves it not assessed (not
visible: the input cannot show what the check reads); `expected.yaml` pins exact subjects. A
`*.real` file holds the path of a file under the shared real fixtures (skipped when they are
absent).

A fixture written here (trigger/clean, not `.real`) describes a whole cluster: it is scanned as a
complete capture, where a kind it does not contain has no objects (as in a live capture). Real
files and `unseen-*` fixtures are scanned as a user's files are, where a kind they do not
contain is unseen."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from plumbob import engine
from plumbob.checks.registry import Registry
from plumbob.config import Config
from plumbob.model.snapshot import Snapshot
from plumbob.report.model import CheckStatus, Finding, Level, Report
from plumbob.sources.files import FileSource
from tests.conftest import REAL

HERE = Path(__file__).parent
REGISTRY = Registry.discover()
TODAY = "2026-12-01"
"""The day support windows are judged on (option `today`, given to the checks that take it:
kubernetes-version-eol and api-version-removed), so fixtures keep their meaning as Kubernetes
releases age."""
CASES = sorted(
    p for p in HERE.glob("*/*/*") if p.name.startswith(("trigger-", "clean-", "unseen-"))
)


def report_for(check_id: str, path: Path) -> Report:
    whole_cluster = path.suffix != ".real" and not path.name.startswith("unseen-")
    if path.suffix == ".real":
        target = REAL / path.read_text().strip()
        if not target.exists():
            pytest.skip(f"real fixture {target} absent")
        path = target
    loaded = FileSource((path,), cluster="fixture").load()
    snapshots = loaded.snapshots
    if whole_cluster:
        snapshots = [complete(s) for s in snapshots]
    check = REGISTRY.get(check_id)
    assert check is not None
    options = {check_id: {"today": TODAY}} if "today" in check.options else {}
    report = engine.run(snapshots, REGISTRY, Config(only=[check_id], options=options))
    errors = [
        d for d in report.diagnostics if d.level == Level.ERROR or d.message.startswith("options:")
    ]
    assert not errors, [str(d) for d in errors]
    return report


def complete(snap: Snapshot) -> Snapshot:
    """The snapshot as a complete capture of its cluster (every kind listed)."""
    return Snapshot(
        cluster=snap.cluster,
        objects=snap,
        captured_at=snap.captured_at,
        discovery=snap.discovery,
        not_visible=snap.not_visible,
        source=snap.source,
        gpu_metrics=snap.gpu_metrics,
        captured=None,
    )


def findings_for(check_id: str, path: Path) -> list[Finding]:
    report = report_for(check_id, path)
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
    if case.name.startswith("unseen-"):
        report = report_for(check_id, case)
        runs = [r for r in report.checks if r.check == check_id]
        assert runs and all(r.status == CheckStatus.NOT_VISIBLE and r.reason for r in runs), [
            (r.status, r.reason) for r in runs
        ]
        assert not [f for f in report.findings if f.check == check_id]
        return
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
