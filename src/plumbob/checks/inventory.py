"""Facts about a cluster (nodes, GPUs, pools, workloads): the inventory every report carries."""

from __future__ import annotations

from collections import Counter

from plumbob.checks.compat.versions import control_plane
from plumbob.knowledge.gpus import node_gpu_count
from plumbob.model.gpu import (
    GpuCount,
    containers_gpu_request,
    containers_mig_request,
    gpu_count_unknown,
)
from plumbob.model.snapshot import Snapshot
from plumbob.report.model import Inventory, PoolFact

_FINISHED = ("Succeeded", "Failed")


def _slices(counts: list[GpuCount]) -> dict[str, float]:
    out: Counter[str] = Counter()
    for count in counts:
        out.update(count.slices)
    return dict(sorted(out.items()))


def _mig_requested(snap: Snapshot, counts: dict[str, GpuCount]) -> float:
    """MIG slices running pods request on the nodes that offer slices (the pods
    `gpu_requested_by_node` counts); under the single MIG strategy a slice is asked for as
    nvidia.com/gpu."""
    total = 0.0
    for name, count in counts.items():
        if not count.slices:
            continue
        single = snap.node_gpus[name].single_mig_slices is not None
        for pod in snap.pods_by_node.get(name, ()):
            if pod.status.phase in _FINISHED:
                continue
            if single:
                total += containers_gpu_request(pod.spec.containers)
            else:
                total += sum(containers_mig_request(pod.spec.containers).values())
    return total


def inventory(snap: Snapshot) -> Inventory:
    gpus = snap.node_gpus
    requested = snap.gpu_requested_by_node
    counts = {n.name: node_gpu_count(gpus[n.name]) for n in snap.gpu_nodes}
    models: Counter[str] = Counter()
    for node in snap.gpu_nodes:
        models[gpus[node.name].product or "unknown"] += counts[node.name].physical or 0
    pools = []
    for name, nodes in snap.nodes_by_pool().items():
        products = Counter(gpus[n.name].product for n in nodes if gpus[n.name].product)
        in_pool = [counts[n.name] for n in nodes if n.name in counts]
        pools.append(
            PoolFact(
                name=name,
                nodes=len(nodes),
                gpu_product=products.most_common(1)[0][0] if products else None,
                gpus_allocatable=sum(gpus[n.name].total_allocatable for n in nodes),
                gpus_requested=sum(requested.get(n.name, 0.0) for n in nodes),
                gpus=sum(c.physical or 0 for c in in_pool),
                gpus_at_least=any(c.at_least for c in in_pool),
                mig_slices=_slices(in_pool),
            )
        )
    gpu_workloads = {id(t.workload) for t in snap.gpu_templates}
    count_unknown = {
        id(t.workload) for t in snap.gpu_templates if gpu_count_unknown(t.spec.all_containers)
    }
    version = control_plane(snap)
    every = list(counts.values())
    return Inventory(
        cluster=snap.cluster.name,
        kubernetes_version=version.version if version else None,
        kubernetes_version_source=version.basis if version else None,
        captured_at=snap.captured_at,
        source=snap.source or None,
        objects=len(snap),
        nodes=len(snap.nodes),
        gpu_nodes=len(snap.gpu_nodes),
        gpus_allocatable=sum(g.total_allocatable for g in gpus.values()),
        gpus_requested=sum(requested.values()),
        gpus=sum(c.physical or 0 for c in every),
        gpus_at_least=any(c.at_least for c in every),
        mig_slices=_slices(every),
        mig_slices_requested=_mig_requested(snap, counts),
        gpu_models=dict(models.most_common()),
        pools=pools,
        workloads=len(snap.workloads),
        gpu_workloads=len(gpu_workloads),
        gpu_workloads_count_unknown=len(count_unknown),
        namespaces=len(snap.namespaces),
        kinds={k: len(v) for k, v in sorted(snap.kinds.items())},
        not_visible=_not_seen(snap),
    )


def _not_seen(snap: Snapshot) -> dict[str, str]:
    """Kinds the source could not list, and the inventory's own kinds the input lacks: a count
    of 0 nodes for input without Node objects would read as a cluster without nodes."""
    out = dict(snap.not_visible)
    for kind in ("Node", "Pod"):
        reason = snap.unseen(kind)
        if reason is not None:
            out.setdefault(kind, reason)
    return out
