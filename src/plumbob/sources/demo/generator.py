"""The embedded demo fleet: a realistic EKS AI platform as raw `kubectl get -o json` objects.

`generate` streams Node objects first, then other cluster-scoped objects, then namespaced
objects, and Pods last; memory stays bounded by the plan (one entry per workload and per node),
never by the number of emitted objects. Same `DemoSpec`, same bytes.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from plumbob.sources.demo.base import Context, Obj, managed_entry
from plumbob.sources.demo.catalog import build_plan
from plumbob.sources.demo.cluster import cluster_objects, namespace_objects
from plumbob.sources.demo.lws import lws_objects, lws_pods
from plumbob.sources.demo.objects import workload_objects
from plumbob.sources.demo.pods import Placement, workload_pods
from plumbob.sources.demo.pools import build_layout, build_node
from plumbob.sources.demo.workload import Plan

SERVER_VERSION = "v1.31.4-eks-2d5f260"
"""gitVersion of the demo control plane (EKS 1.31)."""

# Group versions the demo API server serves. Kubernetes 1.31 serves DRA only as
# resource.k8s.io/v1alpha3 behind a feature gate EKS leaves off, so it is absent.
_API_GROUPS = (
    "v1",
    "admissionregistration.k8s.io/v1",
    "apiextensions.k8s.io/v1",
    "apiregistration.k8s.io/v1",
    "apps/v1",
    "authentication.k8s.io/v1",
    "authorization.k8s.io/v1",
    "autoscaling/v1",
    "autoscaling/v2",
    "batch/v1",
    "certificates.k8s.io/v1",
    "coordination.k8s.io/v1",
    "discovery.k8s.io/v1",
    "events.k8s.io/v1",
    "flowcontrol.apiserver.k8s.io/v1",
    "networking.k8s.io/v1",
    "node.k8s.io/v1",
    "policy/v1",
    "rbac.authorization.k8s.io/v1",
    "scheduling.k8s.io/v1",
    "storage.k8s.io/v1",
    "crd.k8s.amazonaws.com/v1alpha1",
    "networking.k8s.aws/v1alpha1",
    "vpcresources.k8s.aws/v1beta1",
    "vpcresources.k8s.aws/v1alpha1",
    "metrics.k8s.io/v1beta1",
    "custom.metrics.k8s.io/v1beta1",
    "custom.metrics.k8s.io/v1beta2",
    "external.metrics.k8s.io/v1beta1",
    "karpenter.sh/v1",
    "karpenter.k8s.aws/v1",
    "nvidia.com/v1",
    "nvidia.com/v1alpha1",
    "nfd.k8s-sigs.io/v1alpha1",
    "monitoring.coreos.com/v1",
    "monitoring.coreos.com/v1alpha1",
    "kueue.x-k8s.io/v1beta2",
    "kueue.x-k8s.io/v1beta1",
    "kueue.x-k8s.io/v1alpha1",
    "kubeflow.org/v1",
    "jobset.x-k8s.io/v1alpha2",
    "leaderworkerset.x-k8s.io/v1",
    "keda.sh/v1alpha1",
    "eventing.keda.sh/v1alpha1",
    "serving.kserve.io/v1beta1",
    "serving.kserve.io/v1alpha1",
    "velero.io/v1",
    "velero.io/v2alpha1",
)


@dataclass(frozen=True, slots=True)
class DemoSpec:
    """Size and identity of the demo cluster.

    `nodes` and `pods` are totals. Nodes split over the pools by share (system ~40%,
    H100 training ~25%, L4 inference ~27%, A10G inference ~8%). Fixed workloads,
    DaemonSet pods and one GPU pod per busy GPU node always exist, so a smaller `pods`
    is raised to that minimum; above it, replicas and services are added until the
    count is exact.
    """

    nodes: int = 48
    pods: int = 900
    seed: int = 7
    cluster: str = "demo-ai-platform"
    managed_fields: bool = False
    """Add metadata.managedFields and kubectl's last-applied-configuration annotation."""


def api_groups() -> list[str]:
    """API group versions the demo cluster serves (core "v1" included)."""
    return list(_API_GROUPS)


def generate(spec: DemoSpec) -> Iterator[dict[str, Any]]:
    """Stream every object of the demo cluster, each an independent dict.

    Raises ValueError at once (not on first iteration) for an unsupported node count.
    """
    layout = build_layout(spec.nodes, spec.seed)
    plan = build_plan(layout, spec.pods, spec.seed)
    return _stream(spec, plan)


def _stream(spec: DemoSpec, plan: Plan) -> Iterator[Obj]:
    ctx = Context(spec.cluster, managed_fields=spec.managed_fields)
    placement = Placement(plan.layout)
    finish = _ManagedFields() if spec.managed_fields else _same
    for slot in plan.layout.nodes:
        yield finish(build_node(ctx, slot))
    for obj in cluster_objects(ctx, plan):
        yield finish(obj)
    for w in plan.workloads:
        objects = (
            lws_objects(ctx, w)
            if w.kind == "LeaderWorkerSet"
            else workload_objects(ctx, plan, placement, w)
        )
        for obj in objects:
            yield finish(obj)
    for obj in namespace_objects(ctx, plan):
        yield finish(obj)
    for w in plan.workloads:
        pods = (
            lws_pods(ctx, placement, w)
            if w.kind == "LeaderWorkerSet"
            else workload_pods(ctx, plan, placement, w)
        )
        for obj in pods:
            yield finish(obj)


def _same(obj: Obj) -> Obj:
    return obj


# ----------------------------------------------------------------------------- managedFields

_CONTROLLED = {"ReplicaSet", "Pod", "Job", "PersistentVolume"}
_STATUS_MANAGER = {
    "Pod": "kubelet",
    "Node": "kubelet",
    "PyTorchJob": "training-operator",
    "JobSet": "jobset",
    "ClusterQueue": "kueue",
    "LocalQueue": "kueue",
    "ScaledObject": "keda",
    "InferenceService": "manager",
    "ClusterPolicy": "gpu-operator",
    "NodePool": "karpenter",
    "EC2NodeClass": "karpenter",
    "Schedule": "velero-server",
    "BackupStorageLocation": "velero-server",
}
_SPEC_MANAGER = {
    "Node": "kubelet",
    "PersistentVolume": "csi-provisioner",
    "Namespace": "kubectl-create",
}


def _spec_manager(obj: Obj) -> str:
    kind, meta = obj["kind"], obj["metadata"]
    if kind in _SPEC_MANAGER:
        return _SPEC_MANAGER[kind]
    owners = meta.get("ownerReferences", ())
    if owners:
        return {
            "PyTorchJob": "training-operator",
            "JobSet": "jobset",
            "ScaledObject": "keda",
            "InferenceService": "manager",
        }.get(owners[0]["kind"], "kube-controller-manager")
    if meta.get("labels", {}).get("app.kubernetes.io/managed-by") == "Helm":
        return "helm"
    return "kubectl-client-side-apply"


class _ManagedFields:
    """Adds managedFields; pods of one owner share their field sets, so those are cached."""

    _TOKEN = "@@token@@"
    _TIME = "@@time@@"

    def __init__(self) -> None:
        self._pods: dict[tuple[object, ...], str] = {}

    def __call__(self, obj: Obj) -> Obj:
        if obj["kind"] != "Pod":
            return _with_managed_fields(obj)
        meta = obj["metadata"]
        token = obj["spec"]["volumes"][-1]["name"]
        status = obj["status"]
        waiting = "waiting" in str(status.get("containerStatuses", ""))
        key = (
            meta["ownerReferences"][0]["uid"],
            status["phase"],
            waiting,
            tuple(meta.get("labels", ())),
            tuple(meta.get("annotations", ())),
        )
        text = self._pods.get(key)
        if text is None:
            _with_managed_fields(obj)
            entries = obj["metadata"]["managedFields"]
            text = json.dumps(entries).replace(token, self._TOKEN)
            self._pods[key] = text.replace(meta["creationTimestamp"], self._TIME)
            return obj
        entries = json.loads(
            text.replace(self._TOKEN, token).replace(self._TIME, meta["creationTimestamp"])
        )
        obj["metadata"] = dict(sorted({**meta, "managedFields": entries}.items()))
        return obj


def _with_managed_fields(obj: Obj) -> Obj:
    """Add what the API server stores beyond `kubectl get`'s default view."""
    meta = dict(obj["metadata"])
    api, kind, time = obj["apiVersion"], obj["kind"], meta["creationTimestamp"]
    manager = _spec_manager(obj)
    owned: Obj = {
        key: meta[key] for key in ("annotations", "labels", "ownerReferences") if key in meta
    }
    desired = {
        k: v for k, v in obj.items() if k not in ("apiVersion", "kind", "metadata", "status")
    }
    if manager == "kubectl-client-side-apply":
        applied_meta = {
            k: meta[k] for k in ("annotations", "labels", "name", "namespace") if k in meta
        }
        applied = {"apiVersion": api, "kind": kind, "metadata": applied_meta, **desired}
        text = json.dumps(applied, sort_keys=True, separators=(",", ":")) + "\n"
        meta["annotations"] = dict(
            sorted({**meta.get("annotations", {}), _LAST_APPLIED: text}.items())
        )
    entries = [managed_entry(manager, api, {"metadata": owned, **desired}, time, status=False)]
    if "status" in obj and kind not in ("Namespace",):
        status_manager = _STATUS_MANAGER.get(kind, "kube-controller-manager")
        entries.append(
            managed_entry(status_manager, api, {"status": obj["status"]}, time, status=True)
        )
    meta["managedFields"] = entries
    obj["metadata"] = dict(sorted(meta.items()))
    return obj


_LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
