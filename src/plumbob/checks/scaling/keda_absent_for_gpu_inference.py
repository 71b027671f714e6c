"""GPU inference runs, but KEDA is not installed."""

from __future__ import annotations

from collections.abc import Iterator

from plumbob.checks.registry import COMPONENTS, WORKLOADS, Hit, Origin, check
from plumbob.checks.scaling.autoscalers import gpu_inference_workloads, keda_evidence
from plumbob.model.refs import cluster_ref
from plumbob.model.snapshot import Snapshot

WHY = """
The signals that matter for GPU inference (queue depth, tokens or requests in flight, GPU
utilisation from DCGM) live in Prometheus or the model server, not in metrics-server. KEDA turns
them into scaling decisions without a custom-metrics adapter per signal, and can scale idle
models to zero so their GPUs go back to the pool. Without it every team wires prometheus-adapter
rules by hand or scales on CPU.

It counts GPU workloads whose role is serving (an InferenceService, a LeaderWorkerSet, a
Deployment behind a Service or running a known model server); GPU tests, benchmarks and
training runs do not make a cluster need KEDA.
"""

FIX = """
Install KEDA and scale inference on Prometheus queries:

    helm repo add kedacore https://kedacore.github.io/charts
    helm install keda kedacore/keda --namespace keda --create-namespace

If another external-metrics provider already owns `external.metrics.k8s.io`
(prometheus-adapter, a cloud adapter), an HPA on External metrics does the same job.
"""


@check(
    id="keda-absent-for-gpu-inference",
    category="scaling",
    severity="info",
    reads=(WORKLOADS, COMPONENTS),
    consults=("Service", "ScaledObject", "ScaledJob"),
    title="GPU inference runs but KEDA is not installed",
    why=WHY,
    fix=FIX,
    references=(
        "https://keda.sh/docs/latest/deploy/",
        "https://keda.sh/docs/latest/scalers/prometheus/",
    ),
    origin=Origin(
        "https://keda.sh/docs/latest/scalers/prometheus/",
        "KEDA documents scaling a workload on a Prometheus query, down to zero replicas, "
        "which a plain HorizontalPodAutoscaler does not do.",
        kind="document",
    ),
)
def keda_absent_for_gpu_inference(snap: Snapshot) -> Iterator[Hit]:
    workloads = gpu_inference_workloads(snap)
    if not workloads or keda_evidence(snap) is not None:
        return
    names = [f"{w.kind}/{w.namespace + '/' if w.namespace else ''}{w.name}" for w in workloads]
    shown = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
    yield Hit(
        cluster_ref(snap),
        f"{len(workloads)} GPU inference workload(s) ({shown}) and no KEDA: no keda.sh API "
        f"group, ScaledObject or KEDA operator seen",
        evidence={"gpu_inference_workloads": len(workloads), "examples": names[:10]},
    )
