"""`scan --new-since`: which findings of a scan an earlier report did not have.

Findings are matched by `finding_key` (check, subject kind/namespace/name, container, field path
without list positions), recomputed from the earlier findings' own fields, so a report written
by an earlier plumbob, whose fingerprints were made another way, still matches. Within a
cluster both reports name, a finding is matched in that cluster only; a cluster only this scan
names (a folder of manifests moved, whose name became the cluster's) is matched against the
earlier report's clusters this scan does not name.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence

import msgspec

from plumbob.findings.policy import finding_key
from plumbob.report.model import Finding, NewSince, Report


def _key(finding: Finding, canonical: Mapping[str, str]) -> str:
    check = canonical.get(finding.check, finding.check)
    return finding_key(check, finding.subject, finding.evidence)


def mark_new(
    report: Report,
    earlier: Sequence[Finding],
    *,
    source: str,
    generated_at: str | None = None,
    canonical: Mapping[str, str] | None = None,
) -> Report:
    """`report` with every finding marked new or existing against `earlier`, and the counts
    in `newSince`. `canonical`: a renamed check's old id -> its id, so an earlier finding under
    an alias is the same finding."""
    names = canonical or {}
    current = {f.cluster for f in report.findings} | {c.cluster for c in report.clusters}
    by_cluster: dict[str, Counter[str]] = {}
    for f in earlier:
        by_cluster.setdefault(f.cluster, Counter())[_key(f, names)] += 1
    unnamed: Counter[str] = Counter()
    for cluster, keys in by_cluster.items():
        if cluster not in current:
            unnamed.update(keys)
    marked: list[Finding] = []
    for f in report.findings:
        pool = by_cluster.get(f.cluster, unnamed)
        key = _key(f, names)
        seen = pool[key] > 0
        if seen:
            pool[key] -= 1
        marked.append(msgspec.structs.replace(f, new=not seen))
    matched = [by_cluster[c] for c in current if c in by_cluster]
    if current - by_cluster.keys():
        matched.append(unnamed)
    summary = NewSince(
        source=source,
        generated_at=generated_at,
        new=sum(1 for f in marked if f.new),
        existing=sum(1 for f in marked if not f.new),
        resolved=sum(_left(keys) for keys in matched),
    )
    return msgspec.structs.replace(report, findings=marked, new_since=summary)


def _left(keys: Counter[str]) -> int:
    return sum(n for n in keys.values() if n > 0)


def canonical_ids(aliases: Iterable[tuple[str, Sequence[str]]]) -> dict[str, str]:
    """(id, aliases) pairs -> {alias: id}."""
    return {alias: check for check, names in aliases for alias in names}
