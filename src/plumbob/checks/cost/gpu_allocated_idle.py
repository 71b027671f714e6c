"""Workloads holding GPUs that did (almost) nothing over the metrics window."""

from __future__ import annotations

from collections.abc import Iterator

from plumbob.checks.cost.gpu_low_utilization import (
    IDLE_PERCENT,
    REFERENCES,
    describe,
    measured,
)
from plumbob.checks.options import PRICES
from plumbob.checks.registry import CheckContext, Hit, Origin, check
from plumbob.model.metrics import GPU_METRICS
from plumbob.model.snapshot import Snapshot

WHY = """
These GPUs are allocated to running pods, so the scheduler will not give them to anyone else,
yet DCGM measured next to no work on them for the whole window: the full price of every one of
them is wasted, and jobs that need GPUs wait or trigger new nodes. Typical causes are finished
training jobs whose pods keep running (a sidecar, a `sleep infinity` for debugging), inference
deployments for models nobody calls any more, and notebooks left open over the weekend.
"""

FIX = """
Find the owner and release the GPUs: scale the Deployment/StatefulSet to zero or delete it,
make training jobs exit when done (`restartPolicy: Never`, Job `ttlSecondsAfterFinished`), cull
idle notebooks, and scale inference to zero when idle (KEDA `minReplicaCount: 0`, KServe
`minReplicas: 0`).
"""


@check(
    id="gpu-allocated-idle",
    category="cost",
    severity="high",
    reads=("Pod", GPU_METRICS),
    title="GPUs allocated to running pods but idle",
    why=WHY,
    fix=FIX,
    references=REFERENCES,
    options=(IDLE_PERCENT, PRICES),
    origin=Origin(
        "https://docs.nvidia.com/datacenter/dcgm/latest/user-guide/feature-overview.html#profiling",
        "NVIDIA's DCGM profiling metrics show how busy an allocated GPU really is, which "
        "allocation counts cannot.",
        kind="document",
    ),
)
def gpu_allocated_idle(snap: Snapshot, ctx: CheckContext) -> Iterator[Hit]:
    idle = ctx.value(IDLE_PERCENT)
    for use, metrics, cost in measured(snap, ctx, lambda util: util < idle):
        text, evidence = describe(use, metrics, cost, 1.0, "idle ")
        evidence["idle_percent"] = idle
        yield Hit(use.subject, f"{use.subject.kind} {use.subject.name} holds {text}", evidence)
