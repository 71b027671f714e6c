"""Node pools tainted so that no workload but node agents can run on them."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import msgspec

from plumbob.checks.registry import COMPONENTS, WORKLOADS, Hit, Origin, check
from plumbob.knowledge.provisioning import extended_resource_toleration_labels
from plumbob.model.objects import DaemonSet, Node, Pod, Taint, Toleration, as_list, dig
from plumbob.model.scheduling import requested_gpu_resources
from plumbob.model.snapshot import Snapshot
from plumbob.model.workloads import PodTemplate

WHY = """
A taint keeps every pod off a node unless the pod tolerates it. A pool whose nodes all carry a
NoSchedule or NoExecute taint that no workload tolerates runs nothing but its node agents:
capacity that is paid for and that nobody can use. On GPU pools that is the most expensive
capacity in the cluster, and it usually means a typo or a changed convention (`nvidia.com/gpu`
against `sku=gpu`, `dedicated=ml` against `dedicated=ai`) between the team that tainted the pool
and the teams whose jobs sit Pending next to it.

DaemonSets are not counted as using a pool: they run one agent per node (device plugin, DCGM
exporter, CNI, log shipper) and tolerate every taint by design, so they say nothing about
whether the pool's capacity can be used for the work it was tainted for. A toleration a Kueue
ResourceFlavor adds to the workloads it admits counts, and so do pods already running on the
nodes; on GKE, a pod requesting an extended resource (nvidia.com/gpu) tolerates the taint named
after it. Transient taints the cluster sets itself (not-ready, unschedulable, being
deleted by an autoscaler) and the control plane's are not judged.

It needs a view of the whole cluster (a live capture or `--complete`): a workload of another
team's manifests may tolerate the taint.
"""

FIX = """
Give the workloads meant for the pool the toleration (and a nodeSelector so they go there):

    tolerations:
      - key: dedicated
        operator: Equal
        value: ml
        effect: NoSchedule
    nodeSelector:
      eks.amazonaws.com/nodegroup: gpu-a100

or correct the pool's taint to the one the workloads tolerate; if the pool is not needed,
scale it to zero.
"""

_TRANSIENT_PREFIXES = (
    "node.kubernetes.io/",
    "node.cloudprovider.kubernetes.io/",
    "node-role.kubernetes.io/",
    "karpenter.sh/",
    "node.cilium.io/",
    "ToBeDeletedByClusterAutoscaler",
    "DeletionCandidateOfClusterAutoscaler",
)
"""Taints the cluster's own components set and lift (lifecycle, control plane, autoscalers
draining a node, CNI start-up): not a statement about which workloads a pool is for."""


def _common_taints(nodes: Sequence[Node]) -> list[Taint]:
    first = [
        t
        for t in nodes[0].spec.taints
        if t.effect in ("NoSchedule", "NoExecute") and not t.key.startswith(_TRANSIENT_PREFIXES)
    ]
    return [
        t
        for t in first
        if all(
            any(
                o.key == t.key and o.value == t.value and o.effect == t.effect
                for o in n.spec.taints
            )
            for n in nodes[1:]
        )
    ]


def _flavor_tolerations(snap: Snapshot) -> list[Toleration]:
    out: list[Toleration] = []
    for flavor in snap.generic("ResourceFlavor"):
        if flavor.group != "kueue.x-k8s.io":
            continue
        for raw in as_list(dig(flavor.spec, "tolerations")):
            if isinstance(raw, dict):
                try:
                    out.append(msgspec.convert(raw, Toleration))
                except msgspec.ValidationError:
                    continue
    return out


def _tolerators(snap: Snapshot, taint: Taint, gke: bool) -> list[PodTemplate]:
    out: list[PodTemplate] = []
    for template in snap.pod_templates:
        if template.kind == "DaemonSet" or _daemon_pod(template):
            continue
        tolerated = any(t.tolerates(taint) for t in template.spec.tolerations)
        if tolerated or (gke and taint.key in requested_gpu_resources(template.spec)):
            out.append(template)
    return out


def _daemon_pod(template: PodTemplate) -> bool:
    workload = template.workload
    return isinstance(workload, Pod) and any(
        o.kind == "DaemonSet" for o in workload.metadata.owner_references
    )


def _running_there(snap: Snapshot, nodes: Sequence[Node]) -> list[Pod]:
    out: list[Pod] = []
    for node in nodes:
        for pod in snap.pods_by_node.get(node.name, ()):
            if pod.status.phase in ("Succeeded", "Failed"):
                continue
            if any(o.kind in ("DaemonSet", "Node") for o in pod.metadata.owner_references):
                continue
            if isinstance(snap.owner_of(pod), DaemonSet):
                continue
            out.append(pod)
    return out


@check(
    id="node-pool-taint-untolerated",
    category="cost",
    severity="medium",
    reads=("Node", WORKLOADS, COMPONENTS),
    node_parts=("labels", "taints", "unschedulable"),
    consults=("ResourceFlavor",),
    title="Node pool tainted so that no workload can use it",
    why=WHY,
    fix=FIX,
    references=(
        "https://kubernetes.io/docs/concepts/scheduling-eviction/taint-and-toleration/",
        "https://kueue.sigs.k8s.io/docs/concepts/resource_flavor/#resourceflavor-tolerations-for-automatic-scheduling",
        "https://cloud.google.com/kubernetes-engine/docs/how-to/gpus",
        "https://learn.microsoft.com/en-us/azure/aks/gpu-cluster",
    ),
    origin=Origin(
        "https://kubernetes.io/docs/concepts/scheduling-eviction/taint-and-toleration/",
        "Kubernetes documents that a NoSchedule taint keeps off every pod that does not "
        "tolerate it, so a pool whose taint no workload tolerates runs only DaemonSets.",
        kind="document",
    ),
)
def node_pool_taint_untolerated(snap: Snapshot) -> Iterator[Hit]:
    keys = extended_resource_toleration_labels()
    gke = any(k in n.labels for n in snap.nodes for k in keys)
    flavors = _flavor_tolerations(snap)
    gpus = snap.node_gpus
    for pool, nodes in snap.nodes_by_pool().items():
        usable = [n for n in nodes if not n.spec.unschedulable]
        if not usable:
            continue  # cordoned on purpose
        for taint in _common_taints(usable):
            if any(t.tolerates(taint) for t in flavors):
                continue
            if _tolerators(snap, taint, gke) or _running_there(snap, usable):
                continue
            gpu_count = sum(gpus[n.name].allocatable for n in usable)
            what = f", {gpu_count:g} GPUs" if gpu_count else ""
            value = f"={taint.value}" if taint.value else ""
            yield Hit(
                usable[0],
                f"pool {pool} ({len(usable)} node(s){what}, e.g. {usable[0].name}) is tainted "
                f"{taint.key}{value}:{taint.effect} and no workload tolerates it: only node "
                "agents (DaemonSets) can run there",
                evidence={
                    "pool": pool,
                    "taint": f"{taint.key}{value}:{taint.effect}",
                    "nodes": [n.name for n in usable[:10]],
                    "gpus": gpu_count,
                },
                path="spec.taints",
            )
