"""Which platform components a snapshot runs, and at which version, for baselines and
cross-cluster comparison.

Presence comes from the shared detector (`plumbob.knowledge.components.installed`, the one the
checks and the conformance pre-check use), so a component is found, or not, alike everywhere.
The version is the tag of the component's own image: the first image its entry in
knowledge/ai_components.yaml lists (the operator itself), since an operator also runs its
operands' images under other tags; failing that, the tag the detector saw.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache

from plumbob.knowledge import load_table
from plumbob.knowledge.components import installed, inventory_visible
from plumbob.knowledge.components import signatures as detector_signatures
from plumbob.model.images import parse_image
from plumbob.model.snapshot import Snapshot


def _repository(image: str) -> str:
    return parse_image(image).repository.removeprefix("library/")


@cache
def _primary() -> Mapping[str, str]:
    """Component id -> repository path (no registry) of its first listed workload image."""
    out: dict[str, str] = {}
    for comp in load_table("ai_components").get("components") or ():
        for workload in comp.get("workloads") or ():
            image = workload.get("image") if isinstance(workload, dict) else None
            if isinstance(image, str):
                out.setdefault(str(comp["id"]), _repository(image))
                break
    return out


def known_components() -> frozenset[str]:
    """Every component id knowledge/ai_components.yaml defines (what a baseline may require)."""
    return frozenset(detector_signatures())


def components(snap: Snapshot) -> dict[str, str]:
    """Component id -> version (an image tag; "" when present without a readable version)."""
    found = installed(snap)
    by_repository: dict[str, list[str]] = {}
    for cid, repo in _primary().items():
        if cid in found:
            by_repository.setdefault(repo, []).append(cid)
    own: dict[str, str] = {}
    if by_repository:
        for template in snap.pod_templates:
            for container in template.spec.all_containers:
                ref = parse_image(container.image) if container.image else None
                if ref is None or not ref.tag:
                    continue
                for cid in by_repository.get(ref.repository.removeprefix("library/"), ()):
                    own.setdefault(cid, ref.tag)
    return {cid: own.get(cid) or found[cid].version or "" for cid in sorted(found)}


def components_visible(snap: Snapshot) -> bool:
    """Whether the snapshot can show a component is absent (a live capture or a cluster dump,
    not a folder of manifests): only then is a missing component reported missing."""
    return inventory_visible(snap)
