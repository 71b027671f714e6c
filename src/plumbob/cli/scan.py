"""`plumbob scan`: read snapshots, run the checks, render the report."""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

from plumbob.cli import exit_codes
from plumbob.cli.common import (
    AllContexts,
    CaptureTimeout,
    Contexts,
    CustomChecks,
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
    read_inputs,
    registry_with_custom,
)
from plumbob.render.interface import Format
from plumbob.report.model import Severity

if TYPE_CHECKING:
    from plumbob import engine as engine_config
    from plumbob.checks.options import CheckOptions
    from plumbob.cli.outputs import Target
    from plumbob.render.interface import HistoryPoint


def _exit(code: int) -> NoReturn:
    raise typer.Exit(code)


def scan(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(
            help="Snapshot files, kubectl -o json/yaml output, manifest files or directories, "
            "cluster-info dumps.",
            show_default=False,
        ),
    ] = None,
    demo: Annotated[bool, typer.Option("--demo", help="Scan the embedded demo fleet.")] = False,
    output_format: Annotated[
        list[str] | None,
        typer.Option(
            "--format",
            "-f",
            help=f"Output format(s): {', '.join(f.value for f in Format)}; repeat or "
            "comma-separate for several (default: table).",
            show_default=False,
        ),
    ] = None,
    output: Annotated[
        list[str] | None,
        typer.Option(
            "--output",
            "-o",
            help="Write a report to a file: FORMAT=PATH (repeatable, e.g. --output "
            "sarif=plumbob.sarif --output html=report.html), or PATH for the one --format "
            "given, else the format its suffix names (.json .html .sarif .xml .md .txt).",
            show_default=False,
        ),
    ] = None,
    report_json: Annotated[
        Path | None, typer.Option("--report-json", help="Also write the JSON report to this file.")
    ] = None,
    fail_on: Annotated[
        Severity | None,
        typer.Option("--fail-on", help="Exit 1 when a finding at or above this severity exists."),
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config", "-c", help="plumbob.yaml: severity overrides, exemptions, options."
        ),
    ] = None,
    custom_checks: CustomChecks = None,
    cluster: Annotated[
        str | None,
        typer.Option(
            "--cluster",
            help="Cluster name for what the paths hold: manifests and kubectl output, or "
            "the one snapshot file or dump given.",
        ),
    ] = None,
    complete: Annotated[
        bool,
        typer.Option(
            "--complete",
            help="The files hold the whole cluster (a GitOps repository, a full capture): a "
            "kind they do not contain has no objects, instead of being not visible.",
        ),
    ] = False,
    strict: Annotated[
        bool,
        typer.Option(
            "--strict",
            help="Exit 2 (after writing the report) when any input was not read, a context "
            "was unreachable or a check could not see what it reads.",
        ),
    ] = False,
    max_per_check: Annotated[
        int,
        typer.Option("--max-per-check", help="Findings shown per check in the terminal report."),
    ] = 8,
    quiet: Quiet = False,
    target_version: Annotated[
        str | None,
        typer.Option(
            "--target-version",
            help="Also flag API versions removed by this Kubernetes release (e.g. 1.33); "
            "over option target-version in plumbob.yaml.",
        ),
    ] = None,
    baseline: Annotated[
        Path | None,
        typer.Option("--baseline", help="Baseline (intent) YAML: report every deviation."),
    ] = None,
    store: Annotated[
        str | None,
        typer.Option(
            "--store",
            envvar="PLUMBOB_STORE",
            help="Record the scan: postgresql://..., sqlite:///file.db, a path, or "
            "'default' (SQLite in your data directory).",
        ),
    ] = None,
    pool_label: Annotated[
        str | None,
        typer.Option(
            "--pool-label",
            help="Node label naming pools (default: cloud/provisioner labels, "
            "then instance type + GPU).",
        ),
    ] = None,
    context: Contexts = None,
    all_contexts: AllContexts = False,
    kubeconfig: Kubeconfig = None,
    in_cluster: InCluster = False,
    prometheus: Prometheus = None,
    prometheus_token: PrometheusToken = None,
    prometheus_ca: PrometheusCa = None,
    window: Window = "24h",
    request_timeout: RequestTimeout = 20.0,
    timeout: CaptureTimeout = 60.0,
    prices: Annotated[
        Path | None,
        typer.Option(
            "--prices",
            help="GPU price file (rows: gpu_product, usd_per_gpu_hour) over the "
            "shipped list prices, for idle-GPU cost; over option prices in plumbob.yaml.",
        ),
    ] = None,
    timings: Annotated[
        bool,
        typer.Option(
            "--timings",
            help="Print where the scan's time went (reading, checks, report) and the slowest "
            "checks and analyses on stderr.",
        ),
    ] = False,
) -> None:
    """Scan clusters for AI-readiness gaps and drift (with no PATH, --context or --demo: the
    kubeconfig's current context, as kubectl does)."""
    from plumbob import config as configuration
    from plumbob import engine
    from plumbob.cli.snapshot import current_context, live_requested, load_live, with_gpu_metrics
    from plumbob.report.text import encodable

    if cluster is not None:  # bytes that were not UTF-8 kept as \xff text (report/text.py)
        cluster = encodable(cluster)
    live = live_requested(context, all_contexts, kubeconfig, in_cluster)
    if not paths and not demo and not live:
        live = current_context("scan", quiet)
    targets = _output_targets(output_format, output, report_json)
    cfg = configuration.Config()
    if config is not None:
        try:
            cfg = configuration.load_config_at(config)
        except configuration.ConfigError as exc:
            fail(str(exc))
            _exit(exit_codes.USAGE)
    registry = registry_with_custom(cfg.custom_checks, custom_checks)
    from plumbob.cli.baseline import drift_analysis, read_baseline

    intent = read_baseline(baseline)  # a bad baseline fails before any reading
    flags: dict[str, object] = {"--prices": prices, "--target-version": target_version}
    options = configuration.check_options(
        cfg,
        registry,
        {flag: value for flag, value in flags.items() if value is not None},
        baseline=intent.baseline if intent is not None else None,
    )  # every value converted here, once: a price file is read once, before any input
    where = f"{config}: " if config is not None else ""
    problems = [where + p for p in configuration.config_problems(cfg, registry, options)]
    problems += options.flag_problems
    for problem in problems:
        fail(problem)
    if problems:
        _exit(exit_codes.USAGE)
    drift = drift_analysis(pool_label, intent)
    recorder = None
    if store is not None:  # so does a bad store URL: open it before a long scan
        from plumbob.cli.history import open_or_exit

        recorder = open_or_exit(store)
    from plumbob import IMPORTED_AT

    started = time.perf_counter()
    phases = {"start-up (imports, options)": started - IMPORTED_AT}
    loaded, unreadable = read_inputs(paths, demo, cluster, quiet, complete)
    phases["reading inputs"] = time.perf_counter() - started
    if unreadable and not loaded.snapshots:
        _exit(exit_codes.USAGE)
    failed_contexts = []
    if live:
        started = time.perf_counter()
        failed_contexts = load_live(
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
        phases["reading live clusters"] = time.perf_counter() - started
    if prometheus and loaded.snapshots:
        started = time.perf_counter()
        with_gpu_metrics(loaded, prometheus, prometheus_token, window, quiet, prometheus_ca)
        phases["querying Prometheus"] = time.perf_counter() - started
    print_diagnostics(loaded.diagnostics, quiet)
    loaded.diagnostics.extend(failed_contexts)  # printed when they happened
    spent: dict[str, float] = {}
    started = time.perf_counter()
    report = engine.run(
        loaded.snapshots,
        registry,
        cfg,
        diagnostics=loaded.diagnostics,
        analyses=[drift, _cost_analysis(options)],
        timings=spent,
        inputs=loaded.inputs,
        options=options,
    )
    phases["checks and analyses"] = time.perf_counter() - started
    started = time.perf_counter()
    history = _history(recorder, report, targets)
    _write(report, targets, registry, fail_on, max_per_check, history, quiet)
    phases["writing the report"] = time.perf_counter() - started
    if timings:
        _print_timings(phases, spent)
    if recorder is not None:
        from plumbob.cli.history import record

        record(recorder, report, loaded.snapshots, pool_label, quiet, sum(phases.values()))
    if report_json is not None:
        from plumbob.cli.outputs import OutputError, write_file
        from plumbob.render import json as json_renderer

        try:
            write_file(report_json, json_renderer.encode(report))
        except OutputError as exc:
            fail(str(exc))
            _exit(exit_codes.USAGE)
    if strict:
        blind = _blind_spots(report, failed_contexts)
        if blind:
            fail(f"--strict: {blind}")
            _exit(exit_codes.USAGE)
    if fail_on is not None and engine.count_at_or_above(report, fail_on):
        _exit(exit_codes.FINDINGS)


def _blind_spots(report: object, failed_contexts: Sequence[object]) -> str | None:
    """What --strict refuses, in one line: unread files, unreachable contexts, checks that
    could not see their input."""
    from plumbob.report.model import Report

    assert isinstance(report, Report)
    parts = []
    if report.inputs is not None and report.inputs.unread:
        parts.append(f"{len(report.inputs.unread)} input files not read")
    if failed_contexts:
        parts.append(f"{len(failed_contexts)} contexts not reachable")
    not_assessed = {c for nv in report.not_visible for c in nv.checks}
    if not_assessed:
        parts.append(f"{len(not_assessed)} checks not (wholly) assessed")
    return "; ".join(parts) or None


def _output_targets(
    formats: list[str] | None, outputs: list[str] | None, report_json: Path | None
) -> list[Target]:
    """The outputs asked for, checked before anything is read: an unknown format, a missing
    folder or a folder that is not writable is one line and exit 2."""
    from plumbob.cli.outputs import OutputError, check_writable, plan

    try:
        targets = plan(formats, outputs)
        for path in [t.path for t in targets if t.path is not None] + [report_json]:
            if path is not None:
                check_writable(path)
    except OutputError as exc:
        fail(str(exc))
        _exit(exit_codes.USAGE)
    return targets


def _write(
    report: object,
    targets: list[Target],
    registry: object,
    fail_on: Severity | None,
    max_per_check: int,
    history: Sequence[HistoryPoint],
    quiet: bool,
) -> None:
    from plumbob.checks.registry import Registry
    from plumbob.cli.outputs import OutputError, write
    from plumbob.report.model import Report

    assert isinstance(report, Report) and isinstance(registry, Registry)
    try:
        written = write(
            report,
            targets,
            registry=registry,
            fail_on=fail_on,
            max_per_check=max_per_check,
            history=history,
        )
    except OutputError as exc:
        fail(str(exc))
        _exit(exit_codes.USAGE)
    if not quiet:
        for t in written:
            typer.echo(f"wrote the {t.format.value} report to {t.path}", err=True)


def _history(recorder: object, report: object, targets: list[Target]) -> list[HistoryPoint]:
    """Earlier scans of the report's clusters from the store (for the HTML report's history),
    and this one; nothing without a store or an HTML output."""
    if recorder is None or not any(t.format is Format.HTML for t in targets):
        return []
    from plumbob.render.interface import HistoryPoint
    from plumbob.report.model import Report
    from plumbob.store import SqlStore, StoreError

    assert isinstance(report, Report) and isinstance(recorder, SqlStore)
    points = []
    try:
        for inv in report.clusters:
            for info in recorder.scans(cluster=inv.cluster, limit=30):
                scores = recorder.summary(info.id).get("scores")
                overall = scores.get("overall") if isinstance(scores, dict) else None
                points.append(
                    HistoryPoint(
                        cluster=info.cluster,
                        scanned_at=info.scanned_at,
                        score=overall if isinstance(overall, int) else None,
                        findings=info.findings,
                        nodes=info.nodes,
                    )
                )
    except StoreError as exc:
        fail(f"history not shown: {exc}")
    points.extend(
        HistoryPoint(
            cluster=inv.cluster,
            scanned_at=report.generated_at,
            score=report.scores.overall,
            findings=sum(1 for f in report.findings if f.cluster == inv.cluster),
            nodes=inv.nodes,
        )
        for inv in report.clusters
    )
    return points


def _print_timings(phases: dict[str, float], spent: dict[str, float], shown: int = 15) -> None:
    """Where the scan's time went, then the slowest checks and analyses, on stderr. (An index
    of a snapshot is built by the first check that asks for it and counts in its time.)"""
    from rich.table import Table

    from plumbob.cli.common import stderr_console

    console = stderr_console()
    table = Table(title="Where the time went", title_justify="left", box=None)
    table.add_column("phase")
    table.add_column("seconds", justify="right")
    for name, seconds in phases.items():
        table.add_row(name, f"{seconds:.3f}")
    console.print(table)
    table = Table(title="Slowest checks and analyses", title_justify="left", box=None)
    table.add_column("check or analysis")
    table.add_column("seconds", justify="right")
    for name, seconds in sorted(spent.items(), key=lambda kv: -kv[1])[:shown]:
        table.add_row(name, f"{seconds:.3f}")
    table.add_row("all", f"{sum(spent.values()):.3f}", style="bold")
    console.print(table)


def _cost_analysis(options: CheckOptions) -> engine_config.Analysis:
    """The `gpu-cost` report section (GPU totals and idle cost per cluster and pool), priced with
    the table gpu-idle got."""
    from functools import partial

    from plumbob import engine
    from plumbob.checks.cost.summary import SECTION, cost_section
    from plumbob.checks.options import PRICES

    return engine.Analysis(SECTION, partial(cost_section, prices=options.value("gpu-idle", PRICES)))
