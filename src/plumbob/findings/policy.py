"""One finding policy for every analysis: which findings a scan keeps, at what severity, under
which fingerprint.

Checks yield Hits, drift compares nodes, pools and clusters; whatever found the problem, its
finding is made here, by `FindingPolicy.make`, with the same rules:

- **Selection**: `only:` and `disable:` name a finding by any of its names: its id, an alias,
  its family (`drift`, `baseline`, `cross-cluster` for `drift:kernel`, ...) or its category.
- **Severity overrides**: `severity:` by the most specific name given (id, then alias, then
  family, then category).
- **Exemptions**: an `exemptions:` entry whose `check` is `*` or any of the finding's names and
  whose namespace, kind, name and cluster (where given) match the subject.
- **The ignore annotation**: `plumbob.dev/ignore: "id,other-id"` (or `*`, a family or a category)
  on the subject object, or on its namespace, looked up in the subject's cluster.
- **Fingerprints**: check, cluster, subject kind, namespace, name and field path, hashed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import msgspec

from plumbob.model.objects import Object
from plumbob.model.snapshot import Snapshot
from plumbob.report.model import Finding, Severity, Subject
from plumbob.report.sections import Sections
from plumbob.report.text import clipped, clipped_tree

IGNORE_ANNOTATION = "plumbob.dev/ignore"
"""Comma-separated check ids (or `*`, a family, a category) an object, or every object in a
namespace, is exempt from."""


class Exemption(msgspec.Struct, frozen=True, forbid_unknown_fields=True, omit_defaults=True):
    """A finding (or findings) the user accepts: plumbob.yaml `exemptions:`."""

    check: str = "*"
    """`*`, or a check id, alias, family or category."""
    namespace: str | None = None
    kind: str | None = None
    name: str | None = None
    cluster: str | None = None
    reason: str | None = None

    def covers(self, names: Sequence[str], cluster: str, subject: Subject) -> bool:
        namespace = subject.name if subject.kind == "Namespace" else subject.namespace
        return (
            (self.check == "*" or self.check in names)
            and self.namespace in (None, namespace)
            and self.kind in (None, subject.kind)
            and self.name in (None, subject.name)
            and self.cluster in (None, cluster)
        )


@dataclass(frozen=True, slots=True)
class Assessed:
    """An analysis other than a check looked at `subjects` subjects of one cluster for one
    finding id (a drift attribute, a baseline rule): a check run, passed unless a finding of
    that id was kept."""

    check: str
    cluster: str
    subjects: int
    category: str
    severity: Severity
    """The id's usual severity (scores weigh the highest of its kept findings)."""


def analysis_names(check: str, category: str) -> tuple[str, ...]:
    """What a rule may call a finding id of an analysis: the id, its family (the part before
    `:`, e.g. `drift` or `baseline`) and its category."""
    return tuple(dict.fromkeys((check, check.partition(":")[0], category)))


def fingerprint(check: str, cluster: str, subject: Subject) -> str:
    text = "\x1f".join(
        (check, cluster, subject.kind, subject.namespace or "", subject.name, subject.path or "")
    )
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def ignored_ids(objects: Iterable[Object]) -> frozenset[str]:
    """The names the ignore annotation of these objects exempts them from."""
    out: set[str] = set()
    for obj in objects:
        value = obj.annotations.get(IGNORE_ANNOTATION)
        if value:
            out.update(v.strip() for v in value.split(","))
    return frozenset(out)


@dataclass(frozen=True, slots=True)
class FindingPolicy:
    """The user's rules for findings (from plumbob.yaml), and the clusters of one scan, whose
    objects carry the ignore annotation."""

    severity: Mapping[str, Severity] = field(default_factory=dict)
    disable: frozenset[str] = frozenset()
    only: frozenset[str] = frozenset()
    exemptions: tuple[Exemption, ...] = ()
    clusters: Mapping[str, Snapshot] = field(default_factory=dict)
    """Cluster name -> snapshot, for the annotation of a subject known only by its name."""

    def for_scan(self, snapshots: Iterable[Snapshot]) -> FindingPolicy:
        """The same rules, looking annotations up in these snapshots."""
        clusters = MappingProxyType({s.cluster.name: s for s in snapshots})
        return FindingPolicy(
            severity=self.severity,
            disable=self.disable,
            only=self.only,
            exemptions=self.exemptions,
            clusters=clusters,
        )

    def selected(self, names: Sequence[str]) -> bool:
        """Whether `only:`/`disable:` let a finding id with these names run."""
        if any(n in self.disable for n in names):
            return False
        return not self.only or any(n in self.only for n in names)

    def severity_of(self, names: Sequence[str], default: Severity) -> Severity:
        """The override for the most specific of `names` (id first), else `default`."""
        for name in names:
            found = self.severity.get(name)
            if found is not None:
                return found
        return default

    def make(
        self,
        *,
        check: str,
        names: Sequence[str],
        severity: Severity,
        category: str,
        title: str,
        cluster: str,
        subject: Subject,
        message: str,
        evidence: Mapping[str, Any],
        obj: Object | None = None,
    ) -> Finding | None:
        """The Finding, or None when the user turned it off, exempted it or annotated its
        subject (or the subject's namespace) to ignore it. `names`: the id first, then its
        aliases, family and category; `severity`: the usual one, before overrides; `obj`: the
        subject object when the caller has it (else it is looked up by kind, namespace and
        name in the cluster's snapshot)."""
        if not self.selected(names):
            return None
        if any(e.covers(names, cluster, subject) for e in self.exemptions):
            return None
        wanted = ignored_ids(self._annotated(cluster, subject, obj))
        if wanted and ("*" in wanted or any(n in wanted for n in names)):
            return None
        return Finding(
            check=check,
            severity=self.severity_of(names, severity),
            category=category,
            title=title,
            cluster=cluster,
            subject=subject,
            message=clipped(message),
            fingerprint=fingerprint(check, cluster, subject),
            evidence=clipped_tree(dict(evidence)),
        )

    def _annotated(self, cluster: str, subject: Subject, obj: Object | None) -> list[Object]:
        snap = self.clusters.get(cluster)
        out: list[Object] = []
        if obj is None and snap is not None:
            obj = snap.get(subject.kind, subject.namespace, subject.name)
        if obj is not None:
            out.append(obj)
        namespace = subject.name if subject.kind == "Namespace" else subject.namespace
        if namespace and snap is not None:
            found = snap.namespaces.get(namespace)
            if found is not None and found is not obj:
                out.append(found)
        return out


@dataclass(frozen=True, slots=True)
class AnalysisResult:
    """What an analysis beside the checks (drift, GPU cost) gives the report: its findings
    (made by the policy), what it assessed (one check run per id and cluster, so scores and
    coverage count it as they count a check) and its section."""

    findings: list[Finding] = field(default_factory=list)
    assessed: list[Assessed] = field(default_factory=list)
    sections: Sections = field(default_factory=Sections)
