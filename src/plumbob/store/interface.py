"""The Store: where scans are recorded for history, diffs and the server. One Protocol, two
SQL backends (SQLite embedded default, PostgreSQL for fleets)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NewType, Protocol

from plumbob.drift.attributes import NodeAttributes
from plumbob.report.model import Finding, Report

ScanId = NewType("ScanId", int)


class StoreError(Exception):
    """The store cannot be opened, migrated, written or read: the message says which and why."""


@dataclass(frozen=True, slots=True)
class ScanRecord:
    """One cluster's scan, as written to the store."""

    cluster: str
    scanned_at: str
    """When plumbob ran, UTC, `YYYY-MM-DDTHH:MM:SSZ` (sorts as text)."""
    digest: str
    """sha256 of the snapshot's objects (without where they were read from)."""
    plumbob_version: str
    nodes: tuple[NodeAttributes, ...] = ()
    findings: tuple[Finding, ...] = ()
    captured_at: str | None = None
    """When the snapshot was taken, when the source knows."""
    summary: dict[str, object] = field(default_factory=dict)
    """Inventory and scores of that cluster, as in the report, and the `rollup` the dashboard
    reads (store/records.py)."""
    report: Report | None = None
    """The cluster's own report (store/records.py `cluster_report`), for the dashboard."""


@dataclass(frozen=True, slots=True)
class ScanInfo:
    """A stored scan without its nodes and findings (what `history` lists)."""

    id: ScanId
    cluster: str
    scanned_at: str
    digest: str
    plumbob_version: str
    nodes: int
    findings: int
    captured_at: str | None = None
    score: int | None = None
    """Overall score; None when nothing could be assessed or the scan predates the column."""
    coverage: int | None = None


@dataclass(frozen=True, slots=True)
class StoredScan:
    info: ScanInfo
    nodes: tuple[NodeAttributes, ...]
    findings: tuple[Finding, ...]
    summary: dict[str, object]


class Store(Protocol):
    """Append-only scan history. Writers may run concurrently (one CronJob per cluster);
    every save is one transaction, so a scan is stored whole or not at all."""

    def save(self, record: ScanRecord) -> ScanId: ...

    def scans(
        self, cluster: str | None = None, limit: int = 50, before: str | None = None
    ) -> list[ScanInfo]:
        """Newest first; `before` keeps scans at or before that time."""
        ...

    def load(self, scan_id: ScanId) -> StoredScan: ...

    def scan(self, scan_id: ScanId) -> ScanInfo | None:
        """One scan's row, or None when there is no scan with that id."""
        ...

    def summary(self, scan_id: ScanId) -> dict[str, object]:
        """A scan's inventory and scores, without reading its nodes and findings."""
        ...

    def clusters(self) -> list[str]:
        """Every cluster with at least one stored scan, sorted."""
        ...

    def latest(self) -> list[tuple[ScanInfo, dict[str, object]]]:
        """Each cluster's newest scan with its summary, sorted by cluster."""
        ...

    def history(self, cluster: str, limit: int = 90) -> list[tuple[ScanInfo, dict[str, object]]]:
        """A cluster's newest scans with their summaries, oldest first."""
        ...

    def since(self, time: str) -> list[ScanInfo]:
        """Every scan at or after `time`, by cluster then time (the fleet's trends)."""
        ...

    def report(self, scan_id: ScanId) -> Report | None:
        """A scan's own report; None for scans stored before reports were."""
        ...

    def nodes(self, scan_ids: list[ScanId]) -> dict[ScanId, list[NodeAttributes]]:
        """The nodes of several scans at once."""
        ...

    def revision(self) -> tuple[int, int]:
        """(highest scan id, number of scans): changes whenever a scan is added or removed, so
        readers can keep what they computed until it does."""
        ...

    def applied_migrations(self) -> list[str]: ...

    def close(self) -> None: ...
