"""Typed Kubernetes objects: only the fields plumbob's analyses read; decoding skips the rest."""

from __future__ import annotations

from typing import Any

import msgspec

Quantity = str | int | float
ResourceList = dict[str, Quantity]

_STRUCT = {"frozen": True, "kw_only": True, "rename": "camel", "omit_defaults": True, "gc": False}
"""Options of every model Struct. `gc=False`: objects decoded from a cluster are trees, never
reference cycles, so the cyclic garbage collector need not track the millions of them a big
snapshot holds (16 bytes less each, and no collector passes over them;
https://jcristharif.com/msgspec/structs.html#disabling-garbage-collection-advanced)."""


class Origin(msgspec.Struct, frozen=True, omit_defaults=True, gc=False):
    """Where an object was read from: a file (and line, for YAML), or a live cluster."""

    file: str
    line: int | None = None


class OwnerReference(msgspec.Struct, **_STRUCT):
    kind: str = ""
    name: str = ""
    uid: str = ""
    api_version: str = ""
    controller: bool | None = None


class ObjectMeta(msgspec.Struct, **_STRUCT):
    name: str = ""
    generate_name: str = ""
    namespace: str | None = None
    uid: str = ""
    labels: dict[str, str] = {}
    annotations: dict[str, str] = {}
    owner_references: list[OwnerReference] = []
    creation_timestamp: str | None = None


class Object(msgspec.Struct, **_STRUCT):
    """Base of every snapshot object: type information, metadata and where it came from."""

    api_version: str = ""
    kind: str = ""
    metadata: ObjectMeta = ObjectMeta()
    origin: Origin | None = None

    @property
    def name(self) -> str:
        return self.metadata.name or self.metadata.generate_name

    @property
    def namespace(self) -> str | None:
        return self.metadata.namespace

    @property
    def labels(self) -> dict[str, str]:
        return self.metadata.labels

    @property
    def annotations(self) -> dict[str, str]:
        return self.metadata.annotations

    @property
    def group(self) -> str:
        return api_group(self.api_version)


class GenericObject(Object, **_STRUCT):
    """Any kind without a typed model: metadata typed, the rest kept as plain data."""

    spec: Any = None
    status: Any = None
    data: Any = None
    extra: dict[str, Any] = {}


# ---------------------------------------------------------------- pods and containers


class EnvVar(msgspec.Struct, **_STRUCT):
    name: str = ""
    value: str | None = None
    value_from: dict[str, Any] | None = None


class VolumeMount(msgspec.Struct, **_STRUCT):
    name: str = ""
    mount_path: str = ""
    read_only: bool | None = None


class ResourceRequirements(msgspec.Struct, **_STRUCT):
    requests: ResourceList = {}
    limits: ResourceList = {}
    claims: list[dict[str, Any]] = []


class ContainerPort(msgspec.Struct, **_STRUCT):
    container_port: int | str = 0
    name: str | None = None
    protocol: str | None = None


class Probe(msgspec.Struct, **_STRUCT):
    """A readiness, liveness or startup probe: only its timing is kept (checks ask whether a
    probe exists and how long it tolerates a slow start), not its handler."""

    initial_delay_seconds: int | None = None
    period_seconds: int | None = None
    failure_threshold: int | None = None
    timeout_seconds: int | None = None


class Container(msgspec.Struct, **_STRUCT):
    name: str = ""
    image: str | None = None
    image_pull_policy: str | None = None
    command: list[str] = []
    args: list[str] = []
    env: list[EnvVar] = []
    resources: ResourceRequirements = ResourceRequirements()
    volume_mounts: list[VolumeMount] = []
    ports: list[ContainerPort] = []
    readiness_probe: Probe | None = None
    liveness_probe: Probe | None = None
    startup_probe: Probe | None = None
    security_context: dict[str, Any] | None = None

    def env_value(self, name: str) -> str | None:
        for var in self.env:
            if var.name == name:
                return var.value
        return None


class Toleration(msgspec.Struct, **_STRUCT):
    key: str | None = None
    operator: str | None = None
    value: str | None = None
    effect: str | None = None
    toleration_seconds: int | None = None

    def tolerates(self, taint: Taint) -> bool:
        """Kubernetes' toleration matching (k8s.io/api/core/v1 toleration.go ToleratesTaint)."""
        if self.effect and self.effect != taint.effect:
            return False
        if self.operator == "Exists":
            return not self.key or self.key == taint.key
        return self.key == taint.key and (self.value or "") == (taint.value or "")


class Volume(msgspec.Struct, **_STRUCT):
    name: str = ""
    empty_dir: dict[str, Any] | None = None
    persistent_volume_claim: dict[str, Any] | None = None
    host_path: dict[str, Any] | None = None
    ephemeral: dict[str, Any] | None = None
    config_map: dict[str, Any] | None = None
    secret: dict[str, Any] | None = None
    csi: dict[str, Any] | None = None
    nfs: dict[str, Any] | None = None


class PodSpec(msgspec.Struct, **_STRUCT):
    containers: list[Container] = []
    init_containers: list[Container] = []
    volumes: list[Volume] = []
    node_selector: dict[str, str] = {}
    affinity: dict[str, Any] | None = None
    tolerations: list[Toleration] = []
    node_name: str | None = None
    priority_class_name: str | None = None
    scheduler_name: str | None = None
    runtime_class_name: str | None = None
    service_account_name: str | None = None
    host_network: bool | None = None
    host_pid: bool | None = msgspec.field(default=None, name="hostPID")
    host_ipc: bool | None = msgspec.field(default=None, name="hostIPC")
    resource_claims: list[dict[str, Any]] = []
    restart_policy: str | None = None
    active_deadline_seconds: int | None = None

    @property
    def all_containers(self) -> list[Container]:
        return [*self.init_containers, *self.containers]


class PodTemplateSpec(msgspec.Struct, **_STRUCT):
    metadata: ObjectMeta = ObjectMeta()
    spec: PodSpec = PodSpec()


class PodStatus(msgspec.Struct, **_STRUCT):
    phase: str | None = None
    qos_class: str | None = None


class Pod(Object, **_STRUCT):
    spec: PodSpec = PodSpec()
    status: PodStatus = PodStatus()


# ---------------------------------------------------------------- workloads


class WorkloadSpec(msgspec.Struct, **_STRUCT):
    """Spec shape shared by Deployment, StatefulSet, DaemonSet and ReplicaSet."""

    replicas: int | None = None
    selector: dict[str, Any] | None = None
    template: PodTemplateSpec = PodTemplateSpec()


class Deployment(Object, **_STRUCT):
    spec: WorkloadSpec = WorkloadSpec()


class StatefulSet(Object, **_STRUCT):
    spec: WorkloadSpec = WorkloadSpec()


class DaemonSet(Object, **_STRUCT):
    spec: WorkloadSpec = WorkloadSpec()


class ReplicaSet(Object, **_STRUCT):
    spec: WorkloadSpec = WorkloadSpec()


class JobSpec(msgspec.Struct, **_STRUCT):
    parallelism: int | None = None
    completions: int | None = None
    suspend: bool | None = None
    active_deadline_seconds: int | None = None
    backoff_limit: int | None = None
    template: PodTemplateSpec = PodTemplateSpec()


class Job(Object, **_STRUCT):
    spec: JobSpec = JobSpec()


class JobTemplateSpec(msgspec.Struct, **_STRUCT):
    metadata: ObjectMeta = ObjectMeta()
    spec: JobSpec = JobSpec()


class CronJobSpec(msgspec.Struct, **_STRUCT):
    schedule: str = ""
    suspend: bool | None = None
    job_template: JobTemplateSpec = JobTemplateSpec()


class CronJob(Object, **_STRUCT):
    spec: CronJobSpec = CronJobSpec()


# ---------------------------------------------------------------- nodes


class Taint(msgspec.Struct, **_STRUCT):
    key: str = ""
    value: str | None = None
    effect: str = ""


class NodeSpec(msgspec.Struct, **_STRUCT):
    taints: list[Taint] = []
    unschedulable: bool | None = None
    provider_id: str | None = msgspec.field(default=None, name="providerID")
    pod_cidr: str | None = msgspec.field(default=None, name="podCIDR")


class NodeSystemInfo(msgspec.Struct, **_STRUCT):
    kernel_version: str = ""
    os_image: str = ""
    container_runtime_version: str = ""
    kubelet_version: str = ""
    kube_proxy_version: str = ""
    operating_system: str = ""
    architecture: str = ""
    machine_id: str = msgspec.field(default="", name="machineID")
    system_uuid: str = msgspec.field(default="", name="systemUUID")
    boot_id: str = msgspec.field(default="", name="bootID")


class ContainerImage(msgspec.Struct, **_STRUCT):
    names: list[str] = []
    size_bytes: int = 0


class NodeCondition(msgspec.Struct, **_STRUCT):
    type: str = ""
    status: str = ""
    reason: str | None = None


class NodeStatus(msgspec.Struct, **_STRUCT):
    capacity: ResourceList = {}
    allocatable: ResourceList = {}
    node_info: NodeSystemInfo = NodeSystemInfo()
    images: list[ContainerImage] = []
    conditions: list[NodeCondition] = []


NODE_PARTS = (
    "labels",
    "annotations",
    "taints",
    "unschedulable",
    "providerID",
    "capacity",
    "allocatable",
    "nodeInfo",
    "systemInfo",
    "conditions",
    "images",
)
"""Parts of a Node that a source can fail to show. `nodeInfo`: kernel, OS image, container
runtime and kubelet versions (what `kubectl get nodes -o wide` prints); `systemInfo`: the rest of
`status.nodeInfo` (kube-proxy version, operating system, architecture, machine/system/boot ids).
A node read as an object knows every part; one read from text (`kubectl describe node`,
`kubectl get nodes -o wide`, a label dump) knows only what the text showed."""


class Node(Object, **_STRUCT):
    spec: NodeSpec = NodeSpec()
    status: NodeStatus = NodeStatus()
    unknown: tuple[str, ...] = ()
    """NODE_PARTS this node's source did not show in full, sorted: their fields hold at most
    what the text showed of them (a grep excerpt's few labels), so they say what the node has,
    never what it lacks. Empty for a node read as an object."""

    def knows(self, *parts: str) -> bool:
        """Whether every one of `parts` (NODE_PARTS names) was seen."""
        return not self.unknown or not any(p in self.unknown for p in parts)

    def has_taint_effect(self, *effects: str) -> bool:
        return any(taint.effect in effects for taint in self.spec.taints)

    @property
    def ready(self) -> bool | None:
        for cond in self.status.conditions:
            if cond.type == "Ready":
                return cond.status == "True"
        return None


# ---------------------------------------------------------------- namespaces and quotas


class Namespace(Object, **_STRUCT):
    pass


class ResourceQuotaSpec(msgspec.Struct, **_STRUCT):
    hard: ResourceList = {}
    scopes: list[str] = []
    scope_selector: dict[str, Any] | None = None


class ResourceQuota(Object, **_STRUCT):
    spec: ResourceQuotaSpec = ResourceQuotaSpec()


# ---------------------------------------------------------------- kinds and groups

BUILTIN_GROUPS = frozenset(
    {
        "",
        "apps",
        "batch",
        "autoscaling",
        "policy",
        "extensions",
        "networking.k8s.io",
        "rbac.authorization.k8s.io",
        "storage.k8s.io",
        "scheduling.k8s.io",
        "node.k8s.io",
        "admissionregistration.k8s.io",
        "apiextensions.k8s.io",
        "resource.k8s.io",
        "coordination.k8s.io",
        "discovery.k8s.io",
        "events.k8s.io",
        "certificates.k8s.io",
        "apiregistration.k8s.io",
        "flowcontrol.apiserver.k8s.io",
        "autoscaling.k8s.io",
    }
)

TYPED_KINDS: dict[tuple[str, str], type[Object]] = {
    ("", "Pod"): Pod,
    ("", "Node"): Node,
    ("", "Namespace"): Namespace,
    ("", "ResourceQuota"): ResourceQuota,
    ("apps", "Deployment"): Deployment,
    ("apps", "StatefulSet"): StatefulSet,
    ("apps", "DaemonSet"): DaemonSet,
    ("apps", "ReplicaSet"): ReplicaSet,
    ("extensions", "Deployment"): Deployment,
    ("extensions", "DaemonSet"): DaemonSet,
    ("extensions", "ReplicaSet"): ReplicaSet,
    ("batch", "Job"): Job,
    ("batch", "CronJob"): CronJob,
}
"""(API group, kind) -> typed model; every other kind decodes as GenericObject."""

_BUILTIN_KIND_NAMES = frozenset({*(kind for _, kind in TYPED_KINDS), "Service"})
"""Built-in kind names a custom resource may reuse (Volcano's Job, Knative's Service): such a
custom kind is indexed as 'Kind.group'."""


def as_list(value: Any) -> list[Any]:
    """A list from plain data (an object without a model, an affinity); anything else, which a
    malformed object can hold where a list belongs, as an empty list."""
    return value if isinstance(value, list) else []


def dig(data: Any, *keys: str) -> Any:
    """The value at a path of keys in plain data (`dig(spec, "runPolicy", "schedulingPolicy")`),
    or None where a key is missing or a step is not a mapping (as a malformed object may
    have)."""
    for key in keys:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def api_group(api_version: str) -> str:
    """'apps/v1' -> 'apps', 'v1' -> ''."""
    group, sep, _ = api_version.rpartition("/")
    return group if sep else ""


def kind_key(api_version: str, kind: str) -> str:
    """The name a kind is indexed under: plain for built-in groups and unambiguous CRDs,
    'Kind.group' for a CRD that shares its name with a built-in kind (Volcano's Job)."""
    group = api_group(api_version)
    if group in BUILTIN_GROUPS or kind not in _BUILTIN_KIND_NAMES:
        return kind
    return f"{kind}.{group}"


def model_for(api_version: str, kind: str) -> type[Object]:
    return TYPED_KINDS.get((api_group(api_version), kind), GenericObject)
