"""The demo's workload model: constants, the Workload and Plan types, shared spec helpers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from plumbob.sources.demo.base import Obj, clone
from plumbob.sources.demo.pools import SYSTEM, Layout, Pool
from plumbob.sources.demo.templates import with_defaults

DAY = 86_400

PRIORITY_CLASSES = {
    "system-node-critical": 2_000_001_000,
    "system-cluster-critical": 2_000_000_000,
    "gpu-inference-critical": 1_000_000,
    "gpu-training-high": 500_000,
    "batch-low": 1_000,
}


LLM_NS = "team-llm-serving"
TRAIN_NS = "team-research-training"
VISION_NS = "team-vision"
CPU_NAMESPACES = ("web-frontend", "commerce", "search", "data-pipelines", "platform-tools")
SYSTEM_NAMESPACES = (
    "kube-system",
    "gpu-operator",
    "monitoring",
    "kueue-system",
    "kubeflow",
    "jobset-system",
    "lws-system",
    "keda",
    "kserve",
    "velero",
)
NAMESPACES = (
    "default",
    "kube-node-lease",
    "kube-public",
    *SYSTEM_NAMESPACES,
    LLM_NS,
    TRAIN_NS,
    VISION_NS,
    *CPU_NAMESPACES,
)
GPU_QUOTA_NAMESPACES = (LLM_NS, TRAIN_NS)
PROMETHEUS_DB = "prometheus-kube-prometheus-stack-prometheus-db"
KUEUE_VERSION = "v0.16.1"
KUEUE_API = "kueue.x-k8s.io/v1beta2"
"""The version Kueue stores its objects in from v0.16 on, and the only one v0.20 serves."""
KUEUE_OLD_API = "kueue.x-k8s.io/v1beta1"
OLD_KUEUE_PRIORITY_CLASS = (
    "research-preemptible",
    100,
    "Research jobs that Kueue may preempt for production training.",
)
"""The WorkloadPriorityClass (name, value, description) the demo keeps in KUEUE_OLD_API: its
CRD was left at its v1beta1-only definition (planted: custom-resource-version-removed)."""


@dataclass(slots=True)
class Pvc:
    """A PersistentVolumeClaim (and its bound PersistentVolume) the cluster carries."""

    namespace: str
    name: str
    storage_class: str
    size: str
    access: str
    age: int


@dataclass(slots=True)
class Workload:
    """One controller (Deployment, DaemonSet, PyTorchJob, ...) and how its pods are placed."""

    kind: str
    namespace: str
    name: str
    selector: dict[str, str]
    spec: Obj
    replicas: int = 1
    pool: Pool = SYSTEM
    gpus: int = 0
    labels: dict[str, str] = field(default_factory=dict)
    pod_annotations: dict[str, str] = field(default_factory=dict)
    age: int = 45 * DAY
    hpa: list[Obj] | None = None
    hpa_max: int = 0
    keda_query: str | None = None
    pdb: bool = False
    port: int | None = None
    workers: int = 0
    queue: str | None = None
    ds_pools: tuple[Pool, ...] = ()
    crashloop: bool = False
    rejected: str | None = None
    owner_kind: str | None = None
    pdb_selector: dict[str, str] | None = None
    claim: tuple[str, str, str] | None = None
    """StatefulSet volumeClaimTemplate: (name, storage class, size)."""
    service_name: str | None = None
    backoff_limit: int | None = None
    """PyTorchJob runPolicy.backoffLimit: pod restarts before the job is marked Failed."""
    shared: bool = False
    """Its pods run on the time-sliced L4 node (Layout.shared), one share each."""
    worker_spec: Obj | None = None
    """LeaderWorkerSet: the workers' pod spec (`spec` is the leader's); `workers` per group."""
    unschedulable: str | None = None
    """Why the scheduler places none of its pods (their FailedScheduling message): they stay
    Pending wherever the cluster is large, and request no GPU of the plan's pools."""
    nodes: list[int] = field(default_factory=list)

    @classmethod
    def deployment(cls, namespace: str, name: str, spec: Obj, **fields: Any) -> Workload:
        """A Deployment selecting its pods by `app.kubernetes.io/name`, as the demo's are."""
        return cls("Deployment", namespace, name, {"app.kubernetes.io/name": name}, spec, **fields)

    @property
    def pod_count(self) -> int:
        """Pods this workload has (DaemonSets are counted from the layout instead)."""
        if self.rejected or self.kind == "DaemonSet":
            return 0
        if self.kind == "PyTorchJob":
            return 1 + self.workers
        if self.kind == "LeaderWorkerSet":
            return self.replicas * (1 + self.workers)
        return self.replicas

    @property
    def priority(self) -> int:
        return PRIORITY_CLASSES.get(self.spec.get("priorityClassName", ""), 0)


@dataclass(slots=True)
class Plan:
    """Every workload with its pods placed, plus the claims and GPU totals objects report."""

    layout: Layout
    workloads: list[Workload]
    pvcs: list[Pvc]
    daemon_pods: int

    def gpu_requests(self, namespace: str) -> int:
        """GPUs requested by the existing pods of `namespace` (what a ResourceQuota counts)."""
        return sum(w.gpus * w.pod_count for w in self.workloads if w.namespace == namespace)

    def kueue_gpus(self, pool: Pool) -> int:
        """GPUs of Kueue-admitted jobs on `pool`."""
        return sum(w.gpus * w.pod_count for w in self.workloads if w.queue and w.pool is pool)

    @property
    def pod_total(self) -> int:
        return self.daemon_pods + sum(w.pod_count for w in self.workloads)


PENDING = -1
"""Node index of a pod the scheduler could not place (only in very small demo clusters)."""


def app_labels(name: str, component: str, part_of: str | None = None) -> dict[str, str]:
    labels = {"app.kubernetes.io/name": name, "app.kubernetes.io/component": component}
    if part_of:
        labels["app.kubernetes.io/part-of"] = part_of
    return labels


def pods_metric(name: str, value: str) -> Obj:
    return {
        "pods": {
            "metric": {"name": name},
            "target": {"averageValue": value, "type": "AverageValue"},
        },
        "type": "Pods",
    }


def cpu_metric(utilization: int) -> Obj:
    return {
        "resource": {
            "name": "cpu",
            "target": {"averageUtilization": utilization, "type": "Utilization"},
        },
        "type": "Resource",
    }


def pod_template(w: Workload, labels: dict[str, str], *, restart: str = "Always") -> Obj:
    """The pod template as stored inside a built-in controller (API defaults applied)."""
    metadata: Obj = {"creationTimestamp": None, "labels": dict(sorted(labels.items()))}
    if w.pod_annotations:
        metadata = {"annotations": dict(sorted(w.pod_annotations.items())), **metadata}
    return {"metadata": metadata, "spec": with_defaults(clone(w.spec), restart_policy=restart)}
