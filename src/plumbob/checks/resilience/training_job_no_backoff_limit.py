"""Kubeflow training jobs with GPUs that restart failed pods in place and never give up."""

from __future__ import annotations

from collections.abc import Iterator

from plumbob.checks.registry import WORKLOADS, Hit, Origin, check
from plumbob.model.gpu import gpus_text
from plumbob.model.objects import Object, dig
from plumbob.model.roles import deadline_seconds
from plumbob.model.snapshot import Snapshot
from plumbob.model.workloads import PodTemplate, gpus_asked

REPLICA_SPECS = {
    "PyTorchJob": ("pytorchReplicaSpecs", "OnFailure"),
    "PaddleJob": ("paddleReplicaSpecs", "OnFailure"),
    "TFJob": ("tfReplicaSpecs", "Never"),
    "XGBoostJob": ("xgbReplicaSpecs", "Never"),
    "JAXJob": ("jaxReplicaSpecs", "Never"),
    "MXJob": ("mxReplicaSpecs", "Never"),
}
"""Training-operator job kinds (API group kubeflow.org): the field holding their replica specs and
the restart policy a replica gets when it sets none (PyTorchJob and PaddleJob default to
OnFailure: kubeflow/trainer issue 2127). MPIJob is left out: mpi-operator v2 runs its launcher as
a batch Job, whose own backoffLimit defaults to 6."""

RESTARTS_IN_PLACE = frozenset({"OnFailure", "Always"})
"""Replica restart policies under which the kubelet restarts a failed container in its pod: the
job only fails when the restart count passes runPolicy.backoffLimit."""

WHY = """
A Kubeflow training job whose replicas restart in place (`restartPolicy: OnFailure`, the default
for PyTorchJob and PaddleJob, or `Always`) is marked Failed only when its pods' restart count
passes `runPolicy.backoffLimit`; with no backoffLimit the training operator never fails it
(`PastBackoffLimit` returns false when the limit is unset). A trainer that crashes on start (a
bad checkpoint path, an out-of-memory at the first step, a NCCL timeout) then restarts forever
in CrashLoopBackOff, holding every GPU of the job, while pipelines wait for a job that never
finishes and nobody is told it failed.

It applies to training-operator jobs (PyTorchJob, TFJob, PaddleJob, XGBoostJob, JAXJob, MXJob)
that request GPUs and have no deadline either (`runPolicy.activeDeadlineSeconds`, or the pods'),
which would end the loop.
"""

FIX = """
Give the job a retry budget, so that a crash loop ends as a Failed job and the GPUs return:

    spec:
      runPolicy:
        backoffLimit: 3          # pod restarts before the job is marked Failed
        # activeDeadlineSeconds: 172800   # and/or an upper bound on the whole run

Or let failed pods stay failed (`restartPolicy: Never` on each replica) and retry the whole job
from your pipeline, resuming from its last checkpoint.
"""


def _restarting(template: PodTemplate, field: str, default: str) -> str | None:
    """The replica's restart policy when it restarts in place ("OnFailure (the default)" for an
    unset one that defaults to it), else None."""
    given = dig(
        getattr(template.workload, "spec", None), field, template.role or "", "restartPolicy"
    )
    if isinstance(given, str) and given:
        return given if given in RESTARTS_IN_PLACE else None
    return f"{default} (the default)" if default in RESTARTS_IN_PLACE else None


def _backoff_limit(workload: Object) -> object:
    """runPolicy.backoffLimit (or, as older TFJobs wrote it, spec.backoffLimit), or None."""
    spec = getattr(workload, "spec", None)
    found = dig(spec, "runPolicy", "backoffLimit")
    return dig(spec, "backoffLimit") if found is None else found


@check(
    id="training-job-no-backoff-limit",
    category="resilience",
    severity="medium",
    reads=(WORKLOADS,),
    title="GPU training job restarts failing pods forever: no runPolicy.backoffLimit",
    why=WHY,
    fix=FIX,
    references=(
        "https://github.com/kubeflow/trainer/issues/1589",
        "https://github.com/kubeflow/training-operator/blob/7c7aa9911c73efdab8a33281c58af51c69861678/pkg/core/job.go",
        "https://github.com/kubeflow/trainer/issues/2127",
    ),
    origin=Origin(
        "https://github.com/kubeflow/trainer/issues/1589",
        "A PyTorchJob worker with restartPolicy OnFailure that always failed was restarted "
        "continuously and never released its resources.",
    ),
)
def training_job_no_backoff_limit(snap: Snapshot) -> Iterator[Hit]:
    for workload, templates in _gpu_training_jobs(snap):
        if _backoff_limit(workload) is not None or deadline_seconds(workload, templates):
            continue
        field, default = REPLICA_SPECS[workload.kind]
        restarting = {
            t.role or "?": how
            for t in templates
            if (how := _restarting(t, field, default)) is not None
        }
        if not restarting:
            continue
        gpus, unknown = gpus_asked(templates)
        held = gpus_text(gpus, unknown)
        replicas = ", ".join(f"{role} {how}" for role, how in sorted(restarting.items()))
        yield Hit(
            workload,
            f"{workload.kind} {workload.namespace or 'default'}/{workload.name} restarts failed "
            f"pods in place ({replicas}) and sets no runPolicy.backoffLimit: a trainer that keeps "
            f"crashing holds its {held} and is never marked Failed",
            evidence={"restartPolicy": restarting, "gpus": gpus, "gpuCountUnknown": unknown},
            path="spec.runPolicy",
        )


def _gpu_training_jobs(snap: Snapshot) -> Iterator[tuple[Object, tuple[PodTemplate, ...]]]:
    """Training-operator jobs with a GPU template, each once, with all their templates."""
    seen: set[int] = set()
    for template in snap.gpu_templates:
        workload = template.workload
        if id(workload) in seen or workload.kind not in REPLICA_SPECS:
            continue
        seen.add(id(workload))
        if workload.group == "kubeflow.org":
            yield workload, snap.templates_by_workload.get(id(workload), (template,))
