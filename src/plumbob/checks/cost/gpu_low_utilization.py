"""Workloads whose GPUs averaged a low utilisation over the metrics window, with the monthly cost
of the unused share."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from plumbob.checks.options import PRICES, Number, Option
from plumbob.checks.registry import CheckContext, Hit, Origin, check
from plumbob.knowledge.prices import HOURS_PER_MONTH, Prices
from plumbob.model.gpu import containers_gpu_request
from plumbob.model.metrics import GPU_METRICS, GpuMetrics
from plumbob.model.objects import Object, Pod
from plumbob.model.snapshot import Snapshot

WHY = """
A pod holds its GPUs exclusively whether it uses them or not: a notebook left open, an inference
server sized for a peak that never comes, a training job stuck in data loading. At 10% average
utilisation nine tenths of every GPU-hour is paid for and wasted, and the GPUs are unavailable
to the jobs queued behind it. Utilisation is what DCGM measured (DCGM_FI_DEV_GPU_UTIL averaged
over the window), not what was requested, so this is the waste allocation-based reports miss.
"""

FIX = """
Right-size or share the GPUs:

- Inference: scale replicas on a GPU or queue metric (KEDA/HPA on DCGM_FI_DEV_GPU_UTIL or the
  server's queue length), or pack small models onto MIG slices / time-sliced GPUs.
- Notebooks and dev pods: cull idle sessions (JupyterHub idle culler, Kubeflow notebook culling).
- Training: profile the input pipeline (data loading often starves the GPU); use fewer GPUs.
"""

THRESHOLD_PERCENT = Option(
    "threshold-percent",
    Number(),
    default=10.0,
    help="Average GPU utilisation, in percent, below which a workload's GPUs count as under-used.",
)
IDLE_PERCENT = Option(
    "idle-percent",
    Number(),
    default=1.0,
    help="Average GPU utilisation, in percent, below which a GPU counts as idle: "
    "gpu-allocated-idle reports it, gpu-low-utilization leaves it to that check.",
)

REFERENCES = (
    "https://docs.nvidia.com/datacenter/dcgm/latest/user-guide/feature-overview.html#profiling",
    "https://github.com/NVIDIA/dcgm-exporter",
    "https://docs.nvidia.com/datacenter/cloud-native/gpu-operator/latest/gpu-sharing.html",
)


@dataclass(slots=True)
class WorkloadGpuUse:
    """GPU use of one workload's running pods over the metrics window."""

    subject: Object
    gpus: float = 0.0
    weighted_util: float = 0.0
    max_util: float = 0.0
    memory_mib: list[float] = field(default_factory=list)
    pods: list[str] = field(default_factory=list)
    products: dict[str, float] = field(default_factory=dict)
    whole_node: bool = False
    """Some pods had no per-pod series and were measured by their node's busiest GPU (an upper
    bound on their own GPUs)."""

    @property
    def util_percent(self) -> float:
        return self.weighted_util / self.gpus if self.gpus else 0.0

    def monthly_cost(self, prices: Prices) -> float | None:
        total = 0.0
        for product, gpus in self.products.items():
            hourly = prices.per_gpu_hour(product)
            if hourly is None:
                return None
            total += hourly * gpus * HOURS_PER_MONTH
        return total


def top_owner(snap: Snapshot, obj: Object) -> Object:
    """The workload a pod is counted in (Pod -> ReplicaSet -> Deployment; pods whose controller
    is not in the snapshot, by their controller reference: `Snapshot.workload_of`)."""
    return snap.workload_of(obj)


def gpu_workload_use(snap: Snapshot) -> tuple[WorkloadGpuUse, ...]:
    """Running GPU pods joined with their measured use (`snap.gpu_metrics`), grouped by
    workload, worked out once per snapshot. Pods with neither a per-pod series nor a measured
    node are left out (their use is unknown)."""
    return snap.derived(_workload_use)


def _workload_use(snap: Snapshot) -> tuple[WorkloadGpuUse, ...]:
    metrics = snap.gpu_metrics
    if metrics is None:
        return ()
    out: dict[int, WorkloadGpuUse] = {}
    for pod in snap.pods:
        node = pod.spec.node_name
        if pod.status.phase != "Running" or not node:
            continue
        gpus = containers_gpu_request(pod.spec.containers)
        if not gpus:
            continue
        util, peak, memory, whole_node = _measured(pod, node, metrics)
        if util is None:
            continue
        owner = top_owner(snap, pod)
        use = out.setdefault(id(owner), WorkloadGpuUse(subject=owner))
        use.gpus += gpus
        use.weighted_util += util * gpus
        use.max_util = max(use.max_util, peak)
        if memory is not None:
            use.memory_mib.append(memory)
        use.pods.append(pod.name)
        product = snap.node_gpus[node].product if node in snap.node_gpus else None
        use.products[product or "unknown"] = use.products.get(product or "unknown", 0.0) + gpus
        use.whole_node = use.whole_node or whole_node
    return tuple(out.values())


def _measured(
    pod: Pod, node: str, metrics: GpuMetrics
) -> tuple[float | None, float, float | None, bool]:
    usage = metrics.by_pod.get(f"{pod.namespace or ''}/{pod.name}")
    if usage is not None and usage.util_percent is not None:
        return (
            usage.util_percent,
            usage.max_util_percent or usage.util_percent,
            usage.memory_used_mib,
            False,
        )
    node_use = metrics.by_node.get(node)
    if node_use is not None and node_use.max_util_percent is not None:
        return node_use.max_util_percent, node_use.max_util_percent, None, True
    return None, 0.0, None, False


def measured(
    snap: Snapshot, ctx: CheckContext, judged: Callable[[float], bool]
) -> Iterator[tuple[WorkloadGpuUse, GpuMetrics, float | None]]:
    """(use, metrics, monthly cost at the scan's prices) of each workload whose measured
    utilisation `judged` picks; nothing when the scan has no GPU metrics (the engine reports
    the check not visible first)."""
    metrics = snap.gpu_metrics
    if metrics is None:
        return
    prices = ctx.value(PRICES)
    for use in gpu_workload_use(snap):
        if judged(use.util_percent):
            yield use, metrics, use.monthly_cost(prices)


def describe(
    use: WorkloadGpuUse,
    metrics: GpuMetrics,
    cost: float | None,
    idle_share: float,
    adjective: str = "",
) -> tuple[str, dict[str, object]]:
    """Message tail and evidence shared by the utilisation checks."""
    products = ", ".join(sorted(p for p in use.products if p != "unknown")) or "unknown model"
    gpus = f"{use.gpus:g} {adjective}GPU{'s' if use.gpus != 1 else ''}"
    bound = "at most " if use.whole_node else ""
    how = " (no per-pod series: its node's busiest GPU)" if use.whole_node else ""
    text = (
        f"{gpus} ({products}) at {bound}{use.util_percent:.1f}% average utilisation over "
        f"{metrics.window}{how}"
    )
    waste = None if cost is None else round(cost * idle_share, 2)
    if waste is not None:
        text += f": about USD {waste:,.0f}/month of unused GPU time"
    evidence: dict[str, object] = {
        "gpus": use.gpus,
        "util_percent": round(use.util_percent, 2),
        "max_util_percent": round(use.max_util, 2),
        "window": metrics.window,
        "pods": sorted(use.pods)[:10],
        "running_pods": len(use.pods),
        "gpu_products": dict(use.products),
        "metric": metrics.utilization_metric,
        "monthly_cost_usd": None if cost is None else round(cost, 2),
        "wasted_usd_per_month": waste,
    }
    if use.memory_mib:
        evidence["memory_used_mib"] = round(sum(use.memory_mib) / len(use.memory_mib), 1)
    if use.whole_node:
        evidence["measured_by"] = "busiest GPU of the node (no per-pod DCGM series)"
    return text, evidence


@check(
    id="gpu-low-utilization",
    category="cost",
    severity="medium",
    reads=("Pod", GPU_METRICS),
    title="GPU workload with low average GPU utilisation",
    why=WHY,
    fix=FIX,
    references=REFERENCES,
    options=(THRESHOLD_PERCENT, IDLE_PERCENT, PRICES),
    origin=Origin(
        "https://github.com/NVIDIA/dcgm-exporter",
        "NVIDIA's DCGM exporter publishes each pod's GPU utilisation, the measure of how "
        "much of a paid GPU a workload uses.",
        kind="document",
    ),
)
def gpu_low_utilization(snap: Snapshot, ctx: CheckContext) -> Iterator[Hit]:
    threshold = ctx.value(THRESHOLD_PERCENT)
    idle = ctx.value(IDLE_PERCENT)
    for use, metrics, cost in measured(snap, ctx, lambda util: idle <= util < threshold):
        text, evidence = describe(use, metrics, cost, 1 - use.util_percent / 100)
        evidence["threshold_percent"] = threshold
        yield Hit(use.subject, f"{use.subject.kind} {use.subject.name} holds {text}", evidence)
