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


def install_crds(api: Api, groups: Iterable[str]) -> list[str]:
    rows = crd_rows()
    made = []
    for group in sorted(set(groups)):
        for row in rows.get(group, []):
            doc = crd(row)
            api.apply(doc)
            made.append(doc["metadata"]["name"])
    for name in made:
        api.wait_established(name)
    return made


def load(api: Api, objects: Iterable[dict[str, Any]], *, workers: int = 8) -> Loaded:
    """Load the objects; refused ones are counted in `problems`, the rest still load."""
    items = [o for o in objects if o.get("kind") and o.get("metadata", {}).get("name")]
    out = Loaded()
    groups = {group_of(o["apiVersion"]) for o in items}
    out.crds = install_crds(api, {g for g in groups if g not in BUILTIN_GROUPS and g})
    lock = threading.Lock()

    def one(obj: dict[str, Any]) -> None:
        body = for_server(obj, out.uids)
        meta = obj.get("metadata") or {}
        where = f"{obj['kind']} {meta.get('namespace', '')}/{meta['name']}".replace(" /", " ")
        try:
            made = api.apply(body)
            with lock:
                out.objects += 1
                if meta.get("uid"):
                    out.uids[meta["uid"]] = made["metadata"]["uid"]
            if obj.get("status"):
                api.apply(body, status=True)
                with lock:
                    out.statuses += 1
        except KubeError as exc:
            with lock:
                out.problems.append(f"{where}: {exc}")

    namespaces = [o for o in items if o["kind"] == "Namespace" and o["apiVersion"] == "v1"]
    declared = {o["metadata"]["name"] for o in namespaces}
    used = {o["metadata"].get("namespace") for o in items} - declared - {None, ""}
    namespaces += [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": n}} for n in sorted(used)
    ]
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
    return out


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
