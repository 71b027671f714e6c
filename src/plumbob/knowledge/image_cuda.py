"""Image reference -> the CUDA version it was built with, from the rules in image_cuda.yaml.

Families are matched on registry and repository (docker.io/nvidia/cuda, nvcr.io/nvidia/pytorch,
vllm/vllm-openai, ...); each family reads the tag by a rule: `tag-prefix`/`tag-regex` (the CUDA
version is in the tag, as `cuda` x.y[.z] or compact `cu` "128") or `table` (the tag, or the
version it carries, is looked up in the family's release rows). A container's own environment
wins over the image: `NVIDIA_REQUIRE_CUDA` ("cuda>=12.4 ...") and `CUDA_VERSION` ("12.4.1").
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any

from plumbob.knowledge.cuda import version_tuple
from plumbob.knowledge.loader import KnowledgeError, load_table
from plumbob.model.images import parse_image
from plumbob.model.objects import Container

_REQUIRE = re.compile(r"cuda\s*>=\s*(\d+\.\d+(?:\.\d+)?)")
_PLAIN_VERSION = re.compile(r"^\d+\.\d+(?:\.\d+)*$")


@dataclass(frozen=True, slots=True)
class ImageCuda:
    """The CUDA version a container needs and how plumbob knows it."""

    cuda: str
    basis: str
    """'image' (from the reference via a family rule) or 'env:<NAME>'."""
    family: str | None
    source: str
    confidence: str = "primary"


@dataclass(frozen=True, slots=True)
class _Family:
    id: str
    keys: tuple[tuple[str, str], ...]
    rule: str
    regex: re.Pattern[str] | None
    rows: tuple[Mapping[str, Any], ...]
    source: str
    aliases: tuple[Mapping[str, Any], ...]


def _compile(raw: Mapping[str, Any]) -> _Family:
    keys = [(str(raw["match"]["registry"]), str(raw["match"]["repository"]))]
    keys += [(str(m["registry"]), str(m["repository"])) for m in raw.get("also_match", [])]
    regex = raw.get("regex")
    try:
        pattern = re.compile(regex) if regex else None
    except re.error as exc:
        raise KnowledgeError(f"image_cuda: family {raw.get('id')}: bad regex: {exc}") from None
    rows = tuple(raw.get("releases") or ())
    source = raw.get("source") or ""
    if isinstance(source, list):
        source = "; ".join(source)
    return _Family(
        id=str(raw["id"]),
        keys=tuple(keys),
        rule=str(raw.get("rule", "")),
        regex=pattern,
        rows=rows,
        source=str(source),
        aliases=tuple(raw.get("aliases") or ()),
    )


@cache
def _families() -> dict[tuple[str, str], _Family]:
    out: dict[tuple[str, str], _Family] = {}
    for raw in load_table("image_cuda").get("families", []):
        fam = _compile(raw)
        for key in fam.keys:
            out[key] = fam
    return out


def _cu(compact: str) -> str:
    """'128' -> '12.8', '118' -> '11.8', '130' -> '13.0' (image_cuda.yaml rules_legend)."""
    digits = compact.removeprefix("cu")
    return f"{digits[:-1]}.{digits[-1]}"


def _in_range(version: str, row: Mapping[str, Any]) -> bool:
    have = version_tuple(version)
    if have is None:
        return False
    low = version_tuple(row.get("min_version"))
    high = version_tuple(row.get("max_version"))
    if low is None and high is None:
        return False
    return (low is None or have >= low) and (high is None or have <= high)


def _confidence(row: Mapping[str, Any]) -> str:
    return str(row.get("confidence") or "primary")


def _from_family(fam: _Family, tag: str, repository: str) -> ImageCuda | None:
    match = fam.regex.match(tag) if fam.regex else None
    groups: dict[str, str] = {
        k: v for k, v in (match.groupdict() if match else {}).items() if v is not None
    }
    if fam.rule in ("tag-prefix", "tag-regex"):
        if match is None:
            return None
        if "cuda" in groups:
            return ImageCuda(groups["cuda"], "image", fam.id, fam.source)
        if "cu" in groups:
            return ImageCuda(_cu(groups["cu"]), "image", fam.id, fam.source)
        if groups.get("platform") == "cpu":
            return None
        for alias in fam.aliases:
            image = alias.get("image")
            if image and str(image).endswith(repository) and alias.get("cuda"):
                return ImageCuda(str(alias["cuda"]), "image", fam.id, fam.source, "derived")
            if alias.get("platform") and alias["platform"] == groups.get("platform"):
                return ImageCuda(str(alias["cuda"]), "image", fam.id, fam.source)
        return None
    if fam.rule != "table":
        return None
    if "cu" in groups:
        return ImageCuda(
            _cu(groups["cu"]),
            "image",
            fam.id,
            fam.source
            or f"image_cuda.yaml rules_legend: compact -cuXYZ tag suffix "
            f"names the CUDA build ({fam.id})",
        )
    release = groups.get("release")
    for row in fam.rows:  # the full tag first: NGC variants of one month differ
        if row.get("tag") == tag and row.get("cuda"):
            return ImageCuda(
                str(row["cuda"]), "image", fam.id, str(row["source"]), _confidence(row)
            )
    if match is None:
        return None
    for row in fam.rows:
        if release and row.get("tag") == release and row.get("cuda"):
            return ImageCuda(
                str(row["cuda"]), "image", fam.id, str(row["source"]), _confidence(row)
            )
    version = groups.get("version")
    if version:
        for row in fam.rows:
            if row.get("cuda") and _in_range(version, row):
                return ImageCuda(
                    str(row["cuda"]), "image", fam.id, str(row["source"]), _confidence(row)
                )
    return None


@lru_cache(maxsize=16384)
def cuda_of_image(image: str) -> ImageCuda | None:
    """The CUDA version an image reference implies, or None when no rule knows the tag."""
    if not image:
        return None
    ref = parse_image(image)
    fam = _families().get((ref.registry, ref.repository))
    if fam is None or ref.tag is None:
        return None
    return _from_family(fam, ref.tag, ref.repository)


def cuda_of_env(env: Mapping[str, str | None]) -> ImageCuda | None:
    """CUDA named by a container's environment: NVIDIA_REQUIRE_CUDA, then CUDA_VERSION."""
    require = env.get("NVIDIA_REQUIRE_CUDA")
    if require:
        found = _REQUIRE.search(require)
        if found:
            return ImageCuda(
                found.group(1),
                "env:NVIDIA_REQUIRE_CUDA",
                None,
                "container env NVIDIA_REQUIRE_CUDA (checked by nvidia-container-cli "
                "at container start)",
            )
    version = (env.get("CUDA_VERSION") or "").strip()
    if version and _PLAIN_VERSION.match(version):
        return ImageCuda(version, "env:CUDA_VERSION", None, "container env CUDA_VERSION")
    return None


def cuda_of_container(container: Container) -> ImageCuda | None:
    """What a container needs: its explicit environment first, then its image reference."""
    env = {v.name: v.value for v in container.env if v.value is not None}
    return cuda_of_env(env) or (cuda_of_image(container.image) if container.image else None)


def require_disabled(container: Container) -> bool:
    """NVIDIA_DISABLE_REQUIRE set: the container runtime skips the NVIDIA_REQUIRE_CUDA check."""
    value = container.env_value("NVIDIA_DISABLE_REQUIRE")
    return value is not None and value.strip().lower() not in ("", "0", "false")


__all__ = ["ImageCuda", "cuda_of_container", "cuda_of_env", "cuda_of_image", "require_disabled"]
