"""A small admin client for the test API server: server-side apply of objects and their status,
token requests, deletes, with one keep-alive HTTPS connection per thread.

Used by tests/services/kube_setup.py (start.sh) and by the tests and benchmarks that load
objects into the server. It is not plumbob's client: plumbob reads through its own
(src/plumbob/sources/kube_client.py), so what the tests prove is what plumbob does.
"""

from __future__ import annotations

import http.client
import json
import ssl
import threading
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import yaml

FIELD_MANAGER = "plumbob-tests"


class KubeError(Exception):
    """The server refused a request: the message names the object and the server's reason."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True, slots=True)
class Credentials:
    server: str
    ca_file: str
    cert_file: str | None = None
    key_file: str | None = None
    token: str | None = None

    @classmethod
    def admin(cls, kube_dir: Path) -> Credentials:
        """The cluster-admin credentials start.sh left in .services/kube/."""
        data = Path((kube_dir / "dir").read_text().strip())
        return cls(
            server=(kube_dir / "server.url").read_text().strip(),
            ca_file=str(kube_dir / "ca.crt"),
            cert_file=str(data / "admin.crt"),
            key_file=str(data / "admin.key"),
        )


class Api:
    def __init__(self, creds: Credentials, timeout: float = 60.0) -> None:
        self.creds = creds
        url = urlsplit(creds.server)
        self.host, self.port = url.hostname or "127.0.0.1", url.port or 443
        self.timeout = timeout
        self.context = ssl.create_default_context(cafile=creds.ca_file)
        if creds.cert_file:
            self.context.load_cert_chain(creds.cert_file, creds.key_file)
        self._local = threading.local()
        self._resources: dict[tuple[str, str], tuple[str, bool]] = {}
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ HTTP

    def _conn(self) -> http.client.HTTPSConnection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = http.client.HTTPSConnection(
                self.host, self.port, context=self.context, timeout=self.timeout
            )
            self._local.conn = conn
        return conn  # type: ignore[no-any-return]

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        content_type: str = "application/json",
        query: dict[str, str] | None = None,
        accept: str = "application/json",
    ) -> tuple[int, Any]:
        """One request; retried on 429 and on a dropped keep-alive connection."""
        if query:
            path = f"{path}?{urlencode(query)}"
        payload = None if body is None else json.dumps(body).encode()
        headers = {"Accept": accept}
        if payload is not None:
            headers["Content-Type"] = content_type
        if self.creds.token:
            headers["Authorization"] = f"Bearer {self.creds.token}"
        for attempt in range(8):
            conn = self._conn()
            try:
                conn.request(method, path, payload, headers)
                resp = conn.getresponse()
                data = resp.read()
            except (http.client.HTTPException, OSError):
                conn.close()
                self._local.conn = None
                if attempt == 7:
                    raise
                time.sleep(0.1 * (attempt + 1))
                continue
            self._local.warnings = [v for k, v in resp.getheaders() if k.lower() == "warning"]
            if resp.status == 429 and attempt < 7:
                time.sleep(float(resp.getheader("Retry-After") or 1))
                continue
            try:
                return resp.status, json.loads(data) if data else None
            except ValueError:
                return resp.status, data.decode(errors="replace")
        raise AssertionError("unreachable")

    def warnings(self) -> list[str]:
        """The Warning headers of this thread's last response (admission policies in Warn
        mode, deprecations, unknown fields under fieldValidation=Warn)."""
        return list(getattr(self._local, "warnings", []))

    def ok(self, method: str, path: str, body: Any = None, **kw: Any) -> Any:
        status, doc = self.request(method, path, body, **kw)
        if status >= 300:
            message = doc.get("message") if isinstance(doc, dict) else doc
            raise KubeError(status, f"{method} {path}: {status} {message}")
        return doc

    # ------------------------------------------------------------------ objects

    def resource(self, api_version: str, kind: str) -> tuple[str, bool]:
        """(plural, namespaced) of a kind, from discovery (cached; refreshed when unknown,
        as a CRD just created appears)."""
        key = (api_version, kind)
        with self._lock:
            if key in self._resources:
                return self._resources[key]
        base = f"/apis/{api_version}" if "/" in api_version else f"/api/{api_version}"
        for attempt in range(40):
            status, doc = self.request("GET", base)
            if status == 200:
                for r in doc.get("resources", []):
                    if "/" not in r["name"]:
                        with self._lock:
                            self._resources[(api_version, r["kind"])] = (
                                r["name"],
                                r["namespaced"],
                            )
                with self._lock:
                    if key in self._resources:
                        return self._resources[key]
            if attempt < 39:
                time.sleep(0.25)  # a CRD being established
        raise KubeError(404, f"{api_version} {kind}: not served")

    def path(self, obj: dict[str, Any], *, collection: bool = False) -> str:
        api_version, kind = obj["apiVersion"], obj["kind"]
        plural, namespaced = self.resource(api_version, kind)
        base = f"/apis/{api_version}" if "/" in api_version else f"/api/{api_version}"
        meta = obj.get("metadata") or {}
        if namespaced:
            base += f"/namespaces/{quote(meta.get('namespace') or 'default')}"
        base += f"/{plural}"
        return base if collection else f"{base}/{quote(meta['name'])}"

    def apply(
        self, obj: dict[str, Any], *, status: bool = False, manager: str = FIELD_MANAGER
    ) -> Any:
        """Server-side apply as `manager`: creates or updates, idempotent. With status, applies
        the object's `status` through the status subresource (what a kubelet or controller
        does)."""
        path = self.path(obj) + ("/status" if status else "")
        body = dict(obj)
        if status:
            body = {
                "apiVersion": obj["apiVersion"],
                "kind": obj["kind"],
                "metadata": {
                    k: v for k, v in obj["metadata"].items() if k in ("name", "namespace")
                },
                "status": obj["status"],
            }
        return self.ok(
            "PATCH",
            path,
            body,
            content_type="application/apply-patch+yaml",
            query={"fieldManager": manager, "force": "true"},
        )

    def delete(self, obj: dict[str, Any]) -> None:
        status, doc = self.request("DELETE", self.path(obj))
        if status not in (200, 202, 404):
            raise KubeError(status, f"DELETE {self.path(obj)}: {status} {doc}")

    def token(self, namespace: str, service_account: str, seconds: int = 86400) -> str:
        doc = self.ok(
            "POST",
            f"/api/v1/namespaces/{namespace}/serviceaccounts/{service_account}/token",
            {
                "apiVersion": "authentication.k8s.io/v1",
                "kind": "TokenRequest",
                "spec": {"expirationSeconds": seconds},
            },
        )
        return str(doc["status"]["token"])

    def count(self, path: str, **query: str) -> int:
        """Objects of a list, from one page of one item and the server's remainingItemCount."""
        doc = self.ok("GET", path, query={"limit": "1", **query})
        return len(doc["items"]) + int(doc["metadata"].get("remainingItemCount") or 0)

    def wait_established(self, crd_name: str, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            doc = self.ok(
                "GET", f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{crd_name}"
            )
            conditions = (doc.get("status") or {}).get("conditions") or []
            if any(c["type"] == "Established" and c["status"] == "True" for c in conditions):
                return
            time.sleep(0.1)
        raise KubeError(504, f"CRD {crd_name} not established after {timeout:.0f} s")


def apply_all(
    api: Api,
    objects: Iterable[dict[str, Any]],
    *,
    workers: int = 8,
    with_status: bool = True,
) -> int:
    """Apply objects in parallel (and their status through the subresource); returns the count.
    Raises the first KubeError, naming the object."""

    def one(obj: dict[str, Any]) -> None:
        api.apply(obj)
        if with_status and obj.get("status"):
            api.apply(obj, status=True)

    count = 0
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for _ in pool.map(one, objects):
            count += 1
    return count


def yaml_documents(path: Path) -> Iterator[dict[str, Any]]:
    for doc in yaml.safe_load_all(path.read_text()):
        if isinstance(doc, dict) and doc.get("kind"):
            yield doc


def kubeconfig(server: str, ca_file: str, context: str, user: dict[str, str], path: Path) -> Path:
    doc = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": "plumbob-test",
                "cluster": {"server": server, "certificate-authority": ca_file},
            }
        ],
        "users": [{"name": context, "user": user}],
        "contexts": [{"name": context, "context": {"cluster": "plumbob-test", "user": context}}],
        "current-context": context,
    }
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    path.chmod(0o600)
    return path
