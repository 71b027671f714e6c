"""Scan history: a Store Protocol and its SQL backends (SQLite default, PostgreSQL)."""

from plumbob.store.interface import ScanId, ScanInfo, ScanRecord, Store, StoredScan, StoreError
from plumbob.store.records import scan_records, snapshot_digest
from plumbob.store.sql import (
    SqlStore,
    default_sqlite_path,
    migrations,
    open_store,
    redacted_url,
)

__all__ = [
    "ScanId",
    "ScanInfo",
    "ScanRecord",
    "SqlStore",
    "Store",
    "StoreError",
    "StoredScan",
    "default_sqlite_path",
    "migrations",
    "open_store",
    "redacted_url",
    "scan_records",
    "snapshot_digest",
]
