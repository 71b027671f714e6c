"""Snapshot: one cluster at one time, its objects by kind, and indexes computed once."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from types import MappingProxyType
from typing import Any, TypeVar

import msgspec

from plumbob.model.gpu import (
    NodeGpu,
    container_gpu_request,
    containers_gpu_request,
    dra_gpu_devices,
    node_gpu,
)
from plumbob.model.image_sizes import ImageSizes
from plumbob.model.metrics import GpuMetrics
from plumbob.model.nodes import pool_of
from plumbob.model.objects import (
    GenericObject,
    Namespace,
    Node,
    Object,
    ObjectMeta,
    Pod,
    ResourceQuota,
    api_group,
    kind_key,
)
from plumbob.model.roles import Role, RoleFacts, RoleIndex
from plumbob.model.workloads import (
    GROUPED_KINDS,
    POD_TEMPLATE_HASH,
    WORKLOAD_KINDS,
    AbsentController,
    PodTemplate,
    TemplateError,
    controller_reference,
    cron_job_of_job,
    deployment_of_replica_set,
    templates_of,
    unbound_spec,
)

T = TypeVar("T", bound=Object)
V = TypeVar("V")

WORKLOADS = "workloads"
"""Pseudo-kind for what a check reads: the pod templates of every workload kind."""
COMPONENTS = "cluster components"
"""Pseudo-kind for what a check reads: the cluster's add-ons (metrics pipeline, policy engine,
schedulers, operators), which only a view of the whole cluster shows: a live capture (API
discovery), or workloads of its system namespaces; never an application's manifests."""

EVERY_KIND = "*"
"""Pseudo-kind for what a check reads or consults: objects of every kind in the input (an object
of any kind may use a removed apiVersion). Never unseen: whatever the input holds is what such
a check judges. A live capture lists no kind for it: an API server serves objects only in the
versions it has."""

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
        partly_listed: Mapping[str, str] | None = None,
    ) -> None:
        grouped: dict[str, list[Object]] = defaultdict(list)
        for obj in objects:
            grouped[kind_key(obj.api_version, obj.kind)].append(obj)
        self.cluster = cluster
        self.captured_at = captured_at
        self.discovery = discovery
        self.source = source
        self.not_visible: Mapping[str, str] = MappingProxyType(dict(not_visible or {}))
        self.partly_listed: Mapping[str, str] = MappingProxyType(dict(partly_listed or {}))
        """Kinds the source listed in part by design (metadata only, or only objects named by
        a field selector), with why: seen for what they show, not for what they hold, so a
        check that reads them (a device plugin's config in a ConfigMap) is not visible."""
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
        self._roles: RoleIndex | None = None
        self._derived: dict[Callable[[Snapshot], Any], Any] = {}

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
            partly_listed=self.partly_listed,
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
        if kind == EVERY_KIND:
            return None
        reason = self.not_visible.get(kind) or self.partly_listed.get(kind)
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
            partly_listed=self.partly_listed,
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
    def offered_gpu_resources(self) -> frozenset[str]:
        """GPU resource names some node offers (`NodeGpu.offered`: `nvidia.com/gpu`,
        `nvidia.com/mig-1g.10gb`, ...)."""
        return frozenset(name for g in self.node_gpus.values() for name in g.offered)

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
        their owner's template, never twice.

        Pods, ReplicaSets and Jobs whose controller is not in the snapshot are grouped by their
        controller reference (namespace, kind, name), and each group is one workload whose
        template is its newest member's, seen through an `AbsentController`:

        - a pod of an absent ReplicaSet `<deployment>-<hash>` carrying `pod-template-hash: <hash>`
          belongs to that Deployment: the Deployment's own template when it is in the snapshot,
          else a group named after the Deployment, so the pods of its old and new ReplicaSets
          are one workload; without the label, or with one the name does not end with, the
          group is the ReplicaSet's;
        - a pod of an absent Job `<cronjob>-<digits>` belongs to that CronJob when it is in the
          snapshot, else to a group of the Job's; a Job whose CronJob is absent is grouped by its
          own reference to it;
        - a pod owned by a Node (a static pod's mirror) and a pod without owners stay
          workloads of their own, one per pod.

        The newest member (creationTimestamp; the first listed among equals) carries the
        group's template: during a rollout it runs the revision being rolled out, as the
        controller's own template would. A pod's template is its spec without the node it was
        bound to (`unbound_spec`); a group of pods has as many replicas as pods."""
        return self._workload_index[0]

    @cached_property
    def template_errors(self) -> tuple[tuple[Object, str], ...]:
        """(object, what is wrong) for each workload whose pod template has the wrong shape (a
        custom resource whose replica spec is not an object: `TemplateError`). Found when the
        workload index is built, together with `pod_templates`, so every reader, whichever
        checks run, sees the same errors; such a workload has no templates."""
        return self._workload_index[2]

    def workload_of(self, obj: Object) -> Object:
        """The workload an object is counted in: its topmost controller in the snapshot, the
        controller a pod-template-hash or CronJob name resolves it to, the `AbsentController`
        of its group, or the object itself (a bare pod, a workload without owners)."""
        attributed = self._workload_index[1]
        current = obj
        for _ in range(4):
            found = attributed.get(id(current))
            if found is not None:
                return found
            if _static(current):
                return current
            owner = self.owner_of(current)
            if owner is None:
                return current
            current = owner
        return current

    @cached_property
    def _workload_index(
        self,
    ) -> tuple[tuple[PodTemplate, ...], Mapping[int, Object], tuple[tuple[Object, str], ...]]:
        """(pod templates, id(object) -> the workload it is counted in for the objects that are
        grouped or resolved by name, template errors); `pod_templates` says how."""
        out: list[PodTemplate | tuple[str | None, str, str]] = []
        errors: list[tuple[Object, str]] = []
        attributed: dict[int, Object] = {}
        groups: dict[tuple[str | None, str, str], _Group] = {}
        owned_pods: dict[int, int] = defaultdict(int)
        seen: dict[tuple[int, str, str | None, str | None], _Where] = {}
        """(owner list, kind, namespace, pod-template-hash) -> where its objects belong:
        replicas share one owner list."""
        for kind, objs in self._by_kind.items():
            if kind not in WORKLOAD_KINDS:
                continue
            grouped = kind in GROUPED_KINDS
            for obj in objs:
                owners = obj.metadata.owner_references
                if owners:
                    labels = obj.metadata.labels
                    key = (id(owners), kind, obj.metadata.namespace, labels.get(POD_TEMPLATE_HASH))
                    where = seen.get(key)
                    if where is None:
                        where = seen[key] = self._where(obj, grouped)
                    if where.owner is not None:
                        if where.resolved:
                            attributed[id(obj)] = where.owner
                        elif kind == "Pod":
                            owned_pods[id(where.owner)] += 1
                        continue
                    if where.group is not None:
                        group = groups.get(where.group)
                        if group is None:
                            group = groups[where.group] = _Group(where)
                            out.append(where.group)
                        group.members.append(obj)
                        continue
                try:
                    out.extend(templates_of(obj))
                except TemplateError as exc:
                    errors.append((obj, str(exc)))
        templates: list[PodTemplate] = []
        for item in out:
            if isinstance(item, PodTemplate):
                templates.append(item)
                continue
            group = groups[item]
            stand_in, made = group.workload(owned_pods)
            templates.extend(made)
            for member in group.members:
                attributed[id(member)] = stand_in
        return tuple(templates), MappingProxyType(attributed), tuple(errors)

    def _where(self, obj: Object, grouped: bool) -> _Where:
        """Where an object with owners belongs (see `pod_templates`)."""
        if _static(obj):
            return _Where()
        owner = self.owner_of(obj)
        if owner is not None:
            return _Where(owner=owner)
        ref = controller_reference(obj)
        if ref is None or not grouped or not ref.kind or not ref.name:
            return _Where()  # a reference naming no controller groups nothing
        namespace = obj.metadata.namespace
        if isinstance(obj, Pod) and ref.kind == "ReplicaSet":
            deployment = deployment_of_replica_set(ref.name, obj.labels.get(POD_TEMPLATE_HASH))
            if deployment is not None:
                present = self.get("Deployment", namespace, deployment)
                if present is not None:
                    return _Where(owner=present, resolved=True)
                return _Where(
                    group=(namespace, kind_key(ref.api_version, "Deployment"), deployment),
                    kind="Deployment",
                    api_version=ref.api_version,
                    implied_by=f"the pod-template-hash of the pods of ReplicaSet {ref.name}",
                )
        if isinstance(obj, Pod) and ref.kind == "Job" and api_group(ref.api_version) == "batch":
            cron_job = cron_job_of_job(ref.name)
            present = self.get("CronJob", namespace, cron_job) if cron_job else None
            if present is not None:
                return _Where(owner=present, resolved=True)
        return _Where(
            group=(namespace, kind_key(ref.api_version, ref.kind), ref.name),
            kind=ref.kind,
            api_version=ref.api_version,
        )

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

    @cached_property
    def image_sizes(self) -> ImageSizes:
        """Image sizes as the nodes report them (`node.status.images`)."""
        return ImageSizes(self.nodes)

    def derived(self, build: Callable[[Snapshot], V]) -> V:
        """What `build` makes of this snapshot, made once and kept with it: an index that a
        layer above the model builds from its own facts (the components installed, what
        autoscales what, which queue admits a workload), shared by every check that asks.
        `build` must be a module-level function of the snapshot alone: it is the key."""
        try:
            found: V = self._derived[build]
        except KeyError:
            found = self._derived[build] = build(self)
        return found


def _static(obj: Object) -> bool:
    """A static pod's mirror: the kubelet runs it from a file on its node, which owns it."""
    return obj.kind == "Pod" and any(o.kind == "Node" for o in obj.metadata.owner_references)


@dataclass(frozen=True, slots=True)
class _Where:
    """Where an object with owners belongs: seen through `owner` (its owner in the snapshot,
    or, when `resolved`, the controller its name resolves to), in `group` (a controller that is
    not in the snapshot), or, with neither, a workload of its own."""

    owner: Object | None = None
    resolved: bool = False
    group: tuple[str | None, str, str] | None = None
    """(namespace, kind key, name) of the absent controller."""
    kind: str = ""
    api_version: str = ""
    implied_by: str = ""


@dataclass(slots=True)
class _Group:
    """Objects whose controller is not in the snapshot, in the order listed."""

    where: _Where
    members: list[Object] = field(default_factory=list)

    def workload(self, owned_pods: Mapping[int, int]) -> tuple[AbsentController, list[PodTemplate]]:
        """The stand-in for the absent controller and the group's templates."""
        newest = self.members[0]
        for member in self.members[1:]:
            if (member.metadata.creation_timestamp or "") > (
                newest.metadata.creation_timestamp or ""
            ):
                newest = member
        members: dict[str, int] = defaultdict(int)
        pods = 0
        for member in self.members:
            members[member.kind] += 1
            pods += 1 if member.kind == "Pod" else owned_pods.get(id(member), 0)
        namespace, _, name = self.where.group or (None, "", "")
        stand_in = AbsentController(
            api_version=self.where.api_version,
            kind=self.where.kind,
            metadata=ObjectMeta(name=name, namespace=namespace),
            origin=newest.origin,
            pods=pods,
            members=dict(members),
            implied_by=self.where.implied_by,
        )
        if isinstance(newest, Pod):
            made = [
                PodTemplate(
                    stand_in, unbound_spec(newest), newest.metadata, "spec", replicas=members["Pod"]
                )
            ]
        else:
            made = [
                PodTemplate(stand_in, t.spec, t.metadata, t.path, role=t.role, replicas=t.replicas)
                for t in templates_of(newest)
            ]
        return stand_in, made


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
