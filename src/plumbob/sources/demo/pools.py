"""Node pools of the demo EKS cluster: the pool table, node layout and Node objects."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass

from plumbob.sources.demo.base import (
    ECR_EKS,
    REGION,
    Context,
    Obj,
    hex_id,
    make_uid,
    sha256,
    sort_keys,
    ts,
    unix,
)

KUBELET_VERSION = "v1.31.4-eks-aeac579"
OS_IMAGE = "Amazon Linux 2023.6.20241212"
KERNEL = "6.1.119-129.201.amzn2023.x86_64"
KERNEL_OLD = "6.1.115-126.197.amzn2023.x86_64"
CONTAINERD = "containerd://1.7.23"
CONTAINERD_OLD = "containerd://1.7.22"
DOCKER = "docker://25.0.5"
"""Docker Engine through cri-dockerd, as a kubelet past 1.24 reports it (planted:
node-docker-runtime)."""
DRIVER_OLD = "535.216.01"

# NVIDIA driver -> highest CUDA it supports (GFD cuda.runtime-version), from
# knowledge/cuda_driver_compat.yaml Table 3 (550.54.15 -> 12.4, 560.35.03 -> 12.6,
# 535.104.05 -> 12.2).
CUDA_OF_DRIVER = {"550.127.05": "12.4", "560.35.03": "12.6", DRIVER_OLD: "12.2"}

ZONE_IDS = {"us-west-2a": "usw2-az2", "us-west-2b": "usw2-az1", "us-west-2c": "usw2-az3"}
# One /18 per zone in the 10.0.0.0/16 VPC: third octet base of each zone's subnet.
_ZONE_SUBNET = {"us-west-2a": 0, "us-west-2b": 64, "us-west-2c": 128}

MIN_NODES = 3
MAX_NODES = 30_000
# Pools must be this large before a node is set aside as idle: smaller pools need every
# node for the fixed workloads (1 devbox + 5 training pods; 18 L4 GPUs).
TRAIN_IDLE_MIN = 7
L4_IDLE_MIN = 6
BATCH_POOL = "inference-l4-batch"
"""Karpenter NodePool of the idle L4 node: made for batch embedding jobs, tainted
acme.ai/workload=batch, which no workload tolerates any more (planted: gpu-idle,
node-pool-taint-untolerated)."""
SHARED_CONFIG = "l4-shared"
"""Device-plugin config (node label nvidia.com/device-plugin.config) of the one time-sliced L4
node: 2 replicas per GPU, advertised as nvidia.com/gpu (planted: gpu-shared-advertised-as-whole).
"""
SHARED_REPLICAS = 2
BATCH_TAINT: Obj = {"effect": "NoSchedule", "key": "acme.ai/workload", "value": "batch"}
BATCH_TOLERATION: Obj = {"effect": "NoSchedule", "key": "acme.ai/workload", "operator": "Exists"}
"""Given to the GPU operator's node agents (ClusterPolicy daemonsets.tolerations), so that they
run on BATCH_POOL's node."""


@dataclass(frozen=True, slots=True)
class Gpu:
    """One GPU model as GFD labels and Karpenter's instance labels describe it."""

    product: str
    count: int
    memory_mib: int
    family: str
    compute: tuple[int, int]
    mig_capable: bool
    short_name: str
    ec2_memory_mib: int


@dataclass(frozen=True, slots=True)
class Pool:
    """A node pool: an EKS managed node group or a Karpenter NodePool."""

    name: str
    karpenter: bool
    instance_type: str
    share: float
    minimum: int
    cpu: int
    memory_gib: int
    max_pods: int
    disk_gib: int
    cpu_vendor: str
    zones: tuple[str, ...]
    gpu: Gpu | None = None
    driver: str | None = None
    efa: int = 0
    age_days: tuple[int, int] = (20, 40)

    @property
    def label_key(self) -> str:
        return "karpenter.sh/nodepool" if self.karpenter else "eks.amazonaws.com/nodegroup"

    @property
    def selector(self) -> dict[str, str]:
        """The nodeSelector that pins a pod to this pool."""
        return {self.label_key: self.name}


H100 = Gpu("NVIDIA-H100-80GB-HBM3", 8, 81559, "hopper", (9, 0), True, "h100", 81920)
L4 = Gpu("NVIDIA-L4", 4, 23034, "ada-lovelace", (8, 9), False, "l4", 22888)
A10G = Gpu("NVIDIA-A10G", 1, 23028, "ampere", (8, 6), False, "a10g", 24576)

_ALL_ZONES = ("us-west-2a", "us-west-2b", "us-west-2c")

SYSTEM = Pool("system", False, "m6i.2xlarge", 0.40, 1, 8, 32, 110, 100, "Intel", _ALL_ZONES)
TRAIN = Pool(
    "gpu-train-h100",
    False,
    "p5.48xlarge",
    0.25,
    1,
    192,
    2048,
    250,
    500,
    "AMD",
    ("us-west-2c",),
    H100,
    "550.127.05",
    efa=32,
    age_days=(30, 60),
)
INFER_L4 = Pool(
    "inference-l4",
    True,
    "g6.12xlarge",
    0.27,
    1,
    48,
    192,
    250,
    200,
    "AMD",
    _ALL_ZONES,
    L4,
    "560.35.03",
    age_days=(1, 9),
)
INFER_A10G = Pool(
    "gpu-infer-a10g",
    False,
    "g5.xlarge",
    0.08,
    0,
    4,
    16,
    110,
    100,
    "AMD",
    _ALL_ZONES,
    A10G,
    "550.127.05",
)
POOLS = (SYSTEM, TRAIN, INFER_L4, INFER_A10G)
GPU_POOLS = (TRAIN, INFER_L4, INFER_A10G)


@dataclass(frozen=True, slots=True)
class NodeSlot:
    """One node of the layout with the attributes that vary inside its pool."""

    index: int
    pool: Pool
    name: str
    ip: str
    zone: str
    age: int
    kernel: str = KERNEL
    containerd: str = CONTAINERD
    driver: str | None = None
    tainted: bool = True
    idle: bool = False
    replicas: int = 1
    """Time-slicing replicas per GPU the node's device plugin advertises."""

    @property
    def instance_id(self) -> str:
        return "i-0" + hex_id(self.name, 16)


@dataclass(frozen=True, slots=True)
class Layout:
    """Every node of the demo cluster, by pool, plus the nodes that carry planted defects."""

    nodes: tuple[NodeSlot, ...]
    pools: dict[str, tuple[int, ...]]
    untainted: int
    old_kernel: int | None
    old_driver: int | None
    idle: tuple[int, ...]
    old_containerd: tuple[int, ...]
    docker: int | None = None
    """A system node launched from a custom AMI that runs Docker Engine through cri-dockerd."""
    shared: int | None = None
    """The L4 node whose GPUs are time-sliced (SHARED_CONFIG)."""

    def of(self, pool: Pool) -> tuple[int, ...]:
        """Global node indexes of a pool."""
        return self.pools[pool.name]


def pool_sizes(nodes: int) -> dict[str, int]:
    """Split `nodes` over the pools by share, keeping every pool at its minimum."""
    if not MIN_NODES <= nodes <= MAX_NODES:
        raise ValueError(f"demo nodes must be between {MIN_NODES} and {MAX_NODES}, got {nodes}")
    sizes = {p.name: max(p.minimum, round(nodes * p.share)) for p in POOLS[1:]}
    sizes = {SYSTEM.name: nodes - sum(sizes.values()), **sizes}
    if sizes[SYSTEM.name] < SYSTEM.minimum:
        raise ValueError(f"demo nodes={nodes} leaves fewer than {SYSTEM.minimum} system nodes")
    return sizes


def build_layout(nodes: int, seed: int) -> Layout:
    """Deterministic node names, zones, ages and planted node roles for `nodes` nodes."""
    sizes = pool_sizes(nodes)
    rng = random.Random(f"{seed}:layout")
    placements: list[tuple[Pool, int, str]] = []
    for pool in POOLS:
        placements += [(pool, i, pool.zones[i % len(pool.zones)]) for i in range(sizes[pool.name])]
    per_zone = {z: sum(1 for _, _, zone in placements if zone == z) for z in _ALL_ZONES}
    hosts = {z: iter(rng.sample(range(16, 16_370), n)) for z, n in per_zone.items()}

    first = {p.name: sum(sizes[q.name] for q in POOLS[: POOLS.index(p)]) for p in POOLS}
    n_sys, n_train, n_l4 = sizes[SYSTEM.name], sizes[TRAIN.name], sizes[INFER_L4.name]
    # Drift needs a clear majority, so planted minorities appear from three nodes on.
    old_kernel = first[SYSTEM.name] + 1 if n_sys >= 3 else None
    docker = first[SYSTEM.name] + 2 if n_sys >= 4 else None
    shared = first[INFER_L4.name] + 1 if n_l4 >= L4_IDLE_MIN else None
    untainted = first[TRAIN.name]
    old_driver = first[TRAIN.name] + 1 if n_train >= 3 else None
    idle: list[int] = []
    if n_train >= TRAIN_IDLE_MIN:
        idle.append(first[TRAIN.name] + n_train - 1)
    if n_l4 >= L4_IDLE_MIN:
        idle.append(first[INFER_L4.name] + n_l4 - 1)
    old_containerd = tuple(
        first[INFER_L4.name] + i
        for i in range(n_l4)
        if i % 8 in (2, 5, 7) and first[INFER_L4.name] + i not in idle  # idle: a pool of its own
    )

    slots: list[NodeSlot] = []
    for index, (pool, _, zone) in enumerate(placements):
        host = next(hosts[zone])
        ip = f"10.0.{_ZONE_SUBNET[zone] + host // 256}.{host % 256}"
        low, high = pool.age_days
        age = rng.randint(low * 86_400, high * 86_400)
        slot = NodeSlot(
            index=index,
            pool=pool,
            name=f"ip-{ip.replace('.', '-')}.{REGION}.compute.internal",
            ip=ip,
            zone=zone,
            age=97 * 86_400 + age % 86_400 if index == old_kernel else age,
            kernel=KERNEL_OLD if index == old_kernel else KERNEL,
            containerd=DOCKER
            if index == docker
            else CONTAINERD_OLD
            if index in old_containerd
            else CONTAINERD,
            driver=DRIVER_OLD if index == old_driver else pool.driver,
            tainted=pool.gpu is not None and index != untainted,
            idle=index in idle,
            replicas=SHARED_REPLICAS if index == shared else 1,
        )
        slots.append(slot)
    pools = {p.name: tuple(range(first[p.name], first[p.name] + sizes[p.name])) for p in POOLS}
    return Layout(
        tuple(slots),
        pools,
        untainted,
        old_kernel,
        old_driver,
        tuple(idle),
        old_containerd,
        docker,
        shared,
    )


# ----------------------------------------------------------------------------- node images

# (image reference, compressed size in bytes) pulled on the nodes of each pool.
_DAEMON_IMAGES = (
    (f"{ECR_EKS}/amazon-k8s-cni:v1.19.0-eksbuild.1", 48_733_914),
    (f"{ECR_EKS}/amazon-k8s-cni-init:v1.19.0-eksbuild.1", 62_152_335),
    (f"{ECR_EKS}/amazon/aws-network-policy-agent:v1.1.5-eksbuild.1", 31_425_118),
    (f"{ECR_EKS}/eks/kube-proxy:v1.31.3-minimal-eksbuild.2", 37_921_504),
    (f"{ECR_EKS}/eks/aws-ebs-csi-driver:v1.37.0", 87_614_022),
    (f"{ECR_EKS}/eks/csi-node-driver-registrar:v2.12.0-eks-1-31-7", 15_120_882),
    (f"{ECR_EKS}/eks/livenessprobe:v2.14.0-eks-1-31-7", 14_006_559),
    ("quay.io/prometheus/node-exporter:v1.8.2", 11_946_274),
    ("registry.k8s.io/nfd/node-feature-discovery:v0.16.6", 74_380_113),
    (f"{ECR_EKS}/eks/pause:3.10", 299_513),
)
_GPU_DAEMON_IMAGES = (
    ("nvcr.io/nvidia/k8s-device-plugin:v0.17.0", 152_360_911),
    ("nvcr.io/nvidia/cloud-native/gpu-operator-validator:v24.9.1", 203_118_405),
)
_DCGM_IMAGE = ("nvcr.io/nvidia/k8s/dcgm-exporter:3.3.9-3.6.1-ubuntu22.04", 381_052_770)
_POOL_IMAGES: dict[str, tuple[tuple[str, int], ...]] = {
    SYSTEM.name: (
        ("docker.io/library/nginx:1.27.3-alpine", 20_512_407),
        (f"{ECR_EKS}/eks/coredns:v1.11.3-eksbuild.2", 18_462_131),
        ("public.ecr.aws/karpenter/controller:1.1.1", 49_816_202),
        ("quay.io/prometheus/prometheus:v2.55.1", 111_306_421),
        ("docker.io/grafana/grafana:11.3.1", 128_802_954),
        ("docker.io/velero/velero:v1.15.0", 77_210_316),
        ("nvcr.io/nvidia/gpu-operator:v24.9.1", 178_422_088),
    ),
    TRAIN.name: (
        _DCGM_IMAGE,
        ("nvcr.io/nvidia/cloud-native/k8s-mig-manager:v0.10.0-ubuntu20.04", 148_212_930),
        ("public.ecr.aws/eks/aws-efa-k8s-device-plugin:v0.5.6", 16_207_361),
        ("nvcr.io/nvidia/pytorch:23.08-py3", 9_421_870_334),
        ("docker.io/nvidia/cuda:12.4.1-cudnn-devel-ubuntu22.04", 5_627_115_620),
    ),
    INFER_L4.name: (
        _DCGM_IMAGE,
        ("docker.io/vllm/vllm-openai:v0.6.4.post1", 9_823_466_112),
        ("docker.io/vllm/vllm-openai:latest", 9_910_327_446),
        ("nvcr.io/nvidia/tritonserver:24.08-py3", 14_637_275_310),
        ("ghcr.io/huggingface/text-generation-inference:2.4.1", 6_204_880_145),
        ("ghcr.io/huggingface/text-embeddings-inference:89-1.5", 1_287_403_118),
        ("ghcr.io/acme-ai/sdxl-server:0.9.3", 8_134_001_764),
    ),
    INFER_A10G.name: (
        ("ghcr.io/acme-ai/sam2-server:latest", 7_402_550_913),
        ("ghcr.io/huggingface/text-embeddings-inference:86-1.5", 1_279_120_006),
        ("docker.io/kserve/huggingfaceserver:v0.15.0-gpu", 8_911_640_532),
    ),
}


def _image_entry(ref: str, size: int) -> Obj:
    repo = ref.rsplit(":", 1)[0]
    return {"names": [f"{repo}@sha256:{sha256(ref)}", ref], "sizeBytes": size}


def _node_images(pool: Pool) -> list[Obj]:
    images = list(_DAEMON_IMAGES) + list(_POOL_IMAGES[pool.name])
    if pool.gpu is not None:
        images += _GPU_DAEMON_IMAGES
    images.sort(key=lambda item: (-item[1], item[0]))
    return [_image_entry(ref, size) for ref, size in images]


# ----------------------------------------------------------------------------- node objects


def _reserved_cpu_millis(cores: int) -> int:
    # EKS AMI kube-reserved CPU: 6% of the first core, 1% of the second,
    # 0.5% of cores 3-4, 0.25% of the rest (awslabs/amazon-eks-ami nodeadm).
    return 60 + 10 + 10 + (cores - 4) * 5 // 2


def _resources(pool: Pool) -> tuple[Obj, Obj]:
    """(capacity, allocatable) of a node of `pool`."""
    memory_ki = int(pool.memory_gib * 1024 * 1024 * 0.9655)
    reserved_ki = (255 + 11 * pool.max_pods + 100) * 1024
    disk_ki = int(pool.disk_gib * 1024 * 1024 * 0.985)
    capacity: Obj = {
        "cpu": str(pool.cpu),
        "ephemeral-storage": f"{disk_ki}Ki",
        "hugepages-1Gi": "0",
        "hugepages-2Mi": "0",
        "memory": f"{memory_ki}Ki",
        "pods": str(pool.max_pods),
    }
    allocatable: Obj = {
        "cpu": f"{pool.cpu * 1000 - _reserved_cpu_millis(pool.cpu)}m",
        "ephemeral-storage": str(int(disk_ki * 1024 * 0.9) - 1024**3),
        "hugepages-1Gi": "0",
        "hugepages-2Mi": "0",
        "memory": f"{memory_ki - reserved_ki}Ki",
        "pods": str(pool.max_pods),
    }
    if pool.gpu is not None:
        capacity["nvidia.com/gpu"] = allocatable["nvidia.com/gpu"] = str(pool.gpu.count)
    if pool.efa:
        capacity["vpc.amazonaws.com/efa"] = allocatable["vpc.amazonaws.com/efa"] = str(pool.efa)
    return capacity, allocatable


def _nfd_labels(slot: NodeSlot) -> dict[str, str]:
    major, minor, rest = slot.kernel.split(".", 2)
    labels = {
        "feature.node.kubernetes.io/cpu-model.vendor_id": slot.pool.cpu_vendor,
        "feature.node.kubernetes.io/kernel-version.full": slot.kernel,
        "feature.node.kubernetes.io/kernel-version.major": major,
        "feature.node.kubernetes.io/kernel-version.minor": minor,
        "feature.node.kubernetes.io/kernel-version.revision": rest.split("-", 1)[0],
        "feature.node.kubernetes.io/pci-1d0f.present": "true",
        "feature.node.kubernetes.io/storage-nonrotationaldisk": "true",
        "feature.node.kubernetes.io/system-os_release.ID": "amzn",
        "feature.node.kubernetes.io/system-os_release.VERSION_ID": "2023",
        "feature.node.kubernetes.io/system-os_release.VERSION_ID.major": "2023",
    }
    if slot.pool.gpu is not None:
        labels["feature.node.kubernetes.io/pci-10de.present"] = "true"
        labels["feature.node.kubernetes.io/pci-0302_10de.present"] = "true"
    return labels


def gfd_labels(slot: NodeSlot) -> dict[str, str]:
    """NVIDIA GPU Feature Discovery and GPU Operator labels (knowledge/gfd_labels.yaml)."""
    gpu, driver = slot.pool.gpu, slot.driver
    if gpu is None or driver is None:
        return {}
    d_major, d_minor, d_rev = driver.split(".")
    cuda = CUDA_OF_DRIVER[driver]
    c_major, c_minor = cuda.split(".")
    labels = {
        "nvidia.com/cuda.driver-version.full": driver,
        "nvidia.com/cuda.driver-version.major": d_major,
        "nvidia.com/cuda.driver-version.minor": d_minor,
        "nvidia.com/cuda.driver-version.revision": d_rev,
        "nvidia.com/cuda.driver.major": d_major,
        "nvidia.com/cuda.driver.minor": d_minor,
        "nvidia.com/cuda.driver.rev": d_rev,
        "nvidia.com/cuda.runtime-version.full": cuda,
        "nvidia.com/cuda.runtime-version.major": c_major,
        "nvidia.com/cuda.runtime-version.minor": c_minor,
        "nvidia.com/cuda.runtime.major": c_major,
        "nvidia.com/cuda.runtime.minor": c_minor,
        "nvidia.com/gfd.timestamp": str(unix(slot.age % 3_600 + 60)),
        "nvidia.com/gpu.compute.major": str(gpu.compute[0]),
        "nvidia.com/gpu.compute.minor": str(gpu.compute[1]),
        "nvidia.com/gpu.count": str(gpu.count),
        "nvidia.com/gpu.family": gpu.family,
        "nvidia.com/gpu.machine": slot.pool.instance_type,
        "nvidia.com/gpu.memory": str(gpu.memory_mib),
        "nvidia.com/gpu.mode": "compute",
        "nvidia.com/gpu.present": "true",
        "nvidia.com/gpu.product": gpu.product + ("-SHARED" if slot.replicas > 1 else ""),
        "nvidia.com/gpu.replicas": str(slot.replicas),
        "nvidia.com/gpu.sharing-strategy": "time-slicing" if slot.replicas > 1 else "none",
        "nvidia.com/mig.capable": str(gpu.mig_capable).lower(),
        "nvidia.com/mig.strategy": "single",
        "nvidia.com/mps.capable": "false",
        "nvidia.com/vgpu.present": "false",
    }
    # The EKS GPU AMI ships driver and toolkit, so the GPU Operator marks them pre-installed.
    operands = {
        "container-toolkit": "true",
        "dcgm": "true",
        # The A10G node group was created with dcgm-exporter switched off (planted defect).
        "dcgm-exporter": "false" if slot.pool is INFER_A10G else "true",
        "device-plugin": "true",
        "driver": "pre-installed",
        "gpu-feature-discovery": "true",
        "node-status-exporter": "true",
        "operator-validator": "true",
    }
    if gpu.mig_capable:
        operands["mig-manager"] = "true"
        labels["nvidia.com/mig.config"] = "all-disabled"
        labels["nvidia.com/mig.config.state"] = "success"
    labels.update({f"nvidia.com/gpu.deploy.{k}": v for k, v in operands.items()})
    if slot.replicas > 1:
        labels["nvidia.com/device-plugin.config"] = SHARED_CONFIG
    return labels


def _labels(slot: NodeSlot, cluster: str) -> dict[str, str]:
    pool = slot.pool
    it = pool.instance_type
    family, size = it.split(".")
    labels = {
        "beta.kubernetes.io/arch": "amd64",
        "beta.kubernetes.io/instance-type": it,
        "beta.kubernetes.io/os": "linux",
        "failure-domain.beta.kubernetes.io/region": REGION,
        "failure-domain.beta.kubernetes.io/zone": slot.zone,
        "k8s.io/cloud-provider-aws": hex_id(cluster, 32),
        "kubernetes.io/arch": "amd64",
        "kubernetes.io/hostname": slot.name,
        "kubernetes.io/os": "linux",
        "node.kubernetes.io/instance-type": it,
        "topology.ebs.csi.aws.com/zone": slot.zone,
        "topology.k8s.aws/zone-id": ZONE_IDS[slot.zone],
        "topology.kubernetes.io/region": REGION,
        "topology.kubernetes.io/zone": slot.zone,
    }
    if pool.karpenter and pool.gpu is not None:
        labels |= {
            "karpenter.k8s.aws/ec2nodeclass": "gpu",
            "karpenter.k8s.aws/instance-category": family[0],
            "karpenter.k8s.aws/instance-cpu": str(pool.cpu),
            "karpenter.k8s.aws/instance-cpu-manufacturer": pool.cpu_vendor.lower(),
            "karpenter.k8s.aws/instance-family": family,
            "karpenter.k8s.aws/instance-generation": family[1:],
            "karpenter.k8s.aws/instance-gpu-count": str(pool.gpu.count),
            "karpenter.k8s.aws/instance-gpu-manufacturer": "nvidia",
            "karpenter.k8s.aws/instance-gpu-memory": str(pool.gpu.ec2_memory_mib),
            "karpenter.k8s.aws/instance-gpu-name": pool.gpu.short_name,
            "karpenter.k8s.aws/instance-hypervisor": "nitro",
            "karpenter.k8s.aws/instance-memory": str(pool.memory_gib * 1024),
            "karpenter.k8s.aws/instance-size": size,
            "karpenter.sh/capacity-type": "on-demand",
            "karpenter.sh/initialized": "true",
            "karpenter.sh/nodepool": nodepool_of(slot),
            "karpenter.sh/registered": "true",
        }
    else:
        labels |= {
            "eks.amazonaws.com/capacityType": "ON_DEMAND",
            "eks.amazonaws.com/nodegroup": pool.name,
            "eks.amazonaws.com/nodegroup-image": "ami-0" + hex_id(pool.name + OS_IMAGE, 16),
            "eks.amazonaws.com/sourceLaunchTemplateId": "lt-0" + hex_id(pool.name, 16),
            "eks.amazonaws.com/sourceLaunchTemplateVersion": "4",
        }
    if pool.efa:
        labels["vpc.amazonaws.com/efa.present"] = "true"
    return labels | _nfd_labels(slot) | gfd_labels(slot)


def _conditions(age: int) -> list[Obj]:
    kinds = (
        (
            "MemoryPressure",
            "False",
            "KubeletHasSufficientMemory",
            "kubelet has sufficient memory available",
        ),
        ("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
        ("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
        ("Ready", "True", "KubeletReady", "kubelet is posting ready status"),
    )
    return [
        {
            "lastHeartbeatTime": ts(age % 40 + 5),
            "lastTransitionTime": ts(age - 45),
            "message": message,
            "reason": reason,
            "status": status,
            "type": kind,
        }
        for kind, status, reason, message in kinds
    ]


def nodepool_of(slot: NodeSlot) -> str:
    """The Karpenter NodePool (or node group) that made the node: the pool's, except for the
    idle L4 node, which BATCH_POOL made."""
    if slot.pool is INFER_L4 and slot.idle:
        return BATCH_POOL
    return slot.pool.name


def build_node(ctx: Context, slot: NodeSlot) -> Obj:
    """The Node object of one layout slot, as `kubectl get node -o json` shows it."""
    pool = slot.pool
    annotations = {
        "alpha.kubernetes.io/provided-node-ip": slot.ip,
        "csi.volume.kubernetes.io/nodeid": json.dumps({"ebs.csi.aws.com": slot.instance_id}),
        "node.alpha.kubernetes.io/ttl": "0",
        "volumes.kubernetes.io/controller-managed-attach-detach": "true",
    }
    if pool.karpenter and slot.idle:
        # Why Karpenter has not consolidated the empty node: someone pinned it while debugging.
        annotations["karpenter.sh/do-not-disrupt"] = "true"
    if pool.karpenter:
        annotations |= {
            "karpenter.k8s.aws/ec2nodeclass-hash": str(int(hex_id("gpu-nodeclass", 15), 16)),
            "karpenter.k8s.aws/ec2nodeclass-hash-version": "v3",
            "karpenter.sh/nodepool-hash": str(int(hex_id(nodepool_of(slot), 15), 16)),
            "karpenter.sh/nodepool-hash-version": "v3",
        }
    metadata = ctx.meta(
        "Node", slot.name, age=slot.age, labels=_labels(slot, ctx.cluster), annotations=annotations
    )
    if pool.karpenter:
        metadata["finalizers"] = ["karpenter.sh/termination"]
    spec: Obj = {"providerID": f"aws:///{slot.zone}/{slot.instance_id}"}
    if slot.tainted:
        spec["taints"] = [{"effect": "NoSchedule", "key": "nvidia.com/gpu", "value": "present"}]
    if nodepool_of(slot) == BATCH_POOL:
        spec["taints"] = [*spec.get("taints", []), dict(BATCH_TAINT)]
    capacity, allocatable = _resources(pool)
    if slot.replicas > 1 and pool.gpu is not None:
        shares = str(pool.gpu.count * slot.replicas)
        capacity["nvidia.com/gpu"] = allocatable["nvidia.com/gpu"] = shares
    handlers: list[Obj] = [
        {"features": {"recursiveReadOnlyMounts": True, "userNamespaces": True}, "name": ""},
        {"features": {"recursiveReadOnlyMounts": True, "userNamespaces": True}, "name": "runc"},
    ]
    if pool.gpu is not None:
        handlers.insert(
            1,
            {
                "features": {"recursiveReadOnlyMounts": True, "userNamespaces": True},
                "name": "nvidia",
            },
        )
    status: Obj = {
        "addresses": [
            {"address": slot.ip, "type": "InternalIP"},
            {"address": slot.name, "type": "InternalDNS"},
            {"address": slot.name, "type": "Hostname"},
        ],
        "allocatable": allocatable,
        "capacity": capacity,
        "conditions": _conditions(slot.age),
        "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
        "images": _node_images(pool),
        "nodeInfo": {
            "architecture": "amd64",
            "bootID": make_uid("boot", slot.name),
            "containerRuntimeVersion": slot.containerd,
            "kernelVersion": slot.kernel,
            "kubeProxyVersion": KUBELET_VERSION,
            "kubeletVersion": KUBELET_VERSION,
            "machineID": hex_id("machine" + slot.name, 32),
            "operatingSystem": "linux",
            "osImage": OS_IMAGE,
            "systemUUID": "ec2" + make_uid("system", slot.name)[3:],
        },
        "runtimeHandlers": handlers,
    }
    if slot.containerd.startswith("docker://"):
        del status["runtimeHandlers"]  # cri-dockerd reports no runtime handlers
    return sort_keys(
        {"apiVersion": "v1", "kind": "Node", "metadata": metadata, "spec": spec, "status": status}
    )
