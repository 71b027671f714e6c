"""Nodes advertising the same GPUs both whole and as MIG slices."""

from __future__ import annotations

from collections.abc import Iterator

from plumbob.checks.registry import GPU_IDENTITY, Hit, Origin, check
from plumbob.model.gpu import MIG_PREFIX
from plumbob.model.snapshot import Snapshot

WHY = """
A GPU with MIG enabled is used through its slices; the device plugin must not also offer it as
a whole nvidia.com/gpu. When a node advertises more whole GPUs than it has GPUs without MIG,
plus MIG slices, the scheduler hands the same silicon to two pods: a pod given the "whole" GPU
finds its memory taken by slice users (or CUDA fails to start in MIG mode), and capacity and
cost reports count those GPUs twice.
"""

FIX = """
Run one device plugin with the mixed MIG strategy, so only GPUs with MIG disabled appear as
nvidia.com/gpu and partitioned ones only as nvidia.com/mig-<profile>:

    helm upgrade gpu-operator nvidia/gpu-operator -n gpu-operator --reuse-values \\
      --set mig.strategy=mixed

Check for a second device plugin (a standalone DaemonSet next to the operator's) and restart
the plugin on the node after changing the MIG layout:
`kubectl -n gpu-operator delete pod -l app=nvidia-device-plugin-daemonset
--field-selector spec.nodeName=NODE`.
"""


@check(
    id="mig-mixed-double-count",
    category="gpu",
    severity="high",
    reads=("Node",),
    node_parts=GPU_IDENTITY,
    title="Node offers the same GPUs whole and as MIG slices",
    why=WHY,
    fix=FIX,
    references=(
        "https://docs.nvidia.com/datacenter/cloud-native/gpu-operator/latest/gpu-operator-mig.html",
        "https://github.com/NVIDIA/k8s-device-plugin#configuration-option-details",
    ),
    origin=Origin(
        "https://github.com/NVIDIA/gpu-operator/issues/637",
        "On A100 nodes with MIG enabled, nvidia.com/gpu and nvidia.com/mig-* were both "
        "allocatable, and a pod given nvidia.com/gpu got no GPU.",
    ),
)
def mig_mixed_double_count(snap: Snapshot) -> Iterator[Hit]:
    for node in snap.gpu_nodes:
        gpu = snap.node_gpus[node.name]
        whole = gpu.offered.get("nvidia.com/gpu", 0.0)
        slices = {k: v for k, v in gpu.offered.items() if k.startswith(MIG_PREFIX)}
        if not whole or not slices:
            continue
        physical = gpu.labelled_count
        if gpu.mig_strategy == "single":
            reason = "the single MIG strategy offers slices only as nvidia.com/gpu"
        elif physical is not None and whole >= physical:
            reason = (
                f"all {physical} GPUs of the node are offered whole although some carry MIG slices"
            )
        else:
            continue  # mixed strategy: whole GPUs are the ones with MIG disabled
        shown = ", ".join(f"{k.removeprefix(MIG_PREFIX)}={v:g}" for k, v in sorted(slices.items()))
        yield Hit(
            node,
            f"{node.name} offers nvidia.com/gpu={whole:g} and MIG slices ({shown}): {reason}",
            evidence={
                "whole": whole,
                "mig": slices,
                "gpu_count_label": physical,
                "mig_strategy": gpu.mig_strategy,
                "mig_config": gpu.mig_config,
            },
            path="status.allocatable",
        )
