"""Share identical parts of objects while they are decoded, so big clusters fit in less memory.

Pods are most of a cluster and most of them are replicas: the pods of one ReplicaSet or Job
carry the same labels, owner, tolerations, node selector, affinity, and containers with the same
image, resources, environment and probes. Decoded one by one, every pod holds its own copy of
each. `Compactor` keeps one copy of each distinct part and points every pod at it; with the
annotation below, this took the peak of a 150,000-pod scan from 1,634 MiB to 638 MiB
(docs/performance.md).

Every object also loses kubectl's `last-applied-configuration` annotation, a full JSON copy
of the object as it was last applied that no analysis reads (often the largest part of a
Deployment or Service). Workload pod templates are shared like pods: a ReplicaSet's template is
its Deployment's.

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
    Job,
    Object,
    ObjectMeta,
    Pod,
    PodSpec,
    PodTemplateSpec,
    ReplicaSet,
    StatefulSet,
)

LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
_TEMPLATED = (Deployment, StatefulSet, DaemonSet, ReplicaSet, Job)

_set = msgspec.structs.force_setattr
_key = msgspec.msgpack.Encoder().encode
"""Parts that hold dicts or lists are not hashable: their compact encoding is the key."""


class Compactor:
    def __init__(self) -> None:
        self._parts: dict[Any, Any] = {}
        self._strings: dict[str, str] = {}

    def _share(self, key: Any, value: Any) -> Any:
        return self._parts.setdefault(key, value)

    def _text(self, value: str | None) -> str | None:
        if value is None:
            return None
        return self._strings.setdefault(value, value)

    def object(self, obj: Object) -> Object:
        """Compact any decoded object in place (and return it)."""
        if type(obj) is Pod:
            return self.pod(obj)
        self._meta(obj.metadata)
        if isinstance(obj, _TEMPLATED):
            self._template(obj.spec.template)
        elif isinstance(obj, CronJob):
            self._template(obj.spec.job_template.spec.template)
        return obj

    def _template(self, template: PodTemplateSpec) -> None:
        self._meta(template.metadata)
        self._spec(template.spec)

    def pod(self, pod: Pod) -> Pod:
        _set(pod, "api_version", self._text(pod.api_version))
        _set(pod, "kind", self._text(pod.kind))
        self._meta(pod.metadata)
        self._spec(pod.spec)
        status = pod.status
        _set(status, "phase", self._text(status.phase))
        _set(status, "qos_class", self._text(status.qos_class))
        return pod

    def _meta(self, meta: ObjectMeta) -> None:
        _set(meta, "namespace", self._text(meta.namespace))
        if meta.generate_name:
            _set(meta, "generate_name", self._text(meta.generate_name))
        if meta.labels:
            _set(meta, "labels", self._share(("labels", *meta.labels.items()), meta.labels))
        if LAST_APPLIED in meta.annotations:
            kept = {k: v for k, v in meta.annotations.items() if k != LAST_APPLIED}
            _set(meta, "annotations", kept)
        if meta.annotations:
            key = ("annotations", *meta.annotations.items())
            _set(meta, "annotations", self._share(key, meta.annotations))
        if meta.owner_references:
            owners = tuple(meta.owner_references)
            _set(meta, "owner_references", self._share(("owners", owners), meta.owner_references))

    def _spec(self, spec: PodSpec) -> None:
        for name in ("node_name", "scheduler_name", "priority_class_name", "service_account_name"):
            _set(spec, name, self._text(getattr(spec, name)))
        _set(spec, "restart_policy", self._text(spec.restart_policy))
        if spec.tolerations:
            key = ("tolerations", *spec.tolerations)
            _set(spec, "tolerations", self._share(key, spec.tolerations))
        if spec.node_selector:
            key = ("selector", *spec.node_selector.items())
            _set(spec, "node_selector", self._share(key, spec.node_selector))
        if spec.affinity:
            _set(spec, "affinity", self._share(("affinity", _key(spec.affinity)), spec.affinity))
        for container in spec.containers:
            self._container(container)
        for container in spec.init_containers:
            self._container(container)

    def _container(self, c: Container) -> None:
        _set(c, "name", self._text(c.name))
        _set(c, "image", self._text(c.image))
        _set(c, "image_pull_policy", self._text(c.image_pull_policy))
        _set(c, "resources", self._share(("resources", _key(c.resources)), c.resources))
        if c.env:
            _set(c, "env", self._share(("env", _key(c.env)), c.env))
        if c.command:
            _set(c, "command", self._share(("command", *c.command), c.command))
        if c.args:
            _set(c, "args", self._share(("args", *c.args), c.args))
        if c.ports:
            _set(c, "ports", self._share(("ports", *c.ports), c.ports))
        for probe in ("readiness_probe", "liveness_probe", "startup_probe"):
            value = getattr(c, probe)
            if value is not None:
                _set(c, probe, self._share(value, value))
        if c.security_context:
            key = ("security", _key(c.security_context))
            _set(c, "security_context", self._share(key, c.security_context))
