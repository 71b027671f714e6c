"""Scores per category and overall, 0-100.

For each check that ran on a cluster and found something:

    penalty = WEIGHT[severity] * (0.3 + 0.7 * affected / population)

`affected` is the number of distinct subjects with a finding, `population` the number of
subjects the check looked at (nodes for a node check, workloads for a workload check). A finding
about the whole cluster (subject kind `Cluster`: a missing admission engine, no metrics
pipeline) affects everything, so its share is 1. A category's score is 100 minus the sum of its
checks' penalties (floor 0), averaged over clusters; the overall score is the mean of the
category scores. So one bad namespace in a thousand costs a high-severity check 4.5 points, not
the whole category. Checks that could not run (input not visible) neither add nor remove points;
the report lists them, and subjects a check could not assess (`unseen`) are not in its
population.

Coverage says how much of the scan the score speaks for: the share of check runs assessed, a
run that could assess only some of its subjects counting for that share,

    coverage = sum(assessed share of each run) / runs

so a scan of manifests without nodes, where every node check is not visible, shows its score
next to a low coverage rather than a healthy-looking number alone. With no run assessed at all
there is no score.

The headline cannot contradict the findings: the overall score is capped by the worst severity
found (`CAP`), so a cluster with a high finding never reads as healthy however many checks
passed; `uncapped` keeps the mean and `cappedBy` the severity that lowered it. docs/scoring.md
explains the formula with examples.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping

from plumbob.report.model import CategoryScore, CheckRun, CheckStatus, Finding, Scores, Severity

WEIGHT = {
    Severity.CRITICAL: 30.0,
    Severity.HIGH: 15.0,
    Severity.MEDIUM: 8.0,
    Severity.LOW: 3.0,
    Severity.INFO: 0.0,
}
BASE_SHARE = 0.3
"""Part of a check's weight charged as soon as it fails at all; the rest scales with the share."""

CAP = {
    Severity.CRITICAL: 39,
    Severity.HIGH: 69,
    Severity.MEDIUM: 89,
}
"""The highest overall score a report may show while it holds a finding of that severity: 90 and
above means nothing worse than low was found, 70-89 nothing worse than medium, under 40 a
critical finding. Low and info findings do not cap."""

WHOLE_CLUSTER = "Cluster"
"""Subject kind of findings about the cluster as a whole: they affect every subject."""


def score(
    runs: Iterable[CheckRun],
    findings: Iterable[Finding],
    categories: Mapping[str, str],
    severities: Mapping[str, Severity],
    populations: Mapping[tuple[str, str], int],
    order: Iterable[str] = (),
) -> Scores:
    """`categories`/`severities`: check id -> category/severity; `populations`:
    (check, cluster) -> subjects looked at."""
    affected: dict[tuple[str, str], set[tuple[str, str | None, str]]] = defaultdict(set)
    worst: Severity | None = None
    for f in findings:
        if worst is None or f.severity.rank > worst.rank:
            worst = f.severity
        affected[(f.check, f.cluster)].add((f.subject.kind, f.subject.namespace, f.subject.name))
    penalty: dict[tuple[str, str], float] = defaultdict(float)
    checks: dict[str, set[str]] = defaultdict(set)
    failed: dict[str, set[str]] = defaultdict(set)
    clusters: dict[str, set[str]] = defaultdict(set)
    total = 0
    assessed = 0.0
    for run in runs:
        total += 1
        if run.status in (CheckStatus.NOT_VISIBLE, CheckStatus.ERROR):
            continue
        seen = populations.get((run.check, run.cluster), 0)
        assessed += seen / (seen + run.unseen) if run.unseen else 1.0
        cat = categories[run.check]
        checks[cat].add(run.check)
        clusters[cat].add(run.cluster)
        hit = affected.get((run.check, run.cluster))
        if not hit:
            continue
        failed[cat].add(run.check)
        population = max(populations.get((run.check, run.cluster), 0), len(hit), 1)
        share = 1.0 if any(kind == WHOLE_CLUSTER for kind, _, _ in hit) else len(hit) / population
        penalty[(cat, run.cluster)] += WEIGHT[severities[run.check]] * (
            BASE_SHARE + (1 - BASE_SHARE) * share
        )
    ordered = [c for c in order if c in checks] + sorted(set(checks) - set(order))
    cats = []
    for cat in ordered:
        per_cluster = [max(0.0, 100.0 - penalty[(cat, cl)]) for cl in sorted(clusters[cat])]
        cats.append(
            CategoryScore(
                category=cat,
                score=round(sum(per_cluster) / len(per_cluster)),
                checks=len(checks[cat]),
                failed=len(failed[cat]),
            )
        )
    mean = round(sum(c.score for c in cats) / len(cats)) if cats else None
    overall, capped_by = capped(mean, worst)
    return Scores(
        overall=overall,
        uncapped=mean if capped_by is not None else None,
        capped_by=capped_by,
        coverage=coverage_percent(assessed, total),
        assessed=round(assessed, 2),
        runs=total,
        categories=cats,
    )


def coverage_percent(assessed: float, runs: int) -> int:
    """0-100, rounded down so that a scan missing anything never shows 100."""
    if not runs:
        return 0
    return int(100 * assessed / runs) if assessed < runs else 100


def capped(mean: int | None, worst: Severity | None) -> tuple[int | None, Severity | None]:
    """The overall score under the cap of the worst severity found, and that severity when the
    cap lowered the mean (None otherwise)."""
    limit = CAP.get(worst) if worst is not None else None
    if mean is None or limit is None or mean <= limit:
        return mean, None
    return limit, worst
