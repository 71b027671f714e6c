"""Cluster-wide demo objects: namespaces, scheduling, storage, GPU stack, Kueue, quotas, backups."""

from __future__ import annotations

from collections.abc import Iterator

from plumbob.model.quantity import parse_quantity
from plumbob.sources.demo.base import Context, Obj, hex_id, sort_keys, ts
from plumbob.sources.demo.pools import (
    BATCH_POOL,
    BATCH_TAINT,
    BATCH_TOLERATION,
    INFER_L4,
    TRAIN,
    Pool,
    nodepool_of,
)
from plumbob.sources.demo.workload import (
    CPU_NAMESPACES,
    DAY,
    GPU_QUOTA_NAMESPACES,
    KUEUE_API,
    KUEUE_OLD_API,
    LLM_NS,
    NAMESPACES,
    OLD_KUEUE_PRIORITY_CLASS,
    PRIORITY_CLASSES,
    TRAIN_NS,
    VISION_NS,
    Plan,
    Pvc,
)

_CSI = {"gp3": "ebs.csi.aws.com", "efs-sc": "efs.csi.aws.com", "fsx-lustre": "fsx.csi.aws.com"}
_TEAM = {LLM_NS: "llm-serving", TRAIN_NS: "research", VISION_NS: "vision"}


def _obj(
    api_version: str, kind: str, metadata: Obj, spec: Obj | None = None, **rest: object
) -> Obj:
    body: Obj = {"apiVersion": api_version, "kind": kind, "metadata": metadata}
    if spec is not None:
        body["spec"] = spec
    body.update(rest)
    return sort_keys(body)


# ----------------------------------------------------------------------------- cluster-scoped


def _namespaces(ctx: Context) -> Iterator[Obj]:
    for name in NAMESPACES:
        labels = {"kubernetes.io/metadata.name": name}
        if name in _TEAM:
            labels |= {"team": _TEAM[name], "plumbob.dev/tier": "gpu"}
        if name in CPU_NAMESPACES:
            labels["team"] = "commerce" if name != "platform-tools" else "platform"
        age = (
            400 * DAY
            if name in ("default", "kube-system", "kube-public", "kube-node-lease")
            else 200 * DAY
        )
        yield _obj(
            "v1",
            "Namespace",
            ctx.meta("Namespace", name, age=age, labels=labels),
            {"finalizers": ["kubernetes"]},
            status={"phase": "Active"},
        )


def _priority_classes(ctx: Context) -> Iterator[Obj]:
    descriptions = {
        "system-node-critical": (
            "Used for system critical pods that must not be moved from their current node."
        ),
        "system-cluster-critical": (
            "Used for system critical pods that must run in the cluster, but can be moved to "
            "another node if necessary."
        ),
        "gpu-inference-critical": "Online GPU inference; preempts training and batch.",
        "gpu-training-high": "GPU training jobs admitted by Kueue.",
        "batch-low": "Best-effort batch work; never preempts.",
    }
    for name, value in PRIORITY_CLASSES.items():
        body = _obj(
            "scheduling.k8s.io/v1",
            "PriorityClass",
            ctx.meta("PriorityClass", name, age=400 * DAY),
            description=descriptions[name],
            value=value,
            preemptionPolicy="Never" if name == "batch-low" else "PreemptLowerPriority",
        )
        yield body


def _storage(ctx: Context, plan: Plan) -> Iterator[Obj]:
    yield _obj(
        "node.k8s.io/v1",
        "RuntimeClass",
        ctx.meta(
            "RuntimeClass",
            "nvidia",
            age=180 * DAY,
            labels={"app.kubernetes.io/component": "gpu-operator"},
        ),
        handler="nvidia",
    )
    classes = {
        "gp3": {"encrypted": "true", "type": "gp3"},
        "efs-sc": {
            "directoryPerms": "700",
            "fileSystemId": "fs-0" + hex_id("efs", 16),
            "provisioningMode": "efs-ap",
        },
        "fsx-lustre": {
            "deploymentType": "PERSISTENT_2",
            "perUnitStorageThroughput": "250",
            "subnetId": "subnet-0" + hex_id("fsx", 16),
        },
    }
    for name, parameters in classes.items():
        annotations = (
            {"storageclass.kubernetes.io/is-default-class": "true"} if name == "gp3" else None
        )
        yield _obj(
            "storage.k8s.io/v1",
            "StorageClass",
            ctx.meta("StorageClass", name, age=300 * DAY, annotations=annotations),
            allowVolumeExpansion=True,
            parameters=parameters,
            provisioner=_CSI[name],
            reclaimPolicy="Retain" if name == "fsx-lustre" else "Delete",
            volumeBindingMode="WaitForFirstConsumer" if name == "gp3" else "Immediate",
        )
    for claim in plan.pvcs:
        yield _volume(ctx, claim)


def _volume(ctx: Context, claim: Pvc) -> Obj:
    uid = ctx.uid("PersistentVolumeClaim", claim.namespace, claim.name)
    driver = _CSI[claim.storage_class]
    handle = {"ebs.csi.aws.com": "vol-0", "efs.csi.aws.com": "fs-0", "fsx.csi.aws.com": "fs-0"}[
        driver
    ]
    meta = ctx.meta(
        "PersistentVolume",
        f"pvc-{uid}",
        age=claim.age - 30,
        annotations={
            "pv.kubernetes.io/provisioned-by": driver,
            "volume.kubernetes.io/provisioner-deletion-secret-name": "",
            "volume.kubernetes.io/provisioner-deletion-secret-namespace": "",
        },
    )
    meta["finalizers"] = [
        "external-provisioner.volume.kubernetes.io/finalizer",
        "kubernetes.io/pv-protection",
    ]
    return _obj(
        "v1",
        "PersistentVolume",
        meta,
        {
            "accessModes": [claim.access],
            "capacity": {"storage": claim.size},
            "claimRef": {
                "apiVersion": "v1",
                "kind": "PersistentVolumeClaim",
                "name": claim.name,
                "namespace": claim.namespace,
                "uid": uid,
            },
            "csi": {
                "driver": driver,
                "fsType": "ext4" if driver.startswith("ebs") else "",
                "volumeHandle": handle + hex_id(claim.name, 16),
            },
            "persistentVolumeReclaimPolicy": "Retain"
            if claim.storage_class == "fsx-lustre"
            else "Delete",
            "storageClassName": claim.storage_class,
            "volumeMode": "Filesystem",
        },
        status={"lastPhaseTransitionTime": ts(claim.age - 30), "phase": "Bound"},
    )


def _gpu_operator(ctx: Context) -> Obj:
    return _obj(
        "nvidia.com/v1",
        "ClusterPolicy",
        ctx.meta(
            "ClusterPolicy",
            "cluster-policy",
            age=180 * DAY,
            generation=3,
            labels={
                "app.kubernetes.io/component": "gpu-operator",
                "app.kubernetes.io/managed-by": "Helm",
            },
        ),
        {
            "cdi": {"default": False, "enabled": False},
            "daemonsets": {
                "priorityClassName": "system-node-critical",
                "tolerations": [
                    {"effect": "NoSchedule", "key": "nvidia.com/gpu", "operator": "Exists"},
                    dict(BATCH_TOLERATION),
                ],
                "updateStrategy": "RollingUpdate",
            },
            "dcgm": {"enabled": False},
            "dcgmExporter": {
                "enabled": True,
                "image": "dcgm-exporter",
                "repository": "nvcr.io/nvidia/k8s",
                "serviceMonitor": {"enabled": True, "interval": "15s"},
                "version": "3.3.9-3.6.1-ubuntu22.04",
            },
            "devicePlugin": {
                "enabled": True,
                "image": "k8s-device-plugin",
                "repository": "nvcr.io/nvidia",
                "version": "v0.17.0",
            },
            # The EKS GPU AMI ships the driver and the container toolkit.
            "driver": {"enabled": False},
            "gfd": {
                "enabled": True,
                "image": "k8s-device-plugin",
                "repository": "nvcr.io/nvidia",
                "version": "v0.17.0",
            },
            "mig": {"strategy": "single"},
            "migManager": {
                "enabled": True,
                "config": {"default": "all-disabled", "name": "default-mig-parted-config"},
            },
            "nodeStatusExporter": {"enabled": False},
            "operator": {"defaultRuntime": "containerd", "runtimeClass": "nvidia"},
            "toolkit": {"enabled": False},
            "validator": {
                "image": "gpu-operator-validator",
                "repository": "nvcr.io/nvidia/cloud-native",
                "version": "v24.9.1",
            },
        },
        status={
            "conditions": [
                {
                    "lastTransitionTime": ts(DAY),
                    "message": "",
                    "reason": "Ready",
                    "status": "True",
                    "type": "Ready",
                },
                {
                    "lastTransitionTime": ts(DAY),
                    "message": "",
                    "reason": "Ready",
                    "status": "False",
                    "type": "Error",
                },
            ],
            "namespace": "gpu-operator",
            "state": "ready",
        },
    )


def _karpenter(ctx: Context, plan: Plan) -> Iterator[Obj]:
    nodes = len(plan.layout.of(INFER_L4))
    t = ts(20 * DAY)
    yield _obj(
        "karpenter.k8s.aws/v1",
        "EC2NodeClass",
        ctx.meta(
            "EC2NodeClass",
            "gpu",
            age=120 * DAY,
            generation=4,
            annotations={
                "karpenter.k8s.aws/ec2nodeclass-hash": str(int(hex_id("gpu-nodeclass", 15), 16)),
                "karpenter.k8s.aws/ec2nodeclass-hash-version": "v3",
            },
        ),
        {
            "amiSelectorTerms": [{"alias": "al2023@v20241213"}],
            "blockDeviceMappings": [
                {
                    "deviceName": "/dev/xvda",
                    "ebs": {"encrypted": True, "volumeSize": "200Gi", "volumeType": "gp3"},
                }
            ],
            "metadataOptions": {
                "httpEndpoint": "enabled",
                "httpProtocolIPv6": "disabled",
                "httpPutResponseHopLimit": 1,
                "httpTokens": "required",
            },
            "role": f"KarpenterNodeRole-{ctx.cluster}",
            "securityGroupSelectorTerms": [{"tags": {"karpenter.sh/discovery": ctx.cluster}}],
            "subnetSelectorTerms": [{"tags": {"karpenter.sh/discovery": ctx.cluster}}],
        },
        status={
            "conditions": [
                {
                    "lastTransitionTime": t,
                    "message": "",
                    "observedGeneration": 4,
                    "reason": "Ready",
                    "status": "True",
                    "type": "Ready",
                }
            ]
        },
    )
    batch = sum(
        1 for i in plan.layout.of(INFER_L4) if nodepool_of(plan.layout.nodes[i]) != INFER_L4.name
    )
    yield _nodepool(ctx, INFER_L4.name, nodes - batch, max(nodes * 2, 16), [], 6, t)
    if batch:
        # Made for the batch embedding jobs; since they moved under Kueue nothing tolerates its
        # taint (planted: node-pool-taint-untolerated, gpu-idle).
        yield _nodepool(ctx, BATCH_POOL, batch, 2, [dict(BATCH_TAINT)], 2, t)


def _nodepool(
    ctx: Context,
    name: str,
    nodes: int,
    max_nodes: int,
    taints: list[Obj],
    generation: int,
    t: str,
) -> Obj:
    gpu = INFER_L4.gpu.count if INFER_L4.gpu else 0
    return _obj(
        "karpenter.sh/v1",
        "NodePool",
        ctx.meta(
            "NodePool",
            name,
            age=120 * DAY,
            generation=generation,
            annotations={
                "karpenter.sh/nodepool-hash": str(int(hex_id(name, 15), 16)),
                "karpenter.sh/nodepool-hash-version": "v3",
            },
        ),
        {
            "disruption": {
                "budgets": [{"nodes": "10%"}],
                "consolidateAfter": "30m",
                "consolidationPolicy": "WhenEmpty",
            },
            "limits": {
                "cpu": str(max_nodes * INFER_L4.cpu),
                "nvidia.com/gpu": str(max_nodes * gpu),
            },
            "template": {
                "spec": {
                    "expireAfter": "720h",
                    "nodeClassRef": {
                        "group": "karpenter.k8s.aws",
                        "kind": "EC2NodeClass",
                        "name": "gpu",
                    },
                    "requirements": [
                        {
                            "key": "karpenter.k8s.aws/instance-family",
                            "operator": "In",
                            "values": ["g6"],
                        },
                        {
                            "key": "karpenter.k8s.aws/instance-size",
                            "operator": "In",
                            "values": ["12xlarge"],
                        },
                        {
                            "key": "karpenter.sh/capacity-type",
                            "operator": "In",
                            "values": ["on-demand"],
                        },
                        {"key": "kubernetes.io/arch", "operator": "In", "values": ["amd64"]},
                    ],
                    "taints": [
                        {"effect": "NoSchedule", "key": "nvidia.com/gpu", "value": "present"},
                        *taints,
                    ],
                }
            },
        },
        status={
            "conditions": [
                {
                    "lastTransitionTime": t,
                    "message": "",
                    "observedGeneration": generation,
                    "reason": "Ready",
                    "status": "True",
                    "type": "Ready",
                }
            ],
            "resources": {
                "cpu": str(nodes * INFER_L4.cpu),
                "memory": f"{nodes * INFER_L4.memory_gib}Gi",
                "nodes": str(nodes),
                "nvidia.com/gpu": str(nodes * gpu),
            },
        },
    )


def _flavor_nodes(pool: Pool) -> int:
    return pool.gpu.count if pool.gpu else 0


def _kueue(ctx: Context, plan: Plan) -> Iterator[Obj]:
    queues = (("research-training", TRAIN, "h100-80gb"), ("inference-batch", INFER_L4, "l4"))
    for _, pool, flavor in queues:
        yield _obj(
            KUEUE_API,
            "ResourceFlavor",
            ctx.meta("ResourceFlavor", flavor, age=150 * DAY, generation=1),
            {
                "nodeLabels": pool.selector,
                "tolerations": [
                    {"effect": "NoSchedule", "key": "nvidia.com/gpu", "operator": "Exists"}
                ],
            },
        )
    for name, pool, flavor in queues:
        nodes = len(plan.layout.of(pool))
        gpus = plan.kueue_gpus(pool)
        quota = max(nodes, 1) * _flavor_nodes(pool) if pool is TRAIN else 8
        admitted = sum(1 for w in plan.workloads if w.queue and w.pool is pool)
        usage = [{"borrowed": "0", "name": "nvidia.com/gpu", "total": str(gpus)}]
        yield _obj(
            KUEUE_API,
            "ClusterQueue",
            ctx.meta("ClusterQueue", name, age=150 * DAY, generation=2),
            {
                "cohortName": "gpu",
                "flavorFungibility": {
                    "whenCanBorrow": "MayStopSearch",
                    "whenCanPreempt": "TryNextFlavor",
                },
                "namespaceSelector": {},
                "preemption": {
                    "borrowWithinCohort": {"policy": "Never"},
                    "reclaimWithinCohort": "Any",
                    "withinClusterQueue": "LowerPriority",
                },
                "queueingStrategy": "BestEffortFIFO",
                "resourceGroups": [
                    {
                        "coveredResources": ["nvidia.com/gpu"],
                        "flavors": [
                            {
                                "name": flavor,
                                "resources": [{"name": "nvidia.com/gpu", "nominalQuota": quota}],
                            }
                        ],
                    }
                ],
                "stopPolicy": "None",
            },
            status={
                "admittedWorkloads": admitted,
                "conditions": [
                    {
                        "lastTransitionTime": ts(10 * DAY),
                        "message": "Can admit new workloads",
                        "observedGeneration": 2,
                        "reason": "Ready",
                        "status": "True",
                        "type": "Active",
                    }
                ],
                "flavorsReservation": [{"name": flavor, "resources": usage}],
                "flavorsUsage": [{"name": flavor, "resources": usage}],
                "pendingWorkloads": 0,
                "reservingWorkloads": admitted,
            },
        )


def _old_priority_class(ctx: Context) -> Obj:
    """Planted (custom-resource-version-removed): the one Kueue CRD the upgrade to v0.16 left
    at its old definition, so the API server serves the kind in v1beta1 only."""
    name, value, description = OLD_KUEUE_PRIORITY_CLASS
    return _obj(
        KUEUE_OLD_API,
        "WorkloadPriorityClass",
        ctx.meta("WorkloadPriorityClass", name, age=300 * DAY, generation=1),
        description=description,
        value=value,
    )


def cluster_objects(ctx: Context, plan: Plan) -> Iterator[Obj]:
    """Every cluster-scoped object except Nodes."""
    yield from _namespaces(ctx)
    yield from _priority_classes(ctx)
    yield from _storage(ctx, plan)
    yield _gpu_operator(ctx)
    yield from _karpenter(ctx, plan)
    yield from _kueue(ctx, plan)
    yield _old_priority_class(ctx)


# ----------------------------------------------------------------------------- namespace-level


def _claim(ctx: Context, claim: Pvc) -> Obj:
    uid = ctx.uid("PersistentVolumeClaim", claim.namespace, claim.name)
    driver = _CSI[claim.storage_class]
    meta = ctx.meta(
        "PersistentVolumeClaim",
        claim.name,
        claim.namespace,
        age=claim.age,
        annotations={
            "pv.kubernetes.io/bind-completed": "yes",
            "pv.kubernetes.io/bound-by-controller": "yes",
            "volume.beta.kubernetes.io/storage-provisioner": driver,
            "volume.kubernetes.io/storage-provisioner": driver,
        },
    )
    meta["finalizers"] = ["kubernetes.io/pvc-protection"]
    return _obj(
        "v1",
        "PersistentVolumeClaim",
        meta,
        {
            "accessModes": [claim.access],
            "resources": {"requests": {"storage": claim.size}},
            "storageClassName": claim.storage_class,
            "volumeMode": "Filesystem",
            "volumeName": f"pvc-{uid}",
        },
        status={
            "accessModes": [claim.access],
            "capacity": {"storage": claim.size},
            "phase": "Bound",
        },
    )


def _quota(
    ctx: Context, namespace: str, name: str, hard: dict[str, str], used: dict[str, str]
) -> Obj:
    return _obj(
        "v1",
        "ResourceQuota",
        ctx.meta("ResourceQuota", name, namespace, age=120 * DAY),
        {"hard": hard},
        status={"hard": hard, "used": used},
    )


def _quotas(ctx: Context, plan: Plan) -> Iterator[Obj]:
    for namespace in GPU_QUOTA_NAMESPACES:
        used = plan.gpu_requests(namespace)
        hard = max(8, -(-int(used * 1.25) // 8) * 8)
        yield _quota(
            ctx,
            namespace,
            "gpu-quota",
            {"requests.nvidia.com/gpu": str(hard)},
            {"requests.nvidia.com/gpu": str(used)},
        )
    # team-vision has a quota, but it caps CPU and memory only (planted: no GPU quota).
    for namespace in (VISION_NS, "web-frontend"):
        pods = [(w.spec, w.pod_count) for w in plan.workloads if w.namespace == namespace]
        cpu = sum(_request(spec, "cpu") * n for spec, n in pods)
        memory = sum(_request(spec, "memory") * n for spec, n in pods)
        hard_cpu = max(16, -(-cpu * 2 // 1000))
        hard_memory = max(64, -(-memory * 2 // 1024**3))
        yield _quota(
            ctx,
            namespace,
            "compute-quota",
            {"requests.cpu": str(hard_cpu), "requests.memory": f"{hard_memory}Gi"},
            {"requests.cpu": f"{cpu}m", "requests.memory": _bytes(memory)},
        )


def _request(spec: Obj, resource: str) -> int:
    """Sum of a pod spec's container requests: CPU in millicores, memory in bytes."""
    total = 0.0
    for item in spec["containers"]:
        number = parse_quantity(item.get("resources", {}).get("requests", {}).get(resource, "0"))
        total += number * 1000 if resource == "cpu" else number
    return round(total)


def _bytes(value: int) -> str:
    return f"{value // 1024**2}Mi" if value % 1024**3 else f"{value // 1024**3}Gi"


def _local_queues(ctx: Context) -> Iterator[Obj]:
    for namespace, name, cluster_queue in (
        (TRAIN_NS, "research-training", "research-training"),
        (VISION_NS, "vision-training", "research-training"),
        (LLM_NS, "batch", "inference-batch"),
    ):
        yield _obj(
            KUEUE_API,
            "LocalQueue",
            ctx.meta("LocalQueue", name, namespace, age=150 * DAY, generation=1),
            {"clusterQueue": cluster_queue, "stopPolicy": "None"},
            status={
                "conditions": [
                    {
                        "lastTransitionTime": ts(150 * DAY),
                        "message": "Can submit new workloads to localQueue",
                        "observedGeneration": 1,
                        "reason": "Ready",
                        "status": "True",
                        "type": "Active",
                    }
                ]
            },
        )


def _velero(ctx: Context) -> Iterator[Obj]:
    yield _obj(
        "velero.io/v1",
        "BackupStorageLocation",
        ctx.meta("BackupStorageLocation", "default", "velero", age=300 * DAY, generation=1),
        {
            "accessMode": "ReadWrite",
            "config": {"region": "us-west-2"},
            "default": True,
            "objectStorage": {"bucket": f"{ctx.cluster}-velero", "prefix": "backups"},
            "provider": "aws",
        },
        status={"lastSyncedTime": ts(40), "lastValidationTime": ts(40), "phase": "Available"},
    )
    schedules = (
        (
            "daily-cluster",
            "0 3 * * *",
            {
                "excludedNamespaces": ["kube-system", "kube-node-lease"],
                "includedNamespaces": ["*"],
                "snapshotVolumes": True,
                "storageLocation": "default",
                "ttl": "720h0m0s",
            },
        ),
        (
            "training-pvcs",
            "0 */6 * * *",
            {
                "includedNamespaces": [TRAIN_NS],
                "includedResources": ["persistentvolumeclaims", "persistentvolumes"],
                "snapshotVolumes": True,
                "storageLocation": "default",
                "ttl": "168h0m0s",
            },
        ),
    )
    for name, cron, template in schedules:
        yield _obj(
            "velero.io/v1",
            "Schedule",
            ctx.meta("Schedule", name, "velero", age=200 * DAY, generation=1),
            {"schedule": cron, "template": template, "useOwnerReferencesInBackup": False},
            status={"lastBackup": ts(5 * 3600), "phase": "Enabled"},
        )


def _dcgm_service(ctx: Context) -> Obj:
    labels = {"app": "nvidia-dcgm-exporter", "app.kubernetes.io/part-of": "gpu-operator"}
    return _obj(
        "v1",
        "Service",
        ctx.meta("Service", "nvidia-dcgm-exporter", "gpu-operator", age=180 * DAY, labels=labels),
        {
            "clusterIP": "172.20.0.9",
            "clusterIPs": ["172.20.0.9"],
            "internalTrafficPolicy": "Cluster",
            "ipFamilies": ["IPv4"],
            "ipFamilyPolicy": "SingleStack",
            "ports": [{"name": "gpu-metrics", "port": 9400, "protocol": "TCP", "targetPort": 9400}],
            "selector": {"app": "nvidia-dcgm-exporter"},
            "sessionAffinity": "None",
            "type": "ClusterIP",
        },
        status={"loadBalancer": {}},
    )


def _service_monitor(ctx: Context) -> Obj:
    return _obj(
        "monitoring.coreos.com/v1",
        "ServiceMonitor",
        ctx.meta(
            "ServiceMonitor",
            "nvidia-dcgm-exporter",
            "gpu-operator",
            age=180 * DAY,
            generation=1,
            labels={"app": "nvidia-dcgm-exporter", "release": "kube-prometheus-stack"},
        ),
        {
            "endpoints": [
                {"honorLabels": True, "interval": "15s", "path": "/metrics", "port": "gpu-metrics"}
            ],
            "jobLabel": "app",
            "namespaceSelector": {"matchNames": ["gpu-operator"]},
            "selector": {"matchLabels": {"app": "nvidia-dcgm-exporter"}},
        },
    )


def namespace_objects(ctx: Context, plan: Plan) -> Iterator[Obj]:
    """Namespaced objects that belong to no single workload: quotas, queues, claims, backups."""
    yield from _quotas(ctx, plan)
    yield from _local_queues(ctx)
    for claim in plan.pvcs:
        yield _claim(ctx, claim)
    yield from _velero(ctx)
    yield _dcgm_service(ctx)
    yield _service_monitor(ctx)
