"""Autoscalers on GPU workloads that scale only on CPU or memory."""

from __future__ import annotations

from collections.abc import Iterator

from plumbob.checks.registry import WORKLOADS, Hit, Origin, check
from plumbob.checks.scaling.autoscalers import gpu_inference_workloads, scalers_of
from plumbob.knowledge.workload_roles import role_evidence
from plumbob.model.snapshot import Snapshot

WHY = """
A GPU inference server does its work on the GPU: it can sit at 10% CPU while the GPU is at 100%
and requests queue up, so an HPA on CPU or memory never adds replicas when users wait, and may
remove them while the GPU is saturated. Memory stays flat once the model is loaded. The result
is latency spikes and timeouts under load, or GPUs kept busy by a fixed replica count.

It applies to GPU workloads whose role is serving, the ones an autoscaler adds replicas to for
traffic: an autoscaler on a GPU burn test or a benchmark Deployment scales nothing anyone waits
for, whatever its metric.
"""

FIX = """
Scale on what limits throughput: GPU utilisation from DCGM, queue depth or requests in flight
from the model server. With KEDA and Prometheus:

    apiVersion: keda.sh/v1alpha1
    kind: ScaledObject
    spec:
      scaleTargetRef: {name: my-llm}
      triggers:
        - type: prometheus
          metadata:
            serverAddress: http://prometheus.monitoring:9090
            query: sum(vllm:num_requests_waiting{model_name="my-llm"})
            threshold: "5"

or an HPA on a Pods/External metric served by prometheus-adapter (e.g. DCGM_FI_DEV_GPU_UTIL).
For KServe set `serving.kserve.io/autoscalerClass: keda` with a Prometheus metric, or use the
Knative default (concurrency).
"""


@check(
    id="gpu-hpa-cpu-only",
    category="scaling",
    severity="high",
    reads=(WORKLOADS, "HorizontalPodAutoscaler"),
    consults=("Service", "ScaledObject"),
    title="Autoscaler on a GPU workload scales only on CPU or memory",
    why=WHY,
    fix=FIX,
    references=(
        "https://kubernetes.io/docs/tasks/run-application/horizontal-pod-autoscale/#scaling-on-custom-metrics",
        "https://keda.sh/docs/latest/scalers/prometheus/",
        "https://kserve.github.io/website/docs/model-serving/predictive-inference/autoscaling/kpa-autoscaler",
        "https://cloud.google.com/kubernetes-engine/docs/how-to/machine-learning/inference/autoscaling",
    ),
    origin=Origin(
        "https://cloud.google.com/kubernetes-engine/docs/best-practices/machine-learning/inference/autoscaling",
        "Google's guide to autoscaling LLM inference on GPUs scales model servers on server "
        "metrics such as queue size and batch size.",
        kind="document",
    ),
)
def gpu_hpa_cpu_only(snap: Snapshot) -> Iterator[Hit]:
    for workload in gpu_inference_workloads(snap):
        for scaler in scalers_of(snap, workload):
            if not scaler.resource_only:
                continue
            metrics = ", ".join(m.name for m in scaler.metrics)
            via = (
                f"{scaler.source.kind} {scaler.source.name}"
                if scaler.source is not workload
                else f"{scaler.kind} autoscaling ({scaler.note})"
            )
            yield Hit(
                scaler.source,
                f"{via} scales GPU inference {workload.kind} {workload.name} only on {metrics}",
                evidence={
                    "workload": f"{workload.kind}/{workload.name}",
                    "autoscaler": scaler.kind,
                    "metrics": [str(m) for m in scaler.metrics],
                    "note": scaler.note,
                    **role_evidence(snap, workload),
                },
                path="spec.metrics" if scaler.kind == "HPA" else None,
            )
