"""GPU workloads of the demo: model servers on L4/A10G, training on H100, planted defects."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence

from plumbob.sources.demo.base import Obj
from plumbob.sources.demo.pools import INFER_A10G, INFER_L4, SHARED_CONFIG, TRAIN, Pool
from plumbob.sources.demo.templates import container, dshm, gpu_spec, pvc_volume, resources
from plumbob.sources.demo.workload import (
    DAY,
    LLM_NS,
    TRAIN_NS,
    VISION_NS,
    Workload,
    app_labels,
    cpu_metric,
    pods_metric,
)

VLLM = "vllm/vllm-openai:v0.6.4.post1"
VLLM_LATEST = "vllm/vllm-openai:latest"
TRITON = "nvcr.io/nvidia/tritonserver:24.08-py3"
TGI = "ghcr.io/huggingface/text-generation-inference:2.4.1"
TEI_L4 = "ghcr.io/huggingface/text-embeddings-inference:89-1.5"
TEI_A10G = "ghcr.io/huggingface/text-embeddings-inference:86-1.5"
PYTORCH = "nvcr.io/nvidia/pytorch:23.08-py3"
CUDA_DEVEL = "nvidia/cuda:12.4.1-cudnn-devel-ubuntu22.04"
SAM2_UNTAGGED = "ghcr.io/acme-ai/sam2-server"
SDXL = "ghcr.io/acme-ai/sdxl-server:0.9.3"
FLORENCE2 = "ghcr.io/acme-ai/florence2-server:1.2.0"
WHISPER = "onerahmet/openai-whisper-asr-webservice:v1.6.0-gpu"
KSERVE_HF = "kserve/huggingfaceserver:v0.15.0-gpu"


# ----------------------------------------------------------------------------- GPU inference


def _model_cache() -> list[Obj]:
    return [pvc_volume("model-cache", "hf-model-cache"), dshm("8Gi")]


_HF_TOKEN: Obj = {"secretKeyRef": {"key": "token", "name": "hf-token"}}
PLAYGROUND_TOKEN = "hf_PlumbobDemoTokenNotARealCredential0000"
"""A made-up value in the Hugging Face token format (planted: env-plaintext-credential)."""


def _vllm(
    name: str,
    model: str,
    replicas: int,
    *,
    gpus: int = 1,
    image: str = VLLM,
    hpa: list[Obj] | None = None,
    pdb: bool = True,
    pull: str | None = None,
    hf_token: str | Obj = _HF_TOKEN,
    shm: bool = True,
) -> Workload:
    args = [
        "--model",
        model,
        "--served-model-name",
        name,
        "--tensor-parallel-size",
        str(gpus),
        "--max-model-len",
        "8192",
        "--gpu-memory-utilization",
        "0.90",
        "--port",
        "8000",
    ]
    ctr = container(
        "vllm",
        image,
        resources(str(10 * gpus), f"{40 * gpus}Gi", gpus=gpus),
        args=args,
        env={"HF_HOME": "/models/hf", "HF_TOKEN": hf_token},
        port=8000,
        health="/health",
        startup=True,
        mounts=[("model-cache", "/models"), ("dshm", "/dev/shm")][: 2 if shm else 1],
        pull=pull,
    )
    volumes = _model_cache()[: 2 if shm else 1]
    spec = gpu_spec(INFER_L4, [ctr], priority_class="gpu-inference-critical", volumes=volumes)
    return Workload.deployment(
        LLM_NS,
        name,
        spec,
        replicas=replicas,
        pool=INFER_L4,
        gpus=gpus,
        labels=app_labels(name, "inference", "llm-serving"),
        age=20 * DAY,
        hpa=hpa if hpa is not None else [pods_metric("vllm_num_requests_waiting", "5")],
        hpa_max=replicas * 3,
        pdb=pdb,
        port=8000,
        pod_annotations={
            "prometheus.io/path": "/metrics",
            "prometheus.io/port": "8000",
            "prometheus.io/scrape": "true",
        },
    )


def _gpu_deployment(
    namespace: str,
    name: str,
    ctr: Obj,
    pool: Pool,
    replicas: int,
    *,
    gpus: int = 1,
    priority: str | None = "gpu-inference-critical",
    hpa: list[Obj] | None = None,
    pdb: bool = True,
    volumes: list[Obj] | None = None,
) -> Workload:
    spec = gpu_spec(pool, [ctr], priority_class=priority, volumes=volumes or [dshm("4Gi")])
    return Workload.deployment(
        namespace,
        name,
        spec,
        replicas=replicas,
        pool=pool,
        gpus=gpus,
        labels=app_labels(name, "inference"),
        age=25 * DAY,
        hpa=hpa,
        hpa_max=max(replicas * 2, 2),
        pdb=pdb and replicas > 1,
        port=ctr["ports"][0]["containerPort"],
    )


def _tei(name: str, model: str, replicas: int, pool: Pool, image: str) -> Workload:
    ctr = container(
        "tei",
        image,
        resources("3", "12Gi", gpus=1),
        args=["--model-id", model, "--port", "8080"],
        env={"HUGGINGFACE_HUB_CACHE": "/models/hf/hub"},
        port=8080,
        health="/health",
        startup=True,
        mounts=[("model-cache", "/models"), ("dshm", "/dev/shm")],
    )
    return _gpu_deployment(
        LLM_NS,
        name,
        ctr,
        pool,
        replicas,
        hpa=[pods_metric("te_queue_size", "16")],
        volumes=[pvc_volume("model-cache", "hf-model-cache"), dshm("2Gi")],
    )


def inference() -> list[Workload]:
    """GPU inference services, planted defects included (see planted.py)."""
    chat = _vllm("llama3-8b-chat", "meta-llama/Meta-Llama-3-8B-Instruct", 2, hpa=[cpu_metric(60)])
    instruct = _vllm("llama3-8b-instruct", "meta-llama/Meta-Llama-3-8B-Instruct", 2, hpa=[])
    instruct.keda_query = 'sum(vllm:num_requests_waiting{model_name="llama3-8b-instruct"})'
    # Planted: two GPUs with --tensor-parallel-size 2 and no memory-backed /dev/shm.
    codellama = _vllm("codellama-13b", "codellama/CodeLlama-13b-Instruct-hf", 2, gpus=2, shm=False)
    # Planted: :latest, and a Hugging Face token pasted into the env instead of the Secret.
    playground = _vllm(
        "qwen2-7b-playground",
        "Qwen/Qwen2-7B-Instruct",
        1,
        image=VLLM_LATEST,
        pull="IfNotPresent",
        pdb=False,
        hf_token=PLAYGROUND_TOKEN,
    )
    tgi = _gpu_deployment(
        LLM_NS,
        "mistral-7b-tgi",
        container(
            "tgi",
            TGI,
            resources("10", "40Gi", gpus=1),
            args=[
                "--model-id",
                "mistralai/Mistral-7B-Instruct-v0.3",
                "--num-shard",
                "1",
                "--max-input-tokens",
                "4096",
                "--max-total-tokens",
                "8192",
                "--port",
                "8080",
            ],
            env={"HF_HOME": "/models/hf", "HF_TOKEN": _HF_TOKEN},
            port=8080,
            health="/health",
            startup=True,
            mounts=[("model-cache", "/models"), ("dshm", "/dev/shm")],
        ),
        INFER_L4,
        3,
        hpa=[pods_metric("tgi_queue_size", "10")],
        pdb=False,
        volumes=_model_cache(),
    )
    whisper = _gpu_deployment(
        LLM_NS,
        "whisper-large-v3",
        container(
            "whisper",
            WHISPER,
            resources("8", "32Gi", gpus=1, gpu_limit=False),
            env={"ASR_MODEL": "large-v3", "ASR_ENGINE": "faster_whisper"},
            port=9000,
            health="/docs",
            startup=True,
        ),
        INFER_L4,
        1,
        pdb=False,
        hpa=[pods_metric("dcgm_fi_dev_gpu_util", "75")],
    )
    whisper.rejected = (
        'Pod "{pod}" is invalid: spec.containers[0].resources.limits[nvidia.com/gpu]: '
        "Required value: Limit must be set for non overcommitable resources"
    )
    triton = _gpu_deployment(
        VISION_NS,
        "resnet50-triton",
        container(
            "tritonserver",
            TRITON,
            resources("10", "40Gi", gpus=1),
            args=[
                "tritonserver",
                "--model-repository=s3://acme-vision-models/triton",
                "--strict-model-config=false",
            ],
            port=8000,
            health="/v2/health/ready",
            startup=True,
            pull="Always",
            mounts=[("dshm", "/dev/shm")],
        ),
        INFER_L4,
        2,
        hpa=[pods_metric("dcgm_fi_dev_gpu_util", "70")],
    )
    sdxl = _gpu_deployment(
        VISION_NS,
        "sdxl-turbo",
        container(
            "sdxl",
            SDXL,
            resources("10", "40Gi", gpus=1),
            port=7860,
            health="/healthz",
            startup=True,
            mounts=[("dshm", "/dev/shm")],
        ),
        INFER_L4,
        2,
        priority=None,
        hpa=[pods_metric("dcgm_fi_dev_gpu_util", "80")],
    )
    sam2 = _gpu_deployment(
        VISION_NS,
        "sam2-segmentation",
        container(
            "sam2",
            SAM2_UNTAGGED,
            resources("3", "12Gi", gpus=1),
            port=8080,
            health="/healthz",
            startup=True,
            pull="IfNotPresent",
        ),
        INFER_A10G,
        1,
        pdb=False,
        volumes=[dshm("2Gi")],
        hpa=[pods_metric("dcgm_fi_dev_gpu_util", "70")],
    )
    reranker = _gpu_deployment(
        LLM_NS,
        "bge-reranker-predictor",
        container(
            "kserve-container",
            KSERVE_HF,
            resources("3", "12Gi", gpus=1),
            args=[
                "--model_name=bge-reranker",
                "--model_id=BAAI/bge-reranker-v2-m3",
                "--backend=huggingface",
                "--task=text_classification",
                "--http_port=8080",
            ],
            env={"HF_HOME": "/models/hf"},
            port=8080,
            port_name="http1",
            health="/v2/health/ready",
            startup=True,
            mounts=[("model-cache", "/models")],
        ),
        INFER_A10G,
        2,
        volumes=[pvc_volume("model-cache", "hf-model-cache"), dshm("2Gi")],
    )
    reranker.owner_kind = "InferenceService"
    reranker.selector = {"app": "isvc.bge-reranker-predictor"}
    reranker.pdb_selector = {"serving.kserve.io/inferenceservice": "bge-reranker"}
    reranker.keda_query = 'sum(rate(request_total{service="bge-reranker-predictor"}[1m]))'
    reranker.hpa_max = 6
    reranker.labels = {
        "component": "predictor",
        "serving.kserve.io/inferenceservice": "bge-reranker",
        "app": "isvc.bge-reranker-predictor",
    }
    embed = _tei("batch-embeddings", "BAAI/bge-large-en-v1.5", 2, INFER_L4, TEI_L4)
    embed.kind, embed.queue, embed.hpa, embed.pdb = "JobSet", "batch", None, False
    embed.spec["volumes"].append(pvc_volume("output", "batch-embeddings-output"))
    embed.spec["containers"][0]["volumeMounts"].append({"mountPath": "/output", "name": "output"})
    embed.spec["priorityClassName"] = "batch-low"
    embed.spec["restartPolicy"] = "Never"
    return [
        instruct,
        chat,
        codellama,
        tgi,
        playground,
        whisper,
        embed,
        reranker,
        triton,
        sdxl,
        sam2,
        _florence2_without_toleration(),
        _gemma_gke_sample(),
        _llama70b_multi_node(),
    ]


def _llama70b_multi_node() -> Workload:
    """Planted: Llama 3 70B served by vLLM over a LeaderWorkerSet group of two 4-GPU pods
    (tensor parallel 4 in a node, pipeline parallel 2 across them), as the LWS vLLM example
    runs it, with no Kueue queue label: the group's pods are scheduled one by one."""
    model = "meta-llama/Meta-Llama-3-70B-Instruct"
    ray = "bash /vllm-workspace/examples/online_serving/multi-node-serving.sh"
    leader = container(
        "vllm-leader",
        VLLM,
        resources("40", "160Gi", gpus=4),
        command=["sh", "-c"],
        args=[
            f"{ray} leader --ray_cluster_size=$(LWS_GROUP_SIZE); python3 -m "
            f"vllm.entrypoints.openai.api_server --port 8000 --model {model} "
            "--served-model-name llama3-70b-instruct --tensor-parallel-size 4 "
            "--pipeline-parallel-size 2 --max-model-len 8192"
        ],
        env={"HF_HOME": "/models/hf", "HF_TOKEN": _HF_TOKEN},
        port=8000,
        health="/health",
        startup=True,
        mounts=[("model-cache", "/models"), ("dshm", "/dev/shm")],
    )
    worker = container(
        "vllm-worker",
        VLLM,
        resources("40", "160Gi", gpus=4),
        command=["sh", "-c"],
        args=[f"{ray} worker --ray_address=$(LWS_LEADER_ADDRESS)"],
        env={"HF_HOME": "/models/hf", "HF_TOKEN": _HF_TOKEN},
        mounts=[("model-cache", "/models"), ("dshm", "/dev/shm")],
    )
    volumes = [pvc_volume("model-cache", "hf-model-cache"), dshm("30Gi")]
    spec = gpu_spec(INFER_L4, [leader], priority_class="gpu-inference-critical", volumes=volumes)
    worker_spec = gpu_spec(
        INFER_L4, [worker], priority_class="gpu-inference-critical", volumes=volumes
    )
    return Workload(
        "LeaderWorkerSet",
        LLM_NS,
        "llama3-70b-instruct",
        {"leaderworkerset.sigs.k8s.io/name": "llama3-70b-instruct"},
        spec,
        replicas=1,
        workers=1,
        worker_spec=worker_spec,
        pool=INFER_L4,
        gpus=4,
        labels=app_labels("llama3-70b-instruct", "inference", "llm-serving"),
        age=6 * DAY,
        port=8000,
        hpa=[pods_metric("vllm_num_requests_waiting", "5")],
        hpa_max=3,
    )


def _florence2_without_toleration() -> Workload:
    """Planted: a captioning service pinned to the A10G node group, whose pod template was
    copied from a CPU service and so lacks the toleration for the group's nvidia.com/gpu taint;
    the group is an EKS managed node group with no autoscaler: its pod stays Pending."""
    ctr = container(
        "florence2",
        FLORENCE2,
        resources("3", "12Gi", gpus=1),
        port=8080,
        health="/healthz",
        startup=True,
        mounts=[("dshm", "/dev/shm")],
    )
    w = _gpu_deployment(
        VISION_NS,
        "florence2-captioning",
        ctr,
        INFER_A10G,
        1,
        pdb=False,
        volumes=[dshm("2Gi")],
        hpa=[pods_metric("dcgm_fi_dev_gpu_util", "70")],
    )
    del w.spec["tolerations"]
    w.age = 3 * DAY
    w.unschedulable = (
        "0/{total} nodes are available: {pool} node(s) had untolerated taint "
        "{{nvidia.com/gpu: present}}, {other} node(s) didn't match Pod's node affinity/selector. "
        "preemption: 0/{total} nodes are available: {total} Preemption is not helpful for "
        "scheduling."
    )
    return w


def _gemma_gke_sample() -> Workload:
    """Planted: TGI serving Gemma as Google's GKE sample deploys it, nodeSelector
    `cloud.google.com/gke-accelerator: nvidia-l4` included, a label no EKS node or Karpenter
    NodePool has: its pod stays Pending. Planted too: like the sample, it keeps no model cache,
    so each new pod downloads the weights into TGI's /data again."""
    ctr = container(
        "inference-server",
        TGI,
        resources("2", "10Gi", gpus=1),
        args=["--model-id", "google/gemma-2-2b-it", "--num-shard", "1", "--port", "8000"],
        env={"HF_TOKEN": _HF_TOKEN},
        port=8000,
        health="/health",
        startup=True,
        mounts=[("dshm", "/dev/shm")],
    )
    w = _gpu_deployment(
        LLM_NS,
        "gemma2-2b-tgi",
        ctr,
        INFER_L4,
        1,
        hpa=[pods_metric("tgi_queue_size", "10")],
        volumes=[dshm("1Gi")],
    )
    w.spec["nodeSelector"] = {"cloud.google.com/gke-accelerator": "nvidia-l4"}
    w.age = 4 * DAY
    w.unschedulable = (
        "0/{total} nodes are available: {total} node(s) didn't match Pod's node "
        "affinity/selector. preemption: 0/{total} nodes are available: {total} Preemption is "
        "not helpful for scheduling."
    )
    return w


# ----------------------------------------------------------------------------- GPU training


def _pytorch_job(
    namespace: str,
    name: str,
    workers: int,
    *,
    queue: str | None,
    checkpoints: bool,
    model: str,
    backoff_limit: int | None = 3,
    output_dir: str | None = None,
    memory: bool = True,
) -> Workload:
    mounts = [("dshm", "/dev/shm"), ("scratch", "/scratch")]
    volumes: list[Obj] = [dshm("256Gi"), {"emptyDir": {"sizeLimit": "500Gi"}, "name": "scratch"}]
    if checkpoints:
        mounts.append(("checkpoints", "/checkpoints"))
        volumes.append(pvc_volume("checkpoints", f"{name}-checkpoints"))
    args = [
        "--nnodes",
        str(workers + 1),
        "--nproc-per-node",
        "8",
        "/workspace/train.py",
        "--model",
        model,
        "--output-dir",
        output_dir or ("/checkpoints" if checkpoints else "/scratch/out"),
        "--save-steps",
        "500",
    ]
    res = resources("180", "1800Gi", gpus=8, efa=32, cpu_limit=True)
    if not memory:
        del res["requests"]["memory"], res["limits"]["memory"]
    ctr = container(
        "pytorch",
        PYTORCH,
        res,
        command=["torchrun"],
        args=args,
        env={"NCCL_DEBUG": "WARN", "FI_PROVIDER": "efa", "FI_EFA_USE_DEVICE_RDMA": "1"},
        mounts=mounts,
    )
    spec = gpu_spec(TRAIN, [ctr], priority_class="gpu-training-high", volumes=volumes)
    spec["tolerations"].append({"key": "aws.amazon.com/efa", "operator": "Exists"})
    return Workload(
        "PyTorchJob",
        namespace,
        name,
        {"training.kubeflow.org/job-name": name},
        spec,
        pool=TRAIN,
        gpus=8,
        workers=workers,
        queue=queue,
        age=3 * DAY,
        labels={"app.kubernetes.io/part-of": "research-training"},
        backoff_limit=backoff_limit,
    )


def devbox() -> Workload:
    ctr = container(
        "devbox",
        CUDA_DEVEL,
        resources("32", "256Gi", gpus=8),
        command=["sleep", "infinity"],
        mounts=[("home", "/home/researcher"), ("dshm", "/dev/shm")],
    )
    # Planted: SYS_ADMIN, so that researchers can run Nsight Compute's GPU profiling.
    ctr["securityContext"] = {"capabilities": {"add": ["SYS_ADMIN"]}}
    ctr["readinessProbe"] = {
        "exec": {"command": ["nvidia-smi"]},
        "failureThreshold": 3,
        "periodSeconds": 30,
        "successThreshold": 1,
        "timeoutSeconds": 10,
    }
    spec = gpu_spec(TRAIN, [ctr], priority_class="gpu-training-high", volumes=[dshm("64Gi")])
    return Workload(
        "StatefulSet",
        TRAIN_NS,
        "research-devbox",
        {"app.kubernetes.io/name": "research-devbox"},
        spec,
        pool=TRAIN,
        gpus=8,
        labels=app_labels("research-devbox", "development"),
        age=2 * DAY,
        crashloop=True,
        claim=("home", "gp3", "500Gi"),
        service_name="research-devbox",
    )


_TRAIN_FILLERS = (
    ("llama3-8b-pretrain", "meta-llama/Meta-Llama-3-8B"),
    ("qwen2-72b-lora", "Qwen/Qwen2-72B"),
    ("gemma2-27b-dpo", "google/gemma-2-27b"),
    ("deepseek-coder-33b-sft", "deepseek-ai/deepseek-coder-33b-base"),
    ("llava-next-34b-sft", "llava-hf/llava-v1.6-34b-hf"),
    ("codellama-34b-sft", "codellama/CodeLlama-34b-hf"),
)


def training(nodes: int, rng: random.Random) -> list[Workload]:
    """PyTorchJobs for `nodes` free p5 nodes (one 8-GPU pod per node); at least 5 pods."""
    rest = nodes - 1  # vit-finetune takes one node
    big = min(16, max(2, rest // 3))
    mid = min(8, max(2, (rest - big) // 3)) if rest - big > 2 else 2
    jobs = [
        _pytorch_job(
            TRAIN_NS,
            "llama3-70b-sft",
            big - 1,
            queue="research-training",
            checkpoints=True,
            model="meta-llama/Meta-Llama-3-70B",
            # Planted: CPU, GPUs and EFA requested, memory neither requested nor limited.
            memory=False,
        ),
        _pytorch_job(
            TRAIN_NS,
            "mixtral-8x7b-pretrain",
            mid - 1,
            queue=None,
            checkpoints=True,
            model="mistralai/Mixtral-8x7B-v0.1",
            # Planted: the FSx claim is mounted at /checkpoints, the output goes to an emptyDir.
            output_dir="/scratch/out",
        ),
        _pytorch_job(
            VISION_NS,
            "vit-finetune",
            0,
            queue="vision-training",
            checkpoints=False,
            model="google/vit-huge-patch14-224-in21k",
            backoff_limit=None,
        ),
    ]
    return jobs + _fill(
        _TRAIN_FILLERS,
        rest - big - mid,
        rng,
        (2, 4, 4, 8, 8, 16, 32),
        lambda name, model, size: _pytorch_job(
            TRAIN_NS, name, size - 1, queue="research-training", checkpoints=True, model=model
        ),
        suffix="-r",
    )


def _fill(
    models: Sequence[tuple[str, str]],
    count: int,
    rng: random.Random,
    sizes: Sequence[int],
    make: Callable[[str, str, int], Workload],
    suffix: str = "-",
) -> list[Workload]:
    """Workloads serving `models` in turn, each of a size drawn from `sizes`, until `count` (pods
    or nodes) is used; names repeat with a round suffix (`gemma2-9b-it-2`)."""
    out: list[Workload] = []
    round_ = 1
    while count > 0:
        for base, model in models:
            if count <= 0:
                break
            size = min(count, rng.choice(sizes))
            out.append(make(base if round_ == 1 else f"{base}{suffix}{round_}", model, size))
            count -= size
        round_ += 1
    return out


_L4_FILLERS = (
    ("gemma2-9b-it", "google/gemma-2-9b-it"),
    ("llama3-1-8b-instruct", "meta-llama/Llama-3.1-8B-Instruct"),
    ("qwen2-7b-instruct", "Qwen/Qwen2-7B-Instruct"),
    ("phi3-mini-128k", "microsoft/Phi-3-mini-128k-instruct"),
    ("deepseek-coder-6-7b", "deepseek-ai/deepseek-coder-6.7b-instruct"),
    ("mistral-7b-instruct-v3", "mistralai/Mistral-7B-Instruct-v0.3"),
)


def l4_fillers(keda_deployment: Workload, count: int, rng: random.Random) -> list[Workload]:
    """Scale the KEDA-scaled service to 8 replicas, then add clean vLLM services."""
    grow = min(count, 6)
    keda_deployment.replicas += grow
    count -= grow
    return _fill(
        _L4_FILLERS,
        count,
        rng,
        (2, 2, 3, 4, 6),
        lambda name, model, replicas: _vllm(name, model, replicas, pdb=replicas > 1),
    )


_A10G_FILLERS = (
    ("bge-large-embeddings", "BAAI/bge-large-en-v1.5"),
    ("e5-large-embeddings", "intfloat/e5-large-v2"),
    ("gte-base-embeddings", "thenlper/gte-base"),
    ("nomic-embed-text", "nomic-ai/nomic-embed-text-v1.5"),
)


def shared_embeddings(shares: int) -> Workload:
    """Planted: a small embedding model served from every share of the time-sliced L4 node,
    which advertises its shares as nvidia.com/gpu (gpu-shared-advertised-as-whole,
    gpu-sharing-on-inference)."""
    w = _tei("bge-small-embeddings", "BAAI/bge-small-en-v1.5", shares, INFER_L4, TEI_L4)
    w.spec["nodeSelector"] = {
        **INFER_L4.selector,
        "nvidia.com/device-plugin.config": SHARED_CONFIG,
    }
    w.shared = True
    w.hpa_max = shares
    w.age = 10 * DAY
    return w


def a10g_fillers(count: int, rng: random.Random) -> list[Workload]:
    return _fill(
        _A10G_FILLERS,
        count,
        rng,
        (2, 3, 4, 6, 8),
        lambda name, model, replicas: _tei(name, model, replicas, INFER_A10G, TEI_A10G),
    )
