"""LeaderWorkerSet workloads of the demo: the LWS object and what its controller makes of it
(the leader StatefulSet, one worker StatefulSet per group owned by the group's leader pod, the
headless Service of the groups) and their pods, as kubernetes-sigs/lws v0.x writes them."""

from __future__ import annotations

from collections.abc import Iterator

from plumbob.sources.demo.base import (
    Context,
    Obj,
    clone,
    hex_id,
    name_suffix,
    owner_ref,
    sort_keys,
    ts,
)
from plumbob.sources.demo.objects import hpa_of
from plumbob.sources.demo.pods import Placement, PodMaker
from plumbob.sources.demo.templates import with_defaults
from plumbob.sources.demo.workload import PENDING, Workload

LWS_API = "leaderworkerset.x-k8s.io/v1"
_PREFIX = "leaderworkerset.sigs.k8s.io/"


def _revision(w: Workload) -> str:
    return hex_id(f"{w.namespace}/{w.name}/template", 16)


def _group_labels(w: Workload, group: int, worker: int) -> dict[str, str]:
    return {
        f"{_PREFIX}name": w.name,
        f"{_PREFIX}group-index": str(group),
        f"{_PREFIX}group-key": hex_id(f"{w.namespace}/{w.name}/{group}", 40),
        f"{_PREFIX}template-revision-hash": _revision(w),
        f"{_PREFIX}worker-index": str(worker),
    }


def _size(w: Workload) -> int:
    return 1 + w.workers


def _template(labels: dict[str, str], spec: Obj) -> Obj:
    return sort_keys({"metadata": {"labels": labels}, "spec": clone(spec)})


def leaderworkerset(ctx: Context, w: Workload) -> Obj:
    """The LeaderWorkerSet object: `w.replicas` groups of a leader (`w.spec`) and `w.workers`
    workers (`w.worker_spec`)."""
    worker_spec = w.worker_spec or w.spec
    ready = w.replicas if PENDING not in w.nodes else 0
    return sort_keys(
        {
            "apiVersion": LWS_API,
            "kind": "LeaderWorkerSet",
            "metadata": ctx.meta(
                "LeaderWorkerSet", w.name, w.namespace, age=w.age, labels=w.labels, generation=1
            ),
            "spec": {
                "leaderWorkerTemplate": {
                    "leaderTemplate": _template({"role": "leader", **w.labels}, w.spec),
                    "restartPolicy": "RecreateGroupOnPodRestart",
                    "size": _size(w),
                    "workerTemplate": _template({"role": "worker", **w.labels}, worker_spec),
                },
                "networkConfig": {"subdomainPolicy": "Shared"},
                "replicas": w.replicas,
                "rolloutStrategy": {
                    "rollingUpdateConfiguration": {"maxSurge": 0, "maxUnavailable": 1},
                    "type": "RollingUpdate",
                },
                "startupPolicy": "LeaderCreated",
            },
            "status": {
                "conditions": [
                    {
                        "lastTransitionTime": _since(w),
                        "message": "All replicas are ready" if ready else "Replicas are not ready",
                        "reason": "AllGroupsReady" if ready else "GroupsNotReady",
                        "status": "True" if ready else "False",
                        "type": "Available",
                    }
                ],
                "hpaPodSelector": f"{_PREFIX}name={w.name},{_PREFIX}worker-index=0",
                "readyReplicas": ready,
                "replicas": w.replicas,
                "updatedReplicas": w.replicas,
            },
        }
    )


def _since(w: Workload) -> str:
    return ts(max(w.age - 900, 60))


def _statefulset(
    ctx: Context,
    w: Workload,
    name: str,
    replicas: int,
    selector: dict[str, str],
    template: Obj,
    owner: Obj,
    *,
    start: int = 0,
) -> Obj:
    revision = f"{name}-{name_suffix(name, 10)}"
    spec: Obj = {
        "persistentVolumeClaimRetentionPolicy": {"whenDeleted": "Retain", "whenScaled": "Retain"},
        "podManagementPolicy": "Parallel",
        "replicas": replicas,
        "revisionHistoryLimit": 10,
        "selector": {"matchLabels": selector},
        "serviceName": w.name,
        "template": template,
        "updateStrategy": {"rollingUpdate": {"partition": 0}, "type": "RollingUpdate"},
    }
    if start:
        spec["ordinals"] = {"start": start}
    ready = replicas if PENDING not in w.nodes else 0
    status: Obj = {
        "availableReplicas": ready,
        "collisionCount": 0,
        "currentReplicas": replicas,
        "currentRevision": revision,
        "observedGeneration": 1,
        "readyReplicas": ready,
        "replicas": replicas,
        "updateRevision": revision,
        "updatedReplicas": replicas,
    }
    return sort_keys(
        {
            "apiVersion": "apps/v1",
            "kind": "StatefulSet",
            "metadata": ctx.meta(
                "StatefulSet",
                name,
                w.namespace,
                age=w.age - 30,
                labels={f"{_PREFIX}name": w.name, **selector},
                owner=owner,
                generation=1,
            ),
            "spec": spec,
            "status": {k: v for k, v in status.items() if v or k == "collisionCount"},
        }
    )


def _pod_template(w: Workload, spec: Obj, labels: dict[str, str]) -> Obj:
    return {
        "metadata": {
            "annotations": {f"{_PREFIX}size": str(_size(w))},
            "creationTimestamp": None,
            "labels": dict(sorted({**w.labels, **labels}.items())),
        },
        "spec": with_defaults(clone(spec)),
    }


def lws_objects(ctx: Context, w: Workload) -> Iterator[Obj]:
    """The LeaderWorkerSet, its StatefulSets and its headless Service."""
    lws = leaderworkerset(ctx, w)
    yield lws
    lws_owner = owner_ref(LWS_API, "LeaderWorkerSet", w.name, lws["metadata"]["uid"])
    leader_selector = {f"{_PREFIX}name": w.name, f"{_PREFIX}worker-index": "0"}
    yield _statefulset(
        ctx,
        w,
        w.name,
        w.replicas,
        leader_selector,
        _pod_template(w, w.spec, {"role": "leader", **leader_selector}),
        lws_owner,
    )
    for group in range(w.replicas):
        leader = f"{w.name}-{group}"
        selector = {f"{_PREFIX}name": w.name, f"{_PREFIX}group-index": str(group)}
        yield _statefulset(
            ctx,
            w,
            leader,
            w.workers,
            selector,
            _pod_template(w, w.worker_spec or w.spec, {"role": "worker", **selector}),
            owner_ref("v1", "Pod", leader, ctx.uid("Pod", w.namespace, leader)),
            start=1,
        )
    yield sort_keys(
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": ctx.meta(
                "Service", w.name, w.namespace, age=w.age - 30, owner=dict(lws_owner)
            ),
            "spec": {
                "clusterIP": "None",
                "clusterIPs": ["None"],
                "internalTrafficPolicy": "Cluster",
                "ipFamilies": ["IPv4"],
                "ipFamilyPolicy": "SingleStack",
                "publishNotReadyAddresses": True,
                "selector": {f"{_PREFIX}name": w.name},
                "sessionAffinity": "None",
                "type": "ClusterIP",
            },
            "status": {"loadBalancer": {}},
        }
    )
    if w.hpa:
        # LWS exposes a scale subresource: an HPA scales the number of groups, measuring the
        # leaders (status.hpaPodSelector).
        yield hpa_of(ctx, w, {"apiVersion": LWS_API, "kind": "LeaderWorkerSet", "name": w.name})


def lws_pods(ctx: Context, placement: Placement, w: Workload) -> Iterator[Obj]:
    """Each group's leader pod (of the leader StatefulSet) and worker pods (of the group's
    worker StatefulSet), with the environment the LWS webhook injects."""
    size = _size(w)
    for group in range(w.replicas):
        leader = f"{w.name}-{group}"
        address = f"{leader}.{w.name}.{w.namespace}"
        for worker in range(size):
            name = leader if worker == 0 else f"{leader}-{worker}"
            spec = clone(w.spec if worker == 0 else w.worker_spec or w.spec)
            for container in spec["containers"]:
                container["env"] = [
                    {"name": "LWS_LEADER_ADDRESS", "value": address},
                    {"name": "LWS_GROUP_SIZE", "value": str(size)},
                    {"name": "LWS_WORKER_INDEX", "value": str(worker)},
                    *container.get("env", []),
                ]
            sts = w.name if worker == 0 else leader
            revision = f"{sts}-{name_suffix(sts, 10)}"
            labels = {
                **w.labels,
                **_group_labels(w, group, worker),
                "role": "leader" if worker == 0 else "worker",
                "apps.kubernetes.io/pod-index": str(group if worker == 0 else worker),
                "controller-revision-hash": revision,
                "statefulset.kubernetes.io/pod-name": name,
            }
            annotations = {f"{_PREFIX}size": str(size)}
            if worker:
                annotations[f"{_PREFIX}leader-name"] = leader
            spec |= {"hostname": name, "subdomain": w.name}
            maker = PodMaker(ctx, placement, w, spec, labels, ("apps/v1", "StatefulSet", sts))
            index = group * size + worker
            node = w.nodes[index] if w.nodes else placement.system_node()
            yield maker.pod(name, node, index, annotations=annotations)
