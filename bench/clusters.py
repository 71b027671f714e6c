"""Benchmark inputs for cluster scans: `kubectl get -o json` Lists and plumbob snapshot files.

Objects come from plumbob's demo generator (every field real API objects carry: managedFields,
status, owner references); a checkout without it falls back to bench/synthetic.py. Files are
written once into .bench/ and reused by later runs (`--fresh` rewrites them).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec

from bench import synthetic


def _objects(nodes: int, pods: int) -> tuple[str, Iterator[dict[str, Any]]]:
    try:
        from plumbob.sources.demo import DemoSpec, generate
    except ImportError:
        return "synthetic", synthetic.generate(nodes, pods)
    return "demo", generate(DemoSpec(nodes=nodes, pods=pods, seed=7, managed_fields=True))


def generator_name() -> str:
    return _objects(3, 0)[0]


def write_kubectl_list(nodes: int, pods: int, path: Path) -> int:
    """Write the cluster as one `kubectl get -o json` List (compact JSON, one item per line, as
    `plumbob demo --as kubectl` writes it). Streams object by object. Returns the count."""
    _, objects = _objects(nodes, pods)
    encoder = msgspec.json.Encoder()
    tmp = path.with_name(path.name + ".part")
    count = 0
    with tmp.open("wb") as out:
        out.write(b'{"apiVersion":"v1","kind":"List","metadata":{"resourceVersion":""},"items":[')
        for obj in objects:
            if count:
                out.write(b",\n")
            out.write(encoder.encode(obj))
            count += 1
        out.write(b"]}\n")
    tmp.rename(path)
    return count


def write_snapshot_file(list_path: Path, path: Path) -> int:
    """The same cluster as a plumbob snapshot file (what `plumbob snapshot` / `plumbob demo`
    write): read the kubectl List with plumbob, write the snapshot."""
    from plumbob.sources.files import FileSource
    from plumbob.sources.snapshot_file import write_snapshot

    snap = FileSource((list_path,), cluster="bench").load().snapshots[0]
    tmp = path.with_name(path.name + ".part")
    write_snapshot(snap, tmp)
    tmp.rename(path)
    return len(snap)


def cluster_files(nodes: int, pods: int, folder: Path, fresh: bool = False) -> tuple[Path, Path]:
    """(kubectl List, snapshot file) for a cluster of this size, written when missing."""
    folder.mkdir(parents=True, exist_ok=True)
    tag = f"{generator_name()}-{nodes}n-{pods}p"
    kubectl = folder / f"kubectl-{tag}.json"
    snapshot = folder / f"snapshot-{tag}.json"
    if fresh or not kubectl.exists():
        write_kubectl_list(nodes, pods, kubectl)
    if fresh or not snapshot.exists():
        write_snapshot_file(kubectl, snapshot)
    return kubectl, snapshot
