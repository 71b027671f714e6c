"""Clusters running GPU workloads without priority classes that separate inference from
training."""

from __future__ import annotations

from collections.abc import Iterator

from plumbob.checks.registry import WORKLOADS, Hit, Origin, check
from plumbob.model.gpu import pod_uses_gpu
from plumbob.model.refs import cluster_ref
from plumbob.model.snapshot import Snapshot

WHY = """
When GPUs run out, something has to wait. With no priority classes, or only one level for
everything, the scheduler cannot tell a customer-facing inference service from an overnight
training run: it neither preempts the batch job for the service nor keeps batch work from
queueing ahead of it. Inference latency then depends on who submitted first.
"""

PRIORITY_CLASSES_YAML = """
    apiVersion: scheduling.k8s.io/v1
    kind: PriorityClass
    metadata: {name: gpu-inference}
    value: 100000
    description: Production model serving
    ---
    apiVersion: scheduling.k8s.io/v1
    kind: PriorityClass
    metadata: {name: gpu-training}
    value: 1000
    preemptionPolicy: Never
    description: Batch training and experiments
"""
"""Two priority classes that separate serving from batch work, as the FIX texts suggest them."""

FIX = f"""
Define at least two non-system priority classes, higher for serving, lower (and
non-preempting) for training and experiments, and use them on GPU workloads:
{PRIORITY_CLASSES_YAML}
With Kueue, WorkloadPriorityClasses (kueue.x-k8s.io) give queued jobs the same separation.
"""


def _value(obj: object) -> int | None:
    extra = getattr(obj, "extra", None)
    value = extra.get("value") if isinstance(extra, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


@check(
    id="cluster-no-gpu-priority-classes",
    category="gpu",
    severity="medium",
    reads=("PriorityClass",),
    consults=("Node", WORKLOADS, "WorkloadPriorityClass"),
    title="No priority classes separate GPU inference from training",
    why=WHY,
    fix=FIX,
    references=(
        "https://kubernetes.io/docs/concepts/scheduling-eviction/pod-priority-preemption/#priorityclass",
        "https://kueue.sigs.k8s.io/docs/concepts/workload_priority_class/",
    ),
    origin=Origin(
        "https://github.com/defilantech/LLMKube/issues/80",
        "An LLM serving operator created no PriorityClasses, so every InferenceService "
        'waited for GPUs first come, first served, and a critical one found "No preemption '
        'victims" to make room.',
    ),
)
def cluster_no_gpu_priority_classes(snap: Snapshot) -> Iterator[Hit]:
    classes = snap.generic("PriorityClass")
    gpu_workloads = {
        id(t.workload) for t in snap.pod_templates if pod_uses_gpu(t.spec, t.metadata.annotations)
    }
    if not gpu_workloads and not snap.gpu_nodes:
        return
    values: dict[str, int | None] = {}
    for pc in (*classes, *snap.generic("WorkloadPriorityClass")):
        if pc.name.startswith("system-"):
            continue
        values[f"{pc.kind}/{pc.name}"] = _value(pc)
    levels = {v for v in values.values() if v is not None}
    if len(levels) >= 2:
        return
    have = ", ".join(f"{k}={v}" for k, v in values.items()) or "none besides system-*"
    yield Hit(
        cluster_ref(snap),
        f"cluster {snap.cluster.name} runs {len(gpu_workloads)} GPU workload(s) on "
        f"{len(snap.gpu_nodes)} GPU node(s) with {len(levels)} non-system priority level(s) "
        f"({have}): inference cannot be ranked above training",
        evidence={
            "priority_classes": values,
            "gpu_workloads": len(gpu_workloads),
            "gpu_nodes": len(snap.gpu_nodes),
        },
    )
