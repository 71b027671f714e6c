"""Shared helpers of the demo generator: fixed clock, stable ids, metadata, quantities."""

from __future__ import annotations

import hashlib
import json
import marshal
import time
import uuid
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

Obj = dict[str, Any]

BASE_TIME = datetime(2026, 11, 30, 8, 0, 0, tzinfo=UTC)
"""The demo cluster's "now": every timestamp is this minus an offset."""

REGION = "us-west-2"
ACCOUNT = "123456789012"
ECR_EKS = "602401143452.dkr.ecr.us-west-2.amazonaws.com"
ECR_APPS = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com"

_UID_NAMESPACE = uuid.UUID("5b0e5a4c-3f0f-4c1e-9c52-6c1b1f9d2a10")
# Alphabet of k8s.io/apimachinery/pkg/util/rand.String, used for generated name suffixes.
_NAME_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
_SUFFIX_TABLE = bytes(ord(_NAME_ALPHABET[b % len(_NAME_ALPHABET)]) for b in range(256))
_EPOCH = int(BASE_TIME.timestamp())


@lru_cache(maxsize=16_384)
def ts(seconds_ago: int) -> str:
    """RFC 3339 timestamp `seconds_ago` before the demo's fixed now."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(_EPOCH - seconds_ago))


def unix(seconds_ago: int) -> int:
    """Unix time `seconds_ago` before the demo's fixed now."""
    return _EPOCH - seconds_ago


def make_uid(*parts: str) -> str:
    """A stable object uid derived from the object's identity: uuid5, formatted directly."""
    h = hashlib.sha1(_UID_NAMESPACE.bytes + "/".join(parts).encode()).hexdigest()
    variant = "89ab"[int(h[16], 16) & 3]
    return f"{h[:8]}-{h[8:12]}-5{h[13:16]}-{variant}{h[17:20]}-{h[20:32]}"


def sha256(text: str) -> str:
    """Hex SHA-256 of `text`; used for image digests and container ids."""
    return hashlib.sha256(text.encode()).hexdigest()


def hex_id(text: str, length: int) -> str:
    """`length` stable hex characters derived from `text`."""
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()[:length]


def name_suffix(text: str, length: int = 5) -> str:
    """A stable Kubernetes-style random suffix ("x7k2p") derived from `text`."""
    raw = hashlib.blake2b(text.encode(), digest_size=16).digest()
    return raw[:length].translate(_SUFFIX_TABLE).decode()


def clone(obj: Any) -> Any:
    """Independent copy of a JSON-like value (dicts, lists, str, int, bool, None).

    marshal version 2 writes no back-references, so shared sub-objects come back
    as separate copies; it is several times faster than copy.deepcopy.
    """
    return marshal.loads(marshal.dumps(obj, 2))


def freeze(obj: Any) -> bytes:
    """Serialise a JSON-like template once so `thaw` can copy it cheaply many times."""
    return marshal.dumps(obj, 2)


def thaw(blob: bytes) -> Any:
    """A fresh, independent copy of a value serialised by `freeze`."""
    return marshal.loads(blob)


def fields_v1(value: Any) -> Obj:
    """Approximate server-side-apply FieldsV1 of a JSON value (keys as `f:`/`k:` entries)."""
    if isinstance(value, dict):
        return {f"f:{key}": fields_v1(item) for key, item in value.items()}
    if isinstance(value, list) and value and isinstance(value[0], dict):
        out: Obj = {}
        for item in value:
            for key in ("name", "type", "key", "containerPort", "mountPath"):
                if key in item:
                    out["k:" + json.dumps({key: item[key]}, separators=(",", ":"))] = {
                        ".": {},
                        **fields_v1(item),
                    }
                    break
            else:
                return {}
        return out
    return {}


def managed_entry(manager: str, api_version: str, body: Obj, time: str, *, status: bool) -> Obj:
    """One metadata.managedFields entry covering `body` (a partial object)."""
    entry: Obj = {
        "manager": manager,
        "operation": "Update",
        "apiVersion": api_version,
        "time": time,
        "fieldsType": "FieldsV1",
        "fieldsV1": fields_v1(body),
    }
    if status:
        entry["subresource"] = "status"
    return entry


def sort_keys(value: Obj) -> Obj:
    """A copy of a JSON object with every mapping's keys sorted, as `kubectl get -o json` prints.

    A round trip through the C JSON encoder and decoder is far faster than a Python walk.
    """
    result: Obj = json.loads(json.dumps(value, sort_keys=True))
    return result


def owner_ref(api_version: str, kind: str, name: str, uid: str) -> Obj:
    """A controller ownerReference, as controllers write them."""
    return {
        "apiVersion": api_version,
        "blockOwnerDeletion": True,
        "controller": True,
        "kind": kind,
        "name": name,
        "uid": uid,
    }


class Context:
    """Per-run state of one generation: cluster identity, resourceVersion counter, options."""

    __slots__ = ("_rv", "cluster", "managed_fields")

    def __init__(self, cluster: str, *, managed_fields: bool) -> None:
        self.cluster = cluster
        self.managed_fields = managed_fields
        self._rv = 48_211_903

    def uid(self, kind: str, namespace: str | None, name: str) -> str:
        """The uid of an object of this cluster, derivable from its identity alone."""
        return make_uid(self.cluster, kind, namespace or "", name)

    def resource_version(self) -> str:
        """The next resourceVersion (increasing, like etcd revisions)."""
        self._rv += 3
        return str(self._rv)

    def meta(
        self,
        kind: str,
        name: str,
        namespace: str | None = None,
        *,
        age: int,
        labels: dict[str, str] | None = None,
        annotations: dict[str, str] | None = None,
        owner: Obj | None = None,
        generation: int | None = None,
        generate_name: str | None = None,
    ) -> Obj:
        """ObjectMeta as the API server returns it (uid, resourceVersion, creationTimestamp)."""
        meta: Obj = {}
        if annotations:
            meta["annotations"] = dict(sorted(annotations.items()))
        meta["creationTimestamp"] = ts(age)
        if generate_name is not None:
            meta["generateName"] = generate_name
        if generation is not None:
            meta["generation"] = generation
        if labels:
            meta["labels"] = dict(sorted(labels.items()))
        meta["name"] = name
        if namespace is not None:
            meta["namespace"] = namespace
        if owner is not None:
            meta["ownerReferences"] = [owner]
        meta["resourceVersion"] = self.resource_version()
        meta["uid"] = self.uid(kind, namespace, name)
        return meta
