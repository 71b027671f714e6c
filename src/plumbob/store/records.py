"""Turn a Report and its snapshots into one ScanRecord per cluster."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence

import msgspec

from plumbob.drift.attributes import NodeAttributes, snapshot_attributes
from plumbob.model.snapshot import Snapshot
from plumbob.report.model import Report
from plumbob.report.text import json_bytes
from plumbob.store.interface import ScanRecord


def snapshot_digest(snap: Snapshot) -> str:
    """sha256 over the snapshot's objects without their origin (file paths), so the same
    cluster state read from two places has one digest."""
    encoder = msgspec.json.Encoder()

    def encode(value: object) -> bytes:
        try:
            return encoder.encode(value)
        except UnicodeEncodeError:  # a name holding bytes that were not UTF-8 (report/text.py)
            return json_bytes(value)

    digest = hashlib.sha256()
    digest.update(encode(snap.cluster))
    for obj in snap:
        digest.update(encode(msgspec.structs.replace(obj, origin=None)))
    return digest.hexdigest()


def scan_records(
    report: Report,
    snapshots: Sequence[Snapshot],
    attributes: Mapping[str, Mapping[str, NodeAttributes]] | None = None,
    pool_label: str | None = None,
) -> list[ScanRecord]:
    out: list[ScanRecord] = []
    inventories = {inv.cluster: inv for inv in report.clusters}
    for snap in snapshots:
        cluster = snap.cluster.name
        attrs = (attributes or {}).get(cluster) or snapshot_attributes(snap, pool_label)
        inv = inventories.get(cluster)
        summary: dict[str, object] = {
            "inventory": msgspec.to_builtins(inv) if inv is not None else {},
            "scores": msgspec.to_builtins(report.scores),
        }
        out.append(
            ScanRecord(
                cluster=cluster,
                scanned_at=report.generated_at,
                captured_at=snap.captured_at,
                digest=snapshot_digest(snap),
                plumbob_version=report.plumbob_version,
                nodes=tuple(attrs[name] for name in sorted(attrs)),
                findings=tuple(f for f in report.findings if f.cluster == cluster),
                summary=summary,
            )
        )
    return out
