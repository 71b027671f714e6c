"""Nodes whose kubelet is outside the version-skew policy against the control plane."""

from __future__ import annotations

from collections.abc import Iterator

from plumbob.checks.compat.versions import control_plane
from plumbob.checks.registry import Hit, check
from plumbob.knowledge.kubernetes import kubelet_skew, minor_text, parse_minor_text
from plumbob.model.snapshot import Snapshot

WHY = """
A kubelet more than three minors behind the API server (two for kubelets older than 1.25), or
newer than it, is unsupported: API fields the control plane relies on are missing or unknown,
and features GPU workloads use (DRA, sidecar containers, pod resize, device-plugin changes)
behave differently on those nodes. Such nodes also block the next control-plane upgrade, so a
GPU pool left behind holds the whole cluster on an old release.
"""

FIX = """
Upgrade the listed nodes' kubelet to within the policy (drain each node first; in-place minor
kubelet upgrades are not supported), e.g. replace the node group with one on the control
plane's version:

    kubectl drain NODE --ignore-daemonsets --delete-emptydir-data
    # EKS: eksctl upgrade nodegroup --kubernetes-version=1.31 ...
    # GKE: gcloud container node-pools upgrade POOL --cluster=CLUSTER
"""


@check(
    id="kubelet-version-skew",
    category="compat",
    severity="high",
    reads=("Node",),
    node_parts=("nodeInfo",),
    title="Kubelet version outside the skew policy against the control plane",
    why=WHY,
    fix=FIX,
    references=(
        "https://kubernetes.io/releases/version-skew-policy/#kubelet",
        "https://kubernetes.io/docs/tasks/administer-cluster/cluster-upgrade/",
    ),
)
def kubelet_version_skew(snap: Snapshot) -> Iterator[Hit]:
    cp = control_plane(snap)
    if cp is None:
        return
    policy = kubelet_skew()
    for node in snap.nodes:
        text = node.status.node_info.kubelet_version
        kubelet = parse_minor_text(text)
        if kubelet is None or policy.kubelet_ok(kubelet, cp.minor):
            continue
        where = f"the control plane {cp.version} ({cp.basis})"
        if kubelet > cp.minor:
            problem = f"is newer than {where}; kubelets may not be newer"
        else:
            limit = policy.max_older_below_1_25 if kubelet < (1, 25) else policy.max_older
            problem = (
                f"is {cp.minor[1] - kubelet[1]} minors behind {where}; at most {limit} allowed"
            )
        yield Hit(
            node,
            f"{node.name} runs kubelet {text}, which {problem}",
            evidence={
                "kubelet": text,
                "control_plane": cp.version,
                "control_plane_from": cp.basis,
                "kubelet_minor": minor_text(kubelet),
                "control_plane_minor": minor_text(cp.minor),
                "source": policy.source,
            },
            path="status.nodeInfo.kubeletVersion",
        )
