"""Workloads requesting a GPU resource name no node offers."""

from __future__ import annotations

from collections.abc import Iterator

from plumbob.checks.registry import COMPONENTS, GPU_IDENTITY, WORKLOADS, Hit, Origin, check
from plumbob.knowledge.components import node_autoscaler_installed
from plumbob.model.gpu import LEGACY_GPU_RESOURCES, is_mig_resource
from plumbob.model.snapshot import Snapshot

WHY = """
The scheduler matches extended resources by exact name. A pod asking for
alpha.kubernetes.io/nvidia-gpu (removed in Kubernetes 1.11), nvidia.com/gpu.shared on a cluster
whose device plugin does not rename shared GPUs, or nvidia.com/gpu where GPUs are offered as
volcano.sh/gpu-number stays Pending forever next to free GPUs; the only hint is a
FailedScheduling event saying "Insufficient" of a resource nobody offers.
"""

FIX = """
Request the name the nodes offer (`kubectl get nodes -o json | jq
'.items[].status.allocatable'`):

    resources:
      limits:
        nvidia.com/gpu: 1        # not alpha.kubernetes.io/nvidia-gpu

If the workload needs shared GPUs, configure the device plugin's sharing with
`renameByDefault: true` on a pool so it offers nvidia.com/gpu.shared.
"""


@check(
    id="gpu-resource-name-unavailable",
    category="gpu",
    severity="high",
    reads=("Node", WORKLOADS),
    node_parts=GPU_IDENTITY,
    consults=(COMPONENTS,),
    title="GPU resource name requested that no node offers",
    why=WHY,
    fix=FIX,
    references=(
        "https://kubernetes.io/docs/tasks/manage-gpus/scheduling-gpus/",
        "https://github.com/NVIDIA/k8s-device-plugin#shared-access-to-gpus",
        "https://kubernetes.io/docs/concepts/configuration/manage-resources-containers/#extended-resources",
    ),
    origin=Origin(
        "https://github.com/pachyderm/pachyderm/issues/2886",
        'A GPU pipeline on GKE stayed Pending with "Insufficient '
        'alpha.kubernetes.io/nvidia-gpu" while its nodes offered nvidia.com/gpu.',
    ),
)
def gpu_resource_name_unavailable(snap: Snapshot) -> Iterator[Hit]:
    if not snap.nodes:
        return  # manifests only: which names nodes offer is unknown
    offered = sorted(snap.offered_gpu_resources)
    if not offered and node_autoscaler_installed(snap):
        return  # GPU pools scaled to zero: the autoscaler knows their resources
    for template in snap.pod_templates:
        for path, container, resource, amount in template.gpu_resources():
            if resource in offered or is_mig_resource(resource):
                continue  # MIG profiles: mig-resource-unavailable
            replaced = LEGACY_GPU_RESOURCES.get(resource)
            hint = (
                f"; nodes offer {', '.join(offered)}"
                if offered
                else "; no node offers any GPU resource"
            )
            if replaced:
                hint = f" ({resource} was removed; use {replaced}){hint}"
            yield Hit(
                template.workload,
                f"container {container.name!r} of {template.kind} {template.workload.name} "
                f"requests {resource}: {amount:g}, which no node offers{hint}",
                evidence={
                    "container": container.name,
                    "resource": resource,
                    "offered": offered,
                },
                path=f"{path}.resources",
            )
