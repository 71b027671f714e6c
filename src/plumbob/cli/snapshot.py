"""`plumbob snapshot`: capture live clusters to plumbob snapshot files that `scan` reads offline;
also the live-cluster and Prometheus plumbing `scan` shares."""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

from plumbob.cli import exit_codes
from plumbob.cli.common import (
    AllContexts,
    CaptureTimeout,
    InCluster,
    Kubeconfig,
    Prometheus,
    PrometheusCa,
    PrometheusToken,
    Quiet,
    RequestTimeout,
    Window,
    fail,
    live_progress,
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


def current_context(command: str, quiet: bool) -> bool:
    """With nothing named to read, the kubeconfig's current context (or, in a pod without a
    kubeconfig, its service account), as kubectl does, said on stderr. Exits with the usage
    code when there is none. Returns True (read live)."""
    from plumbob.sources.kube_client import ContextError, in_cluster_available, list_contexts

    try:
        _, current = list_contexts(None)
    except ContextError as exc:
        if in_cluster_available():
            if not quiet:
                typer.echo(f"{command}: reading this pod's cluster (its service account)", err=True)
            return True
        fail(
            f"nothing to {command}: give PATH..., --context NAME or --demo; there is no "
            f"current context to use ({exc})"
        )
        _exit(exit_codes.USAGE)
    if current is None:
        fail(
            f"nothing to {command}: give PATH..., --context NAME or --demo; the kubeconfig "
            "has no current-context"
        )
        _exit(exit_codes.USAGE)
    if not quiet:
        where = os.environ.get("KUBECONFIG") or "~/.kube/config"
        typer.echo(
            f"{command}: reading context {current}, the current context of {where} "
            "(give PATH..., --context or --demo for something else)",
            err=True,
        )
    return True


def load_live(
    loaded: Loaded,
    *,
    contexts: Sequence[str] | None,
    all_contexts: bool,
    kubeconfig: Path | None,
    in_cluster: bool,
    cluster: str | None,
    quiet: bool,
    timeout: float = 20.0,
    deadline: float = 60.0,
) -> list[Diagnostic]:
    """Capture the asked-for contexts into `loaded`. A context that cannot be read is one error
    line naming it, printed here and returned as a diagnostic for the report (not added to
    `loaded`, whose diagnostics the caller prints); nothing readable at all exits with the
    usage code."""
    from plumbob.checks.kinds import capture_kinds
    from plumbob.checks.registry import Registry
    from plumbob.report.text import encodable
    from plumbob.sources.interface import SourceError
    from plumbob.sources.live import CaptureOptions, LiveSource

    source = LiveSource(
        contexts=tuple(contexts or ()),
        all_contexts=all_contexts,
        kubeconfig=str(kubeconfig) if kubeconfig else None,
        in_cluster=True if in_cluster else None,
        cluster=encodable(cluster) if cluster else cluster,
        options=CaptureOptions(
            kinds=capture_kinds(Registry.discover()), timeout=timeout, deadline=deadline
        ),
    )
    try:
        with live_progress("reading cluster", quiet) as hook:
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
        str,
        typer.Option(
            "--output",
            "-o",
            metavar="PATH",
            help="Snapshot file (.json or .json.gz); a folder, which gets CONTEXT.json.gz per "
            "context captured, when PATH ends with '/', is an existing folder, or several "
            "contexts are asked for.",
        ),
    ],
    context: Annotated[
        list[str] | None,
        typer.Option(
            "--context",
            help="Kubeconfig context to capture (repeatable; default: the current context).",
        ),
    ] = None,
    all_contexts: AllContexts = False,
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
    request_timeout: RequestTimeout = 20.0,
    timeout: CaptureTimeout = 60.0,
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
        deadline=timeout,
    )
    if prometheus:
        with_gpu_metrics(loaded, prometheus, prometheus_token, window, quiet, prometheus_ca)
    print_diagnostics(loaded.diagnostics, quiet)
    several = all_contexts or len(set(context or ())) > 1
    targets = _outputs(output, loaded.snapshots, several)
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


def _outputs(
    output: str, snapshots: Sequence[Snapshot], several: bool
) -> list[tuple[Snapshot, Path]]:
    """Where each snapshot goes: `output` itself, or CONTEXT.json.gz in the folder `output`
    when it ends with '/', is a folder, or several contexts were asked for (whichever of them
    could be read: what a caller finds there does not depend on which ones failed)."""
    path = Path(output)
    if not (several or output.endswith(("/", os.sep)) or path.is_dir()):
        return [(s, path) for s in snapshots[:1]]
    if path.exists() and not path.is_dir():
        fail(f"{output}: is a file; several contexts go to a folder: give one for --output")
        _exit(exit_codes.USAGE)
    return [(s, path / f"{_safe(s.cluster.context or s.cluster.name)}.json.gz") for s in snapshots]


def _safe(name: str) -> str:
    """A context name as a file name (EKS contexts are ARNs with ':' and '/')."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or "cluster"
