"""Command-line interface. Commands import what they need when they run, so `--help` is fast."""

from __future__ import annotations

import sys

import typer

from plumbob import __version__
from plumbob.cli import baseline, checks, conformance, demo, diff, history, scan
from plumbob.cli import snapshot as snapshot_cmd

app = typer.Typer(
    name="plumbob",
    help="Audit Kubernetes clusters for AI-workload readiness and infrastructure drift.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
app.command("scan")(scan.scan)
app.command("checks")(checks.list_checks)
app.command("explain")(checks.explain)
app.command("demo")(demo.demo)
app.add_typer(baseline.app, name="baseline")
app.command("history")(history.history)
app.command("diff")(diff.diff)
app.command("snapshot")(snapshot_cmd.snapshot)
app.command("conformance")(conformance.conformance)


@app.command("version")
def version() -> None:
    """Print plumbob's version."""
    typer.echo(__version__)


def main(argv: list[str] | None = None) -> None:
    app(args=_bare_store(sys.argv[1:] if argv is None else argv), prog_name="plumbob")


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
