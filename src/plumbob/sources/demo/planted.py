"""The defects planted in the demo fleet, so tests and docs know what a scan must find."""

from __future__ import annotations

from dataclasses import dataclass

from plumbob.sources.demo.generator import SERVER_VERSION, DemoSpec
from plumbob.sources.demo.pools import (
    BATCH_POOL,
    CONTAINERD,
    CONTAINERD_OLD,
    DOCKER,
    DRIVER_OLD,
    INFER_A10G,
    INFER_L4,
    KERNEL,
    KERNEL_OLD,
    KUBELET_VERSION,
    SHARED_CONFIG,
    SHARED_REPLICAS,
    SYSTEM,
    TRAIN,
    build_layout,
)
from plumbob.sources.demo.workload import (
    KUEUE_OLD_API,
    KUEUE_VERSION,
    LLM_NS,
    OLD_KUEUE_PRIORITY_CLASS,
    TRAIN_NS,
    VISION_NS,
)


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
            "gpu-workload-no-memory-request",
            "PyTorchJob",
            TRAIN_NS,
            "llama3-70b-sft",
            "The trainer requests CPU, 8 GPUs and EFA but neither requests nor limits memory: "
            "the kubelet evicts it among the first when its node runs short of memory.",
        ),
        Planted(
            "gpu-serving-model-not-cached",
            "Deployment",
            LLM_NS,
            "gemma2-2b-tgi",
            "Copied from Google's GKE sample, TGI downloads google/gemma-2-2b-it into /data on "
            "the container's filesystem: every new pod downloads it again.",
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
        Planted(
            "gpu-serving-no-gang-scheduler",
            "LeaderWorkerSet",
            LLM_NS,
            "llama3-70b-instruct",
            "Llama 3 70B is served by vLLM over LeaderWorkerSet groups of 2 pods of 4 GPUs "
            "(tensor parallel 4, pipeline parallel 2) without a Kueue queue label: a scale-out "
            "can leave leaders holding GPUs while their workers stay Pending.",
        ),
        Planted(
            "gpu-serving-no-shm-volume",
            "Deployment",
            LLM_NS,
            "codellama-13b",
            "The vLLM service shards its model over 2 GPUs (--tensor-parallel-size 2) and mounts "
            "no memory-backed /dev/shm: NCCL fails at start.",
        ),
        Planted(
            "env-plaintext-credential",
            "Deployment",
            LLM_NS,
            "qwen2-7b-playground",
            "The playground's HF_TOKEN is a literal value (a made-up hf_ token) pasted into the "
            "Deployment instead of the hf-token Secret the other services use.",
        ),
        Planted(
            "gpu-workload-host-access",
            "StatefulSet",
            TRAIN_NS,
            "research-devbox",
            "The devbox container adds the SYS_ADMIN capability so that researchers can run "
            "Nsight Compute profiling on its 8 GPUs.",
        ),
        Planted(
            "training-checkpoint-path-ephemeral",
            "PyTorchJob",
            TRAIN_NS,
            "mixtral-8x7b-pretrain",
            "The job mounts its FSx checkpoint claim at /checkpoints but passes --output-dir "
            "/scratch/out, an emptyDir, and restarts its pods on failure.",
        ),
        Planted(
            "gpu-node-selector-unmatched",
            "Deployment",
            LLM_NS,
            "gemma2-2b-tgi",
            "TGI deployed from Google's GKE sample keeps its nodeSelector "
            "cloud.google.com/gke-accelerator: nvidia-l4, a label no EKS node or Karpenter "
            "NodePool has: its pod stays Pending.",
        ),
        Planted(
            "gpu-workload-unschedulable",
            "Deployment",
            VISION_NS,
            "florence2-captioning",
            "A captioning service pinned to the gpu-infer-a10g node group without the toleration "
            "for its nvidia.com/gpu taint; the node group has no autoscaler: its pod stays "
            "Pending.",
        ),
        Planted(
            "custom-resource-version-removed",
            "WorkloadPriorityClass",
            None,
            OLD_KUEUE_PRIORITY_CLASS[0],
            f"The WorkloadPriorityClass CRD was left at its old definition when Kueue was "
            f"upgraded to {KUEUE_VERSION}, so this object is served in {KUEUE_OLD_API} only, "
            "which Kueue v0.20 no longer serves; every other Kueue object is in v1beta2.",
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
    if layout.docker is not None:
        items += [
            Planted(
                "node-docker-runtime",
                "Node",
                None,
                node[layout.docker],
                f"Launched from a custom AMI that runs Docker Engine "
                f"{DOCKER.removeprefix('docker://')} through cri-dockerd under kubelet "
                f"{KUBELET_VERSION}, which has had no dockershim since Kubernetes 1.24.",
            ),
            Planted(
                "drift:container_runtime",
                "Node",
                None,
                node[layout.docker],
                f"The same node's runtime differs from the rest of {SYSTEM.name} "
                f"({CONTAINERD.removeprefix('containerd://')}).",
            ),
        ]
    if layout.shared is not None:
        shared = node[layout.shared]
        config = f"nvidia.com/device-plugin.config={SHARED_CONFIG}"
        items += [
            Planted(
                "gpu-shared-advertised-as-whole",
                "Node",
                None,
                shared,
                f"The node's device-plugin config ({config}) time-slices each L4 "
                f"{SHARED_REPLICAS} ways and advertises the shares as nvidia.com/gpu "
                "(renameByDefault false), product label NVIDIA-L4-SHARED.",
            ),
            Planted(
                "gpu-sharing-on-inference",
                "Deployment",
                LLM_NS,
                "bge-small-embeddings",
                "An embedding service serves from every share of the time-sliced L4 node.",
            ),
            *(
                Planted(
                    f"drift:{attribute}",
                    "Node",
                    None,
                    shared,
                    f"The same node's {what} differs from the rest of {INFER_L4.name}.",
                )
                for attribute, what in (
                    ("gpu_product", "GPU product label (NVIDIA-L4-SHARED)"),
                    ("sharing_strategy", "GPU sharing strategy (time-slicing)"),
                    ("sharing_replicas", f"sharing replicas ({SHARED_REPLICAS})"),
                    ("label", f"label {config}"),
                )
            ),
        ]
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
            f"This {layout.nodes[i].pool.instance_type} node runs no pod that requests a GPU"
            + (
                f": it is the one node of Karpenter NodePool {BATCH_POOL}, whose taint no "
                "workload tolerates."
                if layout.nodes[i].pool is INFER_L4
                else "."
            ),
        )
        for i in layout.idle
    ]
    items += [
        Planted(
            "node-pool-taint-untolerated",
            "Node",
            None,
            node[i],
            f"Karpenter NodePool {BATCH_POOL} (this node) is tainted acme.ai/workload=batch for "
            "the batch embedding jobs, which lost the toleration when they moved under Kueue: "
            "only DaemonSets run there.",
        )
        for i in layout.idle
        if layout.nodes[i].pool is INFER_L4
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
