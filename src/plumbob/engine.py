"""The engine: snapshots + checks + config -> Report.

It runs every check over every snapshot, turns Hits into Findings (severity overrides,
exemptions, source location, fingerprint), records checks that could not see their input, adds
the inventory and scores. Every front-end (`scan`, `serve`, policy export) goes through `run`.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import MappingProxyType
from typing import Any

import msgspec

from plumbob import __version__
from plumbob.checks.inventory import inventory
from plumbob.checks.registry import CATEGORIES, WORKLOADS, Check, CheckContext, Hit, Registry
from plumbob.model.collector import gc_paused
from plumbob.model.metrics import GPU_METRICS, gpu_metrics_missing
from plumbob.model.objects import Object
from plumbob.model.refs import ObjectRef, ref
from plumbob.model.snapshot import Snapshot
from plumbob.model.workloads import AbsentController
from plumbob.report.model import (
    CheckRun,
    CheckStatus,
    Diagnostic,
    Finding,
    Level,
    Report,
    Severity,
    Subject,
)
from plumbob.report.scoring import score

IGNORE_ANNOTATION = "plumbob.dev/ignore"
"""Comma-separated check ids (or `*`) an object, or every object in a namespace, is exempt from."""


class Exemption(msgspec.Struct, frozen=True, forbid_unknown_fields=True, omit_defaults=True):
    check: str = "*"
    namespace: str | None = None
    kind: str | None = None
    name: str | None = None
    cluster: str | None = None
    reason: str | None = None

    def covers(self, check_id: str, cluster: str, subject: Subject) -> bool:
        namespace = subject.name if subject.kind == "Namespace" else subject.namespace
        return (
            self.check in ("*", check_id)
            and self.namespace in (None, namespace)
            and self.kind in (None, subject.kind)
            and self.name in (None, subject.name)
            and self.cluster in (None, cluster)
        )


class Config(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True, rename="kebab"):
    """User configuration (plumbob.yaml). Keys are kebab-case; unknown keys are errors."""

    severity: dict[str, Severity] = {}
    """Check id -> severity override."""
    disable: list[str] = []
    only: list[str] = []
    exemptions: list[Exemption] = []
    options: dict[str, dict[str, Any]] = {}
    """Check id -> options, e.g. {"image-large-pull": {"threshold-gb": 8}}."""


class ConfigError(ValueError):
    """A configuration file that cannot be used; the message names the key and line."""


def load_config(path: Path) -> Config:
    from plumbob.sources.yamlload import YamlError, load_documents

    try:
        docs = list(load_documents(path.read_bytes()))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except YamlError as exc:
        raise ConfigError(f"{path}:{exc.line or '?'}: {exc}") from None
    data = docs[0].data if docs else {}
    try:
        return msgspec.convert(data or {}, Config)
    except msgspec.ValidationError as exc:
        raise ConfigError(f"{path}: {exc}") from None


def config_problems(config: Config, registry: Registry) -> list[str]:
    """What the configuration names that is no check id, alias, category or drift id, and
    options a check does not take or values it cannot use, each with where it is (and the
    closest names): a misspelt id or option would otherwise change nothing, silently."""
    import difflib

    from plumbob.drift.findings import TITLES  # the drift families: drift, drift:kernel, ...

    def hint(name: str, candidates: Iterable[str], otherwise: str) -> str:
        close = difflib.get_close_matches(name, sorted(candidates), n=3)
        return f"; did you mean {', '.join(close)}?" if close else otherwise

    known = {name for c in registry for name in (c.id, *c.aliases, c.category)}
    known.update(TITLES)
    out: list[str] = []
    named: list[tuple[str, str]] = [
        *((f"severity: {name}", name) for name in config.severity),
        *((f"disable: {name}", name) for name in config.disable),
        *((f"only: {name}", name) for name in config.only),
        *(
            (f"exemptions[{i}].check: {e.check}", e.check)
            for i, e in enumerate(config.exemptions)
            if e.check != "*"
        ),
    ]
    for where, name in named:
        if name not in known and name.partition(":")[0] not in TITLES:
            out.append(f"{where}: no such check{hint(name, known, '; see plumbob checks')}")
    for check_id, options in config.options.items():
        check = registry.get(check_id)
        if check is None:
            ids = [c.id for c in registry]
            out.append(f"options: {check_id}: no such check{hint(check_id, ids, '')}")
            continue
        for name, value in options.items():
            kind = check.options.get(name)
            if kind is None:
                takes = f" takes: {', '.join(check.options)}" if check.options else " takes none"
                more = hint(name, check.options, f"; {check.id}{takes}")
                out.append(f"options: {check_id}: {name}: no such option{more}")
                continue
            try:
                kind(value)
            except ValueError as exc:
                out.append(f"options: {check_id}: {name}: {exc}")
    return out


@dataclass(frozen=True, slots=True)
class Analysis:
    """An extra analysis run after the checks (drift, cost): adds findings and a report section."""

    name: str
    run: Callable[[Sequence[Snapshot], Config], tuple[list[Finding], Any]]


@dataclass(slots=True)
class _Population:
    cache: dict[tuple[str, ...], int] = field(default_factory=dict)

    def of(self, snap: Snapshot, reads: tuple[str, ...]) -> int:
        key = (snap.cluster.name, *reads)
        if key not in self.cache:
            total = 0
            for kind in reads:
                total += len(snap.workloads) if kind == WORKLOADS else len(snap.objects(kind))
            self.cache[key] = total
        return self.cache[key]


def _fingerprint(check: str, cluster: str, subject: Subject) -> str:
    text = "\x1f".join(
        (check, cluster, subject.kind, subject.namespace or "", subject.name, subject.path or "")
    )
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _subject(target: Object | ObjectRef, path: str | None) -> Subject:
    r = target if isinstance(target, ObjectRef) else ref(target)
    origin = r.origin
    return Subject(
        kind=r.kind,
        name=r.name,
        namespace=r.namespace,
        api_version=r.api_version,
        file=origin.file if origin else None,
        line=origin.line if origin else None,
        path=path,
    )


def _ignored(snap: Snapshot, target: Object | ObjectRef, check: Check) -> bool:
    ids = {check.id, *check.aliases}
    objs: list[Object] = []
    if isinstance(target, Object):
        objs.append(target)
    ns = target.namespace
    if ns:
        namespace = snap.namespaces.get(ns)
        if namespace is not None:
            objs.append(namespace)
    for obj in objs:
        value = obj.annotations.get(IGNORE_ANNOTATION)
        if value:
            wanted = {v.strip() for v in value.split(",")}
            if "*" in wanted or wanted & ids:
                return True
    return False


def _selected(registry: Registry, config: Config) -> list[Check]:
    disabled = set(config.disable)
    only = set(config.only)
    out = []
    for c in registry:
        names = {c.id, *c.aliases, c.category}
        if names & disabled or (only and not names & only):
            continue
        out.append(c)
    return out


def _not_visible(snap: Snapshot, check: Check) -> str | None:
    for kind in check.reads:
        if kind == WORKLOADS:
            missing = [k for k in ("Pod", "Deployment") if not snap.visible(k)]
            if missing:
                return f"{missing[0]}: {snap.not_visible[missing[0]]}"
        elif kind == GPU_METRICS:
            why = gpu_metrics_missing(snap.gpu_metrics)
            if why:
                return f"{kind}: {why}"
        elif not snap.visible(kind):
            return f"{kind}: {snap.not_visible[kind]}"
    return None


@gc_paused()
def run(
    snapshots: Sequence[Snapshot],
    registry: Registry,
    config: Config | None = None,
    *,
    diagnostics: Iterable[Diagnostic] = (),
    analyses: Iterable[Analysis] = (),
    baseline: Any = None,
    now: datetime | None = None,
    timings: dict[str, float] | None = None,
) -> Report:
    """Run the selected checks (and extra analyses) over snapshots; never raises for a check
    that fails: its error becomes a diagnostic and the rest of the report stands. `timings`,
    when given, receives the seconds spent in each check and analysis (over all snapshots; an
    index of the snapshot is built by the first check that asks for it). The checks build
    indexes of tuples and dicts over every pod: the cyclic garbage collector is paused
    meanwhile (model/collector.py)."""
    config = config or Config()
    checks = _selected(registry, config)
    findings: list[Finding] = []
    runs: list[CheckRun] = []
    diags = list(diagnostics)
    populations: dict[tuple[str, str], int] = {}
    pop = _Population()
    severities: dict[str, Severity] = {c.id: config.severity.get(c.id, c.severity) for c in checks}
    if timings is None:
        timings = {}
    all_snaps = tuple(snapshots)
    for snap in snapshots:
        cluster = snap.cluster.name
        for check in checks:
            reason = _not_visible(snap, check)
            if reason is not None:
                runs.append(
                    CheckRun(
                        check=check.id,
                        cluster=cluster,
                        status=CheckStatus.NOT_VISIBLE,
                        reason=reason,
                    )
                )
                continue
            ctx = CheckContext(
                options=MappingProxyType(config.options.get(check.id, {})),
                snapshots=all_snaps,
                baseline=baseline,
            )
            started = time.perf_counter()
            made: list[Finding] = []
            try:
                for hit in check.run(snap, ctx):
                    finding = _finding(snap, check, severities[check.id], hit, config)
                    if finding is not None:
                        made.append(finding)
            except Exception as exc:  # a broken check must not take the report down
                diags.append(
                    Diagnostic(
                        level=Level.ERROR,
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
            populations[(check.id, cluster)] = pop.of(snap, check.reads)
            runs.append(
                CheckRun(
                    check=check.id,
                    cluster=cluster,
                    status=CheckStatus.FAILED if made else CheckStatus.PASSED,
                    findings=len(made),
                )
            )
        for obj, message in snap.template_errors:
            diags.append(
                Diagnostic(
                    level=Level.WARNING,
                    cluster=cluster,
                    message=message,
                    path=obj.origin.file if obj.origin else None,
                    line=obj.origin.line if obj.origin else None,
                    object=str(ref(obj)),
                )
            )
    sections: dict[str, Any] = {}
    categories: dict[str, str] = {c.id: c.category for c in checks}
    for analysis in analyses:
        started = time.perf_counter()
        extra, section = analysis.run(snapshots, config)
        timings[analysis.name] = time.perf_counter() - started
        findings.extend(extra)
        for f in extra:
            categories.setdefault(f.check, f.category)
            severities.setdefault(f.check, f.severity)
            key = (f.check, f.cluster)
            if key not in populations:
                populations[key] = 0
                runs.append(CheckRun(check=f.check, cluster=f.cluster, status=CheckStatus.FAILED))
            populations[key] += 1
        if section is not None:
            sections[analysis.name] = section
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
        clusters=[inventory(s) for s in snapshots],
        findings=findings,
        checks=runs,
        scores=score(runs, findings, categories, severities, populations, CATEGORIES),
        diagnostics=diags,
        sections=sections,
    )


def _finding(
    snap: Snapshot, check: Check, severity: Severity, hit: Hit, config: Config
) -> Finding | None:
    if _ignored(snap, hit.subject, check):
        return None
    subject = _subject(hit.subject, hit.path)
    cluster = snap.cluster.name
    if any(e.covers(check.id, cluster, subject) for e in config.exemptions):
        return None
    return Finding(
        check=check.id,
        severity=severity,
        category=check.category,
        title=check.title,
        cluster=cluster,
        subject=subject,
        message=hit.message,
        fingerprint=_fingerprint(check.id, cluster, subject),
        evidence=_evidence(hit),
    )


def _evidence(hit: Hit) -> dict[str, Any]:
    """The hit's evidence; for a workload whose controller is not in the input (its pods were
    grouped by their ownerReferences), also how many pods it has and how it is known."""
    evidence = dict(hit.evidence)
    if isinstance(hit.subject, AbsentController):
        evidence.setdefault("pods", hit.subject.pods)
        evidence.setdefault("controller", hit.subject.describe())
    return evidence


def count_at_or_above(report: Report, threshold: Severity) -> int:
    return sum(1 for f in report.findings if f.severity.at_least(threshold))


__all__ = [
    "IGNORE_ANNOTATION",
    "Analysis",
    "Config",
    "ConfigError",
    "Exemption",
    "config_problems",
    "count_at_or_above",
    "load_config",
    "run",
]


def as_mapping(report: Report) -> Mapping[str, Any]:
    """The report as plain data (what --format json writes)."""
    result: Mapping[str, Any] = msgspec.to_builtins(report)
    return result
