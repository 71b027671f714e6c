"""plumbob's own snapshot file: one cluster at one time, versioned JSON, optionally gzip.

    {"apiVersion": "plumbob.dev/v1", "kind": "Snapshot",
     "cluster": {"name": ..., "serverVersion": ..., "platform": ..., "context": ...},
     "capturedAt": "2026-11-30T08:00:00Z",
     "discovery": {"groupVersions": [...], "resources": [...]},   # optional
     "notVisible": {"Secret": "403 Forbidden", ...},              # optional
     "captured": ["Deployment", "Node", ...],                     # optional: made from files
     "partlyListed": {"ConfigMap": "listed in part ..."},         # optional: live, by design
     "gpuMetrics": {"source": ..., "window": "24h", "byPod": {...}}, # optional (Prometheus)
     "objects": [ <Kubernetes objects, reduced to the fields plumbob reads> ]}

See docs/snapshot-format.md. Writing then reading a snapshot gives the same snapshot.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec

from plumbob.model.metrics import GpuMetrics
from plumbob.model.objects import GenericObject, Object, Origin
from plumbob.model.snapshot import ClusterInfo, Discovery, Snapshot
from plumbob.report.model import DiagnosticCode as Code
from plumbob.report.model import Level
from plumbob.report.text import json_bytes
from plumbob.sources import jsonstream
from plumbob.sources.decode import ObjectDecoder

SNAPSHOT_API_VERSION = "plumbob.dev/v1"


class _SnapshotMembers(msgspec.Struct, rename="camel", kw_only=True):
    """The members of a snapshot file besides its identity (apiVersion, kind, cluster)."""

    objects: list[msgspec.Raw] = []
    captured_at: str | None = None
    discovery: Discovery | None = None
    not_visible: dict[str, str] = {}
    gpu_metrics: GpuMetrics | None = None
    captured: list[str] | None = None
    partly_listed: dict[str, str] = {}


class _SnapshotDoc(_SnapshotMembers, kw_only=True):
    api_version: str
    kind: str
    cluster: ClusterInfo


_doc_decoder = msgspec.json.Decoder(_SnapshotDoc)


class _SnapshotParts(_SnapshotMembers, kw_only=True):
    """The members before a streamed snapshot's objects, or after them."""

    api_version: str = ""
    kind: str = ""
    cluster: ClusterInfo | None = None


_parts_decoder = msgspec.json.Decoder(_SnapshotParts)


@dataclass(frozen=True, slots=True)
class SnapshotFile:
    snapshot: Snapshot


def snapshot_from_file(data: bytes, origin: Origin, decoder: ObjectDecoder) -> SnapshotFile | None:
    try:
        doc = _doc_decoder.decode(data)
    except msgspec.DecodeError as exc:  # includes ValidationError
        decoder.problem(
            Level.ERROR, origin, f"not a valid plumbob snapshot: {exc}", code=Code.SNAPSHOT_INVALID
        )
        return None
    objects: list[Object] = []
    for raw in doc.objects:
        obj = decoder.from_raw(raw, origin, keep_origin=True)
        if obj is not None:
            objects.append(obj)
    return SnapshotFile(
        Snapshot(
            cluster=doc.cluster,
            objects=objects,
            captured_at=doc.captured_at,
            discovery=doc.discovery,
            not_visible=doc.not_visible,
            source=f"snapshot {origin.file}",
            gpu_metrics=doc.gpu_metrics,
            captured=doc.captured,
            partly_listed=doc.partly_listed,
        )
    )


def stream_snapshot(
    stream: jsonstream.Readable,
    first: bytes,
    block: int,
    origin: Origin,
    decoder: ObjectDecoder,
) -> SnapshotFile:
    """A snapshot file read a block at a time (as `write_snapshot` lays it out: the objects
    after the cluster, before discovery and GPU metrics), so that memory holds the objects and
    never the whole file. Raises jsonstream.NotStreamable for anything else; reading the file
    whole then gives the precise error."""
    items = jsonstream.ListStream(stream, first, block, key="objects", tail_decoder=_parts_decoder)
    try:
        head = _parts_decoder.decode(items.head)
    except msgspec.DecodeError as exc:  # includes ValidationError
        raise jsonstream.NotStreamable(str(exc)) from None
    if head.kind != "Snapshot" or head.api_version != SNAPSHOT_API_VERSION:
        raise jsonstream.NotStreamable("not a plumbob snapshot with its objects after its cluster")
    objects: list[Object] = []
    for batch in items.batches():
        objects.extend(decoder.from_raws(batch, origin, keep_origin=True))
    tail: _SnapshotParts = items.tail
    cluster = head.cluster or tail.cluster
    if cluster is None:
        raise jsonstream.NotStreamable("no cluster")
    return SnapshotFile(
        Snapshot(
            cluster=cluster,
            objects=objects,
            captured_at=head.captured_at or tail.captured_at,
            discovery=head.discovery or tail.discovery,
            not_visible=head.not_visible or tail.not_visible,
            source=f"snapshot {origin.file}",
            gpu_metrics=head.gpu_metrics or tail.gpu_metrics,
            captured=head.captured if head.captured is not None else tail.captured,
            partly_listed=head.partly_listed or tail.partly_listed,
        )
    )


def _plain(obj: Object) -> Any:
    if isinstance(obj, GenericObject):
        out: dict[str, Any] = {
            "apiVersion": obj.api_version,
            "kind": obj.kind,
            "metadata": obj.metadata,
        }
        for key in ("spec", "status", "data"):
            value = getattr(obj, key)
            if value is not None:
                out[key] = value
        out.update(obj.extra)
        if obj.origin is not None:
            out["origin"] = obj.origin
        return out
    return obj


def encode_snapshot(snapshot: Snapshot, objects: Iterable[Object] | None = None) -> bytes:
    """Snapshot file bytes (JSON)."""
    doc: dict[str, Any] = {
        "apiVersion": SNAPSHOT_API_VERSION,
        "kind": "Snapshot",
        "cluster": snapshot.cluster,
        "capturedAt": snapshot.captured_at,
        "objects": [_plain(o) for o in (snapshot if objects is None else objects)],
    }
    if snapshot.discovery is not None:
        doc["discovery"] = snapshot.discovery
    if snapshot.not_visible:
        doc["notVisible"] = dict(snapshot.not_visible)
    if snapshot.gpu_metrics is not None:
        doc["gpuMetrics"] = snapshot.gpu_metrics
    if snapshot.captured is not None:  # made from files: only these kinds were seen
        doc["captured"] = sorted(snapshot.captured)
    if snapshot.partly_listed:  # live: kinds listed metadata-only or by name
        doc["partlyListed"] = dict(snapshot.partly_listed)
    return json_bytes(doc)


def write_snapshot(snapshot: Snapshot, path: Path) -> None:
    """Write a snapshot file; gzip when the name ends in .gz."""
    data = encode_snapshot(snapshot)
    if path.name.endswith(".gz"):
        data = gzip.compress(data, compresslevel=6, mtime=0)
    path.write_bytes(data)
