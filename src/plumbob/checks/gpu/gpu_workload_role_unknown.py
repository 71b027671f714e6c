"""GPU workloads whose role nothing in the input names, so no serving or training check judges
them."""

from __future__ import annotations

from collections.abc import Iterator

from plumbob.checks.registry import WORKLOADS, Hit, Origin, check
from plumbob.knowledge.workload_roles import gpu_workloads, role_of
from plumbob.model.roles import WorkloadRole
from plumbob.model.snapshot import Snapshot
from plumbob.model.workloads import gpus_asked

WHY = """
The serving checks (autoscaler, PodDisruptionBudget, readiness probe, shared GPUs) and the
training checks (checkpoints, /dev/shm) judge a GPU workload by its role, so that a GPU burn test
or a training demo run as a Deployment is not reported as a broken inference service. A workload
whose role nothing names (no dedicated kind such as InferenceService or PyTorchJob, no known
model-server, trainer or test image or command, no Service in front of it) is judged by none of
them: this finding says so, with what plumbob looked at, instead of passing it in silence.
"""

FIX = """
Make the role visible in the manifest, the way the platform itself would see it:

- a model server: put a Service in front of it (clients need one anyway), or serve it through
  KServe, KubeRay's RayService or a LeaderWorkerSet;
- a training run: submit it as a PyTorchJob, JobSet, RayJob or Volcano Job, or start it with its
  launcher (`torchrun`, `deepspeed`, `accelerate launch`);
- anything else: `plumbob.dev/ignore: "gpu-workload-role-unknown"` on the workload or namespace.

The finding's `roleEvidence` lists what was seen.
"""


@check(
    id="gpu-workload-role-unknown",
    category="gpu",
    severity="info",
    reads=(WORKLOADS,),
    consults=("Service",),
    title="GPU workload whose role (serving, training, ...) nothing names",
    why=WHY,
    fix=FIX,
    references=(
        "https://kubernetes.io/docs/concepts/services-networking/service/",
        "https://www.kubeflow.org/docs/components/trainer/",
        "https://kserve.github.io/website/",
    ),
    origin=Origin(
        "https://kserve.github.io/website/",
        "KServe documents the InferenceService as the kind that says a workload serves a "
        "model; a GPU Deployment of no such kind can only be judged by what runs in it.",
        kind="document",
    ),
)
def gpu_workload_role_unknown(snap: Snapshot) -> Iterator[Hit]:
    for workload, template in gpu_workloads(snap, WorkloadRole.UNKNOWN):
        role = role_of(snap, workload)
        templates = snap.templates_by_workload.get(id(workload), (template,))
        gpus, _ = gpus_asked(templates)
        yield Hit(
            workload,
            f"GPU {workload.kind} {workload.namespace or 'default'}/{workload.name} "
            f"({gpus:g} GPUs): nothing names its role, so no serving or training check judged "
            f"it ({'; '.join(role.evidence)})",
            evidence={"gpus": gpus},
        )
