"""CNCF Kubernetes AI Conformance pre-check: what a snapshot (and the checks' findings) show for
each requirement id of knowledge/ai_conformance.yaml.

Read-only: the official conformance tests create pods; this only reads what a scan saw, so a
"ready" here means "the mechanism is visibly in place", not "the test passed". Statuses:
ready, not ready, not visible (the snapshot cannot show it: no API discovery, or a kind that
was not readable) and not applicable (e.g. accelerator requirements on a cluster without GPUs).
Its own package (plumbob.conformance), not a check: it holds no @check.
"""

from __future__ import annotations

import enum
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from plumbob.checks.observability.gpu_node_no_dcgm_exporter import DCGM, dcgm_coverage
from plumbob.checks.scaling.autoscalers import (
    cluster_autoscaler_evidence,
    iter_scalers,
    keda_evidence,
    node_autoscaled,
)
from plumbob.knowledge.components import installed
from plumbob.knowledge.loader import KnowledgeError, load_table
from plumbob.model.gpu import is_gpu_resource
from plumbob.model.objects import DaemonSet
from plumbob.model.snapshot import Snapshot
from plumbob.report.model import Finding


class Status(enum.StrEnum):
    READY = "ready"
    NOT_READY = "not ready"
    NOT_VISIBLE = "not visible"
    NOT_APPLICABLE = "not applicable"


PRODUCT_STATUS = {
    Status.READY: "Implemented",
    Status.NOT_READY: "Not Implemented",
    Status.NOT_VISIBLE: "",
    Status.NOT_APPLICABLE: "N/A",
}
"""plumbob status -> PRODUCT.yaml `status` (ai_conformance.yaml status_values); not visible stays
blank for the vendor to fill in."""


@dataclass(frozen=True, slots=True)
class Requirement:
    id: str
    category: str
    title: str
    level: str
    """MUST or SHOULD for the chosen Kubernetes version."""
    description: str = ""
    """The checklist's own wording of the requirement."""


@dataclass(frozen=True, slots=True)
class Assessment:
    requirement: Requirement
    status: Status
    evidence: tuple[str, ...] = ()
    notes: str = ""


# ------------------------------------------------------------------ the requirement table


@cache
def versions() -> tuple[str, ...]:
    """Kubernetes versions the table has levels for, oldest first."""
    found: set[str] = set()
    for row in load_table("ai_conformance")["requirements"]:
        found.update(str(v) for v in row.get("levels", {}))
    return tuple(sorted(found, key=lambda v: tuple(int(p) for p in v.split("."))))


def requirements(version: str) -> list[Requirement]:
    """Requirements in the checklist for `version`, in table order (ids absent there skipped)."""
    if version not in versions():
        raise KnowledgeError(f"no AI conformance checklist for {version}; have {versions()}")
    table = load_table("ai_conformance")
    descriptions = table.get("descriptions") or {}
    out = []
    for row in table["requirements"]:
        level = str(row.get("levels", {}).get(version, "-"))
        if level != "-":
            out.append(
                Requirement(
                    id=str(row["id"]),
                    category=str(row["category"]),
                    title=str(row["title"]),
                    level=level,
                    description=str(descriptions.get(row["id"], "")),
                )
            )
    return out


def table_sources() -> list[str]:
    return [str(s) for s in load_table("ai_conformance").get("sources", [])]


# ------------------------------------------------------------------ components


def detect_components(snap: Snapshot) -> dict[str, str]:
    """Component id (ai_components.yaml) -> why plumbob thinks it is installed, from the shared
    detector (knowledge/components.py)."""
    return {cid: f"{found.name}: {found.evidence[0]}" for cid, found in installed(snap).items()}


# ------------------------------------------------------------------ evaluation


@dataclass(slots=True)
class _Context:
    snap: Snapshot
    findings: Mapping[str, list[Finding]]
    components: Mapping[str, str]
    gpu_nodes: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def discovery(self) -> bool:
        return self.snap.discovery is not None

    def served(self, *groups: str) -> bool | None:
        """True when served (or objects seen), False when discovery says no, None unknown."""
        if any(self.snap.has_group(g) for g in groups):
            return True
        return False if self.discovery else None

    def cited(self, *check_ids: str, limit: int = 3) -> list[str]:
        out = []
        for cid in check_ids:
            hits = self.findings.get(cid, [])
            if hits:
                out.append(f"{len(hits)} {cid} finding(s), e.g. {hits[0].message}")
        return out[:limit]

    def have(self, *component_ids: str) -> list[str]:
        return [self.components[c] for c in component_ids if c in self.components]

    def ready(self, ev: Sequence[str], against: str, caveat: str) -> Result:
        """Ready on the evidence, citing the findings of check `against` that still stand, with
        `caveat` as the note when there are some: a mechanism in place that some workloads bypass
        is still in place."""
        cited = self.cited(against)
        return Status.READY, [*ev, *cited], caveat if cited else ""

    def absent(self, what: str, *against: str) -> Result:
        """Not ready (or not visible without API discovery) for lack of `what`, citing the
        findings of the checks `against` as what shows the gap on the workloads."""
        cited = self.cited(*against)
        if self.discovery:
            return Status.NOT_READY, cited, f"no {what} in API discovery or among the objects"
        return (
            Status.NOT_VISIBLE,
            cited,
            f"no {what} among the objects read; the snapshot has no API discovery, so an "
            f"installed component without objects in it cannot be ruled out",
        )


Result = tuple[Status, Sequence[str], str]
_NO_GPU: Result = (Status.NOT_APPLICABLE, (), "no GPU nodes in the snapshot")


def _dra_support(c: _Context) -> Result:
    served = c.served("resource.k8s.io")
    slices = c.snap.objects("ResourceSlice")
    classes = [o.name for o in c.snap.objects("DeviceClass")]
    ev = [f"{len(slices)} ResourceSlice(s)"] if slices else []
    if classes:
        ev.append("DeviceClasses: " + ", ".join(classes[:5]))
    if served:
        return Status.READY, ["API group resource.k8s.io served", *ev], ""
    minor = c.snap.server_minor
    if served is None and minor is not None and minor >= (1, 34):
        return (
            Status.READY,
            [f"Kubernetes {minor[0]}.{minor[1]} (DRA is GA and on by default from 1.34)"],
            "inferred from the server version",
        )
    if served is False:
        return Status.NOT_READY, (), "resource.k8s.io is not served"
    return c.absent("resource.k8s.io objects")


def _driver_runtime(c: _Context) -> Result:
    if not c.gpu_nodes:
        return _NO_GPU
    gpus = c.snap.node_gpus
    known = [n for n in c.snap.gpu_nodes if gpus[n.name].driver]
    ev = c.have("nvidia-gpu-operator", "nvidia-dra-driver-gpu", "nvidia-gpu-feature-discovery")
    if known:
        drivers = sorted({gpus[n.name].driver or "" for n in known})
        ev.append(
            f"{len(known)}/{c.gpu_nodes} GPU nodes publish their driver version "
            f"({', '.join(drivers[:4])})"
        )
    if known or ev:
        return c.ready(
            ev, "cuda-driver-mismatch", "images needing newer drivers than some nodes have"
        )
    return (
        Status.NOT_READY,
        (),
        "GPU nodes publish no driver version (no GPU Operator / "
        "gpu-feature-discovery labels, no DRA driver attributes)",
    )


def _gpu_sharing(c: _Context) -> Result:
    if not c.gpu_nodes:
        return _NO_GPU
    gpus = c.snap.node_gpus
    ev = []
    # mig.strategy alone is set on every node by the GPU Operator; slices or a config count
    mig = [
        n.name
        for n in c.snap.gpu_nodes
        if gpus[n.name].mig_allocatable
        or (gpus[n.name].mig_config or "all-disabled") != "all-disabled"
    ]
    if mig:
        ev.append(f"MIG on {len(mig)} node(s), e.g. {mig[0]}")
    shared = [
        n.name
        for n in c.snap.gpu_nodes
        if gpus[n.name].sharing_strategy in ("time-slicing", "mps")
        or (gpus[n.name].replicas or 0) > 1
        or "nvidia.com/gpu.shared" in gpus[n.name].resource_names
    ]
    if shared:
        ev.append(f"time-slicing/MPS on {len(shared)} node(s), e.g. {shared[0]}")
    ev += c.have("nvidia-dra-driver-gpu", "kai-scheduler")
    if ev:
        return Status.READY, ev, ""
    return Status.NOT_READY, (), "no MIG, time-slicing, MPS or DRA GPU sharing seen on GPU nodes"


def _virtualized(c: _Context) -> Result:
    if not c.gpu_nodes:
        return _NO_GPU
    vgpu = [
        n.name
        for n in c.snap.gpu_nodes
        if c.snap.node_gpus[n.name].vgpu_host_driver
        or n.labels.get("nvidia.com/vgpu.present") == "true"
    ]
    if vgpu:
        return Status.READY, [f"vGPU on {len(vgpu)} node(s), e.g. {vgpu[0]}"], ""
    return (
        Status.NOT_VISIBLE,
        (),
        "no vGPU nodes in the snapshot; plumbob cannot tell whether "
        "the platform offers virtualized accelerators (N/A if it does not)",
    )


def _listed(c: _Context, kinds: Iterable[str]) -> list[str]:
    out = []
    for kind in kinds:
        objs = c.snap.objects(kind)
        if objs:
            out.append(f"{len(objs)} {kind}(s): " + ", ".join(o.name for o in objs[:3]))
    return out


def _ai_inference(c: _Context) -> Result:
    served = c.served("gateway.networking.k8s.io")
    ev = _listed(c, ("GatewayClass", "Gateway", "HTTPRoute"))
    if served:
        return Status.READY, ["Gateway API (gateway.networking.k8s.io) served", *ev], ""
    if served is False:
        return Status.NOT_READY, (), "gateway.networking.k8s.io is not served"
    return c.absent("Gateway API objects")


def _advanced_ingress(c: _Context) -> Result:
    served = c.served("inference.networking.k8s.io", "inference.networking.x-k8s.io")
    ev = _listed(c, ("InferencePool", "InferenceObjective", "InferenceModel"))
    ev += c.have("gateway-api-inference-extension", "llm-d")
    if served or ev:
        return Status.READY, ev or ["Gateway API Inference Extension API served"], ""
    if served is False:
        return Status.NOT_READY, (), "inference.networking.k8s.io is not served"
    return c.absent("Gateway API Inference Extension objects")


def _hp_networking(c: _Context) -> Result:
    ev = _listed(c, ("NetworkAttachmentDefinition",))
    ev += c.have("nvidia-network-operator")
    rdma = sorted(
        {
            r
            for n in c.snap.nodes
            for r in n.status.allocatable
            if r.startswith(("rdma/", "nvidia.com/rdma", "networking.gke.io")) or "sriov" in r
        }
    )
    if rdma:
        ev.append("node resources: " + ", ".join(rdma[:4]))
    if ev:
        return Status.READY, ev, ""
    return c.absent("Multus/SR-IOV/RDMA network resources or DRA network drivers")


_DISAGG_WORDS = ("prefill", "decode")


def _disaggregated(c: _Context) -> Result:
    seen: list[str] = []
    for w in c.snap.workloads:
        text = " ".join([w.name, *w.labels.values()]).lower()
        if any(word in text for word in _DISAGG_WORDS):
            seen.append(f"{w.kind} {w.name}")
    ev = c.have("llm-d")
    if seen:
        ev.append(f"{len(seen)} prefill/decode workload(s), e.g. {', '.join(seen[:3])}")
    if ev:
        return Status.READY, ev, ""
    return c.absent("prefill/decode split serving (llm-d, Dynamo, vLLM/SGLang disaggregation)")


def _gang(c: _Context) -> Result:
    ev = c.have("kueue", "volcano", "scheduler-plugins", "kai-scheduler")
    gang = "gpu-training-no-gang-scheduler"
    if ev:
        return c.ready(ev, gang, "some multi-pod training is not admitted through it")
    return c.absent("gang scheduler (Kueue, Volcano, coscheduling, KAI)", gang)


def _cluster_autoscaling(c: _Context) -> Result:
    if not c.gpu_nodes:
        return _NO_GPU
    why = cluster_autoscaler_evidence(c.snap)
    nodes = [r for n in c.snap.gpu_nodes if (r := node_autoscaled(n.labels, n.annotations))]
    ev = ([why] if why else []) + (
        [f"{len(nodes)} GPU node(s) autoscaled ({nodes[0]})"] if nodes else []
    )
    if ev:
        return Status.READY, ev, ""
    return c.absent(
        "cluster autoscaler, Karpenter or managed node autoprovisioning",
        "gpu-pool-no-cluster-autoscaler",
    )


def _pod_autoscaling(c: _Context) -> Result:
    custom = c.served("custom.metrics.k8s.io", "external.metrics.k8s.io")
    ev = []
    if custom:
        ev.append("custom/external metrics API served")
    keda = keda_evidence(c.snap)
    if keda:
        ev.append(f"KEDA: {keda}")
    custom_scalers = [s for s in iter_scalers(c.snap) if s.metrics and not s.resource_only]
    if custom_scalers:
        s = custom_scalers[0]
        ev.append(
            f"{len(custom_scalers)} autoscaler(s) on custom metrics, e.g. "
            f"{s.source.kind} {s.source.name} on {', '.join(m.name for m in s.metrics)}"
        )
    cpu_only = "gpu-hpa-cpu-only"
    if ev:
        return c.ready(ev, cpu_only, "some GPU workloads still scale on CPU only")
    return c.absent("custom/external metrics API, KEDA or custom-metric HPA", cpu_only)


def _accelerator_metrics(c: _Context) -> Result:
    """From the detection gpu-node-no-dcgm-exporter makes (`dcgm_coverage`): the two never
    disagree on whether a cluster runs the DCGM exporter, or where."""
    if not c.gpu_nodes:
        return _NO_GPU
    coverage = dcgm_coverage(c.snap)
    ev = [
        c.components.get(DCGM) or f"NVIDIA DCGM Exporter: DaemonSet {ds.namespace}/{ds.name}"
        for ds in coverage.exporters[:1]
    ]
    ev += _scraped_by(c, coverage.exporters)
    uncovered = sorted(coverage.uncovered)
    if coverage.exporters and not uncovered:
        return Status.READY, ev, ""
    if coverage.exporters:
        shown = ", ".join(uncovered[:3]) + (
            f" and {len(uncovered) - 3} more" if len(uncovered) > 3 else ""
        )
        return (
            Status.READY,
            [*ev, f"{len(uncovered)}/{c.gpu_nodes} GPU nodes not covered: {shown}"],
            "not every GPU node is covered",
        )
    return c.absent("DCGM exporter", "gpu-node-no-dcgm-exporter")


def _scraped_by(c: _Context, exporters: Sequence[DaemonSet]) -> list[str]:
    """ServiceMonitors/PodMonitors in an exporter's namespace: how Prometheus gets its metrics."""
    namespaces = {ds.namespace for ds in exporters}
    monitors = [
        f"{o.kind} {o.namespace}/{o.name}"
        for kind in ("ServiceMonitor", "PodMonitor")
        for o in c.snap.objects(kind)
        if o.namespace in namespaces
    ]
    return [f"scraped by {', '.join(monitors[:3])}"] if monitors else []


def _service_metrics(c: _Context) -> Result:
    ev = c.have("prometheus-operator")
    ev += _listed(c, ("ServiceMonitor", "PodMonitor"))
    if ev:
        return Status.READY, ev, ""
    return c.absent("Prometheus (operator, ServiceMonitor/PodMonitor)", "no-metrics-pipeline")


def _secure_access(c: _Context) -> Result:
    if not c.gpu_nodes:
        return _NO_GPU
    ev = c.have(
        "nvidia-gpu-operator",
        "nvidia-k8s-device-plugin",
        "gke-nvidia-gpu-device-plugin",
        "nvidia-dra-driver-gpu",
        "volcano-device-plugin",
    )
    allocatable = [
        n.name for n in c.snap.gpu_nodes if any(is_gpu_resource(r) for r in n.status.allocatable)
    ]
    if allocatable:
        ev.append(
            f"{len(allocatable)}/{c.gpu_nodes} GPU nodes advertise GPUs through a device "
            f"plugin resource"
        )
    bypass = c.cited("gpu-access-bypasses-device-plugin")
    if bypass:
        return (
            Status.NOT_READY,
            [*ev, *bypass],
            ("containers reach GPUs outside the device plugin / DRA"),
        )
    if ev:
        return Status.READY, ev, ""
    return Status.NOT_READY, (), "GPU nodes advertise no device-plugin or DRA GPU resources"


_SANDBOX_HANDLERS = ("runsc", "gvisor", "kata")


def _sandboxing(c: _Context) -> Result:
    ev = []
    for rc in c.snap.objects("RuntimeClass"):
        handler = str(getattr(rc, "extra", {}).get("handler", "") or "")
        if any(h in (handler or rc.name).lower() for h in _SANDBOX_HANDLERS):
            ev.append(f"RuntimeClass {rc.name} (handler {handler or '?'})")
    if c.served("agents.x-k8s.io"):
        ev.append("agent-sandbox API (agents.x-k8s.io) served")
    if ev:
        return Status.READY, ev, ""
    return c.absent("sandbox RuntimeClass (gVisor, Kata) or agent-sandbox")


_AI_OPERATORS = (
    "kuberay",
    "kubeflow-trainer",
    "kubeflow-training-operator-v1",
    "kserve",
    "leaderworkerset",
    "jobset",
    "kaito",
    "llm-d",
    "volcano",
    "kueue",
)


def _robust_controller(c: _Context) -> Result:
    ev = c.have(*_AI_OPERATORS)
    if ev:
        return (
            Status.READY,
            ev,
            (
                "seen installed; the official test also checks its webhooks "
                "and a reconcile, which a read-only scan cannot"
            ),
        )
    return c.absent("AI operator with CRDs (KubeRay, Kubeflow, KServe, LWS, JobSet, ...)")


EVALUATORS: dict[str, Callable[[_Context], Result]] = {
    "dra_support": _dra_support,
    "driver_runtime_management": _driver_runtime,
    "gpu_sharing": _gpu_sharing,
    "virtualized_accelerator": _virtualized,
    "ai_inference": _ai_inference,
    "advanced_inference_ingress": _advanced_ingress,
    "high_performance_networking": _hp_networking,
    "disaggregated_inference": _disaggregated,
    "gang_scheduling": _gang,
    "cluster_autoscaling": _cluster_autoscaling,
    "pod_autoscaling": _pod_autoscaling,
    "accelerator_metrics": _accelerator_metrics,
    "ai_service_metrics": _service_metrics,
    "secure_accelerator_access": _secure_access,
    "workload_sandboxing": _sandboxing,
    "robust_controller": _robust_controller,
}
"""Requirement id -> how plumbob judges it from one snapshot."""


def assess(snap: Snapshot, findings: Iterable[Finding], version: str) -> list[Assessment]:
    """Each requirement of the `version` checklist as plumbob sees it in `snap`. `findings` are
    the scan's findings (any cluster; only this snapshot's are used)."""
    by_check: dict[str, list[Finding]] = defaultdict(list)
    for f in findings:
        if f.cluster == snap.cluster.name:
            by_check[f.check].append(f)
    ctx = _Context(
        snap=snap,
        findings=by_check,
        components=detect_components(snap),
        gpu_nodes=len(snap.gpu_nodes),
    )
    out = []
    for req in requirements(version):
        evaluate = EVALUATORS.get(req.id)
        if evaluate is None:
            out.append(Assessment(req, Status.NOT_VISIBLE, (), "plumbob has no rule for this id"))
            continue
        status, evidence, notes = evaluate(ctx)
        out.append(Assessment(req, status, tuple(evidence), notes))
    return out


def default_version(snap: Snapshot) -> str:
    """The cluster's own minor when the table has it, else the newest checklist."""
    minor = snap.server_minor
    if minor is not None and f"{minor[0]}.{minor[1]}" in versions():
        return f"{minor[0]}.{minor[1]}"
    return versions()[-1]


def product_yaml(assessments: Sequence[Assessment], version: str, snap: Snapshot) -> dict[str, Any]:
    """The checklist in the cncf/k8s-ai-conformance PRODUCT.yaml shape: every metadata key of the
    template (vendor ones left empty), each requirement with the checklist's description, the
    status plumbob saw and a note saying what it saw. `evidence` stays empty: the program takes
    only links and files there (the official test output), which a read-only scan has none of."""
    spec: dict[str, list[dict[str, Any]]] = {}
    for a in assessments:
        note = f"plumbob pre-check: {a.status.value}"
        if a.evidence:
            note += f"; seen: {'; '.join(a.evidence)}"
        if a.notes:
            note += f" - {a.notes}"
        spec.setdefault(a.requirement.category, []).append(
            {
                "id": a.requirement.id,
                "description": a.requirement.description or a.requirement.title,
                "level": a.requirement.level,
                "status": PRODUCT_STATUS[a.status],
                "evidence": [],
                "notes": note,
            }
        )
    known = {
        "kubernetesVersion": f"v{version}",
        "platformName": snap.cluster.platform or snap.cluster.name,
        "platformVersion": snap.cluster.server_version or "",
        "description": f"Pre-filled by plumbob from a read-only scan of {snap.cluster.name}",
    }
    keys = [str(m["key"]) for m in load_table("ai_conformance").get("product_yaml_metadata", [])]
    return {
        "metadata": {key: known.get(key, "") for key in keys or known},
        "spec": spec,
    }
