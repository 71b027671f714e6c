"""Platform and CPU workloads of the demo: EKS add-ons, GPU Operator, monitoring, web services."""

from __future__ import annotations

import random

from plumbob.sources.demo.base import ECR_APPS, ECR_EKS, Obj, hex_id
from plumbob.sources.demo.pools import (
    BATCH_TOLERATION,
    GPU_POOLS,
    INFER_L4,
    POOLS,
    SYSTEM,
    TRAIN,
    Pool,
)
from plumbob.sources.demo.templates import GPU_TOLERATION, container, resources
from plumbob.sources.demo.workload import (
    DAY,
    KUEUE_VERSION,
    PROMETHEUS_DB,
    Workload,
    app_labels,
    cpu_metric,
)


def _system(
    kind: str,
    namespace: str,
    name: str,
    selector: dict[str, str],
    containers: list[Obj],
    *,
    replicas: int = 1,
    priority: str = "system-cluster-critical",
    pools: tuple[Pool, ...] = (),
    host_network: bool = False,
    tolerations: list[Obj] | None = None,
    node_selector: dict[str, str] | None = None,
    init: list[Obj] | None = None,
    volumes: list[Obj] | None = None,
    account: str | None = None,
    pdb: bool = False,
    port: int | None = None,
) -> Workload:
    spec: Obj = {"containers": containers, "priorityClassName": priority}
    if init:
        spec["initContainers"] = init
    if host_network:
        spec["hostNetwork"] = True
    if node_selector:
        spec["nodeSelector"] = node_selector
    elif kind != "DaemonSet":
        spec["nodeSelector"] = SYSTEM.selector
    if tolerations:
        spec["tolerations"] = tolerations
    if volumes:
        spec["volumes"] = volumes
    spec["serviceAccountName"] = account or name
    return Workload(
        kind,
        namespace,
        name,
        selector,
        spec,
        replicas=replicas,
        labels={"app.kubernetes.io/managed-by": "Helm"} if namespace != "kube-system" else {},
        age=180 * DAY,
        ds_pools=pools,
        pdb=pdb,
        port=port,
    )


def _small(cpu: str = "100m", memory: str = "128Mi") -> Obj:
    return resources(cpu, memory)


_ALL = {"operator": "Exists"}


# ----------------------------------------------------------------------------- platform


def daemonsets() -> list[Workload]:
    gpu_operator = {"app.kubernetes.io/part-of": "gpu-operator"}
    nvidia = "nvcr.io/nvidia"
    deploy = "nvidia.com/gpu.deploy."
    ds = [
        _system(
            "DaemonSet",
            "kube-system",
            "aws-node",
            {"k8s-app": "aws-node"},
            [
                container(
                    "aws-node",
                    f"{ECR_EKS}/amazon-k8s-cni:v1.19.0-eksbuild.1",
                    _small("25m", "64Mi"),
                    env={
                        "ENABLE_PREFIX_DELEGATION": "true",
                        "AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG": "true",
                    },
                    port=61678,
                    port_name="metrics",
                ),
                container(
                    "aws-eks-nodeagent",
                    f"{ECR_EKS}/amazon/aws-network-policy-agent:v1.1.5-eksbuild.1",
                    _small("25m", "64Mi"),
                ),
            ],
            init=[
                container(
                    "aws-vpc-cni-init",
                    f"{ECR_EKS}/amazon-k8s-cni-init:v1.19.0-eksbuild.1",
                    _small("25m", "32Mi"),
                )
            ],
            priority="system-node-critical",
            pools=POOLS,
            host_network=True,
            tolerations=[_ALL],
        ),
        _system(
            "DaemonSet",
            "kube-system",
            "kube-proxy",
            {"k8s-app": "kube-proxy"},
            [
                container(
                    "kube-proxy",
                    f"{ECR_EKS}/eks/kube-proxy:v1.31.3-minimal-eksbuild.2",
                    _small("100m", "64Mi"),
                    command=["kube-proxy", "--v=2", "--config=/var/lib/kube-proxy-config/config"],
                )
            ],
            priority="system-node-critical",
            pools=POOLS,
            host_network=True,
            tolerations=[_ALL],
        ),
        _system(
            "DaemonSet",
            "kube-system",
            "ebs-csi-node",
            {"app": "ebs-csi-node"},
            [
                container(
                    "ebs-plugin",
                    f"{ECR_EKS}/eks/aws-ebs-csi-driver:v1.37.0",
                    _small("10m", "40Mi"),
                    args=["node", "--endpoint=$(CSI_ENDPOINT)", "--logging-format=text", "--v=2"],
                    port=9808,
                    port_name="healthz",
                ),
                container(
                    "node-driver-registrar",
                    f"{ECR_EKS}/eks/csi-node-driver-registrar:v2.12.0-eks-1-31-7",
                    _small("10m", "40Mi"),
                ),
                container(
                    "liveness-probe",
                    f"{ECR_EKS}/eks/livenessprobe:v2.14.0-eks-1-31-7",
                    _small("10m", "40Mi"),
                ),
            ],
            priority="system-node-critical",
            pools=POOLS,
            tolerations=[_ALL],
        ),
        _system(
            "DaemonSet",
            "kube-system",
            "aws-efa-k8s-device-plugin-daemonset",
            {"name": "aws-efa-k8s-device-plugin"},
            [
                container(
                    "aws-efa-k8s-device-plugin",
                    "public.ecr.aws/eks/aws-efa-k8s-device-plugin:v0.5.6",
                    _small("10m", "20Mi"),
                )
            ],
            priority="system-node-critical",
            pools=(TRAIN,),
            host_network=True,
            tolerations=[GPU_TOLERATION, {"key": "aws.amazon.com/efa", "operator": "Exists"}],
            node_selector={"vpc.amazonaws.com/efa.present": "true"},
        ),
        _system(
            "DaemonSet",
            "monitoring",
            "prometheus-node-exporter",
            {"app.kubernetes.io/name": "prometheus-node-exporter"},
            [
                container(
                    "node-exporter",
                    "quay.io/prometheus/node-exporter:v1.8.2",
                    _small("50m", "64Mi"),
                    args=[
                        "--path.procfs=/host/proc",
                        "--path.sysfs=/host/sys",
                        "--web.listen-address=[$(HOST_IP)]:9100",
                    ],
                    port=9100,
                    port_name="http-metrics",
                    health="/",
                )
            ],
            priority="system-node-critical",
            pools=POOLS,
            host_network=True,
            tolerations=[_ALL],
        ),
        _system(
            "DaemonSet",
            "gpu-operator",
            "gpu-operator-node-feature-discovery-worker",
            {"app.kubernetes.io/name": "node-feature-discovery", "role": "worker"},
            [
                container(
                    "worker",
                    "registry.k8s.io/nfd/node-feature-discovery:v0.16.6",
                    _small("5m", "64Mi"),
                    command=["nfd-worker"],
                    args=[
                        "-feature-gates=NodeFeatureAPI=true",
                        "-metrics=8081",
                        "-grpc-health=8082",
                    ],
                )
            ],
            priority="system-node-critical",
            pools=POOLS,
            tolerations=[_ALL],
        ),
    ]
    gpu_ds = (
        (
            "nvidia-device-plugin-daemonset",
            "device-plugin",
            "nvidia-device-plugin-ctr",
            f"{nvidia}/k8s-device-plugin:v0.17.0",
            GPU_POOLS,
        ),
        (
            "gpu-feature-discovery",
            "gpu-feature-discovery",
            "gpu-feature-discovery",
            f"{nvidia}/k8s-device-plugin:v0.17.0",
            GPU_POOLS,
        ),
        # The node selector the GPU Operator uses; the A10G pool carries
        # nvidia.com/gpu.deploy.dcgm-exporter=false, so it gets no exporter (planted).
        (
            "nvidia-dcgm-exporter",
            "dcgm-exporter",
            "nvidia-dcgm-exporter",
            f"{nvidia}/k8s/dcgm-exporter:3.3.9-3.6.1-ubuntu22.04",
            (TRAIN, INFER_L4),
        ),
        (
            "nvidia-operator-validator",
            "operator-validator",
            "nvidia-operator-validator",
            f"{nvidia}/cloud-native/gpu-operator-validator:v24.9.1",
            GPU_POOLS,
        ),
        (
            "nvidia-mig-manager",
            "mig-manager",
            "nvidia-mig-manager",
            f"{nvidia}/cloud-native/k8s-mig-manager:v0.10.0-ubuntu20.04",
            (TRAIN,),
        ),
    )
    for name, operand, ctr, image, pools in gpu_ds:
        port = 9400 if operand == "dcgm-exporter" else None
        workload = _system(
            "DaemonSet",
            "gpu-operator",
            name,
            {"app": name},
            [
                container(
                    ctr,
                    image,
                    _small("50m", "128Mi"),
                    port=port,
                    port_name="metrics",
                    health="/health" if port else None,
                )
            ],
            priority="system-node-critical",
            pools=pools,
            tolerations=[GPU_TOLERATION, BATCH_TOLERATION],
            node_selector={deploy + operand: "true"},
            account="nvidia-" + operand if not name.startswith("nvidia") else name,
        )
        workload.labels |= gpu_operator
        if port:
            workload.pod_annotations = {
                "prometheus.io/port": "9400",
                "prometheus.io/scrape": "true",
            }
        ds.append(workload)
    return ds


def platform_deployments() -> list[Workload]:
    def dep(ns: str, name: str, image: str, replicas: int = 1, port: int = 8080) -> Workload:
        selector = {"app.kubernetes.io/name": name}
        if name == "coredns":
            selector = {"eks.amazonaws.com/component": "coredns", "k8s-app": "kube-dns"}
        ctr = container(
            name if name == "coredns" else "manager",
            image,
            _small("100m", "256Mi"),
            port=port,
            port_name="http",
            health="/healthz",
        )
        return _system(
            "Deployment", ns, name, selector, [ctr], replicas=replicas, pdb=replicas > 1, port=port
        )

    return [
        dep("kube-system", "coredns", f"{ECR_EKS}/eks/coredns:v1.11.3-eksbuild.2", 2, port=8181),
        dep("kube-system", "ebs-csi-controller", f"{ECR_EKS}/eks/aws-ebs-csi-driver:v1.37.0", 2),
        dep(
            "kube-system",
            "metrics-server",
            "registry.k8s.io/metrics-server/metrics-server:v0.7.2",
            2,
        ),
        dep("kube-system", "karpenter", "public.ecr.aws/karpenter/controller:1.1.1", 2, port=8081),
        dep("gpu-operator", "gpu-operator", "nvcr.io/nvidia/gpu-operator:v24.9.1"),
        dep(
            "gpu-operator",
            "gpu-operator-node-feature-discovery-master",
            "registry.k8s.io/nfd/node-feature-discovery:v0.16.6",
        ),
        dep(
            "gpu-operator",
            "gpu-operator-node-feature-discovery-gc",
            "registry.k8s.io/nfd/node-feature-discovery:v0.16.6",
        ),
        dep(
            "monitoring",
            "kube-prometheus-stack-operator",
            "quay.io/prometheus-operator/prometheus-operator:v0.78.2",
        ),
        dep(
            "monitoring",
            "kube-prometheus-stack-grafana",
            "docker.io/grafana/grafana:11.3.1",
            port=3000,
        ),
        dep(
            "monitoring",
            "kube-prometheus-stack-kube-state-metrics",
            "registry.k8s.io/kube-state-metrics/kube-state-metrics:v2.14.0",
        ),
        dep(
            "monitoring",
            "prometheus-adapter",
            "registry.k8s.io/prometheus-adapter/prometheus-adapter:v0.12.0",
            2,
        ),
        dep(
            "kueue-system",
            "kueue-controller-manager",
            f"registry.k8s.io/kueue/kueue:{KUEUE_VERSION}",
            port=8081,
        ),
        dep("kubeflow", "training-operator", "kubeflow/training-operator:v1-855e096"),
        dep(
            "jobset-system",
            "jobset-controller-manager",
            "registry.k8s.io/jobset/jobset:v0.7.1",
            port=8081,
        ),
        dep(
            "lws-system",
            "lws-controller-manager",
            "registry.k8s.io/lws/lws:v0.7.0",
            port=8081,
        ),
        dep("keda", "keda-operator", "ghcr.io/kedacore/keda:2.16.0"),
        dep(
            "keda",
            "keda-operator-metrics-apiserver",
            "ghcr.io/kedacore/keda-metrics-apiserver:2.16.0",
        ),
        dep("keda", "keda-admission-webhooks", "ghcr.io/kedacore/keda-admission-webhooks:2.16.0"),
        dep("kserve", "kserve-controller-manager", "kserve/kserve-controller:v0.15.0", port=8081),
        dep("velero", "velero", "velero/velero:v1.15.0", port=8085),
    ]


def prometheus() -> Workload:
    name = "prometheus-kube-prometheus-stack-prometheus"
    ctr = container(
        "prometheus",
        "quay.io/prometheus/prometheus:v2.55.1",
        resources("2", "8Gi"),
        args=[
            "--config.file=/etc/prometheus/config_out/prometheus.env.yaml",
            "--storage.tsdb.path=/prometheus",
            "--storage.tsdb.retention.time=15d",
        ],
        port=9090,
        port_name="http-web",
        health="/-/ready",
        mounts=[(PROMETHEUS_DB, "/prometheus")],
    )
    workload = _system(
        "StatefulSet",
        "monitoring",
        name,
        {"app.kubernetes.io/name": "prometheus"},
        [ctr],
        account="kube-prometheus-stack-prometheus",
    )
    workload.spec["priorityClassName"] = "system-cluster-critical"
    workload.claim = (PROMETHEUS_DB, "gp3", "200Gi")
    workload.service_name = "prometheus-operated"
    workload.port = 9090
    return workload


# ----------------------------------------------------------------------------- CPU services

_CPU_SERVICES = {
    "web-frontend": ("web-bff", "cdn-origin-nginx", "static-assets", "session-api"),
    "commerce": (
        "cart-api",
        "checkout-api",
        "pricing-engine",
        "inventory-sync",
        "order-events-consumer",
    ),
    "search": ("search-api", "search-indexer", "query-suggest", "ranking-features"),
    "data-pipelines": (
        "feature-store-api",
        "etl-scheduler",
        "events-enricher",
        "clickstream-consumer",
    ),
    "platform-tools": ("docs-site", "internal-portal", "auth-gateway", "notification-worker"),
}
_NGINX = "nginx:1.27.3-alpine"


def _cpu_service(
    namespace: str, name: str, replicas: int, rng: random.Random, *, hpa: bool
) -> Workload:
    nginx = "nginx" in name or name in ("static-assets", "docs-site")
    version = (
        f"{1 + int(hex_id(name, 2), 16) % 4}.{int(hex_id(name, 4), 16) % 30}.{rng.randint(0, 9)}"
    )
    image = _NGINX if nginx else f"{ECR_APPS}/{namespace}/{name}:{version}"
    port = 80 if nginx else 8080
    ctr = container(
        name if not nginx else "nginx",
        image,
        resources(
            rng.choice(("25m", "50m", "100m", "150m")),
            rng.choice(("64Mi", "128Mi", "256Mi", "384Mi")),
        ),
        env=None if nginx else {"PORT": str(port), "LOG_LEVEL": "info", "OTEL_SERVICE_NAME": name},
        port=port,
        health="/healthz" if not nginx else "/",
    )
    spec: Obj = {"containers": [ctr], "nodeSelector": SYSTEM.selector}
    return Workload.deployment(
        namespace,
        name,
        spec,
        replicas=replicas,
        labels=app_labels(name, "web" if nginx else "api", namespace),
        age=rng.randint(5, 120) * DAY,
        hpa=[cpu_metric(70)] if hpa else None,
        hpa_max=replicas * 3,
        pdb=replicas > 1,
        port=port,
    )


def web_frontend(rng: random.Random) -> list[Workload]:
    nginx = _cpu_service("web-frontend", "storefront-nginx", 3, rng, hpa=True)
    api = _cpu_service("web-frontend", "catalog-api", 3, rng, hpa=True)
    api.hpa = [
        cpu_metric(65),
        {
            "resource": {
                "name": "memory",
                "target": {"averageUtilization": 80, "type": "Utilization"},
            },
            "type": "Resource",
        },
    ]
    api.spec["containers"][0]["image"] = f"{ECR_APPS}/web-frontend/catalog-api:2.14.1"
    return [nginx, api]


def cpu_fillers(count: int, scale: int, rng: random.Random) -> list[Workload]:
    out: list[Workload] = []
    round_ = 1
    while count > 0:
        for namespace, names in _CPU_SERVICES.items():
            for base in names:
                if count <= 0:
                    return out
                replicas = min(count, rng.choice((2, 2, 3, 4, 6, 8, 12)) * scale)
                name = base if round_ == 1 else f"{base}-{round_}"
                out.append(_cpu_service(namespace, name, replicas, rng, hpa=len(out) % 2 == 0))
                count -= replicas
        round_ += 1
    return out
