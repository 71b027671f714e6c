"""Command-line interface. Commands import what they need when they run, so `--help` is fast."""

from __future__ import annotations

import atexit
import contextlib
import os
import sys
from typing import NoReturn

import typer

from plumbob import __version__
from plumbob.cli import baseline, checks, conformance, demo, diff, history, policy, scan, serve
from plumbob.cli import snapshot as snapshot_cmd
from plumbob.cli.help import EPILOG, PlumbobGroup, ScanCommand

app = typer.Typer(
    name="plumbob",
    cls=PlumbobGroup,
    help="Audit Kubernetes clusters for AI-workload readiness and infrastructure drift.",
    epilog=EPILOG,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
app.command("scan", cls=ScanCommand)(scan.scan)
app.command("checks")(checks.list_checks)
app.command("explain")(checks.explain)
app.command("demo")(demo.demo)
app.add_typer(baseline.app, name="baseline")
app.add_typer(policy.app, name="policy")
app.command("history")(history.history)
app.command("diff")(diff.diff)
app.command("snapshot")(snapshot_cmd.snapshot)
app.command("conformance")(conformance.conformance)
app.command("serve")(serve.serve)


@app.command("version")
def version() -> None:
    """Print plumbob's version."""
    typer.echo(__version__)


def main(argv: list[str] | None = None) -> None:
    """The `plumbob` command; `argv` for running it in process (tests), where it returns."""
    if argv is not None:
        app(args=_bare_store(argv), prog_name="plumbob")
        return
    for stream in (sys.stdout, sys.stderr):
        # a file name or argument that was not UTF-8 is printed as \xff, never a crash
        with contextlib.suppress(AttributeError, ValueError):
            stream.reconfigure(errors="backslashreplace")  # type: ignore[union-attr]
    try:
        app(args=_bare_store(sys.argv[1:]), prog_name="plumbob")
    except SystemExit as done:
        _leave(done.code)


def _leave(code: object) -> NoReturn:
    """End the process once its command is done, without freeing what it built.

    A scan of a big cluster holds millions of small objects; Python frees them one by one as
    it exits (0.3 s of a 4.5 s scan of 150,000 pods), while the operating system takes the
    memory back at once. By now the command has closed what it wrote (reports, snapshots,
    stores: nothing in plumbob waits for exit to finish writing) and the standard streams are
    flushed here, so nothing is lost; exit handlers that libraries registered run first."""
    if code is None:
        status = 0
    elif isinstance(code, int):
        status = code
    else:  # sys.exit("message"): printed, status 1
        print(code, file=sys.stderr)
        status = 1
    run_exit_handlers = getattr(atexit, "_run_exitfuncs", None)
    if run_exit_handlers is None:  # an interpreter without it: leave the usual way
        sys.exit(status)
    run_exit_handlers()
    for stream in (sys.stdout, sys.stderr):
        # (a closed pipe, `plumbob scan | head`, or a closed stream has nothing to flush)
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    os._exit(status)


def _bare_store(args: list[str]) -> list[str]:
    """`--store` given without a URL means the default store (SQLite in the user's data
    directory): at the end of the line or followed by another option, it gets `default`.
    (Followed by a path, the path is taken as the store, as for any option with a value.)"""
    out: list[str] = []
    for i, arg in enumerate(args):
        out.append(arg)
        if arg == "--store" and (i + 1 == len(args) or args[i + 1].startswith("-")):
            out.append("default")
    return out
