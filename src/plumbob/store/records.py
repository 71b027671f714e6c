"""Turn a Report and its snapshots into one ScanRecord per cluster."""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence

import msgspec

from plumbob.drift.attributes import NodeAttributes, snapshot_attributes
from plumbob.model.snapshot import Snapshot
from plumbob.report.model import Report, Severity
from plumbob.report.sections import CostSection, DriftSection, Sections
from plumbob.store.interface import ScanRecord

ROLLUP_VERSION = 1
"""Version of the `rollup` a scan's summary carries; scans stored before it have none."""


def snapshot_digest(snap: Snapshot) -> str:
    """sha256 over the snapshot's objects without their origin (file paths), so the same
    cluster state read from two places has one digest."""
    encoder = msgspec.json.Encoder()
    digest = hashlib.sha256()
    digest.update(encoder.encode(snap.cluster))
    for obj in snap:
        digest.update(encoder.encode(msgspec.structs.replace(obj, origin=None)))
    return digest.hexdigest()


def cluster_report(report: Report, cluster: str) -> Report:
    """The part of a report about one cluster: its inventory, findings, check runs, input
    problems and its rows of the drift and GPU sections. Comparisons across clusters (cross
    rows, components, policies) need the other clusters and stay out. Scores are the scan's:
    a scan of one cluster (one CronJob per cluster) scores that cluster alone."""
    sections = report.sections
    drift = sections.drift
    if drift is not None:
        drift = DriftSection(
            columns=drift.columns,
            pools=[p for p in drift.pools if p.cluster == cluster],
            baseline=drift.baseline,
            baseline_deviations=drift.baseline_deviations,
        )
    cost = sections.gpu_cost
    if cost is not None:
        mine = [c for c in cost.clusters if c.cluster == cluster]
        cost = CostSection(
            currency=cost.currency,
            hours_per_month=cost.hours_per_month,
            price_source=cost.price_source,
            idle_monthly_cost=sum(c.idle_monthly_cost for c in mine),
            clusters=mine,
        )
    return msgspec.structs.replace(
        report,
        not_visible=[n for n in report.not_visible if n.cluster == cluster],
        clusters=[i for i in report.clusters if i.cluster == cluster],
        findings=[f for f in report.findings if f.cluster == cluster],
        checks=[r for r in report.checks if r.cluster == cluster],
        diagnostics=[d for d in report.diagnostics if d.cluster in (None, cluster)],
        sections=Sections(drift=drift, gpu_cost=cost),
    )


def rollup(report: Report, duration_s: float | None = None) -> dict[str, object]:
    """What the dashboard's fleet page and /metrics read of one cluster's scan, computed once
    when the scan is written so that serving never decodes whole reports: severity counts,
    findings per check and severity, drifted nodes per pool and attribute, GPUs and idle cost
    per pool, scores per category."""
    severities = Counter(f.severity.value for f in report.findings)
    by_check: dict[str, Counter[str]] = defaultdict(Counter)
    for f in report.findings:
        by_check[f.check][f.severity.value] += 1
    drift: dict[str, dict[str, int]] = {}
    drifted: set[tuple[str, str]] = set()
    if report.sections.drift is not None:
        for pool in report.sections.drift.pools:
            cells = {a: len(c.outliers) for a, c in pool.cells.items() if c.distinct > 1}
            if cells:
                drift[pool.pool] = cells
            for cell in pool.cells.values():
                if cell.distinct > 1:
                    drifted.update((pool.pool, n) for n in cell.outliers)
    gpus: dict[str, dict[str, object]] = {}
    idle = cost = 0.0
    currency = "USD"
    if report.sections.gpu_cost is not None:
        currency = report.sections.gpu_cost.currency
        for c in report.sections.gpu_cost.clusters:
            idle += c.idle
            cost += c.idle_monthly_cost
            for p in c.pools:
                gpus[p.pool] = {
                    "product": p.product,
                    "allocatable": p.gpus,
                    "requested": p.requested,
                    "idle": p.idle,
                    "idleMonthlyCost": p.idle_monthly_cost,
                }
    return {
        "version": ROLLUP_VERSION,
        "score": report.scores.overall,
        "coverage": report.scores.coverage,
        "categories": {c.category: c.score for c in report.scores.categories},
        "severities": {s.value: severities[s.value] for s in Severity},
        "checks": {check: dict(counts) for check, counts in sorted(by_check.items())},
        "driftedNodes": len(drifted),
        "drift": drift,
        "gpus": gpus,
        "idleGpus": idle,
        "idleMonthlyCost": round(cost, 2),
        "currency": currency,
        "durationSeconds": None if duration_s is None else round(duration_s, 3),
    }


def scan_records(
    report: Report,
    snapshots: Sequence[Snapshot],
    attributes: Mapping[str, Mapping[str, NodeAttributes]] | None = None,
    pool_label: str | None = None,
    duration_s: float | None = None,
) -> list[ScanRecord]:
    """One record per cluster; `duration_s` is how long the whole scan took."""
    out: list[ScanRecord] = []
    inventories = {inv.cluster: inv for inv in report.clusters}
    for snap in snapshots:
        cluster = snap.cluster.name
        attrs = (attributes or {}).get(cluster) or snapshot_attributes(snap, pool_label)
        inv = inventories.get(cluster)
        own = cluster_report(report, cluster)
        summary: dict[str, object] = {
            "inventory": msgspec.to_builtins(inv) if inv is not None else {},
            "scores": msgspec.to_builtins(report.scores),
            "rollup": rollup(own, duration_s),
        }
        out.append(
            ScanRecord(
                cluster=cluster,
                scanned_at=report.generated_at,
                captured_at=snap.captured_at,
                digest=snapshot_digest(snap),
                plumbob_version=report.plumbob_version,
                nodes=tuple(attrs[name] for name in sorted(attrs)),
                findings=tuple(own.findings),
                summary=summary,
                report=own,
            )
        )
    return out
