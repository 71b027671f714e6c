"""GPU inference services with no pod autoscaler at all."""

from __future__ import annotations

from collections.abc import Iterator

from plumbob.checks.registry import WORKLOADS, Hit, Origin, check
from plumbob.checks.scaling.autoscalers import (
    INFERENCE_AUTOSCALED_KINDS,
    gpu_inference_workloads,
    scalers_of,
)
from plumbob.model.roles import kind_of
from plumbob.model.snapshot import Snapshot

WHY = """
Inference traffic is bursty. A GPU inference service with a fixed replica count is sized either
for the peak (GPUs idle most of the day at full price) or below it (requests queue and time out
at the peak). Without an autoscaler there is also nothing to give GPUs back to training at night.

It applies to GPU workloads whose role is serving: a KServe InferenceService, a LeaderWorkerSet,
a Deployment a Service sends traffic to or that runs a known model server (vLLM, Triton, TGI, ...).
A GPU burn test, a benchmark or a training run packaged as a Deployment is not judged; the
finding's `role` and `roleEvidence` say why a workload counts as serving.
"""

FIX = """
Add an autoscaler on a serving signal (queue depth, requests in flight, GPU utilisation):

    apiVersion: autoscaling/v2
    kind: HorizontalPodAutoscaler
    spec:
      scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: my-llm}
      minReplicas: 1
      maxReplicas: 4
      metrics:
        - type: Pods
          pods:
            metric: {name: vllm_num_requests_waiting}
            target: {type: AverageValue, averageValue: "5"}

(needs prometheus-adapter), or a KEDA ScaledObject with a Prometheus trigger. For KServe keep
an autoscaler class (kpa, hpa with a custom metric, or keda) and minReplicas < maxReplicas.
"""


@check(
    id="gpu-inference-no-autoscaler",
    category="scaling",
    severity="medium",
    reads=(WORKLOADS, "HorizontalPodAutoscaler"),
    consults=("Service", "ScaledObject"),
    title="GPU inference workload has no autoscaler",
    why=WHY,
    fix=FIX,
    references=(
        "https://kubernetes.io/docs/tasks/run-application/horizontal-pod-autoscale/",
        "https://keda.sh/docs/latest/concepts/scaling-deployments/",
        "https://lws.sigs.k8s.io/docs/examples/hpa/",
        "https://kserve.github.io/website/docs/model-serving/predictive-inference/autoscaling/kpa-autoscaler",
    ),
    origin=Origin(
        "https://kubernetes.io/docs/tasks/run-application/horizontal-pod-autoscale/",
        "Kubernetes documents the HorizontalPodAutoscaler as what changes a workload's "
        "replicas with its load; without one a model server keeps its replica count under "
        "any traffic.",
        kind="document",
    ),
)
def gpu_inference_no_autoscaler(snap: Snapshot) -> Iterator[Hit]:
    for workload in gpu_inference_workloads(snap):
        kind = kind_of(workload)
        if kind not in INFERENCE_AUTOSCALED_KINDS:
            continue
        if workload.metadata.owner_references:
            continue  # managed by a controller (KServe, an operator) that owns its scaling
        if scalers_of(snap, workload):
            continue
        replicas = sum(t.replicas for t in snap.templates_by_workload.get(id(workload), ()))
        yield Hit(
            workload,
            f"GPU inference {workload.kind} {workload.name} runs a fixed {replicas} pod(s): no "
            f"HPA, KEDA ScaledObject or KServe/Knative autoscaling scales it",
            evidence={"kind": workload.kind, "pods": replicas},
        )
