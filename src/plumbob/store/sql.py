"""The SQL store: SQLite (standard library) or PostgreSQL (psycopg 3), one schema, one ordered
sequence of named migrations (store/migrations/NNNN_name.sql) recorded in `schema_migrations`.

Concurrency: every save is one transaction. SQLite runs in WAL mode and takes the write lock
up front (BEGIN IMMEDIATE) with a busy timeout; PostgreSQL assigns ids from an identity
sequence, so parallel writers never collide. Migrations run under a lock (BEGIN IMMEDIATE, or a
transaction-scoped advisory lock) so two processes starting at once apply each one once.
"""

from __future__ import annotations

import json
import re
import sqlite3
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import msgspec

from plumbob.drift.attributes import NodeAttributes
from plumbob.report.model import Finding, Report
from plumbob.store.interface import ScanId, ScanInfo, ScanRecord, StoredScan, StoreError

_MIGRATION_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")
_ADVISORY_LOCK = 0x706C756D626F62  # "plumbob"
SQLITE_BUSY_TIMEOUT_S = 60.0


@dataclass(frozen=True, slots=True)
class Dialect:
    name: str
    id_column: str
    json_type: str
    json_param: str
    """How a JSON parameter is written in an INSERT."""


SQLITE = Dialect("sqlite", "INTEGER PRIMARY KEY AUTOINCREMENT", "TEXT", "?")
POSTGRES = Dialect(
    "postgresql", "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY", "JSONB", "CAST(? AS JSONB)"
)


def migrations() -> list[tuple[str, str]]:
    """(name, SQL template) in order; names never change once released."""
    folder = resources.files("plumbob.store.migrations")
    found = sorted(e.name for e in folder.iterdir() if _MIGRATION_NAME.match(e.name))
    return [
        (name.removesuffix(".sql"), folder.joinpath(name).read_text(encoding="utf-8"))
        for name in found
    ]


def _statements(template: str, dialect: Dialect) -> list[str]:
    sql = template.format(id_column=dialect.id_column, json=dialect.json_type)
    lines = [ln for ln in sql.splitlines() if not ln.lstrip().startswith("--")]
    return [s.strip() for s in "\n".join(lines).split(";") if s.strip()]


def default_sqlite_path() -> Path:
    """history.sqlite in the user's data directory (XDG on Linux, the platform's elsewhere)."""
    from platformdirs import user_data_dir

    return Path(user_data_dir("plumbob", appauthor=False)) / "history.sqlite"


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


_REPORT = msgspec.json.Decoder(Report)


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str | bytes) else value


class SqlStore:
    """A Store over one DB-API connection. Use `open_store(url)`; one instance per thread."""

    def __init__(self, conn: Any, dialect: Dialect, where: str, readonly: bool = False) -> None:
        self._conn = conn
        self.dialect = dialect
        self.where = where
        if readonly:
            self._check_schema()
        else:
            self.migrate()

    def _check_schema(self) -> None:
        """A reader that may not write (the dashboard's read-only role) cannot migrate: it
        needs every migration this version knows already applied by a writer."""
        try:
            done = set(self.applied_migrations())
        except StoreError as exc:
            raise StoreError(
                f"{self.where}: no plumbob scan history here (record one with "
                f"`plumbob scan --store`): {exc}"
            ) from None
        pending = [name for name, _ in migrations() if name not in done]
        if pending:
            raise StoreError(
                f"{self.where}: the store lacks migrations {', '.join(pending)}; a "
                "`plumbob scan --store` of this version applies them"
            )

    def ping(self) -> None:
        """Raise StoreError unless the database answers."""
        self._query("SELECT 1")

    # ------------------------------------------------------------ plumbing

    def _sql(self, text: str) -> str:
        text = text.replace("{j}", self.dialect.json_param)
        return text.replace("?", "%s") if self.dialect is POSTGRES else text

    @contextmanager
    def _transaction(self, lock: bool = False) -> Iterator[Any]:
        """A write transaction: the SQLite write lock taken at BEGIN, or (with `lock`) the
        PostgreSQL migration advisory lock."""
        conn = self._conn
        if self.dialect is SQLITE:
            _retry_locked(lambda: conn.execute("BEGIN IMMEDIATE"))
            cur = conn.cursor()
            try:
                yield cur
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        else:
            with conn.transaction():
                cur = conn.cursor()
                if lock:
                    cur.execute("SELECT pg_advisory_xact_lock(%s)", (_ADVISORY_LOCK,))
                yield cur

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        try:
            cur = self._conn.cursor()
            cur.execute(self._sql(sql), tuple(params))
            rows: list[tuple[Any, ...]] = cur.fetchall()
            return rows
        except self._errors() as exc:
            raise StoreError(f"{self.where}: {exc}") from None

    def _errors(self) -> tuple[type[Exception], ...]:
        if self.dialect is SQLITE:
            return (sqlite3.Error,)
        import psycopg

        return (psycopg.Error,)

    # ------------------------------------------------------------ migrations

    def migrate(self) -> list[str]:
        """Apply pending migrations in order; returns the names applied now."""
        applied_now: list[str] = []
        try:
            with self._transaction(lock=True) as cur:
                cur.execute(
                    "CREATE TABLE IF NOT EXISTS schema_migrations ("
                    "name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)"
                )
                cur.execute("SELECT name FROM schema_migrations")
                done = {row[0] for row in cur.fetchall()}
                for name, template in migrations():
                    if name in done:
                        continue
                    for statement in _statements(template, self.dialect):
                        cur.execute(statement)
                    cur.execute(
                        self._sql("INSERT INTO schema_migrations (name, applied_at) VALUES (?, ?)"),
                        (name, _now()),
                    )
                    applied_now.append(name)
        except self._errors() as exc:
            raise StoreError(f"{self.where}: cannot apply migrations: {exc}") from None
        return applied_now

    def applied_migrations(self) -> list[str]:
        return [r[0] for r in self._query("SELECT name FROM schema_migrations ORDER BY name")]

    # ------------------------------------------------------------ writing

    def save(self, record: ScanRecord) -> ScanId:
        enc = msgspec.json.Encoder()
        summary = enc.encode(record.summary).decode()
        node_rows = [(n.node, n.pool, enc.encode(n).decode()) for n in record.nodes]
        finding_rows = [
            (i, f.fingerprint, f.check, f.severity.value, enc.encode(f).decode())
            for i, f in enumerate(record.findings)
        ]
        report = None if record.report is None else enc.encode(record.report).decode()
        try:
            with self._transaction() as cur:
                cur.execute(
                    self._sql(
                        "INSERT INTO scans (cluster, scanned_at, captured_at, digest, "
                        "plumbob_version, node_count, finding_count, summary, score, coverage) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?, {j}, ?, ?)"
                        + (" RETURNING id" if self.dialect is POSTGRES else "")
                    ),
                    (
                        record.cluster,
                        record.scanned_at,
                        record.captured_at,
                        record.digest,
                        record.plumbob_version,
                        len(record.nodes),
                        len(record.findings),
                        summary,
                        None if record.report is None else record.report.scores.overall,
                        None if record.report is None else record.report.scores.coverage,
                    ),
                )
                scan_id = int(cur.fetchone()[0]) if self.dialect is POSTGRES else int(cur.lastrowid)
                if node_rows:
                    cur.executemany(
                        self._sql(
                            "INSERT INTO scan_nodes (scan_id, node, pool, attributes) "
                            "VALUES (?, ?, ?, {j})"
                        ),
                        [(scan_id, *r) for r in node_rows],
                    )
                if finding_rows:
                    cur.executemany(
                        self._sql(
                            "INSERT INTO scan_findings (scan_id, seq, fingerprint, check_id, "
                            "severity, finding) VALUES (?, ?, ?, ?, ?, {j})"
                        ),
                        [(scan_id, *r) for r in finding_rows],
                    )
                if report is not None:
                    cur.execute(
                        self._sql("INSERT INTO scan_reports (scan_id, report) VALUES (?, ?)"),
                        (scan_id, report),
                    )
        except self._errors() as exc:
            raise StoreError(
                f"{self.where}: cannot save the scan of {record.cluster}: {exc}"
            ) from None
        return ScanId(scan_id)

    # ------------------------------------------------------------ reading

    _INFO = (
        "SELECT id, cluster, scanned_at, digest, plumbob_version, node_count, "
        "finding_count, captured_at, score, coverage FROM scans"
    )

    @staticmethod
    def _info(row: Sequence[Any]) -> ScanInfo:
        return ScanInfo(
            id=ScanId(int(row[0])),
            cluster=row[1],
            scanned_at=row[2],
            digest=row[3],
            plumbob_version=row[4],
            nodes=int(row[5]),
            findings=int(row[6]),
            captured_at=row[7],
            score=None if row[8] is None else int(row[8]),
            coverage=None if row[9] is None else int(row[9]),
        )

    def scans(
        self, cluster: str | None = None, limit: int = 50, before: str | None = None
    ) -> list[ScanInfo]:
        where: list[str] = []
        params: list[Any] = []
        if cluster is not None:
            where.append("cluster = ?")
            params.append(cluster)
        if before is not None:
            where.append("scanned_at <= ?")
            params.append(before)
        sql = self._INFO + (" WHERE " + " AND ".join(where) if where else "")
        sql += " ORDER BY scanned_at DESC, id DESC LIMIT ?"
        params.append(int(limit))
        return [self._info(r) for r in self._query(sql, params)]

    def scan(self, scan_id: ScanId) -> ScanInfo | None:
        """One scan's row, or None when the store holds no scan with that id."""
        rows = self._query(self._INFO + " WHERE id = ?", (int(scan_id),))
        return self._info(rows[0]) if rows else None

    def clusters(self) -> list[str]:
        return [r[0] for r in self._query("SELECT DISTINCT cluster FROM scans ORDER BY cluster")]

    NEWEST = (
        "WITH RECURSIVE names (name) AS (SELECT MIN(cluster) FROM scans UNION ALL "
        "SELECT (SELECT MIN(cluster) FROM scans WHERE cluster > name) FROM names "
        "WHERE name IS NOT NULL) "
        "SELECT (SELECT latest.id FROM scans latest WHERE latest.cluster = names.name "
        "ORDER BY latest.scanned_at DESC, latest.id DESC LIMIT 1) FROM names "
        "WHERE name IS NOT NULL"
    )
    """The id of each cluster's newest scan. The cluster names are walked through the
    (cluster, scanned_at) index one seek each (a skip scan, written as a recursive query, which
    both SQLite and PostgreSQL run), and each newest scan is one more seek: the work grows with
    the clusters, not with the scans stored."""
    BY_IDS = _INFO.replace(" FROM scans", ", summary FROM scans") + " WHERE id IN ({marks})"
    """Scans by id, through the primary key."""
    HISTORY = (
        _INFO.replace(" FROM scans", ", summary FROM scans")
        + " WHERE cluster = ? ORDER BY scanned_at DESC, id DESC LIMIT ?"
    )
    SINCE = _INFO + " WHERE scanned_at >= ? ORDER BY cluster, scanned_at, id"
    REVISION = "SELECT MAX(id), COUNT(*) FROM scans"

    def latest(self) -> list[tuple[ScanInfo, dict[str, object]]]:
        """Each cluster's newest scan (by time, then id) with its summary, sorted by cluster.
        Two reads, each through an index (the planner would join the ids against the whole
        table by hash instead)."""
        ids = [int(r[0]) for r in self._query(self.NEWEST) if r[0] is not None]
        if not ids:
            return []
        rows = self._query(self.BY_IDS.format(marks=", ".join("?" for _ in ids)), ids)
        out = [(self._info(r), dict(_json(r[10]) or {})) for r in rows]
        return sorted(out, key=lambda pair: pair[0].cluster)

    def history(self, cluster: str, limit: int = 90) -> list[tuple[ScanInfo, dict[str, object]]]:
        rows = self._query(self.HISTORY, (cluster, int(limit)))
        return [(self._info(r), dict(_json(r[10]) or {})) for r in reversed(rows)]

    def since(self, time: str) -> list[ScanInfo]:
        return [self._info(r) for r in self._query(self.SINCE, (time,))]

    def report(self, scan_id: ScanId) -> Report | None:
        rows = self._query("SELECT report FROM scan_reports WHERE scan_id = ?", (int(scan_id),))
        if not rows:
            return None
        text = rows[0][0]
        try:
            return _REPORT.decode(text.encode() if isinstance(text, str) else text)
        except (msgspec.ValidationError, msgspec.DecodeError) as exc:
            raise StoreError(
                f"{self.where}: the report of scan {scan_id} cannot be read: {exc}"
            ) from None

    def nodes(self, scan_ids: list[ScanId]) -> dict[ScanId, list[NodeAttributes]]:
        out: dict[ScanId, list[NodeAttributes]] = {ScanId(int(i)): [] for i in scan_ids}
        if not scan_ids:
            return out
        marks = ", ".join("?" for _ in scan_ids)
        rows = self._query(
            f"SELECT scan_id, attributes FROM scan_nodes WHERE scan_id IN ({marks}) "
            "ORDER BY scan_id, node",
            [int(i) for i in scan_ids],
        )
        try:
            for scan_id, attributes in rows:
                out[ScanId(int(scan_id))].append(msgspec.convert(_json(attributes), NodeAttributes))
        except msgspec.ValidationError as exc:
            raise StoreError(f"{self.where}: nodes cannot be read: {exc}") from None
        return out

    def revision(self) -> tuple[int, int]:
        row = self._query(self.REVISION)[0]
        return (int(row[0] or 0), int(row[1]))

    def summary(self, scan_id: ScanId) -> dict[str, object]:
        """A stored scan's inventory and scores, without its nodes and findings."""
        rows = self._query("SELECT summary FROM scans WHERE id = ?", (int(scan_id),))
        if not rows:
            raise StoreError(f"{self.where}: no scan with id {scan_id}")
        return dict(_json(rows[0][0]) or {})

    def load(self, scan_id: ScanId) -> StoredScan:
        rows = self._query(self._INFO + " WHERE id = ?", (int(scan_id),))
        if not rows:
            raise StoreError(f"{self.where}: no scan with id {scan_id}")
        info = self._info(rows[0])
        summary = self._query("SELECT summary FROM scans WHERE id = ?", (int(scan_id),))[0][0]
        nodes = self._query(
            "SELECT attributes FROM scan_nodes WHERE scan_id = ? ORDER BY node", (int(scan_id),)
        )
        findings = self._query(
            "SELECT finding FROM scan_findings WHERE scan_id = ? ORDER BY seq", (int(scan_id),)
        )
        try:
            return StoredScan(
                info=info,
                nodes=tuple(msgspec.convert(_json(r[0]), NodeAttributes) for r in nodes),
                findings=tuple(msgspec.convert(_json(r[0]), Finding) for r in findings),
                summary=dict(_json(summary) or {}),
            )
        except msgspec.ValidationError as exc:
            raise StoreError(f"{self.where}: scan {scan_id} cannot be read: {exc}") from None

    def close(self) -> None:
        self._conn.close()


def _open_sqlite(path: Path, create: bool = True, readonly: bool = False) -> SqlStore:
    if not (create and not readonly) and not path.is_file():
        raise StoreError(
            f"{path}: no scan history here yet (`plumbob scan --store {path}` records scans)"
        )
    if readonly:
        try:
            conn = sqlite3.connect(
                f"{path.resolve().as_uri()}?mode=ro",
                uri=True,
                timeout=SQLITE_BUSY_TIMEOUT_S,
                isolation_level=None,
                check_same_thread=False,
            )
        except sqlite3.Error as exc:
            raise StoreError(f"{path}: cannot open SQLite database: {exc}") from None
        return SqlStore(conn, SQLITE, str(path), readonly=True)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(
            str(path), timeout=SQLITE_BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False
        )
        conn.execute(f"PRAGMA busy_timeout={int(SQLITE_BUSY_TIMEOUT_S * 1000)}")
        _retry_locked(lambda: conn.execute("PRAGMA journal_mode=WAL"))
        conn.execute("PRAGMA foreign_keys=ON")
    except (OSError, sqlite3.Error) as exc:
        raise StoreError(f"{path}: cannot open SQLite database: {exc}") from None
    return SqlStore(conn, SQLITE, str(path))


def _retry_locked(step: Callable[[], object]) -> None:
    """Run `step`, retrying while SQLite says the database is locked, up to the busy timeout.
    Switching a fresh file to WAL needs an exclusive lock, and SQLite answers "locked" at once,
    without waiting in its busy handler, when that would deadlock with another connection (two
    processes opening a new store together): https://www.sqlite.org/c3ref/busy_handler.html"""
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_S
    while True:
        try:
            step()
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def redacted_url(url: str) -> str:
    """A store URL as messages show it: the password masked."""
    return re.sub(r"//([^:/@]+):[^@]*@", r"//\1:***@", url)


_redacted = redacted_url


def _open_postgres(url: str, readonly: bool = False) -> SqlStore:
    try:
        import psycopg
    except ImportError:
        raise StoreError(
            "PostgreSQL needs the psycopg package (pip install 'psycopg[binary]')"
        ) from None
    try:
        conn = psycopg.connect(
            url,
            connect_timeout=10,
            autocommit=True,
            # a reader's every transaction is read-only: the server refuses any write
            options="-c default_transaction_read_only=on" if readonly else None,
        )
    except psycopg.Error as exc:
        raise StoreError(f"{_redacted(url)}: cannot connect: {str(exc).strip()}") from None
    return SqlStore(conn, POSTGRES, _redacted(url), readonly=readonly)


def open_store(url: str | None, *, create: bool = True, readonly: bool = False) -> SqlStore:
    """`postgresql://...` (or `postgres://`), `sqlite:///path`, a file path, or None for the
    SQLite file in the user's data directory. With `create=False` (readers: history, diff) a
    SQLite file that does not exist is an error instead of a new, empty database. `readonly`
    (the dashboard) never writes: no migration, a read-only SQLite handle, read-only
    PostgreSQL transactions; the schema must be current."""
    if url is None or url == "":
        return _open_sqlite(default_sqlite_path(), create, readonly)
    if url.startswith(("postgresql://", "postgres://")):
        return _open_postgres(url, readonly)
    if url.startswith("sqlite://"):
        # SQLAlchemy's convention: sqlite:///relative.db, sqlite:////absolute/path.db
        rest = url.removeprefix("sqlite://").removeprefix("/")
        where = Path(rest).expanduser() if rest else default_sqlite_path()
        return _open_sqlite(where, create, readonly)
    if "://" in url:
        raise StoreError(
            f"{_redacted(url)}: unsupported store URL; use postgresql://..., "
            "sqlite:///path or a file path"
        )
    return _open_sqlite(Path(url).expanduser(), create, readonly)
