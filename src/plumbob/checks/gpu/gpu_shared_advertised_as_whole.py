"""GPU nodes whose time-sliced or MPS shares are advertised under the whole-GPU resource name."""

from __future__ import annotations

from collections.abc import Iterator

from plumbob.checks.registry import Hit, Origin, check
from plumbob.model.snapshot import Snapshot

WHY = """
When the NVIDIA device plugin shares GPUs (time-slicing or MPS) with `renameByDefault: false`,
its default, it advertises each GPU `replicas` times as `nvidia.com/gpu`, and GPU feature
discovery marks the product label `-SHARED`. Nothing a workload asks for can then tell a share
from a GPU: a training pod that requests `nvidia.com/gpu: 8` for eight GPUs gets eight shares,
possibly of one device, with no memory isolation between them; a ResourceQuota of
`requests.nvidia.com/gpu: 8` admits eight shares; allocation, idle-GPU and cost reports count
shares as GPUs. This is what the nodes show, so it is visible on a live cluster, where the
device plugin's ConfigMap is not read (see gpu-sharing-config-unsafe for the config itself).
"""

FIX = """
Advertise shares under their own resource name, `nvidia.com/gpu.shared`, in the device
plugin's sharing config (GPU operator: the ConfigMap named by ClusterPolicy
`spec.devicePlugin.config.name`):

    sharing:
      timeSlicing:
        renameByDefault: true
        failRequestsGreaterThanOne: true
        resources:
          - {name: nvidia.com/gpu, replicas: 4}

and move the workloads that may share to `nvidia.com/gpu.shared`. Keep pools that serve or
train on whole GPUs without sharing (`nvidia.com/device-plugin.config` per node or pool).
"""

SHARED_SUFFIX = "-SHARED"


@check(
    id="gpu-shared-advertised-as-whole",
    category="gpu",
    severity="medium",
    reads=("Node",),
    node_parts=("labels",),
    title="Shared GPUs are advertised as whole nvidia.com/gpu",
    why=WHY,
    fix=FIX,
    references=(
        "https://github.com/NVIDIA/k8s-device-plugin#with-cuda-time-slicing",
        "https://docs.nvidia.com/datacenter/cloud-native/gpu-operator/latest/gpu-sharing.html",
        "https://github.com/NVIDIA/k8s-device-plugin/issues/1433",
    ),
    origin=Origin(
        "https://github.com/NVIDIA/k8s-device-plugin/issues/1433",
        "A time-slicing config that put renameByDefault under flags advertised 16384 shares "
        "per node as plain nvidia.com/gpu.",
    ),
)
def gpu_shared_advertised_as_whole(snap: Snapshot) -> Iterator[Hit]:
    gpus = snap.node_gpus
    for node in snap.gpu_nodes:
        g = gpus[node.name]
        product = g.product or ""
        marked = product.upper().endswith(SHARED_SUFFIX)
        replicas = g.replicas or 0
        whole = node.knows("allocatable") and "nvidia.com/gpu" in g.offered
        shared_offer = "nvidia.com/gpu.shared" in g.offered
        if shared_offer:
            continue
        if not marked and not (
            whole and replicas > 1 and g.sharing_strategy in ("time-slicing", "mps")
        ):
            continue
        how = g.sharing_strategy or "sharing"
        shown = f"{g.offered['nvidia.com/gpu']:g} " if whole else ""
        yield Hit(
            node,
            f"node {node.name} advertises {shown}{how} shares"
            + (f" ({replicas} per GPU)" if replicas > 1 else "")
            + f" as nvidia.com/gpu (product label {product or '?'}): pods asking for whole GPUs "
            "get shares, and quotas and reports count shares as GPUs",
            evidence={
                "product": product,
                "replicas": g.replicas,
                "sharing_strategy": g.sharing_strategy,
                "advertised": g.offered.get("nvidia.com/gpu"),
                "gpus": g.labelled_count,
            },
            path="metadata.labels",
        )
