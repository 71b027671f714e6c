"""GPU workloads without a priority class."""

from __future__ import annotations

from collections.abc import Iterator

from plumbob.checks.gpu.cluster_no_gpu_priority_classes import PRIORITY_CLASSES_YAML
from plumbob.checks.registry import WORKLOADS, Hit, Origin, check
from plumbob.knowledge.components import gang_targets
from plumbob.model.gpu import pod_uses_gpu
from plumbob.model.objects import Object, dig
from plumbob.model.snapshot import Snapshot
from plumbob.model.workloads import PodTemplate

KAI_PRIORITY_LABEL = "priorityClassName"
"""The label KAI Scheduler reads a workload's priority class from, on the workload or its pods
(kai-scheduler/KAI-Scheduler: docs/priority/README.md)."""

WHY = """
Without a priority class every GPU pod has the same priority, so the scheduler cannot preempt a
research notebook or a hyper-parameter sweep to make room for production inference, and a
Pending inference pod waits behind batch jobs that may run for days. Queueing systems (Kueue,
Volcano, KAI) also order and preempt by priority.
"""

FIX = f"""
Create priority classes that separate serving from batch work and set one on every GPU workload:
{PRIORITY_CLASSES_YAML}
    spec:
      template:
        spec:
          priorityClassName: gpu-inference

For Kueue-managed jobs a `kueue.x-k8s.io/priority-class` label naming a WorkloadPriorityClass
works too; for KAI Scheduler a `priorityClassName` label on the workload or its pods (KAI ships
the classes train, build-preemptible, build and inference).
"""


def _kai_priority(template: PodTemplate) -> str | None:
    """KAI Scheduler's priority label, on a workload that KAI schedules (its queue label or
    schedulerName): the default scheduler ignores the label."""
    value = template.workload.labels.get(KAI_PRIORITY_LABEL) or template.metadata.labels.get(
        KAI_PRIORITY_LABEL
    )
    if value and "kai-scheduler" in gang_targets(template):
        return value
    return None


def _workload_priority(workload: Object) -> str | None:
    """Priority set on the workload rather than its pods: Kueue's WorkloadPriorityClass label,
    Volcano Job spec.priorityClassName, Kubeflow runPolicy.schedulingPolicy.priorityClass."""
    label = workload.labels.get("kueue.x-k8s.io/priority-class")
    if label:
        return label
    spec = getattr(workload, "spec", None)
    for path in (("priorityClassName",), ("runPolicy", "schedulingPolicy", "priorityClass")):
        value = dig(spec, *path)
        if isinstance(value, str) and value:
            return value
    return None


@check(
    id="gpu-workload-no-priority-class",
    category="gpu",
    severity="medium",
    reads=(WORKLOADS,),
    title="GPU workload has no priorityClassName",
    why=WHY,
    fix=FIX,
    references=(
        "https://kubernetes.io/docs/concepts/scheduling-eviction/pod-priority-preemption/",
        "https://kueue.sigs.k8s.io/docs/concepts/workload_priority_class/",
        "https://github.com/kai-scheduler/KAI-Scheduler/blob/main/docs/priority/README.md",
    ),
    origin=Origin(
        "https://github.com/defilantech/LLMKube/issues/80",
        "The pods of an LLM serving operator carried no priority class, so a critical "
        'InferenceService found "No preemption victims" and waited behind everything else.',
    ),
)
def gpu_workload_no_priority_class(snap: Snapshot) -> Iterator[Hit]:
    for workload in snap.workloads:
        if workload.kind == "DaemonSet" or _workload_priority(workload):
            continue
        templates = snap.templates_by_workload.get(id(workload), ())
        missing = [
            t
            for t in templates
            if pod_uses_gpu(t.spec, t.metadata.annotations)
            and not t.spec.priority_class_name
            and not _kai_priority(t)
        ]
        if not missing:
            continue
        roles = [t.role for t in missing if t.role]
        where = f" ({', '.join(roles)})" if roles else ""
        yield Hit(
            workload,
            f"GPU {workload.kind} {workload.name}{where} sets no priorityClassName",
            evidence={"roles": roles},
            path=f"{missing[0].path}.priorityClassName",
        )
