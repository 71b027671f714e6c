"""Container image references: registry, repository, tag, digest (docker/distribution grammar)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

DEFAULT_REGISTRY = "docker.io"
DOCKER_HUB_ALIASES = {"index.docker.io": "docker.io", "registry-1.docker.io": "docker.io"}
"""Other host names of Docker Hub: images named with them are docker.io's."""


_BRANCH_TAGS = frozenset({"main", "master", "trunk", "head", "dev", "develop", "development"})
"""Tags named after a source branch: rebuilt from every commit pushed to it."""
_NIGHTLY_TAGS = frozenset({"nightly", "edge", "canary", "snapshot", "unstable", "testing", "next"})
"""Tags of development builds, moved to each new one (nightly, edge, canary)."""
_CHANNEL_TAGS = frozenset({"stable", "release", "current", "lts"})
"""Channel tags, moved to each new release of that channel."""
_PRERELEASE_TAGS = frozenset({"rc", "alpha", "beta", "pre", "preview"})
"""Tags that follow the newest release candidate or beta."""
BRANCH_TAGS, NIGHTLY_TAGS, CHANNEL_TAGS, PRERELEASE_TAGS = (
    _BRANCH_TAGS,
    _NIGHTLY_TAGS,
    _CHANNEL_TAGS,
    _PRERELEASE_TAGS,
)
"""The tag words above, for admission policies that judge tags themselves (policy/rules.py)."""

_PINNING_TOKEN = re.compile(
    r"""^(?:v?\d+(?:\.\d+)+[a-z0-9.]*    # a version: 2.4.0, v0.6.4, 12.4.1post1
         |\d{4,}                           # a date or build number: 20240501, 2024
         |(?=[0-9a-f]*[a-f])(?=[0-9a-f]*\d)[0-9a-f]{7,40}  # a commit: 3f2c1e9
         |g[0-9a-f]{7,40}|sha[0-9a-f]{7,64})$""",
    re.VERBOSE,
)
"""A tag part that names one build: a version, a date or build number, or a commit."""

_BUILD_TOKEN = re.compile(
    r"^(?:\d{6,}|(?=[0-9a-f]*[a-f])(?=[0-9a-f]*\d)[0-9a-f]{7,40}|g[0-9a-f]{7,40}|sha[0-9a-f]{7,64})$"
)
"""A tag part that names one build whatever the rest says: a date (20240501) or a commit."""

_PRERELEASE = re.compile(
    r"(?:^|[-_.+])v?\d+(?:\.\d+)*(?:[-_.]?(?P<word>rc|alpha|beta|pre|preview|dev)|[ab](?=\d))"
    r"(?:[-_.]?\d+)?(?=$|[-_.+])"
)
"""A version with a pre-release suffix: 2.4.0rc0, v1.0.0-rc.1, 0.5.0-alpha, 1.2.0-beta2,
2.0.0a1, 1.0.0.dev20240501 (PEP 440 and SemVer spellings)."""

_TEMPLATE_MARKS = frozenset("{}$<> \t")
"""Characters no image reference may hold (docker/distribution reference grammar): an image
holding one is unrendered template text (`{{ .Values.image }}`, `${IMAGE}`, `<image>`)."""


@dataclass(frozen=True, slots=True)
class ImageRef:
    registry: str
    repository: str
    tag: str | None
    digest: str | None

    @property
    def mutable(self) -> bool:
        """True unless pinned by digest or by a tag other than 'latest': the references for
        which the kubelet's default pull policy is Always."""
        return self.digest is None and (self.tag is None or self.tag == "latest")

    @property
    def tag_kind(self) -> str | None:
        """What makes the reference not name one build, when it does not (a digest always
        does): 'no-tag', 'latest', 'latest-variant' (`latest-gpu`), 'branch' (`main`),
        'nightly' (`nightly`, `edge`, `canary`), 'channel' (`stable`), 'pre-release-channel'
        (`rc`, `beta`), 'release-candidate' (`2.4.0rc0`, `v1.0.0-rc.1`), 'pre-release'
        (`0.5.0-alpha`, `v1.0.0-beta.1`, `2.0.0a1`, `1.0.0.dev20240501`); None otherwise."""
        if self.digest is not None:
            return None
        if self.tag is None:
            return "no-tag"
        return _tag_kind(self.tag)

    @property
    def unpinned(self) -> str | None:
        """How a reference that does not pin one build names its image ("the :latest tag",
        "no tag (pulls :latest)", "the branch tag :main, rebuilt from every commit to that
        branch"); None when it is pinned."""
        kind = self.tag_kind
        if kind is None:
            return None
        tag = self.tag
        match kind:
            case "no-tag":
                return "no tag (pulls :latest)"
            case "latest":
                return "the :latest tag"
            case "latest-variant":
                return f"the floating tag :{tag}, moved with every :latest build"
            case "branch":
                return f"the branch tag :{tag}, rebuilt from every commit to that branch"
            case "nightly":
                return f"the development tag :{tag}, moved to each new nightly or edge build"
            case "channel":
                return f"the channel tag :{tag}, moved to each new release"
            case "pre-release-channel":
                return f"the floating tag :{tag}, moved to each new pre-release"
            case "release-candidate":
                return (
                    f"the release-candidate tag :{tag}, a test build published before its release"
                )
            case _:
                return f"the pre-release tag :{tag}, a test build published before its release"

    @property
    def name(self) -> str:
        """registry/repository, the part policies match on."""
        return f"{self.registry}/{self.repository}"


@lru_cache(maxsize=4096)
def _tag_kind(tag: str) -> str | None:
    text = tag.lower()
    if text == "latest":
        return "latest"
    parts = [p for p in re.split(r"[-_+]", text) if p]
    if any(_BUILD_TOKEN.match(p) for p in parts):
        return None  # a commit or a date names one build: main-3f2c1e9, v1beta1-21320b6
    if not any(_PINNING_TOKEN.match(p) for p in parts):
        for part in parts:
            if part == "latest":
                return "latest-variant"
            if part in _BRANCH_TAGS:
                return "branch"
            if part in _NIGHTLY_TAGS:
                return "nightly"
            if part in _CHANNEL_TAGS:
                return "channel"
            if part in _PRERELEASE_TAGS:
                return "pre-release-channel"
    found = _PRERELEASE.search(text)
    if found is None:
        return None
    return "release-candidate" if found.group("word") == "rc" else "pre-release"


def unrendered_image(image: str) -> bool:
    """Whether an image field holds template text rather than a reference (see
    `_TEMPLATE_MARKS`): its registry, name and tag are unknown."""
    return not _TEMPLATE_MARKS.isdisjoint(image)


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


def unpinned_tag(image: str | None) -> str | None:
    """`ImageRef.tag_kind` of an image field ('no-tag', 'branch', 'release-candidate', ...);
    None for an image that names one build, an empty field or template text."""
    if not image or unrendered_image(image):
        return None
    return parse_image(image).tag_kind
