"""Inference served from time-sliced or MPS-shared GPUs."""

from __future__ import annotations

from collections.abc import Iterator

from plumbob.checks.registry import WORKLOADS, Hit, Origin, check
from plumbob.knowledge.workload_roles import role_of
from plumbob.model.gpu import container_gpu_resources, pod_uses_gpu
from plumbob.model.objects import Object, Pod
from plumbob.model.roles import WorkloadRole
from plumbob.model.snapshot import Snapshot

WHY = """
Time-slicing and MPS let several pods share one GPU without memory or fault isolation: a
neighbour's batch job or notebook takes GPU memory and compute cycles, so an inference
service's latency swings with whatever else landed on the GPU, and one process exhausting GPU
memory can fail the others. Fine for development; for production serving prefer whole GPUs or
MIG slices, which isolate memory and compute.

It applies to workloads whose role is serving (an InferenceService, a LeaderWorkerSet, a
Deployment behind a Service or running a known model server): training demos, notebooks and GPU
tests on shared GPUs are what sharing is for.
"""

FIX = """
Serve production models from a pool without sharing (or with MIG), and keep time-slicing for
development pools:

    spec:
      template:
        spec:
          nodeSelector:
            nvidia.com/gpu.sharing-strategy: none
          containers:
          - resources:
              limits:
                nvidia.com/gpu: 1          # not nvidia.com/gpu.shared

With the GPU operator, give shared pools their own device-plugin config
(`nvidia.com/device-plugin.config` label) and `renameByDefault: true`, so shared GPUs appear
as nvidia.com/gpu.shared and cannot be taken by mistake.
"""


def _top(snap: Snapshot, obj: Object) -> Object:
    return snap.workload_of(obj)


def _serving(snap: Snapshot, obj: Object) -> bool:
    return role_of(snap, obj).role == WorkloadRole.SERVING


@check(
    id="gpu-sharing-on-inference",
    category="gpu",
    severity="info",
    reads=(WORKLOADS,),
    consults=("Node", "Service"),
    title="Inference runs on time-sliced or MPS-shared GPUs",
    why=WHY,
    fix=FIX,
    references=(
        "https://docs.nvidia.com/datacenter/cloud-native/gpu-operator/latest/gpu-sharing.html",
        "https://github.com/NVIDIA/k8s-device-plugin#shared-access-to-gpus",
    ),
    origin=Origin(
        "https://github.com/NVIDIA/k8s-device-plugin/issues/461",
        "With 4 GPUs time-sliced 4 ways, TensorFlow pods crashed as soon as more of them "
        "worked at once than there were physical GPUs.",
    ),
)
def gpu_sharing_on_inference(snap: Snapshot) -> Iterator[Hit]:
    reported: set[int] = set()
    for template in snap.gpu_templates:
        if not _serving(snap, template.workload):
            continue
        shared = [
            r
            for c in template.spec.containers
            for r in container_gpu_resources(c)
            if r == "nvidia.com/gpu.shared"
        ]
        if shared and id(template.workload) not in reported:
            reported.add(id(template.workload))
            yield Hit(
                template.workload,
                f"{template.kind} {template.workload.name} serves from shared GPUs "
                f"(requests nvidia.com/gpu.shared)",
                evidence={"resource": "nvidia.com/gpu.shared"},
                path=f"{template.path}.containers",
            )
    gpus = snap.node_gpus
    shared_nodes = {n.name for n in snap.gpu_nodes if gpus[n.name].shared}
    by_workload: dict[int, tuple[Object, set[str]]] = {}
    for name in sorted(shared_nodes):
        for pod in snap.pods_by_node.get(name, ()):
            if pod.status.phase in ("Succeeded", "Failed") or not _uses_gpu(pod):
                continue
            top = _top(snap, pod)
            if not _serving(snap, top) or id(top) in reported:
                continue
            by_workload.setdefault(id(top), (top, set()))[1].add(name)
    for top, nodes in by_workload.values():
        g = gpus[sorted(nodes)[0]]
        how = g.sharing_strategy or (
            "renamed shared resource" if "nvidia.com/gpu.shared" in g.offered else "sharing"
        )
        yield Hit(
            top,
            f"{top.kind} {top.name} serves from {len(nodes)} node(s) with {how} GPUs "
            f"(replicas {g.replicas or '?'} per GPU): {', '.join(sorted(nodes)[:5])}",
            evidence={
                "nodes": sorted(nodes)[:20],
                "sharing_strategy": g.sharing_strategy,
                "replicas": g.replicas,
            },
        )


def _uses_gpu(pod: Pod) -> bool:
    return pod_uses_gpu(pod.spec, pod.annotations)
