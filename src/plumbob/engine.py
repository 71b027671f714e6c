"""The engine: snapshots + checks + config -> Report.

It runs every check over every snapshot with its option values, turns Hits into Findings
(severity overrides, exemptions, source location, fingerprint), records checks that could not see
their input, adds the inventory and scores. Every front-end (`scan`, `serve`, policy export) goes
through `run`. Configuration (plumbob.yaml) is plumbob.config.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import msgspec

from plumbob import __version__
from plumbob.checks.inventory import inventory
from plumbob.checks.options import CheckOptions
from plumbob.checks.registry import CATEGORIES, Check, CheckContext, Hit, Registry
from plumbob.config import Config, check_options
from plumbob.findings import (
    AnalysisResult,
    Exemption,
    FindingPolicy,
    analysis_names,
    subject_of,
)
from plumbob.knowledge.workload_roles import role_evidence
from plumbob.model.collector import gc_paused
from plumbob.model.metrics import GPU_METRICS, gpu_metrics_missing
from plumbob.model.objects import Object
from plumbob.model.refs import ref
from plumbob.model.snapshot import WORKLOADS, Snapshot
from plumbob.model.workloads import AbsentController
from plumbob.report.model import (
    CheckRun,
    CheckStatus,
    Diagnostic,
    DiagnosticCode,
    Finding,
    Inputs,
    Level,
    NotVisible,
    Report,
    Severity,
)
from plumbob.report.scoring import score
from plumbob.report.sections import Sections

if TYPE_CHECKING:
    from plumbob.drift.baseline import Baseline


@dataclass(frozen=True, slots=True)
class Analysis:
    """An analysis run after the checks (drift, GPU cost): it makes its findings with the
    scan's finding policy, says what it assessed (check runs) and adds a report section."""

    name: str
    run: Callable[[Sequence[Snapshot], FindingPolicy], AnalysisResult]


@dataclass(slots=True)
class _Population:
    cache: dict[tuple[int, tuple[str, ...]], int] = field(default_factory=dict)

    def of(self, snap: Snapshot, reads: tuple[str, ...]) -> int:
        key = (id(snap), reads)
        if key not in self.cache:
            total = 0
            for kind in reads:
                total += len(snap.workloads) if kind == WORKLOADS else len(snap.objects(kind))
            self.cache[key] = total
        return self.cache[key]


def _names(check: Check) -> tuple[str, ...]:
    """What a rule may call a check's findings: its id, aliases and category."""
    return (check.id, *check.aliases, check.category)


def _selected(registry: Registry, policy: FindingPolicy) -> list[Check]:
    return [c for c in registry if policy.selected(_names(c))]


def _not_visible(snap: Snapshot, check: Check) -> str | None:
    for kind in check.reads:
        if kind == GPU_METRICS:
            why = gpu_metrics_missing(snap.gpu_metrics)
            if why:
                return f"{kind}: {why}"
            continue
        reason = snap.unseen(kind)
        if reason is not None:
            return reason
    return None


@dataclass(slots=True)
class _NodeViews:
    """What each check may see of one snapshot's nodes: a check that reads parts of a node its
    source did not show (taints of a node read from `kubectl get nodes -o wide`) runs on the
    snapshot without that node, which is counted as not assessed. One view per set of hidden
    nodes, built when first needed (only inputs with text inventories have any)."""

    snap: Snapshot
    views: dict[frozenset[str], Snapshot] = field(default_factory=dict)

    def for_check(self, check: Check) -> tuple[Snapshot | None, int, str | None]:
        """(snapshot to run on or None when no node can be assessed, nodes not assessed, why)."""
        partial = self.snap.partial_nodes
        if not check.node_parts or not partial:
            return self.snap, 0, None
        hidden: dict[str, set[str]] = {}
        for node in partial:
            missing = [p for p in check.node_parts if p in node.unknown]
            if missing:
                hidden[node.name] = set(missing)
        if not hidden:
            return self.snap, 0, None
        parts = sorted(set().union(*hidden.values()))
        total = len(self.snap.nodes)
        why = (
            f"Node: {', '.join(parts)} not shown for {len(hidden)} of {total} nodes "
            f"(nodes read from text: {_node_sources(partial, hidden)})"
        )
        if len(hidden) == total:
            return None, len(hidden), why
        names = frozenset(hidden)
        view = self.views.get(names)
        if view is None:
            view = self.views[names] = self.snap.without_nodes(names)
        return view, len(hidden), why


def _node_sources(nodes: Iterable[Object], hidden: Mapping[str, object]) -> str:
    files = sorted({n.origin.file for n in nodes if n.name in hidden and n.origin})
    shown = ", ".join(Path(f).name for f in files[:3])
    return shown + (f" and {len(files) - 3} more" if len(files) > 3 else "") or "no file"


@gc_paused()
def run(
    snapshots: Sequence[Snapshot],
    registry: Registry,
    config: Config | None = None,
    *,
    diagnostics: Iterable[Diagnostic] = (),
    analyses: Iterable[Analysis] = (),
    baseline: Baseline | None = None,
    now: datetime | None = None,
    timings: dict[str, float] | None = None,
    inputs: Inputs | None = None,
    options: CheckOptions | None = None,
) -> Report:
    """Run the selected checks (and extra analyses) over snapshots; never raises for a check
    that fails: its error becomes a diagnostic and the rest of the report stands. `timings`,
    when given, receives the seconds spent in each check and analysis (over all snapshots; an
    index of the snapshot is built by the first check that asks for it). The checks build
    indexes of tuples and dicts over every pod: the cyclic garbage collector is paused
    meanwhile (model/collector.py). `options`: the checks' option values when already resolved
    (`config.check_options`, with the scan's flags and baseline), else resolved here from
    `config` and `baseline` (whose settings give an option its value when `config` does not); a
    check given a value it cannot use is reported as an error, not run with another value."""
    config = config or Config()
    policy = config.policy().for_scan(snapshots)
    checks = _selected(registry, policy)
    if options is None:
        options = check_options(config, registry, checks=checks, baseline=baseline)
    findings: list[Finding] = []
    runs: list[CheckRun] = []
    diags = list(diagnostics)
    diags.extend(_option_diagnostics(options))
    populations: dict[tuple[str, str], int] = {}
    pop = _Population()
    severities: dict[str, Severity] = {
        c.id: policy.severity_of(_names(c), c.severity) for c in checks
    }
    if timings is None:
        timings = {}
    all_snaps = tuple(snapshots)
    for snap in snapshots:
        cluster = snap.cluster.name
        views = _NodeViews(snap)
        for check in checks:
            reason = _not_visible(snap, check)
            target, unseen, partly = views.for_check(check) if reason is None else (None, 0, None)
            if target is None:
                runs.append(
                    CheckRun(
                        check=check.id,
                        cluster=cluster,
                        status=CheckStatus.NOT_VISIBLE,
                        reason=reason or partly,
                        unseen=unseen,
                    )
                )
                continue
            unusable = options.unusable.get(check.id)
            if unusable is not None:
                runs.append(
                    CheckRun(
                        check=check.id, cluster=cluster, status=CheckStatus.ERROR, reason=unusable
                    )
                )
                continue
            ctx = CheckContext(options=options.of(check.id), snapshots=all_snaps)
            started = time.perf_counter()
            made: list[Finding] = []
            try:
                for hit in check.run(target, ctx):
                    finding = _finding(target, check, hit, policy)
                    if finding is not None:
                        made.append(finding)
            except Exception as exc:  # a broken check must not take the report down
                diags.append(
                    Diagnostic(
                        level=Level.ERROR,
                        code=DiagnosticCode.CHECK_FAILED,
                        cluster=cluster,
                        message=f"check {check.id} failed: {type(exc).__name__}: {exc}",
                    )
                )
                runs.append(
                    CheckRun(
                        check=check.id,
                        cluster=cluster,
                        status=CheckStatus.ERROR,
                        reason=f"{type(exc).__name__}: {exc}",
                    )
                )
                continue
            timings[check.id] = timings.get(check.id, 0.0) + time.perf_counter() - started
            findings.extend(made)
            populations[(check.id, cluster)] = pop.of(target, check.reads)
            runs.append(
                CheckRun(
                    check=check.id,
                    cluster=cluster,
                    status=CheckStatus.FAILED if made else CheckStatus.PASSED,
                    findings=len(made),
                    reason=partly,
                    unseen=unseen,
                )
            )
        for obj, message in snap.template_errors:
            diags.append(
                Diagnostic(
                    level=Level.WARNING,
                    code=DiagnosticCode.TEMPLATE_INVALID,
                    cluster=cluster,
                    message=message,
                    path=obj.origin.file if obj.origin else None,
                    line=obj.origin.line if obj.origin else None,
                    object=str(ref(obj)),
                )
            )
    sections = Sections()
    categories: dict[str, str] = {c.id: c.category for c in checks}
    for analysis in analyses:
        started = time.perf_counter()
        result = analysis.run(snapshots, policy)
        timings[analysis.name] = time.perf_counter() - started
        findings.extend(result.findings)
        runs.extend(_analysis_runs(result, policy, categories, severities, populations, diags))
        sections = _merged(sections, result.sections)
    findings.sort(
        key=lambda f: (
            -f.severity.rank,
            CATEGORIES.index(f.category) if f.category in CATEGORIES else 99,
            f.check,
            f.cluster,
            f.subject.namespace or "",
            f.subject.name,
        )
    )
    return Report(
        generated_at=(now or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        plumbob_version=__version__,
        inputs=inputs,
        not_visible=_not_visible_summary(runs),
        clusters=[inventory(s) for s in snapshots],
        findings=findings,
        checks=runs,
        scores=score(runs, findings, categories, severities, populations, CATEGORIES),
        diagnostics=diags,
        sections=sections,
    )


def _finding(snap: Snapshot, check: Check, hit: Hit, policy: FindingPolicy) -> Finding | None:
    subject = hit.subject
    return policy.make(
        check=check.id,
        names=_names(check),
        severity=check.severity,
        category=check.category,
        title=check.title,
        cluster=snap.cluster.name,
        subject=subject_of(subject, hit.path),
        message=hit.message,
        evidence={**_evidence(hit), **role_evidence(snap, subject)},
        obj=subject if isinstance(subject, Object) else None,
    )


def _analysis_runs(
    result: AnalysisResult,
    policy: FindingPolicy,
    categories: dict[str, str],
    severities: dict[str, Severity],
    populations: dict[tuple[str, str], int],
    diags: list[Diagnostic],
) -> list[CheckRun]:
    """Check runs for what an analysis assessed: failed where a finding of the id was kept on
    the cluster, passed otherwise; scored with the highest severity of its kept findings. A
    finding of an id the analysis did not say it assessed is a fault of the analysis, named."""
    kept: dict[tuple[str, str], int] = {}
    for f in result.findings:
        key = (f.check, f.cluster)
        kept[key] = kept.get(key, 0) + 1
        if f.check not in severities or f.severity.rank > severities[f.check].rank:
            severities[f.check] = f.severity
    out: list[CheckRun] = []
    for a in result.assessed:
        if not policy.selected(analysis_names(a.check, a.category)):
            continue
        key = (a.check, a.cluster)
        if key in populations:
            continue  # assessed twice (two pools): counted once
        populations[key] = a.subjects
        categories.setdefault(a.check, a.category)
        severities.setdefault(a.check, a.severity)
        n = kept.get(key, 0)
        status = CheckStatus.FAILED if n else CheckStatus.PASSED
        out.append(CheckRun(check=a.check, cluster=a.cluster, status=status, findings=n))
    for check, cluster in kept.keys() - populations.keys():
        diags.append(
            Diagnostic(
                level=Level.ERROR,
                code=DiagnosticCode.ANALYSIS_INCOMPLETE,
                cluster=cluster,
                message=f"{check}: findings from an analysis that did not say what it assessed",
            )
        )
    return out


def _merged(sections: Sections, more: Sections) -> Sections:
    """Sections with the ones another analysis added."""
    given = {f: v for f in more.__struct_fields__ if (v := getattr(more, f)) is not None}
    return msgspec.structs.replace(sections, **given) if given else sections


def _evidence(hit: Hit) -> dict[str, Any]:
    """The hit's evidence; for a workload whose controller is not in the input (its pods were
    grouped by their ownerReferences), also how many pods it has and how it is known."""
    evidence = dict(hit.evidence)
    if isinstance(hit.subject, AbsentController):
        evidence.setdefault("pods", hit.subject.pods)
        evidence.setdefault("controller", hit.subject.describe())
    return evidence


def _option_diagnostics(options: CheckOptions) -> list[Diagnostic]:
    """Option names and values the checks could not use (a scan from the CLI stops before
    running on any of them): an unusable value stops its check, an unknown name is ignored."""
    unusable = set(options.unusable.values())
    return [
        Diagnostic(
            level=Level.ERROR,
            code=DiagnosticCode.OPTION_UNUSABLE,
            message=problem,
        )
        if problem in unusable
        else Diagnostic(
            level=Level.WARNING,
            code=DiagnosticCode.OPTION_UNKNOWN,
            message=f"{problem} (ignored)",
        )
        for problem in (*options.problems, *options.flag_problems)
    ]


def _not_visible_summary(runs: Iterable[CheckRun]) -> list[NotVisible]:
    """Check runs not (or not wholly) assessed, grouped by cluster and reason."""
    grouped: dict[tuple[str, str], list[str]] = {}
    for r in runs:
        if r.status == CheckStatus.NOT_VISIBLE or (r.unseen and r.status != CheckStatus.ERROR):
            reason = r.reason or "not visible"
            if r.status != CheckStatus.NOT_VISIBLE:
                reason = f"partly assessed: {reason}"
            grouped.setdefault((r.cluster, reason), []).append(r.check)
    ordered = sorted(grouped.items(), key=lambda item: -len(item[1]))  # the widest gap first
    return [
        NotVisible(cluster=cluster, reason=reason, checks=checks)
        for (cluster, reason), checks in ordered
    ]


def count_at_or_above(report: Report, threshold: Severity) -> int:
    return sum(1 for f in report.findings if f.severity.at_least(threshold))


__all__ = [
    "Analysis",
    "Config",
    "Exemption",
    "count_at_or_above",
    "run",
]
