"""The Store: where scans are recorded for history, diffs and the server. One Protocol, two
SQL backends (SQLite embedded default, PostgreSQL for fleets)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NewType, Protocol

from plumbob.drift.attributes import NodeAttributes
from plumbob.report.model import Finding

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
    """Inventory and scores of that cluster, as in the report."""


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

    def summary(self, scan_id: ScanId) -> dict[str, object]:
        """A scan's inventory and scores, without reading its nodes and findings."""
        ...

    def clusters(self) -> list[str]:
        """Every cluster with at least one stored scan, sorted."""
        ...

    def applied_migrations(self) -> list[str]: ...

    def close(self) -> None: ...
