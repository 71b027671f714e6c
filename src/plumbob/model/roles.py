"""What a workload is for: serving (inference) or training, from its kind and shape."""

from __future__ import annotations

from plumbob.model.gpu import container_gpu_request
from plumbob.model.objects import Object, kind_key
from plumbob.model.workloads import INFERENCE_KINDS, TRAINING_KINDS, PodTemplate

SERVING_KINDS = frozenset({"Deployment", "StatefulSet", "ReplicaSet", *INFERENCE_KINDS})
"""Long-running kinds that serve requests."""

BATCH_KINDS = frozenset({"Job", "CronJob", *TRAINING_KINDS})
"""Kinds that run to completion: training, fine-tuning, batch inference."""


def kind_of(workload: Object) -> str:
    """The kind key a workload is indexed under ('Job.batch.volcano.sh' for Volcano's Job)."""
    return kind_key(workload.api_version, workload.kind)


def uses_gpu(template: PodTemplate) -> bool:
    return any(container_gpu_request(c) for c in template.spec.all_containers)


def is_inference(template: PodTemplate) -> bool:
    """A GPU template of a serving kind (Deployment, StatefulSet, InferenceService, LWS, ...)."""
    return kind_of(template.workload) in SERVING_KINDS and uses_gpu(template)


def is_training(template: PodTemplate) -> bool:
    """A GPU template of a training or batch kind (PyTorchJob, JobSet, RayJob, Job, ...), or a
    RayCluster worker group."""
    kind = kind_of(template.workload)
    if kind == "RayCluster":
        return template.role not in (None, "head") and uses_gpu(template)
    return kind in BATCH_KINDS and uses_gpu(template)


def is_pytorch_style(template: PodTemplate) -> bool:
    """Distributed PyTorch-style training: a Kubeflow PyTorchJob, or any training template whose
    images or commands mention torch (DataLoader workers need shared memory)."""
    if template.workload.kind == "PyTorchJob":
        return True
    for container in template.spec.containers:
        text = " ".join([container.image or "", *container.command, *container.args]).lower()
        if any(
            word in text
            for word in (
                "torch",
                "pytorch",
                "deepspeed",
                "accelerate launch",
                "megatron",
                "nemo",
                "transformers",
            )
        ):
            return True
    return False
