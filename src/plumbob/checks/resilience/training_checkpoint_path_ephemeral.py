"""GPU training that restarts on failure but saves its checkpoints where a restart loses them."""

from __future__ import annotations

from collections.abc import Iterator

from plumbob.checks.registry import WORKLOADS, Hit, Origin, check
from plumbob.checks.resilience.checkpoints import checkpoint_paths, restarts_on_failure
from plumbob.checks.resilience.training_no_checkpoint_volume import (
    persistent_volumes,
    writes_remote,
)
from plumbob.knowledge.workload_roles import gpu_workloads
from plumbob.model.roles import WorkloadRole
from plumbob.model.snapshot import Snapshot
from plumbob.model.workloads import PodTemplate

WHY = """
A training job that restarts on failure (a replica `restartPolicy` of OnFailure or ExitCode, a
Job's `backoffLimit`, a JobSet's `maxRestarts`, a controller that replaces its pods) resumes
only from what it saved. When its checkpoint directory (`--output_dir`, `--save_dir`,
`--checkpoint_dir`, `CHECKPOINT_DIR`, ...) is in the container's filesystem, every container
restart deletes it; on an emptyDir it is deleted when the pod is replaced (node failure, spot
reclaim, preemption, eviction); on a hostPath it stays behind on the old node. The job then
restarts from step 0 without a word, and every GPU-hour before the failure is spent again, on
every GPU of the job: the Kubeflow training operator restarts all workers of an elastic
PyTorchJob when one fails (kubeflow/trainer issue 1638, where the checkpoints were on the
container's disk and were lost with them).

The workload here has persistent storage (a PersistentVolumeClaim, CSI or NFS volume, or an
object-store URL) but the checkpoint path does not point at it, which reviews miss because the
volume is there. A training job with no persistent storage at all is
training-no-checkpoint-volume's finding. Paths that are relative (resolved against the image's
working directory, which the manifest does not show) or unknown (from a Secret, an unrendered
template) are not judged.
"""

FIX = """
Point the checkpoint directory at the persistent volume (or an object store) and resume from
it on start:

    containers:
      - name: trainer
        args: ["--output_dir=/checkpoints/run-42", "--save_steps=500",
               "--resume_from_checkpoint=true"]
        volumeMounts:
          - {name: checkpoints, mountPath: /checkpoints}
    volumes:
      - name: checkpoints
        persistentVolumeClaim: {claimName: run-42-checkpoints}

If the job must not restart on its own, say so: `restartPolicy: Never` with `backoffLimit: 0`.
"""


@check(
    id="training-checkpoint-path-ephemeral",
    category="resilience",
    severity="medium",
    reads=(WORKLOADS,),
    consults=("Service",),
    title="GPU training restarts on failure but checkpoints where a restart loses them",
    why=WHY,
    fix=FIX,
    references=(
        "https://github.com/kubeflow/trainer/issues/1638",
        "https://kubernetes.io/docs/concepts/storage/volumes/#emptydir",
        "https://kubernetes.io/docs/concepts/workloads/controllers/job/#handling-pod-and-container-failures",
        "https://huggingface.co/docs/transformers/main_classes/trainer#transformers.TrainingArguments.output_dir",
    ),
    origin=Origin(
        "https://github.com/kubeflow/trainer/issues/1638",
        "All pods of an elastic PyTorchJob restarted when one went down, and the "
        "checkpoints the imagenet example wrote to the container's disk were lost.",
    ),
)
def training_checkpoint_path_ephemeral(snap: Snapshot) -> Iterator[Hit]:
    for workload, template in gpu_workloads(snap, WorkloadRole.TRAINING):
        templates = snap.templates_by_workload.get(id(workload), (template,))
        if not any(persistent_volumes(t) for t in templates) and not any(
            writes_remote(c) for t in templates for c in t.spec.containers
        ):
            continue  # no persistent storage at all: training-no-checkpoint-volume
        hit = _hit(templates)
        if hit is not None:
            yield hit


def _hit(templates: tuple[PodTemplate, ...]) -> Hit | None:
    workload = templates[0].workload
    for t in templates:
        lost = [p for p in checkpoint_paths(t) if p.ephemeral]
        if not lost:
            continue
        restarts = restarts_on_failure(workload, t)
        if restarts is None:
            continue
        role = f" ({t.role})" if t.role else ""
        first = lost[0]
        return Hit(
            workload,
            f"{workload.kind} {workload.namespace or 'default'}/{workload.name}{role} restarts on "
            f"failure ({restarts}) but container {first.container!r} saves checkpoints where a "
            f"restart loses them: {first.describe()}",
            evidence={
                "restarts": restarts,
                "paths": [
                    {
                        "container": p.container,
                        "given": p.given,
                        "path": p.path,
                        "storage": str(p.storage),
                        "volume": p.volume,
                    }
                    for p in lost
                ],
                "persistentVolumes": sorted({v for x in templates for v in persistent_volumes(x)}),
            },
            path=f"{t.path}.containers",
        )
    return None
