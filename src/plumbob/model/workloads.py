"""Pod templates of every workload kind, reachable through one accessor.

Built-in controllers keep their template at a fixed path; the AI operators (Kubeflow training,
JobSet, KubeRay, KServe, LeaderWorkerSet, Volcano, Knative) nest them in replica specs. The table
below names every path once, so no check walks controller shapes itself.

Objects whose controller is not in the input (pods listed without their ReplicaSets, Jobs
without their CronJob) are grouped by their controller reference, and each group is one
workload, seen through an `AbsentController` standing for the controller (rules below).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import msgspec

from plumbob.model.gpu import container_gpu_resources, containers_gpu_request, gpu_count_unknown
from plumbob.model.images import parse_image, unrendered_image
from plumbob.model.objects import (
    Container,
    CronJob,
    DaemonSet,
    Deployment,
    GenericObject,
    Job,
    Object,
    ObjectMeta,
    OwnerReference,
    Pod,
    PodSpec,
    PodTemplateSpec,
    ReplicaSet,
    StatefulSet,
    as_list,
    dig,
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
    {
        "InferenceService",
        "LLMInferenceService",
        "LeaderWorkerSet",
        "RayService",
        "Service.serving.knative.dev",
    }
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

    def unpinned_images(self) -> Iterator[tuple[str, Container, str]]:
        """(field path, container, how) for each container whose image does not name one build:
        no digest, and no tag, `:latest`, a floating tag (`main`, `nightly`, `stable`) or a
        pre-release (`ImageRef.unpinned` says how). An image that is template text is unknown,
        not unpinned (the decoder names it in manifests), and is left out."""
        for path, container in self.containers():
            image = container.image
            if not image or unrendered_image(image):
                continue
            how = parse_image(image).unpinned
            if how is not None:
                yield path, container, how

    def gpu_resources(self) -> Iterator[tuple[str, Container, str, float]]:
        """(field path, container, resource, amount) for each GPU resource (`is_gpu_resource`:
        whole GPUs, MIG slices, renamed shared GPUs) an init or regular container asks for."""
        for path, container in self.containers():
            for resource, amount in container_gpu_resources(container).items():
                yield path, container, resource, amount


def gpus_asked(templates: Iterable[PodTemplate]) -> tuple[float, bool]:
    """GPUs the templates' pods ask for over all their replicas (the known counts), and whether
    a container asks for an amount that is not a count: the two `gpus_text` puts in words, so a
    workload's total never reads as whole when part of it is unknown."""
    total = 0.0
    unknown = False
    for t in templates:
        total += t.replicas * containers_gpu_request(t.spec.containers)
        unknown = unknown or gpu_count_unknown(t.spec.containers)
    return total, unknown


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


Extractor = Callable[[GenericObject], Iterator[tuple[str, str | None, int, Any]]]
"""Yields (path of the template, role, replicas, raw template) for one custom resource."""


def _replica_specs(field: str) -> Extractor:
    def extract(obj: GenericObject) -> Iterator[tuple[str, str | None, int, Any]]:
        specs = dig(obj.spec, field)
        if isinstance(specs, dict):
            for role, rspec in specs.items():
                if isinstance(rspec, dict):
                    yield (
                        f"spec.{field}.{role}.template",
                        role,
                        _int(rspec.get("replicas"), 1),
                        rspec.get("template"),
                    )
        elif specs is None:
            yield from _v1alpha1_replica_specs(obj)

    return extract


_V1ALPHA1_ROLE_KEYS = ("tfReplicaType", "replicaType", "pytorchReplicaType")


def _v1alpha1_replica_specs(obj: GenericObject) -> Iterator[tuple[str, str | None, int, Any]]:
    """The first Kubeflow training API (kubeflow.org/v1alpha1, 2017-2018) listed replicas in
    `spec.replicaSpecs`, each with its type (`tfReplicaType: MASTER`); the MPIJob's first API
    had one worker `spec.template`. Objects of those versions are still read for their pods
    (knowledge/custom_api_versions.yaml says no controller serves them any more)."""
    listed = dig(obj.spec, "replicaSpecs")
    for i, rspec in enumerate(as_list(listed)):
        if isinstance(rspec, dict):
            role = next(
                (rspec[k] for k in _V1ALPHA1_ROLE_KEYS if isinstance(rspec.get(k), str)), None
            )
            yield (
                f"spec.replicaSpecs[{i}].template",
                role,
                _int(rspec.get("replicas"), 1),
                rspec.get("template"),
            )
    if obj.kind == "MPIJob" and isinstance(dig(obj.spec, "template"), dict):
        yield "spec.template", "Worker", _int(dig(obj.spec, "replicas"), 1), obj.spec["template"]


def _jobset(obj: GenericObject) -> Iterator[tuple[str, str | None, int, Any]]:
    jobs = dig(obj.spec, "replicatedJobs")
    for i, rj in enumerate(as_list(jobs)):
        if isinstance(rj, dict):
            job_spec = dig(rj, "template", "spec") or {}
            pods = _int(rj.get("replicas"), 1) * _int(dig(job_spec, "parallelism"), 1)
            yield (
                f"spec.replicatedJobs[{i}].template.spec.template",
                rj.get("name"),
                pods,
                dig(job_spec, "template"),
            )


def _ray_cluster_spec(prefix: str, spec: Any) -> Iterator[tuple[str, str | None, int, Any]]:
    head = dig(spec, "headGroupSpec")
    if isinstance(head, dict):
        yield f"{prefix}.headGroupSpec.template", "head", 1, head.get("template")
    workers = dig(spec, "workerGroupSpecs")
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
            yield from _ray_cluster_spec(f"spec.{field}", dig(obj.spec, field))

    return extract


KSERVE_CONTAINER_KEYS = (
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
"""The keys of a KServe component that hold its model server's container (the exported
admission policies read the same ones: policy/rules.py)."""


def _inference_service(obj: GenericObject) -> Iterator[tuple[str, str | None, int, Any]]:
    spec, prefix = obj.spec, "spec"
    # KFServing's serving.kubeflow.org/v1alpha2 nested the components in `spec.default` (and
    # `spec.canary`), and a custom container in `custom.container`
    components = ("predictor", "transformer", "explainer")
    if not any(isinstance(dig(spec, c), dict) for c in components) and isinstance(
        dig(spec, "default"), dict
    ):
        spec, prefix = spec["default"], "spec.default"
    for component in ("predictor", "transformer", "explainer"):
        comp = dig(spec, component)
        if not isinstance(comp, dict):
            continue
        pod: dict[str, Any] = {k: v for k, v in comp.items() if k not in KSERVE_CONTAINER_KEYS}
        containers = [*as_list(comp.get("containers"))]
        for key in KSERVE_CONTAINER_KEYS:
            model = comp.get(key)
            if isinstance(model, dict):
                containers.insert(0, {"name": "kserve-container", **model})
        custom = dig(comp, "custom", "container")
        if isinstance(custom, dict):
            containers.insert(0, {"name": "kserve-container", **custom})
        pod["containers"] = containers
        pod = {k: v for k, v in pod.items() if k in _POD_SPEC_KEYS}
        yield (
            f"{prefix}.{component}",
            component,
            _int(comp.get("minReplicas"), 1),
            {"metadata": {"labels": dict(obj.metadata.labels)}, "spec": pod},
        )


def _llm_inference_service(obj: GenericObject) -> Iterator[tuple[str, str | None, int, Any]]:
    """A KServe LLMInferenceService's pods: its `template` (the model server; the decode
    server when a `prefill` block splits serving in two) and multi-node `worker`, the same in
    `prefill`, and the router's scheduler (the endpoint picker). Each is a pod spec, not a pod
    template. The `replicas` of a block count its head pods; its workers are counted as many,
    a lower bound (each replica may run several)."""
    meta = {"labels": dict(obj.metadata.labels)}
    prefill = dig(obj.spec, "prefill")
    split = isinstance(prefill, dict)
    for prefix, block, names in (
        ("spec", obj.spec, ("decode", "decode-worker") if split else (None, "worker")),
        ("spec.prefill", prefill, ("prefill", "prefill-worker")),
    ):
        if not isinstance(block, dict):
            if block is not None:  # (not a mapping: templates_of names it)
                yield prefix, names[0], 1, block
            continue
        replicas = _int(block.get("replicas"), 1)
        for field, role in zip(("template", "worker"), names, strict=True):
            pod = block.get(field)
            if pod is not None:
                yield f"{prefix}.{field}", role, replicas, {"metadata": meta, "spec": pod}
    scheduler = dig(obj.spec, "router", "scheduler", "template")
    if scheduler is not None:
        yield (
            "spec.router.scheduler.template",
            "scheduler",
            1,
            {"metadata": meta, "spec": scheduler},
        )


def _lws(obj: GenericObject) -> Iterator[tuple[str, str | None, int, Any]]:
    lwt = dig(obj.spec, "leaderWorkerTemplate")
    if not isinstance(lwt, dict):
        return
    groups = _int(dig(obj.spec, "replicas"), 1)
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
    tasks = dig(obj.spec, "tasks")
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
        yield path, None, _int(dig(obj.spec, "replicas"), 1), dig(obj.spec, *keys)

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
    "LLMInferenceService": _llm_inference_service,
    "LeaderWorkerSet": _lws,
    "Job.batch.volcano.sh": _volcano_job,
    "Notebook": _single("spec.template", "template"),
    "Service.serving.knative.dev": _single("spec.template", "template"),
}
"""Kind key -> extractor of its pod templates: (path, role, replicas, template) for each; the
path names the template, or the pod spec itself for the kinds in POD_SPEC_SHAPED."""

POD_SPEC_SHAPED = frozenset({"InferenceService", "LLMInferenceService"})
"""Kinds that keep pod specs, not pod templates (a KServe component is a pod spec with its
model server beside it; an LLMInferenceService's `template` is a PodSpec): their extractors'
paths name the pod spec."""

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
                spec_path = path if obj.kind in POD_SPEC_SHAPED else f"{path}.spec"
                yield PodTemplate(obj, t.spec, t.metadata, spec_path, role=role, replicas=replicas)


# ---------------------------------------------------------------- controllers not in the input


_STAND_IN = {"frozen": True, "kw_only": True, "rename": "camel", "omit_defaults": True, "gc": False}
"""The options of every model Struct (model/objects.py)."""


class AbsentController(Object, **_STAND_IN):
    """Stands for a controller that is not in the input, known only from the objects it owns.

    `kubectl get pods,deployments`, a cluster-info dump of some namespaces or a support archive
    lists pods without their ReplicaSets; without this, every such pod would be a workload of
    its own, and a check would report one finding per pod. Its kind, name, namespace and
    apiVersion are those of the reference (or of the Deployment a pod-template-hash implies, see
    `deployment_of_replica_set`), its origin that of the member whose template it carries (see
    `Snapshot.pod_templates`); it has no uid, labels, annotations or spec of its own, as
    nothing of the controller was read. It is never one of the snapshot's objects: it is
    reached only through `Snapshot.pod_templates`, `workloads`, `templates_by_workload` and
    `workload_of`, so kind counts, API version checks and snapshot files never see it.
    """

    pods: int = 0
    """Pods in the input counted in this workload: its own, and those of its members."""
    members: dict[str, int] = msgspec.field(default_factory=dict)
    """Kind -> how many objects of the input are grouped under it (Pod, ReplicaSet, Job)."""
    implied_by: str = ""
    """How its kind and name were found when no reference names them, e.g. 'the
    pod-template-hash of the pods of ReplicaSet web-7d4b9c'; empty when a reference names them."""

    def describe(self) -> str:
        """Where plumbob learnt of it, for a finding's evidence."""
        named = " and ".join(
            f"{n} {kind}{'' if n == 1 else 's'}" for kind, n in sorted(self.members.items())
        )
        if self.implied_by:
            return f"not in the input; implied by {self.implied_by} ({named})"
        return f"not in the input; named by the ownerReferences of {named}"


GROUPED_KINDS = frozenset({"Pod", "ReplicaSet", "Job"})
"""Kinds whose objects a controller creates in numbers, grouped when that controller is absent.
Other workload kinds with an absent owner stay workloads of their own."""

POD_TEMPLATE_HASH = "pod-template-hash"
"""Label the Deployment controller puts on the ReplicaSets it creates and on their pods."""

_SAFE_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
"""k8s.io/apimachinery/pkg/util/rand SafeEncodeString's alphabet."""


def controller_reference(obj: Object) -> OwnerReference | None:
    """The reference to the object's controller: the one marked `controller: true`, else the
    first (objects written by hand or by old clients may leave the mark out)."""
    owners = obj.metadata.owner_references
    if not owners:
        return None
    for owner in owners:
        if owner.controller:
            return owner
    return owners[0]


def _safe_encode(text: str) -> str:
    return "".join(_SAFE_ALPHABET[ord(ch) % len(_SAFE_ALPHABET)] for ch in text)


def deployment_of_replica_set(replica_set: str, template_hash: str | None) -> str | None:
    """The Deployment a ReplicaSet's name implies, given its pods' pod-template-hash label.

    The Deployment controller names a ReplicaSet `<deployment>-<hash>` and labels it and its
    pods `pod-template-hash: <hash>`. Since Kubernetes 1.12 the label is the name's suffix;
    from 1.8 to 1.11 the name carried the hash safe-encoded (one letter per digit) and the label
    the digits (kubernetes/kubernetes#51538, #55346, #66094), so both forms count. A name that
    does not end with the hash was not made by the Deployment controller: None."""
    if not template_hash:
        return None
    for suffix in (template_hash, _safe_encode(template_hash)):
        head, sep, tail = replica_set.rpartition("-")
        if sep and head and tail == suffix:
            return head
    return None


def cron_job_of_job(job: str) -> str | None:
    """The CronJob a Job's name may come from: the CronJob controller names its Jobs
    `<cronjob>-<scheduled time>`, the time in minutes (seconds before Kubernetes 1.21) since the
    epoch (kubernetes pkg/controller/cronjob/utils.go getJobName). Only a name of that shape
    gives a candidate; whether the CronJob exists is the caller's to ask."""
    head, sep, tail = job.rpartition("-")
    return head if sep and head and tail.isdigit() else None


_PINNING_FIELD = "metadata.name"


def _unpinned_affinity(affinity: dict[str, Any] | None) -> dict[str, Any] | None:
    """The affinity without the term the DaemonSet controller pins each daemon pod to its node
    with (`matchFields: metadata.name In [node]`, replacing the required node affinity; kubernetes
    pkg/controller/daemon/util ReplaceDaemonSetPodNodeNameNodeAffinity). The DaemonSet's own
    required node affinity, which that term replaced, cannot be read back from its pods."""
    node_affinity = dig(affinity, "nodeAffinity")
    required = dig(node_affinity, "requiredDuringSchedulingIgnoredDuringExecution")
    terms = dig(required, "nodeSelectorTerms")
    if not isinstance(terms, list) or affinity is None:
        return affinity
    kept = [
        t
        for t in terms
        if not (
            isinstance(t, dict)
            and not t.get("matchExpressions")
            and as_list(t.get("matchFields"))
            and all(
                isinstance(f, dict) and f.get("key") == _PINNING_FIELD
                for f in as_list(t.get("matchFields"))
            )
        )
    ]
    if len(kept) == len(terms):
        return affinity
    node = {
        k: v
        for k, v in node_affinity.items()
        if k != "requiredDuringSchedulingIgnoredDuringExecution"
    }
    if kept:
        node["requiredDuringSchedulingIgnoredDuringExecution"] = {
            **required,
            "nodeSelectorTerms": kept,
        }
    out = {k: v for k, v in affinity.items() if k != "nodeAffinity"}
    if node:
        out["nodeAffinity"] = node
    return out or None


def unbound_spec(pod: Pod) -> PodSpec:
    """A pod's spec as its controller's template had it: without the node the scheduler bound
    it to, and, for a daemon pod, without the controller's pin to that node."""
    spec = pod.spec
    daemon = any(o.kind == "DaemonSet" for o in pod.metadata.owner_references)
    affinity = _unpinned_affinity(spec.affinity) if daemon else spec.affinity
    if spec.node_name is None and affinity is spec.affinity:
        return spec
    return msgspec.structs.replace(spec, node_name=None, affinity=affinity)
