"""Pod templates of every workload kind, reachable through one accessor.

Built-in controllers keep their template at a fixed path; the AI operators (Kubeflow training,
JobSet, KubeRay, KServe, LeaderWorkerSet, Volcano, Knative) nest them in replica specs. The table
below names every path once, so no check walks controller shapes itself.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import msgspec

from plumbob.model.objects import (
    Container,
    CronJob,
    DaemonSet,
    Deployment,
    GenericObject,
    Job,
    Object,
    ObjectMeta,
    Pod,
    PodSpec,
    PodTemplateSpec,
    ReplicaSet,
    StatefulSet,
    as_list,
    kind_key,
)

TRAINING_KINDS = frozenset(
    {
        "PyTorchJob",
        "TFJob",
        "MPIJob",
        "PaddleJob",
        "XGBoostJob",
        "MXJob",
        "JAXJob",
        "JobSet",
        "RayJob",
        "Job.batch.volcano.sh",
    }
)
"""Kinds that run distributed training (multi-pod, all-or-nothing)."""

INFERENCE_KINDS = frozenset(
    {"InferenceService", "LeaderWorkerSet", "RayService", "Service.serving.knative.dev"}
)


@dataclass(frozen=True, slots=True)
class PodTemplate:
    """One pod shape a workload runs: the workload, the role inside it, and how many pods."""

    workload: Object
    spec: PodSpec
    metadata: ObjectMeta
    path: str
    """Field path of the pod spec inside the workload, e.g. 'spec.template.spec'."""
    role: str | None = None
    replicas: int = 1

    @property
    def kind(self) -> str:
        return self.workload.kind

    @property
    def namespace(self) -> str | None:
        return self.workload.namespace

    def containers(self) -> Iterator[tuple[str, Container]]:
        """(field path, container) for init and regular containers."""
        for i, c in enumerate(self.spec.init_containers):
            yield f"{self.path}.initContainers[{i}]", c
        for i, c in enumerate(self.spec.containers):
            yield f"{self.path}.containers[{i}]", c


class TemplateError(ValueError):
    """A pod template inside a custom resource that does not have the shape of one."""


def _to_template(raw: Any, where: str) -> PodTemplateSpec:
    if not isinstance(raw, dict):
        raise TemplateError(f"{where}: expected a pod template object, got {type(raw).__name__}")
    try:
        return msgspec.convert(raw, PodTemplateSpec, from_attributes=False)
    except msgspec.ValidationError as exc:
        raise TemplateError(f"{where}: {exc}") from None


def _int(value: Any, default: int) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def _dig(data: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


Extractor = Callable[[GenericObject], Iterator[tuple[str, str | None, int, Any]]]
"""Yields (path of the template, role, replicas, raw template) for one custom resource."""


def _replica_specs(field: str) -> Extractor:
    def extract(obj: GenericObject) -> Iterator[tuple[str, str | None, int, Any]]:
        specs = _dig(obj.spec, field)
        if isinstance(specs, dict):
            for role, rspec in specs.items():
                if isinstance(rspec, dict):
                    yield (
                        f"spec.{field}.{role}.template",
                        role,
                        _int(rspec.get("replicas"), 1),
                        rspec.get("template"),
                    )

    return extract


def _jobset(obj: GenericObject) -> Iterator[tuple[str, str | None, int, Any]]:
    jobs = _dig(obj.spec, "replicatedJobs")
    for i, rj in enumerate(as_list(jobs)):
        if isinstance(rj, dict):
            job_spec = _dig(rj, "template", "spec") or {}
            pods = _int(rj.get("replicas"), 1) * _int(_dig(job_spec, "parallelism"), 1)
            yield (
                f"spec.replicatedJobs[{i}].template.spec.template",
                rj.get("name"),
                pods,
                _dig(job_spec, "template"),
            )


def _ray_cluster_spec(prefix: str, spec: Any) -> Iterator[tuple[str, str | None, int, Any]]:
    head = _dig(spec, "headGroupSpec")
    if isinstance(head, dict):
        yield f"{prefix}.headGroupSpec.template", "head", 1, head.get("template")
    workers = _dig(spec, "workerGroupSpecs")
    for i, group in enumerate(as_list(workers)):
        if isinstance(group, dict):
            n = _int(group.get("replicas"), _int(group.get("minReplicas"), 1))
            yield (
                f"{prefix}.workerGroupSpecs[{i}].template",
                group.get("groupName") or "worker",
                n,
                group.get("template"),
            )


def _ray(field: str | None) -> Extractor:
    def extract(obj: GenericObject) -> Iterator[tuple[str, str | None, int, Any]]:
        if field is None:
            yield from _ray_cluster_spec("spec", obj.spec)
        else:
            yield from _ray_cluster_spec(f"spec.{field}", _dig(obj.spec, field))

    return extract


_KSERVE_CONTAINER_KEYS = (
    "model",
    "tensorflow",
    "pytorch",
    "sklearn",
    "xgboost",
    "onnx",
    "triton",
    "pmml",
    "lightgbm",
    "paddle",
    "huggingface",
)


def _inference_service(obj: GenericObject) -> Iterator[tuple[str, str | None, int, Any]]:
    for component in ("predictor", "transformer", "explainer"):
        comp = _dig(obj.spec, component)
        if not isinstance(comp, dict):
            continue
        pod: dict[str, Any] = {k: v for k, v in comp.items() if k not in _KSERVE_CONTAINER_KEYS}
        containers = [*as_list(comp.get("containers"))]
        for key in _KSERVE_CONTAINER_KEYS:
            model = comp.get(key)
            if isinstance(model, dict):
                containers.insert(0, {"name": "kserve-container", **model})
        pod["containers"] = containers
        pod = {k: v for k, v in pod.items() if k in _POD_SPEC_KEYS}
        yield (
            f"spec.{component}",
            component,
            _int(comp.get("minReplicas"), 1),
            {"metadata": {"labels": _dig(obj.metadata, "labels") or {}}, "spec": pod},
        )


def _lws(obj: GenericObject) -> Iterator[tuple[str, str | None, int, Any]]:
    lwt = _dig(obj.spec, "leaderWorkerTemplate")
    if not isinstance(lwt, dict):
        return
    groups = _int(_dig(obj.spec, "replicas"), 1)
    size = _int(lwt.get("size"), 1)
    if isinstance(lwt.get("leaderTemplate"), dict):
        yield "spec.leaderWorkerTemplate.leaderTemplate", "leader", groups, lwt["leaderTemplate"]
        size -= 1
    yield (
        "spec.leaderWorkerTemplate.workerTemplate",
        "worker",
        groups * max(size, 1),
        lwt.get("workerTemplate"),
    )


def _volcano_job(obj: GenericObject) -> Iterator[tuple[str, str | None, int, Any]]:
    tasks = _dig(obj.spec, "tasks")
    for i, task in enumerate(as_list(tasks)):
        if isinstance(task, dict):
            yield (
                f"spec.tasks[{i}].template",
                task.get("name"),
                _int(task.get("replicas"), 1),
                task.get("template"),
            )


def _single(path: str, *keys: str) -> Extractor:
    def extract(obj: GenericObject) -> Iterator[tuple[str, str | None, int, Any]]:
        yield path, None, _int(_dig(obj.spec, "replicas"), 1), _dig(obj.spec, *keys)

    return extract


_POD_SPEC_KEYS = frozenset(PodSpec.__struct_encode_fields__)

CUSTOM_TEMPLATES: dict[str, Extractor] = {
    "PyTorchJob": _replica_specs("pytorchReplicaSpecs"),
    "TFJob": _replica_specs("tfReplicaSpecs"),
    "MPIJob": _replica_specs("mpiReplicaSpecs"),
    "PaddleJob": _replica_specs("paddleReplicaSpecs"),
    "XGBoostJob": _replica_specs("xgbReplicaSpecs"),
    "MXJob": _replica_specs("mxReplicaSpecs"),
    "JAXJob": _replica_specs("jaxReplicaSpecs"),
    "JobSet": _jobset,
    "RayCluster": _ray(None),
    "RayJob": _ray("rayClusterSpec"),
    "RayService": _ray("rayClusterConfig"),
    "InferenceService": _inference_service,
    "LeaderWorkerSet": _lws,
    "Job.batch.volcano.sh": _volcano_job,
    "Notebook": _single("spec.template", "template"),
    "Service.serving.knative.dev": _single("spec.template", "template"),
}
"""Kind key -> extractor of its pod templates."""

WORKLOAD_KINDS = frozenset(
    {
        "Deployment",
        "StatefulSet",
        "DaemonSet",
        "ReplicaSet",
        "Job",
        "CronJob",
        "Pod",
        *CUSTOM_TEMPLATES,
    }
)


def templates_of(obj: Object) -> Iterator[PodTemplate]:
    """Pod templates of one workload. Raises TemplateError on a malformed custom resource."""
    match obj:
        case Deployment() | StatefulSet() | ReplicaSet():
            replicas = 1 if obj.spec.replicas is None else obj.spec.replicas
            t = obj.spec.template
            yield PodTemplate(obj, t.spec, t.metadata, "spec.template.spec", replicas=replicas)
        case DaemonSet():
            t = obj.spec.template
            yield PodTemplate(obj, t.spec, t.metadata, "spec.template.spec")
        case Job():
            t = obj.spec.template
            yield PodTemplate(
                obj, t.spec, t.metadata, "spec.template.spec", replicas=obj.spec.parallelism or 1
            )
        case CronJob():
            js = obj.spec.job_template.spec
            yield PodTemplate(
                obj,
                js.template.spec,
                js.template.metadata,
                "spec.jobTemplate.spec.template.spec",
                replicas=js.parallelism or 1,
            )
        case Pod():
            yield PodTemplate(obj, obj.spec, obj.metadata, "spec")
        case GenericObject():
            extractor = CUSTOM_TEMPLATES.get(kind_key(obj.api_version, obj.kind))
            if extractor is None:
                return
            for path, role, replicas, raw in extractor(obj):
                if raw is None:
                    continue
                t = _to_template(raw, f"{obj.kind}/{obj.name} {path}")
                if role is not None and not isinstance(role, str):
                    role = str(role)  # a group named by a number (`name: 1`) in plain data
                yield PodTemplate(
                    obj, t.spec, t.metadata, f"{path}.spec", role=role, replicas=replicas
                )
