"""What scales what: HPAs, KEDA ScaledObjects, KServe and Knative autoscaling, node autoscalers.

Shared by the scaling checks and the conformance pre-check (not a check module).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from plumbob.knowledge.workload_roles import gpu_workloads
from plumbob.model.images import parse_image
from plumbob.model.objects import Deployment, GenericObject, Object, as_list, dig
from plumbob.model.roles import WorkloadRole, kind_of
from plumbob.model.snapshot import Snapshot

Key = tuple[str, str | None, str]
"""(kind, namespace, name) of a scale target."""

RESOURCE_METRICS = frozenset({"cpu", "memory"})

INFERENCE_AUTOSCALED_KINDS = frozenset({"Deployment", "InferenceService", "LeaderWorkerSet"})
"""GPU serving kinds that should have a pod autoscaler."""

KSERVE_MODE = "serving.kserve.io/deploymentMode"
KSERVE_CLASS = "serving.kserve.io/autoscalerClass"
KSERVE_METRIC = "serving.kserve.io/metric"
KNATIVE_CLASS = "autoscaling.knative.dev/class"


@dataclass(frozen=True, slots=True)
class Metric:
    """One signal an autoscaler scales on: ('Resource', 'cpu'), ('Pods', 'vllm:num_requests')."""

    type: str
    name: str

    @property
    def resource_only(self) -> bool:
        return self.type in ("Resource", "ContainerResource", "cpu", "memory") and (
            self.name in RESOURCE_METRICS
        )

    def __str__(self) -> str:
        return f"{self.type}:{self.name}"


@dataclass(frozen=True, slots=True)
class Scaler:
    """An autoscaler attached to a workload."""

    source: Object
    kind: str
    """'HPA', 'KEDA', 'KServe', 'Knative'."""
    metrics: tuple[Metric, ...]
    note: str = ""

    @property
    def resource_only(self) -> bool:
        return bool(self.metrics) and all(m.resource_only for m in self.metrics)


def hpa_metrics(hpa: GenericObject) -> tuple[Metric, ...]:
    """Metrics of an HPA of any version; autoscaling/v1 and a v2 HPA without metrics scale on
    CPU (80% by default)."""
    spec = hpa.spec if isinstance(hpa.spec, dict) else {}
    if hpa.api_version == "autoscaling/v1" or "targetCPUUtilizationPercentage" in spec:
        return (Metric("Resource", "cpu"),)
    metrics = spec.get("metrics")
    if not isinstance(metrics, list) or not metrics:
        return (Metric("Resource", "cpu"),)
    out: list[Metric] = []
    for m in metrics:
        if not isinstance(m, dict):
            continue
        mtype = str(m.get("type") or "")
        key = mtype[:1].lower() + mtype[1:]
        body = m.get(key) if isinstance(m.get(key), dict) else {}
        name = (
            (body.get("name") or dig(body, "metric", "name") or body.get("metricName") or "")
            if isinstance(body, dict)
            else ""
        )
        out.append(Metric(mtype, str(name)))
    return tuple(out)


def _target(obj: GenericObject, default_kind: str) -> Key | None:
    ref = dig(obj.spec, "scaleTargetRef")
    if not isinstance(ref, dict) or not ref.get("name"):
        return None
    return (str(ref.get("kind") or default_kind), obj.namespace, str(ref["name"]))


def keda_metrics(so: GenericObject) -> tuple[Metric, ...]:
    triggers = dig(so.spec, "triggers")
    out: list[Metric] = []
    for t in as_list(triggers):
        if not isinstance(t, dict):
            continue
        ttype = str(t.get("type") or "")
        if ttype in RESOURCE_METRICS:
            out.append(Metric("Resource", ttype))
        else:
            name = dig(t, "metadata", "metricName") or dig(t, "metadata", "query") or ""
            out.append(Metric(ttype, str(name)))
    return tuple(out)


@dataclass(frozen=True, slots=True)
class ScaleIndex:
    by_target: Mapping[Key, tuple[Scaler, ...]]
    hpas: int
    scaled_objects: int


def scale_index(snap: Snapshot) -> ScaleIndex:
    """HPAs and ScaledObjects by the workload they scale (built once per snapshot)."""
    return snap.derived(_scale_index)


def _scale_index(snap: Snapshot) -> ScaleIndex:
    out: dict[Key, list[Scaler]] = defaultdict(list)
    hpas = snap.generic("HorizontalPodAutoscaler")
    for hpa in hpas:
        key = _target(hpa, "Deployment")
        if key is not None:
            out[key].append(Scaler(hpa, "HPA", hpa_metrics(hpa)))
    scaled = snap.generic("ScaledObject")
    for so in scaled:
        key = _target(so, "Deployment")
        if key is not None:
            out[key].append(Scaler(so, "KEDA", keda_metrics(so)))
    return ScaleIndex({k: tuple(v) for k, v in out.items()}, len(hpas), len(scaled))


def _lookup(index: ScaleIndex, kind: str, namespace: str | None, name: str) -> list[Scaler]:
    found = list(index.by_target.get((kind, namespace, name), ()))
    if namespace is None or namespace == "default":  # manifests often leave the namespace out
        other = "default" if namespace is None else None
        found += index.by_target.get((kind, other, name), ())
    return found


def kserve_scaler(isvc: Object) -> Scaler | None:
    """How KServe autoscales an InferenceService's predictor, or None when it does not.

    Serverless mode (the default) uses Knative's KPA on concurrency; RawDeployment/Standard mode
    creates an HPA on CPU unless another metric or class is set; class `none`/`external` means
    no autoscaler is created (KServe docs: autoscaling, raw deployment)."""
    ann = isvc.annotations
    spec: dict[str, Any] = (
        isvc.spec if isinstance(isvc, GenericObject) and isinstance(isvc.spec, dict) else {}
    )
    raw = spec.get("predictor")
    predictor: dict[str, Any] = raw if isinstance(raw, dict) else {}
    mode = ann.get(KSERVE_MODE, "Serverless")
    klass = ann.get(KSERVE_CLASS) or ("hpa" if mode in ("RawDeployment", "Standard") else "kpa")
    if klass in ("none", "external"):
        return None
    min_r, max_r = predictor.get("minReplicas"), predictor.get("maxReplicas")
    if isinstance(min_r, int) and isinstance(max_r, int) and max_r and min_r >= max_r:
        return None
    metric_name = predictor.get("scaleMetric") or ann.get(KSERVE_METRIC)
    metrics: list[Metric] = []
    auto = dig(predictor, "autoScaling", "metrics")
    for m in as_list(auto):
        if isinstance(m, dict):
            mtype = str(m.get("type") or "")
            name = (
                dig(m, "resource", "name")
                or dig(m, "external", "metric", "query")
                or dig(m, "podmetric", "metric", "metricName")
                or ""
            )
            metrics.append(Metric(mtype, str(name)))
    if not metrics and metric_name:
        mtype = "Resource" if metric_name in RESOURCE_METRICS else "Knative"
        metrics.append(Metric(mtype, str(metric_name)))
    note = ""
    if not metrics:
        if klass == "hpa":
            metrics.append(Metric("Resource", "cpu"))
            note = "KServe's default HPA metric (cpu)"
        else:
            metrics.append(Metric("Knative", "concurrency"))
            note = "Knative's default metric (concurrency)"
    kind = "KServe" if klass in ("hpa", "keda") else "Knative"
    return Scaler(isvc, kind, tuple(metrics), note=note or f"autoscalerClass {klass}")


def _managed_by_knative(obj: Object) -> bool:
    labels = obj.labels
    return any(k.startswith(("serving.knative.dev/", "serving.kserve.io/")) for k in labels)


def scalers_of(snap: Snapshot, workload: Object) -> list[Scaler]:
    """Every autoscaler that scales `workload`."""
    index = scale_index(snap)
    kind = kind_of(workload)
    found = _lookup(index, workload.kind, workload.namespace, workload.name)
    if kind == "InferenceService":
        own = kserve_scaler(workload)
        if own is not None:
            found.append(own)
        for suffix in ("-predictor", "-predictor-default"):  # HPAs on the generated Deployment
            found += _lookup(index, "Deployment", workload.namespace, workload.name + suffix)
    elif isinstance(workload, Deployment) and _managed_by_knative(workload):
        found.append(
            Scaler(
                workload,
                "Knative",
                (Metric("Knative", "concurrency"),),
                note="Deployment managed by Knative/KServe",
            )
        )
    return found


def gpu_inference_workloads(snap: Snapshot) -> list[Object]:
    """Workloads whose role is serving (model/roles.py) with a GPU template, each once."""
    return [workload for workload, _ in gpu_workloads(snap, WorkloadRole.SERVING)]


# ------------------------------------------------------------------ components


def _image_has(snap: Snapshot, fragments: tuple[str, ...], kinds: tuple[str, ...]) -> Object | None:
    for kind in kinds:
        for obj in snap.objects(kind):
            for template in snap.templates_by_workload.get(id(obj), ()):
                for c in template.spec.all_containers:
                    if c.image and any(f in parse_image(c.image).repository for f in fragments):
                        return obj
    return None


def keda_evidence(snap: Snapshot) -> str | None:
    """Why plumbob thinks KEDA is installed, or None."""
    if snap.discovery is not None and snap.has_group("keda.sh"):
        return "API group keda.sh is served"
    for kind in ("ScaledObject", "ScaledJob"):
        objs = snap.objects(kind)
        if objs:
            return f"{len(objs)} {kind} object(s)"
    found = _image_has(snap, ("kedacore/keda",), ("Deployment",))
    if found is not None:
        return f"Deployment {found.namespace}/{found.name} runs KEDA"
    return None


KARPENTER_NODE_LABELS = (
    "karpenter.sh/nodepool",
    "karpenter.sh/provisioner-name",
    "karpenter.sh/registered",
)
AUTOSCALER_NODE_ANNOTATION_PREFIX = "cluster-autoscaler.kubernetes.io/"
EKS_AUTO_LABEL = ("eks.amazonaws.com/compute-type", "auto")
GKE_NAP_PREFIX = "nap-"


def cluster_autoscaler_evidence(snap: Snapshot, *, karpenter: bool = True) -> str | None:
    """Why plumbob thinks a cluster-wide node autoscaler runs, or None. `karpenter=False`: only
    an autoscaler other than Karpenter (whose NodePools say what it can create)."""
    for kind in ("NodePool", "Provisioner", "NodeClaim") if karpenter else ():
        objs = [o for o in snap.objects(kind) if o.group == "karpenter.sh"]
        if objs:
            return f"Karpenter {kind} {objs[0].name}"
    if karpenter and snap.discovery is not None and snap.has_group("karpenter.sh"):
        return "API group karpenter.sh is served (Karpenter)"
    for kind in ("ClusterAutoscaler", "MachineAutoscaler"):
        found_objs = snap.objects(kind)
        if found_objs:
            return f"OpenShift {kind} {found_objs[0].name}"
    for cm in snap.objects("ConfigMap"):
        if cm.name == "cluster-autoscaler-status":
            return f"ConfigMap {cm.namespace}/{cm.name} (written by cluster-autoscaler)"
    for dep in snap.objects("Deployment"):
        if "cluster-autoscaler" in dep.name:
            return f"Deployment {dep.namespace}/{dep.name}"
    images = ("autoscaling/cluster-autoscaler", "karpenter/controller")
    found = _image_has(snap, images if karpenter else images[:1], ("Deployment",))
    if found is not None:
        return f"Deployment {found.namespace}/{found.name} runs a node autoscaler"
    return None


def node_autoscaled(labels: Mapping[str, str], annotations: Mapping[str, str]) -> str | None:
    """Why one node looks managed by a node autoscaler, or None."""
    for key in KARPENTER_NODE_LABELS:
        if key in labels:
            return f"label {key} (Karpenter)"
    if labels.get(EKS_AUTO_LABEL[0]) == EKS_AUTO_LABEL[1]:
        return "EKS Auto Mode node"
    if labels.get("cloud.google.com/gke-nodepool", "").startswith(GKE_NAP_PREFIX):
        return "GKE node auto-provisioning pool"
    for key in annotations:
        if key.startswith(AUTOSCALER_NODE_ANNOTATION_PREFIX):
            return f"annotation {key}"
    return None


def iter_scalers(snap: Snapshot) -> Iterator[Scaler]:
    for scalers in scale_index(snap).by_target.values():
        yield from scalers
