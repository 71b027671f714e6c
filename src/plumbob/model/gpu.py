"""GPU facts read from nodes and containers, whatever shape a cluster exposes them in.

Node GPUs appear as extended resources (`nvidia.com/gpu`, MIG slices `nvidia.com/mig-<profile>`,
renamed shared resources `nvidia.com/gpu.shared`, legacy `alpha.kubernetes.io/nvidia-gpu`,
Volcano's `volcano.sh/gpu-number`), as gpu-feature-discovery labels in the current and the
legacy schema, as NFD PCI labels and as cloud labels. Label names: knowledge/gfd_labels.yaml.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from plumbob.model.objects import Container, GenericObject, Node, PodSpec, ResourceList
from plumbob.model.quantity import count_or_zero, is_quantity

T = TypeVar("T")
V = TypeVar("V")

WHOLE_GPU_RESOURCES = (
    "nvidia.com/gpu",
    "nvidia.com/gpu.shared",
    "alpha.kubernetes.io/nvidia-gpu",
    "volcano.sh/gpu-number",
    "amd.com/gpu",
)
"""Resources that count whole (or time-sliced) devices, in order of preference."""

_WHOLE = frozenset(WHOLE_GPU_RESOURCES)

MIG_PREFIX = "nvidia.com/mig-"

LEGACY_GPU_RESOURCES = {"alpha.kubernetes.io/nvidia-gpu": "nvidia.com/gpu"}
"""Resource names kubelets stopped offering (the in-tree accelerator support was removed in
Kubernetes 1.11), with what replaced them."""

GPU_DRA_DRIVERS = ("gpu.nvidia.com", "gpu.amd.com")
"""DRA drivers whose ResourceSlices publish GPUs (knowledge/ai_components.yaml,
nvidia-dra-driver-gpu dra_driver_names; ROCm/k8s-gpu-dra-driver v1.0.0 release notes)."""

KAI_SHARE_ANNOTATIONS = ("gpu-fraction", "gpu-memory")
"""Pod annotations with which KAI Scheduler hands out a share of a GPU instead of a resource
request (NVIDIA/KAI-Scheduler docs/gpu-sharing)."""

SHARING_STRATEGIES = ("time-slicing", "mps")

_NVIDIA_PCI_LABEL = "feature.node.kubernetes.io/pci-10de.present"
_CLOUD_GPU_LABELS = (
    "cloud.google.com/gke-accelerator",
    "karpenter.k8s.aws/instance-gpu-name",
    "k8s.amazonaws.com/accelerator",
    "accelerator",
)
_MIG_PROFILE = re.compile(
    r"^nvidia\.com/mig-(\d+g\.\d+gb)(?:\.(?:count|memory|engines\..*|slices\..*|multiprocessors|product|replicas|sharing-strategy))?$"
)


def is_gpu_resource(name: str) -> bool:
    return name in _WHOLE or name.startswith(MIG_PREFIX)


def quota_caps_gpus(key: str) -> bool:
    """Whether a ResourceQuota `hard` key caps a GPU resource: `requests.nvidia.com/gpu`,
    `limits.nvidia.com/mig-1g.10gb` (quotas name extended resources with a `requests.` prefix;
    https://kubernetes.io/docs/concepts/policy/resource-quotas/#resource-quota-for-extended-resources)."""
    for prefix in ("requests.", "limits."):
        if key.startswith(prefix) and is_gpu_resource(key.removeprefix(prefix)):
            return True
    return False


def is_mig_resource(name: str) -> bool:
    return name.startswith(MIG_PREFIX)


def gpu_amount(resources: ResourceList) -> float:
    """Total GPU devices (whole or MIG slices) named in a resource list."""
    total = 0.0  # a plain loop: this runs for every container of every check that asks
    for key, value in resources.items():
        if key in _WHOLE or key.startswith(MIG_PREFIX):
            total += count_or_zero(value)
    return total


_MAX_REMEMBERED = 1 << 16
REMEMBERED: dict[str, dict[int, tuple[Any, Any]]] = {}
"""The tables of the `remembered` functions, by name (for tests)."""


def remembered(compute: Callable[[T], V]) -> Callable[[T], V]:
    """`compute`, with its answer kept per model object. Replicas share one container and one
    list of containers (sources/compact.py) and many checks ask about the same ones. Model
    objects never change, and each entry holds its object, so an id is never taken for another
    object's; the table is bounded."""
    table: dict[int, tuple[T, V]] = {}
    REMEMBERED[compute.__name__] = table

    @functools.wraps(compute)
    def answer(obj: T) -> V:
        known = table.get(id(obj))
        if known is not None and known[0] is obj:
            return known[1]
        value = compute(obj)
        if len(table) >= _MAX_REMEMBERED:
            table.clear()
        table[id(obj)] = (obj, value)
        return value

    return answer


GPU_COUNT_UNKNOWN = math.nan
"""What `container_gpu_request` gives for a container that names a GPU resource with an amount
that is not a quantity (an unrendered template value such as `{{ .Values.gpus }}`, or `"one"`;
the decoder names each in a diagnostic): the container asks for GPUs, how many is unknown. NaN
is true as a condition, so `if container_gpu_request(c)` still finds a GPU container, and it is
no number any comparison or sum could mistake for a count; `math.isnan` tells it apart. Sums
(`containers_gpu_request`, `gpu_amount`) count known amounts only."""


def _names_unknown_gpus(resources: ResourceList) -> bool:
    return any(
        (key in _WHOLE or key.startswith(MIG_PREFIX)) and not is_quantity(value)
        for key, value in resources.items()
    )


@remembered
def container_gpu_request(container: Container) -> float:
    """GPUs a container asks for: its requests, or its limits (Kubernetes copies extended-resource
    limits into requests when only limits are set); GPU_COUNT_UNKNOWN when it names a GPU
    resource whose amount is not a quantity and no other gives a count."""
    resources = container.resources
    req = gpu_amount(resources.requests)
    if req:
        return req
    limit = gpu_amount(resources.limits)
    if limit:
        return limit
    if _names_unknown_gpus(resources.requests) or _names_unknown_gpus(resources.limits):
        return GPU_COUNT_UNKNOWN
    return 0.0


@remembered
def containers_gpu_request(containers: Sequence[Container]) -> float:
    """GPUs a list of containers asks for, all together: the known counts (see
    `gpu_count_unknown`)."""
    total = 0.0
    for c in containers:
        gpus = container_gpu_request(c)
        if not math.isnan(gpus):
            total += gpus
    return total


def gpu_count_unknown(containers: Sequence[Container]) -> bool:
    """Whether a container of the list asks for GPUs in an amount that is not a quantity."""
    return any(math.isnan(container_gpu_request(c)) for c in containers)


def gpus_text(known: float, unknown: bool) -> str:
    """'8 GPUs'; with counts unknown, '8 GPUs and more (a GPU count unknown)' or 'GPUs (count
    unknown)': a sum that left out unknown counts never reads as the whole count."""
    if not unknown:
        return f"{known:g} GPUs"
    if known:
        return f"{known:g} GPUs and more (a GPU count unknown)"
    return "GPUs (count unknown)"


@remembered
def _containers_get_gpu(containers: Sequence[Container]) -> bool:
    return any(container_gpu_request(c) or c.resources.claims for c in containers)


def container_gpu_resources(container: Container) -> dict[str, float]:
    out: dict[str, float] = {}
    for source in (container.resources.limits, container.resources.requests):
        for key, value in source.items():
            if is_gpu_resource(key):
                out.setdefault(key, count_or_zero(value))
    return out


def containers_mig_request(containers: Sequence[Container]) -> dict[str, float]:
    """MIG profile -> slices a list of containers asks for (nvidia.com/mig-<profile>)."""
    out: dict[str, float] = {}
    for c in containers:
        for key, amount in container_gpu_resources(c).items():
            if key.startswith(MIG_PREFIX) and amount > 0:
                profile = key.removeprefix(MIG_PREFIX)
                out[profile] = out.get(profile, 0.0) + amount
    return out


def pod_uses_gpu(spec: PodSpec, annotations: dict[str, str] | None = None) -> bool:
    """A pod that gets a GPU one way or another: a GPU resource request, a DRA resource claim,
    or a KAI Scheduler GPU-share annotation."""
    if _containers_get_gpu(spec.containers) or spec.resource_claims:
        return True
    if spec.init_containers and _containers_get_gpu(spec.init_containers):
        return True
    return annotations is not None and any(k in annotations for k in KAI_SHARE_ANNOTATIONS)


def offered_resources(node: Node) -> dict[str, float]:
    """GPU resource name -> amount the node offers (allocatable, or capacity when a trimmed
    export has no allocatable), only names with a non-zero amount."""
    source = node.status.allocatable or node.status.capacity
    out: dict[str, float] = {}
    for key, value in source.items():
        if is_gpu_resource(key):
            amount = count_or_zero(value)
            if amount > 0:
                out[key] = amount
    return out


@dataclass(frozen=True, slots=True)
class NodeGpu:
    """Everything a node says about its GPUs. Versions are strings as published."""

    allocatable: float = 0.0
    """Whole GPUs (or time-sliced replicas) allocatable through any whole-GPU resource."""
    capacity: float = 0.0
    mig_allocatable: dict[str, float] = field(default_factory=dict)
    """MIG profile (e.g. '1g.10gb') -> allocatable slices."""
    resource_names: tuple[str, ...] = ()
    hardware: bool = False
    """Labels show NVIDIA hardware (GFD, NFD PCI, cloud), whatever the device plugin says."""
    product: str | None = None
    labelled_count: int | None = None
    memory_mib: int | None = None
    driver: str | None = None
    cuda: str | None = None
    """CUDA version the installed driver supports (GFD cuda.runtime*), not the image's CUDA."""
    vgpu_host_driver: str | None = None
    mig_capable: bool | None = None
    mig_strategy: str | None = None
    mig_config: str | None = None
    sharing_strategy: str | None = None
    replicas: int | None = None
    offered: dict[str, float] = field(default_factory=dict)
    """GPU resource name -> non-zero allocatable amount (whole, shared, MIG, legacy names)."""
    mig_labelled: dict[str, int] = field(default_factory=dict)
    """MIG profile -> slice count from GFD labels (nvidia.com/mig-<profile>.count)."""
    dra_devices: int = 0
    """Devices DRA drivers for GPUs publish for this node in ResourceSlices."""
    workload_config: str | None = None
    """nvidia.com/gpu.workload.config: container (default), vm-passthrough or vm-vgpu."""
    status_known: bool = False
    """The node object carries status.capacity or status.allocatable (not a bare manifest)."""
    single_mig_slices: int | None = None
    """Under the single MIG strategy with MIG devices in use, the compute slices of each device
    the node offers as nvidia.com/gpu (from the `-MIG-<profile>` suffix of gpu.product or the
    gpu.slices.* labels); None otherwise."""
    cloud_count: int | None = None
    """Physical GPUs of the instance type as the cloud labels it
    (karpenter.k8s.aws/instance-gpu-count): physical under every MIG strategy."""

    @property
    def present(self) -> bool:
        """The node has GPUs, by resources, labels (GFD's MIG device counts among them) or DRA
        ResourceSlices."""
        return (
            self.hardware
            or self.capacity > 0
            or bool(self.mig_allocatable)
            or bool(self.mig_labelled)
            or self.dra_devices > 0
        )

    @property
    def shared(self) -> bool:
        """GPUs are time-sliced or shared through MPS (several pods per GPU)."""
        return (
            self.sharing_strategy in SHARING_STRATEGIES
            or (self.replicas or 0) > 1
            or "nvidia.com/gpu.shared" in self.offered
        )

    @property
    def physical_count(self) -> int | None:
        """Physical GPUs from labels: GFD's nvidia.com/gpu.count counts MIG devices under the
        single strategy while MIG devices are in use, so it is physical otherwise only."""
        if self.mig_strategy == "single" and not self.single_mig_off:
            return self.cloud_count
        return self.labelled_count

    @property
    def single_mig_off(self) -> bool:
        """The single strategy's labels show no MIG device: a product without the `-MIG-`
        suffix GFD gives MIG devices, and no gpu.slices.* label."""
        return (
            self.single_mig_slices is None
            and self.product is not None
            and "-MIG-" not in self.product
        )

    @property
    def total_allocatable(self) -> float:
        return self.allocatable + sum(self.mig_allocatable.values())


MIG_COMPUTE_SLICES = 7
"""Compute slices of one MIG-capable GPU when its model does not say: 7 on A100, H100, H200,
B200 and GB200 (NVIDIA MIG User Guide, Supported GPUs: "7 instances"); A30 and RTX PRO 6000
Blackwell have 4 (knowledge/nvidia_gpus.yaml `mig.max_instances`, looked up by product)."""

_PROFILE_SLICES = re.compile(r"^(\d+)g(?:\.|$)")


def profile_slices(profile: str) -> int:
    """Compute slices of a MIG profile: '3g.40gb' -> 3, '1g.10gb.me' -> 1 (1 when unreadable,
    the fewest a device can take)."""
    match = _PROFILE_SLICES.match(profile)
    return max(1, int(match.group(1))) if match else 1


def mig_gpus(slices: dict[str, float], per_gpu: int) -> int:
    """The fewest physical GPUs that hold these MIG devices (profile -> count): enough compute
    slices in all, and enough GPUs for each profile's count (a GPU of `per_gpu` slices holds
    `per_gpu // n` devices of n slices: two 3g, three 2g on a 7-slice GPU). A lower bound: a
    layout may leave slices of several GPUs empty."""
    if not slices:
        return 0
    total = sum(profile_slices(p) * n for p, n in slices.items())
    need = math.ceil(total / per_gpu)
    for profile, count in slices.items():
        fit = max(1, per_gpu // profile_slices(profile))
        need = max(need, math.ceil(count / fit))
    return need


@dataclass(frozen=True, slots=True)
class GpuCount:
    """A node's GPUs counted as physical devices, with the MIG slices they are cut into listed
    apart: a node offering one whole GPU and three MIG slices has two GPUs, not four."""

    physical: int | None
    """Physical GPUs; None when only labels say the node has GPU hardware."""
    basis: str
    """What the count comes from: `label nvidia.com/gpu.count`, `cloud label`, `resources`,
    `resources and MIG layout`, `MIG layout`, or `none`."""
    at_least: bool = False
    """A lower bound: the GPUs holding MIG slices were inferred from the slices (see
    `mig_gpus`), no label counting them."""
    whole: float = 0.0
    """Whole GPUs (or time-sliced replicas) the node offers."""
    slices: dict[str, float] = field(default_factory=dict)
    """MIG profile -> slices offered (nvidia.com/mig-<profile>, or MIG devices the single
    strategy offers as nvidia.com/gpu, under `<n>g` when only their slice count is known)."""

    @property
    def slice_total(self) -> float:
        return sum(self.slices.values())

    def text(self) -> str:
        """'8 GPUs', 'at least 2 GPUs (1 whole, 3 MIG slices)', 'GPU hardware'."""
        if self.physical is None:
            return "GPU hardware"
        count = f"{'at least ' if self.at_least else ''}{self.physical} GPU" + (
            "" if self.physical == 1 else "s"
        )
        if not self.slices:
            return count
        parts = [f"{self.whole:g} whole"] if self.whole else []
        parts.append(f"{self.slice_total:g} MIG slices")
        return f"{count} ({', '.join(parts)})"


def gpu_count(gpu: NodeGpu, per_gpu: int | None = None) -> GpuCount:
    """Physical GPUs of a node: GFD's nvidia.com/gpu.count where it counts physical GPUs (see
    `NodeGpu.physical_count`), else whole GPUs offered (time-sliced replicas divided back)
    plus the GPUs the MIG slices take. `per_gpu`: compute slices of one of its GPUs, from the
    GPU model (default MIG_COMPUTE_SLICES)."""
    slices_per_gpu = per_gpu or MIG_COMPUTE_SLICES
    single = gpu.single_mig_slices if gpu.mig_strategy == "single" else None
    whole_units = gpu.allocatable or gpu.capacity
    slices: dict[str, float] = {p: n for p, n in gpu.mig_allocatable.items() if n > 0} or {
        p: float(n) for p, n in gpu.mig_labelled.items()
    }
    if single is not None:
        devices = whole_units or float(gpu.labelled_count or 0)
        profile = single_mig_profile(gpu.product, gpu.mig_config) or f"{single}g"
        if devices:
            slices = {profile: devices, **slices}
        whole_units = 0.0
    physical = gpu.physical_count
    if physical is not None:
        basis = "label nvidia.com/gpu.count"
        if gpu.mig_strategy == "single" and not gpu.single_mig_off:
            basis = "cloud label karpenter.k8s.aws/instance-gpu-count"
        return GpuCount(physical, basis, whole=whole_units, slices=slices)
    replicas = gpu.replicas if gpu.replicas and gpu.replicas > 1 else 1
    whole = math.ceil(whole_units / replicas) if whole_units else 0
    in_mig = mig_gpus(slices, slices_per_gpu)
    if not whole and not in_mig:
        return GpuCount(None, "none")
    basis = "MIG layout" if not whole else "resources and MIG layout" if in_mig else "resources"
    return GpuCount(whole + in_mig, basis, at_least=in_mig > 0, whole=whole_units, slices=slices)


def _int(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        return None


def _driver_version(labels: dict[str, str]) -> str | None:
    full = labels.get("nvidia.com/cuda.driver-version.full")
    if full:
        return full
    for prefix, rev in (
        ("nvidia.com/cuda.driver-version.", "revision"),
        ("nvidia.com/cuda.driver.", "rev"),
    ):
        major = labels.get(prefix + "major")
        if major:
            minor = labels.get(prefix + "minor")
            revision = labels.get(prefix + rev)
            return ".".join(p for p in (major, minor, revision) if p)
    return None


def _cuda_version(labels: dict[str, str]) -> str | None:
    full = labels.get("nvidia.com/cuda.runtime-version.full")
    if full:
        return full
    for prefix in ("nvidia.com/cuda.runtime-version.", "nvidia.com/cuda.runtime."):
        major = labels.get(prefix + "major")
        if major:
            minor = labels.get(prefix + "minor")
            return f"{major}.{minor}" if minor else major
    return None


def _mig_labels(labels: dict[str, str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for key, value in labels.items():
        if key.startswith(MIG_PREFIX) and key.endswith(".count"):
            profile = mig_profile_of_label(key)
            count = _int(value)
            if profile and count:
                out[profile] = count
    return out


def node_gpu(node: Node, dra_devices: int = 0) -> NodeGpu:
    labels = node.labels
    alloc = node.status.allocatable
    cap = node.status.capacity
    names = tuple(sorted(k for k in {*alloc, *cap} if is_gpu_resource(k)))
    whole_alloc = 0.0
    whole_cap = 0.0
    for name in WHOLE_GPU_RESOURCES:
        whole_alloc = whole_alloc or count_or_zero(alloc.get(name))
        whole_cap = whole_cap or count_or_zero(cap.get(name))
    if not whole_alloc and not alloc and whole_cap:
        whole_alloc = whole_cap  # objects without status.allocatable (trimmed exports)
    mig = {
        k.removeprefix(MIG_PREFIX): count_or_zero(v)
        for k, v in (alloc or cap).items()
        if k.startswith(MIG_PREFIX)
    }
    hardware = (
        labels.get("nvidia.com/gpu.present") == "true"
        or "nvidia.com/gpu.product" in labels
        or labels.get(_NVIDIA_PCI_LABEL) == "true"
        or any(k in labels for k in _CLOUD_GPU_LABELS)
    )
    product = labels.get("nvidia.com/gpu.product") or next(
        (labels[k] for k in _CLOUD_GPU_LABELS if k in labels), None
    )
    return NodeGpu(
        allocatable=whole_alloc,
        capacity=whole_cap,
        mig_allocatable=mig,
        resource_names=names,
        hardware=hardware,
        product=product,
        labelled_count=_int(labels.get("nvidia.com/gpu.count"))
        or _int(labels.get("karpenter.k8s.aws/instance-gpu-count")),
        memory_mib=_int(labels.get("nvidia.com/gpu.memory")),
        driver=_driver_version(labels),
        cuda=_cuda_version(labels),
        vgpu_host_driver=labels.get("nvidia.com/vgpu.host-driver-version"),
        mig_capable={"true": True, "false": False}.get(labels.get("nvidia.com/mig.capable", "")),
        mig_strategy=labels.get("nvidia.com/mig.strategy"),
        mig_config=labels.get("nvidia.com/mig.config"),
        sharing_strategy=labels.get("nvidia.com/gpu.sharing-strategy"),
        replicas=_int(labels.get("nvidia.com/gpu.replicas")),
        offered=offered_resources(node),
        mig_labelled=_mig_labels(labels),
        dra_devices=dra_devices,
        workload_config=labels.get("nvidia.com/gpu.workload.config"),
        status_known=bool(node.status.capacity or node.status.allocatable),
        single_mig_slices=_single_mig_slices(labels, product),
        cloud_count=_int(labels.get("karpenter.k8s.aws/instance-gpu-count")),
    )


_MIG_SUFFIX = re.compile(r"-MIG-(\d+)g\.")
_MIG_PROFILE_SUFFIX = re.compile(r"-MIG-(\d+g\.[0-9a-z.+-]+)$")


_SINGLE_MIG_LABELS = (
    "nvidia.com/gpu.slices.ci",
    "nvidia.com/gpu.slices.gi",
    "nvidia.com/gpu.multiprocessors",
    "nvidia.com/gpu.engines.copy",
    "nvidia.com/gpu.engines.decoder",
    "nvidia.com/gpu.engines.encoder",
    "nvidia.com/gpu.engines.jpeg",
    "nvidia.com/gpu.engines.ofa",
)
"""Labels GFD writes only for MIG devices under the single strategy (knowledge/gfd_labels.yaml,
"MIG: strategy=single overrides")."""


def _single_mig_slices(labels: dict[str, str], product: str | None) -> int | None:
    """Compute slices of each MIG device the single strategy offers as nvidia.com/gpu: GFD
    names the device's profile in gpu.product (`NVIDIA-A100-SXM4-40GB-MIG-1g.5gb`) and its
    slices in gpu.slices.ci/gi (knowledge/gfd_labels.yaml). None without the single strategy or
    without MIG devices; 1, the fewest, when MIG devices show but not their size."""
    if labels.get("nvidia.com/mig.strategy") != "single":
        return None
    match = _MIG_SUFFIX.search(product or "")
    if match:
        return int(match.group(1))
    for key in ("nvidia.com/gpu.slices.ci", "nvidia.com/gpu.slices.gi"):
        slices = _int(labels.get(key))
        if slices:
            return slices
    if any(key in labels for key in _SINGLE_MIG_LABELS):
        return profile_slices(single_mig_profile(product, labels.get("nvidia.com/mig.config")))
    return None


_ALL_ONE_PROFILE = re.compile(r"^all-(\d+g\.[0-9a-z.+-]+)$")


def single_mig_profile(product: str | None, mig_config: str | None) -> str:
    """The profile of the MIG devices the single strategy offers: the `-MIG-<profile>` suffix
    of gpu.product, else mig-parted's `all-<profile>` config name (nvidia.com/mig.config),
    else '' (unknown)."""
    named = _MIG_PROFILE_SUFFIX.search(product or "")
    if named:
        return named.group(1)
    config = _ALL_ONE_PROFILE.match(mig_config or "")
    return config.group(1) if config else ""


def mig_profile_of_label(label: str) -> str | None:
    """'nvidia.com/mig-1g.10gb.count' -> '1g.10gb'."""
    match = _MIG_PROFILE.match(label)
    return match.group(1) if match else None


def dra_gpu_devices(slices: tuple[GenericObject, ...]) -> dict[str, int]:
    """Node name -> devices published by GPU DRA drivers (resource.k8s.io ResourceSlices)."""
    out: dict[str, int] = {}
    for obj in slices:
        spec = obj.spec if isinstance(obj.spec, dict) else {}
        node = spec.get("nodeName")
        if spec.get("driver") not in GPU_DRA_DRIVERS or not isinstance(node, str):
            continue
        devices = spec.get("devices")
        out[node] = out.get(node, 0) + (len(devices) if isinstance(devices, list) else 0)
    return out
