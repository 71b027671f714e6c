"""Stores holding a fleet for the dashboard's tests: the demo cluster's scan stored under
several names and days, with known changes between days."""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

import msgspec

from plumbob.drift.attributes import NodeAttributes
from plumbob.report.model import Report
from plumbob.store import ScanRecord, SqlStore, scan_records
from plumbob.store.records import cluster_report, rollup
from tests.unit.render.helpers import _run

DEMO = "demo-ai-platform"
HOSTILE = '<script>alert("x")</script>\x1b[31m&amp;"\'red'
"""A cluster name with HTML, a script and a terminal escape sequence in it."""
RESOLVED_CHECK = "gpu-node-untainted"
"""Resolved on the last day of every cluster (the diff's known change)."""
DRIFTED_NODE_DRIVER = "999.99.99"
"""The driver one node moves to on the last day, and the driver every GPU node of the
`outlier` cluster runs (the fleet drift's known outlier)."""


@functools.cache
def demo_record() -> ScanRecord:
    from plumbob.sources.demo import DemoSource, DemoSpec

    loaded = DemoSource(DemoSpec()).load(None)
    report = _run(loaded)
    (record,) = scan_records(report, loaded.snapshots, duration_s=2.5)
    return record


def renamed(report: Report, name: str) -> Report:
    """The demo's report as if cluster `name` had been scanned (every cluster field)."""
    text = msgspec.json.encode(report).replace(json.dumps(DEMO).encode(), json.dumps(name).encode())
    return msgspec.json.decode(text, type=Report)


@dataclass(frozen=True, slots=True)
class Day:
    cluster: str
    when: str
    resolve: bool = False
    """Without the findings of RESOLVED_CHECK."""
    driver: str | None = None
    """One GPU node's driver moved to this."""
    all_drivers: str | None = None
    """Every GPU node's driver set to this."""


def record(day: Day) -> ScanRecord:
    base = demo_record()
    assert base.report is not None
    report = msgspec.structs.replace(renamed(base.report, day.cluster), generated_at=day.when)
    if day.resolve:
        report = msgspec.structs.replace(
            report, findings=[f for f in report.findings if f.check != RESOLVED_CHECK]
        )
    nodes: list[NodeAttributes] = list(base.nodes)
    first_gpu = next(i for i, n in enumerate(nodes) if n.nvidia_driver)
    for i, n in enumerate(nodes):
        if n.nvidia_driver and day.all_drivers:
            nodes[i] = msgspec.structs.replace(n, nvidia_driver=day.all_drivers)
    if day.driver:
        nodes[first_gpu] = msgspec.structs.replace(nodes[first_gpu], nvidia_driver=day.driver)
    own = cluster_report(report, day.cluster)
    summary = dict(base.summary)
    summary["rollup"] = rollup(own, 2.5)
    return replace(
        base,
        cluster=day.cluster,
        scanned_at=day.when,
        digest=hashlib.sha256(f"{day.cluster} {day.when}".encode()).hexdigest(),
        nodes=tuple(nodes),
        findings=tuple(own.findings),
        summary=summary,
        report=own,
    )


def days_ago(n: float, now: datetime | None = None) -> str:
    return ((now or datetime.now(UTC)) - timedelta(days=n)).strftime("%Y-%m-%dT%H:%M:%SZ")


FLEET = ("prod-east", "prod-west", "outlier", HOSTILE)
"""The clusters `fill` stores: `outlier` runs another driver on every GPU node; the hostile
name's latest scan is 3 days old (stale)."""


def fill(store: SqlStore, clusters: Sequence[str] = FLEET, days: int = 4) -> dict[str, list[int]]:
    """`days` daily scans per cluster, the last one with RESOLVED_CHECK resolved and one node's
    driver moved; returns the scan ids per cluster, oldest first."""
    ids: dict[str, list[int]] = {}
    for cluster in clusters:
        offset = 3 if cluster == HOSTILE else 0
        for d in range(days):
            last = d == days - 1
            day = Day(
                cluster=cluster,
                when=days_ago(days - 1 - d + offset + 0.01),
                resolve=last,
                driver=DRIFTED_NODE_DRIVER if last and cluster != "outlier" else None,
                all_drivers=DRIFTED_NODE_DRIVER if cluster == "outlier" else None,
            )
            ids.setdefault(cluster, []).append(int(store.save(record(day))))
    return ids
