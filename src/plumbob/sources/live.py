"""Live clusters: capture one Snapshot per kubeconfig context (or the pod's service account).

Per context: server version, API discovery (groups, versions, resources, CRDs), then a paginated
list (`limit`/`continue`) of every kind the caller names that the cluster serves (the CLI names
what the analyses read plus the AI CRDs: checks/kinds.py `capture_kinds`), several kinds at a
time over a bounded connection pool. Each page is decoded as it arrives into
plumbob's reduced objects (model/objects.py: only the fields analyses read) whose identical
parts are then shared (compact.py), so a 150,000-pod cluster never holds its full pod JSON.
A 403/404 for one kind becomes `not_visible[kind]`; an unreachable server or rejected
credentials is one error line naming the context, and the other contexts still scan. Secrets
and the one ConfigMap read are listed as metadata only, kubectl's last-applied copy of each
object is dropped, and credential-looking environment values are redacted (kube_redact.py).
docs/live.md describes all of it.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Generic, TypeVar

import msgspec

from plumbob.knowledge.kinds import ANY_KIND
from plumbob.model.collector import gc_paused
from plumbob.model.objects import (
    BUILTIN_GROUPS,
    TYPED_KINDS,
    Object,
    Origin,
    api_group,
    kind_key,
)
from plumbob.model.snapshot import ApiResource, ClusterInfo, Discovery, Snapshot
from plumbob.report.model import Diagnostic, Level
from plumbob.report.model import DiagnosticCode as Code
from plumbob.sources.bodies import AnswerTooLarge
from plumbob.sources.compact import Compactor
from plumbob.sources.decode import DROPPED_KINDS, ObjectDecoder
from plumbob.sources.interface import Loaded, ProgressHook, SourceError
from plumbob.sources.jsonstream import prune_items
from plumbob.sources.kube_client import (
    IN_CLUSTER,
    SERVICE_ACCOUNT_DIR,
    ContextError,
    DeadlinePassed,
    Response,
    Target,
    Transport,
    in_cluster_available,
    kube_status,
    list_contexts,
    summarise,
)
from plumbob.sources.kube_redact import redact

SELECTED: dict[tuple[str, str], str] = {
    ("", "ConfigMap"): "metadata.name=cluster-autoscaler-status",
}
"""Kinds of which only the objects matching a field selector are listed: cluster-autoscaler's
status ConfigMap is the one sign of a managed autoscaler (GKE, AKS) that runs outside the
cluster (checks/scaling/autoscalers.py). RBAC can grant exactly that name (`resourceNames`)."""

METADATA_ONLY = frozenset({("", "Secret"), ("", "ConfigMap")})
"""Kinds listed without their contents (PartialObjectMetadata): values are never read."""
_PARTLY_LISTED = (
    "listed in part by design (names only, or only the objects a check asks for by name): "
    "what these objects hold is not read from a live cluster"
)
"""Why a kind listed metadata-only or by a field selector is not visible to a check that reads
its contents (a device plugin's sharing config in a ConfigMap): it was not seen whole. Checks
that only consult such a kind (the cluster-autoscaler status ConfigMap) are unaffected."""
METADATA_ACCEPT = (
    "application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io,application/json"
)
# ------------------------------------------------------------------------- API shapes


class _Version(msgspec.Struct, rename="camel"):
    git_version: str = ""
    platform: str = ""


class _GroupVersion(msgspec.Struct, rename="camel"):
    group_version: str = ""
    version: str = ""


class _Group(msgspec.Struct, rename="camel"):
    name: str = ""
    versions: list[_GroupVersion] = []
    preferred_version: _GroupVersion | None = None


class _GroupList(msgspec.Struct):
    groups: list[_Group] = []


class _CoreVersions(msgspec.Struct):
    versions: list[str] = []


class _Resource(msgspec.Struct):
    name: str = ""
    kind: str = ""
    namespaced: bool = True
    verbs: list[str] = []


class _ResourceList(msgspec.Struct, rename="camel"):
    group_version: str = ""
    resources: list[_Resource] = []


class _ListMeta(msgspec.Struct, frozen=True):
    continue_: str = msgspec.field(default="", name="continue")
    resourceVersion: str = ""


T = TypeVar("T")


class _Page(msgspec.Struct, Generic[T]):
    metadata: _ListMeta = _ListMeta()
    items: list[T] | None = None


_raw_page = msgspec.json.Decoder(_Page[msgspec.Raw])
_dict = msgspec.json.Decoder(dict[str, Any])


@dataclass(frozen=True, slots=True)
class _Kind:
    group: str
    version: str
    kind: str
    plural: str
    namespaced: bool

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def path(self) -> str:
        base = f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"
        return f"{base}/{self.plural}"

    @property
    def key(self) -> str:
        return kind_key(self.api_version, self.kind)

    @property
    def metadata_only(self) -> bool:
        return (self.group, self.kind) in METADATA_ONLY

    @property
    def selector(self) -> str | None:
        return SELECTED.get((self.group, self.kind))


# ------------------------------------------------------------------------- options


@dataclass(frozen=True, slots=True)
class CaptureOptions:
    kinds: frozenset[tuple[str, str]]
    """(group, kind) to list when the server serves it, kind '*' for every kind of a group:
    what the analyses read (checks/kinds.py `capture_kinds`, which the CLI passes)."""
    page_size: int = 500
    connections: int = 4
    """Kinds listed in parallel; also the connection pool size."""
    timeout: float = 20.0
    """Seconds per request (connect, and between bytes of an answer)."""
    deadline: float | None = 60.0
    """Seconds for the whole capture of one context (`--timeout`): discovery and every list,
    retries included. Kinds not read by then are not visible, with that reason; a server that
    never answers is given up on in this time, not after every retry of every request."""
    retries: int = 5
    backoff: float = 0.5
    max_backoff: float = 10.0
    gone_restarts: int = 3
    """How often one list starts over after `410 Gone` (its continue token expired)."""
    compress: bool = True
    """Ask the API server for gzip-compressed answers."""


# ------------------------------------------------------------------------- capture


@dataclass(slots=True)
class _Capture:
    transport: Transport
    context: str
    options: CaptureOptions
    progress: ProgressHook | None
    diagnostics: list[Diagnostic] = field(default_factory=list)
    not_visible: dict[str, str] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    compactor: Compactor = field(default_factory=Compactor)

    def warn(
        self,
        message: str,
        path: str | None = None,
        level: Level = Level.WARNING,
        *,
        code: Code,
    ) -> None:
        with self.lock:
            self.diagnostics.append(
                Diagnostic(level=level, code=code, message=message, path=path, cluster=self.context)
            )

    def fetch(
        self, path: str, query: Iterable[tuple[str, str]] = (), accept: str = "application/json"
    ) -> Response:
        try:
            resp = self.transport.get(path, tuple(query), accept)
        except DeadlinePassed as exc:
            limit = f" of {self.options.deadline:g} s" if self.options.deadline else ""
            raise _Unreachable(f"{exc}; the limit{limit} is --timeout", timed_out=True) from None
        except AnswerTooLarge as exc:
            raise _Unreachable(f"GET {path}: {exc}", timed_out=True) from None
        except ConnectionError as exc:
            raise _Unreachable(str(exc)) from None
        if resp.status == 401:
            raise ContextError(
                f"context {self.context}: credentials rejected by {self.transport.server} "
                f"({resp.reason()}); the token or certificate is invalid or expired: log in "
                "again or refresh the kubeconfig"
            )
        return resp


class _Unreachable(Exception):
    def __init__(self, message: str, *, timed_out: bool = False) -> None:
        super().__init__(message)
        self.timed_out = timed_out


def capture(
    transport: Transport,
    context: str,
    *,
    options: CaptureOptions,
    cluster_name: str | None = None,
    progress: ProgressHook | None = None,
    now: datetime | None = None,
) -> tuple[Snapshot, list[Diagnostic]]:
    """Read one cluster: the kinds `options.kinds` names that it serves. Raises ContextError
    when it cannot be read at all."""
    opts = options
    cap = _Capture(transport, context, opts, progress)
    server = transport.server
    if not transport.verifies_tls:
        cap.warn(
            f"TLS certificate of {server} not verified: the kubeconfig sets "
            "insecure-skip-tls-verify for this cluster",
            code=Code.TLS_UNVERIFIED,
        )
    try:
        version = _version(cap)
    except _Unreachable as exc:
        raise ContextError(f"context {context}: cannot reach {server}: {exc}") from None
    try:
        discovery, kinds = _discover(cap, opts.kinds)
    except _Unreachable as exc:
        raise ContextError(f"context {context}: lost {server} during discovery: {exc}") from None
    lists: list[list[Object]] = []
    # Decoded objects are trees: the cyclic collector would only re-walk them (decode.py)
    with (
        gc_paused(),
        ThreadPoolExecutor(
            max_workers=max(1, opts.connections), thread_name_prefix="plumbob-list"
        ) as pool,
    ):
        lists.extend(objs for objs in pool.map(lambda k: _list_kind(cap, k), kinds) if objs)
    partly = {k.key: _PARTLY_LISTED for k in kinds if k.metadata_only or k.selector}
    snap = Snapshot(
        cluster=ClusterInfo(
            name=cluster_name or context,
            server_version=version.git_version or None,
            platform=_platform(version.git_version, discovery),
            context=context,
        ),
        objects=_chain(lists),
        captured_at=(now or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        discovery=discovery,
        not_visible=cap.not_visible,
        source=f"live {context} ({server})",
        partly_listed=partly,
    )
    return snap, cap.diagnostics


def _chain(lists: Iterable[list[Object]]) -> Iterator[Object]:
    for objs in lists:
        yield from objs


def _version(cap: _Capture) -> _Version:
    """The server's version. An answer that no Kubernetes API server gives (an HTML page, a
    404 that is not a Kubernetes Status, JSON without a gitVersion) means the kubeconfig points
    at something else: a ContextError, not an empty cluster."""
    resp = cap.fetch("/version")
    status_text = kube_status(resp.body)
    if resp.status == 200:
        try:
            version = msgspec.json.decode(resp.body, type=_Version)
        except msgspec.DecodeError:
            version = _Version()
        if version.git_version:
            return version
        raise _not_api_server(cap, resp, "answered /version without a Kubernetes version")
    if status_text is None:  # an error that did not come from an API server
        proxy = " (a proxy in front of an API server that is down?)" if resp.status >= 500 else ""
        raise _not_api_server(cap, resp, f"answered /version with {resp.reason()}{proxy}")
    cap.warn(
        f"server version not readable: {resp.reason()}", "/version", code=Code.DISCOVERY_FAILED
    )
    return _Version()


def _not_api_server(cap: _Capture, resp: Response, what: str) -> ContextError:
    shown = what if resp.status != 200 else f"{what}: {summarise(resp.body) or 'empty body'}"
    return ContextError(
        f"context {cap.context}: not a Kubernetes API server: {cap.transport.server} {shown}; "
        "check the server URL of this context in the kubeconfig"
    )


def _platform(git_version: str, discovery: Discovery) -> str | None:
    if any(gv.startswith("config.openshift.io/") for gv in discovery.group_versions):
        return "openshift"
    for marker, name in (
        ("-eks-", "eks"),
        ("-gke.", "gke"),
        ("+rke2", "rke2"),
        ("+k3s", "k3s"),
        ("-aks", "aks"),
    ):
        if marker in git_version:
            return name
    return None


def _discover(cap: _Capture, wanted: frozenset[tuple[str, str]]) -> tuple[Discovery, list[_Kind]]:
    """Groups and versions the server serves, and the kinds to list: each wanted kind in the
    first version that serves it, in the server's order of preference (a group's kinds may
    live in different versions: Velero's Schedule in v1, its DataUpload in v2alpha1)."""
    group_versions: list[str] = []
    versions: dict[str, list[str]] = {}  # group -> versions, preferred first
    failed: dict[str, str] = {}  # group -> why its discovery failed
    builtin_groups = {g for g, _ in wanted if g and g in BUILTIN_GROUPS}
    resp = cap.fetch("/api")
    core = ["v1"]
    if resp.status == 200:
        try:
            core = msgspec.json.decode(resp.body, type=_CoreVersions).versions or core
        except msgspec.DecodeError as exc:
            cap.warn(f"core API discovery unreadable: {exc}", "/api", code=Code.DISCOVERY_FAILED)
    else:
        cap.warn(f"core API discovery failed: {resp.reason()}", "/api", code=Code.DISCOVERY_FAILED)
    group_versions.extend(core)
    versions[""] = ["v1"] if "v1" in core else core[:1]
    resp = cap.fetch("/apis")
    groups: list[_Group] = []
    if resp.status == 200:
        try:
            groups = msgspec.json.decode(resp.body, type=_GroupList).groups
        except msgspec.DecodeError as exc:
            why = f"API group discovery unreadable: {exc}"
            failed.update(dict.fromkeys(builtin_groups, why))
            cap.warn(why, "/apis", code=Code.DISCOVERY_FAILED)
    else:
        why = f"API group discovery failed: {resp.reason()}"
        failed.update(dict.fromkeys(builtin_groups, why))  # CRD groups: unknown, not listed
        cap.warn(why, "/apis", code=Code.DISCOVERY_FAILED)
    wanted_groups = {g for g, _ in wanted}
    for g in groups:
        group_versions.extend(v.group_version for v in g.versions)
        pv = g.preferred_version or (g.versions[0] if g.versions else None)
        order = [_version_of(pv)] if pv is not None else []
        order += [_version_of(v) for v in g.versions if _version_of(v) not in order]
        # every version of the groups plumbob reads; the preferred one of the rest (recorded)
        versions[g.name] = order if g.name in wanted_groups else order[:1]

    def resources(gv: tuple[str, str]) -> tuple[tuple[str, str], _ResourceList | str]:
        group, version = gv
        path = f"/apis/{group}/{version}" if group else f"/api/{version}"
        r = cap.fetch(path)
        if r.status != 200:
            cap.warn(
                f"discovery of {group or 'core'}/{version} failed: {r.reason()}",
                path,
                code=Code.DISCOVERY_FAILED,
            )
            return gv, r.reason()
        try:
            return gv, msgspec.json.decode(r.body, type=_ResourceList)
        except msgspec.DecodeError as exc:
            cap.warn(
                f"discovery of {group or 'core'}/{version} unreadable: {exc}",
                path,
                code=Code.DISCOVERY_FAILED,
            )
            return gv, f"unreadable discovery document: {exc}"

    every_kind = {g for g, k in wanted if k == ANY_KIND}
    todo = [(g, v) for g, vs in versions.items() for v in vs]
    api_resources: list[ApiResource] = []
    chosen: dict[tuple[str, str], _Kind] = {}
    with ThreadPoolExecutor(max_workers=max(1, cap.options.connections)) as pool:
        found = dict(pool.map(resources, todo))
    for (group, version), rl in found.items():
        if isinstance(rl, str):
            failed.setdefault(group, f"discovery of {group or 'core'}/{version} failed: {rl}")
            continue
        gv = f"{group}/{version}" if group else version
        for res in rl.resources:
            if "/" in res.name or not res.kind:
                continue  # subresources (pods/log, deployments/scale)
            api_resources.append(
                ApiResource(
                    group_version=gv, kind=res.kind, name=res.name, namespaced=res.namespaced
                )
            )
            if (
                ((group, res.kind) in wanted or group in every_kind)
                and (not res.verbs or "list" in res.verbs)
                and res.kind not in DROPPED_KINDS
            ):
                # `found` keeps `todo` order: the most preferred version comes first
                kind = _Kind(group, version, res.kind, res.name, res.namespaced)
                chosen.setdefault((group, res.kind), kind)
    _undiscovered(cap, wanted, failed, chosen)
    if cap.progress:
        cap.progress("discovery")
    # big kinds first so the pool stays busy with the small ones at the end
    first = {"Pod": 0, "ReplicaSet": 1, "Node": 2}
    kinds = sorted(chosen.values(), key=lambda k: (first.get(k.kind, 9), k.group, k.kind))
    return Discovery(group_versions=sorted(set(group_versions)), resources=api_resources), kinds


def _version_of(gv: _GroupVersion) -> str:
    return gv.version or gv.group_version.rpartition("/")[2]


def _undiscovered(
    cap: _Capture,
    wanted: frozenset[tuple[str, str]],
    failed: dict[str, str],
    chosen: dict[tuple[str, str], _Kind],
) -> None:
    """Wanted kinds of a group whose discovery failed are "not visible": the group may serve
    them, plumbob could not tell. (A group the server does not serve is absent, not invisible.)
    """
    for group, kind in sorted(wanted):
        if group in failed and kind != ANY_KIND and (group, kind) not in chosen:
            key = kind_key(f"{group}/v1" if group else "v1", kind)
            with cap.lock:
                cap.not_visible.setdefault(key, failed[group])


def _list_kind(cap: _Capture, kind: _Kind) -> list[Object] | None:
    """Every object of one kind, page by page; None when the kind is not visible."""
    accept = METADATA_ACCEPT if kind.metadata_only else "application/json"
    decode = _page_decoder(kind, cap)
    restarts = 0
    out: list[Object] = []
    token = ""
    tokens: set[str] = set()
    while True:
        query = [("limit", str(cap.options.page_size))]
        if kind.selector:
            query.append(("fieldSelector", kind.selector))
        if token:
            query.append(("continue", token))
        try:
            resp = cap.fetch(kind.path, query, accept)
        except _Unreachable as exc:
            why = str(exc) if exc.timed_out else f"API server unreachable: {exc}"
            _invisible(cap, kind, why, Level.ERROR, Code.KIND_UNREADABLE)
            return None
        if resp.status == 410 and token and restarts < cap.options.gone_restarts:
            restarts += 1  # the continue token expired: a consistent list starts over
            cap.warn(
                f"{kind.key}: continue token expired (410 Gone), listing again "
                f"({restarts}/{cap.options.gone_restarts})",
                kind.path,
                Level.INFO,
                code=Code.LIST_RESTARTED,
            )
            out, token = [], ""
            tokens.clear()
            continue
        if resp.status in (403, 404):
            code = Code.KIND_FORBIDDEN if resp.status == 403 else Code.KIND_UNREADABLE
            _invisible(cap, kind, resp.reason(), Level.INFO, code)
            return None
        if resp.status != 200:
            _invisible(cap, kind, resp.reason(), Level.WARNING, Code.KIND_UNREADABLE)
            return None
        try:
            token = _decode_page(cap, kind, decode, resp.body, out)
        except (msgspec.DecodeError, RecursionError) as exc:
            _invisible(cap, kind, f"unreadable list page: {exc}", Level.ERROR, Code.KIND_UNREADABLE)
            return None
        if cap.progress:
            cap.progress(kind.key)
        if not token:
            return _unique(cap, kind, out)
        if token in tokens:
            # a server (or a proxy caching pages) that hands back a token it gave before
            # would keep plumbob listing forever
            _invisible(
                cap,
                kind,
                "the API server handed back a continue token it had already given: the "
                "listing would never end, so it was stopped",
                Level.ERROR,
                Code.KIND_UNREADABLE,
            )
            return None
        tokens.add(token)


def _decode_page(
    cap: _Capture, kind: _Kind, decode: PageDecoder, body: bytes, out: list[Object]
) -> str:
    """Decode one list page into `out`; an item the page cannot be decoded with (a lone
    surrogate escape, nested past the parser) is left out alone, named by its index."""
    try:
        return decode(body, out)
    except (msgspec.DecodeError, RecursionError):
        pruned = prune_items(body)
        if pruned is None or not pruned.dropped:
            raise
    for index, why in pruned.dropped:
        cap.warn(
            f"{kind.key}: item {index} of a list page skipped: {why}",
            kind.path,
            Level.ERROR,
            code=Code.JSON_INVALID,
        )
    return decode(pruned.text, out)


def _unique(cap: _Capture, kind: _Kind, objects: list[Object]) -> list[Object]:
    """`objects` with each uid once (the first): a list that changed under its pages, or a
    misbehaving server, can repeat an object, which would count its GPUs twice."""
    seen: set[str] = set()
    out: list[Object] = []
    for obj in objects:
        uid = obj.metadata.uid
        if uid:
            if uid in seen:
                continue
            seen.add(uid)
        out.append(obj)
    if len(out) < len(objects):
        cap.warn(
            f"{kind.key}: {len(objects) - len(out)} objects listed more than once (same uid), "
            "counted once",
            kind.path,
            code=Code.DUPLICATE_OBJECT,
        )
    return out


def _invisible(cap: _Capture, kind: _Kind, reason: str, level: Level, code: Code) -> None:
    with cap.lock:
        cap.not_visible[kind.key] = reason
    cap.warn(f"{kind.key} not visible: {reason}", kind.path, level, code=code)


PageDecoder = Callable[[bytes, list[Object]], str]
_set = msgspec.structs.force_setattr


def _page_decoder(kind: _Kind, cap: _Capture) -> PageDecoder:
    """A function decoding one list page into `out`, returning the continue token. Objects are
    reduced as they are decoded (model/objects.py keeps only the fields analyses read), then
    stripped of kubectl's last-applied copy, redacted, and pods share their identical parts."""
    origin = Origin(file=f"{cap.context}:{kind.path}")
    objects = ObjectDecoder(cap.compactor)
    api_version, name = kind.api_version, kind.kind
    metadata_only = kind.metadata_only
    cls = None if metadata_only else TYPED_KINDS.get((api_group(api_version), name))
    compact = cap.compactor.object

    def finish(obj: Object) -> Object:
        # objects fresh from the decoder, held by nothing else: set in place, no copies
        _set(obj, "api_version", api_version)
        _set(obj, "kind", name)
        _set(obj, "origin", None)
        # compacting also drops kubectl apply's last-applied copy of the whole object, which
        # holds Secret data and literal env values
        return compact(redact(obj))

    def slow(raw: msgspec.Raw | bytes, out: list[Object]) -> None:
        try:
            data = _dict.decode(raw)
        except msgspec.DecodeError as exc:
            objects.problem(
                Level.ERROR, origin, f"malformed {name} in list: {exc}", code=Code.JSON_INVALID
            )
            return
        if metadata_only:
            data = {"metadata": data.get("metadata")}
        data["apiVersion"], data["kind"] = api_version, name
        obj = objects.from_data(data, origin)
        if obj is not None:
            out.append(finish(obj))

    def flush_diagnostics() -> None:
        if objects.diagnostics:
            with cap.lock:
                cap.diagnostics.extend(objects.diagnostics)
            objects.diagnostics.clear()

    if cls is None:

        def generic(body: bytes, out: list[Object]) -> str:
            page = _raw_page.decode(body)
            for raw in page.items or ():
                slow(raw, out)
            flush_diagnostics()
            return page.metadata.continue_

        return generic

    typed_page = msgspec.json.Decoder(_Page[cls])  # type: ignore[valid-type]
    typed_item = msgspec.json.Decoder(cls)

    def typed(body: bytes, out: list[Object]) -> str:
        try:
            page = typed_page.decode(body)
        except msgspec.DecodeError:
            # one odd object (a wrong type, text that is not UTF-8): decode the page item by
            # item so only that one is degraded or left out
            raw_page = _raw_page.decode(body)
            for raw in raw_page.items or ():
                try:
                    out.append(finish(typed_item.decode(raw)))
                except msgspec.DecodeError:
                    slow(raw, out)
            flush_diagnostics()
            return raw_page.metadata.continue_
        out.extend(map(finish, page.items or ()))
        return page.metadata.continue_

    return typed


# ------------------------------------------------------------------------- the source


@dataclass(frozen=True, slots=True, kw_only=True)
class LiveSource:
    """Live clusters: the named contexts, every context, the current one, or in-cluster; each
    listing the kinds `options.kinds` names."""

    contexts: tuple[str, ...] = ()
    all_contexts: bool = False
    kubeconfig: str | None = None
    in_cluster: bool | None = None
    """True: the pod's service account; None: use it when there is no kubeconfig context
    to use and the pod has one."""
    cluster: str | None = None
    """Cluster name for a single context (default: the context name)."""
    options: CaptureOptions
    service_account_dir: Path = SERVICE_ACCOUNT_DIR
    environ: dict[str, str] | None = None

    def targets(self) -> list[Target]:
        if self.in_cluster:
            return [self._in_cluster()]
        try:
            names, current = list_contexts(self.kubeconfig)
        except ContextError:
            if (
                self.in_cluster is None
                and self.kubeconfig is None
                and not self.contexts
                and not self.all_contexts
                and in_cluster_available(self.service_account_dir, self.environ)
            ):
                return [self._in_cluster()]
            raise
        if self.all_contexts:
            chosen = names
        elif self.contexts:
            unknown = [c for c in self.contexts if c not in names]
            if unknown:
                raise ContextError(
                    f"no context {', '.join(map(repr, unknown))} in the "
                    f"kubeconfig; have: {', '.join(names) or 'none'}"
                )
            chosen = list(dict.fromkeys(self.contexts))
        elif current:
            chosen = [current]
        else:
            raise ContextError(
                "the kubeconfig has no current-context: use --context NAME or --all-contexts"
            )
        return [Target(context=c, kubeconfig=self.kubeconfig) for c in chosen]

    def _in_cluster(self) -> Target:
        return Target(
            context=IN_CLUSTER,
            in_cluster=True,
            service_account_dir=self.service_account_dir,
            environ=self.environ,
        )

    def load(self, progress: ProgressHook | None = None) -> Loaded:
        loaded = Loaded()
        try:
            targets = self.targets()
        except ContextError as exc:
            raise SourceError(str(exc)) from None
        failures: list[str] = []
        # --cluster names one cluster: with several contexts each keeps its context's name
        name = self.cluster if len(targets) == 1 else None
        for target in targets:
            try:
                snap, diags = self.capture_one(target, progress, name)
            except ContextError as exc:
                failures.append(str(exc))
                loaded.diagnostics.append(
                    Diagnostic(
                        level=Level.ERROR,
                        code=Code.CONTEXT_UNREACHABLE,
                        message=str(exc),
                        cluster=target.context,
                    )
                )
                continue
            loaded.snapshots.append(snap)
            loaded.diagnostics.extend(diags)
        if not loaded.snapshots:
            raise SourceError("; ".join(failures) or "no cluster to read")
        return loaded

    def capture_one(
        self, target: Target, progress: ProgressHook | None = None, name: str | None = None
    ) -> tuple[Snapshot, list[Diagnostic]]:
        o = self.options
        transport = Transport(
            target,
            connections=o.connections,
            timeout=o.timeout,
            retries=o.retries,
            backoff=o.backoff,
            max_backoff=o.max_backoff,
            compress=o.compress,
            deadline=time.monotonic() + o.deadline if o.deadline else None,
            on_retry=_retry_notice(target.context, progress),
        )
        try:
            if target.in_cluster:
                env = os.environ if self.environ is None else self.environ
                name = name or env.get("PLUMBOB_CLUSTER_NAME")
            return capture(
                transport, target.context, cluster_name=name, options=o, progress=progress
            )
        finally:
            transport.close()


RETRY = "retry"
"""A progress description starting with this reports a retry (a wait), not a finished unit."""


def _retry_notice(context: str, progress: ProgressHook | None) -> Callable[[str], None] | None:
    if progress is None:
        return None

    def notice(message: str) -> None:
        # the transport's notices read "retry 2/5 of GET /path: why"
        progress(f"{message} (context {context})")

    return notice


__all__ = [
    "ANY_KIND",
    "RETRY",
    "CaptureOptions",
    "LiveSource",
    "capture",
]
