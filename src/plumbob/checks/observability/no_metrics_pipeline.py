"""No metrics-server or Prometheus visible: no resource metrics, no GPU metrics, no autoscaling."""

from __future__ import annotations

import re
from collections.abc import Iterator

from plumbob.checks.registry import COMPONENTS, Hit, Origin, check
from plumbob.knowledge.components import installed
from plumbob.model.images import parse_image
from plumbob.model.refs import cluster_ref
from plumbob.model.snapshot import Snapshot

METRICS_COMPONENTS = ("metrics-server", "prometheus-operator")
"""knowledge/ai_components.yaml ids that provide a metrics pipeline."""

METRICS_GROUPS = (
    "metrics.k8s.io",
    "custom.metrics.k8s.io",
    "external.metrics.k8s.io",
    "monitoring.coreos.com",
    "monitoring.googleapis.com",
)
"""API groups served by a metrics pipeline: the resource/custom/external metrics APIs,
Prometheus Operator, Google Managed Prometheus."""

METRICS_IMAGES = re.compile(
    r"(metrics-server|prometheus|vmagent|victoria-metrics|alloy|grafana-agent|"
    r"opentelemetry-collector|otel-collector)"
)
"""Last path segment of collector images installed without their CRDs or under a vendor's
name (rancher/hardened-k8s-metrics-server on RKE2, rancher/mirrored-metrics-server on k3s,
eks/metrics-server from the EKS add-on)."""


WHY = """
Without metrics-server the HPA and `kubectl top` have no CPU/memory data; without Prometheus (or
a managed equivalent) nothing stores GPU utilisation from DCGM exporter, inference metrics such
as queue depth and tokens per second, or the history needed to find idle GPUs. GPU autoscaling
(HPA on custom metrics, KEDA Prometheus triggers), capacity planning and cost reporting all
start from a metrics pipeline.
"""

FIX = """
Install metrics-server for resource metrics, and Prometheus for GPU and inference metrics:

    kubectl apply -f https://github.com/kubernetes-sigs/metrics-server/releases/latest/download/components.yaml
    helm install kube-prometheus-stack \\
      oci://ghcr.io/prometheus-community/charts/kube-prometheus-stack \\
      -n monitoring --create-namespace

Managed options: EKS/AKS/GKE metrics-server add-ons, Amazon Managed Service for Prometheus,
Azure Monitor managed Prometheus, Google Cloud Managed Service for Prometheus.
"""


@check(
    id="no-metrics-pipeline",
    category="observability",
    severity="medium",
    reads=("Deployment", COMPONENTS),
    consults=("Node",),
    title="No metrics pipeline (metrics-server or Prometheus) visible",
    why=WHY,
    fix=FIX,
    references=(
        "https://kubernetes.io/docs/tasks/debug/debug-cluster/resource-metrics-pipeline/",
        "https://github.com/kubernetes-sigs/metrics-server",
        "https://prometheus-operator.dev/docs/getting-started/introduction/",
    ),
    origin=Origin(
        "https://kubernetes.io/docs/tasks/debug/debug-cluster/resource-metrics-pipeline/",
        "Kubernetes documents that the HorizontalPodAutoscaler and kubectl top read the "
        "resource metrics pipeline; without it they have no data.",
        kind="document",
    ),
)
def no_metrics_pipeline(snap: Snapshot) -> Iterator[Hit]:
    found = installed(snap)
    if any(c in found for c in METRICS_COMPONENTS):
        return
    if any(snap.has_group(g) for g in METRICS_GROUPS):
        return
    for template in snap.pod_templates:
        for container in template.spec.containers:
            repository = parse_image(container.image or "").repository
            if METRICS_IMAGES.search(repository.rsplit("/", 1)[-1]):
                return
    yield Hit(
        cluster_ref(snap),
        f"cluster {snap.cluster.name} shows no metrics-server, Prometheus or metrics API "
        f"({len(snap.gpu_nodes)} GPU nodes unmonitored)",
        evidence={
            "looked_for": [*METRICS_COMPONENTS, *METRICS_GROUPS],
            "gpu_nodes": len(snap.gpu_nodes),
        },
    )
