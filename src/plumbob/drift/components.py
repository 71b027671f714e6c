"""Which platform components a snapshot runs, and at which version, from
knowledge/ai_components.yaml: workload images first (repository path, any registry mirror),
then the API groups of their CRDs."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from functools import cache

from plumbob.knowledge import load_table
from plumbob.model.images import parse_image
from plumbob.model.snapshot import Snapshot


@dataclass(frozen=True, slots=True)
class Signatures:
    by_repository: dict[str, tuple[str, ...]]
    """Image repository path (no registry) -> component ids."""
    by_group: dict[str, tuple[str, ...]]
    """API group -> component ids."""
    names: dict[str, str]
    primary: dict[str, str]
    """Component id -> repository of its first listed workload (the operator itself), whose
    tag is the component's version."""


def _repository(image: str) -> str:
    return parse_image(image).repository.removeprefix("library/")


@cache
def signatures() -> Signatures:
    table = load_table("ai_components")
    repos: dict[str, list[str]] = defaultdict(list)
    groups: dict[str, list[str]] = defaultdict(list)
    names: dict[str, str] = {}
    primary: dict[str, str] = {}
    for comp in table.get("components") or ():
        cid = str(comp["id"])
        names[cid] = str(comp.get("name") or cid)
        for workload in comp.get("workloads") or ():
            image = workload.get("image") if isinstance(workload, dict) else None
            if image:
                primary.setdefault(cid, _repository(str(image)))
            if image and cid not in repos[_repository(str(image))]:
                repos[_repository(str(image))].append(cid)
        for crd in comp.get("crds") or ():
            group = crd.get("group") if isinstance(crd, dict) else None
            if group and cid not in groups[str(group)]:
                groups[str(group)].append(cid)
    # An operator lists its operands' images too (the GPU Operator runs dcgm-exporter): an
    # image names the components with the fewest images of their own, the most specific.
    size: dict[str, int] = defaultdict(int)
    for ids in repos.values():
        for cid in ids:
            size[cid] += 1
    specific = {
        repo: [c for c in ids if size[c] == min(size[i] for i in ids)]
        for repo, ids in repos.items()
    }
    return Signatures(
        {k: tuple(v) for k, v in specific.items()},
        {k: tuple(v) for k, v in groups.items()},
        names,
        primary,
    )


def components(snap: Snapshot) -> dict[str, str]:
    """Component id -> version (the image tag, "" when only its API group shows it)."""
    sig = signatures()
    found: dict[str, str] = {}
    for template in snap.pod_templates:
        for container in template.spec.all_containers:
            if not container.image:
                continue
            ref = parse_image(container.image)
            repo = ref.repository.removeprefix("library/")
            for cid in sig.by_repository.get(repo, ()):
                if not found.get(cid) or (sig.primary.get(cid) == repo and ref.tag):
                    found[cid] = ref.tag or ""
    for group, ids in sig.by_group.items():
        if snap.has_group(group):
            for cid in ids:
                found.setdefault(cid, "")
    return dict(sorted(found.items()))
