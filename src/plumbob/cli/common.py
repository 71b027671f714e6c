"""Shared CLI plumbing: consoles, progress bars, diagnostics on stderr."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console

    from plumbob.report.model import Diagnostic
    from plumbob.sources.interface import ProgressHook


def stderr_console() -> Console:
    from rich.console import Console

    return Console(stderr=True, highlight=False)


def interactive(quiet: bool) -> bool:
    return not quiet and sys.stderr.isatty() and not os.environ.get("CI")


@contextmanager
def progress(
    description: str, quiet: bool, total: int | None = None
) -> Iterator[ProgressHook | None]:
    """A rich progress bar on an interactive terminal; nothing in CI or with --quiet."""
    if not interactive(quiet):
        yield None
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
    )

    columns = [
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    ]
    with Progress(*columns, console=stderr_console(), transient=True) as bar:
        task = bar.add_task(description, total=total)

        def hook(_: str) -> None:
            bar.advance(task)

        yield hook


def print_diagnostics(diagnostics: list[Diagnostic], quiet: bool, limit: int = 20) -> None:
    """Input problems on stderr, errors first; the report carries all of them."""
    if not diagnostics:
        return
    console = stderr_console()
    ordered = sorted(diagnostics, key=lambda d: {"error": 0, "warning": 1}.get(d.level, 2))
    shown = [d for d in ordered if d.level == "error"] if quiet else ordered
    for d in shown[:limit]:
        style = "red" if d.level == "error" else "yellow" if d.level == "warning" else "dim"
        console.print(f"[{style}]{d.level}[/]: {d}", markup=True, highlight=False, soft_wrap=True)
    if len(shown) > limit:
        console.print(
            f"... and {len(shown) - limit} more input problems (all are in the "
            "JSON report's diagnostics)",
            style="dim",
        )


def fail(message: str) -> None:
    """One clear line on stderr."""
    stderr_console().print(f"[red]error[/]: {message}", soft_wrap=True)
