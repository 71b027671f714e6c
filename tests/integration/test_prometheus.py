"""GPU utilisation from a real Prometheus (tests/services/start.sh) scraping dcgm-exporter text,
and the utilisation checks end to end."""

from __future__ import annotations

import json
import ssl
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest

from plumbob import engine
from plumbob.checks.registry import Registry
from plumbob.config import Config
from plumbob.model.metrics import GPU_METRICS
from plumbob.model.snapshot import ClusterInfo, Snapshot
from plumbob.sources.prometheus import PrometheusQuery, attach, fetch_gpu_metrics
from plumbob.sources.snapshot_file import write_snapshot
from tests.conftest import REAL, decode, service_url
from tests.integration.fake_apiserver import Pki, make_pki
from tests.services import dcgm_exposition as dcgm

ROOT = Path(__file__).resolve().parents[2]
CHECKS = ["gpu-allocated-idle", "gpu-low-utilization"]
REAL_SAMPLE = REAL / "metrics" / "nvidia-aicr-eks-h100-dcgm-exporter-sample.prom"


@pytest.fixture(scope="module")
def prometheus() -> str:
    return service_url("prometheus")


def _node(name: str, gpus: int = 8) -> dict[str, Any]:
    res = {"cpu": "192", "memory": "2048Gi", "nvidia.com/gpu": str(gpus)}
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": name, "labels": {"nvidia.com/gpu.product": "NVIDIA-H100-80GB-HBM3"}},
        "spec": {"taints": [{"key": "nvidia.com/gpu", "effect": "NoSchedule"}]},
        "status": {"capacity": res, "allocatable": res},
    }


def _pod(
    ns: str, name: str, node: str, gpus: int, owner: tuple[str, str] | None = None
) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "namespace": ns, "uid": f"uid-{name}"}
    if owner:
        meta["ownerReferences"] = [
            {"apiVersion": "apps/v1", "kind": owner[0], "name": owner[1], "uid": f"uid-{owner[1]}"}
        ]
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": meta,
        "spec": {
            "nodeName": node,
            "containers": [
                {
                    "name": "main",
                    "image": "vllm/vllm-openai:v0.6.3",
                    "resources": {"limits": {"nvidia.com/gpu": str(gpus)}},
                }
            ],
        },
        "status": {"phase": "Running"},
    }


def cluster_snapshot() -> Snapshot:
    """The cluster the exposition text describes: gpu-node-1 (real sample), gpu-node-2."""
    objects = [
        _node("gpu-node-1"),
        _node("gpu-node-2"),
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "llm-idle", "namespace": "serving", "uid": "uid-llm-idle"},
        },
        {
            "apiVersion": "apps/v1",
            "kind": "ReplicaSet",
            "metadata": {
                "name": "llm-idle-7d9f",
                "namespace": "serving",
                "uid": "uid-llm-idle-7d9f",
                "ownerReferences": [
                    {
                        "apiVersion": "apps/v1",
                        "kind": "Deployment",
                        "name": "llm-idle",
                        "uid": "uid-llm-idle",
                    }
                ],
            },
        },
        _pod("serving", "llm-idle-7d9f-x2", "gpu-node-2", 1, ("ReplicaSet", "llm-idle-7d9f")),
        _pod("research", "notebook-abc", "gpu-node-2", 1),
        _pod("ml-train", "trainer-0", "gpu-node-2", 2),
        _pod("dynamo-workload", "vllm-agg-0-vllmdecodeworker-s65j5", "gpu-node-1", 1),
    ]
    return Snapshot(cluster=ClusterInfo(name="gpu-cluster"), objects=[decode(o) for o in objects])


def _subjects(snap: Snapshot, check: str) -> list[str]:
    report = engine.run([snap], Registry.discover(), Config(only=CHECKS))
    return sorted(
        f"{f.subject.kind}/{f.subject.namespace}/{f.subject.name}"
        for f in report.findings
        if f.check == check
    )


def test_averages_per_pod_node_and_namespace(prometheus: str) -> None:
    metrics, diags = fetch_gpu_metrics(PrometheusQuery(url=prometheus, window="1h"))
    assert metrics.missing is None
    for ns, pod, _, fb, _ in dcgm.GPUS.values():
        if pod:
            usage = metrics.by_pod[f"{ns}/{pod}"]
            gpus = [g for g in dcgm.GPUS.values() if g[1] == pod]
            assert usage.gpus == len(gpus)
            assert usage.util_percent == pytest.approx(sum(g[2] for g in gpus) / len(gpus))
            assert usage.memory_used_mib == pytest.approx(fb)
    assert metrics.by_node[dcgm.NODE].gpus == len(dcgm.GPUS)
    assert metrics.by_node[dcgm.NODE].max_util_percent == pytest.approx(95.0)
    assert metrics.by_namespace["research"].util_percent == pytest.approx(4.0)  # exported_*
    assert "gpu-operator/nvidia-dcgm-exporter-abcde" not in metrics.by_pod
    assert dcgm.SENTINEL_NODE not in metrics.by_node  # DCGM blank value dropped
    assert any("blank or out-of-range" in d.message for d in diags)
    if REAL_SAMPLE.is_file():
        assert metrics.by_pod["dynamo-workload/vllm-agg-0-vllmdecodeworker-s65j5"].gpus == 1
        assert metrics.by_node["gpu-node-1"].gpus == 8


def test_findings_from_live_metrics(prometheus: str) -> None:
    metrics, _ = fetch_gpu_metrics(PrometheusQuery(url=prometheus, window="1h"))
    (snap,) = attach([cluster_snapshot()], metrics)
    idle = ["Deployment/serving/llm-idle"]
    if REAL_SAMPLE.is_file():
        idle.append("Pod/dynamo-workload/vllm-agg-0-vllmdecodeworker-s65j5")
    assert _subjects(snap, "gpu-allocated-idle") == sorted(idle)
    assert _subjects(snap, "gpu-low-utilization") == ["Pod/research/notebook-abc"]


def test_threshold_option(prometheus: str) -> None:
    metrics, _ = fetch_gpu_metrics(PrometheusQuery(url=prometheus, window="1h"))
    (snap,) = attach([cluster_snapshot()], metrics)
    cfg = Config(only=CHECKS, options={"gpu-low-utilization": {"threshold-percent": 3}})
    report = engine.run([snap], Registry.discover(), cfg)
    assert not [f for f in report.findings if f.check == "gpu-low-utilization"]


def test_no_series_in_window_is_not_visible(prometheus: str) -> None:
    long_ago = datetime(2001, 1, 1, tzinfo=UTC)
    metrics, diags = fetch_gpu_metrics(PrometheusQuery(url=prometheus), now=long_ago)
    assert metrics.missing and "no DCGM_FI_DEV_GPU_UTIL" in metrics.missing
    (snap,) = attach([cluster_snapshot()], metrics)
    report = engine.run([snap], Registry.discover(), Config(only=CHECKS))
    assert not report.findings
    assert {r.status for r in report.checks} == {"not-visible"}
    assert all(r.reason and r.reason.startswith(GPU_METRICS) for r in report.checks)
    assert diags


def test_another_clusters_prometheus_is_not_visible(prometheus: str) -> None:
    metrics, _ = fetch_gpu_metrics(PrometheusQuery(url=prometheus, window="1h"))
    other = Snapshot(
        cluster=ClusterInfo(name="elsewhere"),
        objects=[decode(_node("gpu-node-9")), decode(_pod("ml", "job-0", "gpu-node-9", 1))],
    )
    (snap,) = attach([other], metrics)
    assert snap.gpu_metrics is not None and snap.gpu_metrics.missing
    assert "none for the GPU nodes or pods of cluster elsewhere" in snap.gpu_metrics.missing
    report = engine.run([snap], Registry.discover(), Config(only=CHECKS))
    assert {r.status for r in report.checks} == {"not-visible"}


def test_without_prometheus_the_checks_are_not_visible() -> None:
    report = engine.run([cluster_snapshot()], Registry.discover(), Config(only=CHECKS))
    assert [(r.check, r.status) for r in report.checks] == [
        ("gpu-allocated-idle", "not-visible"),
        ("gpu-low-utilization", "not-visible"),
    ]
    assert "--prometheus" in (report.checks[0].reason or "")


def test_unreachable_prometheus() -> None:
    metrics, diags = fetch_gpu_metrics(PrometheusQuery(url="http://127.0.0.1:9", timeout=2))
    assert metrics.missing and "cannot reach Prometheus at http://127.0.0.1:9" in metrics.missing
    assert diags[0].level == "error"


class _Recorder(BaseHTTPRequestHandler):
    seen: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        self.seen.append(self.headers.get("Authorization", ""))
        body = json.dumps(
            {"status": "success", "data": {"resultType": "vector", "result": []}}
        ).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def recorder() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_bearer_token_is_sent(recorder: str) -> None:
    _Recorder.seen.clear()
    metrics, _ = fetch_gpu_metrics(PrometheusQuery(url=recorder, token="s3cret"))
    assert _Recorder.seen and set(_Recorder.seen) == {"Bearer s3cret"}
    assert metrics.missing  # an empty answer is "not visible", never a pass


@pytest.fixture
def tls_recorder(tmp_path: Path) -> Iterator[tuple[str, Pki]]:
    """The recorder over HTTPS, its certificate signed by a CA of its own."""
    pki = make_pki(tmp_path / "pki")
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(pki.server_cert, pki.server_key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"https://127.0.0.1:{server.server_address[1]}", pki
    server.shutdown()


def test_a_private_ca_is_trusted_only_when_given(tls_recorder: tuple[str, Pki]) -> None:
    url, pki = tls_recorder
    metrics, diags = fetch_gpu_metrics(PrometheusQuery(url=url, timeout=5))
    assert metrics.missing and "CERTIFICATE_VERIFY_FAILED" in metrics.missing
    assert diags[0].level == "error"
    metrics, _ = fetch_gpu_metrics(PrometheusQuery(url=url, timeout=5, ca_file=str(pki.other_ca)))
    assert metrics.missing and "CERTIFICATE_VERIFY_FAILED" in metrics.missing
    _Recorder.seen.clear()
    metrics, diags = fetch_gpu_metrics(
        PrometheusQuery(url=url, token="s3cret", timeout=5, ca_file=str(pki.ca))
    )
    assert set(_Recorder.seen) == {"Bearer s3cret"} and not [d for d in diags if d.level == "error"]


def test_cli_prometheus_ca(tls_recorder: tuple[str, Pki], tmp_path: Path) -> None:
    url, pki = tls_recorder
    snap_file = tmp_path / "cluster.json"
    write_snapshot(cluster_snapshot(), snap_file)
    out = tmp_path / "report.json"
    args = ["scan", str(snap_file), "--prometheus", url, "--format", "json", "-o", str(out)]
    refused = _plumbob(*args)
    assert refused.returncode == 0, refused.stderr  # the scan stands; the metrics are missing
    assert "CERTIFICATE_VERIFY_FAILED" in refused.stderr and "Traceback" not in refused.stderr
    assert "--prometheus-ca" in refused.stderr  # the way out, named
    trusted = _plumbob(*args, "--prometheus-ca", str(pki.ca))
    assert trusted.returncode == 0 and "CERTIFICATE_VERIFY_FAILED" not in trusted.stderr
    missing = _plumbob(*args, "--prometheus-ca", str(tmp_path / "nowhere.pem"))
    assert missing.returncode == 2 and "--prometheus-ca" in missing.stderr
    assert "Traceback" not in missing.stderr


def test_window_must_be_a_duration() -> None:
    with pytest.raises(ValueError, match="--window"):
        PrometheusQuery(url="http://x", window="yesterday")


def _plumbob(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "plumbob", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={"CI": "1", "PATH": "/usr/bin:/bin", "COLUMNS": "120"},
    )


def test_cli_scan_with_prometheus(prometheus: str, tmp_path: Path) -> None:
    snap_file = tmp_path / "cluster.json.gz"
    write_snapshot(cluster_snapshot(), snap_file)
    out = tmp_path / "report.json"
    result = _plumbob(
        "scan",
        str(snap_file),
        "--prometheus",
        prometheus,
        "--window",
        "1h",
        "--format",
        "json",
        "-o",
        str(out),
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(out.read_text())
    idle = [f for f in report["findings"] if f["check"] == "gpu-allocated-idle"]
    llm = next(f for f in idle if f["subject"]["name"] == "llm-idle")
    assert llm["evidence"]["wasted_usd_per_month"] > 1000
    assert "USD" in llm["message"] and "1h" in llm["message"]

    result = _plumbob("scan", str(snap_file), "--prometheus", prometheus, "--window", "soon")
    assert result.returncode == 2 and "--window" in result.stderr


def test_cli_snapshot_file_keeps_metrics(prometheus: str, tmp_path: Path) -> None:
    """Metrics attached to a snapshot survive the file, so an offline scan still sees them."""
    metrics, _ = fetch_gpu_metrics(PrometheusQuery(url=prometheus, window="1h"))
    (snap,) = attach([cluster_snapshot()], metrics)
    path = tmp_path / "with-metrics.json"
    write_snapshot(snap, path)
    out = tmp_path / "report.json"
    result = _plumbob("scan", str(path), "--format", "json", "-o", str(out))
    assert result.returncode == 0, result.stderr
    checks = {f["check"] for f in json.loads(out.read_text())["findings"]}
    assert {"gpu-allocated-idle", "gpu-low-utilization"} <= checks
