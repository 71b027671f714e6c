"""Host paths that reach GPUs or their driver (gpu_host_paths.yaml), loaded once.

gpu_host_path("/dev/nvidia0") -> HostPath(entry="/dev/nvidia", what="NVIDIA GPU device ...")
gpu_host_path("/run") -> HostPath(entry="/run/nvidia", ..., above=True)
gpu_host_path("/data/models") -> None
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from functools import cache, lru_cache

from plumbob.knowledge.loader import KnowledgeError, load_table
from plumbob.model.objects import as_list


@dataclass(frozen=True, slots=True)
class HostPath:
    entry: str
    """The table's path the mount reaches ('/dev/nvidia')."""
    what: str
    source: str
    above: bool = False
    """The mount is a directory above the entry (/run above /run/nvidia)."""


@dataclass(frozen=True, slots=True)
class _Entry:
    path: str
    prefix: bool
    what: str
    source: str
    above: bool


@cache
def _entries() -> tuple[_Entry, ...]:
    out: list[_Entry] = []
    for i, row in enumerate(as_list(load_table("gpu_host_paths").get("paths"))):
        if not isinstance(row, dict) or not row.get("path") or not row.get("source"):
            raise KnowledgeError(f"gpu_host_paths: paths[{i}]: `path:` and `source:` expected")
        match = row.get("match")
        if match not in ("prefix", "exact"):
            raise KnowledgeError(f"gpu_host_paths: paths[{i}]: match must be prefix or exact")
        out.append(
            _Entry(
                str(row["path"]),
                match == "prefix",
                str(row.get("what")),
                str(row["source"]),
                above=row.get("above") is not False,
            )
        )
    return tuple(out)


@lru_cache(maxsize=1024)
def gpu_host_path(path: str) -> HostPath | None:
    """The GPU-related host path a hostPath volume's path reaches, or None."""
    if not path.startswith("/"):
        return None
    norm = posixpath.normpath(path)
    if norm.startswith("//"):
        norm = "/" + norm.lstrip("/")
    for entry in _entries():
        if norm == entry.path or (entry.prefix and norm.startswith(entry.path)):
            return HostPath(entry.path, entry.what, entry.source)
    below = norm.rstrip("/") + "/"
    for entry in _entries():
        if entry.above and entry.path != "/" and entry.path.startswith(below):
            return HostPath(entry.path, entry.what, entry.source, above=True)
    return None


def gpu_host_paths() -> tuple[tuple[str, bool], ...]:
    """(path, whether a path below it counts too) of every GPU-related host path, for
    admission policies that match host paths themselves (policy/rules.py)."""
    return tuple((e.path, e.prefix) for e in _entries())


__all__ = ["HostPath", "gpu_host_path", "gpu_host_paths"]
