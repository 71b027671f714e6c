"""plumbob's own snapshot file: one cluster at one time, versioned JSON, optionally gzip.

    {"apiVersion": "plumbob.dev/v1", "kind": "Snapshot",
     "cluster": {"name": ..., "serverVersion": ..., "platform": ..., "context": ...},
     "capturedAt": "2026-11-30T08:00:00Z",
     "discovery": {"groupVersions": [...], "resources": [...]},   # optional
     "notVisible": {"Secret": "403 Forbidden", ...},              # optional
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
from plumbob.report.model import Level
from plumbob.sources.decode import ObjectDecoder

SNAPSHOT_API_VERSION = "plumbob.dev/v1"


class _SnapshotDoc(msgspec.Struct, rename="camel"):
    api_version: str
    kind: str
    cluster: ClusterInfo
    objects: list[msgspec.Raw] = []
    captured_at: str | None = None
    discovery: Discovery | None = None
    not_visible: dict[str, str] = {}
    gpu_metrics: GpuMetrics | None = None


_doc_decoder = msgspec.json.Decoder(_SnapshotDoc)


@dataclass(frozen=True, slots=True)
class SnapshotFile:
    snapshot: Snapshot


def snapshot_from_file(data: bytes, origin: Origin, decoder: ObjectDecoder) -> SnapshotFile | None:
    try:
        doc = _doc_decoder.decode(data)
    except msgspec.DecodeError as exc:  # includes ValidationError
        decoder.problem(Level.ERROR, origin, f"not a valid plumbob snapshot: {exc}")
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
    return msgspec.json.encode(doc)


def write_snapshot(snapshot: Snapshot, path: Path) -> None:
    """Write a snapshot file; gzip when the name ends in .gz."""
    data = encode_snapshot(snapshot)
    if path.name.endswith(".gz"):
        data = gzip.compress(data, compresslevel=6, mtime=0)
    path.write_bytes(data)
