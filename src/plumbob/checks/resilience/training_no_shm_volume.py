"""PyTorch-style GPU training without a memory-backed /dev/shm: DataLoader workers crash."""

from __future__ import annotations

from collections.abc import Iterator

from plumbob.checks.registry import WORKLOADS, Hit, Origin, check
from plumbob.knowledge.workload_roles import role_of
from plumbob.model.roles import WorkloadRole, is_pytorch_style
from plumbob.model.snapshot import Snapshot
from plumbob.model.workloads import PodTemplate

WHY = """
Container runtimes give each pod a 64 MiB /dev/shm. PyTorch DataLoader workers pass batches
through shared memory and NCCL uses it for intra-node communication, so multi-worker data loading
and multi-GPU training fail with "bus error", "unable to write to file </torch_...>" or NCCL
errors minutes into the run, after the job has already been scheduled onto GPUs.

It applies to GPU workloads whose role is training, however short: a ten-minute fine-tune fails
with the same bus error. GPU tests, benchmarks and model servers are not judged here.
"""

FIX = """
Mount a memory-backed emptyDir at /dev/shm (its size counts against the pod's memory limit):

    volumes:
      - name: dshm
        emptyDir:
          medium: Memory
          sizeLimit: 16Gi
    containers:
      - name: trainer
        volumeMounts:
          - {name: dshm, mountPath: /dev/shm}
"""


def has_memory_shm(template: PodTemplate) -> bool:
    """A container mounts an emptyDir with medium Memory at /dev/shm (or the pod uses the host's
    IPC namespace)."""
    if template.spec.host_ipc:
        return True
    memory = {
        v.name
        for v in template.spec.volumes
        if v.empty_dir is not None and v.empty_dir.get("medium") == "Memory"
    }
    return any(
        m.mount_path.rstrip("/") == "/dev/shm" and m.name in memory
        for c in template.spec.containers
        for m in c.volume_mounts
    )


@check(
    id="training-no-shm-volume",
    category="resilience",
    severity="medium",
    reads=(WORKLOADS,),
    consults=("Service",),
    title="PyTorch-style GPU training has no memory-backed /dev/shm",
    why=WHY,
    fix=FIX,
    references=(
        "https://pytorch.org/docs/stable/data.html#multi-process-data-loading",
        "https://kubernetes.io/docs/concepts/storage/volumes/#emptydir",
        "https://github.com/pytorch/pytorch#docker-image",
    ),
    origin=Origin(
        "https://github.com/pytorch/pytorch/issues/16979",
        'A PyTorch DataLoader in a Kubernetes pod died with "Unexpected bus error ... '
        'insufficient shared memory (shm)".',
    ),
)
def training_no_shm_volume(snap: Snapshot) -> Iterator[Hit]:
    for template in snap.gpu_templates:
        if not is_pytorch_style(template):
            continue
        if role_of(snap, template.workload).role != WorkloadRole.TRAINING:
            continue
        if has_memory_shm(template):
            continue
        role = f" ({template.role})" if template.role else ""
        yield Hit(
            template.workload,
            f"{template.kind} {template.namespace or 'default'}/{template.workload.name}{role} "
            f"runs PyTorch-style training on GPUs with the default 64 MiB /dev/shm",
            evidence={
                "role": template.role,
                "replicas": template.replicas,
                "images": [c.image for c in template.spec.containers],
            },
            path=f"{template.path}.volumes",
        )
