"""Drift results as report Findings, made by the one finding policy (plumbob.findings) as every
check's are: ids, titles, and the names selection, severity overrides, exemptions and the ignore
annotation may use (`drift:kernel`, its family `drift`, the category `drift`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from plumbob.findings import FindingPolicy, analysis_names
from plumbob.report.model import Finding, Severity, Subject

CATEGORY = "drift"

TITLES = {
    "drift": "Node differs from its pool",
    "baseline": "Cluster differs from its baseline",
    "cross-cluster": "Clusters differ from each other",
}
"""Drift families (the part of an id before `:`) and their finding titles."""


def drift_finding(
    policy: FindingPolicy,
    *,
    check: str,
    severity: str,
    cluster: str,
    subject: Subject,
    message: str,
    evidence: Mapping[str, Any],
) -> Finding | None:
    """A drift Finding, or None when the policy drops it."""
    return policy.make(
        check=check,
        names=analysis_names(check, CATEGORY),
        severity=Severity(severity),
        category=CATEGORY,
        title=TITLES.get(check.partition(":")[0], TITLES["drift"]),
        cluster=cluster,
        subject=subject,
        message=message,
        evidence=evidence,
    )


def node_subject(name: str, attribute: str) -> Subject:
    return Subject(kind="Node", name=name, api_version="v1", path=attribute)


def pool_subject(pool: str, attribute: str) -> Subject:
    return Subject(kind="Pool", name=pool, path=attribute)


def cluster_subject(cluster: str, path: str) -> Subject:
    return Subject(kind="Cluster", name=cluster, path=path)
