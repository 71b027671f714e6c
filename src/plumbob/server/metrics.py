"""`/metrics`: the fleet's latest scans as Prometheus metrics, written by the official client
library (prometheus_client).

Labels are bounded by the fleet, never by its objects: cluster, category, check, severity,
pool and the drift attribute. A node, workload or finding never becomes a label value, so a
cluster with 10,000 nodes adds as many series as one with 10. Every value is a gauge: what the
latest scan found, not a count of events.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from plumbob.server.views import parse_time
from plumbob.store import ScanInfo, SqlStore

PREFIX = "plumbob_"


@dataclass(frozen=True, slots=True)
class Latest:
    """One cluster's latest scan as /metrics reads it."""

    info: ScanInfo
    rollup: dict[str, Any]


def latest(store: SqlStore) -> list[Latest]:
    out = []
    for info, summary in store.latest():
        roll = summary.get("rollup")
        out.append(Latest(info, roll if isinstance(roll, dict) else {}))
    return out


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def families(scans: Iterable[Latest], store_up: bool) -> Iterator[Metric]:
    """The metric families, each with HELP; docs/dashboard.md lists them."""

    def gauge(name: str, doc: str, labels: list[str]) -> GaugeMetricFamily:
        return GaugeMetricFamily(PREFIX + name, doc, labels=labels)

    up = gauge("store_up", "1 when the scan store answered the last read, else 0.", [])
    up.add_metric([], 1.0 if store_up else 0.0)
    yield up
    score = gauge("cluster_score", "Overall score of the latest scan, 0-100.", ["cluster"])
    coverage = gauge(
        "cluster_coverage_ratio",
        "Share of check runs the latest scan could assess, 0-1.",
        ["cluster"],
    )
    category = gauge(
        "category_score",
        "Score of one check category in the latest scan, 0-100.",
        ["cluster", "category"],
    )
    findings = gauge(
        "findings",
        "Findings of the latest scan by check and severity.",
        ["cluster", "check", "severity"],
    )
    drifted = gauge(
        "drifted_nodes",
        "Nodes whose attribute differs from their pool's majority in the latest scan.",
        ["cluster", "pool", "attribute"],
    )
    drifted_total = gauge(
        "cluster_drifted_nodes", "Nodes drifting in any attribute in the latest scan.", ["cluster"]
    )
    allocatable = gauge("gpus_allocatable", "GPUs the pool's nodes offer.", ["cluster", "pool"])
    allocated = gauge("gpus_allocated", "GPUs requested by running pods.", ["cluster", "pool"])
    idle = gauge("gpus_idle", "GPUs offered and not requested.", ["cluster", "pool"])
    cost = gauge(
        "gpu_idle_cost_per_month",
        "What the pool's idle GPUs cost per month, in the price table's currency (USD by default).",
        ["cluster", "pool"],
    )
    last = gauge("last_scan_timestamp_seconds", "When the latest scan ran, Unix time.", ["cluster"])
    duration = gauge("scan_duration_seconds", "How long the latest scan took.", ["cluster"])
    for scan in scans:
        c = scan.info.cluster
        roll = scan.rollup
        if scan.info.score is not None:
            score.add_metric([c], float(scan.info.score))
        if scan.info.coverage is not None:
            coverage.add_metric([c], scan.info.coverage / 100)
        when = parse_time(scan.info.scanned_at)
        if when is not None:
            last.add_metric([c], when.timestamp())
        seconds = _number(roll.get("durationSeconds"))
        if seconds is not None:
            duration.add_metric([c], seconds)
        for name, value in _items(roll.get("categories")):
            if (v := _number(value)) is not None:
                category.add_metric([c, name], v)
        for check, by_severity in _items(roll.get("checks")):
            for severity, n in _items(by_severity):
                if (v := _number(n)) is not None:
                    findings.add_metric([c, check, severity], v)
        if (v := _number(roll.get("driftedNodes"))) is not None:
            drifted_total.add_metric([c], v)
        for pool, cells in _items(roll.get("drift")):
            for attribute, n in _items(cells):
                if (v := _number(n)) is not None:
                    drifted.add_metric([c, pool, attribute], v)
        for pool, gpus in _items(roll.get("gpus")):
            if not isinstance(gpus, dict):
                continue
            for family, key in (
                (allocatable, "allocatable"),
                (allocated, "requested"),
                (idle, "idle"),
                (cost, "idleMonthlyCost"),
            ):
                if (v := _number(gpus.get(key))) is not None:
                    family.add_metric([c, pool], v)
    yield from (
        score, coverage, category, findings, drifted, drifted_total,
        allocatable, allocated, idle, cost, last, duration,
    )  # fmt: skip


def _items(value: object) -> list[tuple[str, object]]:
    """A JSON object's entries; anything else (a damaged summary) has none."""
    return [(str(k), v) for k, v in value.items()] if isinstance(value, dict) else []


class _Snapshot(Collector):
    def __init__(self, scans: list[Latest], store_up: bool) -> None:
        self._scans = scans
        self._up = store_up

    def collect(self) -> Iterable[Metric]:
        return families(self._scans, self._up)


def exposition(scans: list[Latest], store_up: bool = True) -> bytes:
    """The Prometheus text format of these scans."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Snapshot(scans, store_up))
    return generate_latest(registry)
