"""A local HTTPS server implementing the parts of the Kubernetes API plumbob reads.

/version, /api, /apis and per-group-version discovery, paginated lists (`limit`/`continue`) in
the server's own format (list items without apiVersion/kind for built-in kinds), metadata-only
lists (PartialObjectMetadataList), `metadata.name`/`metadata.namespace` field selectors, gzip
answers over 128 KiB, bearer-token and client-certificate authentication, and
injected faults per resource: 403, 404, 410 on a continue, 429, 500, slow responses and
connection resets. The CA, server and client certificates are generated when it starts.

Run standalone (the benchmark does) with:
    python -m tests.integration.fake_apiserver --demo-nodes 5000 --demo-pods 150000 --dir D
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import functools
import gzip
import json
import socket
import ssl
import sys
import threading
import time
import zlib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from plumbob.model.objects import BUILTIN_GROUPS

GZIP_THRESHOLD = 128 * 1024
"""kube-apiserver compresses answers above 128 KiB for clients that accept gzip, at level 1
(k8s.io/apiserver/pkg/endpoints/handlers/responsewriters/writers.go)."""

CORE_KINDS = {
    "Node",
    "Pod",
    "Namespace",
    "Service",
    "ResourceQuota",
    "LimitRange",
    "PersistentVolumeClaim",
    "PersistentVolume",
    "Secret",
    "ConfigMap",
    "ServiceAccount",
    "Endpoints",
    "ReplicationController",
    "Event",
}
_IRREGULAR = {"Endpoints": "endpoints"}
_CLUSTER_SCOPED = {
    "Node",
    "Namespace",
    "PersistentVolume",
    "StorageClass",
    "PriorityClass",
    "RuntimeClass",
    "ClusterPolicy",
    "CustomResourceDefinition",
    "DeviceClass",
    "ValidatingAdmissionPolicy",
    "ValidatingAdmissionPolicyBinding",
    "ValidatingWebhookConfiguration",
    "MutatingWebhookConfiguration",
    "APIService",
    "ClusterQueue",
    "ResourceFlavor",
    "NodePool",
    "ResourceSlice",
    "ClusterAutoscaler",
    "GatewayClass",
    "IngressClass",
}


def plural(kind: str) -> str:
    if kind in _IRREGULAR:
        return _IRREGULAR[kind]
    low = kind.lower()
    if low.endswith("y") and not low.endswith(("ay", "ey", "oy")):
        return low[:-1] + "ies"
    if low.endswith(("s", "x", "ch", "sh")):
        return low + "es"
    return low + "s"


# ------------------------------------------------------------------------- certificates


@dataclass(frozen=True)
class Pki:
    ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path
    other_ca: Path
    """A CA that signed nothing here: a kubeconfig trusting it must fail TLS."""
    ca_key: Path | None = None
    """The CA's key, to sign more server certificates (`leaf_cert`)."""


def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _write_key(key: ec.EllipticCurvePrivateKey, path: Path) -> None:
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )


def _ca(name: str) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = _key()
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                crl_sign=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return key, cert


def _leaf(
    ca_key: ec.EllipticCurvePrivateKey,
    ca_cert: x509.Certificate,
    cn: str,
    usage: x509.ObjectIdentifier,
    sans: list[x509.GeneralName] | None = None,
    org: str | None = None,
    expired: bool = False,
) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    import ipaddress

    key = _key()
    attrs = [x509.NameAttribute(NameOID.COMMON_NAME, cn)]
    if org:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, org))
    now = dt.datetime.now(dt.UTC) - (dt.timedelta(days=3) if expired else dt.timedelta())
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name(attrs))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
    )
    if sans is None:
        sans = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    return key, builder.sign(ca_key, hashes.SHA256())


def make_pki(folder: Path) -> Pki:
    folder.mkdir(parents=True, exist_ok=True)
    pem = serialization.Encoding.PEM
    ca_key, ca_cert = _ca("plumbob-test-ca")
    s_key, s_cert = _leaf(ca_key, ca_cert, "kube-apiserver", ExtendedKeyUsageOID.SERVER_AUTH)
    c_key, c_cert = _leaf(
        ca_key,
        ca_cert,
        "plumbob-reader",
        ExtendedKeyUsageOID.CLIENT_AUTH,
        sans=[],
        org="plumbob:readers",
    )
    _, other = _ca("some-other-ca")
    pki = Pki(
        ca=folder / "ca.crt",
        server_cert=folder / "server.crt",
        server_key=folder / "server.key",
        client_cert=folder / "client.crt",
        client_key=folder / "client.key",
        other_ca=folder / "other-ca.crt",
        ca_key=folder / "ca.key",
    )
    _write_key(ca_key, folder / "ca.key")
    pki.ca.write_bytes(ca_cert.public_bytes(pem))
    pki.server_cert.write_bytes(s_cert.public_bytes(pem))
    _write_key(s_key, pki.server_key)
    pki.client_cert.write_bytes(c_cert.public_bytes(pem))
    _write_key(c_key, pki.client_key)
    pki.other_ca.write_bytes(other.public_bytes(pem))
    return pki


def leaf_cert(
    pki: Pki, folder: Path, *, expired: bool = False, host: str | None = None
) -> tuple[Path, Path]:
    """A server certificate from the test CA: expired, or for another host name
    (`host`), to give to `FakeApiServer(cert=...)`; (certificate, key) paths."""
    assert pki.ca_key is not None
    ca_key = serialization.load_pem_private_key(pki.ca_key.read_bytes(), None)
    assert isinstance(ca_key, ec.EllipticCurvePrivateKey)
    ca_cert = x509.load_pem_x509_certificate(pki.ca.read_bytes())
    sans = [x509.DNSName(host)] if host else None
    key, cert = _leaf(
        ca_key, ca_cert, "kube-apiserver", ExtendedKeyUsageOID.SERVER_AUTH, sans, expired=expired
    )
    folder.mkdir(parents=True, exist_ok=True)
    stem = "expired" if expired else f"host-{host}"
    crt, key_path = folder / f"{stem}.crt", folder / f"{stem}.key"
    crt.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    _write_key(key, key_path)
    return crt, key_path


# ------------------------------------------------------------------------- objects


@dataclass
class Resource:
    group: str
    version: str
    kind: str
    plural: str
    namespaced: bool
    items: list[bytes] = field(default_factory=list)

    @property
    def group_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version


class Store:
    """Objects by resource, each kept as the JSON an API server's list would carry."""

    def __init__(self) -> None:
        self.resources: dict[tuple[str, str, str], Resource] = {}
        self.resource_version = 1000

    def declare(self, api_version: str, kind: str, namespaced: bool | None = None) -> Resource:
        group, _, version = api_version.rpartition("/")
        key = (group, version, plural(kind))
        res = self.resources.get(key)
        if res is None:
            scoped = kind not in _CLUSTER_SCOPED if namespaced is None else namespaced
            res = self.resources[key] = Resource(group, version, kind, plural(kind), scoped)
        return res

    def add(self, obj: dict[str, Any]) -> None:
        api_version, kind = obj.get("apiVersion") or "v1", obj["kind"]
        res = self.declare(api_version, kind)
        body = dict(obj)
        if res.group in BUILTIN_GROUPS:
            body.pop("apiVersion", None)  # built-in list items carry no TypeMeta
            body.pop("kind", None)
        res.items.append(json.dumps(body, separators=(",", ":")).encode())
        self.resource_version += 1

    def add_all(self, objs: Iterable[dict[str, Any]]) -> int:
        n = 0
        for obj in objs:
            self.add(obj)
            n += 1
        return n

    def groups(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = defaultdict(list)
        for g, v, _ in self.resources:
            if g and v not in out[g]:
                out[g].append(v)
        return out


# ------------------------------------------------------------------------- faults


@dataclass
class Faults:
    """Per-resource misbehaviour, keyed by plural (`pods`); counters count down."""

    forbidden: set[str] = field(default_factory=set)
    not_found: set[str] = field(default_factory=set)
    gone_once: set[str] = field(default_factory=set)
    throttle: dict[str, int] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)
    slow: dict[str, int] = field(default_factory=dict)
    slow_seconds: float = 2.0
    reset: dict[str, int] = field(default_factory=dict)
    broken_discovery: set[str] = field(default_factory=set)
    """group/versions whose discovery answers 503 (a broken aggregated API); "apis": the
    group list itself."""
    drip: set[str] = field(default_factory=set)
    """Lists sent one byte every `drip_seconds`: a body that never stalls long enough for a
    read timeout, yet takes hours."""
    drip_seconds: float = 0.2
    stall: set[str] = field(default_factory=set)
    """Lists answered with headers and then nothing: the body never comes."""
    loop_continue: set[str] = field(default_factory=set)
    """Lists whose every page hands back the same continue token: a listing without end."""
    gzip_bomb: dict[str, int] = field(default_factory=dict)
    """Lists answered with this many bytes of gzip-compressed JSON (a few MiB on the wire)."""
    duplicate: set[str] = field(default_factory=set)
    """Lists that carry every item twice (the same uid), as a server mid-failover can."""
    raw_items: dict[str, list[bytes]] = field(default_factory=dict)
    """Items sent as these bytes, as they are (not JSON-checked: invalid UTF-8, escapes)."""


# ------------------------------------------------------------------------- server


class FakeApiServer:
    """`with FakeApiServer(store, pki, tokens={...}) as api:` serves on https://127.0.0.1:PORT."""

    def __init__(
        self,
        store: Store,
        pki: Pki,
        tokens: Iterable[str] = ("good-token",),
        faults: Faults | None = None,
        git_version: str = "v1.31.4-eks-2d5f260",
        cert: tuple[Path, Path] | None = None,
    ) -> None:
        self.store = store
        self.pki = pki
        self.tokens = set(tokens)
        self.faults = faults or Faults()
        self.git_version = git_version
        self.log: list[tuple[str, str, str]] = []
        """(path with query, Accept header, who) per request."""
        self.gzipped = 0
        """Answers sent gzip-compressed."""
        self._lock = threading.Lock()
        self._gone_done: set[str] = set()
        handler = type("Handler", (_Handler,), {"api": self})
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(*(cert or (pki.server_cert, pki.server_key)))
        ctx.load_verify_locations(pki.ca)
        ctx.verify_mode = ssl.CERT_OPTIONAL
        self.httpd.socket = ctx.wrap_socket(self.httpd.socket, server_side=True)
        self.port = self.httpd.server_address[1]
        self.url = f"https://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> FakeApiServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def take(self, counter: dict[str, int], key: str) -> bool:
        with self._lock:
            left = counter.get(key, 0)
            if left > 0:
                counter[key] = left - 1
                return True
            return False

    def gone_now(self, key: str) -> bool:
        with self._lock:
            if key in self.faults.gone_once and key not in self._gone_done:
                self._gone_done.add(key)
                return True
            return False


class _Handler(BaseHTTPRequestHandler):
    api: FakeApiServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    # -------------------------------------------------------------- helpers

    def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        headers = dict(headers or {})
        if len(body) > GZIP_THRESHOLD and "gzip" in self.headers.get("Accept-Encoding", ""):
            body = gzip.compress(body, compresslevel=1)
            headers["Content-Encoding"] = "gzip"
            with self.api._lock:
                self.api.gzipped += 1
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def _json(self, status: int, data: Any, headers: dict[str, str] | None = None) -> None:
        self._send(status, json.dumps(data).encode(), headers)

    def _status(
        self, code: int, reason: str, message: str, headers: dict[str, str] | None = None
    ) -> None:
        self._json(
            code,
            {
                "kind": "Status",
                "apiVersion": "v1",
                "metadata": {},
                "status": "Failure",
                "message": message,
                "reason": reason,
                "code": code,
            },
            headers,
        )

    def _who(self) -> str | None:
        scheme, _, token = self.headers.get("Authorization", "").partition(" ")
        if scheme.lower() == "bearer" and token in self.api.tokens:  # case as kube-apiserver
            return "token"
        cert = self.connection.getpeercert() if isinstance(self.connection, ssl.SSLSocket) else None
        if cert:
            return "cert:" + dict(x[0] for x in cert["subject"]).get("commonName", "")
        return None

    # -------------------------------------------------------------- routing

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        path = parts.path.rstrip("/")
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        who = self._who()
        with self.api._lock:
            self.api.log.append((self.path, self.headers.get("Accept", ""), who or ""))
        if who is None:
            self._status(401, "Unauthorized", "Unauthorized")
            return
        if path == "/version":
            self._json(
                200,
                {
                    "major": "1",
                    "minor": "31",
                    "gitVersion": self.api.git_version,
                    "platform": "linux/amd64",
                },
            )
            return
        if path == "/api":
            self._json(200, {"kind": "APIVersions", "versions": ["v1"]})
            return
        if path == "/apis":
            if "apis" in self.api.faults.broken_discovery:
                self._status(503, "ServiceUnavailable", "etcdserver: leader changed")
                return
            self._json(200, self._group_list())
            return
        segs = path.split("/")[1:]
        if segs[0] == "api" and len(segs) == 2:
            self._resource_list("", segs[1])
        elif segs[0] == "apis" and len(segs) == 3:
            self._resource_list(segs[1], segs[2])
        elif segs[0] == "api" and len(segs) == 3:
            self._list("", segs[1], segs[2], query)
        elif segs[0] == "apis" and len(segs) == 4:
            self._list(segs[1], segs[2], segs[3], query)
        else:
            self._status(404, "NotFound", "the server could not find the requested resource")

    def _group_list(self) -> dict[str, Any]:
        groups = []
        for name, versions in sorted(self.api.store.groups().items()):
            vs = [{"groupVersion": f"{name}/{v}", "version": v} for v in versions]
            groups.append({"name": name, "versions": vs, "preferredVersion": vs[0]})
        return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}

    def _resource_list(self, group: str, version: str) -> None:
        gv = f"{group}/{version}" if group else version
        if gv in self.api.faults.broken_discovery:
            self._status(
                503, "ServiceUnavailable", "the server is currently unable to handle the request"
            )
            return
        resources = [
            r
            for r in self.api.store.resources.values()
            if r.group == group and r.version == version
        ]
        if not resources and group:
            self._status(404, "NotFound", "the server could not find the requested resource")
            return
        out = []
        for r in resources:
            out.append(
                {
                    "name": r.plural,
                    "singularName": r.kind.lower(),
                    "namespaced": r.namespaced,
                    "kind": r.kind,
                    "verbs": ["get", "list", "watch"],
                }
            )
            out.append(
                {
                    "name": f"{r.plural}/status",
                    "singularName": "",
                    "namespaced": r.namespaced,
                    "kind": r.kind,
                    "verbs": ["get"],
                }
            )
        self._json(
            200,
            {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": out},
        )

    def _list(self, group: str, version: str, name: str, query: dict[str, str]) -> None:
        api, faults = self.api, self.api.faults
        res = api.store.resources.get((group, version, name))
        if res is None or name in faults.not_found:
            self._status(404, "NotFound", "the server could not find the requested resource")
            return
        if name in faults.forbidden:
            self._status(
                403,
                "Forbidden",
                f'{name} is forbidden: User "plumbob" cannot list '
                f'resource "{name}" in API group "{group}" at the cluster scope',
            )
            return
        if api.take(faults.reset, name):
            self.connection.shutdown(socket.SHUT_RDWR)
            self.close_connection = True
            return
        if api.take(faults.slow, name):
            time.sleep(faults.slow_seconds)
        if api.take(faults.throttle, name):
            self._status(
                429,
                "TooManyRequests",
                "too many requests, please try again later",
                {"Retry-After": "0"},
            )
            return
        if api.take(faults.errors, name):
            self._status(500, "InternalError", "etcdserver: request timed out")
            return
        if name in faults.stall:
            self._stall()
            return
        if name in faults.gzip_bomb:
            self._gzip_bomb(res, faults.gzip_bomb[name])
            return
        token = query.get("continue", "")
        offset = 0
        if token:
            if api.gone_now(name):
                self._status(
                    410,
                    "Expired",
                    "The provided continue parameter is too old to "
                    "display a consistent list result.",
                )
                return
            offset = int(base64.urlsafe_b64decode(token.encode()).decode().split(":")[1])
        items = res.items
        if name in faults.raw_items:
            items = items + faults.raw_items[name]
        if name in faults.duplicate:
            items = [item for item in items for _ in (0, 1)]
        if query.get("fieldSelector"):
            try:
                items = select_fields(items, query["fieldSelector"])
            except ValueError as exc:
                self._status(400, "BadRequest", str(exc))
                return
        limit = int(query.get("limit", "0") or 0) or len(items) or 1
        chunk = items[offset : offset + limit]
        nxt = offset + len(chunk)
        meta: dict[str, Any] = {"resourceVersion": str(api.store.resource_version)}
        if name in faults.loop_continue:
            meta["continue"] = base64.urlsafe_b64encode(b"0:0").decode()
        elif nxt < len(items):
            meta["continue"] = base64.urlsafe_b64encode(
                f"{api.store.resource_version}:{nxt}".encode()
            ).decode()
            meta["remainingItemCount"] = len(items) - nxt
        if "as=PartialObjectMetadataList" in self.headers.get("Accept", ""):
            kind, av = "PartialObjectMetadataList", "meta.k8s.io/v1"
            chunk = [
                json.dumps(
                    {
                        "kind": "PartialObjectMetadata",
                        "apiVersion": av,
                        "metadata": json.loads(item).get("metadata", {}),
                    }
                ).encode()
                for item in chunk
            ]
        else:
            kind, av = f"{res.kind}List", res.group_version
        head = json.dumps({"kind": kind, "apiVersion": av, "metadata": meta})[:-1].encode()
        body = head + b',"items":[' + b",".join(chunk) + b"]}"
        if name in faults.drip:
            self._drip(body, faults.drip_seconds)
            return
        self._send(200, body)

    def _stall(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", "1000")
        self.end_headers()
        self.wfile.flush()
        time.sleep(3600)

    def _drip(self, body: bytes, seconds: float) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            for i in range(len(body)):
                self.wfile.write(body[i : i + 1])
                self.wfile.flush()
                time.sleep(seconds)
        except OSError:
            self.close_connection = True

    def _gzip_bomb(self, res: Resource, size: int) -> None:
        body = gzip_bomb(f"{res.kind}List", res.group_version, size)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            self.wfile.write(body)
        except OSError:
            self.close_connection = True


@functools.cache
def gzip_bomb(kind: str, api_version: str, size: int) -> bytes:
    """A `kind` List whose one item carries `size` bytes of spaces, gzip-compressed as it is
    made (never held whole): a few MiB on the wire."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    head = json.dumps({"kind": kind, "apiVersion": api_version})
    parts = [packer.compress(head[:-1].encode() + b',"items":[{"a":"')]
    block = b" " * (1024 * 1024)
    parts.extend(packer.compress(block) for _ in range(size // len(block)))
    parts.append(packer.compress(b'"}]}') + packer.flush())
    return b"".join(parts)


def select_fields(items: list[bytes], selector: str) -> list[bytes]:
    """Items matching a field selector of `metadata.name` / `metadata.namespace` terms (`=`,
    `==`, `!=`, comma-separated), the fields every kind supports."""
    terms = []
    for term in selector.split(","):
        negate = "!=" in term
        field_, _, value = term.replace("!=", "=").replace("==", "=").partition("=")
        if field_ not in ("metadata.name", "metadata.namespace"):
            raise ValueError(f'"{field_}" is not a known field selector')
        terms.append((field_.split(".")[1], value, negate))
    out = []
    for item in items:
        meta = json.loads(item).get("metadata", {})
        if all((meta.get(key, "") == value) != negate for key, value, negate in terms):
            out.append(item)
    return out


# ------------------------------------------------------------------------- kubeconfigs


def kubeconfig(path: Path, contexts: dict[str, dict[str, Any]], current: str | None = None) -> Path:
    """Write a kubeconfig: context name -> {"server", "ca" (path|None), "insecure", "user"}
    where user is a kubeconfig `user` mapping."""
    clusters, users, ctxs = [], [], []
    for name, spec in contexts.items():
        cluster: dict[str, Any] = {"server": spec["server"]}
        if spec.get("ca"):
            cluster["certificate-authority"] = str(spec["ca"])
        if spec.get("insecure"):
            cluster["insecure-skip-tls-verify"] = True
        clusters.append({"name": f"{name}-cluster", "cluster": cluster})
        users.append({"name": f"{name}-user", "user": spec["user"]})
        ctxs.append(
            {"name": name, "context": {"cluster": f"{name}-cluster", "user": f"{name}-user"}}
        )
    doc = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": clusters,
        "users": users,
        "contexts": ctxs,
        "current-context": current or next(iter(contexts)),
    }
    path.write_text(json.dumps(doc, indent=1), encoding="utf-8")
    return path


def exec_plugin(folder: Path, token: str) -> dict[str, Any]:
    """A kubeconfig `user` running a tiny exec credential plugin that prints a token."""
    script = folder / "credential-plugin.py"
    script.write_text(
        "import json, sys\n"
        "json.dump({'apiVersion': 'client.authentication.k8s.io/v1', "
        "'kind': 'ExecCredential', "
        f"'status': {{'token': {token!r}, "
        "'expirationTimestamp': '2099-01-01T00:00:00Z'}}, sys.stdout)\n",
        encoding="utf-8",
    )
    return {
        "exec": {
            "apiVersion": "client.authentication.k8s.io/v1",
            "command": sys.executable,
            "args": [str(script)],
            "interactiveMode": "Never",
        }
    }


# ------------------------------------------------------------------------- standalone


def _main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--demo-nodes", type=int, default=100)
    parser.add_argument("--demo-pods", type=int, default=3000)
    parser.add_argument("--dir", type=Path, required=True, help="where certificates go")
    parser.add_argument("--token", default="bench-token")
    parser.add_argument(
        "--managed-fields",
        action="store_true",
        help="serve managedFields (and kubectl's last-applied annotation) as a real server",
    )
    args = parser.parse_args()
    from plumbob.sources.demo import DemoSpec, generate

    store = Store()
    spec = DemoSpec(nodes=args.demo_nodes, pods=args.demo_pods, managed_fields=args.managed_fields)
    n = store.add_all(generate(spec))
    pki = make_pki(args.dir)
    with FakeApiServer(store, pki, tokens=[args.token]) as api:
        info = {"url": api.url, "ca": str(pki.ca), "token": args.token, "objects": n}
        (args.dir / "server.json").write_text(json.dumps(info), encoding="utf-8")
        print(json.dumps(info), flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    _main()
