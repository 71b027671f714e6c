"""GPU containers that ask for GPUs and say nothing about the memory they need."""

from __future__ import annotations

import math
from collections.abc import Iterator

from plumbob.checks.registry import WORKLOADS, Hit, Origin, check
from plumbob.model.gpu import container_gpu_request
from plumbob.model.objects import Container, as_list, dig
from plumbob.model.snapshot import Snapshot
from plumbob.model.workloads import PodTemplate

WHY = """
A container that asks for `nvidia.com/gpu` and sets no memory request or limit gets the node's
GPU and none of its memory. The scheduler places it without counting the tens of GiB a model
or a data loader takes, so it lands beside pods that already use the node's memory; when the
node runs short, the kubelet evicts first the pods whose use most exceeds their request, and a
request of 0 is exceeded by every byte. Extended resources such as GPUs do not count for the
QoS class: a pod whose containers set no CPU or memory at all is BestEffort, the first to be
evicted and the first the kernel's OOM killer picks. What users see is a training step failed
with "The node was low on resource: memory. Container main was using 1783932Ki, which exceeds
its request of 0" (kubeflow/pipelines issue 4275; the same on GKE with GPUs in
GoogleCloudPlatform/kubeflow-distribution issue 295, and TFJob masters evicted again and again
in kubeflow/trainer issue 301): hours of GPU time lost since the last checkpoint, or a model
server that reloads its weights after every eviction.

A LimitRange in the namespace whose Container default or defaultRequest sets memory gives the
container a request at admission, so the check does not fire there; without LimitRange objects
in the input the finding says it could not tell. A memory limit alone is enough (Kubernetes
copies it into the request). Medium: the GPU itself is reserved, and the failure needs memory
pressure on the node, which shared GPU nodes see often.
"""

FIX = """
Request the memory the container needs at its peak (model weights loaded into host memory,
data-loader workers, pinned buffers) and set the same limit, so the pod is Guaranteed or at
least Burstable and is scheduled where that memory is free:

    resources:
      requests: {nvidia.com/gpu: 1, cpu: "8", memory: 64Gi}
      limits:   {nvidia.com/gpu: 1, memory: 64Gi}

Or give the namespace a default with a LimitRange (type Container, `defaultRequest.memory`
and `default.memory`), which admission applies to containers that set none.
"""


def _sets_memory(container: Container) -> bool:
    resources = container.resources
    return "memory" in resources.requests or "memory" in resources.limits


def _limit_range_defaults(snap: Snapshot) -> dict[str, str]:
    """Namespace → the LimitRange that gives containers a default memory request there."""
    out: dict[str, str] = {}
    for obj in snap.generic("LimitRange"):
        for item in as_list(dig(obj.spec, "limits")):
            if not isinstance(item, dict) or item.get("type", "Container") != "Container":
                continue
            if dig(item, "defaultRequest", "memory") is not None or (
                dig(item, "default", "memory") is not None
            ):
                out.setdefault(obj.namespace or "default", obj.name)
    return out


def _bare_gpu_containers(template: PodTemplate) -> list[str]:
    """Names of the template's GPU containers that set no memory request or limit."""
    out = []
    for container in template.spec.containers:
        gpus = container_gpu_request(container)
        if (math.isnan(gpus) or gpus > 0) and not _sets_memory(container):
            out.append(container.name)
    return out


def _best_effort(template: PodTemplate) -> bool:
    """Whether the pod's QoS class is BestEffort: no container sets CPU or memory."""
    for container in template.spec.all_containers:
        for amounts in (container.resources.requests, container.resources.limits):
            if "cpu" in amounts or "memory" in amounts:
                return False
    return True


@check(
    id="gpu-workload-no-memory-request",
    category="resilience",
    severity="medium",
    reads=(WORKLOADS,),
    consults=("LimitRange",),
    title="GPU container sets no memory request or limit",
    why=WHY,
    fix=FIX,
    references=(
        "https://github.com/kubeflow/pipelines/issues/4275",
        "https://github.com/GoogleCloudPlatform/kubeflow-distribution/issues/295",
        "https://github.com/kubeflow/trainer/issues/301",
        "https://kubernetes.io/docs/concepts/scheduling-eviction/node-pressure-eviction/",
        "https://kubernetes.io/docs/concepts/workloads/pods/pod-qos/",
    ),
    origin=Origin(
        "https://github.com/kubeflow/pipelines/issues/4275",
        "A Kubeflow pipeline's training step failed with 'The node was low on resource: memory. "
        "Container main was using 1783932Ki, which exceeds its request of 0': it set no memory "
        "request, so it was the first pod the kubelet evicted.",
    ),
)
def gpu_workload_no_memory_request(snap: Snapshot) -> Iterator[Hit]:
    seen_limit_ranges = bool(snap.generic("LimitRange"))
    defaults = _limit_range_defaults(snap)
    by_workload: dict[int, list[tuple[PodTemplate, list[str]]]] = {}
    for template in snap.gpu_templates:
        if (template.workload.namespace or "default") in defaults:
            continue
        names = _bare_gpu_containers(template)
        if names:
            by_workload.setdefault(id(template.workload), []).append((template, names))
    for found in by_workload.values():
        first = found[0][0]
        workload = first.workload
        containers = [
            f"{template.role}/{name}" if template.role else name
            for template, names in found
            for name in names
        ]
        best_effort = any(_best_effort(template) for template, _ in found)
        listed = ", ".join(repr(c) for c in containers)
        subject = f"containers {listed} set" if len(containers) > 1 else f"container {listed} sets"
        qos = "BestEffort, the first to be evicted" if best_effort else "among the first evicted"
        unseen = "" if seen_limit_ranges else " (no LimitRange in the input)"
        yield Hit(
            workload,
            f"{workload.kind} {workload.namespace or 'default'}/{workload.name}: GPU {subject} "
            f"no memory request or limit{unseen}; under memory pressure the pod is {qos}",
            evidence={
                "containers": containers,
                "bestEffort": best_effort,
                "limitRangesSeen": seen_limit_ranges,
            },
            path=f"{first.path}.containers",
        )
