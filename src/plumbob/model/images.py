"""Container image references: registry, repository, tag, digest (docker/distribution grammar)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

DEFAULT_REGISTRY = "docker.io"


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
