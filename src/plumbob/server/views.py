"""What the dashboard shows, computed from the store: the fleet, one cluster's history, drift
across clusters, the diff of two scans. Pure functions of store rows (the JSON API returns
them as they are, the pages render them), so both always agree."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec

from plumbob.drift.compare import Diff, Side, State, diff
from plumbob.drift.cross import cross_cluster
from plumbob.findings import FindingPolicy
from plumbob.report.model import Report, Severity
from plumbob.store import ScanId, ScanInfo, SqlStore

TREND_DAYS = 30
"""Days of scores the fleet page's trend shows."""
SEVERITIES = tuple(s.value for s in Severity)


class NotFound(LookupError):
    """A cluster or scan the store does not hold: the message says which."""


class ClusterRow(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    """One cluster on the fleet page (and in `GET /api/v1/clusters`)."""

    cluster: str
    scan_id: int
    scanned_at: str
    stale: bool
    """The last scan is older than the server's `--stale-after`."""
    score: int | None
    coverage: int | None
    severities: dict[str, int]
    findings: int
    nodes: int
    drifted_nodes: int | None
    """None for scans stored before the dashboard's summary existed (unknown, not zero)."""
    idle_gpus: float | None
    idle_monthly_cost: float | None
    currency: str
    gpus: float | None
    trend: list[int | None] = []
    """Scores of the last TREND_DAYS days, oldest first."""


def _rollup(summary: dict[str, object]) -> dict[str, Any]:
    value = summary.get("rollup")
    return value if isinstance(value, dict) else {}


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def parse_time(text: str) -> datetime | None:
    try:
        return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    except ValueError:
        return None


def cluster_row(
    info: ScanInfo, summary: dict[str, object], now: datetime, stale_after: timedelta
) -> ClusterRow:
    roll = _rollup(summary)
    sev = roll.get("severities")
    severities = {s: int(sev.get(s, 0)) for s in SEVERITIES} if isinstance(sev, dict) else {}
    gpus = roll.get("gpus")
    when = parse_time(info.scanned_at)
    return ClusterRow(
        cluster=info.cluster,
        scan_id=int(info.id),
        scanned_at=info.scanned_at,
        stale=when is None or now - when > stale_after,
        score=info.score,
        coverage=info.coverage,
        severities=severities,
        findings=info.findings,
        nodes=info.nodes,
        drifted_nodes=None if "driftedNodes" not in roll else int(roll["driftedNodes"]),
        idle_gpus=_number(roll.get("idleGpus")),
        idle_monthly_cost=_number(roll.get("idleMonthlyCost")),
        currency=str(roll.get("currency") or "USD"),
        gpus=sum(_number(p.get("allocatable")) or 0.0 for p in gpus.values() if isinstance(p, dict))
        if isinstance(gpus, dict)
        else None,
    )


def fleet(store: SqlStore, now: datetime, stale_after: timedelta) -> list[ClusterRow]:
    """Every cluster's latest scan, with its score trend."""
    since = (now - timedelta(days=TREND_DAYS)).strftime("%Y-%m-%dT%H:%M:%SZ")
    trends: dict[str, list[int | None]] = {}
    for info in store.since(since):
        trends.setdefault(info.cluster, []).append(info.score)
    rows = []
    for info, summary in store.latest():
        row = cluster_row(info, summary, now, stale_after)
        rows.append(msgspec.structs.replace(row, trend=trends.get(info.cluster, [info.score])))
    return rows


class HistoryRow(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    """One stored scan of a cluster, for its history charts."""

    scan_id: int
    scanned_at: str
    score: int | None
    coverage: int | None
    findings: int
    nodes: int
    severities: dict[str, int]
    drifted_nodes: int | None
    idle_monthly_cost: float | None


def history(store: SqlStore, cluster: str, limit: int = 90) -> list[HistoryRow]:
    out = []
    for info, summary in store.history(cluster, limit):
        roll = _rollup(summary)
        sev = roll.get("severities")
        out.append(
            HistoryRow(
                scan_id=int(info.id),
                scanned_at=info.scanned_at,
                score=info.score,
                coverage=info.coverage,
                findings=info.findings,
                nodes=info.nodes,
                severities={s: int(sev.get(s, 0)) for s in SEVERITIES}
                if isinstance(sev, dict)
                else {},
                drifted_nodes=None if "driftedNodes" not in roll else int(roll["driftedNodes"]),
                idle_monthly_cost=_number(roll.get("idleMonthlyCost")),
            )
        )
    if not out:
        raise NotFound(f"no stored scan of cluster {cluster!r}")
    return out


class ScanRow(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    """One stored scan, without its nodes and findings."""

    id: int
    scanned_at: str
    captured_at: str | None
    digest: str
    plumbob_version: str
    nodes: int
    findings: int
    score: int | None
    coverage: int | None

    @classmethod
    def of(cls, info: ScanInfo) -> ScanRow:
        return cls(
            id=int(info.id),
            scanned_at=info.scanned_at,
            captured_at=info.captured_at,
            digest=info.digest,
            plumbob_version=info.plumbob_version,
            nodes=info.nodes,
            findings=info.findings,
            score=info.score,
            coverage=info.coverage,
        )


class ClusterList(msgspec.Struct, frozen=True, kw_only=True):
    """`GET /api/v1/clusters`."""

    clusters: list[ClusterRow]


class ClusterHistory(msgspec.Struct, frozen=True, kw_only=True):
    """`GET /api/v1/clusters/{name}`: the latest scan and the history, oldest first."""

    cluster: str
    scan: ScanRow
    history: list[HistoryRow]


class DriftList(msgspec.Struct, frozen=True, kw_only=True):
    """`GET /api/v1/drift`."""

    rows: list[DriftRow]


class Problem(msgspec.Struct, frozen=True, kw_only=True):
    """What an API error answers: one line saying what is wrong."""

    error: str


class ClusterView(msgspec.Struct, frozen=True, kw_only=True):
    cluster: str
    scan: ScanInfo
    report: Report | None
    """None for a scan stored before reports were."""
    history: list[HistoryRow]


def cluster(store: SqlStore, name: str, limit: int = 90) -> ClusterView:
    rows = history(store, name, limit)
    latest = store.scan(ScanId(rows[-1].scan_id))
    if latest is None:  # removed between the two reads
        raise NotFound(f"no stored scan of cluster {name!r}")
    return ClusterView(cluster=name, scan=latest, report=store.report(latest.id), history=rows)


class DriftRow(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    """One attribute of one group of pools (`pool:<name>` or `gpu:<product>`) across clusters."""

    group: str
    attribute: str
    values: dict[str, str | None]
    """Cluster -> the group's majority value there (None: absent or split)."""
    majority: str | None
    """The value most clusters hold."""
    outliers: list[str]
    """Clusters whose value differs from it."""


def fleet_drift(store: SqlStore) -> list[DriftRow]:
    """The same pool (by name or by GPU model) compared across every cluster's latest scan."""
    latest = [info for info, _ in store.latest()]
    nodes = store.nodes([info.id for info in latest])
    per_cluster = {info.cluster: {n.node: n for n in nodes.get(info.id, [])} for info in latest}
    _, rows, _ = cross_cluster(per_cluster, {}, FindingPolicy())
    out = []
    for row in rows:
        counts = Counter(v for v in row.values.values() if v is not None)
        majority = min(counts, key=lambda v: (-counts[v], v)) if counts else None
        out.append(
            DriftRow(
                group=row.group,
                attribute=row.attribute,
                values=dict(row.values),
                majority=majority,
                outliers=sorted(c for c, v in row.values.items() if v != majority),
            )
        )
    return out


def _state(store: SqlStore, scan_id: int) -> State:
    if store.scan(ScanId(scan_id)) is None:
        raise NotFound(f"no stored scan with id {scan_id}")
    scan = store.load(ScanId(scan_id))
    info = scan.info
    return State(
        side=Side(
            label=f"scan {info.id}",
            cluster=info.cluster,
            time=info.scanned_at,
            scan_id=info.id,
            digest=info.digest,
        ),
        nodes=scan.nodes,
        findings=scan.findings,
    )


def scan_diff(store: SqlStore, before: int, after: int) -> Diff:
    """What changed between two stored scans (of one cluster, or matched by check and subject
    across two)."""
    a, b = _state(store, before), _state(store, after)
    return diff(a, b, across=a.side.cluster != b.side.cluster)
