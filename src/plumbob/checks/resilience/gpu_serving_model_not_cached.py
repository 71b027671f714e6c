"""GPU model servers that download their model from a hub on every start."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator
from dataclasses import dataclass

from plumbob.checks.registry import WORKLOADS, Hit, Origin, check
from plumbob.knowledge.workload_roles import first_found
from plumbob.model.gpu import container_gpu_request
from plumbob.model.images import parse_image
from plumbob.model.objects import Container, GenericObject, Volume, dig
from plumbob.model.roles import WorkloadRole
from plumbob.model.snapshot import Snapshot
from plumbob.model.workloads import PodTemplate

WHY = """
A model server started with a hub model id (`vllm serve meta-llama/Llama-3.1-70B-Instruct`,
TGI's `--model-id`, SGLang's `--model-path`) downloads the weights into its Hugging Face cache
when it starts. When that cache is the container's own filesystem or an emptyDir, every new pod
downloads them again: each rollout, each node drain or spot reclaim, each replica the autoscaler
adds. For a 70B model that is about 140 GB per pod, minutes to tens of minutes before the pod is
ready while its GPUs are held and idle (defilantech/LLMKube issue 52: "26-40GB+ downloads each
time, 10-30+ minutes waiting"), and several pods starting at once are throttled by the hub:
llm-d's CoreWeave overlay shipped without the shared cache its GKE overlay had, "leaving
CoreWeave pods without a shared model cache across restarts and exposed to Xet CDN 429s when
multiple pods pull the model at once" (llm-d/llm-d pull request 2528). Scaling up under load
then adds capacity only after the download, and a hub outage or a revoked token stops every
restart.

The check reads the server's arguments and environment for the model and the cache path
(`--download-dir`, `HF_HUB_CACHE`, `HUGGINGFACE_HUB_CACHE`, `TRANSFORMERS_CACHE`, `HF_HOME`,
TGI's and TEI's default `/data`, otherwise `/root/.cache/huggingface`) and the volume mounted
there. A PersistentVolumeClaim, a hostPath (a node-local cache), NFS, CSI or an image volume
counts as a cache; an emptyDir or a generic ephemeral volume lives and dies with the pod. A
KServe InferenceService whose `storageUri` is not a `pvc://` claim, an `oci://` modelcar image,
or kept by a LocalModelCache is downloaded by KServe's storage initializer into an emptyDir on
every pod start, the same cost, and so is an LLMInferenceService's `model.uri` (its well-known
config mounts the model cache as an emptyDir) unless its storage initializer is turned off. A
model given as a local path, and a server told to stay offline (`HF_HUB_OFFLINE=1`), are not
judged. Medium: nothing breaks at once; each new pod costs GPU-minutes and availability.
"""

FIX = """
Keep the weights where pods find them again: a PersistentVolumeClaim (ReadOnlyMany or
ReadWriteMany, filled once by a Job), a node-local hostPath cache, or KServe's LocalModelCache;
mount it at the server's cache path and, once filled, set `HF_HUB_OFFLINE=1`:

    env:
      - {name: HF_HOME, value: /models/huggingface}
    volumeMounts:
      - {name: model-cache, mountPath: /models}
    ...
    volumes:
      - name: model-cache
        persistentVolumeClaim: {claimName: llama-70b-weights, readOnly: true}
"""

_MODEL_FLAGS = frozenset({"model", "model_id", "model_path"})
"""Flags (with `-` and `_` alike) that name the model to serve: vLLM `--model`, TGI `--model-id`,
SGLang `--model-path`, KServe's Hugging Face server `--model_id`."""
_MODEL_ENV = ("MODEL_ID", "HF_MODEL_ID")
_CACHE_FLAGS = frozenset({"download_dir", "huggingface_hub_cache"})
_CACHE_ENV = ("HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE", "TRANSFORMERS_CACHE")
_OFFLINE_ENV = ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")
_TRUE = frozenset({"1", "true", "yes", "on"})
_DEFAULT_CACHE = "/root/.cache/huggingface"
_IMAGE_CACHE = (
    ("huggingface-text-generation-inference", "/tmp"),
    ("text-generation-inference", "/data"),
    ("text-embeddings-inference", "/data"),
)
"""Servers whose image sets the cache elsewhere, most specific first: Google's Hugging Face TGI
containers set HUGGINGFACE_HUB_CACHE=/tmp (as Hugging Face's GKE samples note beside their /tmp
volume), TGI's own image HF_HOME=/data, TEI's HUGGINGFACE_HUB_CACHE=/data."""
_KEPT_SCHEMES = ("pvc://", "oci://")
"""KServe storage URIs that are not downloaded per pod: a claim, or a modelcar image that the
node's container runtime pulls once and keeps."""
_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")


@dataclass(frozen=True, slots=True)
class _Download:
    model: str
    cache: str
    volume: str
    """What holds the cache: 'the container filesystem', 'emptyDir volume x', ..."""


def _words(container: Container) -> list[str]:
    out: list[str] = []
    for part in [*container.command, *container.args]:
        out += part.split() if isinstance(part, str) else []
    return [w.strip("'\"") for w in out]


def _flag_values(words: list[str], names: frozenset[str]) -> list[str]:
    out = []
    for i, word in enumerate(words):
        if not word.startswith("--"):
            continue
        name, sep, value = word[2:].partition("=")
        if name.replace("-", "_").lower() in names:
            out.append(value if sep else (words[i + 1] if i + 1 < len(words) else ""))
    return out


def hub_model(container: Container) -> str | None:
    """The hub model id the container's server is told to serve, or None."""
    words = _words(container)
    candidates = _flag_values(words, _MODEL_FLAGS)
    for i, word in enumerate(words[:-1]):
        if word == "serve" and i > 0 and words[i - 1].endswith("vllm"):
            candidates.append(words[i + 1])
    candidates += [v for v in (container.env_value(n) for n in _MODEL_ENV) if v]
    for value in candidates:
        if _HUB_ID.match(value) and not value.startswith(("models/", "data/", "mnt/")):
            return value
    return None


def _env(container: Container, name: str) -> str | None:
    value = container.env_value(name)
    return value.strip() if value else None


def cache_path(container: Container) -> str:
    """Where the server keeps downloaded weights."""
    flags = _flag_values(_words(container), _CACHE_FLAGS)
    if flags and flags[0].startswith("/"):
        return flags[0]
    for name in _CACHE_ENV:
        value = _env(container, name)
        if value and value.startswith("/"):
            return value
    home = _env(container, "HF_HOME")
    if home and home.startswith("/"):
        return posixpath.join(home, "hub")
    repository = parse_image(container.image).repository if container.image else ""
    for server, path in _IMAGE_CACHE:
        if server in repository:
            return path
    return _DEFAULT_CACHE


def _holder(template: PodTemplate, container: Container, path: str) -> str | None:
    """What holds `path` when it does not outlive the pod; None when a lasting volume does."""
    best = None
    for mount in container.volume_mounts:
        root = mount.mount_path.rstrip("/") or "/"
        if (path == root or path.startswith(root + "/") or root == "/") and (
            best is None or len(root) > len(best.mount_path.rstrip("/"))
        ):
            best = mount
    if best is None:
        return "the container's own filesystem"
    volume = next((v for v in template.spec.volumes if v.name == best.name), None)
    if volume is None:
        return None  # a StatefulSet's volumeClaimTemplate, or a volume not shown
    return _fleeting(volume)


def _fleeting(volume: Volume) -> str | None:
    if volume.empty_dir is not None:
        return f"emptyDir volume {volume.name!r}"
    if volume.ephemeral is not None:
        return f"ephemeral volume {volume.name!r} (a new claim for each pod)"
    return None


def storage_uri(template: PodTemplate) -> str | None:
    """A KServe predictor's `storageUri` (new `model:` form or a framework key), an
    LLMInferenceService's `model.uri` for its model server pods (unless its storage
    initializer is turned off: the model then comes some other way), or None."""
    workload = template.workload
    if not isinstance(workload, GenericObject):
        return None
    if workload.kind == "LLMInferenceService":
        uri = dig(workload.spec, "model", "uri")
        initializer = dig(workload.spec, "storageInitializer", "enabled")
        if template.role == "scheduler" or initializer is False or not isinstance(uri, str):
            return None
        return uri or None
    if workload.kind != "InferenceService":
        return None
    component = dig(workload.spec, template.role or "predictor")
    if not isinstance(component, dict):
        return None
    for key, value in component.items():
        uri = dig(value, "storageUri") if isinstance(value, dict) and key != "containers" else None
        if isinstance(uri, str) and uri:
            return uri
    return None


def _cached_uris(snap: Snapshot) -> frozenset[str]:
    """Model URIs a KServe LocalModelCache keeps on the nodes (built once per snapshot:
    `snap.derived`)."""
    return frozenset(
        uri.rstrip("/")
        for obj in snap.generic("LocalModelCache")
        if isinstance(uri := dig(obj.spec, "sourceModelUri"), str)
    )


def download(template: PodTemplate, container: Container) -> _Download | None:
    """The container's model download that does not outlive the pod, or None."""
    model = hub_model(container)
    if model is None:
        return None
    if any((_env(container, n) or "").lower() in _TRUE for n in _OFFLINE_ENV):
        return None
    path = cache_path(container)
    holder = _holder(template, container, path)
    return None if holder is None else _Download(model, path, holder)


@check(
    id="gpu-serving-model-not-cached",
    category="resilience",
    severity="medium",
    reads=(WORKLOADS,),
    consults=("Service", "LocalModelCache"),
    title="GPU model server downloads its model on every start",
    why=WHY,
    fix=FIX,
    references=(
        "https://github.com/llm-d/llm-d/pull/2528",
        "https://github.com/llm-d/llm-d/issues/2523",
        "https://github.com/defilantech/LLMKube/issues/52",
        "https://kserve.github.io/website/docs/model-serving/storage/modelcache/localmodel",
        "https://huggingface.co/docs/huggingface_hub/package_reference/environment_variables",
        "https://docs.vllm.ai/en/stable/deployment/k8s.html",
    ),
    origin=Origin(
        "https://github.com/llm-d/llm-d/pull/2528",
        "llm-d's vLLM CoreWeave overlay had no shared Hugging Face cache: its pods downloaded "
        "the model again after every restart and were throttled (HTTP 429) by the hub's CDN "
        "when several pulled it at once.",
    ),
)
def gpu_serving_model_not_cached(snap: Snapshot) -> Iterator[Hit]:
    return first_found(snap, WorkloadRole.SERVING, lambda t: _template_hits(snap, t))


def _template_hits(snap: Snapshot, template: PodTemplate) -> Iterator[Hit]:
    workload = template.workload
    role = f" ({template.role})" if template.role else ""
    subject = f"{workload.kind} {workload.namespace or 'default'}/{workload.name}{role}"
    uri = storage_uri(template)
    if uri is not None:
        # KServe's storage initializer copies the model into an emptyDir before the server
        # starts, unless it is on a claim already, a LocalModelCache keeps it on the nodes,
        # or it is a modelcar (oci://), an image the node's runtime pulls and keeps.
        if not uri.startswith(_KEPT_SCHEMES) and uri.rstrip("/") not in snap.derived(_cached_uris):
            yield Hit(
                workload,
                f"{subject}: the storage initializer downloads {uri} into an emptyDir before "
                "the server starts: every new pod downloads it again",
                evidence={"model": uri, "holder": "storage initializer emptyDir"},
                path=f"{template.path}",
            )
        return
    for container in template.spec.containers:
        found = download(template, container) if container_gpu_request(container) else None
        if found is not None:
            yield Hit(
                workload,
                f"{subject}: container {container.name!r} downloads {found.model} into "
                f"{found.cache} on {found.volume}: every new pod downloads it again",
                evidence={"model": found.model, "cache": found.cache, "holder": found.volume},
                path=f"{template.path}.containers",
            )
