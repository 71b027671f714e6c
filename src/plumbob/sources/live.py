"""Live clusters: capture one Snapshot per kubeconfig context (or the pod's service account).

Per context: server version, API discovery (groups, versions, resources, CRDs), then a paginated
list (`limit`/`continue`) of every kind the analyses read plus the AI CRDs the cluster serves,
several kinds at a time over a bounded connection pool. Each page is decoded as it arrives into
plumbob's reduced objects (model/objects.py: only the fields analyses read), so a 150,000-pod
cluster never holds its full pod JSON. A 403/404 for one kind becomes `not_visible[kind]`; an
unreachable server or rejected credentials is one error line naming the context, and the other
contexts still scan. Secrets are listed as metadata only, and credential-looking environment
values are redacted (kube_redact.py).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any, Generic, TypeVar

import msgspec

from plumbob.knowledge import load_table
from plumbob.model.objects import (
    TYPED_KINDS,
    Object,
    Origin,
    api_group,
    kind_key,
)
from plumbob.model.snapshot import ApiResource, ClusterInfo, Discovery, Snapshot
from plumbob.report.model import Diagnostic, Level
from plumbob.sources.decode import DROPPED_KINDS, ObjectDecoder
from plumbob.sources.interface import Loaded, ProgressHook, SourceError
from plumbob.sources.kube_client import (
    IN_CLUSTER,
    SERVICE_ACCOUNT_DIR,
    ContextError,
    Response,
    Target,
    Transport,
    in_cluster_available,
    list_contexts,
)
from plumbob.sources.kube_redact import redact

BUILTIN_KINDS: tuple[tuple[str, str], ...] = (
    ("", "Node"),
    ("", "Namespace"),
    ("", "Pod"),
    ("", "Service"),
    ("", "ResourceQuota"),
    ("", "LimitRange"),
    ("", "PersistentVolumeClaim"),
    ("", "PersistentVolume"),
    ("", "Secret"),
    ("apps", "Deployment"),
    ("apps", "StatefulSet"),
    ("apps", "DaemonSet"),
    ("apps", "ReplicaSet"),
    ("batch", "Job"),
    ("batch", "CronJob"),
    ("autoscaling", "HorizontalPodAutoscaler"),
    ("policy", "PodDisruptionBudget"),
    ("scheduling.k8s.io", "PriorityClass"),
    ("node.k8s.io", "RuntimeClass"),
    ("networking.k8s.io", "NetworkPolicy"),
    ("storage.k8s.io", "StorageClass"),
    ("admissionregistration.k8s.io", "ValidatingAdmissionPolicy"),
    ("admissionregistration.k8s.io", "ValidatingAdmissionPolicyBinding"),
    ("admissionregistration.k8s.io", "ValidatingWebhookConfiguration"),
    ("admissionregistration.k8s.io", "MutatingWebhookConfiguration"),
    ("apiregistration.k8s.io", "APIService"),
    ("snapshot.storage.k8s.io", "VolumeSnapshot"),
    ("snapshot.storage.k8s.io", "VolumeSnapshotClass"),
    ("resource.k8s.io", "ResourceClaim"),
    ("resource.k8s.io", "ResourceClaimTemplate"),
    ("resource.k8s.io", "DeviceClass"),
    ("resource.k8s.io", "ResourceSlice"),
)
"""Built-in kinds plumbob lists when the server serves them. ConfigMaps and Events are never
read; Secrets are read as metadata only (PartialObjectMetadataList)."""

METADATA_ONLY = frozenset({("", "Secret")})
METADATA_ACCEPT = (
    "application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io,application/json"
)
ANY_KIND = "*"


@cache
def ai_crd_kinds() -> frozenset[tuple[str, str]]:
    """(group, kind) of every CRD in knowledge/ai_components.yaml; kind '*' for groups whose
    kinds are generated at runtime (Gatekeeper constraints)."""
    out: set[tuple[str, str]] = set()
    for comp in load_table("ai_components").get("components", []):
        for key in ("crds", "crds_used"):
            for crd in comp.get(key) or []:
                group, kind = crd.get("group"), crd.get("kind")
                if isinstance(group, str) and isinstance(kind, str):
                    out.add((group, ANY_KIND if kind.startswith("<") else kind))
    return frozenset(out)


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


# ------------------------------------------------------------------------- options


@dataclass(frozen=True, slots=True)
class CaptureOptions:
    page_size: int = 500
    connections: int = 4
    """Kinds listed in parallel; also the connection pool size."""
    timeout: float = 60.0
    """Seconds per request (connect + read)."""
    retries: int = 5
    backoff: float = 0.5
    max_backoff: float = 10.0
    gone_restarts: int = 3
    """How often one list starts over after `410 Gone` (its continue token expired)."""
    extra_kinds: tuple[tuple[str, str], ...] = ()


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

    def warn(self, message: str, path: str | None = None, level: Level = Level.WARNING) -> None:
        with self.lock:
            self.diagnostics.append(
                Diagnostic(level=level, message=message, path=path, cluster=self.context)
            )

    def fetch(
        self, path: str, query: Iterable[tuple[str, str]] = (), accept: str = "application/json"
    ) -> Response:
        try:
            resp = self.transport.get(path, tuple(query), accept)
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
    pass


def capture(
    transport: Transport,
    context: str,
    *,
    cluster_name: str | None = None,
    options: CaptureOptions | None = None,
    progress: ProgressHook | None = None,
    now: datetime | None = None,
) -> tuple[Snapshot, list[Diagnostic]]:
    """Read one cluster. Raises ContextError when it cannot be read at all."""
    opts = options or CaptureOptions()
    cap = _Capture(transport, context, opts, progress)
    server = transport.server
    try:
        version = _version(cap)
    except _Unreachable as exc:
        raise ContextError(f"context {context}: cannot reach {server}: {exc}") from None
    try:
        discovery, kinds = _discover(cap, opts.extra_kinds)
    except _Unreachable as exc:
        raise ContextError(f"context {context}: lost {server} during discovery: {exc}") from None
    objects: dict[str, list[Object]] = {}
    with ThreadPoolExecutor(
        max_workers=max(1, opts.connections), thread_name_prefix="plumbob-list"
    ) as pool:
        for k, objs in zip(kinds, pool.map(lambda k: _list_kind(cap, k), kinds), strict=True):
            if objs is not None:
                objects[k.key] = objs
    snap = Snapshot(
        cluster=ClusterInfo(
            name=cluster_name or context,
            server_version=version.git_version or None,
            platform=_platform(version.git_version, discovery),
            context=context,
        ),
        objects=_chain(objects.values()),
        captured_at=(now or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        discovery=discovery,
        not_visible=cap.not_visible,
        source=f"live {context} ({server})",
    )
    return snap, cap.diagnostics


def _chain(lists: Iterable[list[Object]]) -> Iterator[Object]:
    for objs in lists:
        yield from objs


def _version(cap: _Capture) -> _Version:
    resp = cap.fetch("/version")
    if resp.status != 200:
        cap.warn(f"server version not readable: {resp.reason()}", "/version")
        return _Version()
    try:
        return msgspec.json.decode(resp.body, type=_Version)
    except msgspec.DecodeError as exc:
        cap.warn(f"server version not readable: {exc}", "/version")
        return _Version()


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


def _discover(cap: _Capture, extra: tuple[tuple[str, str], ...]) -> tuple[Discovery, list[_Kind]]:
    group_versions: list[str] = []
    preferred: list[tuple[str, str]] = []  # (group, version) whose resources are read
    resp = cap.fetch("/api")
    if resp.status == 200:
        core = msgspec.json.decode(resp.body, type=_CoreVersions).versions or ["v1"]
        group_versions.extend(core)
        preferred.append(("", "v1" if "v1" in core else core[0]))
    else:
        cap.warn(f"core API discovery failed: {resp.reason()}", "/api")
        preferred.append(("", "v1"))
    resp = cap.fetch("/apis")
    if resp.status == 200:
        for g in msgspec.json.decode(resp.body, type=_GroupList).groups:
            group_versions.extend(v.group_version for v in g.versions)
            pv = g.preferred_version or (g.versions[0] if g.versions else None)
            if pv is not None:
                preferred.append((g.name, pv.version or pv.group_version.rpartition("/")[2]))
    else:
        cap.warn(f"API group discovery failed: {resp.reason()}", "/apis")

    def resources(gv: tuple[str, str]) -> tuple[tuple[str, str], _ResourceList | None]:
        group, version = gv
        path = f"/apis/{group}/{version}" if group else f"/api/{version}"
        r = cap.fetch(path)
        if r.status != 200:
            cap.warn(f"discovery of {group or 'core'}/{version} failed: {r.reason()}", path)
            return gv, None
        try:
            return gv, msgspec.json.decode(r.body, type=_ResourceList)
        except msgspec.DecodeError as exc:
            cap.warn(f"discovery of {group or 'core'}/{version} unreadable: {exc}", path)
            return gv, None

    wanted = set(BUILTIN_KINDS) | ai_crd_kinds() | set(extra)
    wanted_groups = {g for g, k in wanted if k == ANY_KIND}
    api_resources: list[ApiResource] = []
    kinds: list[_Kind] = []
    with ThreadPoolExecutor(max_workers=max(1, cap.options.connections)) as pool:
        for (group, version), rl in pool.map(resources, preferred):
            if rl is None:
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
                    ((group, res.kind) in wanted or group in wanted_groups)
                    and (not res.verbs or "list" in res.verbs)
                    and res.kind not in DROPPED_KINDS
                ):
                    kinds.append(_Kind(group, version, res.kind, res.name, res.namespaced))
    if cap.progress:
        cap.progress("discovery")
    # big kinds first so the pool stays busy with the small ones at the end
    order = {"Pod": 0, "ReplicaSet": 1, "Node": 2}
    kinds.sort(key=lambda k: (order.get(k.kind, 9), k.group, k.kind))
    return Discovery(group_versions=sorted(set(group_versions)), resources=api_resources), kinds


def _list_kind(cap: _Capture, kind: _Kind) -> list[Object] | None:
    """Every object of one kind, page by page; None when the kind is not visible."""
    metadata_only = (kind.group, kind.kind) in METADATA_ONLY
    accept = METADATA_ACCEPT if metadata_only else "application/json"
    decode = _page_decoder(kind, cap, metadata_only)
    restarts = 0
    out: list[Object] = []
    token = ""
    while True:
        query = [("limit", str(cap.options.page_size))]
        if token:
            query.append(("continue", token))
        try:
            resp = cap.fetch(kind.path, query, accept)
        except _Unreachable as exc:
            _invisible(cap, kind, f"API server unreachable: {exc}", Level.ERROR)
            return None
        if resp.status == 410 and token and restarts < cap.options.gone_restarts:
            restarts += 1  # the continue token expired: a consistent list starts over
            cap.warn(
                f"{kind.key}: continue token expired (410 Gone), listing again "
                f"({restarts}/{cap.options.gone_restarts})",
                kind.path,
                Level.INFO,
            )
            out, token = [], ""
            continue
        if resp.status in (403, 404):
            _invisible(cap, kind, resp.reason(), Level.INFO)
            return None
        if resp.status != 200:
            _invisible(cap, kind, resp.reason(), Level.WARNING)
            return None
        try:
            token = decode(resp.body, out)
        except msgspec.DecodeError as exc:
            _invisible(cap, kind, f"unreadable list page: {exc}", Level.ERROR)
            return None
        if cap.progress:
            cap.progress(kind.key)
        if not token:
            return out


def _invisible(cap: _Capture, kind: _Kind, reason: str, level: Level) -> None:
    with cap.lock:
        cap.not_visible[kind.key] = reason
    cap.warn(f"{kind.key} not visible: {reason}", kind.path, level)


PageDecoder = Callable[[bytes, list[Object]], str]


def _page_decoder(kind: _Kind, cap: _Capture, metadata_only: bool) -> PageDecoder:
    """A function decoding one list page into `out`, returning the continue token."""
    origin = Origin(file=f"{cap.context}:{kind.path}")
    objects = ObjectDecoder()
    api_version, name = kind.api_version, kind.kind
    cls = None if metadata_only else TYPED_KINDS.get((api_group(api_version), name))

    def finish(obj: Object) -> Object:
        return redact(msgspec.structs.replace(obj, api_version=api_version, kind=name, origin=None))

    def slow(raw: msgspec.Raw | bytes, out: list[Object]) -> None:
        try:
            data = _dict.decode(raw)
        except msgspec.DecodeError as exc:
            objects.problem(Level.ERROR, origin, f"malformed {name} in list: {exc}")
            return
        data["apiVersion"], data["kind"] = api_version, name
        if metadata_only:
            data = {"apiVersion": api_version, "kind": name, "metadata": data.get("metadata")}
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
        except msgspec.ValidationError:
            # one odd object: decode the page item by item so only that one is degraded
            raw_page = _raw_page.decode(body)
            for raw in raw_page.items or ():
                try:
                    out.append(finish(typed_item.decode(raw)))
                except msgspec.ValidationError:
                    slow(raw, out)
            flush_diagnostics()
            return raw_page.metadata.continue_
        out.extend(finish(obj) for obj in page.items or ())
        return page.metadata.continue_

    return typed


# ------------------------------------------------------------------------- the source


@dataclass(frozen=True, slots=True)
class LiveSource:
    """Live clusters: the named contexts, every context, the current one, or in-cluster."""

    contexts: tuple[str, ...] = ()
    all_contexts: bool = False
    kubeconfig: str | None = None
    in_cluster: bool | None = None
    """True: the pod's service account; None: use it when there is no kubeconfig context
    to use and the pod has one."""
    cluster: str | None = None
    """Cluster name for a single context (default: the context name)."""
    options: CaptureOptions = CaptureOptions()
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
                and not self.contexts
                and not self.all_contexts
                and (in_cluster_available(self.service_account_dir, self.environ))
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
        for target in targets:
            try:
                snap, diags = self.capture_one(target, progress)
            except ContextError as exc:
                failures.append(str(exc))
                loaded.diagnostics.append(
                    Diagnostic(level=Level.ERROR, message=str(exc), cluster=target.context)
                )
                continue
            loaded.snapshots.append(snap)
            loaded.diagnostics.extend(diags)
        if not loaded.snapshots:
            raise SourceError("; ".join(failures) or "no cluster to read")
        return loaded

    def capture_one(
        self, target: Target, progress: ProgressHook | None = None
    ) -> tuple[Snapshot, list[Diagnostic]]:
        o = self.options
        transport = Transport(
            target,
            connections=o.connections,
            timeout=o.timeout,
            retries=o.retries,
            backoff=o.backoff,
            max_backoff=o.max_backoff,
        )
        try:
            name = self.cluster if self.cluster and len(self.contexts) <= 1 else None
            if target.in_cluster:
                env = os.environ if self.environ is None else self.environ
                name = name or env.get("PLUMBOB_CLUSTER_NAME")
            return capture(
                transport, target.context, cluster_name=name, options=o, progress=progress
            )
        finally:
            transport.close()


__all__ = ["BUILTIN_KINDS", "CaptureOptions", "LiveSource", "ai_crd_kinds", "capture"]
