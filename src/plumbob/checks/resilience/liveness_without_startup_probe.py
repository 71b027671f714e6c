"""Liveness probes on GPU containers without a startup probe restart pods that are still loading
their model."""

from __future__ import annotations

from collections.abc import Iterator

from plumbob.checks.options import Option, WholeNumber
from plumbob.checks.registry import WORKLOADS, CheckContext, Hit, Origin, check
from plumbob.model.gpu import container_gpu_request
from plumbob.model.objects import Probe
from plumbob.model.snapshot import Snapshot

MIN_STARTUP_SECONDS = Option(
    "min-startup-seconds",
    WholeNumber(),
    default=600,
    help="Seconds a liveness probe alone (initialDelaySeconds + periodSeconds x "
    "failureThreshold) must tolerate before this check accepts it without a startup probe.",
)

WHY = """
Without a startupProbe the liveness probe starts counting as soon as the container starts. Model
servers download and load weights for minutes before their health endpoint answers, so the
kubelet kills the container after `initialDelaySeconds + periodSeconds x failureThreshold`
(30 s with the defaults) and starts the download again: a CrashLoopBackOff that holds the GPU
and never serves. Large models and cold nodes (image pull, weight download) make it worse.

It applies to every GPU container with a liveness probe, whatever the workload's role: the
kubelet kills a training or batch container that is slow to load its data the same way; model
servers are only where it happens most.
"""

FIX = """
Add a startupProbe that allows the worst-case load time; the liveness probe only starts after it
succeeds:

    startupProbe:
      httpGet:
        path: /health
        port: 8000
      periodSeconds: 10
      failureThreshold: 90      # up to 15 minutes to load the model
    livenessProbe:
      httpGet:
        path: /health
        port: 8000
      periodSeconds: 10
      failureThreshold: 3
"""


def liveness_budget(probe: Probe) -> int:
    """Seconds a container may take to become healthy before the liveness probe kills it
    (Kubernetes' defaults: no initial delay, every 10 s, 3 failures)."""
    period = probe.period_seconds or 10
    failures = probe.failure_threshold or 3
    return (probe.initial_delay_seconds or 0) + period * failures


@check(
    id="liveness-without-startup-probe",
    category="resilience",
    severity="medium",
    reads=(WORKLOADS,),
    title="GPU container has a liveness probe but no startup probe",
    why=WHY,
    fix=FIX,
    references=(
        "https://kubernetes.io/docs/concepts/configuration/liveness-readiness-startup-probes/#startup-probe",
        "https://kubernetes.io/docs/tasks/configure-pod-container/configure-liveness-readiness-startup-probes/#define-startup-probes",
    ),
    options=(MIN_STARTUP_SECONDS,),
    origin=Origin(
        "https://github.com/vllm-project/aibrix/issues/772",
        "The probes of AIBrix's quickstart vLLM model restarted the pod on GKE before the "
        "model had finished downloading.",
    ),
)
def liveness_without_startup_probe(snap: Snapshot, ctx: CheckContext) -> Iterator[Hit]:
    minimum = ctx.value(MIN_STARTUP_SECONDS)
    for template in snap.gpu_templates:
        for i, container in enumerate(template.spec.containers):
            probe = container.liveness_probe
            if not probe or container.startup_probe or not container_gpu_request(container):
                continue
            budget = liveness_budget(probe)
            if budget >= minimum:
                continue
            yield Hit(
                template.workload,
                f"GPU container {container.name!r} of {template.kind} "
                f"{template.namespace or 'default'}/{template.workload.name} is killed after "
                f"{budget}s if the model is not loaded: livenessProbe without startupProbe",
                evidence={
                    "container": container.name,
                    "liveness_budget_seconds": budget,
                    "min_startup_seconds": minimum,
                },
                path=f"{template.path}.containers[{i}].startupProbe",
            )
