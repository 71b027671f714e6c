"""Loading a fleet of objects (the demo's, or any `kubectl get -o json` items) into the test API
server as a cluster would hold them.

- CustomResourceDefinitions for the custom kinds used, made from knowledge/ai_components.yaml:
  group, kind, plural, scope, every served version and the storage version, as each project's
  own CRD file declares them (the table names the file), with a status subresource and a
  schema that keeps every field (`x-kubernetes-preserve-unknown-fields`): structural copies.
- Namespaces first, then every object by server-side apply, owners before what they own
  (ownerReferences rewritten to the uids the server gave the owners), and each object's
  `status` through the status subresource, as the kubelet and the controllers write it. Pods
  arrive bound (`spec.nodeName`), as the scheduler leaves them.
- What the server sets itself is left to it: uid, resourceVersion, creationTimestamp,
  generation, managedFields, and a Service's cluster IPs (allocated from this server's range).
  A Job's selector names its old uid, so it is stored as a manual selector.
- Afterwards the server holds this fleet, whatever an earlier load left there (a server kept
  running between test runs holds the fleet of an earlier revision of the demo). Everything is
  applied as one field manager (FLEET_MANAGER unless told). An object the server will not
  change in place (a Pod bound to another node: a Pod's spec is immutable) is deleted and
  created anew, as `kubectl replace --force` does. What an earlier load made that this fleet
  lacks (an object that manager alone manages) is deleted, as `kubectl apply --prune` does;
  objects that others made or changed (the server's own namespaces, the test setup's
  ServiceAccount) are kept. An object that sets no field but its name leaves the server no
  record of its manager, so a namespace the objects use without declaring it is made with the
  label the server gives every namespace anyway.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from plumbob.knowledge import load_table
from plumbob.model.objects import BUILTIN_GROUPS
from tests.services.kubeadmin import Api, KubeError

FLEET_MANAGER = "plumbob-tests-fleet"
"""The field manager `load` applies as unless told: an object it alone manages (a controller
may have written its status) was made by a load."""
METADATA_LIST = "application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io"
"""Accept header of a list of metadata only (what pruning reads)."""
SERVER_FINALIZERS = frozenset({"customresourcecleanup.apiextensions.k8s.io"})
"""Finalizers the API server's own controllers remove (a CRD's, once its objects are gone);
the others belong to controllers that do not run here and are dropped before a delete."""

Identity = tuple[str, str, str, str]
"""(API group, resource, namespace, name) of an object, whatever version it is read in."""

SERVER_SET = (
    "uid",
    "resourceVersion",
    "creationTimestamp",
    "generation",
    "managedFields",
    "selfLink",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
)


@dataclass(slots=True)
class Loaded:
    objects: int = 0
    statuses: int = 0
    crds: list[str] = field(default_factory=list)
    uids: dict[str, str] = field(default_factory=dict)
    """The fixture's uid -> the server's."""
    problems: list[str] = field(default_factory=list)
    """One line per object the server refused: kind namespace/name: status message."""
    replaced: int = 0
    """Objects an earlier load left that the server would not change in place."""
    pruned: list[str] = field(default_factory=list)
    """`group/resource namespace/name` of each object an earlier load left that this fleet
    lacks, deleted."""


def group_of(api_version: str) -> str:
    return api_version.rpartition("/")[0] if "/" in api_version else ""


def crd_rows() -> dict[str, list[dict[str, Any]]]:
    """The knowledge table's CRD rows by group (first row of a kind wins)."""
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    seen: set[tuple[str, str]] = set()
    for comp in load_table("ai_components").get("components", []):
        for key in ("crds", "crds_used"):
            for row in comp.get(key) or []:
                kind = row.get("kind")
                if not isinstance(kind, str) or kind.startswith("<") or not row.get("plural"):
                    continue
                if (row["group"], kind) not in seen and row.get("versions"):
                    seen.add((row["group"], kind))
                    out[row["group"]].append(row)
    return out


def crd(row: dict[str, Any]) -> dict[str, Any]:
    """A structural copy of one CRD from its knowledge row."""
    raw = [str(v) for v in row["versions"]]
    names = [v.rstrip("*") for v in raw]
    storage = next((v.rstrip("*") for v in raw if v.endswith("*")), names[0])
    kind, plural = row["kind"], row["plural"]
    schema = {
        "openAPIV3Schema": {
            "type": "object",
            "x-kubernetes-preserve-unknown-fields": True,
        }
    }
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{plural}.{row['group']}"},
        "spec": {
            "group": row["group"],
            "scope": row.get("scope", "Namespaced"),
            "names": {
                "kind": kind,
                "plural": plural,
                "singular": kind.lower(),
                "listKind": f"{kind}List",
            },
            "versions": [
                {
                    "name": v,
                    "served": True,
                    "storage": v == storage,
                    "schema": schema,
                    "subresources": {"status": {}},
                }
                for v in names
            ],
        },
    }


def for_server(obj: dict[str, Any], uids: dict[str, str]) -> dict[str, Any]:
    """The object as it is sent: server-set fields left out, owners' uids the server's."""
    meta = {k: v for k, v in (obj.get("metadata") or {}).items() if k not in SERVER_SET}
    if meta.get("ownerReferences"):
        meta["ownerReferences"] = [
            {**ref, "uid": uids.get(ref.get("uid", ""), ref.get("uid", ""))}
            for ref in meta["ownerReferences"]
        ]
    out = {**obj, "metadata": meta}
    if obj.get("kind") == "Job" and obj.get("apiVersion") == "batch/v1":
        # a Job's selector and pod labels carry its uid (controller-uid), which this server
        # assigns anew: stored as given, as a selector the Job declares itself
        out["spec"] = {**(obj.get("spec") or {}), "manualSelector": True}
    if obj.get("kind") == "Service" and obj.get("apiVersion") == "v1":
        spec = {
            k: v for k, v in (obj.get("spec") or {}).items() if k not in ("clusterIP", "clusterIPs")
        }
        if (obj.get("spec") or {}).get("clusterIP") == "None":
            spec["clusterIP"] = "None"  # headless stays headless
        out["spec"] = spec
    return out


def install_crds(api: Api, groups: Iterable[str], manager: str = FLEET_MANAGER) -> list[str]:
    rows = crd_rows()
    made = []
    for group in sorted(set(groups)):
        for row in rows.get(group, []):
            doc = crd(row)
            api.apply(doc, manager=manager)
            made.append(doc["metadata"]["name"])
    for name in made:
        api.wait_established(name)
    return made


def identity(api: Api, obj: dict[str, Any]) -> Identity:
    plural, namespaced = api.resource(obj["apiVersion"], obj["kind"])
    meta = obj["metadata"]
    namespace = (meta.get("namespace") or "default") if namespaced else ""
    return group_of(obj["apiVersion"]), plural, namespace, meta["name"]


def _apply(api: Api, body: dict[str, Any], manager: str) -> tuple[Any, bool]:
    """Apply; an object the server refuses to change in place (422 while it exists) is
    deleted and created anew. Returns the server's answer and whether it was replaced."""
    try:
        return api.apply(body, manager=manager), False
    except KubeError as exc:
        if exc.status != 422 or api.request("GET", api.path(body))[0] != 200:
            raise  # refused as it is, not for what an earlier load left
    remove(api, api.path(body))
    return api.apply(body, manager=manager), True


def load(
    api: Api,
    objects: Iterable[dict[str, Any]],
    *,
    workers: int = 8,
    prune: bool = True,
    manager: str = FLEET_MANAGER,
) -> Loaded:
    """Load the objects; refused ones are counted in `problems`, the rest still load. With
    prune (not needed on a server just started), what an earlier load by the same manager left
    is deleted."""
    items = [o for o in objects if o.get("kind") and o.get("metadata", {}).get("name")]
    out = Loaded()
    groups = {group_of(o["apiVersion"]) for o in items}
    out.crds = install_crds(api, {g for g in groups if g not in BUILTIN_GROUPS and g}, manager)
    keep: set[Identity] = {
        ("apiextensions.k8s.io", "customresourcedefinitions", "", name) for name in out.crds
    }
    lock = threading.Lock()

    def one(obj: dict[str, Any]) -> None:
        body = for_server(obj, out.uids)
        meta = obj.get("metadata") or {}
        where = f"{obj['kind']} {meta.get('namespace', '')}/{meta['name']}".replace(" /", " ")
        try:
            ident = identity(api, obj)
            with lock:
                keep.add(ident)
            made, replaced = _apply(api, body, manager)
            with lock:
                out.objects += 1
                out.replaced += replaced
                if meta.get("uid"):
                    out.uids[meta["uid"]] = made["metadata"]["uid"]
            if obj.get("status"):
                api.apply(body, status=True, manager=manager)
                with lock:
                    out.statuses += 1
        except KubeError as exc:
            with lock:
                out.problems.append(f"{where}: {exc}")

    namespaces = [o for o in items if o["kind"] == "Namespace" and o["apiVersion"] == "v1"]
    declared = {o["metadata"]["name"] for o in namespaces}
    used = {o["metadata"].get("namespace") for o in items} - declared - {None, ""}
    namespaces += [_namespace(n) for n in sorted(used)]
    rest = [o for o in items if not (o["kind"] == "Namespace" and o["apiVersion"] == "v1")]
    fleet_uids = {o["metadata"].get("uid") for o in rest} - {None}
    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(one, namespaces))
        # owners before what they own: each wave holds the objects whose owners have loaded
        while rest:
            ready, waiting = [], []
            for o in rest:
                owners = {r.get("uid") for r in o["metadata"].get("ownerReferences") or []}
                pending = {u for u in owners & fleet_uids if u not in out.uids}
                (waiting if pending else ready).append(o)
            if not ready:  # owners that never loaded (refused): load the rest as they are
                ready, waiting = waiting, []
            list(pool.map(one, ready))
            rest = waiting
    if prune:
        out.pruned = prune_except(api, keep, manager, workers=workers)
    return out


def _namespace(name: str) -> dict[str, Any]:
    """A namespace the objects use and do not declare, with the label the server gives every
    namespace anyway: a field its manager owns, so that a later load knows a load made it."""
    meta = {"name": name, "labels": {"kubernetes.io/metadata.name": name}}
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": meta}


def _served(api: Api) -> Iterable[tuple[str, str, str]]:
    """(group, version path, resource) of every resource the server lists and deletes, in
    its group's preferred version."""
    versions = [("", "/api/v1")] + [
        (g["name"], "/apis/" + g["preferredVersion"]["groupVersion"])
        for g in api.ok("GET", "/apis")["groups"]
    ]
    for group, base in versions:
        for r in api.ok("GET", base)["resources"]:
            if "/" not in r["name"] and {"list", "delete"} <= set(r.get("verbs") or ()):
                yield group, base, r["name"]


def _loaded_alone(meta: dict[str, Any], manager: str) -> bool:
    """Whether `manager` alone made and changed the object (its status aside)."""
    managers = {
        e.get("manager")
        for e in meta.get("managedFields") or []
        if e.get("subresource") != "status"
    }
    return managers == {manager}


def prune_except(
    api: Api, keep: set[Identity], manager: str = FLEET_MANAGER, *, workers: int = 8
) -> list[str]:
    """Delete what a load made (`manager` alone manages it) that is not in `keep`: the
    namespaced objects and cluster-scoped ones first, then namespaces nothing is left in.
    Returns `group/resource namespace/name` of each."""
    doomed: list[tuple[Identity, str]] = []
    occupied: set[str] = set()
    for group, base, plural in _served(api):
        query = {"limit": "500"}
        while True:
            doc = api.ok("GET", f"{base}/{plural}", query=query, accept=METADATA_LIST)
            for item in doc.get("items") or []:
                meta = item["metadata"]
                namespace = meta.get("namespace") or ""
                ident = (group, plural, namespace, meta["name"])
                if ident in keep or not _loaded_alone(meta, manager):
                    occupied.add(namespace)
                    continue
                where = f"/namespaces/{namespace}" if namespace else ""
                doomed.append((ident, f"{base}{where}/{plural}/{meta['name']}"))
            if not doc["metadata"].get("continue"):
                break
            query = {"limit": "500", "continue": doc["metadata"]["continue"]}
    objects = [d for d in doomed if d[0][:2] != ("", "namespaces")]
    namespaces = [d for d in doomed if d[0][:2] == ("", "namespaces") and d[0][3] not in occupied]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(lambda d: remove(api, d[1]), objects))
    for _, path in namespaces:
        remove(api, path)
    return [_where(ident) for ident, _ in objects + namespaces]


def _where(ident: Identity) -> str:
    group, plural, namespace, name = ident
    resource = f"{group}/{plural}" if group else plural
    return f"{resource} {namespace}/{name}" if namespace else f"{resource} {name}"


def remove(api: Api, path: str) -> None:
    """Delete an object at once: no grace period (no kubelet confirms a pod's end), the
    finalizers of controllers that do not run here dropped, a Namespace finalized by hand
    (no namespace controller runs here)."""
    status, doc = api.request("DELETE", path, query={"gracePeriodSeconds": "0"})
    if status == 404:
        return
    if status not in (200, 202) or not isinstance(doc, dict):
        raise KubeError(status, f"DELETE {path}: {status} {_message(doc)}")
    meta = doc.get("metadata") or {}
    finalizers = meta.get("finalizers") or []
    if any(f not in SERVER_FINALIZERS for f in finalizers):
        kept = [f for f in finalizers if f in SERVER_FINALIZERS]
        patch = {"metadata": {"finalizers": kept or None}}
        status, answer = api.request(
            "PATCH", path, patch, content_type="application/merge-patch+json"
        )
        if status not in (200, 404):
            raise KubeError(status, f"PATCH {path}: {status} {_message(answer)}")
    if doc.get("kind") == "Namespace":
        name = meta["name"]
        body = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}
        status, answer = api.request(
            "PUT", f"{path}/finalize", {**body, "spec": {"finalizers": []}}
        )
        if status not in (200, 404):
            raise KubeError(status, f"PUT {path}/finalize: {status} {_message(answer)}")


def _message(doc: Any) -> Any:
    return doc.get("message") if isinstance(doc, dict) else doc


SHARD_LABEL = "plumbob.dev/test-shard"
"""Label splitting many test objects into groups deleted in parallel."""
SHARDS = 8


def delete_namespace(api: Api, name: str, kinds: Iterable[str] = ("pods",)) -> None:
    """Remove a namespace and what the tests put in it. No namespace controller runs here, so
    its contents are deleted by collection and the namespace is finalized by hand; pods at once
    (no kubelet will confirm a graceful end)."""

    def delete(plural: str, selector: str) -> None:
        query = {"gracePeriodSeconds": "0"}
        if selector:
            query["labelSelector"] = selector
        status, _ = api.request("DELETE", f"/api/v1/namespaces/{name}/{plural}", query=query)
        if status not in (200, 404):
            raise KubeError(status, f"deleting {plural} of {name}: {status}")

    selectors = [f"{SHARD_LABEL}={i}" for i in range(SHARDS)]
    with ThreadPoolExecutor(max_workers=SHARDS) as pool:
        for plural in kinds:
            list(pool.map(lambda sel, plural=plural: delete(plural, sel), selectors))
            delete(plural, "")  # whatever carries no shard label
    status, _ = api.request("DELETE", f"/api/v1/namespaces/{name}")
    if status == 404:
        return
    api.request(
        "PUT",
        f"/api/v1/namespaces/{name}/finalize",
        {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {"name": name},
            "spec": {"finalizers": []},
        },
    )
