"""The demo fleet as a Source, and writers for its files."""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from pathlib import Path
from typing import IO, cast

import msgspec

from plumbob.model.objects import Origin
from plumbob.model.snapshot import ApiResource, ClusterInfo, Discovery, Snapshot
from plumbob.sources.decode import ObjectDecoder
from plumbob.sources.demo.generator import SERVER_VERSION, DemoSpec, api_groups, generate
from plumbob.sources.interface import Loaded, ProgressHook

CAPTURED_AT = "2026-11-30T08:00:00Z"


@dataclass(frozen=True, slots=True)
class DemoSource:
    spec: DemoSpec

    def load(self, progress: ProgressHook | None = None) -> Loaded:
        decoder = ObjectDecoder()
        origin = Origin(file=f"demo:{self.spec.cluster}")
        objects = []
        kinds: dict[tuple[str, str], None] = {}
        for i, data in enumerate(generate(self.spec)):
            obj = decoder.from_data(data, origin)
            if obj is not None:
                objects.append(obj)
                kinds[(obj.api_version, obj.kind)] = None
            if progress and i % 1000 == 0:
                progress("objects")
        discovery = Discovery(
            group_versions=api_groups(),
            resources=[ApiResource(group_version=gv, kind=k) for gv, k in kinds],
        )
        snap = Snapshot(
            cluster=ClusterInfo(
                name=self.spec.cluster, server_version=SERVER_VERSION, platform="eks"
            ),
            objects=objects,
            captured_at=CAPTURED_AT,
            discovery=discovery,
            source=f"demo (nodes={self.spec.nodes}, pods={self.spec.pods}, seed={self.spec.seed})",
        )
        return Loaded(snapshots=[snap], diagnostics=decoder.diagnostics)


def _open_for_write(path: Path) -> IO[bytes]:
    if path.name.endswith(".gz"):
        return cast("IO[bytes]", gzip.open(path, "wb", compresslevel=6))
    return path.open("wb")


def write_kubectl_list(spec: DemoSpec, path: Path) -> int:
    """Stream the fleet as one `kubectl get -o json` List (bounded memory). Returns the count."""
    encoder = msgspec.json.Encoder()
    count = 0
    with _open_for_write(path) as out:
        out.write(b'{"apiVersion":"v1","kind":"List","metadata":{"resourceVersion":""},"items":[')
        for data in generate(spec):
            if count:
                out.write(b",\n")
            out.write(encoder.encode(data))
            count += 1
        out.write(b"]}\n")
    return count
