"""Multi-pod GPU training that no gang scheduler admits all-or-nothing."""

from __future__ import annotations

from collections.abc import Iterator

from plumbob.checks.gpu.gang import Gangs, gpu_pod_templates, not_admitted, targets_of
from plumbob.checks.registry import COMPONENTS, WORKLOADS, Hit, Origin, check
from plumbob.model.gpu import gpus_text
from plumbob.model.objects import CronJob, Job, Object, kind_key
from plumbob.model.snapshot import Snapshot
from plumbob.model.workloads import TRAINING_KINDS, gpus_asked

WHY = """
Distributed training needs all its workers at once. The default scheduler places pods one by
one, so two jobs that each need 8 GPUs on a cluster with 12 free both start half their workers,
hold 6 GPUs each, and wait forever for the rest: a deadlock that burns GPU hours until someone
deletes a job. A gang scheduler (Kueue, Volcano, scheduler-plugins coscheduling, KAI) admits the
whole group or none of it.
"""

FIX = """
Admit the job through the gang scheduler the cluster runs, for example Kueue:

    metadata:
      labels:
        kueue.x-k8s.io/queue-name: team-a      # a LocalQueue in the job's namespace

or Volcano / KAI / scheduler-plugins on the pod templates:

    spec:
      schedulerName: volcano                   # or kai-scheduler, scheduler-plugins-scheduler

Without any, install one: `helm install kueue oci://registry.k8s.io/kueue/charts/kueue
-n kueue-system --create-namespace`, then create a ClusterQueue with a nvidia.com/gpu quota and
a LocalQueue per team namespace.
"""


def _is_training(workload: Object, pods: int) -> bool:
    if pods <= 1:
        return False
    if kind_key(workload.api_version, workload.kind) in TRAINING_KINDS:
        return True
    if isinstance(workload, Job):
        return (workload.spec.parallelism or 1) > 1
    if isinstance(workload, CronJob):
        return (workload.spec.job_template.spec.parallelism or 1) > 1
    return False


def _default_queue(snap: Snapshot, namespace: str | None) -> bool:
    """Kueue sends jobs without a queue label to a LocalQueue named 'default' in their
    namespace (LocalQueueDefaulting, Kueue v0.13+)."""
    return any(q.name == "default" and q.namespace == namespace for q in snap.generic("LocalQueue"))


@check(
    id="gpu-training-no-gang-scheduler",
    category="gpu",
    severity="high",
    reads=(WORKLOADS,),
    consults=(COMPONENTS, "LocalQueue"),
    title="Multi-pod GPU training without gang scheduling",
    why=WHY,
    fix=FIX,
    references=(
        "https://kueue.sigs.k8s.io/docs/tasks/run/kubeflow/pytorchjobs/",
        "https://volcano.sh/en/docs/podgroup/",
        "https://github.com/kubernetes-sigs/scheduler-plugins/blob/master/pkg/coscheduling/README.md",
        "https://github.com/NVIDIA/KAI-Scheduler",
    ),
    origin=Origin(
        "https://github.com/kubeflow/trainer/issues/948",
        "In production, some TFJob pods ran while others stayed Pending for lack of "
        "resources, and the running ones starved waiting for their partners.",
    ),
)
def gpu_training_no_gang_scheduler(snap: Snapshot) -> Iterator[Hit]:
    gangs = Gangs.of(snap)
    for workload in snap.workloads:
        templates = snap.templates_by_workload.get(id(workload), ())
        gpu_templates = gpu_pod_templates(templates)
        if not gpu_templates:
            continue
        pods = sum(t.replicas for t in templates)
        if not _is_training(workload, pods):
            continue
        targets = targets_of(templates)
        if "kueue" in gangs.present and _default_queue(snap, workload.namespace):
            targets.add("kueue")
        if targets & set(gangs.installed):
            continue
        if "training-operator-gang" in targets and (gangs.installed or not gangs.visible):
            continue
        if targets and not gangs.visible:
            continue  # it asks for a gang scheduler this input cannot show
        gpus, unknown = gpus_asked(gpu_templates)
        asked = sorted(targets - {"training-operator-gang"})
        what = f"{workload.kind} {workload.name} runs {pods} pods with {gpus_text(gpus, unknown)}"
        yield Hit(
            workload,
            f"{what} {not_admitted(asked, gangs, 'kueue.x-k8s.io/queue-name')}",
            evidence={
                "pods": pods,
                "gpus": gpus,
                "gang_schedulers_installed": gangs.installed,
                "asks_for": sorted(targets),
                "roles": {t.role or "pod": t.replicas for t in templates},
            },
        )
