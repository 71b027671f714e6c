"""Container image references: registry, repository, tag, digest (docker/distribution grammar)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

DEFAULT_REGISTRY = "docker.io"
DOCKER_HUB_ALIASES = {"index.docker.io": "docker.io", "registry-1.docker.io": "docker.io"}
"""Other host names of Docker Hub: images named with them are docker.io's."""


@dataclass(frozen=True, slots=True)
class ImageRef:
    registry: str
    repository: str
    tag: str | None
    digest: str | None

    @property
    def mutable(self) -> bool:
        """True unless pinned by digest or by a tag other than 'latest'."""
        return self.digest is None and (self.tag is None or self.tag == "latest")

    @property
    def unpinned(self) -> str | None:
        """How a mutable reference names its image ("the :latest tag", "no tag (pulls
        :latest)"); None when it is pinned."""
        if not self.mutable:
            return None
        return "the :latest tag" if self.tag == "latest" else "no tag (pulls :latest)"

    @property
    def name(self) -> str:
        """registry/repository, the part policies match on."""
        return f"{self.registry}/{self.repository}"


@lru_cache(maxsize=65536)
def parse_image(image: str) -> ImageRef:
    """Parse an image reference as the container runtime does: 'nginx' is
    docker.io/library/nginx with no tag (the runtime pulls :latest)."""
    rest, _, digest = image.strip().partition("@")
    slash = rest.rfind("/")
    colon = rest.rfind(":")
    tag = None
    if colon > slash:
        rest, tag = rest[:colon], rest[colon + 1 :]
    first, sep, remainder = rest.partition("/")
    if sep and ("." in first or ":" in first or first == "localhost"):
        registry, repository = first, remainder
    else:
        registry, repository = DEFAULT_REGISTRY, rest
    if registry == DEFAULT_REGISTRY and "/" not in repository:
        repository = f"library/{repository}"
    return ImageRef(
        registry=registry, repository=repository, tag=tag or None, digest=digest or None
    )


def registry_entry(entry: str) -> str:
    """A registry host or registry/repository prefix in one spelling, as approved-registry
    lists and image names are compared: `https://Nvcr.io/nvidia/*` -> `nvcr.io/nvidia`, Docker
    Hub's other host names -> docker.io."""
    text = entry.strip().removeprefix("https://").removeprefix("http://").rstrip("/*").rstrip("/")
    host, sep, rest = text.partition("/")
    host = host.lower()
    return f"{DOCKER_HUB_ALIASES.get(host, host)}{sep}{rest}"


def under_registry(name: str, entries: Iterable[str]) -> bool:
    """Whether a registry/repository name (`registry_entry` spelling) is one of the entries or
    under one: `nvcr.io/nvidia/pytorch` is under `nvcr.io` and `nvcr.io/nvidia`, not `nvcr.i`."""
    return any(name == entry or name.startswith(entry + "/") for entry in entries)


def registry_approved(image: str, approved: Iterable[str]) -> bool:
    """Whether an image comes from a registry (or registry/repository prefix) on the list."""
    return under_registry(registry_entry(parse_image(image).name), map(registry_entry, approved))
