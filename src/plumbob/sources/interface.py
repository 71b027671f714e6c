"""What every source produces: snapshots plus diagnostics about the input."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from plumbob.model.snapshot import Snapshot
from plumbob.report.model import Diagnostic, DiagnosticCode, Inputs, Level

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
    inputs: Inputs | None = None
    """The files given and what became of each (file sources only)."""

    def extend(self, other: Loaded) -> None:
        """Add another source's snapshots. Every cluster keeps a name of its own: findings,
        drift and stored history are keyed by it, so a second snapshot with a name already
        taken (two captures of one cluster, two files both called `demo-ai-platform`) is
        renamed `NAME (2)`, with a warning naming both sources."""
        self.diagnostics.extend(other.diagnostics)
        if other.inputs is not None:
            self.inputs = (
                other.inputs if self.inputs is None else merge_inputs(self.inputs, other.inputs)
            )
        seen = {s.cluster.name: s for s in self.snapshots}
        for snap in other.snapshots:
            name = snap.cluster.name
            if name in seen:
                n = 2
                while f"{name} ({n})" in seen:
                    n += 1
                new = f"{name} ({n})"
                self.diagnostics.append(
                    Diagnostic(
                        level=Level.WARNING,
                        code=DiagnosticCode.CLUSTER_RENAMED,
                        cluster=new,
                        message=f"two snapshots are both named {name!r} ({seen[name].source}; "
                        f"{snap.source}): the second is reported as {new!r} (--cluster NAME "
                        "renames the one snapshot file or manifest set a scan reads; capture "
                        "clusters under distinct names with plumbob snapshot --cluster NAME)",
                    )
                )
                snap = snap.renamed(new)
                name = new
            seen[name] = snap
            self.snapshots.append(snap)


def merge_inputs(a: Inputs, b: Inputs) -> Inputs:
    return Inputs(
        files=a.files + b.files,
        read=a.read + b.read,
        unread=[*a.unread, *b.unread],
        inventories=[*a.inventories, *b.inventories],
        skipped_hidden=[*a.skipped_hidden, *b.skipped_hidden],
    )


class Source(Protocol):
    """Anything that can produce snapshots: files, a live cluster, the demo generator."""

    def load(self, progress: ProgressHook | None = None) -> Loaded: ...
