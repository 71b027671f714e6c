"""Namespaced API objects of the demo workloads: controllers, Services, autoscalers, PDBs."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import TYPE_CHECKING

from plumbob.sources.demo.base import Context, Obj, clone, name_suffix, owner_ref, sort_keys, ts
from plumbob.sources.demo.crds import ISVC, inference_service, jobset, pytorch_job
from plumbob.sources.demo.workload import PENDING, Plan, Workload, pod_template

if TYPE_CHECKING:
    from plumbob.sources.demo.pods import Placement


def _revision(w: Workload) -> int:
    return 1 + int(hashlib.blake2b(w.name.encode(), digest_size=2).hexdigest(), 16) % 6


# ----------------------------------------------------------------------------- controllers


def rs_name(w: Workload) -> str:
    return f"{w.name}-{name_suffix(w.namespace + '/' + w.name, 10)}"


def ready_pods(w: Workload) -> int:
    """Pods of `w` that run and pass readiness (crash-looping and Pending ones do not)."""
    if w.crashloop or w.rejected:
        return 0
    if w.nodes:
        return sum(1 for node in w.nodes if node != PENDING)
    return w.pod_count


def _deployment_status(w: Workload, rs: str, age: int) -> Obj:
    n, ready = w.replicas, ready_pods(w)
    available = ready >= n - n // 4  # the default maxUnavailable of 25%, rounded down
    conditions: list[Obj] = [
        {
            "lastTransitionTime": ts(age - 120),
            "lastUpdateTime": ts(age - 120),
            "message": "Deployment has minimum availability."
            if available
            else "Deployment does not have minimum availability.",
            "reason": "MinimumReplicasAvailable" if available else "MinimumReplicasUnavailable",
            "status": str(available),
            "type": "Available",
        },
        {
            "lastTransitionTime": ts(age),
            "lastUpdateTime": ts(age - 120),
            "message": f'ReplicaSet "{rs}" has successfully progressed.'
            if ready == n
            else f'ReplicaSet "{rs}" has timed out progressing.',
            "reason": "NewReplicaSetAvailable" if ready == n else "ProgressDeadlineExceeded",
            "status": str(ready == n),
            "type": "Progressing",
        },
    ]
    if w.rejected:
        conditions.append(
            {
                "lastTransitionTime": ts(age - 5),
                "lastUpdateTime": ts(age - 5),
                "message": w.rejected.format(pod=f"{rs}-{name_suffix(rs)}"),
                "reason": "FailedCreate",
                "status": "True",
                "type": "ReplicaFailure",
            }
        )
    status: Obj = {"conditions": conditions, "observedGeneration": _revision(w)}
    counts = {
        "availableReplicas": ready,
        "readyReplicas": ready,
        "replicas": w.pod_count,
        "unavailableReplicas": n - ready,
        "updatedReplicas": w.pod_count,
    }
    return status | {key: value for key, value in counts.items() if value}


def _deployment(ctx: Context, w: Workload, owner: Obj | None) -> Iterator[Obj]:
    rs = rs_name(w)
    pod_hash = rs.rsplit("-", 1)[1]
    labels = {**w.selector, **w.labels}
    template = pod_template(w, labels)
    revision = _revision(w)
    annotations = {"deployment.kubernetes.io/revision": str(revision)}
    if w.labels.get("app.kubernetes.io/managed-by") == "Helm":
        annotations |= {
            "meta.helm.sh/release-name": w.name,
            "meta.helm.sh/release-namespace": w.namespace,
        }
    yield sort_keys(
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": ctx.meta(
                "Deployment",
                w.name,
                w.namespace,
                age=w.age,
                labels=labels,
                annotations=annotations,
                owner=owner,
                generation=revision,
            ),
            "spec": {
                "progressDeadlineSeconds": 600,
                "replicas": w.replicas,
                "revisionHistoryLimit": 10,
                "selector": {"matchLabels": w.selector},
                "strategy": {
                    "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"},
                    "type": "RollingUpdate",
                },
                "template": template,
            },
            "status": _deployment_status(w, rs, w.age),
        }
    )
    rs_template = clone(template)
    rs_template["metadata"]["labels"]["pod-template-hash"] = pod_hash
    rs_template = sort_keys(rs_template)
    ready = ready_pods(w)
    rs_status: Obj = {"observedGeneration": 1, "replicas": w.pod_count}
    if w.pod_count:
        rs_status["fullyLabeledReplicas"] = w.pod_count
    if ready:
        rs_status |= {"availableReplicas": ready, "readyReplicas": ready}
    if w.rejected:
        rs_status["conditions"] = [
            {
                "lastTransitionTime": ts(w.age - 5),
                "message": w.rejected.format(pod=f"{rs}-{name_suffix(rs)}"),
                "reason": "FailedCreate",
                "status": "True",
                "type": "ReplicaFailure",
            }
        ]
    yield sort_keys(
        {
            "apiVersion": "apps/v1",
            "kind": "ReplicaSet",
            "metadata": ctx.meta(
                "ReplicaSet",
                rs,
                w.namespace,
                age=w.age - 60,
                generation=1,
                labels={**labels, "pod-template-hash": pod_hash},
                annotations={
                    "deployment.kubernetes.io/desired-replicas": str(w.replicas),
                    "deployment.kubernetes.io/max-replicas": str(w.replicas + -(-w.replicas // 4)),
                    "deployment.kubernetes.io/revision": str(revision),
                },
                owner=owner_ref(
                    "apps/v1", "Deployment", w.name, ctx.uid("Deployment", w.namespace, w.name)
                ),
            ),
            "spec": {
                "replicas": w.replicas,
                "selector": {"matchLabels": {**w.selector, "pod-template-hash": pod_hash}},
                "template": rs_template,
            },
            "status": rs_status,
        }
    )


def _daemonset(ctx: Context, plan: Plan, w: Workload) -> Obj:
    n = sum(len(plan.layout.of(pool)) for pool in w.ds_pools)
    labels = {**w.selector, **w.labels}
    return sort_keys(
        {
            "apiVersion": "apps/v1",
            "kind": "DaemonSet",
            "metadata": ctx.meta(
                "DaemonSet",
                w.name,
                w.namespace,
                age=w.age,
                labels=labels,
                generation=1,
                annotations={"deprecated.daemonset.template.generation": "1"},
            ),
            "spec": {
                "revisionHistoryLimit": 10,
                "selector": {"matchLabels": w.selector},
                "template": pod_template(w, labels),
                "updateStrategy": {
                    "rollingUpdate": {"maxSurge": 0, "maxUnavailable": 1},
                    "type": "RollingUpdate",
                },
            },
            "status": {
                "currentNumberScheduled": n,
                "desiredNumberScheduled": n,
                "numberAvailable": n,
                "numberMisscheduled": 0,
                "numberReady": n,
                "observedGeneration": 1,
                "updatedNumberScheduled": n,
            },
        }
    )


def _statefulset(ctx: Context, w: Workload) -> Obj:
    labels = {**w.selector, **w.labels}
    revision = f"{w.name}-{name_suffix(w.name, 10)}"
    spec: Obj = {
        "persistentVolumeClaimRetentionPolicy": {"whenDeleted": "Retain", "whenScaled": "Retain"},
        "podManagementPolicy": "Parallel",
        "replicas": w.replicas,
        "revisionHistoryLimit": 10,
        "selector": {"matchLabels": w.selector},
        "serviceName": w.service_name or w.name,
        "template": pod_template(w, labels),
        "updateStrategy": {"type": "RollingUpdate"},
    }
    if w.claim is not None:
        vct, storage_class, size = w.claim
        spec["volumeClaimTemplates"] = [
            {
                "apiVersion": "v1",
                "kind": "PersistentVolumeClaim",
                "metadata": {"creationTimestamp": None, "name": vct},
                "spec": {
                    "accessModes": ["ReadWriteOnce"],
                    "resources": {"requests": {"storage": size}},
                    "storageClassName": storage_class,
                    "volumeMode": "Filesystem",
                },
                "status": {"phase": "Pending"},
            }
        ]
    ready = ready_pods(w)
    status: Obj = {
        "availableReplicas": ready,
        "collisionCount": 0,
        "currentReplicas": w.replicas,
        "currentRevision": revision,
        "observedGeneration": 1,
        "readyReplicas": ready,
        "replicas": w.replicas,
        "updateRevision": revision,
        "updatedReplicas": w.replicas,
    }
    return sort_keys(
        {
            "apiVersion": "apps/v1",
            "kind": "StatefulSet",
            "metadata": ctx.meta(
                "StatefulSet", w.name, w.namespace, age=w.age, labels=labels, generation=1
            ),
            "spec": spec,
            "status": {k: v for k, v in status.items() if v or k == "collisionCount"},
        }
    )


def _service(ctx: Context, placement: Placement, w: Workload, name: str | None = None) -> Obj:
    ip = placement.cluster_ip()
    port = w.port or 80
    return sort_keys(
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": ctx.meta(
                "Service", name or w.name, w.namespace, age=w.age, labels={**w.selector, **w.labels}
            ),
            "spec": {
                "clusterIP": ip,
                "clusterIPs": [ip],
                "internalTrafficPolicy": "Cluster",
                "ipFamilies": ["IPv4"],
                "ipFamilyPolicy": "SingleStack",
                "ports": [{"name": "http", "port": port, "protocol": "TCP", "targetPort": port}],
                "selector": w.selector,
                "sessionAffinity": "None",
                "type": "ClusterIP",
            },
            "status": {"loadBalancer": {}},
        }
    )


def _current_metric(metric: Obj, w: Workload) -> Obj:
    seed = int(hashlib.blake2b(w.name.encode(), digest_size=2).hexdigest(), 16)
    kind = metric["type"]
    if kind == "Resource":
        name = metric["resource"]["name"]
        utilization = 8 + seed % 25 if w.gpus else 35 + seed % 30
        value = f"{utilization * 10}m" if name == "cpu" else f"{100 + seed % 300}Mi"
        return {
            "resource": {
                "current": {"averageUtilization": utilization, "averageValue": value},
                "name": name,
            },
            "type": "Resource",
        }
    key = kind.lower()
    body = metric[key]
    return {
        key: {"current": {"averageValue": str(1 + seed % 4)}, "metric": body["metric"]},
        "type": kind,
    }


def _hpa(
    ctx: Context,
    w: Workload,
    metrics: list[Obj],
    *,
    max_replicas: int,
    name: str | None = None,
    owner: Obj | None = None,
    labels: dict[str, str] | None = None,
    target: Obj | None = None,
) -> Obj:
    key = metrics[0]["type"].lower()
    message = "the HPA was able to successfully calculate a replica count from " + (
        "cpu resource utilization (percentage of request)"
        if metrics[0]["type"] == "Resource"
        else f"{key} metric {metrics[0][key]['metric']['name']}"
    )
    t = ts(w.age - 300)
    return sort_keys(
        {
            "apiVersion": "autoscaling/v2",
            "kind": "HorizontalPodAutoscaler",
            "metadata": ctx.meta(
                "HorizontalPodAutoscaler",
                name or w.name,
                w.namespace,
                age=w.age - 60,
                labels=labels or {**w.selector, **w.labels},
                owner=owner,
            ),
            "spec": {
                "maxReplicas": max_replicas,
                "metrics": metrics,
                "minReplicas": w.replicas,
                "scaleTargetRef": target
                or {"apiVersion": "apps/v1", "kind": "Deployment", "name": w.name},
            },
            "status": {
                "conditions": [
                    {
                        "lastTransitionTime": t,
                        "message": "recommended size matches current size",
                        "reason": "ReadyForNewScale",
                        "status": "True",
                        "type": "AbleToScale",
                    },
                    {
                        "lastTransitionTime": t,
                        "message": message,
                        "reason": "ValidMetricFound",
                        "status": "True",
                        "type": "ScalingActive",
                    },
                    {
                        "lastTransitionTime": t,
                        "message": "the desired count is within the acceptable range",
                        "reason": "DesiredWithinRange",
                        "status": "False",
                        "type": "ScalingLimited",
                    },
                ],
                "currentMetrics": [_current_metric(m, w) for m in metrics],
                "currentReplicas": w.replicas,
                "desiredReplicas": w.replicas,
            },
        }
    )


def hpa_of(ctx: Context, w: Workload, target: Obj) -> Obj:
    """The HorizontalPodAutoscaler of a workload that is not a Deployment (`target`: its
    scaleTargetRef), on `w.hpa`'s metrics."""
    return _hpa(ctx, w, w.hpa or [], max_replicas=max(w.hpa_max, w.replicas), target=target)


def _scaled_object(ctx: Context, w: Workload) -> Iterator[Obj]:
    assert w.keda_query is not None
    trigger = {
        "metadata": {
            "query": w.keda_query,
            "threshold": "5",
            "serverAddress": "http://kube-prometheus-stack-prometheus.monitoring.svc:9090",
        },
        "metricType": "AverageValue",
        "type": "prometheus",
    }
    t = ts(w.age - 300)
    hpa_name = f"keda-hpa-{w.name}"
    yield sort_keys(
        {
            "apiVersion": "keda.sh/v1alpha1",
            "kind": "ScaledObject",
            "metadata": ctx.meta(
                "ScaledObject",
                w.name,
                w.namespace,
                age=w.age - 60,
                generation=2,
                labels={"scaledobject.keda.sh/name": w.name, **w.selector},
            ),
            "spec": {
                "cooldownPeriod": 300,
                "maxReplicaCount": w.replicas * 2,
                "minReplicaCount": w.replicas,
                "pollingInterval": 15,
                "scaleTargetRef": {"name": w.name},
                "triggers": [trigger],
            },
            "status": {
                "conditions": [
                    {
                        "message": "ScaledObject is defined correctly and is ready for scaling",
                        "reason": "ScaledObjectReady",
                        "status": "True",
                        "type": "Ready",
                    },
                    {
                        "message": "Scaling is performed because triggers are active",
                        "reason": "ScalerActive",
                        "status": "True",
                        "type": "Active",
                    },
                    {
                        "message": "No fallbacks are active on this scaled object",
                        "reason": "NoFallbackFound",
                        "status": "False",
                        "type": "Fallback",
                    },
                    {"status": "Unknown", "type": "Paused"},
                ],
                "externalMetricNames": ["s0-prometheus"],
                "health": {},
                "hpaName": hpa_name,
                "lastActiveTime": t,
                "originalReplicaCount": w.replicas,
                "scaleTargetGVKR": {
                    "group": "apps",
                    "kind": "Deployment",
                    "resource": "deployments",
                    "version": "v1",
                },
                "scaleTargetKind": "apps/v1.Deployment",
            },
        }
    )
    metric = {
        "external": {
            "metric": {
                "name": "s0-prometheus",
                "selector": {"matchLabels": {"scaledobject.keda.sh/name": w.name}},
            },
            "target": {"averageValue": "5", "type": "AverageValue"},
        },
        "type": "External",
    }
    owner = owner_ref(
        "keda.sh/v1alpha1", "ScaledObject", w.name, ctx.uid("ScaledObject", w.namespace, w.name)
    )
    yield _hpa(
        ctx,
        w,
        [metric],
        max_replicas=w.replicas * 2,
        name=hpa_name,
        owner=owner,
        labels={
            "app.kubernetes.io/managed-by": "keda-operator",
            "app.kubernetes.io/name": hpa_name,
            "app.kubernetes.io/part-of": w.name,
            "app.kubernetes.io/version": "2.16.0",
            "scaledobject.keda.sh/name": w.name,
        },
    )


def _pdb(ctx: Context, w: Workload) -> Obj:
    n = w.replicas
    return sort_keys(
        {
            "apiVersion": "policy/v1",
            "kind": "PodDisruptionBudget",
            "metadata": ctx.meta(
                "PodDisruptionBudget",
                w.name,
                w.namespace,
                age=w.age,
                generation=1,
                labels={**w.selector, **w.labels},
            ),
            "spec": {
                "maxUnavailable": 1,
                "selector": {"matchLabels": w.pdb_selector or w.selector},
            },
            "status": {
                "conditions": [
                    {
                        "lastTransitionTime": ts(w.age - 200),
                        "message": "",
                        "observedGeneration": 1,
                        "reason": "SufficientPods",
                        "status": "True",
                        "type": "DisruptionAllowed",
                    }
                ],
                "currentHealthy": n,
                "desiredHealthy": n - 1,
                "disruptionsAllowed": 1,
                "expectedPods": n,
                "observedGeneration": 1,
            },
        }
    )


# ----------------------------------------------------------------------------- entry points


def workload_objects(ctx: Context, plan: Plan, placement: Placement, w: Workload) -> Iterator[Obj]:
    """The controller and its companions (Service, HPA, PDB, ...) for one workload."""
    if w.kind == "DaemonSet":
        yield _daemonset(ctx, plan, w)
        return
    if w.kind == "StatefulSet":
        yield _statefulset(ctx, w)
        if w.port:
            yield _service(ctx, placement, w, w.service_name)
        return
    if w.kind == "PyTorchJob":
        yield pytorch_job(ctx, w)
        return
    if w.kind == "JobSet":
        yield from jobset(ctx, w)
        return
    owner = None
    if w.owner_kind == "InferenceService":
        isvc = inference_service(ctx, w)
        yield isvc
        owner = owner_ref(*ISVC, isvc["metadata"]["name"], isvc["metadata"]["uid"])
    yield from _deployment(ctx, w, owner)
    if w.port:
        yield _service(ctx, placement, w)
    if w.keda_query:
        yield from _scaled_object(ctx, w)
    elif w.hpa:
        yield _hpa(ctx, w, w.hpa, max_replicas=max(w.hpa_max, w.replicas))
    if w.pdb:
        yield _pdb(ctx, w)
