"""The images, resilience, policy, observability and cost checks on the demo fleet: every planted
defect of these categories is found under its check id, and nothing else is."""

from __future__ import annotations

import pytest

from plumbob import engine
from plumbob.checks.registry import Registry
from plumbob.config import Config
from plumbob.report.model import CheckStatus, Report
from plumbob.sources.demo import DemoSource, DemoSpec, planted

CATEGORIES = ("images", "resilience", "policy", "observability", "cost")
REGISTRY = Registry.discover()
CHECKS = [c.id for c in REGISTRY if c.category in CATEGORIES]


@pytest.fixture(scope="module")
def report() -> Report:
    loaded = DemoSource(DemoSpec()).load()
    return engine.run(loaded.snapshots, REGISTRY, Config(only=CHECKS))


def _expected() -> set[tuple[str, str, str | None, str]]:
    return {
        (p.check, p.kind, p.namespace, p.name) for p in planted(DemoSpec()) if p.check in CHECKS
    }


def test_planted_defects_cover_these_categories() -> None:
    ids = {check for check, _, _, _ in _expected()}
    assert {
        "image-large-pull-always",
        "training-no-checkpoint-volume",
        "gpu-inference-no-pdb",
        "gpu-idle",
        "gpu-node-no-dcgm-exporter",
        "no-admission-policy-engine",
    } <= ids


def test_every_planted_defect_is_found(report: Report) -> None:
    found = {
        (f.check, f.subject.kind, f.subject.namespace, f.subject.name) for f in report.findings
    }
    missing = sorted(_expected() - found, key=str)
    assert not missing, missing


def test_nothing_beyond_the_planted_defects(report: Report) -> None:
    """The rest of the demo is configured well: these checks stay quiet on it."""
    expected = _expected()
    extra = [
        f"{f.check}: {f.message}"
        for f in report.findings
        if (f.check, f.subject.kind, f.subject.namespace, f.subject.name) not in expected
    ]
    assert not extra, extra


def test_idle_gpus_are_priced(report: Report) -> None:
    idle = [f for f in report.findings if f.check == "gpu-idle"]
    assert idle
    for f in idle:
        assert f.evidence["monthly_cost_usd"] > 0
        assert f.evidence["idle_gpus"] > 0
        assert "/month" in f.message


def test_checks_ran_or_said_why_not(report: Report) -> None:
    statuses = {run.check: run for run in report.checks}
    assert set(statuses) == set(CHECKS)
    for run in statuses.values():
        assert run.status != CheckStatus.ERROR, run
        if run.status == CheckStatus.NOT_VISIBLE:
            assert run.reason
