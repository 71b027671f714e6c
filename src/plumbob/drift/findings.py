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

GUIDANCE = {
    "drift": (
        "Nodes of one pool are meant to be interchangeable: the scheduler places a training rank "
        "or an inference replica on any of them. A node whose kernel, NVIDIA driver, CUDA, "
        "container runtime, taints or labels differ from the rest of its pool behaves "
        "differently: a driver older than its neighbours fails CUDA images that run elsewhere, a "
        "missing taint lets ordinary pods onto a GPU node, and the failure shows on some "
        "replicas only, which makes it slow to diagnose.",
        "Bring the node back to its pool's majority: replace it from the pool's current "
        "template (cordon, drain and delete it; the node group or autoscaler starts a fresh "
        "one), or roll the whole pool to one version. A pool reported split has no majority: "
        "decide which value is intended and roll every node to it. `plumbob diff` shows when "
        "a node diverged.",
    ),
    "baseline": (
        "The baseline is the platform team's declared intent (driver and CUDA ranges, required "
        "taints and labels, components, approved registries). A deviation means the cluster "
        "no longer is what workloads were tested and approved against.",
        "Bring the cluster back to the baseline (upgrade or replace the deviating nodes, "
        "install the missing component, move the image to an approved registry), or, when the "
        "change is intended, update the baseline file and review it like code.",
    ),
    "cross-cluster": (
        "Clusters meant to be alike (staging and production, regions, a fleet) that run another "
        "driver, CUDA, kubelet, component version or admission policy make a workload tested "
        "in one fail or behave differently in the other.",
        "Roll the same versions and policies to every cluster of the group (one node image, "
        "one GPU Operator release, one policy bundle applied by GitOps), starting with the "
        "clusters in the minority.",
    ),
}
"""Drift families -> (why it matters, how to fix it), for reports that explain findings."""


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
