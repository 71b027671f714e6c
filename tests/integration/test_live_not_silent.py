"""The live path tried as a new user would: a kubeconfig pointing at something that is not an
API server, a server that accepts connections and never answers, `snapshot -o DIR/`,
`conformance` on a live context, and `scan` with nothing named. Each ends in a clear result,
never an empty cluster reported clean."""

from __future__ import annotations

import gzip
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from plumbob.sources.kube_client import status_message, summarise
from tests.integration import test_live
from tests.integration.fake_apiserver import FakeApiServer, Faults, Pki, Store, kubeconfig

pki, store, api, kc = test_live.pki, test_live.store, test_live.api, test_live.kc

HTML = b"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Sign in - Corporate Portal</title>
<style>body { font-family: sans-serif; }</style></head>
<body><h1>Welcome</h1><p>Please sign in to continue.</p></body></html>
"""


_PYTHONPATH = {k: v for k, v in os.environ.items() if k == "PYTHONPATH"}
"""Kept, so the command runs the sources under test when they are not the installed ones."""


def plumbob(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "plumbob", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={"CI": "1", "PATH": "/usr/bin:/bin", "COLUMNS": "120", **_PYTHONPATH, **(env or {})},
    )


class _Web(BaseHTTPRequestHandler):
    """A web server that is not an API server: `status` and `body` for every path."""

    status = 200
    body = HTML

    def do_GET(self) -> None:
        self.send_response(self.status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *_: object) -> None:
        pass


@pytest.fixture
def web() -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Web)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def _kc_for(url: str, path: Path, name: str = "portal") -> Path:
    return kubeconfig(path, {name: {"server": url, "user": {"token": "t"}}})


def test_an_html_page_is_not_an_api_server(web: ThreadingHTTPServer, tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{web.server_address[1]}"
    result = plumbob("scan", "--kubeconfig", str(_kc_for(url, tmp_path / "kc")), "-f", "json")
    assert result.returncode == 2, result.stdout
    assert result.stdout == ""  # no report of an empty cluster
    (line,) = [ln for ln in result.stderr.splitlines() if ln.startswith("error")]
    assert f"context portal: not a Kubernetes API server: {url}" in line
    assert "Sign in - Corporate Portal" in line  # the page, named by its title
    assert "<" not in line and "Traceback" not in result.stderr


def test_a_404_on_version_is_not_an_api_server(
    web: ThreadingHTTPServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_Web, "status", 404)
    monkeypatch.setattr(_Web, "body", b"<html><body><h1>404 Not Found</h1> nginx</body></html>")
    url = f"http://127.0.0.1:{web.server_address[1]}"
    result = plumbob("snapshot", "--kubeconfig", str(_kc_for(url, tmp_path / "kc")), "-o",
                     str(tmp_path / "s.json"))  # fmt: skip
    assert result.returncode == 2
    assert not (tmp_path / "s.json").exists()
    assert "not a Kubernetes API server" in result.stderr
    assert "answered /version with 404 Not Found: HTML page: 404 Not Found nginx" in result.stderr


def test_a_proxy_error_page_is_retried_then_summarised(
    web: ThreadingHTTPServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A 502 page (a proxy in front of an API server that is down) is retried as a transient
    error, each retry and the end said in one line, the page by its title."""
    monkeypatch.setattr(_Web, "status", 502)
    monkeypatch.setattr(_Web, "body", b"<html><head><title>502 Bad Gateway</title></head></html>")
    url = f"http://127.0.0.1:{web.server_address[1]}"
    result = plumbob("scan", "--kubeconfig", str(_kc_for(url, tmp_path / "kc")), "--timeout", "3")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert lines[0] == (
        "retry 1/5 of GET /version: 502 Bad Gateway: HTML page: 502 Bad Gateway (context portal)"
    )
    assert lines[-1].startswith("error: context portal: cannot reach")
    assert lines[-1].endswith("(last try: 502 Bad Gateway: HTML page: 502 Bad Gateway); the "
                              "limit of 3 s is --timeout")  # fmt: skip
    assert "<" not in result.stderr


def test_error_bodies_are_one_line() -> None:
    assert summarise(HTML) == "HTML page: Sign in - Corporate Portal"
    assert summarise(b"<html><body><p>a\n\n b</p></body></html>") == "HTML page: a b"
    assert summarise(b"x" * 500).endswith("...") and len(summarise(b"x" * 500)) == 160
    assert summarise(b"bad\x1b[31m red") == "bad\\x1b[31m red"
    status = b'{"kind":"Status","apiVersion":"v1","message":"pods is forbidden","code":403}'
    assert status_message(403, status) == "403 Forbidden: pods is forbidden"
    assert status_message(502, HTML) == "502 Bad Gateway: HTML page: Sign in - Corporate Portal"


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A server that accepts connections and never answers."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    stop.set()
    thread.join()
    for conn in held:
        conn.close()
    listener.close()


def test_a_server_that_never_answers_is_given_up_within_the_timeout(
    silent_port: int, tmp_path: Path
) -> None:
    kcfg = _kc_for(f"http://127.0.0.1:{silent_port}", tmp_path / "kc", "stalled")
    started = time.monotonic()
    result = plumbob(
        "scan", "--kubeconfig", str(kcfg), "--timeout", "6", "--request-timeout", "1.5"
    )
    took = time.monotonic() - started
    assert result.returncode == 2
    assert took < 6 + 10, took  # the limit, plus start-up of the process
    retries = [ln for ln in result.stderr.splitlines() if ln.startswith("retry ")]
    assert retries and "of GET /version: timed out" in retries[0]
    assert "(context stalled)" in retries[0]
    assert "context stalled: cannot reach" in result.stderr
    assert "time limit for the capture passed" in result.stderr
    assert "the limit of 6 s is --timeout" in result.stderr


def test_quiet_hides_the_retries(silent_port: int, tmp_path: Path) -> None:
    kcfg = _kc_for(f"http://127.0.0.1:{silent_port}", tmp_path / "kc", "stalled")
    result = plumbob("scan", "--kubeconfig", str(kcfg), "--timeout", "2", "-q")
    assert result.returncode == 2
    assert "retry" not in result.stderr and "context stalled" in result.stderr


# ---------------------------------------------------------------------- snapshot -o DIR


def _names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_snapshot_to_a_folder_named_with_a_slash(kc: Path, tmp_path: Path) -> None:
    out = tmp_path / "snaps"
    result = plumbob("snapshot", "--kubeconfig", str(kc), "-o", f"{out}/", "-q")
    assert result.returncode == 0, result.stderr
    assert _names(out) == ["token.json.gz"]  # the current context, in the folder
    doc = json.loads(gzip.decompress((out / "token.json.gz").read_bytes()))
    assert doc["cluster"]["context"] == "token"


def test_snapshot_to_an_existing_folder(kc: Path, tmp_path: Path) -> None:
    out = tmp_path / "existing"
    out.mkdir()
    result = plumbob("snapshot", "--kubeconfig", str(kc), "--context", "cert", "-o", str(out))
    assert result.returncode == 0, result.stderr
    assert _names(out) == ["cert.json.gz"]


def test_snapshot_of_several_contexts_one_readable_is_still_a_folder(
    kc: Path, tmp_path: Path
) -> None:
    out = tmp_path / "two"
    args = ("--context", "token", "--context", "down", "-o", str(out), "-q")
    result = plumbob("snapshot", "--kubeconfig", str(kc), *args)
    assert result.returncode == 0, result.stderr
    assert _names(out) == ["token.json.gz"]
    assert "context down: cannot reach" in result.stderr


def test_snapshot_folder_over_a_file_is_refused(kc: Path, tmp_path: Path) -> None:
    out = tmp_path / "file"
    out.write_text("x")
    args = ("--context", "token", "--context", "cert", "-o", str(out), "-q")
    result = plumbob("snapshot", "--kubeconfig", str(kc), *args)
    assert result.returncode == 2
    assert "is a file" in result.stderr and out.read_text() == "x"


# ---------------------------------------------------------------------- conformance, bare scan


def test_conformance_on_a_live_context(kc: Path) -> None:
    result = plumbob("conformance", "--kubeconfig", str(kc), "--context", "cert", "-f", "json")
    assert result.returncode == 0, result.stderr
    (cluster,) = json.loads(result.stdout)
    assert cluster["cluster"] == "cert"
    musts = {r["status"] for r in cluster["requirements"] if r["level"] == "MUST"}
    assert musts == {"ready"}
    gate = plumbob("conformance", "--kubeconfig", str(kc), "--fail-on-not-ready", "-q")
    assert gate.returncode == 0, gate.stderr


def test_conformance_gate_on_a_must_not_ready() -> None:
    """The demo fleet does not serve the Gateway API: ai_inference (MUST) is not ready."""
    assert plumbob("conformance", "--demo", "-q").returncode == 0  # a pre-check by default
    gate = plumbob("conformance", "--demo", "-q", "--fail-on-not-ready")
    assert gate.returncode == 1, gate.stderr


def test_conformance_context_down_is_a_usage_error(kc: Path) -> None:
    result = plumbob("conformance", "--kubeconfig", str(kc), "--context", "down")
    assert result.returncode == 2 and "context down: cannot reach" in result.stderr


def test_bare_scan_reads_the_current_context_and_says_so(kc: Path, tmp_path: Path) -> None:
    report = tmp_path / "r.json"
    result = plumbob("scan", "-f", "json", "-o", str(report), env={"KUBECONFIG": str(kc)})
    assert result.returncode == 0, result.stderr
    assert f"reading context token, the current context of {kc}" in result.stderr
    assert json.loads(report.read_text())["clusters"][0]["cluster"] == "token"


def test_bare_scan_without_a_kubeconfig_says_what_to_give(tmp_path: Path) -> None:
    result = plumbob("scan", env={"HOME": str(tmp_path), "KUBECONFIG": str(tmp_path / "none")})
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("error: nothing to scan: give PATH..., --context NAME or --demo")
    assert "Traceback" not in result.stderr


def test_a_list_that_outlasts_the_timeout_is_not_visible(
    store: Store, pki: Pki, tmp_path: Path
) -> None:
    """Discovery answers, the pod list never does in time: pods are not visible with the
    reason, the other kinds are read, and the scan ends within the limit."""
    faults = Faults(slow={"pods": 1000}, slow_seconds=30)
    with FakeApiServer(store, pki, faults=faults) as server:
        kcfg = kubeconfig(
            tmp_path / "kc",
            {"slowpods": {"server": server.url, "ca": pki.ca, "user": {"token": "good-token"}}},
        )
        report = tmp_path / "r.json"
        started = time.monotonic()
        result = plumbob(
            "scan", "--kubeconfig", str(kcfg), "--timeout", "5", "--request-timeout", "1",
            "-f", "json", "-o", str(report),
        )  # fmt: skip
        took = time.monotonic() - started
    assert result.returncode == 0, result.stderr
    assert took < 5 + 10, took
    (cluster,) = json.loads(report.read_text())["clusters"]
    assert set(cluster["notVisible"]) == {"Pod"}
    assert "time limit for the capture passed" in cluster["notVisible"]["Pod"]
    assert cluster["nodes"] > 0
    assert "retry 1/5 of GET /api/v1/pods" in result.stderr


def test_retries_show_in_the_progress_line_on_a_terminal(silent_port: int, tmp_path: Path) -> None:
    import pty

    kcfg = _kc_for(f"http://127.0.0.1:{silent_port}", tmp_path / "kc", "stalled")
    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "plumbob", "scan", "--kubeconfig", str(kcfg), "--timeout", "4",
         "--request-timeout", "1"],
        stdout=subprocess.DEVNULL,
        stderr=follower,
        env={"PATH": "/usr/bin:/bin", "TERM": "xterm", "COLUMNS": "200", **_PYTHONPATH},
    )  # fmt: skip
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    assert proc.wait(timeout=60) == 2
    text = b"".join(chunks).decode(errors="replace")
    assert "reading cluster" in text and "retry 1/5 of GET /version" in text
    assert "context stalled: cannot reach" in text
