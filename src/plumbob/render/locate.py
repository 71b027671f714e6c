"""Where a finding is, in words every format shares: `Kind namespace/name`, the field path,
`file:line` for objects read from files, and a stable pseudo-URI for those that have no file
(live clusters, snapshots, the demo)."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import quote

from plumbob.report.model import Finding, Report, Subject
from plumbob.sources.positions import FieldLocator

CLUSTER_SCOPED = "_cluster"
"""The namespace segment of a pseudo-URI for an object that has no namespace."""


def object_label(subject: Subject) -> str:
    """`Deployment ml/vllm`, `Node gpu-1`."""
    name = f"{subject.namespace}/{subject.name}" if subject.namespace else subject.name
    return f"{subject.kind} {name}"


def short_path(path: str) -> str:
    """A path under the working directory, relative to it; others as given."""
    try:
        rel = os.path.relpath(path)
    except ValueError:
        return path
    return path if rel.startswith("..") else rel


def file_label(subject: Subject, files: frozenset[str] | None = None) -> str | None:
    """`manifests/app.yaml:12` for an object read from a file (`files`, when given, limits this
    to files that are inputs: not a snapshot or a live context); None otherwise."""
    if not subject.file or (files is not None and subject.file not in files):
        return None
    where = short_path(subject.file)
    return f"{where}:{subject.line}" if subject.line else where


def field_label(
    subject: Subject, files: frozenset[str], locator: FieldLocator | None
) -> str | None:
    """`manifests/app.yaml:23:11`, the line and column of the finding's field (of its deepest
    existing parent when the field is absent) where the file can be read again; else
    `file_label`."""
    at = file_label(subject, files)
    if at is None or locator is None or subject.file is None:
        return at
    pos = locator.locate(
        subject.file,
        kind=subject.kind,
        name=subject.name,
        namespace=subject.namespace,
        line=subject.line,
        path=subject.path,
    )
    return at if pos is None else f"{short_path(subject.file)}:{pos.line}:{pos.column}"


def where(finding: Finding, files: frozenset[str] | None = None) -> str:
    """`Deployment ml/vllm · spec.template.spec.containers[0].resources · app.yaml:12`."""
    parts = [object_label(finding.subject)]
    if finding.subject.path:
        parts.append(finding.subject.path)
    at = file_label(finding.subject, files)
    if at:
        parts.append(at)
    return " · ".join(parts)


def pseudo_uri(cluster: str, subject: Subject) -> str:
    """`k8s/<cluster>/<namespace>/<kind>/<name>` (`_cluster` for cluster-scoped objects), each
    segment percent-encoded: stable for the same object, so alerts keyed on it survive."""
    segments = (cluster, subject.namespace or CLUSTER_SCOPED, subject.kind, subject.name)
    return "k8s/" + "/".join(quote(s, safe="") for s in segments)


def input_files(report: Report) -> frozenset[str]:
    """Files whose objects point at themselves: findings in them have a file location. Objects
    from a plumbob snapshot, a live context or the demo carry an origin that is no manifest."""
    checked: dict[str, bool] = {}
    other = {
        inv.cluster
        for inv in report.clusters
        if (inv.source or "").startswith(("snapshot ", "live ", "demo"))
    }
    for f in report.findings:
        file = f.subject.file
        if file and f.cluster not in other and file not in checked:
            checked[file] = Path(file).is_file()
    return frozenset(file for file, is_file in checked.items() if is_file)
