"""Image sizes as nodes report them (`node.status.images`), matched by name and tag or digest."""

from __future__ import annotations

from collections.abc import Iterable

from plumbob.model.images import DOCKER_HUB_ALIASES, parse_image
from plumbob.model.objects import Node


def _name(registry: str, repository: str) -> str:
    return f"{DOCKER_HUB_ALIASES.get(registry, registry)}/{repository}"


class ImageSizes:
    """Largest size any node reports for an image, looked up by `repo:tag` or `repo@digest`.

    The kubelet lists every name an image is known by (`repo@sha256:...` and `repo:tag`), so one
    entry answers both a tag and a digest reference."""

    def __init__(self, nodes: Iterable[Node]) -> None:
        sizes: dict[str, int] = {}
        seen: set[int] = set()  # nodes decoded together share their image entries
        for node in nodes:
            for image in node.status.images:
                if not image.size_bytes or id(image) in seen:
                    continue
                seen.add(id(image))
                for name in image.names:
                    ref = parse_image(name)
                    base = _name(ref.registry, ref.repository)
                    keys = []
                    if ref.digest:
                        keys.append(f"{base}@{ref.digest}")
                    if ref.tag:
                        keys.append(f"{base}:{ref.tag}")
                    for key in keys:
                        if image.size_bytes > sizes.get(key, 0):
                            sizes[key] = image.size_bytes
        self._sizes = sizes

    def __len__(self) -> int:
        return len(self._sizes)

    def size_of(self, image: str) -> int | None:
        """Bytes, or None when no node has pulled the image."""
        ref = parse_image(image)
        base = _name(ref.registry, ref.repository)
        if ref.digest:
            found = self._sizes.get(f"{base}@{ref.digest}")
            if found:
                return found
        return self._sizes.get(f"{base}:{ref.tag or 'latest'}")


def effective_pull_policy(image: str, policy: str | None) -> str:
    """The pull policy Kubernetes applies: the explicit one, else Always for :latest or no tag
    (and no digest), else IfNotPresent (https://kubernetes.io/docs/concepts/containers/images/
    #imagepullpolicy-defaulting)."""
    if policy:
        return policy
    return "Always" if parse_image(image).mutable else "IfNotPresent"
