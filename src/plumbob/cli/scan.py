"""`plumbob scan`: read snapshots, run the checks, render the report."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, NoReturn, assert_never

import typer

from plumbob.cli import exit_codes
from plumbob.cli.common import fail, print_diagnostics, progress
from plumbob.render.interface import Format
from plumbob.report.model import Severity


def _exit(code: int) -> NoReturn:
    raise typer.Exit(code)


def scan(
    paths: Annotated[list[Path] | None, typer.Argument(
        help="Snapshot files, kubectl -o json/yaml output, manifest files or directories, "
             "cluster-info dumps.", show_default=False)] = None,
    demo: Annotated[bool, typer.Option("--demo", help="Scan the embedded demo fleet.")] = False,
    output_format: Annotated[Format, typer.Option("--format", "-f", help="Output format.")
                             ] = Format.TABLE,
    output: Annotated[Path | None, typer.Option("--output", "-o",
                      help="Write the report here instead of stdout.")] = None,
    report_json: Annotated[Path | None, typer.Option("--report-json",
                           help="Also write the JSON report to this file.")] = None,
    fail_on: Annotated[Severity | None, typer.Option("--fail-on",
                       help="Exit 1 when a finding at or above this severity exists.")] = None,
    config: Annotated[Path | None, typer.Option("--config", "-c",
                      help="plumbob.yaml: severity overrides, exemptions, options.")] = None,
    cluster: Annotated[str | None, typer.Option("--cluster",
                       help="Cluster name for manifests read from files.")] = None,
    max_per_check: Annotated[int, typer.Option("--max-per-check",
                             help="Findings shown per check in the terminal report.")] = 8,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress, errors only.")
                     ] = False,
) -> None:
    """Scan clusters for AI-readiness gaps and drift."""
    from plumbob import engine  # noqa: PLC0415
    from plumbob.checks.registry import Registry  # noqa: PLC0415
    from plumbob.sources.interface import Loaded, SourceError  # noqa: PLC0415

    if not paths and not demo:
        fail("nothing to scan: give PATH... or --demo (see plumbob scan --help)")
        _exit(exit_codes.USAGE)
    cfg = engine.Config()
    if config is not None:
        try:
            cfg = engine.load_config(config)
        except engine.ConfigError as exc:
            fail(str(exc))
            _exit(exit_codes.USAGE)
    loaded = Loaded()
    if demo:
        from plumbob.sources.demo import DemoSource, DemoSpec  # noqa: PLC0415

        with progress("generating demo fleet", quiet) as hook:
            loaded.extend(DemoSource(DemoSpec()).load(hook))
    if paths:
        from plumbob.sources.files import FileSource  # noqa: PLC0415

        try:
            with progress("reading files", quiet) as hook:
                loaded.extend(FileSource(tuple(paths), cluster=cluster).load(hook))
        except SourceError as exc:
            fail(str(exc))
            if not loaded.snapshots:
                _exit(exit_codes.USAGE)
    print_diagnostics(loaded.diagnostics, quiet)
    report = engine.run(loaded.snapshots, Registry.discover(), cfg,
                        diagnostics=loaded.diagnostics)
    _write(report, output_format, output, max_per_check)
    if report_json is not None:
        from plumbob.render import json as json_renderer  # noqa: PLC0415

        report_json.write_bytes(json_renderer.encode(report))
    if fail_on is not None and engine.count_at_or_above(report, fail_on):
        _exit(exit_codes.FINDINGS)


def _write(report: object, fmt: Format, output: Path | None, max_per_check: int) -> None:
    from plumbob.report.model import Report  # noqa: PLC0415

    assert isinstance(report, Report)
    out = output.open("w", encoding="utf-8") if output else sys.stdout
    try:
        match fmt:
            case Format.TABLE:
                from plumbob.render import table  # noqa: PLC0415

                table.render(report, out, max_per_check=max_per_check,
                             width=120 if output else None)
            case Format.JSON:
                from plumbob.render import json as json_renderer  # noqa: PLC0415

                json_renderer.render(report, out)
            case _:
                assert_never(fmt)
    finally:
        if output:
            out.close()
