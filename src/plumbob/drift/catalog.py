"""Every drift id a report can carry, with what it compares, why a difference matters and how to
fix it: what `plumbob explain drift:nvidia_driver` and `plumbob checks --category drift` show.

Ids are built from the tables drift runs on (attributes.ATTRIBUTES, assessed.FLEET_IDS,
cross.CROSS_ATTRIBUTES), so an attribute added there without its text here fails at once
(tests/unit/drift/test_catalog.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from types import MappingProxyType

from plumbob.drift.assessed import FLEET_IDS
from plumbob.drift.attributes import BY_ID, AttributeContext, NodeAttributes, attribute_title
from plumbob.drift.cross import CROSS_ATTRIBUTES
from plumbob.drift.deviations import _severity as baseline_severity
from plumbob.drift.findings import CATEGORY, TITLES
from plumbob.drift.pools import Pool


@dataclass(frozen=True, slots=True)
class Doc:
    """What one attribute is, why a difference in it matters, how to bring nodes back in line."""

    what: str
    why: str
    fix: str
    references: tuple[str, ...] = ()


_K8S_SKEW = "https://kubernetes.io/releases/version-skew-policy/"
_GPU_OPERATOR = "https://docs.nvidia.com/datacenter/cloud-native/gpu-operator/latest/"
_MIG = "https://docs.nvidia.com/datacenter/cloud-native/gpu-operator/latest/gpu-operator-mig.html"
_SHARING = "https://docs.nvidia.com/datacenter/cloud-native/gpu-operator/latest/gpu-sharing.html"
_GFD = "https://github.com/NVIDIA/k8s-device-plugin/tree/main/docs/gpu-feature-discovery"
_CUDA_COMPAT = "https://docs.nvidia.com/deploy/cuda-compatibility/"
_REPLACE_NODES = (
    "Replace the odd nodes from the pool's definition instead of patching them by hand: EKS "
    "`eksctl upgrade nodegroup` (or a new launch template version), GKE `gcloud container "
    "node-pools upgrade`, AKS `az aks nodepool upgrade`, Karpenter replaces nodes whose "
    "NodeClass drifted; drain first (`kubectl drain NODE --ignore-daemonsets`)."
)

DOCS: Mapping[str, Doc] = MappingProxyType(
    {
        "kernel": Doc(
            "The node's kernel version (status.nodeInfo.kernelVersion).",
            "The NVIDIA kernel module is built for one kernel. A node left on another kernel by a "
            "partial patch runs a driver built elsewhere, or none when the module build failed, "
            "and GPU pods fail there with 'NVIDIA driver not loaded' while its siblings work. "
            "Kernels also differ in cgroup, network and storage behaviour, so one job behaves "
            "differently by where it lands.",
            _REPLACE_NODES,
        ),
        "os_image": Doc(
            "The node's OS image (status.nodeInfo.osImage).",
            "The OS image carries the kernel, the container runtime and often the NVIDIA driver "
            "and container toolkit. Nodes of one pool on different images fail differently: a "
            "problem seen on one node cannot be reproduced on the next.",
            _REPLACE_NODES,
        ),
        "architecture": Doc(
            "The node's CPU architecture (kubernetes.io/arch, status.nodeInfo.architecture).",
            "An image built for amd64 fails with 'exec format error' on arm64 and the other way "
            "round; most GPU images are built for one architecture. A pool mixing architectures "
            "makes a workload start or crash by node.",
            "Keep one architecture per pool (separate node groups for Grace/arm64 and x86 GPU "
            "nodes), select with `nodeSelector: {kubernetes.io/arch: amd64}`, or build "
            "multi-architecture images.",
        ),
        "kubelet": Doc(
            "The node's kubelet version (status.nodeInfo.kubeletVersion).",
            "Kubelets of one pool at different versions run different device-plugin, DRA and "
            "feature-gate behaviour, and a kubelet outside the supported skew (more than three "
            "minors older than the API server, or newer than it) is unsupported: an upgrade was "
            "left half done.",
            "Finish the upgrade: upgrade the node group to the control plane's minor, or drain "
            "and replace the nodes on the old kubelet. " + _REPLACE_NODES,
            (_K8S_SKEW,),
        ),
        "kube_proxy": Doc(
            "The node's kube-proxy version as the kubelet reports it "
            "(status.nodeInfo.kubeProxyVersion).",
            "kube-proxy programs Service routing on each node; versions apart in one pool route "
            "Services differently, and one outside the supported skew is an upgrade left half "
            "done.",
            "Upgrade kube-proxy with the nodes (the kube-proxy DaemonSet or add-on version, then "
            "the node group). " + _REPLACE_NODES,
            (_K8S_SKEW,),
        ),
        "container_runtime": Doc(
            "Container runtime and version the kubelet reports "
            "(status.nodeInfo.containerRuntimeVersion, e.g. containerd://1.7.23).",
            "The NVIDIA container toolkit configures the runtime to hand GPUs to containers; "
            "runtime versions apart (containerd 2.0 changed its configuration format) leave "
            "some nodes starting GPU pods without their GPUs.",
            _REPLACE_NODES + " With the GPU Operator, restart the container toolkit pod on the "
            "node afterwards so it rewrites the runtime configuration.",
            (_GPU_OPERATOR,),
        ),
        "nvidia_driver": Doc(
            "The NVIDIA driver version (gpu-feature-discovery labels "
            "nvidia.com/cuda.driver-version.*, or the DRA driver's driverVersion).",
            "The driver decides the newest CUDA a node runs: an image built for a newer CUDA "
            "fails on an older driver with 'CUDA driver version is insufficient', so a job "
            "succeeds or crashes by where it lands, and multi-node NCCL jobs across drivers "
            "hang or fail.",
            "Pin one driver per pool and roll the nodes: with the GPU Operator set "
            "`driver.version` in the ClusterPolicy (or an NVIDIADriver resource per pool) and "
            "let its upgrade controller drain and update the nodes; with drivers in the node "
            "image (GKE `gpu-driver-version`, EKS accelerated AMIs) upgrade the pool as a "
            "whole.",
            (_GPU_OPERATOR, _CUDA_COMPAT),
        ),
        "cuda": Doc(
            "The newest CUDA version the node's driver supports (gpu-feature-discovery "
            "nvidia.com/cuda.runtime-version.*, or the DRA driver's cudaDriverVersion): a "
            "property of the driver, not of any image.",
            "Images that require a CUDA version (NVIDIA_REQUIRE_CUDA) start only on nodes whose "
            "driver supports it; a pool where it differs runs a CUDA 12.8 image on some nodes "
            "and refuses it on others.",
            "Align the NVIDIA driver across the pool (see drift:nvidia_driver); the CUDA "
            "version follows the driver.",
            (_CUDA_COMPAT,),
        ),
        "vgpu_host_driver": Doc(
            "The vGPU manager (hypervisor) driver version the guest sees "
            "(nvidia.com/vgpu.host-driver-version).",
            "A vGPU guest driver works only with compatible host vGPU manager versions; VMs of "
            "one pool on hosts apart fail to load the guest driver after a migration or reboot.",
            "Upgrade the vGPU manager on the hypervisor hosts behind the pool to one version "
            "(and the guest driver to a branch it supports).",
            ("https://docs.nvidia.com/vgpu/latest/grid-vgpu-release-notes-generic-linux-kvm/",),
        ),
        "gpu_product": Doc(
            "The GPU model (nvidia.com/gpu.product, or cloud accelerator labels).",
            "A pool mixing GPU models gives a job sized for 80 GB of GPU memory a 40 GB GPU on "
            "some nodes (out of memory), different speeds to replicas of one service, and a "
            "different price per hour; selecting hardware by pool no longer works.",
            "Keep one GPU model per pool (one instance type per node group) and select models "
            "explicitly with `nodeSelector: {nvidia.com/gpu.product: ...}`.",
            (_GFD,),
        ),
        "gpu_count": Doc(
            "Physical GPUs on the node (nvidia.com/gpu.count, or the cloud's instance GPU count).",
            "A node with fewer GPUs than its identical siblings usually lost one: a GPU fell off "
            "the bus (XID 79) or failed its health check. Jobs that need the full count never "
            "fit there, and the pool's capacity is smaller than planned.",
            "Check the node (`nvidia-smi`, the device plugin's logs, `dmesg` for XID errors), "
            "then drain it and repair or replace it.",
            (_GFD,),
        ),
        "mig_strategy": Doc(
            "The MIG strategy (nvidia.com/mig.strategy: single or mixed).",
            "The strategy decides resource names: under single, MIG devices are nvidia.com/gpu; "
            "under mixed, nvidia.com/mig-<profile>. Pods asking for one name cannot schedule on "
            "nodes using the other.",
            "Set one strategy for the pool in the GPU Operator (`mig.strategy`) or the device "
            "plugin's config (`migStrategy`), then restart the device plugin on the odd nodes.",
            (_MIG,),
        ),
        "mig_config": Doc(
            "The MIG layout the node is told to apply (nvidia.com/mig.config).",
            "Nodes told to apply different MIG layouts offer different slice sizes: a pod asking "
            "for a 3g slice fits some nodes of the pool and stays Pending on the rest.",
            "Label the pool's nodes alike: `kubectl label nodes -l POOL_LABEL=POOL "
            "nvidia.com/mig.config=all-balanced --overwrite` (the MIG manager applies it).",
            (_MIG,),
        ),
        "mig_layout": Doc(
            "The MIG devices the node has (gpu-feature-discovery nvidia.com/mig-<profile>.count "
            "labels, else its nvidia.com/mig-<profile> resources).",
            "A node whose MIG devices differ from its pool's, with the same config, failed to "
            "apply its layout (nvidia.com/mig.config.state=failed) or lost it in a GPU reset: "
            "its capacity is not what the pool promises.",
            "Check nvidia.com/mig.config.state and the MIG manager's logs on the node; drain it "
            "and re-apply the config (relabel nvidia.com/mig.config, or restart the MIG "
            "manager pod).",
            (_MIG,),
        ),
        "sharing_strategy": Doc(
            "The GPU sharing strategy (nvidia.com/gpu.sharing-strategy: none, time-slicing, mps).",
            "On a time-sliced or MPS node several pods share a GPU without memory isolation; "
            "within one pool a latency-sensitive service gets a whole GPU on one node and a "
            "shared one on the next.",
            "Give the pool one device-plugin sharing config (label its nodes "
            "nvidia.com/device-plugin.config=CONFIG, or set the default config).",
            (_SHARING,),
        ),
        "sharing_replicas": Doc(
            "Time-slicing/MPS replicas per GPU (nvidia.com/gpu.replicas).",
            "Replicas decide how many pods share one GPU, hence the node's advertised capacity "
            "and each pod's share; nodes apart in one pool pack differently.",
            "Use one sharing config for the pool (see drift:sharing_strategy).",
            (_SHARING,),
        ),
        "instance_type": Doc(
            "The instance type (node.kubernetes.io/instance-type).",
            "Instance types differ in GPUs, CPU, memory and network (EFA, NVLink); a job sized "
            "for one shape runs slower or does not fit on another. Karpenter pools choose "
            "types per node by design and are not compared on shape.",
            "Keep one instance type per node group, or move the pool to a provisioner that "
            "chooses shapes (Karpenter NodePool requirements) on purpose.",
        ),
        "zone": Doc(
            "The availability zone (topology.kubernetes.io/zone). Nodes of one pool span zones "
            "by design, so fleet drift does not compare it; a baseline may pin it.",
            "Capacity reservations, data and low-latency interconnect live in particular zones; "
            "GPU nodes outside them pay cross-zone traffic or miss the reservation.",
            "Restrict the node group's subnets (or the NodePool's topology requirement) to the "
            "zones the baseline names.",
        ),
        "taints": Doc(
            "The node's taints (spec.taints).",
            "A GPU node missing the pool's taint (nvidia.com/gpu:NoSchedule) fills with "
            "ordinary pods; one with an extra taint left from maintenance takes none of the "
            "pool's pods.",
            "Set taints in the pool definition so every new node has them; fix the odd node "
            "with `kubectl taint nodes NODE nvidia.com/gpu=present:NoSchedule` or remove a "
            "stray one with `kubectl taint nodes NODE KEY:EFFECT-`.",
            ("https://kubernetes.io/docs/concepts/scheduling-eviction/taint-and-toleration/",),
        ),
        "allocatable_cpu": Doc(
            "CPU the node offers to pods (status.allocatable.cpu).",
            "Nodes of one shape offering different CPU have different kubelet reservations "
            "(kube-reserved, system-reserved); pods that fit on siblings stay Pending there.",
            "Give the pool one kubelet configuration (reservations, eviction thresholds) in its "
            "launch template or node class.",
            ("https://kubernetes.io/docs/tasks/administer-cluster/reserve-compute-resources/",),
        ),
        "allocatable_memory": Doc(
            "Memory the node offers to pods (status.allocatable.memory, rounded to 0.1 GiB).",
            "Different kubelet reservations or hugepages settings leave a node with less memory "
            "for pods: data loaders and inference servers sized for the pool are evicted or do "
            "not fit there.",
            "Give the pool one kubelet configuration (see drift:allocatable_cpu).",
            ("https://kubernetes.io/docs/tasks/administer-cluster/reserve-compute-resources/",),
        ),
        "allocatable_gpu": Doc(
            "GPU units the node offers to pods (whole GPUs, time-sliced replicas or MIG slices "
            "in status.allocatable).",
            "A node offering fewer GPU units than its siblings has a GPU the device plugin "
            "marked unhealthy, or a different device-plugin config; GPU pods planned for the "
            "pool do not fit.",
            "Look at the device plugin's logs on the node and `nvidia-smi`; restart the plugin "
            "or drain and repair the node.",
            ("https://github.com/NVIDIA/k8s-device-plugin",),
        ),
        "label": Doc(
            "Every other node label, key by key (labels naming one node, its zone, or read by "
            "an attribute above are left out).",
            "Workloads choose nodes by label (nodeSelector, affinity, Kueue ResourceFlavors): a "
            "node missing its pool's label is skipped by the workloads meant for it, and one "
            "with an extra label attracts workloads meant elsewhere.",
            "Set labels in the pool definition so new nodes get them; fix the odd node with "
            "`kubectl label nodes NODE KEY=VALUE --overwrite`.",
        ),
    }
)
"""Attribute id (and `label`) -> its text."""

_BASELINE_ONLY: Mapping[str, tuple[str, str, Doc]] = MappingProxyType(
    {
        "labels": (
            "low",
            "Node lacks a label its pool's baseline requires",
            Doc(
                "The baseline's `required_labels` of a pool: labels every node must carry.",
                DOCS["label"].why,
                DOCS["label"].fix,
            ),
        ),
        "pool-missing": (
            "low",
            "A pool the baseline declares has no nodes",
            Doc(
                "The pools the baseline declares, against the pools the cluster has.",
                "A pool that vanished (renamed, scaled to zero, deleted) takes its capacity "
                "with it; workloads selecting it stay Pending, and the rest of the baseline "
                "no longer checks anything there.",
                "Recreate or scale up the pool, or, when it was retired on purpose, remove it "
                "from the baseline.",
            ),
        ),
        "kubernetes_version": (
            "high",
            "Control plane is older than the baseline's minimum",
            Doc(
                "The API server version, against the baseline's `min_kubernetes_version`.",
                "The baseline states the oldest Kubernetes the platform supports: features AI "
                "workloads rely on (DRA, JobSet, sidecar containers) and security fixes are "
                "missing below it, and support ends.",
                "Upgrade the control plane (EKS `eksctl upgrade cluster`, GKE `gcloud "
                "container clusters upgrade --master`, AKS `az aks upgrade`), then the nodes.",
                (_K8S_SKEW,),
            ),
        ),
        "component": (
            "medium",
            "A component the baseline requires is missing or at another version",
            Doc(
                "The baseline's `required_components` (ids of knowledge/ai_components.yaml) "
                "with their version ranges, against the components the cluster runs.",
                "The platform's AI stack (GPU operator, DCGM exporter, Kueue, ...) is part of "
                "its intent: a missing component or one outside its range breaks what "
                "workloads expect, and differs from the clusters built to the same baseline.",
                "Install or upgrade the component to the range the baseline names (Helm "
                "release or operator subscription), or change the baseline if the new "
                "version is intended.",
            ),
        ),
        "registry": (
            "medium",
            "Workload pulls images from a registry the baseline does not approve",
            Doc(
                "The registries of workload images, against the baseline's `approved_registries`.",
                "Images from unapproved registries escape the scanning, signing and mirroring "
                "the approved ones get, and pulls of large GPU images from the internet are "
                "slow and rate-limited.",
                "Mirror the image into an approved registry and point the workload at it, or "
                "add the registry to the baseline.",
            ),
        ),
    }
)
"""baseline:<id> -> (severity, title, text) for rules that are no node attribute."""

_CROSS_ONLY: Mapping[str, tuple[str, str, Doc]] = MappingProxyType(
    {
        "component-missing": (
            "medium",
            "A component runs in other clusters but not in this one",
            Doc(
                "The AI components each cluster runs (knowledge/ai_components.yaml), compared "
                "across the clusters of one scan.",
                "Clusters built to one design that differ in components run workloads "
                "differently: a job promoted from staging finds no DCGM exporter or no Kueue in "
                "production.",
                "Install the component where it is missing, from the same chart and values as "
                "in the other clusters (or record why it differs).",
            ),
        ),
        "component-version": (
            "low",
            "A component runs at another version than in most clusters",
            Doc(
                "Versions of the AI components the clusters run (image tags), compared across "
                "clusters.",
                "A component at another version behaves differently from the one the workload "
                "was tested against in the other clusters.",
                "Upgrade the component to the version most clusters run (the same chart "
                "version everywhere).",
            ),
        ),
        "policy-missing": (
            "medium",
            "An admission policy applied in other clusters is missing here",
            Doc(
                "Admission policies (Kyverno, Gatekeeper, ValidatingAdmissionPolicy) each "
                "cluster has, compared across clusters.",
                "A guardrail present in some clusters only lets through here what it stops "
                "elsewhere: untainted GPU pods, unpinned images, GPU requests without limits.",
                "Apply the same policies to every cluster (plumbob policy export writes them "
                "from the baseline), from one repository.",
            ),
        ),
        "policy-mode": (
            "low",
            "An admission policy enforces in some clusters and only audits in others",
            Doc(
                "Whether each admission policy enforces or only audits, compared across clusters.",
                "A policy that only audits reports what the enforcing clusters reject: the "
                "same manifest is admitted in one cluster and refused in the next.",
                "Set the policy to the same mode everywhere (Kyverno `validationFailureAction`, "
                "Gatekeeper `enforcementAction`, ValidatingAdmissionPolicyBinding "
                "`validationActions`).",
            ),
        ),
    }
)
"""cross-cluster:<id> -> (severity, title, text) for comparisons that are no node attribute."""


@dataclass(frozen=True, slots=True)
class DriftEntry:
    """One drift id as `plumbob explain` shows it."""

    id: str
    family: str
    """`drift` (a node against its pool), `baseline` or `cross-cluster`."""
    title: str
    severity: str
    """How severe its findings are, in words (some depend on the pool)."""
    what: str
    why: str
    fix: str
    references: tuple[str, ...] = ()
    category: str = CATEGORY


def _pool(gpu: bool) -> Pool:
    return Pool("c", "p", (NodeAttributes(node="n", pool="p", gpu=gpu),))


def _levels(gpu: str, other: str, how: str = "in GPU pools") -> str:
    return gpu if gpu == other else f"{gpu} {how}, else {other}"


def _fleet(attribute: str) -> DriftEntry:
    doc = DOCS[attribute]
    found = BY_ID.get(attribute)
    if found is None:  # drift:label
        severity, title = "low", "labels"
    else:
        title = found.title
        if attribute in ("kubelet", "kube_proxy"):
            severity = "high outside the supported version skew, else medium"
        else:
            levels = [
                found.severity(
                    AttributeContext(gpu_pool=g, value=None, majority=None, server_version=None)
                )
                for g in (True, False)
            ]
            severity = _levels(*levels)
    return DriftEntry(
        id=f"drift:{attribute}",
        family="drift",
        title=f"{TITLES['drift']}: {title}",
        severity=severity,
        what=doc.what,
        why=doc.why,
        fix=doc.fix,
        references=doc.references,
    )


def _baseline(attribute: str) -> DriftEntry:
    doc = DOCS[attribute]
    if attribute in ("kubelet", "kube_proxy"):
        severity = "high outside the supported version skew, else medium"
    elif attribute == "taints":  # also a `required_taints` entry missing
        severity = "medium; a required taint missing: high in GPU pools, else medium"
    else:
        severity = _levels(
            baseline_severity(attribute, _pool(True), None, None),
            baseline_severity(attribute, _pool(False), None, None),
        )
    return DriftEntry(
        id=f"baseline:{attribute}",
        family="baseline",
        title=f"{TITLES['baseline']}: {attribute_title(attribute)}",
        severity=severity,
        what=f"{doc.what} Compared with the value, glob or version range the baseline file "
        "gives for the node's pool.",
        why=doc.why,
        fix=f"{doc.fix} If the new value is what you intend, change the baseline instead "
        "(`plumbob baseline init` writes today's values).",
        references=doc.references,
    )


def _cross(attribute: str, base: str) -> DriftEntry:
    doc = DOCS[attribute]
    return DriftEntry(
        id=f"cross-cluster:{attribute}",
        family="cross-cluster",
        title=f"{TITLES['cross-cluster']}: {attribute_title(attribute)}",
        severity=_levels(base, "medium", "for GPU pools and models") if base == "high" else base,
        what=f"{doc.what} Compared across the clusters of one scan, for pools of the same "
        "name and nodes of the same GPU model.",
        why=f"{doc.why} Between clusters, a workload promoted from staging to production "
        "meets another value than the one it was tested on.",
        fix=f"{doc.fix} Do it in every cluster, from the same pool definitions.",
        references=doc.references,
    )


def _other(family: str, name: str, row: tuple[str, str, Doc]) -> DriftEntry:
    severity, title, doc = row
    return DriftEntry(
        id=f"{family}:{name}",
        family=family,
        title=title,
        severity=severity,
        what=doc.what,
        why=doc.why,
        fix=doc.fix,
        references=doc.references,
    )


@cache
def drift_entries() -> Mapping[str, DriftEntry]:
    """Every drift id -> its entry, fleet drift first, then baseline, then cross-cluster."""
    out: dict[str, DriftEntry] = {}
    for check in FLEET_IDS:
        out[check] = _fleet(check.removeprefix("drift:"))
    for attribute in BY_ID:
        entry = _baseline(attribute)
        out[entry.id] = entry
    for name, row in _BASELINE_ONLY.items():
        out[f"baseline:{name}"] = _other("baseline", name, row)
    for attribute, base in CROSS_ATTRIBUTES.items():
        out[f"cross-cluster:{attribute}"] = _cross(attribute, base)
    for name, row in _CROSS_ONLY.items():
        out[f"cross-cluster:{name}"] = _other("cross-cluster", name, row)
    return MappingProxyType(out)


def drift_entry(check: str) -> DriftEntry | None:
    return drift_entries().get(check)


def family_ids(family: str) -> list[str]:
    """The ids of a drift family (`drift`, `baseline`, `cross-cluster`)."""
    return [e.id for e in drift_entries().values() if e.family == family]


__all__ = ["DOCS", "DriftEntry", "drift_entries", "drift_entry", "family_ids"]
