"""Shared CLI plumbing: consoles, progress bars, diagnostics on stderr."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from plumbob.cli import exit_codes

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress, TaskID

    from plumbob.checks.registry import Registry
    from plumbob.report.model import Diagnostic
    from plumbob.sources.interface import Loaded, ProgressHook


def stderr_console() -> Console:
    from plumbob.render.terminal import SafeConsole

    return SafeConsole(stderr=True, highlight=False)


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
    with _bar(description, total) as (bar, task):

        def hook(_: str) -> None:
            bar.advance(task)

        yield hook


@contextmanager
def live_progress(description: str, quiet: bool) -> Iterator[ProgressHook | None]:
    """Progress of a live capture: on a terminal a bar whose line also shows the latest retry;
    elsewhere, unless quiet, each retry as a line on stderr. A wait is never silent."""
    from plumbob.sources.live import RETRY

    if quiet:
        yield None
    elif not interactive(quiet):
        console = stderr_console()

        def print_retries(message: str) -> None:
            if message.startswith(RETRY):
                console.print(
                    message, style="yellow", markup=False, highlight=False, soft_wrap=True
                )

        yield print_retries
    else:
        from plumbob.render.terminal import markup_safe

        with _bar(description, None) as (bar, task):

            def hook(message: str) -> None:
                if message.startswith(RETRY):
                    bar.update(
                        task, description=f"{description} [yellow]({markup_safe(message)})[/]"
                    )
                else:
                    bar.advance(task)

            yield hook


@contextmanager
def _bar(description: str, total: int | None) -> Iterator[tuple[Progress, TaskID]]:
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
        yield bar, bar.add_task(description, total=total)


def print_diagnostics(diagnostics: list[Diagnostic], quiet: bool, limit: int = 20) -> None:
    """Input problems on stderr, errors first; the report carries all of them."""
    if not diagnostics:
        return
    from plumbob.render.terminal import markup_safe

    console = stderr_console()
    ordered = sorted(diagnostics, key=lambda d: {"error": 0, "warning": 1}.get(d.level, 2))
    shown = [d for d in ordered if d.level == "error"] if quiet else ordered
    for d in shown[:limit]:
        style = "red" if d.level == "error" else "yellow" if d.level == "warning" else "dim"
        console.print(
            f"[{style}]{d.level}[/]: {markup_safe(d)}", markup=True, highlight=False, soft_wrap=True
        )
    if len(shown) > limit:
        console.print(
            f"... and {len(shown) - limit} more input problems (all are in the "
            "JSON report's diagnostics)",
            style="dim",
        )


def fail(message: str) -> None:
    """One clear line on stderr."""
    from plumbob.render.terminal import markup_safe

    stderr_console().print(f"[red]error[/]: {markup_safe(message)}", soft_wrap=True)


# ---------------------------------------------------------------- options several commands share

Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="No progress, errors only.")]
CustomChecks = Annotated[
    list[Path] | None,
    typer.Option(
        "--custom-checks",
        help="A file of custom checks (YAML, CEL expressions; repeatable), besides those "
        "plumbob.yaml lists under custom-checks.",
        show_default=False,
    ),
]


def registry_with_custom(config_files: Sequence[str], flags: Sequence[Path] | None) -> Registry:
    """The built-in checks and the custom checks of plumbob.yaml's `custom-checks` and of
    `--custom-checks`; a file that cannot be used is one line and exit 2."""
    from plumbob.checks.registry import CheckDefinitionError
    from plumbob.checks.registry import Registry as Checks
    from plumbob.config import ConfigError, load_custom_checks

    registry = Checks.discover()
    files = [Path(f) for f in config_files] + list(flags or ())
    if not files:
        return registry
    try:
        return registry.with_checks(load_custom_checks(files))
    except (ConfigError, CheckDefinitionError) as exc:
        fail(str(exc))
        raise typer.Exit(exit_codes.USAGE) from None


Kubeconfig = Annotated[
    Path | None,
    typer.Option("--kubeconfig", help="Kubeconfig file (default: $KUBECONFIG or ~/.kube/config)."),
]
InCluster = Annotated[
    bool,
    typer.Option(
        "--in-cluster", help="Use the pod's service account (plumbob runs in the cluster)."
    ),
]
Prometheus = Annotated[
    str | None,
    typer.Option(
        "--prometheus",
        envvar="PLUMBOB_PROMETHEUS",
        help="Prometheus URL for GPU utilisation (DCGM exporter metrics).",
    ),
]
PrometheusToken = Annotated[
    str | None,
    typer.Option(
        "--prometheus-token", envvar="PLUMBOB_PROMETHEUS_TOKEN", help="Bearer token for Prometheus."
    ),
]
PrometheusCa = Annotated[
    Path | None,
    typer.Option(
        "--prometheus-ca",
        envvar="PLUMBOB_PROMETHEUS_CA",
        exists=True,
        dir_okay=False,
        readable=True,
        help="PEM bundle of the CA that signed Prometheus's certificate (a private CA); the "
        "certificate is verified either way.",
    ),
]
Window = Annotated[
    str,
    typer.Option("--window", help="Averaging window for GPU metrics (Prometheus duration)."),
]
RequestTimeout = Annotated[
    float,
    typer.Option(
        "--request-timeout",
        min=0.1,
        help="Seconds one API request may wait for a live cluster (to connect, or between bytes "
        "of an answer) before it is retried.",
    ),
]
CaptureTimeout = Annotated[
    float,
    typer.Option(
        "--timeout",
        min=1.0,
        help="Seconds for the whole capture of each live context (discovery and every list, "
        "retries included); what is not read by then is reported not visible, and a server "
        "that never answers is given up on.",
    ),
]
Contexts = Annotated[
    list[str] | None,
    typer.Option("--context", help="Read this kubeconfig context (repeatable)."),
]
AllContexts = Annotated[
    bool, typer.Option("--all-contexts", help="Read every context in the kubeconfig.")
]


def read_inputs(
    paths: list[Path] | None,
    demo: bool,
    cluster: str | None,
    quiet: bool,
    complete: bool = False,
) -> tuple[Loaded, bool]:
    """Snapshots from the demo fleet and/or files, with a progress display. Returns them and
    whether the paths could not be read at all (already reported on stderr)."""
    from plumbob.sources.interface import Loaded, SourceError

    loaded = Loaded()
    if demo:
        from plumbob.sources.demo import DemoSource, DemoSpec

        with progress("generating demo fleet", quiet) as hook:
            loaded.extend(DemoSource(DemoSpec()).load(hook))
    if paths:
        from plumbob.sources.files import FileSource

        try:
            with progress("reading files", quiet) as hook:
                source = FileSource(tuple(paths), cluster=cluster, complete=complete)
                loaded.extend(source.load(hook))
        except SourceError as exc:
            fail(str(exc))
            return loaded, True
    return loaded, False
