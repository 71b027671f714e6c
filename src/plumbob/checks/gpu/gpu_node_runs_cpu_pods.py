"""Pods that request no GPU running on GPU nodes."""

from __future__ import annotations

from collections.abc import Iterator

from plumbob.checks.registry import GPU_IDENTITY, Hit, Origin, check
from plumbob.knowledge.components import is_gpu_stack
from plumbob.knowledge.gpus import node_gpu_count
from plumbob.model.gpu import pod_uses_gpu
from plumbob.model.objects import Pod
from plumbob.model.snapshot import Snapshot

WHY = """
Every CPU-only pod on a GPU node takes CPU, memory and pod slots from the node a training or
inference pod needs. GPU pods then stay Pending next to idle GPUs, the cluster autoscaler cannot
scale the expensive node down, and you pay GPU-node prices for web servers and batch scripts.
"""

FIX = """
Taint the GPU nodes so only pods that tolerate the taint land there, and keep the toleration
on GPU workloads only:

    kubectl taint nodes NODE nvidia.com/gpu=present:NoSchedule

Then move the listed pods off (delete them; their controllers reschedule them elsewhere) and
check their templates for a toleration of the GPU taint or a nodeSelector on GPU labels that
does not belong there.
"""

_FINISHED = ("Succeeded", "Failed")


def _exempt(pod: Pod) -> bool:
    """DaemonSet pods, static (mirror) pods and the GPU stack's own pods belong on GPU nodes."""
    if any(o.kind in ("DaemonSet", "Node") for o in pod.metadata.owner_references):
        return True
    if "kubernetes.io/config.mirror" in pod.annotations:
        return True
    return is_gpu_stack(pod.namespace, (c.image for c in pod.spec.all_containers))


@check(
    id="gpu-node-runs-cpu-pods",
    category="gpu",
    severity="medium",
    reads=("Node", "Pod"),
    node_parts=GPU_IDENTITY,
    title="Pods that request no GPU run on a GPU node",
    why=WHY,
    fix=FIX,
    references=(
        "https://kubernetes.io/docs/concepts/scheduling-eviction/taint-and-toleration/#example-use-cases",
        "https://kubernetes.io/docs/tasks/manage-gpus/scheduling-gpus/",
    ),
    origin=Origin(
        "https://github.com/MicrosoftDocs/azure-docs/issues/77558",
        "A team following the AKS GPU guide found that nothing kept pods that need no GPU "
        "off their GPU node.",
    ),
)
def gpu_node_runs_cpu_pods(snap: Snapshot) -> Iterator[Hit]:
    for node in snap.gpu_nodes:
        cpu_pods = [
            f"{p.namespace}/{p.name}"
            for p in snap.pods_by_node.get(node.name, ())
            if p.status.phase not in _FINISHED
            and not pod_uses_gpu(p.spec, p.annotations)
            and not _exempt(p)
        ]
        if not cpu_pods:
            continue
        gpu = snap.node_gpus[node.name]
        count = node_gpu_count(gpu)
        shown = ", ".join(cpu_pods[:5]) + (
            f" and {len(cpu_pods) - 5} more" if len(cpu_pods) > 5 else ""
        )
        yield Hit(
            node,
            f"GPU node {node.name} ({count.text()}) runs {len(cpu_pods)} pod(s) that request no "
            f"GPU: {shown}",
            evidence={
                "pods": cpu_pods[:50],
                "count": len(cpu_pods),
                "gpus": count.physical or 0,
                "taints": [f"{t.key}:{t.effect}" for t in node.spec.taints],
            },
        )
