"""Containers that reach GPUs without requesting them, bypassing device-plugin isolation."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from plumbob.checks.registry import WORKLOADS, Hit, Origin, check
from plumbob.knowledge.components import is_gpu_stack
from plumbob.model.gpu import pod_uses_gpu
from plumbob.model.objects import Container, as_list
from plumbob.model.snapshot import Snapshot
from plumbob.model.workloads import PodTemplate

WHY = """
The device plugin hands each pod exactly the GPUs it requested and the scheduler counts them.
A container that sets NVIDIA_VISIBLE_DEVICES itself, runs privileged or mounts /dev/nvidia*
from the host sees GPUs the scheduler never gave it, often every GPU on the node: it competes
with the training or inference pod that was allocated them (out-of-memory on the GPU, halved
throughput), reads their memory, and hides from quotas and GPU accounting.

CUDA_VISIBLE_DEVICES grants nothing by itself: it picks among the GPUs a container already
sees. Set on a pod that requests no GPU but is aimed at GPU nodes (a GPU node selector or
affinity, a GPU taint toleration, the NVIDIA runtime class), it is the other half of the same
trick: the CUDA images' NVIDIA_VISIBLE_DEVICES=all and a node whose default runtime is NVIDIA's
expose every GPU, and the variable chooses one by hand, as teams "share" GPUs outside the
scheduler. The GPU it picks is usually the one the device plugin gave to another pod.
"""

FIX = """
Request the GPU through the scheduler and drop the manual access:

    resources:
      limits:
        nvidia.com/gpu: 1
    # no NVIDIA_VISIBLE_DEVICES or CUDA_VISIBLE_DEVICES env, no privileged: true,
    # no hostPath /dev/nvidia*

Make the NVIDIA container runtime ignore the variable for unprivileged pods
(`accept-nvidia-visible-devices-envvar-when-unprivileged = false` in
/etc/nvidia-container-runtime/config.toml; the GPU operator's
`devicePlugin.env DEVICE_LIST_STRATEGY=volume-mounts`) and forbid privileged pods outside the GPU
stack's namespaces with Pod Security admission (`pod-security.kubernetes.io/enforce: baseline`).
"""

_NO_DEVICES = ("", "void", "none")
_CUDA_NO_DEVICES = ("", "void", "none", "nodevfiles")
"""CUDA_VISIBLE_DEVICES values that hide every GPU (as does any value starting with a
negative index, `-1`: CUDA stops reading the list at the first invalid entry)."""


def _cuda_picks_devices(value: str) -> bool:
    """CUDA_VISIBLE_DEVICES=`value` names at least one device (an index, a GPU-/MIG- UUID)."""
    value = value.strip().lower()
    return value not in _CUDA_NO_DEVICES and not value.startswith("-")


def _gpu_intent(template: PodTemplate) -> bool:
    """The template aims at GPU nodes: NVIDIA runtime class, GPU taint toleration or GPU
    node labels in its selector."""
    spec = template.spec
    if spec.runtime_class_name and "nvidia" in spec.runtime_class_name:
        return True
    if any(t.key and t.key.startswith("nvidia.com/") for t in spec.tolerations):
        return True
    keys = [*spec.node_selector, *_affinity_keys(spec.affinity)]
    return any(k.startswith(_GPU_LABEL_PREFIXES) for k in keys)


_GPU_LABEL_PREFIXES = (
    "nvidia.com/",
    "feature.node.kubernetes.io/pci-10de",
    "cloud.google.com/gke-accelerator",
    "karpenter.k8s.aws/instance-gpu",
)


def _affinity_keys(affinity: Any) -> Iterator[str]:
    """Label keys a node affinity asks to be present (In/Exists/Gt), required or preferred;
    NotIn/DoesNotExist keep pods away from GPU nodes and do not count."""
    node_affinity = affinity.get("nodeAffinity") if isinstance(affinity, dict) else None
    if not isinstance(node_affinity, dict):
        return
    required = node_affinity.get("requiredDuringSchedulingIgnoredDuringExecution")
    preferred = node_affinity.get("preferredDuringSchedulingIgnoredDuringExecution")
    terms = [
        *(as_list(required.get("nodeSelectorTerms")) if isinstance(required, dict) else []),
        *(p.get("preference") for p in as_list(preferred) if isinstance(p, dict)),
    ]
    for term in terms:
        for expr in as_list(term.get("matchExpressions")) if isinstance(term, dict) else []:
            if isinstance(expr, dict) and expr.get("operator") in ("In", "Exists", "Gt"):
                yield str(expr.get("key", ""))


def _bypasses(
    template: PodTemplate, container: Container, dev_mounts: dict[str, str], intent: bool
) -> list[str]:
    found = []
    visible = container.env_value("NVIDIA_VISIBLE_DEVICES")
    if visible is not None and visible.strip().lower() not in _NO_DEVICES:
        found.append(f"NVIDIA_VISIBLE_DEVICES={visible}")
    cuda = container.env_value("CUDA_VISIBLE_DEVICES")
    if intent and cuda is not None and _cuda_picks_devices(cuda):
        found.append(f"CUDA_VISIBLE_DEVICES={cuda} on a pod aimed at GPU nodes")
    for mount in container.volume_mounts:
        host = dev_mounts.get(mount.name)
        if host and (host.startswith("/dev/nvidia") or (host.rstrip("/") == "/dev" and intent)):
            found.append(f"hostPath {host} mounted at {mount.mount_path}")
    privileged = (container.security_context or {}).get("privileged") is True
    if privileged and (intent or found):
        found.append("privileged")
    return found


@check(
    id="gpu-access-bypasses-device-plugin",
    category="gpu",
    severity="high",
    reads=(WORKLOADS,),
    title="Container reaches GPUs without requesting them",
    why=WHY,
    fix=FIX,
    references=(
        "https://docs.nvidia.com/datacenter/cloud-native/container-toolkit/latest/docker-specialized.html#gpu-enumeration",
        "https://developer.nvidia.com/blog/cuda-pro-tip-control-gpu-visibility-cuda_visible_devices/",
        "https://github.com/kubernetes/kubernetes/issues/52757",
        "https://github.com/NVIDIA/gpu-operator/issues/345",
        "https://kubernetes.io/docs/concepts/security/pod-security-standards/#baseline",
        "https://kubernetes.io/docs/tasks/manage-gpus/scheduling-gpus/",
    ),
    origin=Origin(
        "https://github.com/NVIDIA/k8s-device-plugin/issues/87",
        "A pod that requested no GPU saw every GPU of its node through the NVIDIA container "
        "runtime, outside the device plugin's accounting.",
    ),
)
def gpu_access_bypasses_device_plugin(snap: Snapshot) -> Iterator[Hit]:
    for template in snap.pod_templates:
        spec = template.spec
        if pod_uses_gpu(spec, template.metadata.annotations):
            continue
        if is_gpu_stack(template.namespace, (c.image for c in spec.all_containers)):
            continue
        dev_mounts = {
            v.name: str((v.host_path or {}).get("path", "")) for v in spec.volumes if v.host_path
        }
        intent = _gpu_intent(template)
        for path, container in template.containers():
            found = _bypasses(template, container, dev_mounts, intent)
            if not found:
                continue
            yield Hit(
                template.workload,
                f"container {container.name!r} of {template.kind} {template.workload.name} "
                f"requests no GPU but reaches GPUs directly: {', '.join(found)}",
                evidence={"container": container.name, "access": found, "role": template.role},
                path=path,
            )
