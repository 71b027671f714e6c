"""The score formula: severity weight x (base + share of subjects affected), per category."""

from __future__ import annotations

import pytest

from plumbob.report.model import CheckRun, CheckStatus, Finding, Severity, Subject
from plumbob.report.scoring import BASE_SHARE, CAP, WEIGHT, capped, score

CATEGORIES = {
    "a-high": "gpu",
    "b-medium": "gpu",
    "c-info": "cost",
    "d-cluster": "policy",
    "e-low": "images",
}
SEVERITIES = {
    "a-high": Severity.HIGH,
    "b-medium": Severity.MEDIUM,
    "c-info": Severity.INFO,
    "d-cluster": Severity.MEDIUM,
    "e-low": Severity.LOW,
}


def finding(check: str, name: str, *, cluster: str = "c1", kind: str = "Node") -> Finding:
    return Finding(
        check=check,
        severity=SEVERITIES[check],
        category=CATEGORIES[check],
        title=check,
        cluster=cluster,
        subject=Subject(kind=kind, name=name),
        message="m",
        fingerprint=f"{check}-{name}",
    )


def run(check: str, status: CheckStatus = CheckStatus.FAILED, cluster: str = "c1") -> CheckRun:
    return CheckRun(check=check, cluster=cluster, status=status)


def by_category(scores) -> dict[str, int]:  # type: ignore[no-untyped-def]
    return {c.category: c.score for c in scores.categories}


def test_nothing_found_scores_100() -> None:
    result = score(
        [run("a-high", CheckStatus.PASSED)], [], CATEGORIES, SEVERITIES, {("a-high", "c1"): 10}
    )
    assert result.overall == 100
    assert by_category(result) == {"gpu": 100}


def test_penalty_scales_with_share_of_subjects() -> None:
    one = score(
        [run("a-high")], [finding("a-high", "n1")], CATEGORIES, SEVERITIES, {("a-high", "c1"): 1000}
    )
    half = score(
        [run("a-high")],
        [finding("a-high", f"n{i}") for i in range(500)],
        CATEGORIES,
        SEVERITIES,
        {("a-high", "c1"): 1000},
    )
    every = score(
        [run("a-high")],
        [finding("a-high", f"n{i}") for i in range(1000)],
        CATEGORIES,
        SEVERITIES,
        {("a-high", "c1"): 1000},
    )
    # One subject in a thousand costs only the base part of the weight.
    assert by_category(one)["gpu"] == round(100 - WEIGHT[Severity.HIGH] * (BASE_SHARE + 0.7 / 1000))
    assert by_category(one)["gpu"] == 95
    assert by_category(half)["gpu"] == round(100 - 15 * (0.3 + 0.7 * 0.5))
    assert by_category(every)["gpu"] == 85
    assert by_category(one)["gpu"] > by_category(half)["gpu"] > by_category(every)["gpu"]


def test_same_subject_twice_counts_once() -> None:
    twice = score(
        [run("a-high")],
        [finding("a-high", "n1"), finding("a-high", "n1")],
        CATEGORIES,
        SEVERITIES,
        {("a-high", "c1"): 2},
    )
    once = score(
        [run("a-high")], [finding("a-high", "n1")], CATEGORIES, SEVERITIES, {("a-high", "c1"): 2}
    )
    assert twice == once


@pytest.mark.parametrize(
    ("check", "expected"), [("a-high", 85), ("b-medium", 92), ("e-low", 97), ("c-info", 100)]
)
def test_severity_weights(check: str, expected: int) -> None:
    result = score([run(check)], [finding(check, "n1")], CATEGORIES, SEVERITIES, {(check, "c1"): 1})
    assert by_category(result)[CATEGORIES[check]] == expected


def test_checks_add_up_and_floor_at_zero() -> None:
    findings = [finding("a-high", "n1"), finding("b-medium", "n1")]
    result = score(
        [run("a-high"), run("b-medium")],
        findings,
        CATEGORIES,
        SEVERITIES,
        {("a-high", "c1"): 1, ("b-medium", "c1"): 1},
    )
    assert by_category(result)["gpu"] == 100 - 15 - 8
    many = [f"x{i}" for i in range(5)]
    cats = {**CATEGORIES, **dict.fromkeys(many, "gpu")}
    sev = {**SEVERITIES, **dict.fromkeys(many, Severity.CRITICAL)}
    runs = [run(c) for c in many]
    found = [
        Finding(
            check=c,
            severity=Severity.CRITICAL,
            category="gpu",
            title=c,
            cluster="c1",
            subject=Subject(kind="Node", name="n"),
            message="m",
            fingerprint=c,
        )
        for c in many
    ]
    floored = score(runs, found, cats, sev, {(c, "c1"): 1 for c in many})
    assert by_category(floored)["gpu"] == 0


def test_whole_cluster_finding_has_full_share() -> None:
    result = score(
        [run("d-cluster")],
        [finding("d-cluster", "c1", kind="Cluster")],
        CATEGORIES,
        SEVERITIES,
        {("d-cluster", "c1"): 500},
    )
    assert by_category(result)["policy"] == 100 - 8


def test_not_visible_and_error_runs_do_not_count() -> None:
    result = score(
        [run("a-high", CheckStatus.NOT_VISIBLE), run("e-low", CheckStatus.ERROR)],
        [],
        CATEGORIES,
        SEVERITIES,
        {},
    )
    assert result.categories == []
    assert result.overall is None  # nothing assessed: no score, not a perfect one
    assert (result.coverage, result.assessed, result.runs) == (0, 0, 2)


def test_coverage_counts_partly_assessed_runs_by_their_share() -> None:
    runs = [
        run("a-high", CheckStatus.PASSED),
        run("b-medium", CheckStatus.NOT_VISIBLE),
        CheckRun(check="e-low", cluster="c1", status=CheckStatus.PASSED, unseen=3),
        run("d-cluster", CheckStatus.PASSED),
    ]
    result = score(runs, [], CATEGORIES, SEVERITIES, {("e-low", "c1"): 1})
    # a-high and d-cluster whole, e-low one node of four, b-medium nothing: 2.25 of 4
    assert (result.assessed, result.runs, result.coverage) == (2.25, 4, 56)
    assert result.overall == 100


def test_coverage_is_never_rounded_up_to_complete() -> None:
    runs = [run("a-high", CheckStatus.PASSED, cluster=f"c{i}") for i in range(999)]
    runs.append(run("a-high", CheckStatus.NOT_VISIBLE, cluster="c999"))
    assert score(runs, [], CATEGORIES, SEVERITIES, {}).coverage == 99


def test_clusters_are_averaged_and_overall_is_mean_of_categories() -> None:
    runs = [
        run("a-high", cluster="c1"),
        run("a-high", CheckStatus.PASSED, cluster="c2"),
        run("e-low", CheckStatus.PASSED),
    ]
    result = score(
        runs,
        [finding("a-high", "n1", cluster="c1")],
        CATEGORIES,
        SEVERITIES,
        {("a-high", "c1"): 1, ("a-high", "c2"): 1},
        order=("gpu", "images"),
    )
    assert by_category(result) == {"gpu": round((85 + 100) / 2), "images": 100}
    assert [c.category for c in result.categories] == ["gpu", "images"]
    # the mean of the categories, 96, is capped at 69 by the high finding
    assert (result.overall, result.uncapped, result.capped_by) == (69, 96, Severity.HIGH)
    gpu = result.categories[0]
    assert (gpu.checks, gpu.failed) == (1, 1)


def test_deterministic() -> None:
    findings = [finding("a-high", f"n{i}") for i in range(7)] + [finding("e-low", "x")]
    runs = [run("a-high"), run("e-low")]
    pops = {("a-high", "c1"): 20, ("e-low", "c1"): 3}
    first = score(runs, findings, CATEGORIES, SEVERITIES, pops)
    second = score(list(reversed(runs)), list(reversed(findings)), CATEGORIES, SEVERITIES, pops)
    assert first == second


def test_headline_is_capped_by_the_worst_severity_found() -> None:
    """One high finding among a thousand healthy subjects: categories stay near 100, the
    headline cannot read as healthy."""
    pops = {("a-high", "c1"): 1000, ("e-low", "c1"): 10, ("b-medium", "c1"): 10}
    high = score([run("a-high")], [finding("a-high", "n1")], CATEGORIES, SEVERITIES, pops)
    assert by_category(high) == {"gpu": 95}
    assert (high.overall, high.uncapped, high.capped_by) == (CAP[Severity.HIGH], 95, Severity.HIGH)
    medium = score([run("b-medium")], [finding("b-medium", "n1")], CATEGORIES, SEVERITIES, pops)
    assert (medium.overall, medium.capped_by) == (CAP[Severity.MEDIUM], Severity.MEDIUM)
    low = score([run("e-low")], [finding("e-low", "n1")], CATEGORIES, SEVERITIES, pops)
    assert (low.overall, low.uncapped, low.capped_by) == (by_category(low)["images"], None, None)


@pytest.mark.parametrize(
    ("mean", "worst", "expected"),
    [
        (100, Severity.CRITICAL, (39, Severity.CRITICAL)),
        (30, Severity.CRITICAL, (30, None)),
        (90, Severity.HIGH, (69, Severity.HIGH)),
        (90, Severity.MEDIUM, (89, Severity.MEDIUM)),
        (89, Severity.MEDIUM, (89, None)),
        (100, Severity.LOW, (100, None)),
        (100, Severity.INFO, (100, None)),
        (100, None, (100, None)),
        (None, Severity.HIGH, (None, None)),
    ],
)
def test_cap_table(mean: int | None, worst: Severity | None, expected: tuple[object, ...]) -> None:
    assert capped(mean, worst) == expected
