"""`plumbob demo`: write the embedded demo fleet to a file."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from plumbob.cli.common import progress
from plumbob.report.text import shown_line


class DemoFormat(StrEnum):
    SNAPSHOT = "snapshot"
    KUBECTL = "kubectl"


def demo(
    output: Annotated[Path, typer.Option("--output", "-o", help="File to write (.gz compresses).")],
    nodes: Annotated[int, typer.Option("--nodes", min=3, help="Number of nodes.")] = 48,
    pods: Annotated[int, typer.Option("--pods", min=0, help="Number of pods.")] = 900,
    seed: Annotated[int, typer.Option("--seed", help="Random seed (same seed, same fleet).")] = 7,
    as_format: Annotated[
        DemoFormat,
        typer.Option(
            "--as",
            help="snapshot: plumbob snapshot "
            "file; kubectl: a `kubectl get -o json` List with every field real "
            "API objects carry.",
        ),
    ] = DemoFormat.SNAPSHOT,
    quiet: Annotated[bool, typer.Option("--quiet", "-q")] = False,
) -> None:
    """Generate a realistic, deterministic AI platform cluster with planted defects."""
    from plumbob.sources.demo import DemoSource, DemoSpec, write_kubectl_list
    from plumbob.sources.snapshot_file import write_snapshot

    with progress("generating", quiet, total=None) as hook:
        if as_format is DemoFormat.KUBECTL:
            count = write_kubectl_list(
                DemoSpec(nodes=nodes, pods=pods, seed=seed, managed_fields=True), output
            )
        else:
            loaded = DemoSource(DemoSpec(nodes=nodes, pods=pods, seed=seed)).load(hook)
            snap = loaded.snapshots[0]
            write_snapshot(snap, output)
            count = len(snap)
    if not quiet:
        typer.echo(shown_line(f"wrote {count} objects to {output}"), err=True)
