"""Nodes whose GPU-count label disagrees with the GPUs they offer."""

from __future__ import annotations

from collections.abc import Iterator

from plumbob.checks.registry import GPU_IDENTITY, Hit, Origin, check
from plumbob.model.snapshot import Snapshot

WHY = """
GPU feature discovery labels a node with the GPUs the driver sees (nvidia.com/gpu.count);
allocatable is what the device plugin offers the scheduler. When fewer GPUs are allocatable than
labelled, a GPU has fallen off the bus or been marked unhealthy (an Xid error), and an 8-GPU
training job that needs the whole node never fits. More allocatable than the label (taking
time-slicing replicas and MIG into account) means a stale label or a second device plugin, so
capacity and cost numbers are wrong.
"""

FIX = """
Compare what the driver and the plugin see on the node:

    kubectl get node NODE -o jsonpath='{.metadata.labels.nvidia\\.com/gpu\\.count}
    {.status.allocatable.nvidia\\.com/gpu}'
    kubectl -n gpu-operator exec ds/nvidia-driver-daemonset -- nvidia-smi -L
    kubectl -n gpu-operator logs ds/nvidia-device-plugin-daemonset | grep -i unhealthy

Drain the node and have the GPU replaced or reset when one is missing or unhealthy; restart GPU
feature discovery when the label is stale.
"""


_COUNT_LABELS = ("nvidia.com/gpu.count", "karpenter.k8s.aws/instance-gpu-count")


@check(
    id="gpu-count-label-mismatch",
    category="gpu",
    severity="medium",
    reads=("Node",),
    node_parts=GPU_IDENTITY,
    title="GPU-count label disagrees with allocatable GPUs",
    why=WHY,
    fix=FIX,
    references=(
        "https://github.com/NVIDIA/k8s-device-plugin/blob/main/docs/gpu-feature-discovery/README.md#generated-labels",
        "https://docs.nvidia.com/deploy/xid-errors/index.html",
        "https://docs.nvidia.com/datacenter/cloud-native/gpu-operator/latest/gpu-sharing.html",
    ),
    origin=Origin(
        "https://github.com/NVIDIA/gpu-operator/issues/1065",
        "An 8-GPU H100 node kept 7 GPUs allocatable after an Xid error, while its capacity "
        "still said 8.",
    ),
)
def gpu_count_label_mismatch(snap: Snapshot) -> Iterator[Hit]:
    for node in snap.gpu_nodes:
        gpu = snap.node_gpus[node.name]
        labelled = gpu.labelled_count
        whole = gpu.allocatable
        if not labelled or not whole or not gpu.status_known:
            continue  # nothing offered at all is gpu-hardware-not-allocatable's finding
        replicas = max(gpu.replicas or 1, 1)
        expected = labelled * replicas
        if whole > expected and gpu.replicas is None:
            continue  # no GFD sharing label (a cloud count label): time-slicing is unknown
        if gpu.mig_strategy == "mixed" or gpu.mig_allocatable:
            if whole <= expected:
                continue  # GPUs with MIG enabled are offered as slices, not whole
            relation = "more than"
        elif whole == expected:
            continue
        else:
            relation = "fewer than" if whole < expected else "more than"
        sharing = f" x {replicas} time-slicing replicas" if replicas > 1 else ""
        label = next((k for k in _COUNT_LABELS if k in node.labels), _COUNT_LABELS[0])
        yield Hit(
            node,
            f"{node.name} offers {whole:g} whole GPUs, {relation} its label "
            f"{label}={labelled}{sharing} ({expected:g} expected)",
            evidence={
                "allocatable": whole,
                "count_label": label,
                "count": labelled,
                "replicas": replicas,
                "expected": expected,
                "mig_strategy": gpu.mig_strategy,
                "product": gpu.product,
            },
            path="status.allocatable",
        )
