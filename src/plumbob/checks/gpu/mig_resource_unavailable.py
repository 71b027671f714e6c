"""Workloads requesting MIG slices that no node offers."""

from __future__ import annotations

from collections.abc import Iterator

from plumbob.checks.registry import COMPONENTS, GPU_IDENTITY, WORKLOADS, Hit, Origin, check
from plumbob.knowledge.components import node_autoscaler_installed
from plumbob.model.gpu import is_mig_resource
from plumbob.model.snapshot import Snapshot

WHY = """
A pod requesting nvidia.com/mig-<profile> can only run on a node whose GPUs are partitioned
into exactly that profile and whose device plugin uses the mixed MIG strategy (the single
strategy advertises MIG slices as nvidia.com/gpu). When no node offers the profile, the pod
stays Pending forever, with only a FailedScheduling event to say why, and the team waiting on
the notebook or inference endpoint sees nothing move.
"""

FIX = """
Request a profile the cluster offers (see `kubectl get nodes -o json | jq
'.items[].status.allocatable | with_entries(select(.key|startswith("nvidia.com/mig-")))'`), or
repartition a pool with the GPU operator's MIG manager and the mixed strategy:

    kubectl label nodes -l POOL_LABEL=POOL nvidia.com/mig.config=all-balanced --overwrite

    resources:
      limits:
        nvidia.com/mig-1g.10gb: 1
"""


@check(
    id="mig-resource-unavailable",
    category="gpu",
    severity="high",
    reads=("Node", WORKLOADS),
    node_parts=GPU_IDENTITY,
    consults=(COMPONENTS,),
    title="MIG profile requested that no node offers",
    why=WHY,
    fix=FIX,
    references=(
        "https://docs.nvidia.com/datacenter/cloud-native/gpu-operator/latest/gpu-operator-mig.html",
        "https://docs.nvidia.com/datacenter/tesla/mig-user-guide/#supported-profiles",
    ),
    origin=Origin(
        "https://docs.nvidia.com/datacenter/cloud-native/gpu-operator/latest/gpu-operator-mig.html",
        "NVIDIA's GPU operator documents that the mixed strategy offers each MIG profile as "
        "its own nvidia.com/mig-<profile> resource, which only nodes partitioned into that "
        "profile have.",
        kind="document",
    ),
)
def mig_resource_unavailable(snap: Snapshot) -> Iterator[Hit]:
    if not snap.nodes:
        return  # manifests only: which profiles nodes offer is unknown
    offered = snap.offered_gpu_resources
    mig_offered = sorted(n for n in offered if is_mig_resource(n))
    if not offered and node_autoscaler_installed(snap):
        return  # GPU pools scaled to zero: their shape is in the autoscaler, not on nodes
    single = sorted(
        {n.name for n in snap.gpu_nodes if snap.node_gpus[n.name].mig_strategy == "single"}
    )
    for template in snap.pod_templates:
        for path, container, resource, amount in template.gpu_resources():
            if not is_mig_resource(resource) or resource in offered:
                continue
            hint = (
                f"; nodes offer {', '.join(mig_offered)}"
                if mig_offered
                else "; no node offers MIG slices"
            )
            if single:
                hint += (
                    f" ({len(single)} node(s) use the single MIG strategy and offer "
                    f"their slices as nvidia.com/gpu)"
                )
            yield Hit(
                template.workload,
                f"container {container.name!r} of {template.kind} {template.workload.name} "
                f"requests {resource}: {amount:g}, which no node offers{hint}",
                evidence={
                    "container": container.name,
                    "resource": resource,
                    "mig_offered": mig_offered,
                    "single_strategy_nodes": single[:20],
                },
                path=f"{path}.resources",
            )
