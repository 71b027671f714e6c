"""A model served across several GPU pods (LeaderWorkerSet, RayService) without gang admission."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

from plumbob.checks.gpu.gang import NAMES, Gangs, gpu_pod_templates, not_admitted, targets_of
from plumbob.checks.registry import COMPONENTS, WORKLOADS, Hit, Origin, check
from plumbob.model.gpu import containers_gpu_request, gpus_text, pod_uses_gpu
from plumbob.model.objects import GenericObject, Object, as_list, dig
from plumbob.model.snapshot import Snapshot
from plumbob.model.workloads import PodTemplate, gpus_asked

WHY = """
A model too large for one node is served by a group of pods that only work together: a
LeaderWorkerSet group (a leader and `size - 1` workers running one vLLM/SGLang instance with
tensor and pipeline parallelism across nodes), or a RayService whose engine is placed over
several GPU worker pods. The default scheduler places those pods one by one. When the cluster
has room for part of a group (after a scale-out, a node loss, or with two groups rolling out at
once) it starts the leaders and leaves their workers Pending: each started pod holds its GPUs,
no group can serve, and the groups wait on each other until someone deletes one
(kubernetes-sigs/lws issue 167; LWS KEP 407 added gang scheduling for exactly this). A gang
scheduler (Kueue, Volcano, KAI, scheduler-plugins coscheduling) admits a whole group or none
of it.

It applies to LeaderWorkerSets with GPU pods and a group size above 1, and to RayServices whose
engine asks for more GPUs (`tensor_parallel_size` x `pipeline_parallel_size` in serveConfigV2)
than one worker pod has, or whose worker group spans several hosts (`numOfHosts`).
"""

FIX = """
Admit each group through the gang scheduler the cluster runs. Kueue (v0.11+ admits a
LeaderWorkerSet group as one workload):

    apiVersion: leaderworkerset.x-k8s.io/v1
    kind: LeaderWorkerSet
    metadata:
      labels:
        kueue.x-k8s.io/queue-name: inference

Volcano (LWS v0.7+ with `gangSchedulingManagement` in the LWS controller's configuration, or
KubeRay's batch scheduler for a RayService's cluster):

    spec:
      leaderWorkerTemplate:
        leaderTemplate:
          spec:
            schedulerName: volcano
        workerTemplate:
          spec:
            schedulerName: volcano

    metadata:
      labels:
        ray.io/scheduler-name: volcano     # RayService / RayCluster
"""

_TP = re.compile(r"tensor_parallel_size\"?\s*[:=]\s*(\d+)")
_PP = re.compile(r"pipeline_parallel_size\"?\s*[:=]\s*(\d+)")


def _int(value: object, default: int) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def spans_pods(workload: Object, templates: Sequence[PodTemplate]) -> str | None:
    """Why one model instance of this serving workload needs several GPU pods at once, or
    None."""
    if not isinstance(workload, GenericObject):
        return None
    spec = workload.spec
    if workload.kind == "LeaderWorkerSet":
        size = _int(dig(spec, "leaderWorkerTemplate", "size"), 1)
        if size > 1:
            return f"groups of {size} pods (leaderWorkerTemplate.size)"
        return None
    if workload.kind != "RayService":
        return None
    for group in as_list(dig(spec, "rayClusterConfig", "workerGroupSpecs")):
        hosts = _int(dig(group, "numOfHosts"), 1)
        if hosts > 1:
            return f"worker group {dig(group, 'groupName') or '?'} spans {hosts} hosts"
    config = dig(spec, "serveConfigV2")
    if not isinstance(config, str):
        return None
    per_engine = max(
        (
            _count(_TP, block) * _count(_PP, block)
            for block in re.split(r"\n\s*-\s*model_loading_config", config)
        ),
        default=1,
    )
    per_pod = max(
        (
            containers_gpu_request(t.spec.containers)
            for t in templates
            if t.role != "head" and pod_uses_gpu(t.spec, t.metadata.annotations)
        ),
        default=0.0,
    )
    if per_engine > 1 and per_pod and per_engine > per_pod:
        return (
            f"an engine needs {per_engine} GPUs (tensor x pipeline parallel in serveConfigV2) "
            f"and a worker pod has {per_pod:g}"
        )
    return None


def _count(pattern: re.Pattern[str], text: str) -> int:
    found = [int(m) for m in pattern.findall(text)]
    return max(found) if found else 1


@check(
    id="gpu-serving-no-gang-scheduler",
    category="gpu",
    severity="high",
    reads=(WORKLOADS,),
    consults=(COMPONENTS,),
    title="Model served across several GPU pods without gang scheduling",
    why=WHY,
    fix=FIX,
    references=(
        "https://github.com/kubernetes-sigs/lws/issues/167",
        "https://github.com/kubernetes-sigs/lws/tree/main/keps/407-gang-scheduling",
        "https://kueue.sigs.k8s.io/docs/tasks/run/leaderworkerset/",
        "https://docs.ray.io/en/latest/cluster/kubernetes/k8s-ecosystem/volcano.html",
    ),
    origin=Origin(
        "https://github.com/kubernetes-sigs/lws/issues/167",
        "After a LeaderWorkerSet serving vLLM was scaled out, its leaders took the free "
        "GPUs and their workers stayed Pending forever.",
    ),
)
def gpu_serving_no_gang_scheduler(snap: Snapshot) -> Iterator[Hit]:
    gangs = Gangs.of(snap)
    for workload in snap.workloads:
        if workload.kind not in ("LeaderWorkerSet", "RayService"):
            continue
        templates = snap.templates_by_workload.get(id(workload), ())
        gpu_templates = gpu_pod_templates(templates)
        if not gpu_templates:
            continue
        why = spans_pods(workload, templates)
        if why is None:
            continue
        asked = sorted(targets_of(templates) & set(NAMES))
        if set(asked) & set(gangs.installed) or (asked and not gangs.visible):
            continue
        gpus, unknown = gpus_asked(gpu_templates)
        what = (
            f"{workload.kind} {workload.namespace or 'default'}/{workload.name} serves one model "
            f"over {why} ({gpus_text(gpus, unknown)} in all)"
        )
        yield Hit(
            workload,
            f"{what} {not_admitted(asked, gangs, 'queue')}",
            evidence={
                "spans": why,
                "gpus": gpus,
                "gang_schedulers_installed": gangs.installed,
                "asks_for": asked,
                "roles": {t.role or "pod": t.replicas for t in templates},
            },
        )
