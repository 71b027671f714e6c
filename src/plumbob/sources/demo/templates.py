"""Pod templates of the demo workloads: containers, API-server defaults, pod-level injection."""

from __future__ import annotations

from typing import Any

from plumbob.sources.demo.base import Obj, sort_keys
from plumbob.sources.demo.pools import Pool

GPU_TOLERATION: Obj = {"effect": "NoSchedule", "key": "nvidia.com/gpu", "operator": "Exists"}

KUBE_API_ACCESS = "kube-api-access-"
_SA_MOUNT = "/var/run/secrets/kubernetes.io/serviceaccount"


def probe(
    path: str, port: int | str, *, initial: int = 0, period: int = 10, failures: int = 3
) -> Obj:
    """An HTTP probe with the fields the API server defaults filled in."""
    return {
        "failureThreshold": failures,
        "httpGet": {"path": path, "port": port, "scheme": "HTTP"},
        "initialDelaySeconds": initial,
        "periodSeconds": period,
        "successThreshold": 1,
        "timeoutSeconds": 1 if initial == 0 else 5,
    }


def resources(
    cpu: str,
    memory: str,
    *,
    gpus: int = 0,
    gpu_limit: bool = True,
    efa: int = 0,
    cpu_limit: bool = False,
) -> Obj:
    """requests/limits: memory limited, CPU limited only when asked, GPUs request == limit."""
    requests: Obj = {"cpu": cpu, "memory": memory}
    limits: Obj = {"memory": memory}
    if cpu_limit:
        limits["cpu"] = cpu
    if gpus:
        requests["nvidia.com/gpu"] = str(gpus)
        if gpu_limit:
            limits["nvidia.com/gpu"] = str(gpus)
    if efa:
        requests["vpc.amazonaws.com/efa"] = limits["vpc.amazonaws.com/efa"] = str(efa)
    return {"limits": dict(sorted(limits.items())), "requests": dict(sorted(requests.items()))}


def container(
    name: str,
    image: str,
    res: Obj,
    *,
    args: list[str] | None = None,
    command: list[str] | None = None,
    env: dict[str, str | Obj] | None = None,
    port: int | None = None,
    port_name: str = "http",
    health: str | None = None,
    startup: bool = False,
    mounts: list[tuple[str, str]] | None = None,
    pull: str | None = None,
) -> Obj:
    """A container as a manifest author writes it (defaults are added by `with_defaults`)."""
    out: Obj = {"name": name, "image": image, "resources": res}
    if command:
        out["command"] = command
    if args:
        out["args"] = args
    if env:
        out["env"] = [
            {"name": key, "valueFrom": value}
            if isinstance(value, dict)
            else {"name": key, "value": value}
            for key, value in env.items()
        ]
    if port is not None:
        out["ports"] = [{"containerPort": port, "name": port_name, "protocol": "TCP"}]
        if health:
            out["readinessProbe"] = probe(health, port_name, period=5)
            out["livenessProbe"] = probe(health, port_name, initial=30, period=20)
            if startup:
                # Model servers load weights for minutes before /health answers.
                out["startupProbe"] = probe(health, port_name, period=10, failures=90)
    if mounts:
        out["volumeMounts"] = [{"mountPath": path, "name": vol} for vol, path in mounts]
    if pull:
        out["imagePullPolicy"] = pull
    return out


def gpu_spec(
    pool: Pool,
    containers: list[Obj],
    *,
    priority_class: str | None,
    volumes: list[Obj] | None = None,
    service_account: str | None = None,
    restart_policy: str | None = None,
) -> Obj:
    """Pod spec of a GPU workload: pinned to its pool, tolerating the GPU taint."""
    spec: Obj = {
        "containers": containers,
        "nodeSelector": pool.selector,
        "tolerations": [GPU_TOLERATION],
    }
    if priority_class:
        spec["priorityClassName"] = priority_class
    if volumes:
        spec["volumes"] = volumes
    if service_account:
        spec["serviceAccountName"] = service_account
    if restart_policy:
        spec["restartPolicy"] = restart_policy
    return spec


def dshm(size: str) -> Obj:
    """The usual shared-memory volume of PyTorch/NCCL and model servers."""
    return {"emptyDir": {"medium": "Memory", "sizeLimit": size}, "name": "dshm"}


def pvc_volume(name: str, claim: str) -> Obj:
    return {"name": name, "persistentVolumeClaim": {"claimName": claim}}


def default_pull_policy(image: str) -> str:
    """Kubernetes' default: Always for `:latest` or untagged images, else IfNotPresent."""
    tail = image.rsplit("/", 1)[-1]
    if "@" in tail:
        return "IfNotPresent"
    if ":" not in tail or tail.endswith(":latest"):
        return "Always"
    return "IfNotPresent"


def _container_defaults(item: Obj) -> Obj:
    item.setdefault("imagePullPolicy", default_pull_policy(item["image"]))
    item.setdefault("resources", {})
    item["terminationMessagePath"] = "/dev/termination-log"
    item["terminationMessagePolicy"] = "File"
    return item


def with_defaults(spec: Obj, *, restart_policy: str = "Always") -> Obj:
    """A pod spec with the fields the API server defaults in stored templates."""
    spec["containers"] = [_container_defaults(c) for c in spec["containers"]]
    if "initContainers" in spec:
        spec["initContainers"] = [_container_defaults(c) for c in spec["initContainers"]]
    spec.setdefault(
        "dnsPolicy", "ClusterFirstWithHostNet" if spec.get("hostNetwork") else "ClusterFirst"
    )
    spec.setdefault("restartPolicy", restart_policy)
    spec.setdefault("schedulerName", "default-scheduler")
    spec.setdefault("securityContext", {})
    spec.setdefault("terminationGracePeriodSeconds", 30)
    for volume in spec.get("volumes", []):
        if "configMap" in volume:
            volume["configMap"].setdefault("defaultMode", 420)
    return spec


def kube_api_access_volume(name: str) -> Obj:
    """The projected service-account token volume the ServiceAccount admission adds."""
    return {
        "name": name,
        "projected": {
            "defaultMode": 420,
            "sources": [
                {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
                {
                    "configMap": {
                        "items": [{"key": "ca.crt", "path": "ca.crt"}],
                        "name": "kube-root-ca.crt",
                    }
                },
                {
                    "downwardAPI": {
                        "items": [
                            {
                                "fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"},
                                "path": "namespace",
                            }
                        ]
                    }
                },
            ],
        },
    }


def pod_spec(
    template_spec: Obj, priority: int, *, extra_tolerations: list[Obj] | None = None
) -> Obj:
    """A pod's stored spec from its (defaulted) template: admission-injected fields added.

    The kube-api-access volume and mounts carry the placeholder name `KUBE_API_ACCESS`;
    `patch_pod_spec` gives each pod its own suffix.
    """
    spec: Obj = dict(template_spec)
    spec["enableServiceLinks"] = True
    spec["nodeName"] = ""
    spec["preemptionPolicy"] = "PreemptLowerPriority"
    spec["priority"] = priority
    account = spec.get("serviceAccountName", "default")
    spec["serviceAccount"] = account
    spec["serviceAccountName"] = account
    tolerations = list(spec.get("tolerations", [])) + (extra_tolerations or [])
    tolerations += [
        {"effect": "NoExecute", "key": key, "operator": "Exists", "tolerationSeconds": 300}
        for key in ("node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable")
        if not any(t.get("key") == key for t in tolerations)
    ]
    spec["tolerations"] = tolerations
    spec["volumes"] = [*spec.get("volumes", []), kube_api_access_volume(KUBE_API_ACCESS)]
    mount = {"mountPath": _SA_MOUNT, "name": KUBE_API_ACCESS, "readOnly": True}
    for key in ("initContainers", "containers"):
        if key in spec:
            spec[key] = [
                {**c, "volumeMounts": [*c.get("volumeMounts", []), mount]} for c in spec[key]
            ]
    result: Obj = sort_keys(spec)
    return result


def patch_pod_spec(spec: Obj, node: str, token_volume: str) -> None:
    """Give a thawed pod spec its node and its own kube-api-access volume name."""
    spec["nodeName"] = node
    spec["volumes"][-1]["name"] = token_volume
    for key in ("initContainers", "containers"):
        for item in spec.get(key, ()):
            item["volumeMounts"][-1]["name"] = token_volume


def qos_class(spec: Obj) -> str:
    """The pod QoS class Kubernetes derives from its containers' resources."""
    items: list[Any] = spec["containers"] + spec.get("initContainers", [])
    requests = [c.get("resources", {}).get("requests", {}) for c in items]
    limits = [c.get("resources", {}).get("limits", {}) for c in items]
    if not any(requests) and not any(limits):
        return "BestEffort"
    for req, lim in zip(requests, limits, strict=True):
        for res in ("cpu", "memory"):
            if res not in lim or req.get(res, lim[res]) != lim[res]:
                return "Burstable"
    return "Guaranteed"
