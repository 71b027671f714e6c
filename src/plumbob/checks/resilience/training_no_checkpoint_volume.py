"""GPU training without persistent storage for checkpoints loses its progress with one pod."""

from __future__ import annotations

from collections.abc import Iterator

from plumbob.checks.options import Option, WholeNumber
from plumbob.checks.registry import WORKLOADS, CheckContext, Hit, Origin, check
from plumbob.checks.resilience.checkpoints import checkpoint_paths, restarts_on_failure
from plumbob.knowledge.workload_roles import role_of
from plumbob.model.objects import Container, Volume
from plumbob.model.roles import WorkloadRole, deadline_seconds
from plumbob.model.snapshot import Snapshot
from plumbob.model.workloads import PodTemplate

SHORT_RUN_SECONDS = Option(
    "short-run-seconds",
    WholeNumber(),
    default=3600,
    help="A training run whose activeDeadlineSeconds caps it at this many seconds or less is not "
    "judged: a restart from step 0 loses at most that long.",
)

REMOTE_SCHEMES = (
    "s3://",
    "gs://",
    "gcs://",
    "az://",
    "abfs://",
    "abfss://",
    "hdfs://",
    "wasbs://",
    "oss://",
    "r2://",
)
"""Object-store URLs in a container's args or env: checkpoints written to remote storage."""

WHY = """
Training runs for hours or days across many GPUs. If checkpoints go to the container filesystem,
an emptyDir or a hostPath, they live and die with the pod or the node: one node failure, spot
reclaim, preemption by a higher-priority job or OOM kill restarts the job from step 0, and all
the GPU-hours spent so far are lost. Elastic and gang-scheduled jobs restart every worker when
one fails, so a single bad node costs the whole job.

It applies to GPU workloads whose role is training (a Kubeflow training job, a JobSet, RayJob or
Volcano Job, or a Job or Deployment running torchrun, DeepSpeed, accelerate launch, a train.py)
that may run long enough to need checkpoints: not one whose activeDeadlineSeconds caps it at an
hour or less (a restart loses at most that), not a GPU test or a `sleep`, not a batch Job that
names no training entrypoint.
"""

FIX = """
Write checkpoints to storage that outlives the pod and the node: a PersistentVolumeClaim on a
shared filesystem (EFS/Filestore/Azure Files, Lustre/FSx, NFS, CephFS) or an object store
(s3://, gs://) through the framework or a CSI driver, and resume from the latest checkpoint:

    volumes:
      - name: checkpoints
        persistentVolumeClaim:
          claimName: llama-ft-checkpoints
    containers:
      - name: trainer
        volumeMounts:
          - {name: checkpoints, mountPath: /checkpoints}
        args: ["--output_dir=/checkpoints", "--save_steps=500", "--resume_from_checkpoint=true"]
"""

_PERSISTENT = ("persistent_volume_claim", "csi", "nfs")
"""Volume sources that outlive the pod and the node. Generic ephemeral volumes, emptyDir and
hostPath do not: they die with the pod or stay on the failed node."""


def persistent_volumes(template: PodTemplate) -> list[str]:
    """Names of volumes that outlive the pod and the node (PVC, CSI, NFS)."""
    return [v.name for v in template.spec.volumes if _is_persistent(v)]


def _is_persistent(volume: Volume) -> bool:
    return any(getattr(volume, attr) for attr in _PERSISTENT)


def writes_remote(container: Container) -> bool:
    text = " ".join(
        [*container.command, *container.args, *(e.value or "" for e in container.env)]
    ).lower()
    return any(scheme in text for scheme in REMOTE_SCHEMES)


@check(
    id="training-no-checkpoint-volume",
    category="resilience",
    severity="medium",
    reads=(WORKLOADS,),
    consults=("Service",),
    title="GPU training has no persistent volume for checkpoints",
    why=WHY,
    fix=FIX,
    references=(
        "https://kubernetes.io/docs/concepts/storage/persistent-volumes/",
        "https://pytorch.org/docs/stable/distributed.checkpoint.html",
        "https://www.kubeflow.org/docs/components/trainer/",
        "https://kubernetes.io/docs/concepts/workloads/controllers/job/#job-termination-and-cleanup",
    ),
    options=(SHORT_RUN_SECONDS,),
    origin=Origin(
        "https://github.com/kubeflow/trainer/issues/1638",
        "An elastic PyTorchJob lost its checkpoints when all its pods restarted, and its "
        "user asked whether checkpoints have to live on external persistent storage.",
    ),
)
def training_no_checkpoint_volume(snap: Snapshot, ctx: CheckContext) -> Iterator[Hit]:
    short = ctx.value(SHORT_RUN_SECONDS)
    by_workload: dict[int, list[PodTemplate]] = {}
    for template in snap.gpu_templates:
        if role_of(snap, template.workload).role == WorkloadRole.TRAINING:
            by_workload.setdefault(id(template.workload), []).append(template)
    for templates in by_workload.values():
        workload = templates[0].workload
        all_templates = snap.templates_by_workload.get(id(workload), tuple(templates))
        deadline = deadline_seconds(workload, all_templates)
        if deadline is not None and deadline <= short:
            continue  # a restart from step 0 loses at most this long
        if any(persistent_volumes(t) for t in all_templates):
            continue
        if any(writes_remote(c) for t in all_templates for c in t.spec.containers):
            continue
        scratch = sorted(
            {
                v.name
                for t in all_templates
                for v in t.spec.volumes
                if v.empty_dir is not None or v.host_path is not None
            }
        )
        kept = f" (only {', '.join(scratch)}: emptyDir/hostPath)" if scratch else ""
        gpus = sum(t.replicas for t in templates)
        named = _named_paths(all_templates)
        yield Hit(
            workload,
            f"{workload.kind} {workload.namespace or 'default'}/{workload.name} trains on "
            f"{gpus} GPU pod(s) with no persistent volume for checkpoints{kept}"
            + (f"; {named[0]}" if named else ""),
            evidence={
                "gpu_pods": gpus,
                "scratch_volumes": scratch,
                "roles": [t.role for t in templates if t.role],
                "deadline_seconds": deadline,
                "checkpoint_paths": named,
            },
            path=f"{templates[0].path}.volumes",
        )


def _named_paths(templates: tuple[PodTemplate, ...]) -> list[str]:
    """What the containers say of their checkpoint directories ('--checkpoint_dir /root/x is in
    the container filesystem, gone at every container restart'), with how the workload
    restarts after a failure when it does."""
    out: list[str] = []
    for t in templates:
        restarts = restarts_on_failure(t.workload, t)
        for p in checkpoint_paths(t):
            if p.ephemeral:
                again = f", and it restarts on failure ({restarts})" if restarts else ""
                text = f"{p.describe()}{again}"
                if text not in out:
                    out.append(text)
    return out
