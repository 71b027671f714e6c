"""The cluster runs a Kubernetes minor that is past its end of life."""

from __future__ import annotations

from collections.abc import Iterator

from plumbob.checks.compat.versions import control_plane
from plumbob.checks.options import TODAY
from plumbob.checks.registry import CheckContext, Hit, Origin, check
from plumbob.knowledge.kubernetes import minor_text, oldest_supported, support
from plumbob.model.refs import cluster_ref
from plumbob.model.snapshot import Snapshot

WHY = """
A Kubernetes minor past its end of life gets no security or bug fixes, and the AI stack moves on
without it: current GPU Operator, DRA drivers, Kueue, KServe and LeaderWorkerSet releases
require recent minors, so an old cluster is stuck on old device plugins and misses features such
as DRA, sidecar containers and in-place pod resize. Managed services charge extended-support
fees or force-upgrade such clusters, often at a time that interrupts training runs.
"""

FIX = """
Plan the upgrade one minor at a time (the API server must not skip minors), checking removed
APIs first (`plumbob scan --target-version 1.NN`):

    # EKS
    aws eks update-cluster-version --name CLUSTER --kubernetes-version 1.NN
    # GKE
    gcloud container clusters upgrade CLUSTER --master --cluster-version 1.NN
    # AKS
    az aks upgrade -g RG -n CLUSTER --kubernetes-version 1.NN
"""


@check(
    id="kubernetes-version-eol",
    category="compat",
    severity="high",
    reads=("Node",),
    node_parts=("nodeInfo",),
    title="Kubernetes minor version is past end of life",
    why=WHY,
    fix=FIX,
    references=(
        "https://kubernetes.io/releases/",
        "https://kubernetes.io/releases/patch-releases/#support-period",
        "https://endoflife.date/kubernetes",
    ),
    options=(TODAY,),
    origin=Origin(
        "https://kubernetes.io/releases/patch-releases/#support-period",
        "Kubernetes documents about fourteen months of patch support per minor release, "
        "after which security and bug fixes stop.",
        kind="document",
    ),
)
def kubernetes_version_eol(snap: Snapshot, ctx: CheckContext) -> Iterator[Hit]:
    cp = control_plane(snap)
    if cp is None:
        return
    today = ctx.value(TODAY)
    status = support(cp.minor, today)
    if not status.eol:
        return
    oldest = oldest_supported(today)
    target = f"; the oldest supported minor is {minor_text(oldest)}" if oldest else ""
    yield Hit(
        cluster_ref(snap),
        f"cluster {snap.cluster.name} runs Kubernetes {cp.version} ({cp.basis}); "
        f"{minor_text(cp.minor)} is past end of life ({status.basis}){target}",
        evidence={
            "version": cp.version,
            "version_from": cp.basis,
            "minor": minor_text(cp.minor),
            "end_of_life": status.end_of_life.isoformat() if status.end_of_life else None,
            "basis": status.basis,
            "today": today.isoformat(),
            "oldest_supported": minor_text(oldest) if oldest else None,
            "source": status.source,
        },
    )
