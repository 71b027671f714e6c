"""Typed lookups over cuda_driver_compat.yaml: the NVIDIA driver a CUDA version needs.

Two floors matter (NVIDIA CUDA Toolkit release notes, Tables 2 and 3):

- the *toolkit driver* of a CUDA minor release (Table 3), e.g. 570.26 for CUDA 12.8: the driver
  reports that CUDA version, so images that carry `NVIDIA_REQUIRE_CUDA=cuda>=12.8` (everything
  built from nvidia/cuda, NGC containers) start only on a driver at or above it;
- the *minor-version compatibility* floor of the major (Table 2), e.g. 525.60.13 for CUDA 12.x:
  below it nothing built with that major runs; between the two floors an application whose image
  does not enforce `NVIDIA_REQUIRE_CUDA` runs with a reduced feature set (no PTX JIT of newer code).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from functools import cache

from plumbob.knowledge.loader import KnowledgeError, load_table

_NUM = re.compile(r"\d+")

Version = tuple[int, ...]


def version_tuple(text: str | None) -> Version | None:
    """'550.54.15' -> (550, 54, 15); '12.4.0.41' -> (12, 4, 0, 41); None when no number."""
    if not text:
        return None
    return _version_tuple(str(text))


@functools.lru_cache(maxsize=4096)
def _version_tuple(text: str) -> Version | None:
    parts: list[int] = []
    for piece in text.strip().lstrip("vV").split("."):
        match = _NUM.match(piece)
        if not match:
            break
        parts.append(int(match.group()))
        if match.end() != len(piece):
            break
    return tuple(parts) or None


def cuda_minor(cuda: str) -> tuple[int, int] | None:
    """'12.4.1' -> (12, 4); '12' -> None (a major alone names no release)."""
    v = version_tuple(cuda)
    if v is None or len(v) < 2:
        return None
    return v[0], v[1]


@dataclass(frozen=True, slots=True)
class ToolkitRow:
    version: Version
    label: str
    linux_driver: str
    source: str


@dataclass(frozen=True, slots=True)
class DriverRequirement:
    """What a CUDA version asks of the driver on Linux x86_64."""

    cuda: str
    toolkit_driver: str
    """Driver of the CUDA minor release's GA toolkit: the driver that reports this CUDA version."""
    toolkit_label: str
    compat_floor: str | None
    """Minor-version compatibility floor for the CUDA major (None when NVIDIA publishes none)."""
    sources: tuple[str, ...]

    def verdict(self, driver: str) -> str:
        """'ok', 'compat' (runs only through minor-version compatibility, and not at all where the
        image enforces NVIDIA_REQUIRE_CUDA), 'too-old' (below the major's floor) or 'unknown'."""
        have = version_tuple(driver)
        need = version_tuple(self.toolkit_driver)
        if have is None or need is None:
            return "unknown"
        if have >= need:
            return "ok"
        floor = version_tuple(self.compat_floor)
        if floor is not None and have >= floor:
            return "compat"
        return "too-old"


@dataclass(frozen=True, slots=True)
class _Tables:
    rows: tuple[ToolkitRow, ...]
    floors: dict[int, tuple[str, str]]
    """CUDA major -> (driver floor, source)."""


@cache
def _tables() -> _Tables:
    data = load_table("cuda_driver_compat")
    rows: list[ToolkitRow] = []
    for row in data.get("toolkit_driver_versions", []):
        v = version_tuple(row.get("version"))
        driver = row.get("linux_x86_64_min")
        if v is None or not driver:
            raise KnowledgeError(f"cuda_driver_compat: row {row!r} lacks version or driver")
        rows.append(ToolkitRow(v, str(row.get("label", "")), str(driver), str(row["source"])))
    floors: dict[int, tuple[str, str]] = {}
    for row in data.get("minor_version_compatibility", []):
        floor = row.get("driver_min_full") or row.get("driver_min_branch")
        if floor is not None:
            floors[int(row["cuda_major"])] = (str(floor), str(row["source"]))
    return _Tables(tuple(sorted(rows, key=lambda r: r.version)), floors)


def known_releases() -> tuple[Version, ...]:
    return tuple(r.version for r in _tables().rows)


@cache
def requirement(cuda: str) -> DriverRequirement | None:
    """The driver a CUDA version needs, or None when the table does not cover it.

    A release the table lists takes its own row (12.4.1: "CUDA 12.4 Update 1", 550.54.15), so
    the minimum shown is the table's for that exact release; a release between rows takes the
    nearest lower one of its minor, and a minor alone (12.4) its GA row. A minor missing from
    the table (12.7) takes the GA row of the next lower published minor of the same major,
    which is the lower bound NVIDIA documents."""
    minor = cuda_minor(cuda)
    if minor is None:
        return None
    tables = _tables()
    candidates = [r for r in tables.rows if r.version[:2] == minor]
    if not candidates:
        lower = [r for r in tables.rows if r.version[0] == minor[0] and r.version[:2] < minor]
        if not lower or minor[1] > max(
            r.version[1] for r in tables.rows if r.version[0] == minor[0]
        ):
            return None
        best = max(r.version[:2] for r in lower)
        candidates = [r for r in lower if r.version[:2] == best]
        release: Version = best
    else:
        release = version_tuple(cuda) or minor
    row = _row_for(release, candidates)
    floor = tables.floors.get(minor[0])
    sources = (row.source,) if floor is None else (row.source, floor[1])
    return DriverRequirement(
        cuda=cuda,
        toolkit_driver=row.linux_driver,
        toolkit_label=row.label,
        compat_floor=floor[0] if floor else None,
        sources=sources,
    )


def _row_for(release: Version, rows: list[ToolkitRow]) -> ToolkitRow:
    """The row of `release` among the rows of its minor: its own, else the nearest lower
    release, else the minor's first (GA) row; a release given as major.minor is its GA."""
    if len(release) < 3:
        return min(rows, key=lambda r: r.version)
    at_or_below = [r for r in rows if r.version[:3] <= release[:3]]
    if not at_or_below:
        return min(rows, key=lambda r: r.version)
    return max(at_or_below, key=lambda r: r.version)


def max_cuda_of_driver(driver: str) -> str | None:
    """Highest CUDA minor whose GA toolkit driver is at or below `driver`
    ('550.90.07' -> '12.4')."""
    have = version_tuple(driver)
    if have is None:
        return None
    best: tuple[int, int] | None = None
    for row in _tables().rows:
        need = version_tuple(row.linux_driver)
        if need is not None and have >= need and (best is None or row.version[:2] > best):
            best = (row.version[0], row.version[1])
    return f"{best[0]}.{best[1]}" if best else None


__all__ = [
    "DriverRequirement",
    "cuda_minor",
    "known_releases",
    "max_cuda_of_driver",
    "requirement",
    "version_tuple",
]
