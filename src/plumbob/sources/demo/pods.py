"""Pods of the demo workloads, built fast from templates serialised once per workload."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any

from plumbob.sources.demo.base import Context, Obj, clone, freeze, name_suffix, owner_ref, thaw, ts
from plumbob.sources.demo.crds import PYTORCH, jobset_labels, jobset_names
from plumbob.sources.demo.objects import rs_name
from plumbob.sources.demo.pools import SYSTEM, Layout, NodeSlot
from plumbob.sources.demo.templates import (
    KUBE_API_ACCESS,
    patch_pod_spec,
    pod_spec,
    qos_class,
    with_defaults,
)
from plumbob.sources.demo.workload import PENDING, Plan, Workload, pod_template

_CUDA_START_ERROR = (
    "failed to create containerd task: failed to create shim task: OCI runtime create failed: "
    "runc create failed: unable to start container process: error during container init: error "
    "running hook #0: error running hook: exit status 1, stdout: , stderr: Auto-detected mode as "
    "'legacy'\nnvidia-container-cli: requirement error: unsatisfied condition: cuda>=12.4, please "
    "update your driver to a newer version, or use an earlier cuda container: unknown"
)


class Placement:
    """Mutable placement state of one generation: pod IPs per node, CPU round-robin, service IPs."""

    def __init__(self, layout: Layout) -> None:
        self.layout = layout
        self._slots = [0] * len(layout.nodes)
        self._system = layout.of(SYSTEM)
        self._next_system = 0
        self._service = 10

    def system_node(self) -> int:
        node = self._system[self._next_system % len(self._system)]
        self._next_system += 1
        return node

    def pod_ip(self, node: int) -> str:
        # Custom networking: pods get 100.64.0.0/10 addresses, one /25 per node.
        slot = self._slots[node] % 125
        self._slots[node] += 1
        base = node * 128 + slot + 2
        return f"100.{64 + (base >> 16)}.{(base >> 8) & 255}.{base & 255}"

    def cluster_ip(self) -> str:
        self._service += 1
        return f"172.20.{self._service >> 8 & 255}.{self._service & 255}"


def qualified_image(image: str) -> str:
    """The fully qualified reference containerd reports (docker.io/library/nginx:1.27)."""
    first, _, rest = image.partition("/")
    if not rest or ("." not in first and ":" not in first and first != "localhost"):
        image = f"docker.io/{image}" if rest else f"docker.io/library/{image}"
    if ":" not in image.rsplit("/", 1)[-1]:
        image += ":latest"
    return image


def _image_id(image: str) -> str:
    repo = image.rsplit(":", 1)[0]
    return f"{repo}@sha256:{hashlib.sha256(image.encode()).hexdigest()}"


def _ready_conditions(age: int, *, ready: bool, container: str) -> list[Obj]:
    started = ts(age)
    running = ts(max(age - 45, 1))
    unready: Obj = {
        "message": f"containers with unready status: [{container}]",
        "reason": "ContainersNotReady",
    }

    def condition(kind: str, when: str, ok: bool = True) -> Obj:
        out: Obj = {"lastProbeTime": None, "lastTransitionTime": when}
        if not ok:
            out |= unready
        return out | {"status": "True" if ok else "False", "type": kind}

    return [
        condition("PodReadyToStartContainers", running),
        condition("Initialized", started),
        condition("Ready", running, ready),
        condition("ContainersReady", running, ready),
        condition("PodScheduled", started),
    ]


# ----------------------------------------------------------------------------- pods


_NO_FREE_GPU = (
    "0/{total} nodes are available: {pool} Insufficient nvidia.com/gpu, {other} node(s) didn't "
    "match Pod's node affinity/selector. preemption: 0/{total} nodes are available: {pool} No "
    "preemption victims found for incoming pod, {other} Preemption is not helpful for scheduling."
)
"""FailedScheduling of a GPU pod whose pool is full (small demo clusters)."""


class PodMaker:
    """Builds the pods of one workload from a template serialised once."""

    def __init__(
        self,
        ctx: Context,
        placement: Placement,
        w: Workload,
        spec: Obj,
        labels: dict[str, str],
        owner: tuple[str, str, str],
        *,
        extra_tolerations: list[Obj] | None = None,
    ) -> None:
        self.ctx, self.placement, self.w = ctx, placement, w
        self.labels = dict(sorted(labels.items()))
        full = pod_spec(spec, w.priority, extra_tolerations=extra_tolerations)
        self.qos = qos_class(full)
        self.host_network = bool(full.get("hostNetwork"))
        self.blob = freeze(full)
        api, kind, name = owner
        self.owner = owner_ref(api, kind, name, ctx.uid(kind, w.namespace, name))
        self.containers = [(c["name"], qualified_image(c["image"])) for c in full["containers"]]
        self.inits = [
            (c["name"], qualified_image(c["image"])) for c in full.get("initContainers", [])
        ]

    def pod(
        self,
        name: str,
        node_index: int,
        ordinal: int,
        *,
        generate_name: str | None = None,
        labels: dict[str, str] | None = None,
        annotations: dict[str, str] | None = None,
        hostname: str | None = None,
    ) -> Obj:
        """One pod of the workload, scheduled on `node_index`, running (or crash-looping)."""
        ctx, w = self.ctx, self.w
        pending = node_index == PENDING
        node: NodeSlot | None = None if pending else self.placement.layout.nodes[node_index]
        age = max(300, min(w.age, node.age if node else w.age) - 600 - (ordinal * 7_919) % 3_600)
        spec = thaw(self.blob)
        patch_pod_spec(spec, node.name if node else "", KUBE_API_ACCESS + name_suffix(name))
        if node is None:
            del spec["nodeName"]
        if hostname is not None:
            spec["hostname"] = hostname
        if node is not None and "affinity" in spec and w.kind == "DaemonSet":
            terms = spec["affinity"]["nodeAffinity"][
                "requiredDuringSchedulingIgnoredDuringExecution"
            ]
            terms["nodeSelectorTerms"][0]["matchFields"][0]["values"] = [node.name]
        pod_labels = (
            self.labels if labels is None else dict(sorted({**self.labels, **labels}.items()))
        )
        meta = ctx.meta(
            "Pod",
            name,
            w.namespace,
            age=age,
            labels=pod_labels,
            owner=dict(self.owner),
            annotations=annotations or w.pod_annotations or None,
            generate_name=generate_name,
        )
        pod: Obj = {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec}
        if node is None:
            pod["status"] = self._pending_status(age)
            return pod
        ip = node.ip if self.host_network else self.placement.pod_ip(node_index)
        status: Obj = {
            "conditions": _ready_conditions(
                age, ready=not w.crashloop, container=self.containers[0][0]
            ),
            "containerStatuses": [
                self._status(meta["uid"], name, c, image, age) for c, image in self.containers
            ],
            "hostIP": node.ip,
            "hostIPs": [{"ip": node.ip}],
        }
        if self.inits:
            status["initContainerStatuses"] = [
                self._init_status(meta["uid"], c, i, age) for c, i in self.inits
            ]
        status |= {
            "phase": "Running",
            "podIP": ip,
            "podIPs": [{"ip": ip}],
            "qosClass": self.qos,
            "startTime": ts(age),
        }
        pod["status"] = status
        return pod

    def _pending_status(self, age: int) -> Obj:
        total = len(self.placement.layout.nodes)
        fit = len(self.placement.layout.of(self.w.pool))
        why = self.w.unschedulable or _NO_FREE_GPU
        message = why.format(total=total, pool=fit, other=total - fit)
        condition = {
            "lastProbeTime": None,
            "lastTransitionTime": ts(age),
            "message": message,
            "reason": "Unschedulable",
            "status": "False",
            "type": "PodScheduled",
        }
        return {"conditions": [condition], "phase": "Pending", "qosClass": self.qos}

    def _status(self, uid: str, pod: str, name: str, image: str, age: int) -> Obj:
        cid = _container_id(uid, name)
        if self.w.crashloop:
            terminated = {
                "containerID": cid,
                "exitCode": 128,
                "finishedAt": ts(190),
                "message": _CUDA_START_ERROR,
                "reason": "StartError",
                "startedAt": "1970-01-01T00:00:00Z",
            }
            waiting = {
                "message": (f"back-off 5m0s restarting failed container={name} pod={pod}"),
                "reason": "CrashLoopBackOff",
            }
            return _container_status(
                cid,
                name,
                image,
                ready=False,
                started=False,
                state={"waiting": waiting},
                last={"terminated": terminated},
                restarts=37,
            )
        running = {"startedAt": ts(max(age - 30, 1))}
        return _container_status(
            cid, name, image, ready=True, started=True, state={"running": running}
        )

    @staticmethod
    def _init_status(uid: str, name: str, image: str, age: int) -> Obj:
        cid = _container_id(uid, name)
        completed = {
            "containerID": cid,
            "exitCode": 0,
            "finishedAt": ts(max(age - 20, 1)),
            "reason": "Completed",
            "startedAt": ts(max(age - 25, 1)),
        }
        return _container_status(
            cid, name, image, ready=True, started=False, state={"terminated": completed}
        )


def _container_id(uid: str, name: str) -> str:
    """A container id derived from the pod's uid and the container's name: the same demo every
    run."""
    return "containerd://" + hashlib.sha256(f"{uid}/{name}".encode()).hexdigest()


def _container_status(
    cid: str,
    name: str,
    image: str,
    *,
    ready: bool,
    started: bool,
    state: Obj,
    last: Obj | None = None,
    restarts: int = 0,
) -> Obj:
    """A containerStatuses (or initContainerStatuses) entry as the kubelet writes it."""
    return {
        "containerID": cid,
        "image": image,
        "imageID": _image_id(image),
        "lastState": last or {},
        "name": name,
        "ready": ready,
        "restartCount": restarts,
        "started": started,
        "state": state,
    }


def _daemon_tolerations(host_network: bool) -> list[Obj]:
    keys = [
        ("node.kubernetes.io/not-ready", "NoExecute"),
        ("node.kubernetes.io/unreachable", "NoExecute"),
        ("node.kubernetes.io/disk-pressure", "NoSchedule"),
        ("node.kubernetes.io/memory-pressure", "NoSchedule"),
        ("node.kubernetes.io/pid-pressure", "NoSchedule"),
        ("node.kubernetes.io/unschedulable", "NoSchedule"),
    ]
    if host_network:
        keys.append(("node.kubernetes.io/network-unavailable", "NoSchedule"))
    return [{"effect": effect, "key": key, "operator": "Exists"} for key, effect in keys]


def workload_pods(ctx: Context, plan: Plan, placement: Placement, w: Workload) -> Iterator[Obj]:
    """Every pod of one workload, on the nodes the plan placed them."""
    if w.kind == "DaemonSet":
        yield from _daemon_pods(ctx, plan, placement, w)
    elif w.pod_count == 0:
        return
    elif w.kind == "PyTorchJob":
        yield from _training_pods(ctx, placement, w)
    elif w.kind == "JobSet":
        yield from _jobset_pods(ctx, placement, w)
    elif w.kind == "StatefulSet":
        yield from _stateful_pods(ctx, placement, w)
    else:
        rs = rs_name(w)
        labels = {**w.selector, **w.labels, "pod-template-hash": rs.rsplit("-", 1)[1]}
        maker = PodMaker(
            ctx, placement, w, pod_template(w, {})["spec"], labels, ("apps/v1", "ReplicaSet", rs)
        )
        for k in range(w.pod_count):
            node = w.nodes[k] if w.nodes else placement.system_node()
            name = f"{rs}-{name_suffix(f'{rs}/{k}')}"
            yield maker.pod(name, node, k, generate_name=f"{rs}-")


def _daemon_pods(ctx: Context, plan: Plan, placement: Placement, w: Workload) -> Iterator[Obj]:
    spec = pod_template(w, {})["spec"]
    spec["affinity"] = {
        "nodeAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [
                    {"matchFields": [{"key": "metadata.name", "operator": "In", "values": [""]}]}
                ]
            }
        }
    }
    labels = {
        **w.selector,
        **w.labels,
        "controller-revision-hash": name_suffix(w.name, 10),
        "pod-template-generation": "1",
    }
    maker = PodMaker(
        ctx,
        placement,
        w,
        spec,
        labels,
        ("apps/v1", "DaemonSet", w.name),
        extra_tolerations=_daemon_tolerations(bool(spec.get("hostNetwork"))),
    )
    k = 0
    for pool in w.ds_pools:
        for node in plan.layout.of(pool):
            name = f"{w.name}-{name_suffix(w.name + plan.layout.nodes[node].name)}"
            yield maker.pod(name, node, k, generate_name=f"{w.name}-")
            k += 1


def _training_pods(ctx: Context, placement: Placement, w: Workload) -> Iterator[Obj]:
    spec = with_defaults(clone(w.spec), restart_policy="OnFailure")
    base = {
        **w.labels,
        **w.selector,
        "training.kubeflow.org/operator-name": "pytorchjob-controller",
    }
    maker = PodMaker(ctx, placement, w, spec, base, (*PYTORCH, w.name))
    world = 1 + w.workers
    master = f"{w.name}-master-0"
    for rank in range(world):
        replica, index = ("master", 0) if rank == 0 else ("worker", rank - 1)
        labels = {
            "training.kubeflow.org/replica-index": str(index),
            "training.kubeflow.org/replica-type": replica,
        }
        if rank == 0:
            labels["training.kubeflow.org/job-role"] = "master"
        pod = maker.pod(f"{w.name}-{replica}-{index}", w.nodes[rank], rank, labels=labels)
        env = {
            "MASTER_ADDR": master,
            "MASTER_PORT": "23456",
            "PET_MASTER_ADDR": master,
            "PET_MASTER_PORT": "23456",
            "PET_NNODES": str(world),
            "PET_NODE_RANK": str(rank),
            "PET_NPROC_PER_NODE": "8",
            "PYTHONUNBUFFERED": "1",
            "RANK": str(rank),
            "WORLD_SIZE": str(world),
        }
        pod["spec"]["containers"][0]["env"] += [{"name": k, "value": v} for k, v in env.items()]
        yield pod


def _jobset_pods(ctx: Context, placement: Placement, w: Workload) -> Iterator[Obj]:
    _, job = jobset_names(w)
    uid = ctx.uid("Job", w.namespace, job)
    spec = with_defaults(clone(w.spec), restart_policy="Never") | {
        "hostname": "",
        "subdomain": w.name,
    }
    labels = {
        **jobset_labels(w),
        **w.labels,
        "batch.kubernetes.io/controller-uid": uid,
        "batch.kubernetes.io/job-name": job,
        "controller-uid": uid,
        "job-name": job,
    }
    maker = PodMaker(ctx, placement, w, spec, labels, ("batch/v1", "Job", job))
    for index in range(w.pod_count):
        name = f"{job}-{index}-{name_suffix(f'{job}/{index}')}"
        extra = {"batch.kubernetes.io/job-completion-index": str(index)}
        yield maker.pod(
            name,
            w.nodes[index],
            index,
            generate_name=f"{job}-{index}-",
            labels=extra,
            annotations=extra,
            hostname=f"{job}-{index}",
        )


def _stateful_pods(ctx: Context, placement: Placement, w: Workload) -> Iterator[Obj]:
    spec: dict[str, Any] = pod_template(w, {})["spec"]
    for index in range(w.pod_count):
        name = f"{w.name}-{index}"
        pod_spec_ = clone(spec)
        if w.claim is not None:
            vct = w.claim[0]
            claim = {"name": vct, "persistentVolumeClaim": {"claimName": f"{vct}-{name}"}}
            pod_spec_["volumes"] = [claim, *pod_spec_.get("volumes", [])]
        pod_spec_ |= {"hostname": name, "subdomain": w.service_name or w.name}
        labels = {
            **w.selector,
            **w.labels,
            "apps.kubernetes.io/pod-index": str(index),
            "controller-revision-hash": f"{w.name}-{name_suffix(w.name, 10)}",
            "statefulset.kubernetes.io/pod-name": name,
        }
        maker = PodMaker(ctx, placement, w, pod_spec_, labels, ("apps/v1", "StatefulSet", w.name))
        node = w.nodes[index] if w.nodes else placement.system_node()
        yield maker.pod(name, node, index)
