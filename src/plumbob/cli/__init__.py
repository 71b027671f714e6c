"""Command-line interface. Commands import what they need when they run, so `--help` is fast."""

from __future__ import annotations

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


def main() -> None:
    app()
