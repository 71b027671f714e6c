"""References to objects: what a finding points at."""

from __future__ import annotations

from typing import TYPE_CHECKING

import msgspec

from plumbob.model.objects import Object, Origin

if TYPE_CHECKING:
    from plumbob.model.snapshot import Snapshot


class ObjectRef(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """Identity of one object in one cluster, with where it was read from."""

    kind: str
    name: str
    namespace: str | None = None
    api_version: str = ""
    origin: Origin | None = None

    def __str__(self) -> str:
        scope = f"{self.namespace}/" if self.namespace else ""
        return f"{self.kind}/{scope}{self.name}"


def cluster_ref(snap: Snapshot) -> ObjectRef:
    """Subject for a finding about the whole cluster (no object of the input stands for it)."""
    return ObjectRef(kind="Cluster", name=snap.cluster.name)


def ref(obj: Object) -> ObjectRef:
    return ObjectRef(
        kind=obj.kind,
        name=obj.name,
        namespace=obj.namespace,
        api_version=obj.api_version,
        origin=obj.origin,
    )
