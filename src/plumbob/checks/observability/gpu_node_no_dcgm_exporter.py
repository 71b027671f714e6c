"""GPU nodes that no DCGM exporter DaemonSet covers: their GPUs are invisible to monitoring."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

import msgspec

from plumbob.checks.registry import COMPONENTS, GPU_IDENTITY, Hit, Origin, check
from plumbob.knowledge.components import DAEMONSET_TOLERATIONS, covering, installed
from plumbob.model.objects import DaemonSet, Node
from plumbob.model.scheduling import placement
from plumbob.model.snapshot import Snapshot

DCGM = "nvidia-dcgm-exporter"

WHY = """
Without DCGM exporter on a GPU node nobody sees its GPU utilisation, memory use, temperature,
power or XID errors. Idle GPUs cannot be found, GPU-aware autoscaling (HPA on
DCGM_FI_DEV_GPU_UTIL, KEDA) has no signal, and failing GPUs (ECC/XID errors, thermal throttling)
keep receiving training jobs that crash hours later. A DaemonSet without the GPU taint's
toleration or with a nodeSelector for another pool silently skips exactly these nodes.
"""

FIX = """
Run DCGM exporter on every GPU node: enable it in the GPU Operator (`dcgmExporter.enabled: true`,
the default) or install the Helm chart, and let its pods tolerate the GPU taint and select GPU
nodes:

    helm repo add gpu-helm-charts https://nvidia.github.io/dcgm-exporter/helm-charts
    helm install dcgm-exporter gpu-helm-charts/dcgm-exporter -n gpu-monitoring --create-namespace \\
      --set 'tolerations[0].key=nvidia.com/gpu' --set 'tolerations[0].operator=Exists' \\
      --set 'tolerations[0].effect=NoSchedule' \\
      --set nodeSelector."nvidia\\.com/gpu\\.present"=true

Scrape it with a ServiceMonitor (port 9400) so Prometheus and the HPA adapter see the metrics.
"""


def dcgm_daemonsets(snap: Snapshot) -> list[DaemonSet]:
    """The DCGM exporter DaemonSets, as the component detector finds them (its image on any
    registry or mirror, or its well-known name): the one detection `plumbob conformance`
    (accelerator_metrics) and this check share."""
    found = installed(snap).get(DCGM)
    if found is None:
        return []
    return [obj for obj in found.objects if isinstance(obj, DaemonSet)]


@dataclass(frozen=True, slots=True)
class DcgmCoverage:
    """Which GPU nodes the cluster's DCGM exporter DaemonSets cover."""

    exporters: tuple[DaemonSet, ...]
    uncovered: Mapping[str, str]
    """GPU node name -> why no exporter runs there."""


def dcgm_coverage(snap: Snapshot) -> DcgmCoverage:
    exporters = tuple(dcgm_daemonsets(snap))
    uncovered: dict[str, str] = {}
    for node in snap.gpu_nodes:
        if covering(snap, exporters, node):
            continue
        if exporters:
            reasons = "; ".join(
                f"{ds.namespace}/{ds.name} {skipped_because(ds, node)}" for ds in exporters
            )
            uncovered[node.name] = f"DCGM exporter DaemonSet {reasons}"
        else:
            uncovered[node.name] = "the cluster runs no DCGM exporter DaemonSet"
    return DcgmCoverage(exporters, uncovered)


def skipped_because(ds: DaemonSet, node: Node) -> str:
    """Why a DaemonSet places no pod on the node, as the scheduler's filters would say."""
    spec = ds.spec.template.spec
    spec = msgspec.structs.replace(spec, tolerations=[*spec.tolerations, *DAEMONSET_TOLERATIONS])
    reason = placement(spec, node, gpu_resources={}, include_cordoned=True).reason
    if reason.startswith("nodeSelector "):
        key = reason.removeprefix("nodeSelector ").split("=", 1)[0]
        return f"skips it: {reason}, the node has {key}={node.labels.get(key, '<unset>')}"
    return f"skips it: {reason}" if reason else "runs no pod there"


@check(
    id="gpu-node-no-dcgm-exporter",
    category="observability",
    severity="medium",
    reads=("Node", "DaemonSet"),
    consults=(COMPONENTS,),
    node_parts=(*GPU_IDENTITY, "taints", "unschedulable"),
    title="GPU node is not covered by a DCGM exporter DaemonSet",
    why=WHY,
    fix=FIX,
    references=(
        "https://docs.nvidia.com/datacenter/cloud-native/gpu-telemetry/latest/dcgm-exporter.html",
        "https://github.com/NVIDIA/dcgm-exporter",
        "https://kubernetes.io/docs/concepts/workloads/controllers/daemonset/#taints-and-tolerations",
    ),
    origin=Origin(
        "https://docs.nvidia.com/datacenter/cloud-native/gpu-telemetry/latest/dcgm-exporter.html",
        "NVIDIA documents the DCGM exporter as the per-node source of GPU utilisation, "
        "memory and error metrics; a GPU node it does not cover reports none of them.",
        kind="document",
    ),
)
def gpu_node_no_dcgm_exporter(snap: Snapshot) -> Iterator[Hit]:
    if not snap.gpu_nodes:
        return
    coverage = dcgm_coverage(snap)
    names = [f"{ds.namespace}/{ds.name}" for ds in coverage.exporters]
    for node in snap.gpu_nodes:
        why = coverage.uncovered.get(node.name)
        if why is None:
            continue
        yield Hit(
            node,
            f"GPU node {node.name}: {why}",
            evidence={
                "dcgm_exporters": names,
                "product": snap.node_gpus[node.name].product,
                "taints": [f"{t.key}={t.value or ''}:{t.effect}" for t in node.spec.taints],
            },
        )
