"""SARIF 2.1.0 for code scanning (GitHub and others): one run, a rule per finding id, a result
per finding at the file, line and column of the offending field.

- Manifest findings point at the field itself (`spec.template.spec.containers[0].resources`,
  resolved in the file by sources/positions.py); a field that is absent (`spec.taints` on a node
  without taints) points at its deepest existing parent and says so.
- Findings without a file (live clusters, snapshots, the demo) are not dropped: they get a
  stable pseudo-URI `k8s/<cluster>/<namespace>/<kind>/<name>` and a logical location.
- `partialFingerprints` carry the finding's stable identity (check, cluster, object, field
  path), so alerts survive reformatting and moved lines.
- GitHub's limits (docs.github.com: code-scanning/troubleshooting-sarif-uploads/
  results-exceed-limit): 25,000 results per run, 20 tags per rule. Past the first, the lowest
  severities are cut and the run's properties say how many of each; what was not seen (files
  not read, checks not assessed) is in the run's properties and its notifications.

Only this module knows SARIF levels.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import quote

import msgspec

from plumbob.model.collector import gc_paused
from plumbob.render.locate import input_files, object_label, pseudo_uri, short_path
from plumbob.render.rules import Rule, Rules
from plumbob.report.model import Finding, Level, Report, Severity
from plumbob.report.text import json_bytes
from plumbob.sources.positions import FieldLocator

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
MAX_RESULTS = 25_000
"""GitHub rejects a run with more results."""
MAX_TAGS = 20
FINGERPRINT_KEY = "plumbobFinding/v1"
ROOT = "%SRCROOT%"

LEVEL = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "note",
    Severity.INFO: "note",
}
SECURITY_SEVERITY = {
    Severity.CRITICAL: "9.5",
    Severity.HIGH: "8.0",
    Severity.MEDIUM: "5.5",
    Severity.LOW: "3.0",
    Severity.INFO: "0.0",
}
"""GitHub groups `security-severity` as critical > 9.0, high 7.0-8.9, medium 4.0-6.9, low below."""
_NOTIFICATION_LEVEL = {Level.ERROR: "error", Level.WARNING: "warning", Level.INFO: "note"}


def _rule_name(check: str) -> str:
    """`gpu-node-untainted` -> `GpuNodeUntainted`; `drift:kernel` -> `DriftKernel`."""
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[^A-Za-z0-9]+", check))


def _rule(rule: Rule) -> dict[str, Any]:
    fix = rule.fix or "See the finding's message."
    refs = "\n".join(f"- {r}" for r in rule.references)
    markdown = (
        f"**{rule.title}**\n\n{rule.why}\n\n## How to fix\n\n{fix}\n"
        + (f"\n## References\n\n{refs}\n" if refs else "")
        + f"\n`plumbob explain {rule.id}`"
    )
    out: dict[str, Any] = {
        "id": rule.id,
        "name": _rule_name(rule.id),
        "shortDescription": {"text": rule.title},
        "fullDescription": {"text": rule.why or rule.title},
        "help": {"text": f"{rule.why}\n\nHow to fix: {fix}".strip(), "markdown": markdown},
        "defaultConfiguration": {"level": LEVEL[rule.severity]},
        "properties": {
            "tags": [rule.category, "kubernetes", "ai-readiness"][:MAX_TAGS],
            "security-severity": SECURITY_SEVERITY[rule.severity],
            "problem.severity": LEVEL[rule.severity],
            "precision": "high",
            "severity": rule.severity.value,
        },
    }
    if rule.help_uri:
        out["helpUri"] = rule.help_uri
    return out


def _artifact_uri(file: str) -> tuple[str, str | None]:
    """(uri, uriBaseId): relative to the working directory (the repository root in CI) when
    the file is under it, else an absolute file URI."""
    rel = short_path(file)
    if not Path(rel).is_absolute():
        return quote(Path(rel).as_posix()), ROOT
    return Path(file).resolve().as_uri(), None


def _location(
    f: Finding, files: frozenset[str], locator: FieldLocator
) -> tuple[dict[str, Any], str, str | None]:
    """A result's location, a note on how exact it is (empty when exact), and the part of the
    field path found in the file (None without a file position)."""
    s = f.subject
    logical = {
        "name": s.name,
        "fullyQualifiedName": "/".join((f.cluster, s.namespace or "", s.kind, s.name)),
        "kind": "resource",
    }
    if s.file and s.file in files:
        uri, base = _artifact_uri(s.file)
        pos = locator.locate(
            s.file, kind=s.kind, name=s.name, namespace=s.namespace, line=s.line, path=s.path
        )
        if pos is not None:
            region = {"startLine": pos.line, "startColumn": pos.column}
            if pos.end_line is not None and pos.end_column is not None:
                region |= {"endLine": pos.end_line, "endColumn": pos.end_column}
            note = ""
            if s.path and not pos.exact:
                note = f"{s.path} is not set; shown at {pos.found or 'the object'}"
            found: str | None = pos.found
        else:
            found = None
            region = {"startLine": s.line or 1}
            note = "" if s.line else "object not found in the file; shown at its first line"
        artifact: dict[str, Any] = {"uri": uri}
        if base:
            artifact["uriBaseId"] = base
        physical = {"artifactLocation": artifact, "region": region}
        return {"physicalLocation": physical, "logicalLocations": [logical]}, note, found
    physical = {
        "artifactLocation": {"uri": pseudo_uri(f.cluster, s)},
        "region": {"startLine": 1},
    }
    return {"physicalLocation": physical, "logicalLocations": [logical]}, "", None


def _result(
    f: Finding, index: dict[str, int], files: frozenset[str], locator: FieldLocator
) -> dict[str, Any]:
    location, note, found = _location(f, files, locator)
    where = object_label(f.subject) + (f" {f.subject.path}" if f.subject.path else "")
    text = f"{f.message} ({where}" + (f"; {note}" if note else "") + f"; cluster {f.cluster})"
    props: dict[str, Any] = {"severity": f.severity.value, "cluster": f.cluster}
    if f.subject.path:
        props["fieldPath"] = f.subject.path
    if found is not None:
        props["locatedAt"] = found
    if f.evidence:
        props["evidence"] = f.evidence
    return {
        "ruleId": f.check,
        "ruleIndex": index[f.check],
        "level": LEVEL[f.severity],
        "message": {"text": text},
        "locations": [location],
        "partialFingerprints": {FINGERPRINT_KEY: f.fingerprint},
        "properties": props,
    }


def _notifications(report: Report) -> list[dict[str, Any]]:
    """What was not seen, as the run's notifications: unread files (at their location), checks
    not assessed, input problems."""
    out: list[dict[str, Any]] = []
    if report.inputs is not None:
        for unread in report.inputs.unread:
            uri, base = _artifact_uri(unread.path)
            artifact: dict[str, Any] = {"uri": uri}
            if base:
                artifact["uriBaseId"] = base
            out.append(
                {
                    "level": "warning",
                    "message": {"text": f"not read: {unread.path}: {unread.reason or 'unread'}"},
                    "locations": [{"physicalLocation": {"artifactLocation": artifact}}],
                    "descriptor": {"id": "input-not-read"},
                }
            )
    out.extend(
        {
            "level": "warning",
            "message": {
                "text": f"not assessed on {nv.cluster}: {nv.reason} ({', '.join(nv.checks)})"
            },
            "descriptor": {"id": "checks-not-assessed"},
        }
        for nv in report.not_visible
    )
    out.extend(
        {
            "level": _NOTIFICATION_LEVEL.get(d.level, "note"),
            "message": {"text": str(d)},
            "descriptor": {"id": d.code.value},
        }
        for d in report.diagnostics
    )
    return out


def document(
    report: Report,
    rules: Rules,
    *,
    locator: FieldLocator | None = None,
    max_results: int = MAX_RESULTS,
) -> dict[str, Any]:
    """The SARIF log as data."""
    locator = locator or FieldLocator()
    ordered = list(rules)
    index = {r.id: i for i, r in enumerate(ordered)}
    files = input_files(report)
    kept = report.findings[:max_results]  # highest severity first: the lowest are cut
    cut = Counter(f.severity.value for f in report.findings[max_results:])
    clusters = sorted({inv.cluster for inv in report.clusters}) or ["none"]
    scores = report.scores
    properties: dict[str, Any] = {
        "score": scores.overall,
        "coverage": scores.coverage,
        "checkRunsAssessed": scores.assessed,
        "checkRuns": scores.runs,
        "notVisible": [msgspec.to_builtins(nv) for nv in report.not_visible],
        "inputsNotRead": [msgspec.to_builtins(u) for u in report.inputs.unread]
        if report.inputs
        else [],
        "findings": len(report.findings),
        "results": len(kept),
    }
    if scores.capped_by is not None:
        properties["scoreUncapped"] = scores.uncapped
        properties["scoreCappedBy"] = scores.capped_by.value
    if cut:
        properties["truncated"] = {
            "limit": max_results,
            "omitted": sum(cut.values()),
            "omittedBySeverity": dict(cut),
            "reason": "GitHub code scanning accepts at most 25,000 results per run; the "
            "lowest severities were left out (all are in the JSON report)",
        }
    with gc_paused():  # composing each file builds node trees next to the scan's objects
        results = [_result(f, index, files, locator) for f in kept]
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "plumbob",
                "version": report.plumbob_version,
                "semanticVersion": report.plumbob_version,
                "rules": [_rule(r) for r in ordered],
            }
        },
        "automationDetails": {"id": f"plumbob/{'+'.join(clusters)}/{report.generated_at}"},
        "originalUriBaseIds": {ROOT: {"uri": Path.cwd().resolve().as_uri() + "/"}},
        "invocations": [
            {
                "executionSuccessful": True,
                "toolExecutionNotifications": _notifications(report),
            }
        ],
        "results": results,
        "properties": properties,
    }
    if report.generated_at:
        run["invocations"][0]["endTimeUtc"] = report.generated_at
    return {"$schema": SCHEMA, "version": "2.1.0", "runs": [run]}


def encode(report: Report, rules: Rules, *, locator: FieldLocator | None = None) -> bytes:
    return msgspec.json.format(json_bytes(document(report, rules, locator=locator)), indent=2)


def render(report: Report, out: TextIO, *, rules: Rules) -> None:
    out.write(encode(report, rules).decode() + "\n")
