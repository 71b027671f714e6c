"""GPU inference containers without a readiness probe receive traffic before the model is loaded."""

from __future__ import annotations

from collections.abc import Iterator

from plumbob.checks.registry import WORKLOADS, Hit, Origin, check
from plumbob.knowledge.workload_roles import role_of
from plumbob.model.gpu import container_gpu_request
from plumbob.model.roles import WorkloadRole
from plumbob.model.snapshot import Snapshot

PLATFORM_PROBED = frozenset(
    {"InferenceService", "LLMInferenceService", "Service", "RayService", "RayCluster"}
)
"""Kinds whose serving platform adds a readiness probe itself (KServe serverless, KServe's
LLMInferenceService from its well-known config `kserve-config-llm-template`, Knative, KubeRay
since v1.1)."""

WHY = """
A model server accepts TCP connections long before the weights are in GPU memory: loading a
7B-70B model takes from tens of seconds to many minutes. Without a readiness probe the Service
sends requests to the pod as soon as the container starts, so every scale-up, rollout or restart
returns errors or time-outs to clients while the model loads, and rolling updates remove old
replicas before new ones can serve.

It applies to GPU workloads whose role is serving, the only ones a Service sends requests to: a
training job, a batch job or a GPU test has no traffic to hold back.
"""

FIX = """
Probe the server's health endpoint (vLLM and TGI: `/health`, Triton: `/v2/health/ready`,
KServe/Ray Serve: `/v2/health/ready` or `/-/healthz`):

    readinessProbe:
      httpGet:
        path: /health
        port: 8000
      periodSeconds: 5
      failureThreshold: 3
"""


@check(
    id="container-no-readiness-probe",
    category="resilience",
    severity="medium",
    reads=(WORKLOADS,),
    consults=("Service",),
    title="GPU inference container has no readiness probe",
    why=WHY,
    fix=FIX,
    references=(
        "https://kubernetes.io/docs/tasks/configure-pod-container/configure-liveness-readiness-startup-probes/",
        "https://docs.vllm.ai/en/stable/deployment/k8s.html",
    ),
    origin=Origin(
        "https://github.com/kserve/kserve/issues/3113",
        "While a model was still loading into memory, user queries already reached its "
        "KServe pod; a readiness probe on the model's health endpoint was the answer.",
    ),
)
def container_no_readiness_probe(snap: Snapshot) -> Iterator[Hit]:
    for template in snap.gpu_templates:
        if template.workload.kind in PLATFORM_PROBED:
            continue
        if role_of(snap, template.workload).role != WorkloadRole.SERVING:
            continue
        siblings = snap.templates_by_workload.get(id(template.workload), ())
        if template.role == "worker" and any(t.role == "leader" for t in siblings):
            continue  # LeaderWorkerSet: the leader serves; workers join its distributed engine
        for i, container in enumerate(template.spec.containers):
            if container.readiness_probe or not container_gpu_request(container):
                continue
            yield Hit(
                template.workload,
                f"GPU container {container.name!r} of {template.kind} "
                f"{template.namespace or 'default'}/{template.workload.name} has no readinessProbe",
                evidence={"container": container.name, "image": container.image},
                path=f"{template.path}.containers[{i}].readinessProbe",
            )
