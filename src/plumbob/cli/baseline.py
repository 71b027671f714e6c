"""`plumbob baseline init`: write a baseline ("intent") file from today's majority values; and
the drift analysis `scan` runs (with `--baseline`, `--pool-label`)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

from plumbob.cli import exit_codes
from plumbob.cli.common import fail, print_diagnostics, read_inputs

if TYPE_CHECKING:
    from plumbob.drift import LoadedBaseline
    from plumbob.engine import Analysis
    from plumbob.model.snapshot import Snapshot

app = typer.Typer(
    name="baseline",
    help="Write a baseline (intent) file from a cluster's current values; "
    "plumbob scan --baseline FILE checks a cluster against it.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
)


def _exit(code: int) -> NoReturn:
    raise typer.Exit(code)


def read_baseline(path: Path | None) -> LoadedBaseline | None:
    """The baseline `--baseline` names, if any; a malformed one ends the command with a usage
    error naming the key and line."""
    if path is None:
        return None
    from plumbob.drift import BaselineError, load_baseline

    try:
        return load_baseline(path)
    except BaselineError as exc:
        fail(str(exc))
        _exit(exit_codes.USAGE)


def drift_analysis(pool_label: str | None, baseline: LoadedBaseline | None) -> Analysis:
    """The drift analysis for `scan`, against `baseline` when one is given."""
    from plumbob.drift import SECTION, DriftAnalysis
    from plumbob.engine import Analysis

    return Analysis(
        SECTION, DriftAnalysis(pool_label=pool_label or None, baseline=baseline).analyse
    )


def load_snapshots(
    paths: list[Path] | None, demo: bool, cluster: str | None, quiet: bool
) -> list[Snapshot]:
    """Snapshots from files and/or the demo fleet, diagnostics on stderr; exits 2 when
    nothing is readable."""
    loaded, _ = read_inputs(paths, demo, cluster, quiet)
    print_diagnostics(loaded.diagnostics, quiet)
    if not loaded.snapshots:
        if not paths and not demo:
            fail("nothing to read: give SOURCE... or --demo")
        _exit(exit_codes.USAGE)
    return loaded.snapshots


@app.command("init")
def init(
    sources: Annotated[
        list[Path] | None,
        typer.Argument(
            help="Snapshot files, kubectl output, cluster-info dumps.", show_default=False
        ),
    ] = None,
    output: Annotated[Path, typer.Option("--output", "-o", help="Baseline file to write.")] = Path(
        "baseline.yaml"
    ),
    demo: Annotated[bool, typer.Option("--demo", help="Read the embedded demo fleet.")] = False,
    pool_label: Annotated[
        str | None,
        typer.Option(
            "--pool-label", help="Node label naming pools (default: cloud/provisioner labels)."
        ),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q")] = False,
) -> None:
    """Write a baseline from the current majority values, to be edited and committed."""
    from plumbob.drift.attributes import snapshot_attributes
    from plumbob.drift.baseline_init import dump_baseline, initial_baseline

    if output.exists() and not force:
        fail(f"{output} exists; use --force to overwrite it")
        _exit(exit_codes.USAGE)
    snapshots = load_snapshots(sources, demo, None, quiet)
    attrs = {s.cluster.name: snapshot_attributes(s, pool_label) for s in snapshots}
    baseline = initial_baseline(snapshots, attrs)
    try:
        output.write_text(dump_baseline(baseline), encoding="utf-8")
    except OSError as exc:
        fail(f"{output}: cannot write: {exc.strerror or exc}")
        _exit(exit_codes.USAGE)
    if not quiet:
        typer.echo(
            f"wrote {output}: {len(baseline.pools)} pools, "
            f"{len(baseline.cluster.required_components)} components, "
            f"{len(baseline.cluster.approved_registries)} registries",
            err=True,
        )
