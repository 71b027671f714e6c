"""GPU workloads that run privileged, with SYS_ADMIN, in the host's IPC or PID namespace, or
with the host's GPU devices or driver mounted."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

from plumbob.checks.registry import WORKLOADS, Hit, Origin, check
from plumbob.knowledge.gpu_host_paths import gpu_host_path
from plumbob.knowledge.workload_roles import role_of
from plumbob.model.gpu import containers_gpu_request, gpu_count_unknown, gpus_text, pod_uses_gpu
from plumbob.model.objects import Container, as_list
from plumbob.model.roles import WorkloadRole
from plumbob.model.snapshot import Snapshot
from plumbob.model.workloads import PodTemplate

WHY = """
The device plugin and the NVIDIA container toolkit give a GPU pod exactly the devices it was
allocated. A privileged container sees every device node of the node, so a pod allocated one
GPU reaches all eight (kubernetes/kubernetes issue 46007; NVIDIA/nvidia-docker issue 1686: a
privileged sidecar sees every /dev/nvidia* despite its limit), and nothing stops it from using
another team's GPUs, reading their memory or resetting them. SYS_ADMIN and hostPath mounts of
/dev/nvidia*, the driver's libraries or /run/nvidia let a container tamper with the driver and
the toolkit every other pod on the node depends on; hostPID shows every process on the node,
other tenants' training jobs included; hostIPC shares the node's shared memory, which is how a
pod reads another's NCCL buffers. For a GPU node, typically shared by several teams and worth
tens of dollars an hour, a compromised or buggy workload with these rights takes the node's
GPUs with it. High. The GPU operator's own DaemonSets (driver, toolkit, device plugin,
validator, DCGM) need this access to install and manage the driver: workloads whose role is
`system` (plumbob's role evidence: the platform's namespaces and images) are not reported.
"""

FIX = """
Request GPUs through the scheduler and drop the host access; the container toolkit mounts the
allocated devices and driver libraries itself:

    securityContext:
      privileged: false
      allowPrivilegeEscalation: false
      capabilities: {drop: [ALL]}
    resources:
      limits: {nvidia.com/gpu: 1}
    # no hostIPC/hostPID, no hostPath /dev/nvidia*, /run/nvidia or driver libraries

For shared memory (the usual reason for hostIPC: PyTorch DataLoader workers, NCCL), mount a
memory-backed emptyDir at /dev/shm instead:

    volumes: [{name: dshm, emptyDir: {medium: Memory, sizeLimit: 16Gi}}]
    volumeMounts: [{name: dshm, mountPath: /dev/shm}]

Enforce it for team namespaces with Pod Security admission
(`pod-security.kubernetes.io/enforce: baseline`), leaving the GPU operator's namespace
privileged.
"""

_DANGEROUS_CAPABILITIES = frozenset({"SYS_ADMIN", "SYS_MODULE", "ALL"})


def _capabilities(container: Container) -> list[str]:
    context = container.security_context if isinstance(container.security_context, dict) else {}
    caps = context.get("capabilities")
    added = as_list(caps.get("add")) if isinstance(caps, dict) else []
    return [
        cap
        for cap in added
        if isinstance(cap, str) and cap.upper().removeprefix("CAP_") in _DANGEROUS_CAPABILITIES
    ]


def _access(template: PodTemplate) -> tuple[list[str], list[dict[str, Any]], str]:
    """(what gives host access, in words; the same as evidence; the field path of the first)."""
    spec = template.spec
    said: list[str] = []
    found: list[dict[str, Any]] = []
    first = ""
    for field, value in (("hostPID", spec.host_pid), ("hostIPC", spec.host_ipc)):
        if value is True:
            said.append(field)
            found.append({"access": field})
            first = first or f"{template.path}.{field}"
    host_volumes: dict[str, tuple[str, Any]] = {}
    for volume in spec.volumes:
        host = volume.host_path.get("path") if isinstance(volume.host_path, dict) else None
        if isinstance(host, str):
            reached = gpu_host_path(host)
            if reached is not None:
                host_volumes[volume.name] = (host, reached)
    for path, container in template.containers():
        context = container.security_context if isinstance(container.security_context, dict) else {}
        if context.get("privileged") is True:
            said.append(f"privileged (container {container.name!r})")
            found.append({"access": "privileged", "container": container.name})
            first = first or f"{path}.securityContext.privileged"
        caps = _capabilities(container)
        if caps:
            said.append(f"capabilities {', '.join(caps)} (container {container.name!r})")
            found.append({"access": "capabilities", "container": container.name, "add": caps})
            first = first or f"{path}.securityContext.capabilities.add"
        for i, mount in enumerate(container.volume_mounts):
            if mount.name not in host_volumes:
                continue
            host, reached = host_volumes[mount.name]
            where = f"above {reached.entry}, " if reached.above else ""
            said.append(
                f"hostPath {host} ({where}{reached.what}) mounted at {mount.mount_path} "
                f"(container {container.name!r})"
            )
            found.append(
                {
                    "access": "hostPath",
                    "container": container.name,
                    "path": host,
                    "reaches": reached.entry,
                    "source": reached.source,
                }
            )
            first = first or f"{path}.volumeMounts[{i}]"
    return said, found, first


@check(
    id="gpu-workload-host-access",
    category="gpu",
    severity="high",
    reads=(WORKLOADS,),
    consults=("Service",),
    title="GPU workload runs privileged or with the host's GPU devices, driver or namespaces",
    why=WHY,
    fix=FIX,
    references=(
        "https://github.com/kubernetes/kubernetes/issues/46007",
        "https://github.com/NVIDIA/nvidia-docker/issues/1686",
        "https://kubernetes.io/docs/concepts/security/pod-security-standards/#baseline",
        "https://docs.nvidia.com/datacenter/cloud-native/container-toolkit/latest/docker-specialized.html#gpu-enumeration",
    ),
    origin=Origin(
        "https://github.com/ome-projects/ome/issues/833",
        "An RDMA webhook made a tensor-parallel vLLM decoder privileged, so it saw the "
        "node's raw GPUs, crashed on a GPU held by a CI job and could squat on GPUs "
        "allocated to other pods.",
    ),
)
def gpu_workload_host_access(snap: Snapshot) -> Iterator[Hit]:
    for template in snap.pod_templates:
        spec = template.spec
        if not pod_uses_gpu(spec, template.metadata.annotations):
            continue
        said, found, first = _access(template)
        if not found:
            continue
        if role_of(snap, template.workload).role == WorkloadRole.SYSTEM:
            continue  # the GPU stack's own agents need this access (see WHY)
        containers = spec.all_containers
        known = containers_gpu_request(containers)
        unknown = gpu_count_unknown(containers)
        if known == 1 and not unknown:
            gets = "requests 1 GPU"
        elif known or unknown:
            gets = f"requests {gpus_text(known, unknown)}"
        else:
            gets = "gets GPUs through a resource claim or a GPU-share annotation"
        part = f" ({template.role})" if template.role else ""
        yield Hit(
            template.workload,
            f"{template.kind} {template.workload.name}{part} {gets} and runs with host access "
            f"that bypasses GPU isolation: {'; '.join(said)}",
            evidence={
                "access": found,
                "gpus": None if unknown or math.isnan(known) else known,
                "template": template.path,
            },
            path=first,
        )
