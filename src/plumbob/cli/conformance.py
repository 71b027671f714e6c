"""`plumbob conformance`: CNCF Kubernetes AI Conformance pre-check from a read-only scan."""

from __future__ import annotations

import enum
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

from plumbob.cli import exit_codes
from plumbob.cli.common import (
    AllContexts,
    CaptureTimeout,
    Contexts,
    InCluster,
    Kubeconfig,
    Quiet,
    RequestTimeout,
    fail,
    print_diagnostics,
    read_inputs,
)

if TYPE_CHECKING:
    from plumbob.conformance import Assessment
    from plumbob.model.snapshot import Snapshot


class ConformanceFormat(enum.StrEnum):
    TABLE = "table"
    JSON = "json"


STYLE = {"ready": "green", "not ready": "red", "not visible": "yellow", "not applicable": "dim"}


def _exit(code: int) -> NoReturn:
    raise typer.Exit(code)


def conformance(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(
            help="Snapshot files, kubectl -o json/yaml output, manifests or cluster-info dumps.",
            show_default=False,
        ),
    ] = None,
    demo: Annotated[bool, typer.Option("--demo", help="Check the embedded demo fleet.")] = False,
    version: Annotated[
        str | None,
        typer.Option(
            "--version",
            help="Checklist version (e.g. 1.35); default: the cluster's minor when a "
            "checklist exists for it, else the newest.",
        ),
    ] = None,
    output_format: Annotated[
        ConformanceFormat, typer.Option("--format", "-f", help="Output format.")
    ] = ConformanceFormat.TABLE,
    product_yaml: Annotated[
        Path | None,
        typer.Option(
            "--product-yaml",
            help="Write the checklist in PRODUCT.yaml shape, statuses and notes "
            "filled (one file per cluster when several).",
        ),
    ] = None,
    cluster: Annotated[
        str | None,
        typer.Option(
            "--cluster",
            help="Cluster name for what the paths hold (manifests and kubectl output, or the one "
            "snapshot file or dump given), or for one context.",
        ),
    ] = None,
    fail_on_not_ready: Annotated[
        bool,
        typer.Option(
            "--fail-on-not-ready",
            help=f"Exit {exit_codes.FINDINGS} when a MUST requirement is not ready.",
        ),
    ] = False,
    context: Contexts = None,
    all_contexts: AllContexts = False,
    kubeconfig: Kubeconfig = None,
    in_cluster: InCluster = False,
    request_timeout: RequestTimeout = 20.0,
    timeout: CaptureTimeout = 60.0,
    quiet: Quiet = False,
) -> None:
    """Pre-check the CNCF Kubernetes AI Conformance requirements (read-only: creates nothing).
    With no PATH, --context or --demo: the kubeconfig's current context, as kubectl does."""
    from plumbob import conformance as cc
    from plumbob import engine
    from plumbob.checks.registry import Registry
    from plumbob.cli.snapshot import current_context, live_requested, load_live

    live = live_requested(context, all_contexts, kubeconfig, in_cluster)
    if not paths and not demo and not live:
        live = current_context("check", quiet)
    if version is not None:
        version = version.removeprefix("v")
        if version not in cc.versions():
            fail(
                f"--version {version}: no AI conformance checklist for it; "
                f"have {', '.join(cc.versions())}"
            )
            _exit(exit_codes.USAGE)
    loaded, unreadable = read_inputs(paths, demo, cluster, quiet)
    if unreadable and not loaded.snapshots:
        _exit(exit_codes.USAGE)
    failed_contexts = []
    if live:
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
    if not loaded.snapshots:
        fail("nothing readable to check")
        _exit(exit_codes.USAGE)
    print_diagnostics(loaded.diagnostics, quiet)
    loaded.diagnostics.extend(failed_contexts)  # printed when they happened
    report = engine.run(loaded.snapshots, Registry.discover(), diagnostics=loaded.diagnostics)
    results: list[tuple[Snapshot, str, list[Assessment]]] = []
    for snap in loaded.snapshots:
        chosen = version or cc.default_version(snap)
        results.append((snap, chosen, cc.assess(snap, report.findings, chosen)))
    if output_format is ConformanceFormat.JSON:
        json.dump([_as_json(s, v, a) for s, v, a in results], sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        _table(results)
    if product_yaml is not None:
        _write_product(product_yaml, results)
    if fail_on_not_ready and any(
        a.requirement.level == "MUST" and a.status.value == "not ready"
        for _, _, assessments in results
        for a in assessments
    ):
        _exit(exit_codes.FINDINGS)


def _as_json(snap: Snapshot, version: str, assessments: list[Assessment]) -> dict[str, Any]:
    return {
        "cluster": snap.cluster.name,
        "version": version,
        "requirements": [
            {
                "id": a.requirement.id,
                "category": a.requirement.category,
                "title": a.requirement.title,
                "level": a.requirement.level,
                "status": a.status.value,
                "evidence": list(a.evidence),
                "notes": a.notes,
            }
            for a in assessments
        ],
    }


def _table(results: list[tuple[Snapshot, str, list[Assessment]]]) -> None:
    from rich.markup import escape
    from rich.table import Table

    from plumbob.conformance import table_sources
    from plumbob.render.terminal import SafeConsole, markup_safe

    console = SafeConsole(highlight=False)
    for snap, version, assessments in results:
        table = Table(
            title=f"{markup_safe(snap.cluster.name)}: Kubernetes AI Conformance v{version} "
            f"pre-check (read-only)",
            show_lines=True,
            expand=False,
        )
        table.add_column("Requirement", no_wrap=True)
        table.add_column("Level")
        table.add_column("Status", no_wrap=True)
        table.add_column("Evidence / notes", overflow="fold")
        for a in assessments:
            text = "\n".join([*a.evidence, *([a.notes] if a.notes else [])]) or "-"
            status = a.status.value
            table.add_row(
                a.requirement.id, a.requirement.level, f"[{STYLE[status]}]{status}[/]", escape(text)
            )
        console.print(table)
        counts: dict[str, int] = {}
        for a in assessments:
            counts[a.status.value] = counts.get(a.status.value, 0) + 1
        musts = [a for a in assessments if a.requirement.level == "MUST"]
        must_ready = sum(1 for a in musts if a.status.value == "ready")
        console.print(
            ", ".join(f"{n} {s}" for s, n in counts.items())
            + f"; MUST ready: {must_ready}/{len(musts)}"
        )
    console.print(f"[dim]Requirement levels: {'; '.join(table_sources()[:1])}[/]")


def _write_product(path: Path, results: list[tuple[Snapshot, str, list[Assessment]]]) -> None:
    import yaml

    from plumbob.conformance import product_yaml

    for snap, version, assessments in results:
        target = path
        if len(results) > 1:
            target = path.with_name(f"{path.stem}-{snap.cluster.name}{path.suffix}")
        doc = product_yaml(assessments, version, snap)
        header = (
            f"# Kubernetes AI Conformance checklist v{version}, pre-filled by plumbob from "
            f"a read-only scan.\n# Statuses are what the scan could see; attach the "
            f"official test results as evidence before submitting.\n"
        )
        try:
            target.write_text(
                header + yaml.safe_dump(doc, sort_keys=False, width=100), encoding="utf-8"
            )
        except OSError as exc:
            fail(f"{target}: cannot write: {exc.strerror or exc}")
            _exit(exit_codes.USAGE)
