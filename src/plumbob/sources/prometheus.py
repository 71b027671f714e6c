"""GPU utilisation from Prometheus: DCGM exporter series averaged over a window, per pod, node
and namespace, attached to snapshots for the utilisation checks.

Queries (instant, at the scan time):
    avg_over_time(DCGM_FI_DEV_GPU_UTIL[<window>])         utilisation, 0-100 per GPU
    avg_over_time(DCGM_FI_DEV_FB_USED[<window>])          framebuffer used, MiB per GPU
and, when a cluster exports only profiling metrics,
    avg_over_time(DCGM_FI_PROF_GR_ENGINE_ACTIVE[<window>]) * 100

dcgm-exporter labels a GPU held by a pod with `pod`/`namespace`; when Prometheus scrapes it
through a ServiceMonitor without honorLabels those become `exported_pod`/`exported_namespace`
(and `pod`/`namespace` name the exporter). The node is `Hostname` (or `node`,
`kubernetes_node`). Values outside the metric's range (DCGM's blank sentinels, around 9.2e18)
are dropped.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import msgspec
import urllib3

from plumbob.model.metrics import GpuMetrics, GpuUsage
from plumbob.model.snapshot import Snapshot
from plumbob.report.model import Diagnostic, DiagnosticCode, Level
from plumbob.sources.bodies import read_body
from plumbob.sources.kube_client import tls_failure

UTIL_METRIC = "DCGM_FI_DEV_GPU_UTIL"
MEMORY_METRIC = "DCGM_FI_DEV_FB_USED"
PROFILING_METRIC = "DCGM_FI_PROF_GR_ENGINE_ACTIVE"
_WINDOW = re.compile(r"^\d+(ms|s|m|h|d|w|y)$")
_NODE_LABELS = ("Hostname", "node", "kubernetes_node", "nodename")
_MAX_MIB = 16 * 1024 * 1024  # 16 TiB of framebuffer: anything above is a DCGM blank value


class PrometheusError(Exception):
    """Prometheus could not answer; the message says why, on one line."""


@dataclass(frozen=True, slots=True)
class PrometheusQuery:
    url: str
    token: str | None = None
    window: str = "24h"
    timeout: float = 30.0
    ca_file: str | None = None
    verify: bool = True

    def __post_init__(self) -> None:
        if not _WINDOW.match(self.window):
            raise ValueError(
                f"--window {self.window!r}: use a Prometheus duration such as 30m, 24h or 7d"
            )


class _Sample(msgspec.Struct):
    metric: dict[str, str] = {}
    value: tuple[float, str] = (0.0, "NaN")


class _Data(msgspec.Struct, rename="camel"):
    result_type: str = ""
    result: list[_Sample] = []


class _Answer(msgspec.Struct, rename="camel"):
    status: str = ""
    data: _Data | None = None
    error: str = ""
    error_type: str = ""


_answer = msgspec.json.Decoder(_Answer)


class PrometheusClient:
    """Instant queries over HTTP(S), TLS verified, optional bearer token."""

    def __init__(self, query: PrometheusQuery) -> None:
        self.query = query
        kwargs: dict[str, Any] = {"cert_reqs": "CERT_REQUIRED" if query.verify else "CERT_NONE"}
        if query.ca_file:
            kwargs["ca_certs"] = query.ca_file
        self.http = urllib3.PoolManager(
            retries=urllib3.Retry(
                total=3, backoff_factor=0.5, status_forcelist=(429, 502, 503, 504)
            ),
            timeout=urllib3.Timeout(total=query.timeout),
            **kwargs,
        )

    def instant(self, promql: str, at: datetime) -> list[_Sample]:
        headers = {"Accept": "application/json"}
        if self.query.token:
            headers["Authorization"] = f"Bearer {self.query.token}"
        url = self.query.url.rstrip("/") + "/api/v1/query"
        try:
            resp = self.http.request(
                "GET",
                url,
                headers=headers,
                fields={"query": promql, "time": f"{at.timestamp():.3f}"},
                preload_content=False,
            )
            # the whole answer within the timeout and the input cap (sources/bodies.py)
            data = read_body(resp, self.query.timeout)
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            reason = _reason(exc)
            if "CERTIFICATE_VERIFY_FAILED" in reason or "mismatch" in reason:
                hint = "a private CA? give its PEM with --prometheus-ca"
                reason += f" ({tls_failure(reason, hint)})"
            raise PrometheusError(
                f"cannot reach Prometheus at {self.query.url}: {reason}"
            ) from None
        try:
            answer = _answer.decode(data)
        except msgspec.DecodeError:
            answer = _Answer()
        if resp.status != 200 or answer.status != "success":
            detail = answer.error or data[:200].decode("utf-8", "replace").strip()
            raise PrometheusError(
                f"Prometheus at {self.query.url} answered {resp.status}"
                f"{': ' + detail if detail else ''}"
            )
        return answer.data.result if answer.data else []

    def close(self) -> None:
        self.http.clear()


def _reason(exc: BaseException) -> str:
    inner = getattr(exc, "reason", None)
    return " ".join(str(inner or exc).split())


# ------------------------------------------------------------------------- aggregation


@dataclass(slots=True)
class _Gpu:
    util: list[float] = field(default_factory=list)
    memory: list[float] = field(default_factory=list)


def _target(labels: dict[str, str]) -> tuple[str | None, str | None]:
    """(namespace, pod) the GPU was allocated to, if the series says."""
    if labels.get("exported_pod"):
        return labels.get("exported_namespace"), labels["exported_pod"]
    if labels.get("pod"):
        return labels.get("namespace"), labels["pod"]
    return None, None


def _node(labels: dict[str, str]) -> str | None:
    for key in _NODE_LABELS:
        if labels.get(key):
            return labels[key]
    return None


def _device(labels: dict[str, str], node: str | None) -> str:
    dev = labels.get("UUID") or labels.get("uuid") or labels.get("gpu") or labels.get("device")
    if labels.get("GPU_I_ID"):  # a MIG instance is its own device
        dev = f"{dev}/mig{labels['GPU_I_ID']}"
    return f"{node or labels.get('instance', '?')}/{dev}"


def _usage(devices: Iterable[_Gpu]) -> GpuUsage:
    gpus = list(devices)
    per_gpu_util = [sum(g.util) / len(g.util) for g in gpus if g.util]
    per_gpu_mem = [sum(g.memory) / len(g.memory) for g in gpus if g.memory]
    return GpuUsage(
        gpus=len(gpus),
        util_percent=round(sum(per_gpu_util) / len(per_gpu_util), 2) if per_gpu_util else None,
        max_util_percent=round(max(per_gpu_util), 2) if per_gpu_util else None,
        memory_used_mib=round(sum(per_gpu_mem) / len(per_gpu_mem), 1) if per_gpu_mem else None,
    )


def aggregate(
    util: Sequence[_Sample],
    memory: Sequence[_Sample],
    *,
    source: str,
    window: str,
    queried_at: str | None = None,
    metric: str = UTIL_METRIC,
    scale: float = 1.0,
) -> tuple[GpuMetrics, int]:
    """GpuMetrics from the two instant vectors; also the number of series dropped as out of
    range."""
    by_pod: dict[str, dict[str, _Gpu]] = defaultdict(dict)
    by_node: dict[str, dict[str, _Gpu]] = defaultdict(dict)
    by_ns: dict[str, dict[str, _Gpu]] = defaultdict(dict)
    dropped = 0
    for samples, is_util in ((util, True), (memory, False)):
        for s in samples:
            try:
                value = float(s.value[1]) * (scale if is_util else 1.0)
            except ValueError:
                dropped += 1
                continue
            if value != value or value < 0 or value > (100.0 if is_util else _MAX_MIB):
                dropped += 1
                continue
            node = _node(s.metric)
            dev = _device(s.metric, node)
            ns, pod = _target(s.metric)
            groups = [by_node[node]] if node else []
            if pod:
                groups += [by_pod[f"{ns or ''}/{pod}"], by_ns[ns or ""]]
            for group in groups:
                gpu = group.setdefault(dev, _Gpu())
                (gpu.util if is_util else gpu.memory).append(value)
    metrics = GpuMetrics(
        source=source,
        window=window,
        queried_at=queried_at,
        utilization_metric=metric,
        by_pod={k: _usage(v.values()) for k, v in sorted(by_pod.items())},
        by_node={k: _usage(v.values()) for k, v in sorted(by_node.items())},
        by_namespace={k: _usage(v.values()) for k, v in sorted(by_ns.items())},
    )
    return metrics, dropped


def fetch_gpu_metrics(
    query: PrometheusQuery, *, now: datetime | None = None, client: PrometheusClient | None = None
) -> tuple[GpuMetrics, list[Diagnostic]]:
    """Query Prometheus; problems come back as `missing` plus a diagnostic, never raised."""
    at = now or datetime.now(UTC)
    stamp = at.strftime("%Y-%m-%dT%H:%M:%SZ")
    prom = client or PrometheusClient(query)
    diags: list[Diagnostic] = []
    w = query.window

    def missing(why: str, level: Level = Level.WARNING) -> tuple[GpuMetrics, list[Diagnostic]]:
        diags.append(
            Diagnostic(
                level=level,
                code=DiagnosticCode.GPU_METRICS_UNAVAILABLE,
                message=f"GPU metrics not visible: {why}",
                path=query.url,
            )
        )
        return GpuMetrics(source=query.url, window=w, queried_at=stamp, missing=why), diags

    try:
        metric, scale = UTIL_METRIC, 1.0
        util = prom.instant(f"avg_over_time({UTIL_METRIC}[{w}])", at)
        if not util:
            metric, scale = PROFILING_METRIC, 100.0
            util = prom.instant(f"avg_over_time({PROFILING_METRIC}[{w}])", at)
        memory = prom.instant(f"avg_over_time({MEMORY_METRIC}[{w}])", at)
    except PrometheusError as exc:
        return missing(str(exc), Level.ERROR)
    finally:
        if client is None:
            prom.close()
    if not util:
        return missing(
            f"no {UTIL_METRIC} (or {PROFILING_METRIC}) series in Prometheus at "
            f"{query.url} over the last {w}: is dcgm-exporter scraped?"
        )
    metrics, dropped = aggregate(
        util, memory, source=query.url, window=w, queried_at=stamp, metric=metric, scale=scale
    )
    if dropped:
        diags.append(
            Diagnostic(
                level=Level.INFO,
                code=DiagnosticCode.GPU_METRICS_VALUES_IGNORED,
                path=query.url,
                message=f"{dropped} DCGM series with blank or out-of-range values ignored",
            )
        )
    if not metrics.by_pod:
        diags.append(
            Diagnostic(
                level=Level.WARNING,
                code=DiagnosticCode.GPU_METRICS_WITHOUT_PODS,
                path=query.url,
                message="DCGM series carry no pod labels: per-pod GPU use is unknown "
                "(dcgm-exporter maps GPUs to pods through the kubelet pod-resources "
                "socket); only whole idle nodes can be attributed",
            )
        )
    return metrics, diags


def attach(snapshots: Iterable[Snapshot], metrics: GpuMetrics) -> list[Snapshot]:
    """Snapshots carrying the metrics (one Prometheus can serve several clusters: each keeps
    the series of its own pods and nodes). A cluster with GPU nodes none of whose nodes or pods
    has a series gets the metrics as missing: a Prometheus of another cluster proves nothing."""
    out = []
    for snap in snapshots:
        nodes = snap.nodes_by_name
        pods = {f"{p.namespace or ''}/{p.name}" for p in snap.pods}
        own = metrics
        if metrics.missing is None and (nodes or pods):
            own = msgspec.structs.replace(
                metrics,
                by_pod={k: v for k, v in metrics.by_pod.items() if k in pods},
                by_node={k: v for k, v in metrics.by_node.items() if k in nodes},
            )
            if not own.by_pod and not own.by_node and snap.gpu_nodes:
                own = msgspec.structs.replace(
                    own,
                    missing=f"Prometheus at {metrics.source} has DCGM series, but none for "
                    f"the GPU nodes or pods of cluster {snap.cluster.name}: is it this "
                    "cluster's Prometheus?",
                )
        out.append(snap.with_gpu_metrics(own))
    return out


__all__ = [
    "PrometheusClient",
    "PrometheusError",
    "PrometheusQuery",
    "aggregate",
    "attach",
    "fetch_gpu_metrics",
]
