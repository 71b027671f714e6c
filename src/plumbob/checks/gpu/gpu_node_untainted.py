"""GPU nodes without a NoSchedule/NoExecute taint fill up with ordinary pods."""

from __future__ import annotations

from collections.abc import Iterator

from plumbob.checks.registry import GPU_IDENTITY, Hit, Origin, check
from plumbob.knowledge.gpus import node_gpu_count
from plumbob.model.snapshot import Snapshot

WHY = """
Without a taint, the scheduler treats a GPU node like any other and places CPU-only pods on it.
Those pods take CPU, memory and pod slots a training or inference pod needs, so GPU pods stay
Pending while the GPUs sit idle, and you pay GPU-node prices for web servers.
"""

FIX = """
Taint GPU nodes and let GPU pods tolerate the taint (the NVIDIA device plugin and GPU operator
add the toleration to their own pods):

    kubectl taint nodes NODE nvidia.com/gpu=present:NoSchedule

On managed pools set it in the pool definition (EKS node group `taints`, GKE
`--node-taints`, AKS `--node-taints sku=gpu:NoSchedule`, Karpenter NodePool
`spec.template.spec.taints`) so new nodes get it too.
"""


@check(
    id="gpu-node-untainted",
    category="gpu",
    severity="high",
    reads=("Node",),
    node_parts=(*GPU_IDENTITY, "taints"),
    title="GPU node has no NoSchedule/NoExecute taint",
    why=WHY,
    fix=FIX,
    references=(
        "https://kubernetes.io/docs/concepts/scheduling-eviction/taint-and-toleration/#example-use-cases",
        "https://docs.nvidia.com/datacenter/cloud-native/gpu-operator/latest/getting-started.html",
    ),
    origin=Origin(
        "https://github.com/stanford-oval/genie-cloud/issues/414",
        "An EKS GPU node group had been left without a taint, so a restarted pod that needs "
        "no GPU could land on the GPU node and be disrupted when that node was taken down.",
    ),
)
def gpu_node_untainted(snap: Snapshot) -> Iterator[Hit]:
    for node in snap.gpu_nodes:
        if node.has_taint_effect("NoSchedule", "NoExecute"):
            continue
        gpu = snap.node_gpus[node.name]
        count = node_gpu_count(gpu)
        yield Hit(
            node,
            f"{node.name} has {count.text()} and no NoSchedule/NoExecute taint",
            evidence={
                "gpus": count.physical or 0,
                "gpus_at_least": count.at_least,
                "mig_slices": count.slices,
                "product": gpu.product,
                "taints": [f"{t.key}:{t.effect}" for t in node.spec.taints],
            },
            path="spec.taints",
        )
