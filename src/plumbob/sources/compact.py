"""Share identical parts of objects while they are decoded, so big clusters fit in less memory.

Pods are most of a cluster and most of them are replicas: the pods of one ReplicaSet or Job
carry the same labels, owner, tolerations, node selector, affinity, and containers with the same
image, resources, environment and probes. Decoded one by one, every pod holds its own copy of
each. `Compactor` keeps one copy of each distinct part and points every pod at it. With what
is below, reading a 150,000-pod snapshot file peaks at about 300 MiB (1,260 MiB without any of
it; docs/performance.md).

Every object also loses kubectl's `last-applied-configuration` annotation, a full JSON copy
of the object as it was last applied that no analysis reads (often the largest part of a
Deployment or Service). Workload pod templates are shared like pods: a ReplicaSet's template is
its Deployment's. Nodes share their label strings and their image entries (the nodes of a pool
pull the same images).

Pod specs also lose the volumes whose source the model does not carry (`projected`,
`downwardAPI`, ...), with the mounts of those volumes: what is left of such a volume is its name,
and nothing reads a name alone. The service-account token every pod gets is one, with a name
unique to the pod (`kube-api-access-x7k2p`): kept, it was a sixth of a big cluster's memory.

A pod like the last pod of its owner (listed one after another, as the API lists pods by name)
takes that one's metadata parts and whole spec after one comparison each, with its own node
name: a ReplicaSet's replicas are alike but for their node, and comparing one encoding costs far
less than looking up each part. A DaemonSet's pods are alike but for their node and the affinity
that pins them to it.

Empty lists and dicts (most pods have no init containers, most containers no command) are one
shared empty list or dict each instead of one per field per object.

Objects without a model of their own (Services, PodDisruptionBudgets, HPAs, custom resources)
keep their spec and status as plain data; every distinct subtree of it is kept once
(`_tree`): the conditions every HPA reports alike, the ports of every Service of a chart.

Model objects are frozen, so sharing is invisible to analyses. The parts are set with
`msgspec.structs.force_setattr` on objects that were just decoded and that nothing else holds.
"""

from __future__ import annotations

from typing import Any

import msgspec

from plumbob.model.objects import (
    Container,
    CronJob,
    DaemonSet,
    Deployment,
    GenericObject,
    Job,
    Node,
    Object,
    ObjectMeta,
    Pod,
    PodSpec,
    PodTemplateSpec,
    ReplicaSet,
    StatefulSet,
    Volume,
    WorkloadSpec,
)

LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
_NODE_INFO_SHARED = (
    "kernel_version",
    "os_image",
    "container_runtime_version",
    "kubelet_version",
    "kube_proxy_version",
    "operating_system",
    "architecture",
)
"""Node facts alike across a pool (not the machine, system and boot ids)."""
_SPEC_TEXTS = (
    "node_name",
    "scheduler_name",
    "priority_class_name",
    "service_account_name",
    "restart_policy",
)
_TEMPLATED = (Deployment, StatefulSet, DaemonSet, ReplicaSet, Job)

_set = msgspec.structs.force_setattr
_encode = msgspec.msgpack.Encoder().encode


def _key(tag: str, value: Any) -> tuple[str, bytes] | None:
    """Parts that hold dicts or lists are not hashable: their compact encoding (which tells
    `1`, `1.0` and `true` apart) is the key. None for an integer msgpack cannot hold (such a
    part is kept as it is)."""
    try:
        return (tag, _encode(value))
    except OverflowError:
        return None


_EMPTY_LIST: list[Any] = []
_EMPTY_DICT: dict[Any, Any] = {}
_TREE_KEY_MAX = 4096
"""Bytes: a bigger subtree of plain data is not looked up whole (its key would cost as much as
it does, and big ones are rarely repeated); its parts still are."""
_TEXT_MAX = 128
"""Characters: longer strings in plain data are not interned (they are rarely repeated)."""
_TREE_DEPTH = 16
"""Plain data nested deeper than this is kept as it is."""


def _has_source(volume: Volume) -> bool:
    return (
        volume.empty_dir is not None
        or volume.persistent_volume_claim is not None
        or volume.host_path is not None
        or volume.ephemeral is not None
        or volume.config_map is not None
        or volume.secret is not None
        or volume.csi is not None
        or volume.nfs is not None
    )


_SIBLINGS = 64
"""Owners whose last pod is remembered: a controller's pods come one after another (the API
lists pods by namespace and name, and a pod is named after its owner)."""


class Compactor:
    def __init__(self) -> None:
        self._parts: dict[Any, Any] = {}
        self._strings: dict[str, str] = {}
        self._siblings: dict[str, tuple[Pod, bytes | None]] = {}
        """Owner uid -> the owner's last pod and the encoding of its spec without the node."""

    def _share(self, key: Any, value: Any) -> Any:
        return value if key is None else self._parts.setdefault(key, value)

    def _text(self, value: str | None) -> str | None:
        if value is None:
            return None
        return self._strings.setdefault(value, value)

    def object(self, obj: Object) -> Object:
        """Compact any decoded object in place (and return it)."""
        if type(obj) is Pod:
            return self.pod(obj)
        if type(obj) is Node:
            return self.node(obj)
        _set(obj, "api_version", self._text(obj.api_version))
        _set(obj, "kind", self._text(obj.kind))
        self._meta(obj.metadata)
        if type(obj) is GenericObject:
            self._generic(obj)
        elif isinstance(obj, _TEMPLATED):
            spec = obj.spec
            if isinstance(spec, WorkloadSpec) and spec.selector:
                _set(spec, "selector", self._tree(spec.selector))
            self._template(obj.spec.template)
        elif isinstance(obj, CronJob):
            self._template(obj.spec.job_template.spec.template)
        return obj

    def _generic(self, obj: GenericObject) -> None:
        for name in ("spec", "status", "data"):
            value = getattr(obj, name)
            if value is not None:
                _set(obj, name, self._tree(value))
        _set(obj, "extra", self._tree(obj.extra) if obj.extra else _EMPTY_DICT)

    def _tree(self, value: Any, depth: int = 0) -> Any:
        """Plain data (JSON values) with each distinct dict, list and short string kept once:
        looked up whole first, then part by part (to a bounded depth)."""
        kind = type(value)
        if kind is str:
            return self._strings.setdefault(value, value) if len(value) <= _TEXT_MAX else value
        if (kind is not dict and kind is not list) or depth > _TREE_DEPTH:
            return value
        if not value:
            return _EMPTY_DICT if kind is dict else _EMPTY_LIST
        key = _key("tree", value)
        if key is not None:
            if len(key[1]) > _TREE_KEY_MAX:
                key = None
            else:
                known = self._parts.get(key)
                if known is not None:
                    return known
        depth += 1
        if kind is dict:
            for k, v in value.items():  # replacing values keeps the size: safe while iterating
                value[k] = self._tree(v, depth)
        else:
            value[:] = [self._tree(v, depth) for v in value]
        if key is not None:
            self._parts[key] = value
        return value

    def _template(self, template: PodTemplateSpec) -> None:
        self._meta(template.metadata)
        self._spec(template.spec)

    def pod(self, pod: Pod) -> Pod:
        """Compact a pod. A pod like the last one of its owner (the replicas of a ReplicaSet,
        a Job, a StatefulSet, a DaemonSet) takes that one's parts after one comparison each:
        metadata parts compared as they are (typed strings), the spec by its encoding without
        the node name (its plain-data parts could hold `1` where the other holds `true`)."""
        _set(pod, "api_version", self._text(pod.api_version))
        _set(pod, "kind", self._text(pod.kind))
        meta = pod.metadata
        owners = meta.owner_references
        if not owners:
            self._meta(meta)
            self._spec(pod.spec)
        else:
            owner = owners[0]
            found = self._siblings.get(owner.uid)
            sibling, encoded = found if found is not None else (None, None)
            if sibling is None or not self._meta_like(meta, sibling.metadata):
                self._meta(meta)
            encoded = self._replica_spec(pod, sibling, encoded, owner.kind == "DaemonSet")
            siblings = self._siblings
            siblings.pop(owner.uid, None)
            siblings[owner.uid] = (pod, encoded)
            if len(siblings) > _SIBLINGS:
                del siblings[next(iter(siblings))]
        status = pod.status
        _set(pod, "status", self._share(("status", status.phase, status.qos_class), status))
        return pod

    def node(self, node: Node) -> Node:
        _set(node, "api_version", self._text(node.api_version))
        _set(node, "kind", self._text(node.kind))
        meta = node.metadata
        self._meta(meta)
        text = self._strings.setdefault
        if meta.labels:
            _set(meta, "labels", {text(k, k): text(v, v) for k, v in meta.labels.items()})
        images = node.status.images
        if images:
            shared = []
            parts = self._parts
            for image in images:
                key = ("image", tuple(image.names), image.size_bytes)
                known = parts.get(key)
                if known is None:  # a new image: its names shared with the other texts
                    _set(image, "names", [text(n, n) for n in image.names])
                    known = parts[key] = image
                shared.append(known)
            _set(node.status, "images", self._share(("images", *map(id, shared)), shared))
        status = node.status
        for name in ("capacity", "allocatable"):
            value = getattr(status, name)
            _set(status, name, self._share(_key(name, value), value) if value else _EMPTY_DICT)
        if status.conditions:
            conditions = ("conditions", *status.conditions)
            _set(status, "conditions", self._share(conditions, status.conditions))
        info = status.node_info
        for name in _NODE_INFO_SHARED:
            _set(info, name, self._text(getattr(info, name)))
        if node.spec.taints:
            _set(node.spec, "taints", self._share(("taints", *node.spec.taints), node.spec.taints))
        return node

    def _meta_like(self, meta: ObjectMeta, like: ObjectMeta) -> bool:
        """Take `like`'s shared parts when they are equal to `meta`'s (True); else change
        nothing (False)."""
        if (
            meta.labels != like.labels
            or meta.annotations != like.annotations
            or meta.owner_references != like.owner_references
            or meta.namespace != like.namespace
            or meta.generate_name != like.generate_name
        ):
            return False
        _set(meta, "labels", like.labels)
        _set(meta, "annotations", like.annotations)
        _set(meta, "owner_references", like.owner_references)
        _set(meta, "namespace", like.namespace)
        _set(meta, "generate_name", like.generate_name)
        value = meta.creation_timestamp
        if value is not None:
            _set(meta, "creation_timestamp", self._strings.setdefault(value, value))
        return True

    def _replica_spec(
        self, pod: Pod, sibling: Pod | None, encoded: bytes | None, daemon: bool
    ) -> bytes | None:
        """Give the pod its sibling's spec (with its own node) when the two are alike, else
        compact its own; the encoding of the pod's spec without the node, for the next one.
        A daemon pod's affinity names its node too (the DaemonSet controller pins each pod with
        `matchFields` on `metadata.name`): it is left out of the comparison and kept, shared
        with the other daemon pods of the node."""
        spec = pod.spec
        if spec.volumes:
            self._volumes(spec)  # first: it drops the volumes named per pod (the token's)
        node, affinity = spec.node_name, spec.affinity
        _set(spec, "node_name", None)
        if daemon:
            _set(spec, "affinity", None)
        try:
            mine: bytes | None = _encode(spec)
        except OverflowError:
            mine = None
        _set(spec, "node_name", node)
        _set(spec, "affinity", affinity)
        if sibling is None or mine is None or mine != encoded:
            self._spec(spec)
            return mine
        shared = sibling.spec
        if not daemon:
            affinity = shared.affinity  # (equal: it was compared)
        elif affinity:
            affinity = self._share(_key("affinity", affinity), affinity)
        if shared.node_name != node or shared.affinity is not affinity:
            shared = msgspec.structs.replace(shared, node_name=self._text(node), affinity=affinity)
        _set(pod, "spec", shared)
        return mine

    def _meta(self, meta: ObjectMeta) -> None:
        text = self._strings.setdefault
        share = self._parts.setdefault
        value = meta.namespace
        if value is not None:
            _set(meta, "namespace", text(value, value))
        value = meta.creation_timestamp
        if value is not None:
            _set(meta, "creation_timestamp", text(value, value))
        value = meta.generate_name
        if value:
            _set(meta, "generate_name", text(value, value))
        labels = meta.labels
        if labels:
            _set(meta, "labels", share(("labels", *labels.items()), labels))
        annotations = meta.annotations
        if LAST_APPLIED in annotations:
            annotations = {k: v for k, v in annotations.items() if k != LAST_APPLIED}
        if annotations:
            _set(meta, "annotations", share(("annotations", *annotations.items()), annotations))
        else:
            _set(meta, "annotations", _EMPTY_DICT)
        owners = meta.owner_references
        if owners:
            _set(meta, "owner_references", share(("owners", *owners), owners))
        else:
            _set(meta, "owner_references", _EMPTY_LIST)

    def _spec(self, spec: PodSpec) -> None:
        text = self._strings.setdefault
        share = self._parts.setdefault
        for name in _SPEC_TEXTS:
            value = getattr(spec, name)
            if value is not None:
                _set(spec, name, text(value, value))
        if spec.volumes:
            self._volumes(spec)
        else:
            _set(spec, "volumes", _EMPTY_LIST)
        if not spec.init_containers:
            _set(spec, "init_containers", _EMPTY_LIST)
        if not spec.resource_claims:
            _set(spec, "resource_claims", _EMPTY_LIST)
        tolerations = spec.tolerations
        if tolerations:
            _set(spec, "tolerations", share(("tolerations", *tolerations), tolerations))
        selector = spec.node_selector
        if selector:
            _set(spec, "node_selector", share(("selector", *selector.items()), selector))
        else:
            _set(spec, "node_selector", _EMPTY_DICT)
        if spec.affinity:
            _set(spec, "affinity", self._share(_key("affinity", spec.affinity), spec.affinity))
        if spec.containers:
            containers = [self._container(c) for c in spec.containers]
            _set(spec, "containers", share(("containers", *map(id, containers)), containers))
        if spec.init_containers:
            _set(spec, "init_containers", [self._container(c) for c in spec.init_containers])

    def _volumes(self, spec: PodSpec) -> None:
        """Leave out the volumes with no source the model carries, and their mounts."""
        unread = {v.name for v in spec.volumes if not _has_source(v)}
        if not unread:
            return
        _set(spec, "volumes", [v for v in spec.volumes if v.name not in unread] or _EMPTY_LIST)
        for container in (*spec.containers, *spec.init_containers):
            if any(m.name in unread for m in container.volume_mounts):
                mounts = [m for m in container.volume_mounts if m.name not in unread]
                _set(container, "volume_mounts", mounts or _EMPTY_LIST)

    def _container(self, c: Container) -> Container:
        """The container, or an equal one met before (most are replicas: one encoding, made in
        C, finds them); a new one has its parts shared first."""
        key = _key("container", c)
        if key is not None:
            known: Container | None = self._parts.get(key)
            if known is not None:
                return known
            self._parts[key] = c
        _set(c, "name", self._text(c.name))
        _set(c, "image", self._text(c.image))
        _set(c, "image_pull_policy", self._text(c.image_pull_policy))
        _set(c, "resources", self._share(_key("resources", c.resources), c.resources))
        _set(c, "env", self._share(_key("env", c.env), c.env) if c.env else _EMPTY_LIST)
        if c.command:
            _set(c, "command", self._share(("command", *c.command), c.command))
        else:
            _set(c, "command", _EMPTY_LIST)
        _set(c, "args", self._share(("args", *c.args), c.args) if c.args else _EMPTY_LIST)
        _set(c, "ports", self._share(("ports", *c.ports), c.ports) if c.ports else _EMPTY_LIST)
        if c.volume_mounts:
            for mount in c.volume_mounts:
                _set(mount, "mount_path", self._text(mount.mount_path))
            mounts = ("mounts", *c.volume_mounts)
            _set(c, "volume_mounts", self._share(mounts, c.volume_mounts))
        else:
            _set(c, "volume_mounts", _EMPTY_LIST)
        for probe in ("readiness_probe", "liveness_probe", "startup_probe"):
            value = getattr(c, probe)
            if value is not None:
                _set(c, probe, self._share(value, value))
        if c.security_context:
            security = self._share(_key("security", c.security_context), c.security_context)
            _set(c, "security_context", security)
        return c
