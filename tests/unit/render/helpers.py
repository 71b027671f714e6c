"""Reports to render: the demo fleet and files scanned as `plumbob scan` scans them."""

from __future__ import annotations

import functools
from pathlib import Path

from plumbob import engine
from plumbob.checks.registry import Registry
from plumbob.cli.baseline import drift_analysis
from plumbob.cli.scan import _cost_analysis
from plumbob.config import Config, check_options
from plumbob.render.rules import Rules, rules_for
from plumbob.report.model import Report
from plumbob.sources.demo import DemoSource, DemoSpec
from plumbob.sources.files import FileSource


@functools.cache
def registry() -> Registry:
    return Registry.discover()


def _run(loaded: object) -> Report:
    from plumbob.sources.interface import Loaded

    assert isinstance(loaded, Loaded)
    reg = registry()
    options = check_options(Config(), reg)
    return engine.run(
        loaded.snapshots,
        reg,
        diagnostics=loaded.diagnostics,
        analyses=[drift_analysis(None, None), _cost_analysis(options)],
        inputs=loaded.inputs,
        options=options,
    )


@functools.cache
def demo() -> tuple[Report, Rules]:
    report = _run(DemoSource(DemoSpec()).load(None))
    return report, rules_for(report, registry())


def scan(*paths: Path, cluster: str | None = None) -> tuple[Report, Rules]:
    report = _run(FileSource(tuple(paths), cluster=cluster).load(None))
    return report, rules_for(report, registry())


def severity_counts(report: Report) -> str:
    """`0 critical, 8 high, 19 medium, 0 low, 0 info`, as the headlines write it."""
    from collections import Counter

    from plumbob.report.model import Severity

    counts = Counter(f.severity for f in report.findings)
    return ", ".join(f"{counts[s]} {s.value}" for s in Severity)


def idle_cost(report: Report) -> tuple[str, str, str]:
    """(idle GPUs, GPUs, idle cost a month) of the report's gpu-cost section, as written."""
    cost = report.sections.gpu_cost
    assert cost is not None
    idle = sum(c.idle for c in cost.clusters)
    gpus = sum(c.gpus for c in cost.clusters)
    return f"{idle:g}", f"{gpus:g}", f"${cost.idle_monthly_cost:,.0f}"
