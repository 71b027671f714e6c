"""Clusters that serve Dynamic Resource Allocation while GPU workloads still use device-plugin
counts."""

from __future__ import annotations

from collections.abc import Iterator

from plumbob.checks.registry import WORKLOADS, Hit, Origin, check
from plumbob.model.gpu import container_gpu_request
from plumbob.model.refs import cluster_ref
from plumbob.model.snapshot import Snapshot, parse_minor

WHY = """
Device-plugin counts (nvidia.com/gpu: 1) say how many GPUs a pod gets, never which: no GPU
model, memory size, MIG profile or NVLink topology can be asked for, and sharing needs
cluster-wide device-plugin configs. Dynamic Resource Allocation (resource.k8s.io, beta in
Kubernetes 1.32, GA in 1.34) lets a pod claim devices by attributes, share one claim between
containers or pods, and is where new NVIDIA features (ComputeDomains for multi-node NVLink, MIG
on demand) land. This cluster already serves the API; its GPU workloads do not use it yet.
"""

FIX = """
Install the NVIDIA DRA driver (`helm repo add nvidia https://helm.ngc.nvidia.com/nvidia`,
`helm install nvidia-dra-driver-gpu nvidia/nvidia-dra-driver-gpu -n nvidia-dra-driver-gpu
--create-namespace`, or through the GPU operator as its docs describe), check
`kubectl get deviceclass gpu.nvidia.com` and `kubectl get resourceslices`, then move a workload
from a count to a claim:

    apiVersion: resource.k8s.io/v1
    kind: ResourceClaimTemplate
    metadata: {name: one-gpu}
    spec:
      spec:
        devices:
          requests:
          - name: gpu
            exactly: {deviceClassName: gpu.nvidia.com}
    ---
    spec:
      resourceClaims:
      - {name: gpu, resourceClaimTemplateName: one-gpu}
      containers:
      - name: main
        resources:
          claims: [{name: gpu}]       # instead of limits: nvidia.com/gpu: 1

Keep the device plugin on nodes that still serve count-based pods until all have moved.
"""


def _version(snap: Snapshot) -> tuple[int, int] | None:
    if snap.server_minor:
        return snap.server_minor
    kubelets = [parse_minor(n.status.node_info.kubelet_version) for n in snap.nodes]
    known = [v for v in kubelets if v]
    return min(known) if known else None


@check(
    id="dra-available-unused",
    category="gpu",
    severity="info",
    reads=(WORKLOADS,),
    consults=("Node", "DeviceClass", "ResourceClaim", "ResourceClaimTemplate", "ResourceSlice"),
    title="DRA is available but GPU workloads use device-plugin counts only",
    why=WHY,
    fix=FIX,
    references=(
        "https://kubernetes.io/docs/concepts/scheduling-eviction/dynamic-resource-allocation/",
        "https://github.com/kubernetes-sigs/dra-driver-nvidia-gpu",
        "https://docs.nvidia.com/datacenter/cloud-native/gpu-operator/latest/dra-intro-install.html",
    ),
    origin=Origin(
        "https://kubernetes.io/docs/concepts/scheduling-eviction/dynamic-resource-allocation/",
        "Kubernetes documents DRA device classes and claims as the way to request devices "
        "by their attributes and to share them, which a device-plugin count cannot express.",
        kind="document",
    ),
)
def dra_available_unused(snap: Snapshot) -> Iterator[Hit]:
    version = _version(snap)
    if not snap.has_group("resource.k8s.io") or version is None or version < (1, 32):
        return
    counted = [
        t
        for t in snap.pod_templates
        if any(container_gpu_request(c) for c in t.spec.all_containers)
    ]
    if not counted:
        return
    claims = [t for t in snap.pod_templates if t.spec.resource_claims]
    if claims or snap.objects("ResourceClaim") or snap.objects("ResourceClaimTemplate"):
        return
    workloads = sorted({f"{t.kind}/{t.namespace}/{t.workload.name}" for t in counted})
    slices = sum(g.dra_devices for g in snap.node_gpus.values())
    driver = (
        f"; the GPU DRA driver already publishes {slices} device(s) in ResourceSlices"
        if slices
        else "; no GPU DRA driver publishes devices yet"
    )
    yield Hit(
        cluster_ref(snap),
        f"cluster {snap.cluster.name} serves resource.k8s.io on Kubernetes "
        f"{version[0]}.{version[1]}, but its {len(workloads)} GPU workload(s) request GPUs by "
        f"device-plugin count only{driver}",
        evidence={
            "kubernetes": f"{version[0]}.{version[1]}",
            "workloads": workloads[:20],
            "dra_devices": slices,
        },
    )
