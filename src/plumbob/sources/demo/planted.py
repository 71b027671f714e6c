"""The defects planted in the demo fleet, so tests and docs know what a scan must find."""

from __future__ import annotations

from dataclasses import dataclass

from plumbob.sources.demo.generator import SERVER_VERSION, DemoSpec
from plumbob.sources.demo.pools import (
    CONTAINERD,
    CONTAINERD_OLD,
    DRIVER_OLD,
    INFER_A10G,
    KERNEL,
    KERNEL_OLD,
    TRAIN,
    build_layout,
)
from plumbob.sources.demo.workload import LLM_NS, TRAIN_NS, VISION_NS


@dataclass(frozen=True, slots=True)
class Planted:
    """One planted defect: the check that must report it and the object it is about."""

    check: str
    """Check id, or "drift:<attribute>" for a node that differs from its pool's majority."""
    kind: str
    namespace: str | None
    name: str
    note: str
    """One sentence: what is wrong."""


def _workload_defects() -> list[Planted]:
    return [
        Planted(
            "gpu-request-without-limit",
            "Deployment",
            LLM_NS,
            "whisper-large-v3",
            "The whisper container requests nvidia.com/gpu: 1 with no limit, so its "
            "ReplicaSet cannot create pods.",
        ),
        Planted(
            "gpu-namespace-without-quota",
            "Namespace",
            None,
            VISION_NS,
            "team-vision runs GPU Deployments and a PyTorchJob, but its only ResourceQuota "
            "caps CPU and memory, not requests.nvidia.com/gpu.",
        ),
        Planted(
            "gpu-image-mutable-tag",
            "Deployment",
            LLM_NS,
            "qwen2-7b-playground",
            "The vLLM playground runs vllm/vllm-openai:latest.",
        ),
        Planted(
            "gpu-image-mutable-tag",
            "Deployment",
            VISION_NS,
            "sam2-segmentation",
            "The SAM 2 service runs ghcr.io/acme-ai/sam2-server with no tag.",
        ),
        Planted(
            "gpu-hpa-cpu-only",
            "HorizontalPodAutoscaler",
            LLM_NS,
            "llama3-8b-chat",
            "The vLLM chat service scales on CPU utilisation only, which stays low while "
            "its GPU is saturated.",
        ),
        Planted(
            "image-large-pull-always",
            "Deployment",
            VISION_NS,
            "resnet50-triton",
            "The 14.6 GB Triton image is pulled with imagePullPolicy: Always on every start.",
        ),
        Planted(
            "training-no-checkpoint-volume",
            "PyTorchJob",
            VISION_NS,
            "vit-finetune",
            "The ViT fine-tuning job writes checkpoints only to emptyDir volumes.",
        ),
        Planted(
            "training-job-no-backoff-limit",
            "PyTorchJob",
            VISION_NS,
            "vit-finetune",
            "The ViT fine-tuning job restarts its OnFailure pod in place and sets no "
            "runPolicy.backoffLimit: a crash loop would hold its 8 GPUs forever.",
        ),
        Planted(
            "gpu-inference-no-pdb",
            "Deployment",
            LLM_NS,
            "mistral-7b-tgi",
            "The TGI service runs 3 GPU replicas and no PodDisruptionBudget selects them.",
        ),
        Planted(
            "gpu-training-no-gang-scheduler",
            "PyTorchJob",
            TRAIN_NS,
            "mixtral-8x7b-pretrain",
            "This multi-node PyTorchJob has no kueue.x-k8s.io/queue-name label, unlike "
            "llama3-70b-sft, so its pods are not admitted as a gang.",
        ),
        Planted(
            "gpu-workload-no-priority-class",
            "Deployment",
            VISION_NS,
            "sdxl-turbo",
            "The SDXL service requests GPUs with no priorityClassName (priority 0).",
        ),
    ]


def planted(spec: DemoSpec) -> list[Planted]:
    """Every defect planted for `spec`; node names match `generate(spec)` for any size."""
    layout = build_layout(spec.nodes, spec.seed)
    node = {slot.index: slot.name for slot in layout.nodes}
    items = [
        Planted(
            "gpu-node-untainted",
            "Node",
            None,
            node[layout.untainted],
            f"This {TRAIN.instance_type} H100 node in {TRAIN.name} has no "
            "nvidia.com/gpu NoSchedule taint.",
        ),
    ]
    if len(layout.of(TRAIN)) >= 3:  # drift names a node once its pool has a clear majority
        items.append(
            Planted(
                "drift:taints",
                "Node",
                None,
                node[layout.untainted],
                f"The same untainted node also differs from the taints of the rest of "
                f"{TRAIN.name}.",
            )
        )
    items += _workload_defects()
    if layout.old_kernel is not None:
        items.append(
            Planted(
                "drift:kernel",
                "Node",
                None,
                node[layout.old_kernel],
                f"Runs kernel {KERNEL_OLD} while the rest of the system pool runs {KERNEL} "
                "(updated in place, never rebooted).",
            )
        )
    if layout.old_driver is not None:
        items.append(
            Planted(
                "drift:nvidia_driver",
                "Node",
                None,
                node[layout.old_driver],
                f"Runs NVIDIA driver {DRIVER_OLD} (CUDA 12.2) while the rest of {TRAIN.name} runs "
                f"{TRAIN.driver} (CUDA 12.4).",
            )
        )
        items.append(
            Planted(
                "cuda-driver-mismatch",
                "StatefulSet",
                TRAIN_NS,
                "research-devbox",
                "The devbox image nvidia/cuda:12.4.1 needs driver >= 550.54.15 but is pinned to "
                f"{TRAIN.name}, where it landed on the {DRIVER_OLD} node and crash-loops.",
            )
        )
    items += [
        Planted(
            "drift:container_runtime",
            "Node",
            None,
            node[i],
            f"Runs {CONTAINERD_OLD.removeprefix('containerd://')} while most of inference-l4 "
            f"runs {CONTAINERD.removeprefix('containerd://')}.",
        )
        for i in layout.old_containerd
    ]
    items += [
        Planted(
            "gpu-idle",
            "Node",
            None,
            node[i],
            f"This {layout.nodes[i].pool.instance_type} node runs no pod that requests a GPU.",
        )
        for i in layout.idle
    ]
    items += [
        Planted(
            "gpu-node-no-dcgm-exporter",
            "Node",
            None,
            node[i],
            "The gpu-infer-a10g node group is labelled nvidia.com/gpu.deploy.dcgm-exporter="
            "false, so the DCGM exporter DaemonSet's nodeSelector skips this node.",
        )
        for i in layout.of(INFER_A10G)
    ]
    items += [
        Planted(
            "kubernetes-version-eol",
            "Cluster",
            None,
            spec.cluster,
            f"The control plane runs {SERVER_VERSION}; Kubernetes 1.31 is past the end of "
            "EKS extended support on the demo's date (2026-11-30).",
        ),
        Planted(
            "no-admission-policy-engine",
            "Cluster",
            None,
            spec.cluster,
            "No Kyverno, Gatekeeper or ValidatingAdmissionPolicy guards what reaches the GPUs.",
        ),
    ]
    return items
