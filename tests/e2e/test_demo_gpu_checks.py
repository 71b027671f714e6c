"""The GPU checks on the demo fleet: every planted GPU defect is found, and nothing else is."""

from __future__ import annotations

import pytest

from plumbob import engine
from plumbob.checks.registry import Registry
from plumbob.config import Config
from plumbob.report.model import Report
from plumbob.sources.demo import DemoSource, DemoSpec, Planted, planted

REGISTRY = Registry.discover()
GPU_CHECKS = [c.id for c in REGISTRY if c.module.startswith("plumbob.checks.gpu.")]


@pytest.fixture(scope="module")
def gpu_report() -> Report:
    loaded = DemoSource(DemoSpec()).load()
    return engine.run(loaded.snapshots, REGISTRY, Config(only=GPU_CHECKS))


def _gpu_check(item: Planted) -> str | None:
    """The GPU check a planted defect is for: by id or alias, or the gang-scheduling defect,
    whose planted id names the same condition."""
    check = REGISTRY.get(item.check)
    if check is not None:
        return check.id if check.id in GPU_CHECKS else None
    if "gang-scheduler" in item.check:
        return "gpu-training-no-gang-scheduler"
    return None


def test_every_planted_gpu_defect_is_found(gpu_report: Report) -> None:
    found = {(f.check, f.subject.kind, f.subject.name) for f in gpu_report.findings}
    expected = [(c, p.kind, p.name) for p in planted(DemoSpec()) if (c := _gpu_check(p))]
    assert len(expected) >= 5
    missing = [e for e in expected if e not in found]
    assert not missing, missing


def test_gpu_checks_find_nothing_beyond_the_planted_defects(gpu_report: Report) -> None:
    """The rest of the demo is configured well: GPU checks stay quiet on it."""
    expected = {(c, p.kind, p.name) for p in planted(DemoSpec()) if (c := _gpu_check(p))}
    extra = [
        f"{f.check}: {f.message}"
        for f in gpu_report.findings
        if (f.check, f.subject.kind, f.subject.name) not in expected
    ]
    assert not extra, extra


def test_gpu_checks_all_ran(gpu_report: Report) -> None:
    statuses = {run.check: run.status for run in gpu_report.checks}
    assert set(statuses) == set(GPU_CHECKS)
    assert "error" not in statuses.values()
