"""The hostile servers: the stand-in API server (tests/integration/fake_apiserver.py) with one
misbehaviour per case, and a stand-in Prometheus that misbehaves the same ways.

Each case serves two good GPU nodes (`good-a`, `good-b`, untainted: each is a finding by name)
beside the misbehaving kind, so a case is clean only when plumbob gives up on the bad part in
bounded time and still reports the rest. `serving(name, folder)` starts what a case needs and
yields the `Case` to run."""

from __future__ import annotations

import contextlib
import gzip
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from tests.hostile.corpus import (
    GOOD,
    SECRETS,
    Case,
    Outcome,
    Verify,
    deployment,
    goods,
    never_written,
    node,
    warned,
    yaml_doc,
)
from tests.integration.fake_apiserver import (
    FakeApiServer,
    Faults,
    Pki,
    Store,
    kubeconfig,
    leaf_cert,
    make_pki,
)

LIVE_ARGS = ("--timeout", "12", "--request-timeout", "2")
"""A capture limit short enough for the corpus; what is given up on says so."""


def _pod(name: str, uid: str | None = None) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": "ml", "uid": uid or f"uid-{name}"},
        "spec": {
            "nodeName": "good-a",
            "containers": [
                {
                    "name": "main",
                    "image": "nvcr.io/nvidia/pytorch:24.01-py3",
                    "resources": {"limits": {"nvidia.com/gpu": "1"}},
                }
            ],
        },
        "status": {"phase": "Running"},
    }


def _store(*extra: dict[str, Any]) -> Store:
    store = Store()
    store.add_all([*goods(), *(_pod(f"p{i}") for i in range(3)), *extra])
    return store


def _requested(expected: float) -> Verify:
    def verify(out: Outcome) -> str | None:
        assert out.report is not None
        got = sum(c.get("gpusRequested") or 0 for c in out.report["clusters"])
        return None if got == expected else f"{got} GPUs requested, expected {expected}"

    return verify


@dataclass(frozen=True)
class Live:
    """One misbehaving API server."""

    faults: Faults = field(default_factory=Faults)
    extra: tuple[dict[str, Any], ...] = ()
    cert: str | None = None
    """"expired" or "wrong-host": the server's certificate."""
    verify: tuple[Verify, ...] = ()
    good: frozenset[str] = frozenset(GOOD)
    command: str = "scan"
    env: dict[str, str] = field(default_factory=dict)


_ESC_NAME = "pod\x1b[2J\x1b]8;;http://e\x07x[/]\u009b"
_SECRET_ENV = {k: v for k, v in SECRETS.items() if k != "pem"} | {"PEM_BLOB": SECRETS["pem"]}

LIVE: dict[str, Live] = {
    "api-drip-body": Live(
        Faults(drip={"pods"}, drip_seconds=0.05), verify=(warned("Pod not visible"),)
    ),
    "api-stall-body": Live(Faults(stall={"pods"}), verify=(warned("Pod not visible"),)),
    "api-repeating-continue": Live(
        Faults(loop_continue={"pods"}), verify=(warned("continue token it had already given"),)
    ),
    "api-gzip-bomb": Live(
        Faults(gzip_bomb={"pods": 300 * 1024 * 1024}),
        verify=(warned("PLUMBOB_MAX_INPUT_MB"),),
        env={"PLUMBOB_MAX_INPUT_MB": "64"},
    ),
    "api-duplicate-uids": Live(
        Faults(duplicate={"pods", "nodes"}),
        verify=(_requested(3), warned("counted once")),
    ),
    "api-throttled-forever": Live(
        Faults(throttle={"pods": 10**6}), verify=(warned("Pod not visible"),)
    ),
    "api-errors-forever": Live(Faults(errors={"pods": 10**6}), verify=(warned("Pod not visible"),)),
    "api-connection-resets": Live(
        Faults(reset={"pods": 10**6}), verify=(warned("Pod not visible"),)
    ),
    "api-invalid-utf8-item": Live(
        Faults(
            raw_items={
                "pods": [json.dumps(_pod("bad-utf8")).encode().replace(b"bad-utf8", b"b\xff\xfe")]
            }
        ),
        verify=(_requested(3),),
    ),
    "api-lone-surrogate-item": Live(
        Faults(raw_items={"pods": [json.dumps(_pod("x")).replace('"x"', '"s\\ud800"').encode()]}),
        verify=(_requested(3),),
    ),
    "api-escape-names": Live(extra=(_pod(_ESC_NAME),)),
    "api-tls-expired": Live(cert="expired", good=frozenset(), verify=(warned("expired"),)),
    "api-tls-wrong-host": Live(cert="wrong-host", good=frozenset(), verify=(warned("host name"),)),
    "api-tls-unknown-ca": Live(cert="unknown-ca", good=frozenset(), verify=(warned("unknown CA"),)),
    "api-secret-in-snapshot": Live(
        extra=(deployment("trainer", _SECRET_ENV),),
        command="snapshot",
        good=frozenset(),
        verify=(
            *(never_written(v.splitlines()[1] if "\n" in v else v) for v in SECRETS.values()),
            lambda out: (
                None
                if out.written.get("snap.json", b"").count(b"<redacted>") >= len(_SECRET_ENV)
                else "the snapshot does not say each value was redacted"
            ),
        ),
    ),
}


# ---------------------------------------------------------------------- Prometheus


class _Prometheus(BaseHTTPRequestHandler):
    behaviour = "ok"
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _head(self, length: int, extra: dict[str, str] | None = None) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(length))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()

    def do_GET(self) -> None:
        body = json.dumps(
            {
                "status": "success",
                "data": {
                    "resultType": "vector",
                    "result": [
                        {
                            "metric": {
                                "Hostname": "good-a\x1b[2J[/]",
                                "gpu": "0\u009b",
                                "namespace": "ml\x1b]0;x\x07",
                                "pod": "p0",
                            },
                            "value": [time.time(), "55"],
                        }
                    ],
                },
            }
        ).encode()
        try:
            if self.behaviour == "drip":
                self._head(len(body))
                for i in range(len(body)):
                    self.wfile.write(body[i : i + 1])
                    self.wfile.flush()
                    time.sleep(0.05)
            elif self.behaviour == "stall":
                self._head(len(body))
                self.wfile.flush()
                time.sleep(3600)
            elif self.behaviour == "gzip-bomb":
                from tests.integration.fake_apiserver import gzip_bomb

                bomb = gzip_bomb("x", "y", 300 * 1024 * 1024)
                self._head(len(bomb), {"Content-Encoding": "gzip"})
                self.wfile.write(bomb)
            elif self.behaviour == "not-json":
                junk = b"\x1b[2J\x00\xff<html>" * 100
                self._head(len(junk))
                self.wfile.write(junk)
            elif self.behaviour == "huge":
                size = 80 * 1024 * 1024
                self._head(size)
                block = b" " * (1024 * 1024)
                for _ in range(size // len(block)):
                    self.wfile.write(block)
            else:
                packed = gzip.compress(body)
                self._head(len(packed), {"Content-Encoding": "gzip"})
                self.wfile.write(packed)
        except OSError:
            self.close_connection = True


PROMETHEUS = {
    "prom-drip-body": ("drip", {}),
    "prom-stall-body": ("stall", {}),
    "prom-gzip-bomb": ("gzip-bomb", {"PLUMBOB_MAX_INPUT_MB": "64"}),
    "prom-not-json": ("not-json", {}),
    "prom-huge-body": ("huge", {"PLUMBOB_MAX_INPUT_MB": "64"}),
    "prom-escape-labels": ("ok", {}),
}


@contextlib.contextmanager
def _prometheus(behaviour: str) -> Iterator[str]:
    handler = type("Handler", (_Prometheus,), {"behaviour": behaviour})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


# ---------------------------------------------------------------------- cases

NAMES = [*LIVE, *PROMETHEUS]


@contextlib.contextmanager
def serving(name: str, folder: Path, pki: Pki) -> Iterator[Case]:
    """Start what case `name` needs; yield the case to run against it."""
    if name in PROMETHEUS:
        behaviour, env = PROMETHEUS[name]
        good_file = folder / "good.yaml"
        good_file.write_text("\n---\n".join(yaml_doc(n) for n in [*goods(), node("good-c")]))
        with _prometheus(behaviour) as url:
            yield Case(
                name,
                "prometheus",
                (str(good_file), "--prometheus", url, "--request-timeout", "2"),
                frozenset(GOOD),
                env=env,
                timeout=60,
            )
        return
    live = LIVE[name]
    cert = None
    trusted = pki.ca
    if live.cert == "expired":
        cert = leaf_cert(pki, folder / "certs", expired=True)
    elif live.cert == "wrong-host":
        cert = leaf_cert(pki, folder / "certs", host="elsewhere.example")
    elif live.cert == "unknown-ca":
        trusted = pki.other_ca
    faults = replace(live.faults)
    with FakeApiServer(_store(*live.extra), pki, faults=faults, cert=cert) as server:
        kc = kubeconfig(
            folder / "kubeconfig",
            {"hostile": {"server": server.url, "ca": trusted, "user": {"token": "good-token"}}},
        )
        args: tuple[str, ...] = ("--kubeconfig", str(kc), "--context", "hostile", *LIVE_ARGS)
        keep: tuple[str, ...] = ()
        if live.command == "snapshot":
            args = ("-o", str(folder / "snap.json"), *args)
            keep = ("snap.json",)
        yield Case(
            name,
            "api-server",
            args,
            live.good,
            verify=live.verify,
            env=live.env,
            keep=keep,
            timeout=60,
            command=live.command,
            cwd=str(folder),
        )


def pki_for(folder: Path) -> Pki:
    return make_pki(folder)


__all__ = ["LIVE", "NAMES", "PROMETHEUS", "pki_for", "serving"]
