"""Snapshot: one cluster at one time, its objects by kind, and indexes computed once."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from functools import cached_property
from types import MappingProxyType
from typing import TypeVar

import msgspec

from plumbob.model.gpu import (
    NodeGpu,
    container_gpu_request,
    containers_gpu_request,
    dra_gpu_devices,
    node_gpu,
)
from plumbob.model.metrics import GpuMetrics
from plumbob.model.nodes import pool_of
from plumbob.model.objects import (
    GenericObject,
    Namespace,
    Node,
    Object,
    Pod,
    ResourceQuota,
    api_group,
    kind_key,
)
from plumbob.model.roles import Role, RoleFacts, RoleIndex
from plumbob.model.workloads import WORKLOAD_KINDS, PodTemplate, TemplateError, templates_of

T = TypeVar("T", bound=Object)

WORKLOADS = "workloads"
"""Pseudo-kind for what a check reads: the pod templates of every workload kind."""
COMPONENTS = "cluster components"
"""Pseudo-kind for what a check reads: the cluster's add-ons (metrics pipeline, policy engine,
schedulers, operators), which only a view of the whole cluster shows: a live capture (API
discovery), or workloads of its system namespaces; never an application's manifests."""

MANIFEST_COMPANIONS = frozenset(
    {
        "Service",
        "HorizontalPodAutoscaler",
        "PodDisruptionBudget",
        "ScaledObject",
        "Ingress",
        "ServiceMonitor",
        "PodMonitor",
        "NetworkPolicy",
    }
)
"""Kinds that ship with the workloads they serve: in manifests that declare workloads (a
rendered chart), the absence of one of these is a fact about those workloads, not a gap in
the input."""


class ApiResource(msgspec.Struct, frozen=True, kw_only=True, rename="camel", omit_defaults=True):
    group_version: str
    kind: str
    name: str = ""
    namespaced: bool = True


class Discovery(msgspec.Struct, frozen=True, kw_only=True, rename="camel", omit_defaults=True):
    """What the API server serves: group/versions and resources (known for live captures)."""

    group_versions: list[str] = []
    resources: list[ApiResource] = []


class ClusterInfo(msgspec.Struct, frozen=True, kw_only=True, rename="camel", omit_defaults=True):
    name: str
    server_version: str | None = None
    platform: str | None = None
    context: str | None = None


class Snapshot:
    """One cluster at one time. Immutable once built; every index is computed on first use and
    kept, so analyses never re-walk all pods."""

    def __init__(
        self,
        *,
        cluster: ClusterInfo,
        objects: Iterable[Object],
        captured_at: str | None = None,
        discovery: Discovery | None = None,
        not_visible: Mapping[str, str] | None = None,
        source: str = "",
        gpu_metrics: GpuMetrics | None = None,
        captured: Iterable[str] | None = None,
    ) -> None:
        grouped: dict[str, list[Object]] = defaultdict(list)
        for obj in objects:
            grouped[kind_key(obj.api_version, obj.kind)].append(obj)
        self.cluster = cluster
        self.captured_at = captured_at
        self.discovery = discovery
        self.source = source
        self.not_visible: Mapping[str, str] = MappingProxyType(dict(not_visible or {}))
        self.captured: frozenset[str] | None = None if captured is None else frozenset(captured)
        """Kinds (and pseudo-kinds) the source listed in full, so that finding none of them is
        a fact. None: every kind not in `not_visible` (a live capture lists them all, and so
        does the demo). Files hold only what someone chose to save: a kind they do not contain
        is unseen, not absent (see `unseen`)."""
        self.gpu_metrics = gpu_metrics
        """GPU utilisation over a window (Prometheus/DCGM), when it was asked for."""
        self._by_kind: Mapping[str, tuple[Object, ...]] = MappingProxyType(
            {k: tuple(v) for k, v in grouped.items()}
        )
        self.template_errors: list[tuple[Object, str]] = []
        self._roles: RoleIndex | None = None

    def with_gpu_metrics(self, metrics: GpuMetrics) -> Snapshot:
        """The same cluster and objects, carrying GPU utilisation metrics."""
        return self._with(self.cluster, metrics)

    def renamed(self, name: str) -> Snapshot:
        """The same snapshot under another cluster name."""
        return self._with(msgspec.structs.replace(self.cluster, name=name), self.gpu_metrics)

    def _with(self, cluster: ClusterInfo, metrics: GpuMetrics | None) -> Snapshot:
        return Snapshot(
            cluster=cluster,
            objects=self,
            captured_at=self.captured_at,
            discovery=self.discovery,
            not_visible=self.not_visible,
            source=self.source,
            gpu_metrics=metrics,
            captured=self.captured,
        )

    # ------------------------------------------------------------ plain access

    @property
    def kinds(self) -> Mapping[str, tuple[Object, ...]]:
        return self._by_kind

    def objects(self, kind: str) -> tuple[Object, ...]:
        return self._by_kind.get(kind, ())

    def typed(self, kind: str, cls: type[T]) -> tuple[T, ...]:
        return tuple(o for o in self._by_kind.get(kind, ()) if isinstance(o, cls))

    def __iter__(self) -> Iterator[Object]:
        for objs in self._by_kind.values():
            yield from objs

    def __len__(self) -> int:
        return sum(len(v) for v in self._by_kind.values())

    def visible(self, kind: str) -> bool:
        """Whether the input shows objects of this kind (or pseudo-kind): see `unseen`."""
        return self.unseen(kind) is None

    def unseen(self, kind: str) -> str | None:
        """Why the input cannot show objects of `kind` (a kind, WORKLOADS or COMPONENTS), or
        None when it can. A kind the source could not list (403, missing API group) is unseen,
        and so is one a file input does not contain: no Node objects in a folder of manifests
        says nothing about the cluster's nodes. A kind listed in full and found empty is seen:
        there, none is a fact."""
        reason = self.not_visible.get(kind)
        if reason is not None:
            return f"{kind}: {reason}"
        if kind == WORKLOADS:
            for part in ("Pod", "Deployment"):
                if part in self.not_visible:
                    return f"{part}: {self.not_visible[part]}"
            if self.captured is None or any(k in self._by_kind for k in WORKLOAD_KINDS):
                return None
            if "Pod" in self.captured:
                return None
            return "no workloads or pods in the input"
        if kind == COMPONENTS:
            if self.captured is None or COMPONENTS in self.captured or self.discovery is not None:
                return None
            return (
                "cluster components: the cluster's add-ons are not in the input (manifests, or "
                "a capture of only some namespaces)"
            )
        if self.captured is None or kind in self.captured or kind in self._by_kind:
            return None
        if kind == "Node":
            return "no node inventory: the input has no Node objects"
        return f"no {kind} objects in the input"

    @cached_property
    def partial_nodes(self) -> tuple[Node, ...]:
        """Nodes whose source did not show every part of them (read from text)."""
        return tuple(n for n in self.nodes if n.unknown)

    def without_nodes(self, names: frozenset[str]) -> Snapshot:
        """The same cluster without the named nodes: what a check sees when those nodes do not
        show what it reads. Indexes are built anew, on first use."""
        return Snapshot(
            cluster=self.cluster,
            objects=(o for o in self if not (o.kind == "Node" and o.name in names)),
            captured_at=self.captured_at,
            discovery=self.discovery,
            not_visible=self.not_visible,
            source=self.source,
            gpu_metrics=self.gpu_metrics,
            captured=self.captured,
        )

    def has_group(self, group: str) -> bool:
        """Whether an API group is served: from discovery, or from objects seen."""
        if self.discovery is not None:
            return any(
                gv.split("/")[0] == group for gv in self.discovery.group_versions if "/" in gv
            )
        return group in self._groups_seen

    @cached_property
    def _groups_seen(self) -> frozenset[str]:
        # Every object, not the first of each kind: kinds of different groups can share a name
        # (kyverno.io and nvidia.com both serve ClusterPolicy).
        versions = {o.api_version for objs in self._by_kind.values() for o in objs}
        return frozenset(api_group(v) for v in versions)

    @cached_property
    def server_minor(self) -> tuple[int, int] | None:
        """(major, minor) of the control plane, e.g. (1, 31), when known."""
        return parse_minor(self.cluster.server_version)

    # ------------------------------------------------------------ typed views

    @cached_property
    def nodes(self) -> tuple[Node, ...]:
        return self.typed("Node", Node)

    @cached_property
    def pods(self) -> tuple[Pod, ...]:
        return self.typed("Pod", Pod)

    @cached_property
    def node_gpus(self) -> Mapping[str, NodeGpu]:
        """Node name -> what it says about its GPUs."""
        dra = dra_gpu_devices(self.generic("ResourceSlice"))
        return MappingProxyType({n.name: node_gpu(n, dra.get(n.name, 0)) for n in self.nodes})

    @cached_property
    def gpu_nodes(self) -> tuple[Node, ...]:
        gpus = self.node_gpus
        return tuple(n for n in self.nodes if gpus[n.name].present)

    @cached_property
    def nodes_by_name(self) -> Mapping[str, Node]:
        return MappingProxyType({n.name: n for n in self.nodes})

    @cached_property
    def pods_by_node(self) -> Mapping[str, tuple[Pod, ...]]:
        out: dict[str, list[Pod]] = defaultdict(list)
        for pod in self.pods:
            if pod.spec.node_name:
                out[pod.spec.node_name].append(pod)
        return MappingProxyType({k: tuple(v) for k, v in out.items()})

    def nodes_by_pool(self, pool_label: str | None = None) -> Mapping[str, tuple[Node, ...]]:
        if pool_label is None:
            return self._default_pools
        return _group_nodes(self.nodes, pool_label)

    @cached_property
    def _default_pools(self) -> Mapping[str, tuple[Node, ...]]:
        return _group_nodes(self.nodes, None)

    @cached_property
    def gpu_requested_by_node(self) -> Mapping[str, float]:
        """GPUs requested by running (not finished) pods, per node."""
        out: dict[str, float] = defaultdict(float)
        for pod in self.pods:
            if pod.spec.node_name and pod.status.phase not in ("Succeeded", "Failed"):
                gpus = containers_gpu_request(pod.spec.containers)
                if gpus:
                    out[pod.spec.node_name] += gpus
        return MappingProxyType(dict(out))

    # ------------------------------------------------------------ identity

    @cached_property
    def _by_uid(self) -> Mapping[str, Object]:
        """Objects that can own others, by uid. Pods are left out (most of a cluster, owners
        of almost nothing): `owner_of` still finds an owning pod by kind and name."""
        return MappingProxyType(
            {
                o.metadata.uid: o
                for kind, objs in self._by_kind.items()
                if kind != "Pod"
                for o in objs
                if o.metadata.uid
            }
        )

    @cached_property
    def _by_key(self) -> Mapping[tuple[str, str | None, str], Object]:
        return MappingProxyType({(o.kind, o.namespace, o.name): o for o in self})

    def get(self, kind: str, namespace: str | None, name: str) -> Object | None:
        return self._by_key.get((kind, namespace, name))

    def owner_of(self, obj: Object) -> Object | None:
        """The controlling owner present in this snapshot, if any."""
        for owner in obj.metadata.owner_references:
            found = (owner.uid and self._by_uid.get(owner.uid)) or self.get(
                owner.kind, obj.namespace, owner.name
            )
            if found is not None:
                return found
        return None

    # ------------------------------------------------------------ workloads

    @cached_property
    def pod_templates(self) -> tuple[PodTemplate, ...]:
        """Pod templates of every workload, each counted once: a ReplicaSet owned by a Deployment
        in the snapshot, a Job owned by a CronJob and a Pod owned by any workload are seen through
        their owner's template, never twice."""
        out: list[PodTemplate] = []
        owned: dict[tuple[int, str | None], bool] = {}
        """(owner list, namespace) -> whether the owner is here: replicas share one list."""
        for kind, objs in self._by_kind.items():
            if kind not in WORKLOAD_KINDS:
                continue
            for obj in objs:
                owners = obj.metadata.owner_references
                if owners:
                    key = (id(owners), obj.metadata.namespace)
                    found = owned.get(key)
                    if found is None:
                        found = owned[key] = self.owner_of(obj) is not None
                    if found:
                        continue
                try:
                    out.extend(templates_of(obj))
                except TemplateError as exc:
                    self.template_errors.append((obj, str(exc)))
        return tuple(out)

    @cached_property
    def templates_by_workload(self) -> Mapping[int, tuple[PodTemplate, ...]]:
        """id(workload object) -> its templates."""
        out: dict[int, list[PodTemplate]] = defaultdict(list)
        for t in self.pod_templates:
            out[id(t.workload)].append(t)
        return MappingProxyType({k: tuple(v) for k, v in out.items()})

    @cached_property
    def gpu_templates(self) -> tuple[PodTemplate, ...]:
        """Templates with at least one container requesting a GPU."""
        return tuple(
            t
            for t in self.pod_templates
            if any(container_gpu_request(c) for c in t.spec.all_containers)
        )

    @cached_property
    def workloads(self) -> tuple[Object, ...]:
        seen: dict[int, Object] = {}
        for t in self.pod_templates:
            seen.setdefault(id(t.workload), t.workload)
        return tuple(seen.values())

    def roles(self, facts: RoleFacts) -> RoleIndex:
        """The roles of this snapshot's workloads (model/roles.py), each classified once. The
        facts are knowledge tables the model layer cannot load itself: callers pass
        `knowledge.workload_roles.role_facts()`, whose one value keeps the index."""
        if self._roles is None or self._roles.facts is not facts:
            self._roles = RoleIndex(self.templates_by_workload, self.objects("Service"), facts)
        return self._roles

    def role_of(self, workload: Object, facts: RoleFacts) -> Role:
        """The role of a workload of this snapshot (an object with pod templates)."""
        return self.roles(facts).of(workload)

    @cached_property
    def workloads_by_namespace(self) -> Mapping[str, tuple[Object, ...]]:
        out: dict[str, list[Object]] = defaultdict(list)
        for w in self.workloads:
            out[w.namespace or ""].append(w)
        return MappingProxyType({k: tuple(v) for k, v in out.items()})

    @cached_property
    def quotas_by_namespace(self) -> Mapping[str, tuple[ResourceQuota, ...]]:
        out: dict[str, list[ResourceQuota]] = defaultdict(list)
        for q in self.typed("ResourceQuota", ResourceQuota):
            out[q.namespace or "default"].append(q)
        return MappingProxyType({k: tuple(v) for k, v in out.items()})

    @cached_property
    def namespaces(self) -> Mapping[str, Namespace | None]:
        """Every namespace named by a Namespace object or used by a namespaced object."""
        out: dict[str, Namespace | None] = {n.name: n for n in self.typed("Namespace", Namespace)}
        used = {o.metadata.namespace: None for objs in self._by_kind.values() for o in objs}
        for name in used:  # in the order first used
            if name and name not in out:
                out[name] = None
        return MappingProxyType(out)

    def generic(self, kind: str) -> tuple[GenericObject, ...]:
        return self.typed(kind, GenericObject)


def _group_nodes(nodes: Iterable[Node], pool_label: str | None) -> Mapping[str, tuple[Node, ...]]:
    out: dict[str, list[Node]] = defaultdict(list)
    for n in nodes:
        out[pool_of(n, pool_label)].append(n)
    return MappingProxyType({k: tuple(v) for k, v in sorted(out.items())})


def parse_minor(version: str | None) -> tuple[int, int] | None:
    """'v1.31.4-eks-2d5f260' -> (1, 31); None when it is not a Kubernetes version."""
    if not version:
        return None
    text = version.lstrip("v")
    parts = text.split(".")
    if len(parts) < 2:
        return None
    minor = "".join(ch for ch in parts[1] if ch.isdigit())
    try:
        return int(parts[0]), int(minor)
    except ValueError:
        return None
