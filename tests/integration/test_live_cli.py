"""`plumbob snapshot` and `plumbob scan --context` against the local HTTPS API server, run as a
user runs them (a subprocess)."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

from tests.integration import test_live
from tests.integration.fake_apiserver import FakeApiServer, Faults, Pki, Store, kubeconfig
from tests.integration.test_live import SECRET_VALUE, TOKEN_VALUE

# the local API server and its kubeconfig, shared with test_live.py
pki, store, api, kc = test_live.pki, test_live.store, test_live.api, test_live.kc


def plumbob(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "plumbob", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={"CI": "1", "PATH": "/usr/bin:/bin", "COLUMNS": "120"},
    )


def test_snapshot_then_offline_scan(kc: Path, tmp_path: Path) -> None:
    out = tmp_path / "prod.json.gz"
    result = plumbob("snapshot", "--kubeconfig", str(kc), "--context", "token", "-o", str(out))
    assert result.returncode == 0, result.stderr
    assert f"{out}: token," in result.stderr
    doc = json.loads(gzip.decompress(out.read_bytes()))
    assert doc["apiVersion"] == "plumbob.dev/v1" and doc["kind"] == "Snapshot"
    assert doc["cluster"]["context"] == "token"
    assert "kueue.x-k8s.io/v1beta1" in doc["discovery"]["groupVersions"]
    text = gzip.decompress(out.read_bytes())
    assert TOKEN_VALUE.encode() not in text and SECRET_VALUE.encode() not in text

    report_file = tmp_path / "report.json"
    result = plumbob("scan", str(out), "--format", "json", "-o", str(report_file))
    assert result.returncode == 0, result.stderr
    report = json.loads(report_file.read_text())
    (cluster,) = report["clusters"]
    assert cluster["cluster"] == "token"
    assert cluster["kubernetesVersion"] == "v1.31.4-eks-2d5f260"
    assert cluster["objects"] == len(doc["objects"])
    assert report["findings"]
    assert TOKEN_VALUE not in report_file.read_text()


def test_snapshot_of_several_contexts_writes_a_directory(kc: Path, tmp_path: Path) -> None:
    out = tmp_path / "snaps"
    result = plumbob(
        "snapshot",
        "--kubeconfig",
        str(kc),
        "--context",
        "token",
        "--context",
        "cert",
        "--context",
        "down",
        "-o",
        str(out),
        "-q",
    )
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in out.iterdir()) == ["cert.json.gz", "token.json.gz"]
    assert "context down: cannot reach" in result.stderr
    assert "Traceback" not in result.stderr


def test_scan_several_contexts_one_down(kc: Path, tmp_path: Path) -> None:
    report_file = tmp_path / "report.json"
    result = plumbob(
        "scan",
        "--kubeconfig",
        str(kc),
        "--context",
        "token",
        "--context",
        "expired",
        "--format",
        "json",
        "-o",
        str(report_file),
    )
    assert result.returncode == 0, result.stderr
    lines = [ln for ln in result.stderr.splitlines() if "context expired" in ln]
    assert len(lines) == 1 and "credentials rejected" in lines[0]
    report = json.loads(report_file.read_text())
    assert [c["cluster"] for c in report["clusters"]] == ["token"]
    (failure,) = [d for d in report["diagnostics"] if d.get("cluster") == "expired"]
    assert failure["level"] == "error" and "credentials rejected" in failure["message"]


def test_scan_only_unreachable_context_is_a_usage_error(kc: Path) -> None:
    result = plumbob("scan", "--kubeconfig", str(kc), "--context", "down")
    assert result.returncode == 2
    assert "context down: cannot reach" in result.stderr and "Traceback" not in result.stderr


def test_forbidden_kind_shows_as_not_visible_in_report(
    store: Store, pki: Pki, tmp_path: Path
) -> None:
    with FakeApiServer(store, pki, faults=Faults(forbidden={"nodes"})) as server:
        kcfg = kubeconfig(
            tmp_path / "kc",
            {"limited": {"server": server.url, "ca": pki.ca, "user": {"token": "good-token"}}},
        )
        report_file = tmp_path / "report.json"
        result = plumbob(
            "scan", "--kubeconfig", str(kcfg), "--format", "json", "-o", str(report_file)
        )
    assert result.returncode == 0, result.stderr
    report = json.loads(report_file.read_text())
    assert report["clusters"][0]["notVisible"]["Node"].startswith("403 Forbidden")
    runs = {r["check"]: r for r in report["checks"]}
    assert runs["gpu-node-untainted"]["status"] == "not-visible"
    assert "Node: 403 Forbidden" in runs["gpu-node-untainted"]["reason"]


def _on_a_terminal(*args: str) -> tuple[int, str]:
    """Run plumbob with stderr on a pseudo-terminal (as a user at a shell): exit code, stderr."""
    import os
    import pty

    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "plumbob", *args],
        stdout=subprocess.DEVNULL,
        stderr=follower,
        env={"PATH": "/usr/bin:/bin", "TERM": "xterm", "COLUMNS": "100"},
    )
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the follower side closed
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    return proc.wait(timeout=120), b"".join(chunks).decode(errors="replace")


def test_progress_on_a_terminal_only(kc: Path, tmp_path: Path) -> None:
    out = tmp_path / "s.json.gz"
    code, text = _on_a_terminal("snapshot", "--kubeconfig", str(kc), "-o", str(out))
    assert code == 0, text
    assert "reading cluster" in text and "\x1b[" in text  # a live rich progress display

    code, text = _on_a_terminal("snapshot", "--kubeconfig", str(kc), "-o", str(out), "-q")
    assert code == 0, text
    assert "reading cluster" not in text and text.strip() == ""

    result = plumbob("snapshot", "--kubeconfig", str(kc), "-o", str(out))  # CI=1, no terminal
    assert result.returncode == 0 and "reading cluster" not in result.stderr


def test_request_timeout_applies_to_scan(store: Store, pki: Pki, tmp_path: Path) -> None:
    with FakeApiServer(store, pki, faults=Faults(slow={"nodes": 1}, slow_seconds=5)) as server:
        kcfg = kubeconfig(
            tmp_path / "kc",
            {"slow": {"server": server.url, "ca": pki.ca, "user": {"token": "good-token"}}},
        )
        args = ("scan", "--kubeconfig", str(kcfg), "--format", "json", "-o", "/dev/null")
        result = plumbob(*args, "--request-timeout", "0.5")
        node_lists = [p for p, _, _ in server.log if p.startswith("/api/v1/nodes?")]
    assert result.returncode == 0, result.stderr
    assert len(node_lists) == 2  # the slow answer was given up after 0.5 s and asked again
