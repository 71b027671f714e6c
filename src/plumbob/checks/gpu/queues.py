"""Which queue admits a workload, and whether that queue caps or guarantees GPUs: Kueue
(LocalQueue -> ClusterQueue), Volcano (Queue) and KAI Scheduler (Queue).

Shared by the GPU quota checks (not a check module).

    admission(snap, workload, templates)
      -> Admission("Kueue", "LocalQueue team-a/lq-team-a -> ClusterQueue cluster-queue",
                   via="label kueue.x-k8s.io/queue-name", gpu_quota=True,
                   detail="nvidia.com/gpu nominalQuota 10")
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from plumbob.model.gpu import is_gpu_resource
from plumbob.model.objects import GenericObject, Object, as_list, dig
from plumbob.model.snapshot import Snapshot
from plumbob.model.workloads import PodTemplate

KUEUE_QUEUE_LABEL = "kueue.x-k8s.io/queue-name"
"""The label naming a workload's Kueue LocalQueue (kueue.sigs.k8s.io: reference/labels-and-
annotations). Kueue v0.15.0 stopped reading the same key as an annotation."""
KAI_QUEUE_LABELS = ("kai.scheduler/queue", "runai/queue")
"""KAI Scheduler's queue label; `runai/queue` before KAI v0.6.0 (KAI-Scheduler CHANGELOG.md)."""
KAI_POD_GROUP_LABEL = "pod-group.scheduling.run.ai/name"
VOLCANO_QUEUE_KEYS = ("scheduling.volcano.sh/queue-name", "volcano.sh/queue-name")
"""Volcano's queue annotation on pods, and the label KubeRay reads for Volcano."""
VOLCANO_GROUP_ANNOTATION = "scheduling.k8s.io/group-name"


@dataclass(frozen=True, slots=True)
class Admission:
    """The queue a workload goes through and what it says about GPUs."""

    scheduler: str
    """'Kueue', 'Volcano', 'KAI Scheduler'."""
    queue: str
    """The queue, and for Kueue the ClusterQueue its LocalQueue points to."""
    via: str
    """What sends the workload there: a label, a field, a default."""
    gpu_quota: bool | None
    """True: the queue caps or guarantees the GPUs the workload asks for; False: it does not;
    None: the queue is not in the input."""
    detail: str


@dataclass(frozen=True, slots=True)
class _Queues:
    local: Mapping[tuple[str, str], GenericObject]
    cluster: Mapping[str, GenericObject]
    volcano: Mapping[str, GenericObject]
    volcano_groups: Mapping[tuple[str, str], GenericObject]
    kai: Mapping[str, GenericObject]
    kai_groups: Mapping[tuple[str, str], GenericObject]


def _of(objs: Iterable[GenericObject], group: str) -> list[GenericObject]:
    return [o for o in objs if o.group == group]


def _index(snap: Snapshot) -> _Queues:
    kueue, volcano, kai = "kueue.x-k8s.io", "scheduling.volcano.sh", "scheduling.run.ai"
    return _Queues(
        local={
            (q.namespace or "default", q.name): q for q in _of(snap.generic("LocalQueue"), kueue)
        },
        cluster={q.name: q for q in _of(snap.generic("ClusterQueue"), kueue)},
        volcano={q.name: q for q in _of(snap.generic("Queue"), volcano)},
        volcano_groups={
            (g.namespace or "default", g.name): g for g in _of(snap.generic("PodGroup"), volcano)
        },
        kai={q.name: q for q in _of(snap.generic("Queue"), kai)},
        kai_groups={
            (g.namespace or "default", g.name): g for g in _of(snap.generic("PodGroup"), kai)
        },
    )


def _queues(snap: Snapshot) -> _Queues:
    """The queues of the snapshot by name, indexed once per snapshot."""
    return snap.derived(_index)


def requested_gpu_resources(templates: Sequence[PodTemplate]) -> list[str]:
    """GPU resource names the workload's containers ask for."""
    return sorted({name for t in templates for *_, name, amount in t.gpu_resources() if amount})


def _label(workload: Object, templates: Sequence[PodTemplate], *keys: str) -> str | None:
    for key in keys:
        value = workload.labels.get(key)
        if value:
            return value
        for t in templates:
            value = t.metadata.labels.get(key)
            if value:
                return value
    return None


def admission(
    snap: Snapshot, workload: Object, templates: Sequence[PodTemplate]
) -> Admission | None:
    """The queue that admits `workload`, or None when it names none."""
    return (
        _kueue(snap, workload, templates)
        or _kai(snap, workload, templates)
        or _volcano(snap, workload, templates)
    )


# ------------------------------------------------------------------ Kueue


def _kueue(snap: Snapshot, workload: Object, templates: Sequence[PodTemplate]) -> Admission | None:
    queues = _queues(snap)
    namespace = workload.namespace or "default"
    name = _label(workload, templates, KUEUE_QUEUE_LABEL)
    how = f"label {KUEUE_QUEUE_LABEL}"
    if name is None:
        if (namespace, "default") not in queues.local:
            return None
        # LocalQueueDefaulting (Kueue v0.13+): an unlabelled job goes to the namespace's
        # LocalQueue named "default".
        name, how = "default", "no queue label: the namespace's default LocalQueue"
    local = queues.local.get((namespace, name))
    if local is None:
        queue = f"LocalQueue {namespace}/{name}"
        return Admission("Kueue", queue, how, None, f"{queue} is not in the input")
    cq_name = str(dig(local.spec, "clusterQueue") or "")
    route = f"LocalQueue {namespace}/{name} -> ClusterQueue {cq_name or '?'}"
    cluster = queues.cluster.get(cq_name)
    if cluster is None:
        return Admission(
            "Kueue", route, how, None, f"ClusterQueue {cq_name or '?'} is not in the input"
        )
    covered: dict[str, str] = {}
    for group in as_list(dig(cluster.spec, "resourceGroups")):
        if not isinstance(group, dict):
            continue
        quotas = {
            str(r.get("name")): str(r.get("nominalQuota"))
            for flavor in as_list(group.get("flavors"))
            if isinstance(flavor, dict)
            for r in as_list(flavor.get("resources"))
            if isinstance(r, dict)
        }
        for resource in as_list(group.get("coveredResources")):
            covered[str(resource)] = quotas.get(str(resource), "?")
    wanted = requested_gpu_resources(templates)
    gpus = sorted(r for r in covered if is_gpu_resource(r))
    missing = [r for r in wanted if r not in covered]
    if not missing and (wanted or gpus):
        shown = ", ".join(f"{r} nominalQuota {covered[r]}" for r in wanted or gpus)
        return Admission("Kueue", route, how, True, shown)
    listed = ", ".join(sorted(covered)) or "no resource"
    if not missing:
        return Admission("Kueue", route, how, False, f"covers only {listed}: no GPU resource")
    return Admission(
        "Kueue",
        route,
        how,
        False,
        f"covers only {listed}, not {', '.join(missing)}: Kueue does not admit a workload "
        "asking for a resource its ClusterQueue does not cover",
    )


# ------------------------------------------------------------------ KAI Scheduler


def _kai(snap: Snapshot, workload: Object, templates: Sequence[PodTemplate]) -> Admission | None:
    queues = _queues(snap)
    name, how = None, ""
    for key in KAI_QUEUE_LABELS:
        name = _label(workload, templates, key)
        if name:
            how = f"label {key}"
            break
    if not name:
        group = _label(workload, templates, KAI_POD_GROUP_LABEL)
        pod_group = queues.kai_groups.get((workload.namespace or "default", group or ""))
        queue = dig(pod_group.spec, "queue") if pod_group is not None else None
        if not isinstance(queue, str) or not queue:
            return None
        name, how = queue, f"PodGroup {pod_group.name if pod_group else '?'}"
    route = f"Queue {name}"
    queue_obj = queues.kai.get(name)
    if queue_obj is None:
        return Admission("KAI Scheduler", route, how, None, f"{route} is not in the input")
    gpu = dig(queue_obj.spec, "resources", "gpu")
    quota = _number(dig(gpu, "quota"))
    limit = _number(dig(gpu, "limit"))
    if (quota is not None and quota > 0) or (limit is not None and limit >= 0):
        return Admission(
            "KAI Scheduler", route, how, True, f"gpu quota {_show(quota)}, limit {_show(limit)}"
        )
    return Admission(
        "KAI Scheduler",
        route,
        how,
        False,
        f"sets gpu quota {_show(quota)} and limit {_show(limit)}: no GPU share is guaranteed "
        "or capped (-1 is unlimited)",
    )


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    try:
        return float(str(value))
    except ValueError:
        return None


def _show(value: float | None) -> str:
    return "unset" if value is None else f"{value:g}"


# ------------------------------------------------------------------ Volcano


def _volcano(
    snap: Snapshot, workload: Object, templates: Sequence[PodTemplate]
) -> Admission | None:
    queues = _queues(snap)
    namespace = workload.namespace or "default"
    name: str | None = None
    how = ""
    if workload.group == "batch.volcano.sh":
        queue = dig(getattr(workload, "spec", None), "queue")
        name = queue if isinstance(queue, str) and queue else "default"
        how = "Volcano Job spec.queue" if queue else "a Volcano Job without spec.queue"
    if name is None:
        for key in VOLCANO_QUEUE_KEYS:
            value = workload.labels.get(key) or workload.annotations.get(key)
            for t in templates:
                value = value or t.metadata.annotations.get(key) or t.metadata.labels.get(key)
            if value:
                name, how = value, key
                break
    if name is None:
        group = next(
            (
                t.metadata.annotations[VOLCANO_GROUP_ANNOTATION]
                for t in templates
                if t.metadata.annotations.get(VOLCANO_GROUP_ANNOTATION)
            ),
            None,
        )
        pod_group = queues.volcano_groups.get((namespace, group or ""))
        if pod_group is not None:
            queue = dig(pod_group.spec, "queue")
            name = queue if isinstance(queue, str) and queue else "default"
            how = f"PodGroup {pod_group.name}"
    if name is None and any(t.spec.scheduler_name == "volcano" for t in templates):
        name, how = "default", "schedulerName volcano without a queue"
    if name is None:
        return None
    route = f"Queue {name}"
    queue_obj = queues.volcano.get(name)
    if queue_obj is None:
        return Admission("Volcano", route, how, None, f"{route} is not in the input")
    spec = queue_obj.spec
    limits: list[str] = []
    for field, path in (
        ("capability", ("capability",)),
        ("deserved", ("deserved",)),
        ("guarantee", ("guarantee", "resource")),
    ):
        resources = dig(spec, *path)
        if isinstance(resources, dict):
            limits += [f"{field} {k}: {v}" for k, v in resources.items() if is_gpu_resource(str(k))]
    if limits:
        return Admission("Volcano", route, how, True, ", ".join(limits))
    caps = sorted(
        {
            str(k)
            for path in (("capability",), ("deserved",), ("guarantee", "resource"))
            if isinstance(dig(spec, *path), dict)
            for k in dig(spec, *path)
        }
    )
    what = f"caps only {', '.join(caps)}" if caps else "sets no capability, deserved or guarantee"
    return Admission("Volcano", route, how, False, f"{what}: no GPU limit")
