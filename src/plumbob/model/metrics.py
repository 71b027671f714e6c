"""GPU utilisation measured over a window (DCGM exporter metrics read from Prometheus), by pod,
node and namespace: what the utilisation checks compare with the GPUs workloads hold."""

from __future__ import annotations

import msgspec

GPU_METRICS = "GpuMetrics"
"""Pseudo-kind for a check's `reads=`: the check needs GPU utilisation metrics; without them the
engine reports it "not visible" instead of passing."""

_STRUCT = {"frozen": True, "kw_only": True, "rename": "camel", "omit_defaults": True}


class GpuUsage(msgspec.Struct, **_STRUCT):
    """Averages over the window for a set of GPUs (a pod's, a node's, a namespace's)."""

    gpus: int = 0
    """GPU devices with samples."""
    util_percent: float | None = None
    """Mean over the GPUs of each GPU's average utilisation (DCGM_FI_DEV_GPU_UTIL), 0-100."""
    max_util_percent: float | None = None
    """The busiest GPU's average utilisation."""
    memory_used_mib: float | None = None
    """Mean over the GPUs of each GPU's average framebuffer use (DCGM_FI_DEV_FB_USED), MiB."""


class GpuMetrics(msgspec.Struct, **_STRUCT):
    """GPU utilisation for one cluster, keyed the way the snapshot names things."""

    source: str
    """Where the numbers came from (the Prometheus URL)."""
    window: str
    """PromQL range, e.g. 24h."""
    queried_at: str | None = None
    by_pod: dict[str, GpuUsage] = {}
    """'namespace/pod' -> usage of the GPUs DCGM attributed to that pod."""
    by_node: dict[str, GpuUsage] = {}
    by_namespace: dict[str, GpuUsage] = {}
    utilization_metric: str = "DCGM_FI_DEV_GPU_UTIL"
    missing: str | None = None
    """Why no usable metrics came back (unreachable, no DCGM series); None when they did."""


def gpu_metrics_missing(metrics: GpuMetrics | None) -> str | None:
    """Why a check that reads GPU metrics cannot run, or None when it can."""
    if metrics is None:
        return "no GPU utilisation metrics: scan with --prometheus URL (DCGM exporter)"
    return metrics.missing


__all__ = ["GPU_METRICS", "GpuMetrics", "GpuUsage", "gpu_metrics_missing"]
