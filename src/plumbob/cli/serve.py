"""`plumbob serve`: the fleet dashboard, its JSON API and Prometheus metrics, from a store."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

from plumbob.cli import exit_codes
from plumbob.cli.common import fail
from plumbob.cli.diff import parse_duration
from plumbob.cli.history import DEFAULT_STORE, STORE_ENV, STORE_HELP

if TYPE_CHECKING:
    from plumbob.store import SqlStore

GRACEFUL_SHUTDOWN_S = 10
"""On SIGTERM or Ctrl-C, requests in flight get this long to finish."""


def _exit(code: int) -> NoReturn:
    raise typer.Exit(code)


def read_token(path: Path) -> str:
    """The bearer token in `path` (surrounding whitespace dropped); never printed."""
    try:
        token = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        fail(f"--token-file {path}: cannot read it: {exc.__class__.__name__}")
        _exit(exit_codes.USAGE)
    if not token or any(c.isspace() for c in token):
        fail(f"--token-file {path}: expected one token on one line")
        _exit(exit_codes.USAGE)
    return token


def serve(
    store: Annotated[
        str, typer.Option("--store", envvar=STORE_ENV, help=STORE_HELP)
    ] = DEFAULT_STORE,
    host: Annotated[
        str, typer.Option("--host", help="Address to listen on (0.0.0.0 for every interface).")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port to listen on.")] = 8080,
    token_file: Annotated[
        Path | None,
        typer.Option(
            "--token-file",
            help="File holding a bearer token every request but /healthz must send.",
        ),
    ] = None,
    stale_after: Annotated[
        str,
        typer.Option("--stale-after", help="Mark a cluster stale when its last scan is older."),
    ] = "26h",
    refresh: Annotated[
        float,
        typer.Option("--refresh", help="Seconds between looks for new scans in the store."),
    ] = 5.0,
) -> None:
    """Serve the fleet dashboard, a JSON API and /metrics from the scan store (read-only)."""
    import uvicorn

    from plumbob.server import Settings, create_app
    from plumbob.store import StoreError, open_store, redacted_url

    url = None if store in ("", DEFAULT_STORE) else store
    window = parse_duration(stale_after)
    if window is None:
        fail(f"--stale-after {stale_after!r}: expected a duration such as 26h, 2d")
        _exit(exit_codes.USAGE)
    token = read_token(token_file) if token_file is not None else None

    def opener() -> SqlStore:
        return open_store(url, create=False, readonly=True)

    try:
        first = open_store(url, create=False, readonly=True)
        where = first.where
        first.close()
    except StoreError as exc:
        postgres = (url or "").startswith(("postgresql://", "postgres://"))
        if not postgres:
            fail(str(exc))
            _exit(exit_codes.USAGE)
        # a database that is down now may be up in a minute: serve the error page until then
        fail(f"{exc} (serving anyway: pages say the store is unavailable until it answers)")
        where = redacted_url(url or "")
    app = create_app(
        opener,
        Settings(where=where, stale_after=window, token=token),
        refresh=refresh,
    )
    typer.echo(
        f"plumbob dashboard on http://{host}:{port}/ (store {where}"
        + (", bearer token required" if token else "")
        + ")",
        err=True,
    )
    uvicorn.run(
        app,
        host=host,
        port=port,
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S,
        log_level="warning",
        access_log=False,
        server_header=False,
    )
