"""GPU hardware labelled on a node that offers zero allocatable GPUs."""

from __future__ import annotations

from collections.abc import Iterator

from plumbob.checks.registry import GPU_IDENTITY, Hit, Origin, check
from plumbob.model.snapshot import Snapshot

WHY = """
The node's labels say it has NVIDIA GPUs (GPU feature discovery, NFD's PCI vendor 10de, or the
cloud's accelerator label), yet it offers no GPU to the scheduler: the device plugin is not
registered, the driver is not loaded, or the GPU operator is paused on the node. You pay for
the GPUs while every GPU pod that could use them stays Pending, and nothing in the workload
tells you why.
"""

FIX = """
Find out why the device plugin does not advertise the GPUs:

    kubectl describe node NODE | grep -A8 Allocatable
    kubectl -n gpu-operator get pods -o wide --field-selector spec.nodeName=NODE
    kubectl -n gpu-operator logs ds/nvidia-device-plugin-daemonset -c nvidia-device-plugin

Typical causes: the driver container failed (check nvidia-driver-daemonset), the node label
nvidia.com/gpu.deploy.device-plugin=false, or the standalone device plugin's nodeSelector or
tolerations exclude the node. Once the plugin registers, allocatable shows nvidia.com/gpu.
"""

_VM_CONFIGS = ("vm-passthrough", "vm-vgpu")
"""GPU operator workload configs that hand GPUs to virtual machines, not containers."""


@check(
    id="gpu-hardware-not-allocatable",
    category="gpu",
    severity="high",
    reads=("Node",),
    node_parts=GPU_IDENTITY,
    title="GPU hardware labelled but zero GPUs allocatable",
    why=WHY,
    fix=FIX,
    references=(
        "https://kubernetes.io/docs/concepts/extend-kubernetes/compute-storage-net/device-plugins/",
        "https://docs.nvidia.com/datacenter/cloud-native/gpu-operator/latest/troubleshooting.html",
        "https://github.com/NVIDIA/k8s-device-plugin/blob/main/docs/gpu-feature-discovery/README.md",
    ),
    origin=Origin(
        "https://github.com/kubeflow/kubeflow/issues/5275",
        "Pods did not schedule onto a GKE GPU node pool whose nodes advertised no "
        "nvidia.com/gpu: the NVIDIA driver installer DaemonSet that exposes the GPUs was "
        "missing.",
    ),
)
def gpu_hardware_not_allocatable(snap: Snapshot) -> Iterator[Hit]:
    for node in snap.nodes:
        gpu = snap.node_gpus[node.name]
        if not gpu.hardware or not gpu.status_known or gpu.total_allocatable > 0 or gpu.offered:
            continue
        if gpu.dra_devices or gpu.workload_config in _VM_CONFIGS:
            continue  # GPUs handed out through DRA claims or to virtual machines
        labels = {
            k: v
            for k, v in node.labels.items()
            if k
            in (
                "nvidia.com/gpu.present",
                "nvidia.com/gpu.product",
                "nvidia.com/gpu.count",
                "feature.node.kubernetes.io/pci-10de.present",
                "cloud.google.com/gke-accelerator",
                "karpenter.k8s.aws/instance-gpu-name",
            )
        }
        declared = {
            k: v
            for k, v in {**node.status.capacity, **node.status.allocatable}.items()
            if "gpu" in k
        }
        shown = ", ".join(f"{k}={v}" for k, v in labels.items()) or "GPU labels"
        yield Hit(
            node,
            f"{node.name} is labelled with GPU hardware ({shown}) but offers no GPU "
            f"(allocatable {declared or 'has no GPU resource'})",
            evidence={"labels": labels, "gpu_resources": declared, "product": gpu.product},
            path="status.allocatable",
        )
