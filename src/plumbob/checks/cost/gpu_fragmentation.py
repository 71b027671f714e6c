"""Free GPUs scattered over nodes so that the largest GPU request fits on none of them."""

from __future__ import annotations

from collections.abc import Iterator

from plumbob.checks.cost.gpu_idle import gpu_use
from plumbob.checks.registry import GPU_IDENTITY, WORKLOADS, Hit, Origin, check
from plumbob.model.gpu import gpu_amount
from plumbob.model.objects import PodSpec
from plumbob.model.refs import ObjectRef
from plumbob.model.snapshot import Snapshot

DEFAULT_REQUEST = 8
"""GPUs one pod asks for when no workload shows a larger request: a full 8-GPU node, the unit of
multi-node training and large-model serving."""

WHY = """
A pool can have enough free GPUs in total and still be unable to run the next 8-GPU training
worker or tensor-parallel model server, because the free GPUs are spread one or two per node.
Those pods stay Pending, the autoscaler adds new nodes (more cost) or nothing happens, while the
scattered GPUs are paid for and idle. Spreading placement (the default scheduler scores
LeastAllocated) and small inference pods on big GPU nodes cause it.
"""

FIX = """
Pack GPU pods instead of spreading them and keep big nodes for big jobs:

- Score GPU nodes MostAllocated for the extended resource (KubeSchedulerConfiguration):

      pluginConfig:
        - name: NodeResourcesFit
          args:
            scoringStrategy:
              type: MostAllocated
              resources: [{name: nvidia.com/gpu, weight: 1}]

- Send 1-2 GPU inference pods to a pool of small GPU nodes (nodeSelector/taints), or slice
  GPUs with MIG for them.
- Use Kueue or Volcano (gang scheduling with topology awareness) for multi-GPU jobs, and let
  Karpenter/Cluster Autoscaler consolidate half-used nodes.
"""


def pod_gpus(spec: PodSpec) -> float:
    """GPUs one pod of this spec requests: the sum over containers, or the largest init
    container if that is more (Kubernetes' effective request)."""
    main = sum(
        gpu_amount(c.resources.limits) or gpu_amount(c.resources.requests) for c in spec.containers
    )
    init = max(
        (
            gpu_amount(c.resources.limits) or gpu_amount(c.resources.requests)
            for c in spec.init_containers
        ),
        default=0.0,
    )
    return max(main, init)


@check(
    id="gpu-fragmentation",
    category="cost",
    severity="low",
    reads=("Node", "Pod", WORKLOADS),
    node_parts=(*GPU_IDENTITY, "unschedulable", "conditions"),
    title="Free GPUs are fragmented: the largest GPU request fits on no node",
    why=WHY,
    fix=FIX,
    references=(
        "https://kubernetes.io/docs/concepts/scheduling-eviction/resource-bin-packing/",
        "https://kueue.sigs.k8s.io/docs/concepts/topology_aware_scheduling/",
        "https://karpenter.sh/docs/concepts/disruption/#consolidation",
    ),
    origin=Origin(
        "https://kubernetes.io/docs/concepts/scheduling-eviction/resource-bin-packing/",
        "Kubernetes documents that the scheduler packs pods onto fewer nodes only when bin "
        "packing is configured, so by default free GPUs end up scattered across nodes.",
        kind="document",
    ),
)
def gpu_fragmentation(snap: Snapshot) -> Iterator[Hit]:
    if not snap.pods:
        return  # no pods captured: free GPUs cannot be told from these files
    largest = max((pod_gpus(t.spec) for t in snap.gpu_templates), default=0.0)
    wanted = largest or float(DEFAULT_REQUEST)
    pools: dict[str, list[tuple[str, float, float]]] = {}
    for use in gpu_use(snap):
        node_gpu = snap.node_gpus[use.node.name]
        if node_gpu.mig_allocatable or use.node.spec.unschedulable or use.node.ready is False:
            continue  # MIG slices and cordoned/NotReady nodes take no whole-GPU pods
        free = max(0.0, use.units - use.requested)
        pools.setdefault(use.pool, []).append((use.node.name, free, use.units))
    for pool, nodes in sorted(pools.items()):
        capacity = max(units for _, _, units in nodes)
        need = min(wanted, capacity)  # a request larger than any node never fits this pool
        free_total = sum(free for _, free, _ in nodes)
        best = max(free for _, free, _ in nodes)
        if free_total < need or best >= need or need <= 1:
            continue
        scattered = sorted(((n, f) for n, f, _ in nodes if f > 0), key=lambda x: -x[1])
        yield Hit(
            ObjectRef(kind="Pool", name=pool),
            f"pool {pool}: {free_total:g} GPUs free across {len(scattered)} nodes, but no node "
            f"has {need:g} free (most on one node: {best:g}); a {need:g}-GPU pod stays Pending",
            evidence={
                "pool": pool,
                "free_gpus": free_total,
                "largest_free_on_one_node": best,
                "request": need,
                "largest_request_seen": largest or None,
                "free_by_node": dict(scattered[:20]),
            },
        )
