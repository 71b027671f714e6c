"""Talking to one API server: kubeconfig/in-cluster auth through the official `kubernetes`
client, and GETs that return raw bytes, with a timeout per request and retries with backoff.

Authentication (client certificates, bearer tokens, exec credential plugins such as
`aws eks get-token`, `gke-gcloud-auth-plugin` and `kubelogin`, OIDC, in-cluster service
accounts) and TLS (verified unless the kubeconfig says `insecure-skip-tls-verify`) are the
client library's; plumbob only asks its ApiClient for a request and reads the body as bytes, so
list pages are decoded straight into plumbob's reduced objects (see live.py).
"""

from __future__ import annotations

import contextlib
import os
import random
import re
import threading
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec
import urllib3

from plumbob.sources.bodies import AnswerTooLarge, read_body

BODY_TIMEOUTS = 3
"""One answer, body included, may take this many request timeouts (a big list page on a slow
link) and never more, however it trickles in."""

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
"""Statuses worth another try: throttling and transient server errors."""

SERVICE_ACCOUNT_DIR = Path("/var/run/secrets/kubernetes.io/serviceaccount")
IN_CLUSTER = "in-cluster"
"""Context name used for the pod's own service account."""


class DeadlinePassed(ConnectionError):
    """The time limit of a whole capture passed before an answer came."""


class ContextError(Exception):
    """A whole context cannot be scanned (unreachable, credentials rejected or expired, bad
    kubeconfig). The message is one line and names the context."""


@dataclass(frozen=True, slots=True)
class Response:
    status: int
    body: bytes
    headers: Mapping[str, str] = field(default_factory=dict)

    def reason(self) -> str:
        """The API server's Status message, or the start of the body."""
        return status_message(self.status, self.body)


class _Status(msgspec.Struct):
    kind: str = ""
    message: str = ""
    reason: str = ""


_status_decoder = msgspec.json.Decoder(_Status)

_PHRASES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    410: "Gone",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


def status_message(status: int, body: bytes) -> str:
    head = f"{status} {_PHRASES.get(status, 'HTTP error')}"
    msg = kube_status(body)
    if msg is None:
        msg = summarise(body)
    return f"{head}: {msg}" if msg else head


def kube_status(body: bytes) -> str | None:
    """The message of a Kubernetes `Status` object, or None when the body is not one (the
    answer did not come from an API server)."""
    try:
        status = _status_decoder.decode(body)
    except msgspec.DecodeError:
        return None
    return status.message if status.kind == "Status" else None


_TITLE = re.compile(rb"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<[^>]*>|<!--.*?-->", re.DOTALL)
_SUMMARY_CHARS = 160


def summarise(body: bytes) -> str:
    """A response body as one short line: an HTML page by its title (or its text without
    markup), anything else by its first characters, whitespace collapsed; control characters
    shown escaped."""
    head = body[:8192]
    text = ""
    if head.lstrip()[:1] == b"<":
        title = _TITLE.search(head)
        text = (title.group(1) if title else head).decode("utf-8", "replace")
        text = "HTML page: " + " ".join(_TAG.sub(" ", text).split())
    else:
        text = " ".join(head[:1024].decode("utf-8", "replace").split())
    text = "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
    return text if len(text) <= _SUMMARY_CHARS else text[: _SUMMARY_CHARS - 3] + "..."


# ------------------------------------------------------------------------- contexts


@dataclass(frozen=True, slots=True)
class Target:
    """One cluster to read: a kubeconfig context, or the pod's service account."""

    context: str
    kubeconfig: str | None = None
    """Kubeconfig path (or KUBECONFIG-style list); None: $KUBECONFIG or ~/.kube/config."""
    in_cluster: bool = False
    service_account_dir: Path = SERVICE_ACCOUNT_DIR
    environ: Mapping[str, str] | None = None
    """Environment for in-cluster config (KUBERNETES_SERVICE_HOST/PORT); None: os.environ."""


def kubeconfig_missing(kubeconfig: str | None) -> str | None:
    """'kubeconfig not found: PATH' when no file of the kubeconfig exists (`kubeconfig`, else
    $KUBECONFIG, a list as kubectl reads it, else ~/.kube/config); None when one does. The
    client library says only "Invalid kube-config file. No configuration found." for it."""
    given = kubeconfig or os.environ.get("KUBECONFIG") or "~/.kube/config"
    paths = [os.path.expanduser(p) for p in given.split(os.pathsep) if p]
    if any(os.path.isfile(p) for p in paths):
        return None
    hint = "" if kubeconfig else " (give --kubeconfig FILE, or --in-cluster inside a pod)"
    return f"kubeconfig not found: {', '.join(paths) or given}{hint}"


def list_contexts(kubeconfig: str | None) -> tuple[list[str], str | None]:
    """Context names in a kubeconfig and the current one. Raises ContextError."""
    from kubernetes.config import list_kube_config_contexts

    missing = kubeconfig_missing(kubeconfig)
    if missing is not None:
        raise ContextError(missing)
    try:
        contexts, current = list_kube_config_contexts(  # type: ignore[no-untyped-call]
            config_file=kubeconfig
        )
    except Exception as exc:  # any failure of the client's config loader, kept to one line
        where = kubeconfig or os.environ.get("KUBECONFIG") or "~/.kube/config"
        raise ContextError(f"kubeconfig {where}: {_one_line(exc)}") from None
    names = [c["name"] for c in contexts or [] if isinstance(c, dict) and c.get("name")]
    cur = current.get("name") if isinstance(current, dict) else None
    return names, cur


def in_cluster_available(
    sa_dir: Path = SERVICE_ACCOUNT_DIR, environ: Mapping[str, str] | None = None
) -> bool:
    env = os.environ if environ is None else environ
    return bool(env.get("KUBERNETES_SERVICE_HOST")) and (sa_dir / "token").is_file()


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text or type(exc).__name__


# ------------------------------------------------------------------------- transport


class Transport:
    """GETs against one API server through a `kubernetes.client.ApiClient`.

    Thread-safe: the ApiClient's urllib3 pool holds up to `connections` connections, which is
    also the number of lists run in parallel.
    """

    def __init__(
        self,
        target: Target,
        *,
        connections: int = 4,
        timeout: float = 30.0,
        retries: int = 5,
        backoff: float = 0.5,
        max_backoff: float = 10.0,
        compress: bool = True,
        deadline: float | None = None,
        on_retry: Callable[[str], None] | None = None,
    ) -> None:
        self.target = target
        self.deadline = deadline
        """`time.monotonic()` past which no request is made or waited for: one limit for a
        whole capture, however many requests and retries it takes."""
        self.on_retry = on_retry
        """Told each retry in one line (what, why, which try), so a wait is never silent."""
        self.timeout = timeout
        self.compress = compress
        """Ask for gzip: the API server compresses answers over 128 KiB, list pages a tenth
        of their size on the wire (client-go, hence kubectl, asks the same)."""
        self.retries = retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self._lock = threading.Lock()
        self.api = self._api_client(connections)
        self.server: str = str(self.api.configuration.host)
        self.verifies_tls: bool = bool(self.api.configuration.verify_ssl) or not (
            self.server.startswith("https:")
        )
        """False when the kubeconfig says `insecure-skip-tls-verify`."""
        if not self.verifies_tls:  # live.capture reports it once, as a diagnostic
            warnings.filterwarnings("ignore", category=urllib3.exceptions.InsecureRequestWarning)
        self.requests = 0

    def _api_client(self, connections: int) -> Any:
        from kubernetes import client, config

        cfg = client.Configuration()
        t = self.target
        missing = None if t.in_cluster else kubeconfig_missing(t.kubeconfig)
        if missing is not None:
            raise ContextError(f"context {t.context}: {missing}")
        try:
            if t.in_cluster:
                loader = config.incluster_config.InClusterConfigLoader(  # type: ignore[no-untyped-call]
                    token_filename=str(t.service_account_dir / "token"),
                    cert_filename=str(t.service_account_dir / "ca.crt"),
                    environ=os.environ if t.environ is None else t.environ,
                )
                loader.load_and_set(cfg)  # type: ignore[no-untyped-call]
            else:
                config.load_kube_config(  # type: ignore[no-untyped-call]
                    config_file=t.kubeconfig,
                    context=t.context,
                    client_configuration=cfg,
                    persist_config=False,
                )
        except Exception as exc:  # any failure of the client's config loader, kept to one line
            raise ContextError(
                f"context {t.context}: cannot load credentials: {_one_line(exc)}"
            ) from None
        cfg.connection_pool_maxsize = max(1, connections)
        cfg.retries = False  # retries are ours, with backoff and Retry-After
        return client.ApiClient(configuration=cfg)

    def close(self) -> None:
        self.api.rest_client.close()

    def get(
        self,
        path: str,
        query: Sequence[tuple[str, str]] = (),
        accept: str = "application/json",
        timeout: float | None = None,
    ) -> Response:
        """GET `path`; retries 429/5xx, timeouts and connection resets with exponential
        backoff (honouring Retry-After). Returns the last response (any status); raises
        ConnectionError when no response came back at all. A refused connection is tried
        once more only (a server that is down stays down; kubectl does not retry at all), an
        untrusted certificate not at all."""
        attempt = 0
        last = ""
        while True:
            wait = self._time_left(path, last)
            each = min(timeout or self.timeout, wait)
            try:
                resp = self._once(path, query, accept, each, min(wait, each * BODY_TIMEOUTS))
            except AnswerTooLarge:
                raise  # the same answer would come again
            except (urllib3.exceptions.HTTPError, OSError) as exc:
                limit = 0 if _untrusted(exc) else 1 if _refused(exc) else self.retries
                last = _transport_error(exc)
                if attempt >= min(limit, self.retries):
                    raise ConnectionError(last) from None
                self._retry(attempt, path, last, None)
                attempt += 1
                continue
            if resp.status in RETRY_STATUSES and attempt < self.retries:
                last = resp.reason()
                self._retry(attempt, path, last, resp.headers.get("retry-after"))
                attempt += 1
                continue
            return resp

    def _time_left(self, path: str, last: str) -> float:
        """Seconds left before the deadline; raises ConnectionError when none are."""
        if self.deadline is None:
            return float("inf")
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise DeadlinePassed(
                f"gave up on GET {path}: the time limit for the capture passed"
                + (f" (last try: {last})" if last else "")
            )
        return left

    def _retry(self, attempt: int, path: str, why: str, retry_after: str | None) -> None:
        if self.on_retry is not None:
            self.on_retry(f"retry {attempt + 1}/{self.retries} of GET {path}: {why}")
        self._sleep(attempt, retry_after)

    def _once(
        self,
        path: str,
        query: Sequence[tuple[str, str]],
        accept: str,
        timeout: float | None,
        overall: float,
    ) -> Response:
        """One GET: `timeout` for the connection and for each wait on the socket, `overall`
        seconds for the whole answer, body included (sources/bodies.py)."""
        from kubernetes.client.exceptions import ApiException

        with self._lock:
            self.requests += 1
        method, url, headers, _, _ = self.api.param_serialize(
            method="GET",
            resource_path=path,
            query_params=list(query),
            header_params={"Accept": accept, **_GZIP} if self.compress else {"Accept": accept},
            auth_settings=["BearerToken"],
        )
        try:
            # the response streams (preload_content=False): the body is read here, once
            resp = self.api.call_api(
                method, url, header_params=headers, _request_timeout=timeout or self.timeout
            )
        except ApiException as exc:  # TLS failures come back as status 0
            raise urllib3.exceptions.SSLError(_one_line(exc.reason or exc)) from None
        raw = resp.response
        body = read_body(raw, overall)
        hdrs = {k.lower(): v for k, v in raw.headers.items()}
        return Response(status=int(resp.status), body=body, headers=hdrs)

    def _sleep(self, attempt: int, retry_after: str | None) -> None:
        delay = min(self.max_backoff, self.backoff * (2**attempt))
        delay *= 0.5 + random.random() / 2
        if retry_after:
            with contextlib.suppress(ValueError):
                delay = min(self.max_backoff, max(delay, float(retry_after)))
        if self.deadline is not None:
            delay = max(0.0, min(delay, self.deadline - time.monotonic()))
        time.sleep(delay)


_POOL = re.compile(r"^\w*ConnectionPool\([^)]*\): ")
_GZIP = {"Accept-Encoding": "gzip"}
"""urllib3 inflates a gzip answer as it is read (decode_content)."""
_UNTRUSTED = ("CERTIFICATE_VERIFY_FAILED", "doesn't match", "Hostname mismatch")


def tls_failure(text: str, ca_hint: str = "check the kubeconfig's certificate-authority") -> str:
    """Which way a certificate failed verification, from OpenSSL's words, and what to do."""
    lowered = text.lower()
    if "expired" in lowered or "not yet valid" in lowered:
        return "the server's certificate has expired (or is not valid yet): renew it"
    if "mismatch" in lowered or "not valid for" in lowered:
        return (
            "the certificate is for another host name than the one in the server URL: use the "
            "name the certificate names, or set tls-server-name in the kubeconfig"
        )
    return f"signed by an unknown CA: {ca_hint}"


def _untrusted(exc: BaseException) -> bool:
    """A certificate that fails verification fails again: not worth a retry."""
    text = str(exc)
    return isinstance(exc, urllib3.exceptions.SSLError) and any(m in text for m in _UNTRUSTED)


def _refused(exc: BaseException) -> bool:
    """No connection at all: refused, or the name does not resolve."""
    # a connect timeout is a ConnectTimeoutError, NewConnectionError's base: still retried
    return isinstance(exc, (urllib3.exceptions.NewConnectionError, ConnectionRefusedError))


def _transport_error(exc: BaseException) -> str:
    """The innermost reason of a urllib3/socket error, on one line."""
    reason: BaseException | None = exc
    while isinstance(reason, urllib3.exceptions.MaxRetryError) and reason.reason is not None:
        reason = reason.reason
    text = _one_line(reason or exc)
    if "CERTIFICATE_VERIFY_FAILED" in text or "mismatch" in text:
        return f"TLS certificate not trusted (CERTIFICATE_VERIFY_FAILED): {tls_failure(text)}"
    if isinstance(reason, urllib3.exceptions.NewConnectionError) or "Connection refused" in text:
        return "connection refused"
    if isinstance(reason, (urllib3.exceptions.TimeoutError, TimeoutError)):
        # "HTTPSConnectionPool(host=..., port=...): Read timed out. (read timeout=20)"
        return f"timed out ({_POOL.sub('', text).rstrip('.')})"
    return text


__all__ = [
    "BODY_TIMEOUTS",
    "IN_CLUSTER",
    "ContextError",
    "DeadlinePassed",
    "Response",
    "Target",
    "Transport",
    "in_cluster_available",
    "kube_status",
    "list_contexts",
    "status_message",
    "summarise",
    "tls_failure",
]
