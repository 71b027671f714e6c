"""Turn drift results into report Findings: ids, fingerprints, user overrides and exemptions."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from plumbob.report.model import Finding, Severity, Subject

CATEGORY = "drift"
IGNORE_ANNOTATION = "plumbob.dev/ignore"
"""Same annotation the engine honours for checks: comma-separated ids, `drift` or `*`."""

TITLES = {
    "drift": "Node differs from its pool",
    "baseline": "Cluster differs from its baseline",
    "cross-cluster": "Clusters differ from each other",
}


class _Exemption(Protocol):
    def covers(self, check_id: str, cluster: str, subject: Subject) -> bool: ...


class ConfigLike(Protocol):
    """The parts of the engine's Config drift honours (kept as a protocol: drift sits below
    the engine)."""

    @property
    def severity(self) -> Mapping[str, Severity]: ...
    @property
    def disable(self) -> Sequence[str]: ...
    @property
    def only(self) -> Sequence[str]: ...
    @property
    def exemptions(self) -> Sequence[_Exemption]: ...


def fingerprint(check: str, cluster: str, subject: Subject) -> str:
    text = "\x1f".join(
        (check, cluster, subject.kind, subject.namespace or "", subject.name, subject.path or "")
    )
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass(slots=True)
class FindingMaker:
    """Builds drift findings and drops those the user turned off or exempted."""

    config: ConfigLike | None = None
    ignored: Mapping[tuple[str, str], frozenset[str]] = field(default_factory=dict)
    """(cluster, node) -> ids from the node's ignore annotation."""

    def make(
        self,
        *,
        check: str,
        severity: str,
        cluster: str,
        subject: Subject,
        message: str,
        evidence: dict[str, Any],
    ) -> Finding | None:
        family = check.partition(":")[0]
        names = {check, family, CATEGORY}
        cfg = self.config
        if cfg is not None:
            if names & set(cfg.disable) or (cfg.only and not names & set(cfg.only)):
                return None
            if any(e.covers(check, cluster, subject) for e in cfg.exemptions):
                return None
        wanted = self.ignored.get((cluster, subject.name), frozenset())
        if subject.kind == "Node" and ("*" in wanted or names & wanted):
            return None
        level = Severity(severity)
        if cfg is not None:
            level = cfg.severity.get(check, cfg.severity.get(family, level))
        return Finding(
            check=check,
            severity=level,
            category=CATEGORY,
            title=TITLES.get(family, TITLES["drift"]),
            cluster=cluster,
            subject=subject,
            message=message,
            fingerprint=fingerprint(check, cluster, subject),
            evidence=evidence,
        )


def node_subject(name: str, attribute: str) -> Subject:
    return Subject(kind="Node", name=name, api_version="v1", path=attribute)


def pool_subject(pool: str, attribute: str) -> Subject:
    return Subject(kind="Pool", name=pool, path=attribute)


def cluster_subject(cluster: str, path: str) -> Subject:
    return Subject(kind="Cluster", name=cluster, path=path)
