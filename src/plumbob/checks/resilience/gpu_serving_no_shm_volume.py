"""Model servers that shard a model over several GPUs of a pod without a memory-backed /dev/shm."""

from __future__ import annotations

import math
import re
from collections.abc import Iterator

import msgspec

from plumbob.checks.registry import WORKLOADS, Hit, Origin, check
from plumbob.checks.resilience.training_no_shm_volume import has_memory_shm
from plumbob.knowledge.workload_roles import gpu_templates_by_workload
from plumbob.model.gpu import container_gpu_request
from plumbob.model.images import parse_image
from plumbob.model.objects import Container, GenericObject, as_list, dig
from plumbob.model.roles import WorkloadRole
from plumbob.model.snapshot import Snapshot
from plumbob.model.workloads import PodTemplate

WHY = """
A model server that splits a model over several GPUs of one pod (vLLM or SGLang tensor
parallelism, TGI shards, TensorRT-LLM) runs one process per GPU, and they exchange activations
through NCCL and the engines' own all-reduce, both of which place their buffers in /dev/shm.
Container runtimes give a pod 64 MiB there. The server then fails while it starts, with
"Error while creating shared memory segment /dev/shm/nccl-..." and `ncclSystemError`
(vllm-project/production-stack issues 95 and 276, sgl-project/sglang issue 4259), and the
Deployment crash-loops holding every GPU it asked for; or it starts, and fails later when a
larger batch needs larger buffers. A single-GPU server does not need it.

It applies to workloads whose role is serving and whose server is told to shard
(`--tensor-parallel-size`/`-tp`, `--tp`, `--num-shard`, `NUM_SHARD`, `--pipeline-parallel-size`
above 1), or is TGI on more than one GPU (it shards over every GPU it sees by default). An
InferenceService whose ServingRuntime is not in the input is not judged: the runtime holds the
server's arguments and volumes. A multi-GPU pod whose server is told nothing uses one GPU and
is not judged either.
"""

FIX = """
Mount a memory-backed emptyDir at /dev/shm (its size counts against the pod's memory limit;
a few GiB per GPU is typical):

    spec:
      volumes:
        - name: dshm
          emptyDir: {medium: Memory, sizeLimit: 16Gi}
      containers:
        - name: vllm
          volumeMounts:
            - {name: dshm, mountPath: /dev/shm}
"""

_SHARD_FLAGS = {
    "tensor_parallel_size": "--tensor-parallel-size",
    "tp": "--tensor-parallel-size",
    "tp_size": "--tp-size",
    "num_shard": "--num-shard",
    "pipeline_parallel_size": "--pipeline-parallel-size",
    "pp": "--pipeline-parallel-size",
}
"""Server flags (with `-` and `_` alike) that split a model over processes: vLLM
`--tensor-parallel-size`/`-tp`, `--pipeline-parallel-size`/`-pp`; SGLang `--tp`/`--tp-size`;
TGI `--num-shard`."""
_SHARD_ENV = ("NUM_SHARD", "TENSOR_PARALLEL_SIZE")
SHARDS_BY_DEFAULT = ("text-generation-inference",)
"""Servers that shard a model over every GPU they see unless told otherwise: TGI's launcher
defaults `--num-shard` to the visible GPUs. Other servers use one GPU unless a flag says more,
so a multi-GPU pod without one is not judged."""
_NUMBER = re.compile(r"^\d+$")


def shards(container: Container) -> tuple[str, int] | None:
    """(the flag or variable, the count) when the container's server is told to split the model
    over more than one process."""
    words: list[str] = []
    for part in [*container.command, *container.args]:
        words += part.split() if isinstance(part, str) else []
    best: tuple[str, int] | None = None
    for i, word in enumerate(words):
        if not word.startswith("-"):
            continue
        name, sep, value = word.lstrip("-").partition("=")
        key = name.replace("-", "_").lower()
        if key not in _SHARD_FLAGS:
            continue
        if not sep:
            value = words[i + 1] if i + 1 < len(words) else ""
        value = value.strip("'\"")
        if _NUMBER.match(value) and int(value) > 1 and (best is None or int(value) > best[1]):
            best = (_SHARD_FLAGS[key], int(value))
    for var in container.env:
        if var.name in _SHARD_ENV and var.value and _NUMBER.match(var.value.strip()):
            count = int(var.value.strip())
            if count > 1 and (best is None or count > best[1]):
                best = (f"env {var.name}", count)
    return best


def _runtime(snap: Snapshot, template: PodTemplate) -> GenericObject | bool | None:
    """For a KServe predictor served by a ServingRuntime: the runtime, or None when it is not in
    the input; False when the template is not such a predictor."""
    workload = template.workload
    if workload.kind != "InferenceService" or not isinstance(workload, GenericObject):
        return False
    model = dig(workload.spec, template.role or "predictor", "model")
    if not isinstance(model, dict):
        return False
    name = model.get("runtime")
    runtime = None
    for kind in ("ServingRuntime", "ClusterServingRuntime"):
        for obj in snap.generic(kind):
            namespace_ok = kind == "ClusterServingRuntime" or obj.namespace == workload.namespace
            if namespace_ok and (obj.name == name or (name is None and _supports(obj, model))):
                runtime = obj
                break
        if runtime is not None:
            break
    return runtime


def _runtime_containers(runtime: GenericObject) -> list[Container]:
    out: list[Container] = []
    for raw in as_list(dig(runtime.spec, "containers")):
        try:
            out.append(msgspec.convert(raw, Container))
        except msgspec.ValidationError:
            continue
    return out


def _runtime_shm(runtime: GenericObject) -> bool:
    """Whether a ServingRuntime gives its server a memory-backed /dev/shm."""
    spec = runtime.spec if isinstance(runtime.spec, dict) else {}
    if spec.get("hostIPC") is True:
        return True
    memory = {
        v.get("name")
        for v in as_list(spec.get("volumes"))
        if isinstance(v, dict) and dig(v, "emptyDir", "medium") == "Memory"
    }
    return any(
        isinstance(m, dict)
        and str(m.get("mountPath", "")).rstrip("/") == "/dev/shm"
        and m.get("name") in memory
        for c in as_list(spec.get("containers"))
        if isinstance(c, dict)
        for m in as_list(c.get("volumeMounts"))
    )


def _supports(runtime: GenericObject, model: dict[str, object]) -> bool:
    """Whether a runtime lists the model's format (how KServe picks one when none is named)."""
    wanted = dig(model, "modelFormat", "name")
    return any(
        isinstance(f, dict) and str(f.get("name", "")).lower() == str(wanted).lower()
        for f in as_list(dig(runtime.spec, "supportedModelFormats"))
    )


@check(
    id="gpu-serving-no-shm-volume",
    category="resilience",
    severity="medium",
    reads=(WORKLOADS,),
    consults=("Service", "ServingRuntime", "ClusterServingRuntime"),
    title="Multi-GPU model server has no memory-backed /dev/shm",
    why=WHY,
    fix=FIX,
    references=(
        "https://github.com/vllm-project/production-stack/issues/95",
        "https://github.com/vllm-project/production-stack/issues/276",
        "https://github.com/sgl-project/sglang/issues/4259",
        "https://docs.vllm.ai/en/stable/deployment/k8s.html",
    ),
    origin=Origin(
        "https://github.com/vllm-project/production-stack/issues/95",
        "A vLLM production-stack deployment with --tensor-parallel-size 2 failed with "
        '"Error while creating shared memory segment /dev/shm/nccl-..." because its pod had '
        "no memory-backed /dev/shm.",
    ),
)
def gpu_serving_no_shm_volume(snap: Snapshot) -> Iterator[Hit]:
    for _, templates in gpu_templates_by_workload(snap, WorkloadRole.SERVING):
        hit = next((h for t in templates for h in _template_hits(snap, t)), None)
        if hit is not None:
            yield hit


def _template_hits(snap: Snapshot, template: PodTemplate) -> Iterator[Hit]:
    """The finding about one GPU template of a serving workload, if any."""
    workload = template.workload
    runtime = _runtime(snap, template)
    if runtime is None:
        return  # the ServingRuntime, which holds the server and its volumes, is elsewhere
    containers = list(template.spec.containers)
    if isinstance(runtime, GenericObject):
        containers += _runtime_containers(runtime)
    reason = _multi_gpu(template, containers)
    if reason is None:
        return
    if has_memory_shm(template) or (isinstance(runtime, GenericObject) and _runtime_shm(runtime)):
        return
    role = f" ({template.role})" if template.role else ""
    yield Hit(
        workload,
        f"{workload.kind} {workload.namespace or 'default'}/{workload.name}{role} {reason} "
        f"with the default 64 MiB /dev/shm: NCCL cannot create its shared-memory segments",
        evidence={"why": reason, "replicas": template.replicas},
        path=f"{template.path}.volumes",
    )


def _multi_gpu(template: PodTemplate, containers: list[Container]) -> str | None:
    """Why the pod runs one model over several GPUs, or None."""
    for container in containers:
        sharded = shards(container)
        if sharded is not None:
            return f"shards its model over {sharded[1]} processes ({sharded[0]})"
    for container in template.spec.containers:
        gpus = container_gpu_request(container)
        image = parse_image(container.image).repository if container.image else ""
        if not math.isnan(gpus) and gpus > 1 and any(s in image for s in SHARDS_BY_DEFAULT):
            return (
                f"shards its model over the {gpus:g} GPUs of container {container.name!r} "
                "(the server's default)"
            )
    return None
