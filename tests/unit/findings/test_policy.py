"""One finding policy: selection, severity overrides, exemptions and the ignore annotation act
the same on a check's findings and on drift's."""

from __future__ import annotations

from typing import Any

import pytest

from plumbob import engine
from plumbob.checks.registry import Registry
from plumbob.config import Config
from plumbob.drift import DriftAnalysis
from plumbob.findings import Exemption
from plumbob.report.model import CheckStatus, Report, Severity
from tests.conftest import snapshot_of
from tests.unit.drift.helpers import pool_node

REGISTRY = Registry.discover()
TAINT = [{"key": "nvidia.com/gpu", "effect": "NoSchedule"}]
BOTH = {"gpu-node-untainted", "drift:kernel"}


def scan(config: Config, annotation: str | None = None) -> Report:
    """Four GPU nodes of one pool; g3 has another kernel and no taint: it fails a check
    (gpu-node-untainted) and drift (drift:kernel)."""
    nodes: list[dict[str, Any]] = [
        pool_node(f"g{i}", "gpu", gpus=8, driver="550.90.07", taints=TAINT) for i in range(3)
    ]
    odd = pool_node("g3", "gpu", gpus=8, driver="550.90.07", kernel="5.15.0-1")
    if annotation is not None:
        odd["metadata"]["annotations"] = {"plumbob.dev/ignore": annotation}
    nodes.append(odd)
    drift = engine.Analysis("drift", DriftAnalysis().analyse)
    return engine.run([snapshot_of(*nodes)], REGISTRY, config, analyses=[drift])


def found(report: Report) -> dict[str, Severity]:
    return {f.check: f.severity for f in report.findings if f.subject.name == "g3"}


def test_both_fire_without_rules() -> None:
    assert found(scan(Config())).keys() >= BOTH


@pytest.mark.parametrize(
    "annotation",
    ["gpu-node-untainted,drift:kernel", "*", "gpu, drift", "gpu-node-untainted, drift"],
)
def test_the_ignore_annotation_acts_alike(annotation: str) -> None:
    assert not found(scan(Config(), annotation)).keys() & BOTH


@pytest.mark.parametrize(
    "exemptions",
    [
        [Exemption(check="gpu-node-untainted", name="g3"), Exemption(check="drift:kernel")],
        [Exemption(kind="Node", name="g3")],
        [Exemption(check="gpu", cluster="test"), Exemption(check="drift", name="g3")],
    ],
)
def test_exemptions_act_alike(exemptions: list[Exemption]) -> None:
    assert not found(scan(Config(exemptions=exemptions))).keys() & BOTH


@pytest.mark.parametrize(
    "severity",
    [
        {"gpu-node-untainted": Severity.LOW, "drift:kernel": Severity.LOW},
        {"gpu": Severity.LOW, "drift": Severity.LOW},  # by category (drift: also the family)
    ],
)
def test_severity_overrides_act_alike(severity: dict[str, Severity]) -> None:
    got = found(scan(Config(severity=severity)))
    assert got["gpu-node-untainted"] == got["drift:kernel"] == Severity.LOW


def test_the_most_specific_override_wins() -> None:
    config = Config(severity={"gpu": Severity.INFO, "gpu-node-untainted": Severity.CRITICAL})
    assert found(scan(config))["gpu-node-untainted"] == Severity.CRITICAL


def test_selection_acts_alike() -> None:
    report = scan(Config(disable=["gpu-node-untainted", "drift:kernel"]))
    assert not found(report).keys() & BOTH
    assert not {r.check for r in report.checks} & BOTH  # not run, not counted
    only = scan(Config(only=["drift"]))
    assert {r.check.partition(":")[0] for r in only.checks} == {"drift"}


def test_drift_counts_as_check_runs_with_what_it_compared() -> None:
    report = scan(Config())
    runs = {r.check: r for r in report.checks if r.check.startswith("drift:")}
    assert runs["drift:kernel"].status == CheckStatus.FAILED
    assert runs["drift:kernel"].findings == 1
    assert runs["drift:kubelet"].status == CheckStatus.PASSED
    drift = next(c for c in report.scores.categories if c.category == "drift")
    failed = {c for c, r in runs.items() if r.status == CheckStatus.FAILED}
    assert failed == {"drift:kernel", "drift:taints"}  # g3 also lacks the pool's taint
    assert drift.failed == 2 and drift.checks == len(runs)
    # one of four nodes differs, twice: each medium finding costs 8 * (0.3 + 0.7 / 4)
    assert drift.score == round(100 - 2 * 8 * (0.3 + 0.7 / 4))
