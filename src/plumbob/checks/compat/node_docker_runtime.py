"""Nodes that run Docker Engine as their container runtime on a cluster at or past Kubernetes
1.24, where the kubelet's built-in dockershim is gone."""

from __future__ import annotations

from collections.abc import Iterator

from plumbob.checks.compat.versions import control_plane
from plumbob.checks.registry import Hit, Origin, check
from plumbob.knowledge.kubernetes import minor_text, parse_minor_text, removed_runtime
from plumbob.model.snapshot import Snapshot

WHY = """
Kubernetes 1.24 removed dockershim, the kubelet's built-in way to run containers with Docker
Engine. A node that still reports a `docker://` runtime is one of two things. With a kubelet
older than 1.24 it still uses dockershim and cannot follow the control plane's next upgrade: a
1.24+ kubelet will not start on it until the node moves to containerd or CRI-O (or cri-dockerd),
so the node holds the cluster at the skew limit (kubernetes/kubernetes issue 106917). With a
1.24+ kubelet it runs Docker through cri-dockerd, an adapter maintained outside the Kubernetes
project that the kubelet, the GPU stack and managed node images are not tested against; on GPU
nodes the Docker path also needs the `nvidia` runtime set as Docker's default runtime (NVIDIA
k8s-device-plugin README), under which every container on the node runs. Medium: the node works
today, but it blocks upgrades and sits on a path nobody in the cluster's stack supports.
"""

FIX = """
Move the node to containerd (or CRI-O): drain it, install containerd and the NVIDIA container
toolkit's containerd configuration, point the kubelet at the containerd socket, and uncordon:

    kubectl drain NODE --ignore-daemonsets --delete-emptydir-data
    nvidia-ctk runtime configure --runtime=containerd && systemctl restart containerd
    # kubelet: --container-runtime-endpoint=unix:///run/containerd/containerd.sock

or replace the node group with one built on a containerd image (every managed Kubernetes
service's default since 1.24). `kubectl get nodes -o wide` shows each node's runtime.
"""


@check(
    id="node-docker-runtime",
    category="compat",
    severity="medium",
    reads=("Node",),
    node_parts=("nodeInfo",),
    title="Node runs Docker Engine as its container runtime on Kubernetes 1.24 or later",
    why=WHY,
    fix=FIX,
    references=(
        "https://kubernetes.io/blog/2022/01/07/kubernetes-is-moving-on-from-dockershim/",
        "https://kubernetes.io/docs/tasks/administer-cluster/migrating-from-dockershim/find-out-runtime-you-use/",
        "https://kubernetes.io/docs/tasks/administer-cluster/migrating-from-dockershim/change-runtime-containerd/",
        "https://github.com/kubernetes/kubernetes/issues/106917",
        "https://github.com/NVIDIA/k8s-device-plugin/pull/1125",
    ),
    origin=Origin(
        "https://github.com/kubernetes/kubernetes/issues/106917",
        "Kubernetes' dockershim removal thread collects clusters whose nodes ran Docker "
        "Engine and had to move to containerd, CRI-O or the third-party cri-dockerd for "
        "1.24.",
    ),
)
def node_docker_runtime(snap: Snapshot) -> Iterator[Hit]:
    cp = control_plane(snap)
    for node in snap.nodes:
        info = node.status.node_info
        removed = removed_runtime(info.container_runtime_version)
        if removed is None:
            continue
        kubelet = parse_minor_text(info.kubelet_version)
        if kubelet is None:
            continue  # which side of the removal the node is on is unknown
        release = minor_text(removed.removed_in)
        if kubelet >= removed.removed_in:
            problem = (
                f"{removed.runtime} with kubelet {info.kubelet_version}, which has no "
                f"{removed.integration} (removed in Kubernetes {release}): it goes through "
                f"{removed.after}"
            )
        elif cp is not None and cp.minor >= removed.removed_in:
            problem = (
                f"{removed.runtime} through the kubelet's {removed.integration} (kubelet "
                f"{info.kubelet_version}) under the control plane {cp.version} ({cp.basis}): "
                f"{removed.integration} was removed in Kubernetes {release}, so the kubelet "
                "cannot be upgraded until the node changes runtime"
            )
        else:
            continue
        yield Hit(
            node,
            f"{node.name} runs {problem}",
            evidence={
                "container_runtime": info.container_runtime_version,
                "kubelet": info.kubelet_version,
                "control_plane": cp.version if cp else None,
                "removed_in": release,
                "source": removed.source,
            },
            path="status.nodeInfo.containerRuntimeVersion",
        )
