"""Nodes whose kubelet is outside the version-skew policy against the control plane."""

from __future__ import annotations

from collections.abc import Iterator

from plumbob.checks.compat.versions import control_plane
from plumbob.checks.registry import Hit, Origin, check
from plumbob.knowledge.kubernetes import kubelet_skew, minor_text, parse_minor_text
from plumbob.model.snapshot import Snapshot

WHY = """
A kubelet newer than the API server is never supported, and one too far behind is not either:
since Kubernetes 1.28 a kubelet may be up to three minors older than the API server, where the
policy allowed two before (KEP 3935), and kubelets older than 1.25 still get only two. Outside
that range API fields the control plane relies on are missing or unknown on the node, and
features GPU workloads use (DRA, sidecar containers, pod resize, device-plugin changes) behave
differently there. Such nodes also block the next control-plane upgrade, so a GPU pool left
behind holds the whole cluster on an old release; a GPU pool upgraded ahead of its control
plane (a new node image rolled out first) runs a kubelet nobody tested against that API server.
High.
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
        "https://kubernetes.io/blog/2023/08/15/kubernetes-v1-28-release/#changes-to-supported-skew-between-control-plane-and-node-versions",
        "https://github.com/kubernetes/enhancements/tree/master/keps/sig-architecture/3935-oldest-node-newest-control-plane",
        "https://kubernetes.io/docs/tasks/administer-cluster/cluster-upgrade/",
    ),
    origin=Origin(
        "https://github.com/kubernetes/kubernetes/issues/127316",
        "A kubelet upgraded to 1.31 reached an older API server through a load balancer and "
        "could not start pods.",
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
            below = kubelet < (1, 25)
            limit = policy.max_older_below_1_25 if below else policy.max_older
            why = (
                " for kubelets older than 1.25 (the three-minor skew allowed since Kubernetes "
                "1.28 starts at kubelet 1.25)"
                if below
                else ""
            )
            problem = (
                f"is {cp.minor[1] - kubelet[1]} minors behind {where}; at most {limit} allowed{why}"
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
