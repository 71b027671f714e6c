"""Facts about a cluster (nodes, GPUs, pools, workloads): the inventory every report carries."""

from __future__ import annotations

from collections import Counter

from plumbob.checks.compat.versions import control_plane
from plumbob.model.gpu import gpu_count_unknown
from plumbob.model.snapshot import Snapshot
from plumbob.report.model import Inventory, PoolFact


def inventory(snap: Snapshot) -> Inventory:
    gpus = snap.node_gpus
    requested = snap.gpu_requested_by_node
    models: Counter[str] = Counter()
    for node in snap.gpu_nodes:
        g = gpus[node.name]
        count = g.total_allocatable or g.capacity or g.labelled_count or 0
        models[g.product or "unknown"] += int(count)
    pools = []
    for name, nodes in snap.nodes_by_pool().items():
        products = Counter(gpus[n.name].product for n in nodes if gpus[n.name].product)
        pools.append(
            PoolFact(
                name=name,
                nodes=len(nodes),
                gpu_product=products.most_common(1)[0][0] if products else None,
                gpus_allocatable=sum(gpus[n.name].total_allocatable for n in nodes),
                gpus_requested=sum(requested.get(n.name, 0.0) for n in nodes),
            )
        )
    gpu_workloads = {id(t.workload) for t in snap.gpu_templates}
    count_unknown = {
        id(t.workload) for t in snap.gpu_templates if gpu_count_unknown(t.spec.all_containers)
    }
    version = control_plane(snap)
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
