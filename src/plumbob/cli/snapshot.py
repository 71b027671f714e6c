"""`plumbob snapshot`: capture live clusters to plumbob snapshot files that `scan` reads offline;
also the live-cluster and Prometheus plumbing `scan` shares."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

from plumbob.cli import exit_codes
from plumbob.cli.common import (
    InCluster,
    Kubeconfig,
    Prometheus,
    PrometheusCa,
    PrometheusToken,
    Quiet,
    RequestTimeout,
    Window,
    fail,
    print_diagnostics,
    progress,
)

if TYPE_CHECKING:
    from plumbob.model.snapshot import Snapshot
    from plumbob.report.model import Diagnostic
    from plumbob.sources.interface import Loaded


def _exit(code: int) -> NoReturn:
    raise typer.Exit(code)


def live_requested(
    contexts: Sequence[str] | None, all_contexts: bool, kubeconfig: Path | None, in_cluster: bool
) -> bool:
    return bool(contexts) or all_contexts or kubeconfig is not None or in_cluster


def load_live(
    loaded: Loaded,
    *,
    contexts: Sequence[str] | None,
    all_contexts: bool,
    kubeconfig: Path | None,
    in_cluster: bool,
    cluster: str | None,
    quiet: bool,
    timeout: float = 60.0,
) -> list[Diagnostic]:
    """Capture the asked-for contexts into `loaded`. A context that cannot be read is one error
    line naming it, printed here and returned as a diagnostic for the report (not added to
    `loaded`, whose diagnostics the caller prints); nothing readable at all exits with the
    usage code."""
    from plumbob.checks.kinds import capture_kinds
    from plumbob.checks.registry import Registry
    from plumbob.sources.interface import SourceError
    from plumbob.sources.live import CaptureOptions, LiveSource

    source = LiveSource(
        contexts=tuple(contexts or ()),
        all_contexts=all_contexts,
        kubeconfig=str(kubeconfig) if kubeconfig else None,
        in_cluster=True if in_cluster else None,
        cluster=cluster,
        options=CaptureOptions(kinds=capture_kinds(Registry.discover()), timeout=timeout),
    )
    try:
        with progress("reading cluster", quiet) as hook:
            result = source.load(hook)
    except SourceError as exc:
        fail(str(exc))
        if not loaded.snapshots:
            _exit(exit_codes.USAGE)
        return []
    from plumbob.report.model import DiagnosticCode

    failed = [d for d in result.diagnostics if d.code == DiagnosticCode.CONTEXT_UNREACHABLE]
    for diag in failed:
        fail(diag.message)
    from plumbob.sources.interface import Loaded

    loaded.extend(Loaded(result.snapshots, [d for d in result.diagnostics if d not in failed]))
    return failed


def with_gpu_metrics(
    loaded: Loaded,
    prometheus: str,
    token: str | None,
    window: str,
    quiet: bool,
    ca_file: Path | None = None,
) -> None:
    """Query Prometheus once and attach GPU utilisation to every snapshot in `loaded`."""
    from plumbob.sources.prometheus import PrometheusQuery, attach, fetch_gpu_metrics

    try:
        query = PrometheusQuery(
            url=prometheus,
            token=token,
            window=window,
            ca_file=str(ca_file) if ca_file is not None else None,
        )
    except ValueError as exc:
        fail(str(exc))
        _exit(exit_codes.USAGE)
    with progress("querying Prometheus", quiet):
        metrics, diags = fetch_gpu_metrics(query)
    loaded.diagnostics.extend(diags)
    loaded.snapshots[:] = attach(loaded.snapshots, metrics)


def snapshot(
    output: Annotated[
        Path,
        typer.Option(
            "--output",
            "-o",
            help="Snapshot file (.json or .json.gz); with several contexts, a "
            "directory that gets CONTEXT.json.gz per context.",
        ),
    ],
    context: Annotated[
        list[str] | None,
        typer.Option(
            "--context",
            help="Kubeconfig context to capture (repeatable; default: the current context).",
        ),
    ] = None,
    all_contexts: Annotated[
        bool, typer.Option("--all-contexts", help="Capture every context in the kubeconfig.")
    ] = False,
    kubeconfig: Kubeconfig = None,
    in_cluster: InCluster = False,
    cluster: Annotated[
        str | None,
        typer.Option("--cluster", help="Cluster name to record (default: the context name)."),
    ] = None,
    prometheus: Prometheus = None,
    prometheus_token: PrometheusToken = None,
    prometheus_ca: PrometheusCa = None,
    window: Window = "24h",
    request_timeout: RequestTimeout = 60.0,
    quiet: Quiet = False,
) -> None:
    """Capture live clusters to snapshot files for offline `plumbob scan FILE`."""
    from plumbob.sources.interface import Loaded
    from plumbob.sources.snapshot_file import write_snapshot

    loaded = Loaded()
    load_live(
        loaded,
        contexts=context,
        all_contexts=all_contexts,
        kubeconfig=kubeconfig,
        in_cluster=in_cluster,
        cluster=cluster,
        quiet=quiet,
        timeout=request_timeout,
    )
    if prometheus:
        with_gpu_metrics(loaded, prometheus, prometheus_token, window, quiet, prometheus_ca)
    print_diagnostics(loaded.diagnostics, quiet)
    targets = _outputs(output, loaded.snapshots)
    for snap, path in targets:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            write_snapshot(snap, path)
        except OSError as exc:
            fail(f"cannot write {path}: {exc.strerror or exc}")
            _exit(exit_codes.USAGE)
        if not quiet:
            typer.echo(
                f"{path}: {snap.cluster.name}, {len(snap)} objects"
                + (f", {len(snap.not_visible)} kinds not visible" if snap.not_visible else ""),
                err=True,
            )


def _outputs(output: Path, snapshots: Sequence[Snapshot]) -> list[tuple[Snapshot, Path]]:
    if len(snapshots) == 1 and not output.is_dir():
        return [(snapshots[0], output)]
    if output.exists() and not output.is_dir():
        fail(f"{output}: several contexts were captured; give a directory for --output")
        _exit(exit_codes.USAGE)
    return [
        (s, output / f"{_safe(s.cluster.context or s.cluster.name)}.json.gz") for s in snapshots
    ]


def _safe(name: str) -> str:
    """A context name as a file name (EKS contexts are ARNs with ':' and '/')."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or "cluster"
