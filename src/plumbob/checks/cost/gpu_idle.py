"""GPUs allocatable on a node that no running pod requests, priced per month."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from plumbob.checks.options import PRICES, Number, Option
from plumbob.checks.registry import GPU_IDENTITY, CheckContext, Hit, Origin, check
from plumbob.knowledge.gpus import mig_slices_per_gpu, node_gpu_count
from plumbob.knowledge.prices import HOURS_PER_MONTH
from plumbob.model.gpu import (
    MIG_COMPUTE_SLICES,
    GpuCount,
    containers_gpu_request,
    containers_mig_request,
    profile_slices,
)
from plumbob.model.nodes import pool_of
from plumbob.model.objects import Node
from plumbob.model.snapshot import Snapshot

WHY = """
A GPU node is billed by the hour whether or not a pod uses its GPUs: one idle H100 costs about
USD 5,000-9,000 a month at on-demand prices. Idle GPUs come from node pools sized for a peak
that passed, autoscalers that cannot scale down (system pods without PDBs, local storage,
`safe-to-evict: false`), reservations nobody uses, and GPUs stranded by fragmentation. Nobody sees
the cost because the cluster looks healthy.
"""

FIX = """
Scale GPU pools to what is requested:

- Let the autoscaler remove empty GPU nodes: Cluster Autoscaler `--scale-down-utilization-threshold`
  and `--scale-down-unneeded-time`, or a Karpenter NodePool with
  `disruption: {consolidationPolicy: WhenEmptyOrUnderutilized, consolidateAfter: 10m}`.
- Set the pool minimum to 0 where start-up latency allows (`eksctl scale nodegroup --nodes-min 0`,
  `gcloud container node-pools update POOL --min-nodes 0`).
- Queue batch work with Kueue or Volcano so it fills free GPUs instead of waiting for new nodes.
- Share GPUs that small inference pods leave idle (MIG, time-slicing) where isolation allows.

Prices come from knowledge/gpu_prices.yaml (on-demand list prices per GPU product label); pass
`plumbob scan --prices FILE` with rows `{gpu_product: NVIDIA-H100-80GB-HBM3,
usd_per_gpu_hour: 4.10}` for your negotiated prices.
"""


_FINISHED = ("Succeeded", "Failed")

MIN_IDLE_GPUS = Option(
    "min-idle-gpus",
    Number(),
    default=1.0,
    help="The smallest number of idle GPUs on a node that is reported.",
)


@dataclass(frozen=True, slots=True)
class NodeUse:
    """GPU use of one node, in physical GPUs (MIG slices and time-sliced replicas converted)."""

    node: Node
    pool: str
    product: str | None
    physical: float
    """Physical GPUs (knowledge.gpus.node_gpu_count): MIG slices are not GPUs."""
    units: float
    """Allocatable GPU units (whole GPUs, MIG slices or time-sliced replicas)."""
    requested: float
    """Units requested by running pods."""
    idle: float
    """Physical GPUs no running pod uses: idle whole GPUs, and each idle MIG slice as its
    share of a GPU (a 3g slice is 3/7 of an H100)."""
    mig_slices: Mapping[str, float] = field(default_factory=dict)
    """MIG profile -> slices offered."""


def _mig_requests(snap: Snapshot, node: Node, single: str | None) -> dict[str, float]:
    """MIG profile -> slices requested by the node's running pods; under the single MIG strategy
    (`single`: its one profile) slices are asked for as nvidia.com/gpu."""
    out: dict[str, float] = {}
    for pod in snap.pods_by_node.get(node.name, ()):
        if pod.status.phase in _FINISHED:
            continue
        if single is not None:
            out[single] = out.get(single, 0.0) + containers_gpu_request(pod.spec.containers)
            continue
        for profile, amount in containers_mig_request(pod.spec.containers).items():
            out[profile] = out.get(profile, 0.0) + amount
    return out


def _idle(
    snap: Snapshot, node: Node, count: GpuCount, physical: float, units: float, requested: float
) -> float:
    gpu = snap.node_gpus[node.name]
    if not count.slices:
        return physical * max(0.0, units - requested) / units
    single = next(iter(count.slices)) if gpu.single_mig_slices is not None else None
    asked = _mig_requests(snap, node, single)
    per_gpu = mig_slices_per_gpu(gpu.product) or MIG_COMPUTE_SLICES
    idle_mig = sum(
        max(0.0, offered - asked.get(profile, 0.0)) * profile_slices(profile) / per_gpu
        for profile, offered in count.slices.items()
    )
    idle_whole = 0.0
    if count.whole:
        whole_asked = max(0.0, requested - sum(asked.values()))
        replicas = gpu.replicas if gpu.replicas and gpu.replicas > 1 else 1
        idle_whole = max(0.0, count.whole - whole_asked) / replicas
    return min(physical, idle_whole + idle_mig)


def gpu_use(snap: Snapshot) -> tuple[NodeUse, ...]:
    """Every node that offers GPUs, with what running pods request on it (worked out once per
    snapshot: the cost checks and the cost summary all ask)."""
    return snap.derived(_node_use)


def _node_use(snap: Snapshot) -> tuple[NodeUse, ...]:
    out = []
    requested = snap.gpu_requested_by_node
    for node in snap.gpu_nodes:
        gpu = snap.node_gpus[node.name]
        units = gpu.total_allocatable
        if units <= 0:
            continue
        count = node_gpu_count(gpu)
        physical = float(count.physical or 0) or 1.0  # offers GPU units: at least one GPU
        asked = requested.get(node.name, 0.0)
        out.append(
            NodeUse(
                node=node,
                pool=pool_of(node),
                product=gpu.product,
                physical=physical,
                units=units,
                requested=asked,
                idle=_idle(snap, node, count, physical, units, asked),
                mig_slices=count.slices,
            )
        )
    return tuple(out)


def money(amount: float) -> str:
    return f"${amount:,.0f}"


@check(
    id="gpu-idle",
    category="cost",
    severity="medium",
    reads=("Node", "Pod"),
    node_parts=GPU_IDENTITY,
    title="GPUs allocatable but requested by no running pod",
    why=WHY,
    fix=FIX,
    references=(
        "https://kubernetes.io/docs/concepts/cluster-administration/node-autoscaling/",
        "https://karpenter.sh/docs/concepts/disruption/#consolidation",
        "https://github.com/kubernetes/autoscaler/blob/master/cluster-autoscaler/FAQ.md#how-does-scale-down-work",
        "https://github.com/skypilot-org/skypilot-catalog",
    ),
    options=(MIN_IDLE_GPUS, PRICES),
    origin=Origin(
        "https://github.com/kubernetes/autoscaler/issues/1367",
        "A GPU node on which nobody used the GPU could never be scaled down, because the "
        "device plugin's CPU request kept its utilisation above the cluster autoscaler's "
        "threshold.",
    ),
)
def gpu_idle(snap: Snapshot, ctx: CheckContext) -> Iterator[Hit]:
    if not snap.pods:
        return  # no pods captured at all: use cannot be told from these files
    minimum = ctx.value(MIN_IDLE_GPUS)
    prices = ctx.value(PRICES)
    uses = gpu_use(snap)
    pools: dict[str, list[NodeUse]] = {}
    for use in uses:
        pools.setdefault(use.pool, []).append(use)
    for use in uses:
        idle = use.idle
        if idle < minimum or idle <= 0:
            continue
        hourly = prices.per_gpu_hour(use.product)
        monthly = idle * hourly * HOURS_PER_MONTH if hourly is not None else None
        members = pools[use.pool]
        pool_idle = all(m.requested == 0 for m in members)
        pool_gpus = sum(m.idle for m in members)
        product = f"{use.product} " if use.product else ""
        if hourly is not None and monthly is not None:
            cost = f" ≈ {money(monthly)}/month at ${hourly:,.2f}/GPU-hour"
        elif use.product:
            cost = f" (no price for {use.product}; give one with --prices FILE)"
        else:
            cost = " (GPU product unknown: no nvidia.com/gpu.product label to price it by)"
        pool_cost = pool_gpus * hourly * HOURS_PER_MONTH if hourly is not None else None
        pool_money = f", ≈ {money(pool_cost)}/month" if pool_cost is not None else ""
        loud = (
            f"; the whole pool {use.pool} requests no GPU ({len(members)} nodes, "
            f"{round(pool_gpus, 2):g} GPUs idle{pool_money})"
            if pool_idle and len(members) > 1
            else ""
        )
        slices = sum(use.mig_slices.values())
        cut = f" (cut into {slices:g} MIG slices)" if slices else ""
        yield Hit(
            use.node,
            f"{use.node.name} (pool {use.pool}): {round(idle, 2):g} of {use.physical:g} "
            f"{product}GPUs{cut} idle{cost}{loud}",
            evidence={
                "pool": use.pool,
                "product": use.product,
                "gpus": use.physical,
                "mig_slices": dict(use.mig_slices),
                "allocatable": use.units,
                "requested": use.requested,
                "idle_gpus": round(idle, 2),
                "usd_per_gpu_hour": hourly,
                "monthly_cost_usd": round(monthly, 2) if monthly is not None else None,
                "pool_idle": pool_idle,
                "pool_idle_gpus": round(pool_gpus, 2),
                "pool_monthly_cost_usd": round(pool_cost, 2) if pool_cost is not None else None,
                "price_source": prices.origin,
                "node_ready": use.node.ready,
                "cordoned": bool(use.node.spec.unschedulable),
                "hours_per_month": HOURS_PER_MONTH,
            },
            path="status.allocatable",
        )
