"""What every source produces: snapshots plus diagnostics about the input."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from plumbob.model.snapshot import Snapshot
from plumbob.report.model import Diagnostic

ProgressHook = Callable[[str], None]
"""Called with a short description each time a source finishes one unit of input (a file, a
page of objects)."""


class SourceError(Exception):
    """Nothing could be read from a source: the message names it and says why."""


@dataclass(slots=True)
class Loaded:
    """Snapshots read from a source and every problem met on the way."""

    snapshots: list[Snapshot] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)

    def extend(self, other: Loaded) -> None:
        self.snapshots.extend(other.snapshots)
        self.diagnostics.extend(other.diagnostics)


class Source(Protocol):
    """Anything that can produce snapshots: files, a live cluster, the demo generator."""

    def load(self, progress: ProgressHook | None = None) -> Loaded: ...
