"""Reduce a node to the attributes drift compares: an allowlist, never the whole object.

Each attribute is one row of `ATTRIBUTES` (id, title, how to read it, whether fleet drift
compares it inside a pool, how bad a difference is). docs/drift.md lists them.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import msgspec

from plumbob.model.gpu import NodeGpu, node_gpu
from plumbob.model.nodes import POOL_LABELS, pool_of
from plumbob.model.objects import GenericObject, Node
from plumbob.model.quantity import quantity_or_zero
from plumbob.model.snapshot import Snapshot

ZONE_LABELS = ("topology.kubernetes.io/zone", "failure-domain.beta.kubernetes.io/zone")
INSTANCE_TYPE_LABELS = ("node.kubernetes.io/instance-type", "beta.kubernetes.io/instance-type")

PER_NODE_LABELS = frozenset(
    {
        "kubernetes.io/hostname",
        "topology.kubernetes.io/region",
        "failure-domain.beta.kubernetes.io/region",
        "alpha.eksctl.io/instance-id",
        "node.kubernetes.io/instance-id",
        "topology.ebs.csi.aws.com/zone",
        "topology.disk.csi.azure.com/zone",
        "topology.gke.io/zone",
        "topology.k8s.aws/zone-id",
        "cloud.google.com/gke-netd-ready",
        "karpenter.sh/initialized",
        "karpenter.sh/registered",
        "nvidia.com/gfd.timestamp",
        "nvidia.com/gpu-driver-upgrade-state",
        "nvidia.com/mig.config.state",
    }
)
"""Labels that name or time one node, or repeat its zone (nodes of one pool span zones by
design), never compared across nodes."""

DERIVED_LABEL_PREFIXES = (
    "nvidia.com/cuda.",
    "nvidia.com/gpu.",
    "nvidia.com/mig.",
    "nvidia.com/mig-",
    "nvidia.com/vgpu.",
    "nvidia.com/mps.",
    "feature.node.kubernetes.io/kernel-version.",
    "feature.node.kubernetes.io/system-os_release.",
    "kubernetes.io/arch",
    "beta.kubernetes.io/arch",
    "kubernetes.io/os",
    "beta.kubernetes.io/os",
    "karpenter.k8s.aws/instance-",
    "topology.k8s.aws/network-node-layer-",
    *ZONE_LABELS,
    *INSTANCE_TYPE_LABELS,
    *POOL_LABELS,
)
"""Labels a dedicated attribute already reads (driver, CUDA, GPU product, MIG layout, kernel,
zone, instance type, pool): left out of the label comparison so one difference is reported
once."""

CONFIG_LABEL_PREFIXES = ("nvidia.com/gpu.deploy.", "nvidia.com/gpu.workload.config")
"""GPU Operator settings under a derived prefix that no attribute reads: which operands run on
the node (`gpu.deploy.driver=pre-installed`, `gpu.deploy.dcgm-exporter=false`) and its workload
type. Compared as labels."""

SHAPE_CHOOSING_LABELS = ("karpenter.sh/nodepool", "karpenter.sh/provisioner-name")
"""Nodes a provisioner made by choosing each one's instance type: a Karpenter NodePool (or
legacy Provisioner) lists the instance types it may use and picks per node, so its nodes differ
in shape by design (karpenter.sh docs, NodePools: `requirements`)."""

SHAPE_ATTRIBUTES = frozenset(
    {"instance_type", "gpu_count", "allocatable_cpu", "allocatable_memory", "allocatable_gpu"}
)
SHAPE_LABEL_PREFIXES = (
    "feature.node.kubernetes.io/cpu-",
    "feature.node.kubernetes.io/memory-",
    "karpenter.sh/capacity-type",
)
"""What follows from an instance's shape (its type, CPUs, memory, GPU count, NFD's CPU and
memory features) or from the provisioner's choice of market (spot or on-demand): not compared
inside a pool whose nodes choose their shape. Software (kernel, kubelet, runtime, NVIDIA
driver, CUDA) and the GPU model still are."""

DRA_GPU_DRIVERS = ("gpu.nvidia.com",)
"""ResourceSlice spec.driver of NVIDIA's DRA driver (kubernetes-sigs/dra-driver-nvidia-gpu)."""


class NodeAttributes(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """The drift-relevant facts of one node. Versions are strings as the node publishes them."""

    node: str
    pool: str
    gpu: bool = False
    """The node has NVIDIA GPUs (by resources or labels)."""
    shape_chosen: bool = False
    """A provisioner chose this node's instance type (Karpenter): see SHAPE_CHOOSING_LABELS."""
    kernel: str | None = None
    os_image: str | None = None
    architecture: str | None = None
    kubelet: str | None = None
    kube_proxy: str | None = None
    container_runtime: str | None = None
    """Runtime and version as the kubelet reports it, e.g. containerd://1.7.23."""
    nvidia_driver: str | None = None
    """GFD driver labels (current or legacy schema), else the DRA driver's driverVersion."""
    cuda: str | None = None
    """Highest CUDA version the driver supports (GFD cuda.runtime*, or DRA cudaDriverVersion)."""
    vgpu_host_driver: str | None = None
    """vGPU hypervisor driver (nvidia.com/vgpu.host-driver-version); the guest driver is
    nvidia_driver."""
    gpu_product: str | None = None
    gpu_count: int | None = None
    mig_strategy: str | None = None
    mig_config: str | None = None
    """The mig-parted config the node is told to apply (nvidia.com/mig.config)."""
    mig_layout: str | None = None
    """MIG devices the node has, `<profile>:<count>` sorted by profile (mixed strategy: GFD
    `nvidia.com/mig-<profile>.count` labels, else the `nvidia.com/mig-<profile>` resources)."""
    sharing_strategy: str | None = None
    sharing_replicas: int | None = None
    instance_type: str | None = None
    zone: str | None = None
    taints: list[str] = []
    """key=value:effect, sorted."""
    labels: dict[str, str] = {}
    """Labels minus per-node ones and those a dedicated attribute reads."""
    allocatable_cpu: str | None = None
    allocatable_memory: str | None = None
    """Rounded to 0.1 GiB: kubelets of identical nodes differ by a few KiB."""
    allocatable_gpu: str | None = None
    unknown: list[str] = []
    """Attribute ids this node's source did not show (`label:*` for every label): never
    compared, so a node read from text does not differ from its pool by what its text left
    out."""


UNKNOWN_LABELS = "label:*"
_LABEL_ATTRIBUTES = (
    "nvidia_driver",
    "cuda",
    "vgpu_host_driver",
    "gpu_product",
    "mig_strategy",
    "mig_config",
    "sharing_strategy",
    "sharing_replicas",
    "instance_type",
    "zone",
    UNKNOWN_LABELS,
)
_RESOURCE_ATTRIBUTES = ("allocatable_cpu", "allocatable_memory", "allocatable_gpu", "mig_layout")
UNKNOWN_BY_PART: Mapping[str, tuple[str, ...]] = {
    "labels": _LABEL_ATTRIBUTES,
    "taints": ("taints",),
    "nodeInfo": ("kernel", "os_image", "kubelet", "container_runtime"),
    "systemInfo": ("kube_proxy",),
}
"""Node part (objects.NODE_PARTS) -> the attributes that cannot be read without it. Resources
(capacity and allocatable) and the GPU count, read from labels or resources, are unknown only
when every source of them is."""


def unknown_attributes(node: Node, gpu_count: int | None) -> list[str]:
    """Attributes a node's source did not show; `gpu_count` as read (from labels or
    resources)."""
    if not node.unknown:
        return []
    out = [a for part in node.unknown for a in UNKNOWN_BY_PART.get(part, ())]
    resources = not node.knows("allocatable") and not node.knows("capacity")
    if resources:
        out.extend(_RESOURCE_ATTRIBUTES)
    if resources and gpu_count is None:
        out.append("gpu_count")
    if not node.knows("systemInfo") and not node.knows("labels"):
        out.append("architecture")
    return sorted(set(out))


Severity = str
SeverityRule = Callable[["AttributeContext"], Severity]


@dataclass(frozen=True, slots=True)
class AttributeContext:
    """What a severity rule may look at: the pool, the outlier value, the majority value and
    the control-plane version."""

    gpu_pool: bool
    value: str | None
    majority: str | None
    server_version: str | None


@dataclass(frozen=True, slots=True)
class Attribute:
    id: str
    title: str
    read: Callable[[NodeAttributes], str | None]
    severity: SeverityRule
    fleet: bool = True
    """Compared inside a pool; False for attributes that differ by design (zone)."""


def _fixed(level: str) -> SeverityRule:
    return lambda _ctx: level


def _gpu_high(ctx: AttributeContext) -> str:
    return "high" if ctx.gpu_pool else "medium"


def _skew(ctx: AttributeContext) -> str:
    from plumbob.drift.versions import kubelet_outside_skew

    return "high" if kubelet_outside_skew(ctx.value, ctx.server_version) else "medium"


def _field(name: str) -> Callable[[NodeAttributes], str | None]:
    def read(attrs: NodeAttributes) -> str | None:
        value = getattr(attrs, name)
        if value is None:
            return None
        if isinstance(value, list):
            return ", ".join(value) if value else None
        return str(value)

    return read


ATTRIBUTES: tuple[Attribute, ...] = (
    Attribute("kernel", "kernel version", _field("kernel"), _fixed("medium")),
    Attribute("os_image", "OS image", _field("os_image"), _fixed("medium")),
    Attribute("architecture", "CPU architecture", _field("architecture"), _fixed("high")),
    Attribute("kubelet", "kubelet version", _field("kubelet"), _skew),
    Attribute("kube_proxy", "kube-proxy version", _field("kube_proxy"), _skew),
    Attribute(
        "container_runtime", "container runtime", _field("container_runtime"), _fixed("medium")
    ),
    Attribute("nvidia_driver", "NVIDIA driver", _field("nvidia_driver"), _gpu_high),
    Attribute("cuda", "CUDA driver version", _field("cuda"), _gpu_high),
    Attribute("vgpu_host_driver", "vGPU host driver", _field("vgpu_host_driver"), _gpu_high),
    Attribute("gpu_product", "GPU product", _field("gpu_product"), _fixed("medium")),
    Attribute("gpu_count", "GPU count", _field("gpu_count"), _fixed("medium")),
    Attribute("mig_strategy", "MIG strategy", _field("mig_strategy"), _fixed("medium")),
    Attribute("mig_config", "MIG config", _field("mig_config"), _fixed("medium")),
    Attribute("mig_layout", "MIG devices", _field("mig_layout"), _fixed("medium")),
    Attribute(
        "sharing_strategy", "GPU sharing strategy", _field("sharing_strategy"), _fixed("medium")
    ),
    Attribute(
        "sharing_replicas", "GPU sharing replicas", _field("sharing_replicas"), _fixed("medium")
    ),
    Attribute("instance_type", "instance type", _field("instance_type"), _fixed("medium")),
    Attribute("zone", "zone", _field("zone"), _fixed("info"), fleet=False),
    Attribute("taints", "taints", _field("taints"), _fixed("medium")),
    Attribute("allocatable_cpu", "allocatable CPU", _field("allocatable_cpu"), _fixed("low")),
    Attribute(
        "allocatable_memory", "allocatable memory", _field("allocatable_memory"), _fixed("low")
    ),
    Attribute("allocatable_gpu", "allocatable GPUs", _field("allocatable_gpu"), _fixed("medium")),
)
"""Every compared attribute, in report order. Labels are compared key by key as `label:<key>`
with severity low."""

BY_ID: Mapping[str, Attribute] = {a.id: a for a in ATTRIBUTES}
LABEL_PREFIX = "label:"


def values_of(attrs: NodeAttributes) -> dict[str, str | None]:
    """Attribute id -> comparable value, labels as `label:<key>` (absent labels are None).
    Attributes the node's source did not show are left out (see `known`)."""
    out: dict[str, str | None] = {a.id: a.read(attrs) for a in ATTRIBUTES}
    for key, value in attrs.labels.items():
        out[LABEL_PREFIX + key] = value
    for key in attrs.unknown:
        out.pop(key, None)
    return out


def known(attrs: NodeAttributes, attribute: str) -> bool:
    """Whether the node's source showed this attribute (an absent value is known: absent)."""
    if not attrs.unknown:
        return True
    if attribute.startswith(LABEL_PREFIX):
        return UNKNOWN_LABELS not in attrs.unknown
    return attribute not in attrs.unknown


def shape_attribute(attribute: str) -> bool:
    """Whether an attribute follows from the instance's shape (SHAPE_ATTRIBUTES and labels)."""
    if attribute.startswith(LABEL_PREFIX):
        return attribute.removeprefix(LABEL_PREFIX).startswith(SHAPE_LABEL_PREFIXES)
    return attribute in SHAPE_ATTRIBUTES


def attribute_title(attribute: str) -> str:
    if attribute.startswith(LABEL_PREFIX):
        return f"label {attribute.removeprefix(LABEL_PREFIX)}"
    found = BY_ID.get(attribute)
    return found.title if found else attribute


# ---------------------------------------------------------------- reading nodes


@lru_cache(maxsize=65536)
def _compared_key(key: str) -> bool:
    if key in PER_NODE_LABELS:
        return False
    if key.startswith(CONFIG_LABEL_PREFIXES):
        return True
    return not any(key == p or key.startswith(p) for p in DERIVED_LABEL_PREFIXES)


def _gib(value: Any) -> str | None:
    if value is None:
        return None
    return f"{quantity_or_zero(value) / 2**30:.1f}Gi"


def _cpu(value: Any) -> str | None:
    if value is None:
        return None
    return f"{quantity_or_zero(value):g}"


@dataclass(frozen=True, slots=True)
class DraGpu:
    """What NVIDIA's DRA driver publishes about one node's GPUs in ResourceSlices."""

    driver: str | None = None
    cuda: str | None = None
    product: str | None = None
    count: int = 0


def _dra_attr(attributes: Any, name: str) -> str | None:
    if not isinstance(attributes, dict):
        return None
    for key, value in attributes.items():
        if (key == name or key.endswith("/" + name)) and isinstance(value, dict):
            for kind in ("version", "string", "int", "bool"):
                if kind in value:
                    return str(value[kind])
    return None


def dra_gpus(snap: Snapshot) -> dict[str, DraGpu]:
    """Node name -> GPU facts from ResourceSlices (resource.k8s.io v1 `devices[].attributes`, or
    v1beta1 `devices[].basic.attributes`)."""
    per_node: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for obj in snap.objects("ResourceSlice"):
        if not isinstance(obj, GenericObject) or not isinstance(obj.spec, dict):
            continue
        spec = obj.spec
        if spec.get("driver") not in DRA_GPU_DRIVERS or not spec.get("nodeName"):
            continue
        for device in spec.get("devices") or ():
            if not isinstance(device, dict):
                continue
            attributes = device.get("attributes")
            if attributes is None and isinstance(device.get("basic"), dict):
                attributes = device["basic"].get("attributes")
            if isinstance(attributes, dict):
                per_node[str(spec["nodeName"])].append(attributes)
    out: dict[str, DraGpu] = {}
    for node, devices in per_node.items():
        gpus = [d for d in devices if _dra_attr(d, "type") in (None, "gpu")]
        first = gpus[0] if gpus else devices[0]
        out[node] = DraGpu(
            driver=dra_driver_version(_dra_attr(first, "driverVersion")),
            cuda=dra_cuda_version(_dra_attr(first, "cudaDriverVersion")),
            product=dra_product(_dra_attr(first, "productName")),
            count=len(gpus),
        )
    return out


_SEMVER = re.compile(r"^(\d+)\.(\d+)\.(\d+)$")


def dra_driver_version(value: str | None) -> str | None:
    """The DRA driver publishes the NVIDIA driver version as semver, which drops the leading
    zero NVIDIA versions keep in their last field (550.127.05 becomes 550.127.5:
    kubernetes-sigs/dra-driver-nvidia-gpu cmd/gpu-kubelet-plugin/deviceinfo.go publishes
    Masterminds `semver.MustParse(driverVersion).String()`). Written back as GFD's label has
    it, so the two sources compare equal: the last field two digits wide, dropped when it is 0
    (a two-field version)."""
    match = _SEMVER.match(value or "")
    if match is None:
        return value
    major, minor, patch = match.groups()
    return f"{major}.{minor}" if patch == "0" else f"{major}.{minor}.{int(patch):02d}"


_NOT_IN_LABEL = re.compile(r"[^A-Za-z0-9_. -]")


def dra_product(value: str | None) -> str | None:
    """DRA's productName is the NVML name ("NVIDIA H100 80GB HBM3"); GFD's gpu.product label
    sanitises it ("NVIDIA-H100-80GB-HBM3": characters outside [A-Za-z0-9-_. ] dropped, words
    joined with "-"; knowledge/nvidia_gpus.yaml notes), so both sources name one product alike."""
    if not value:
        return value
    return "-".join(_NOT_IN_LABEL.sub("", value).split())


def dra_cuda_version(value: str | None) -> str | None:
    """DRA's cudaDriverVersion is semver (12.8.0); GFD's cuda.runtime-version.full is major.minor
    (12.8), the form NVML reports."""
    match = _SEMVER.match(value or "")
    if match is None or match.group(3) != "0":
        return value
    return f"{match.group(1)}.{match.group(2)}"


def _mig_layout(gpu: NodeGpu) -> str | None:
    counts: dict[str, float] = dict(gpu.mig_labelled) or {
        k: v for k, v in gpu.mig_allocatable.items() if v
    }
    if not counts:
        return None
    return ", ".join(f"{profile}:{count:g}" for profile, count in sorted(counts.items()))


def node_attributes(
    node: Node, pool: str, dra: DraGpu | None = None, gpu: NodeGpu | None = None
) -> NodeAttributes:
    info = node.status.node_info
    gpu = gpu if gpu is not None else node_gpu(node)
    labels = node.labels
    alloc = node.status.allocatable or node.status.capacity
    count = gpu.labelled_count
    if count is None and gpu.present:
        count = int(gpu.capacity) if gpu.capacity else None
    if count is None and dra is not None and dra.count:
        count = dra.count
    gpu_alloc = gpu.total_allocatable
    taints = sorted(
        f"{t.key}={t.value}:{t.effect}" if t.value else f"{t.key}:{t.effect}"
        for t in node.spec.taints
    )
    return NodeAttributes(
        node=node.name,
        pool=pool,
        gpu=gpu.present or (dra is not None and dra.count > 0),
        shape_chosen=any(labels.get(k) for k in SHAPE_CHOOSING_LABELS),
        kernel=info.kernel_version or None,
        os_image=info.os_image or None,
        architecture=info.architecture or labels.get("kubernetes.io/arch") or None,
        kubelet=info.kubelet_version or None,
        kube_proxy=info.kube_proxy_version or None,
        container_runtime=info.container_runtime_version or None,
        nvidia_driver=gpu.driver or (dra.driver if dra else None),
        cuda=gpu.cuda or (dra.cuda if dra else None),
        vgpu_host_driver=gpu.vgpu_host_driver,
        gpu_product=gpu.product or (dra.product if dra else None),
        gpu_count=count,
        mig_strategy=gpu.mig_strategy,
        mig_config=gpu.mig_config,
        mig_layout=_mig_layout(gpu),
        sharing_strategy=gpu.sharing_strategy,
        sharing_replicas=gpu.replicas,
        instance_type=next((labels[k] for k in INSTANCE_TYPE_LABELS if labels.get(k)), None),
        zone=next((labels[k] for k in ZONE_LABELS if labels.get(k)), None),
        taints=taints,
        labels={k: v for k, v in sorted(labels.items()) if v != node.name and _compared_key(k)},
        allocatable_cpu=_cpu(alloc.get("cpu")),
        allocatable_memory=_gib(alloc.get("memory")),
        allocatable_gpu=f"{gpu_alloc:g}" if gpu.present or gpu_alloc else None,
        unknown=unknown_attributes(node, count),
    )


def snapshot_attributes(snap: Snapshot, pool_label: str | None = None) -> dict[str, NodeAttributes]:
    """Node name -> attributes, for every node of a snapshot."""
    dra = dra_gpus(snap) if snap.objects("ResourceSlice") else {}
    gpus = snap.node_gpus
    return {
        n.name: node_attributes(n, pool_of(n, pool_label), dra.get(n.name), gpus.get(n.name))
        for n in snap.nodes
    }
