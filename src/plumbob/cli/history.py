"""`plumbob history`: list stored scans; and how `scan --store` records one."""

from __future__ import annotations

import enum
import json
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

from plumbob.cli import exit_codes
from plumbob.cli.common import fail
from plumbob.report.text import shown_line

if TYPE_CHECKING:
    from plumbob.model.snapshot import Snapshot
    from plumbob.report.model import Report
    from plumbob.store import SqlStore

STORE_ENV = "PLUMBOB_STORE"
DEFAULT_STORE = "default"
"""`--store default`: the SQLite file in the user's data directory."""
STORE_HELP = (
    "Scan history: postgresql://user@host/db, sqlite:///file.db, a file path, or "
    f"'{DEFAULT_STORE}' for the SQLite file in your data directory "
    f"(env {STORE_ENV})."
)


class OutputFormat(enum.StrEnum):
    TABLE = "table"
    JSON = "json"


def _exit(code: int) -> NoReturn:
    raise typer.Exit(code)


def open_or_exit(url: str | None, *, create: bool = True) -> SqlStore:
    """The store at `url`; readers pass `create=False` so a mistyped path is an error, not a
    new empty database."""
    from plumbob.store import StoreError, open_store

    try:
        return open_store(None if url in (None, "", DEFAULT_STORE) else url, create=create)
    except StoreError as exc:
        fail(str(exc))
        _exit(exit_codes.USAGE)


def record(
    store: SqlStore,
    report: Report,
    snapshots: Sequence[Snapshot],
    pool_label: str | None,
    quiet: bool,
    duration_s: float | None = None,
) -> None:
    """Write one scan per cluster to an open store (`scan --store`), then close it;
    `duration_s`: how long the scan took (the dashboard's scan-duration metric)."""
    from plumbob.store import StoreError, scan_records

    try:
        ids = [
            store.save(r)
            for r in scan_records(report, snapshots, pool_label=pool_label, duration_s=duration_s)
        ]
    except StoreError as exc:
        fail(str(exc))
        _exit(exit_codes.USAGE)
    finally:
        store.close()
    if not quiet:
        typer.echo(f"stored scan {', '.join(map(str, ids))} in {shown_line(store.where)}", err=True)


def history(
    cluster: Annotated[str | None, typer.Option("--cluster", help="Only this cluster.")] = None,
    store: Annotated[
        str, typer.Option("--store", envvar=STORE_ENV, help=STORE_HELP)
    ] = DEFAULT_STORE,
    limit: Annotated[int, typer.Option("--limit", "-n", help="Newest N scans.")] = 50,
    output_format: Annotated[OutputFormat, typer.Option("--format", "-f")] = OutputFormat.TABLE,
) -> None:
    """List stored scans, newest first."""
    from plumbob.store import StoreError

    db = open_or_exit(store, create=False)
    try:
        scans = db.scans(cluster=cluster, limit=limit)
    except StoreError as exc:
        fail(str(exc))
        _exit(exit_codes.USAGE)
    finally:
        db.close()
    if output_format is OutputFormat.JSON:
        rows = [
            {
                "id": s.id,
                "cluster": s.cluster,
                "scannedAt": s.scanned_at,
                "capturedAt": s.captured_at,
                "digest": s.digest,
                "nodes": s.nodes,
                "findings": s.findings,
                "plumbobVersion": s.plumbob_version,
            }
            for s in scans
        ]
        sys.stdout.write(json.dumps({"scans": rows}, indent=2) + "\n")
        return
    from rich import box
    from rich.table import Table

    from plumbob.render.terminal import SafeConsole, markup_safe

    console = SafeConsole(highlight=False)
    if not scans:
        console.print(
            f"No scans stored in {db.where}" + (f" for cluster {cluster}" if cluster else "") + ".",
            markup=False,
        )
        return
    t = Table(box=box.SIMPLE_HEAVY, title=f"scans in {markup_safe(db.where)}", title_justify="left")
    for col in ("id", "cluster", "scanned at", "nodes", "findings", "digest"):
        t.add_column(col, justify="right" if col in ("id", "nodes", "findings") else "left")
    for s in scans:
        t.add_row(
            str(s.id),
            markup_safe(s.cluster),
            s.scanned_at,
            str(s.nodes),
            str(s.findings),
            s.digest[:12],
        )
    console.print(t)
