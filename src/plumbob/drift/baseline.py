"""Baseline ("intent"): what pools and clusters are meant to be, as a YAML file: its format and
its parsing (errors name the file, key and line). docs/baseline.md documents the format;
`deviations.py` compares a cluster with it, `baseline_init.py` writes one."""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import msgspec
import yaml

from plumbob.drift.attributes import BY_ID
from plumbob.drift.components import known_components
from plumbob.drift.versions import SpecError, ValueSpec
from plumbob.knowledge.loader import yaml_error
from plumbob.model.snapshot import parse_minor

BASELINE_API_VERSION = "plumbob.dev/v1"

_STRUCT = {
    "frozen": True,
    "kw_only": True,
    "forbid_unknown_fields": True,
    "rename": "kebab",
    "omit_defaults": True,
}


class PoolIntent(msgspec.Struct, **_STRUCT):
    """Expected values of one pool: each an exact value, a glob (`6.1.*`) or a version range
    (`>=550.54, <560`)."""

    kernel: str | None = None
    os_image: str | None = None
    architecture: str | None = None
    kubelet: str | None = None
    kube_proxy: str | None = None
    container_runtime: str | None = None
    nvidia_driver: str | None = None
    cuda: str | None = None
    vgpu_host_driver: str | None = None
    gpu_product: str | None = None
    gpu_count: str | None = None
    mig_strategy: str | None = None
    mig_config: str | None = None
    mig_layout: str | None = None
    sharing_strategy: str | None = None
    sharing_replicas: str | None = None
    instance_type: str | None = None
    zone: str | None = None
    allocatable_cpu: str | None = None
    allocatable_memory: str | None = None
    allocatable_gpu: str | None = None
    required_taints: list[str] = []
    """`key[=value]:Effect` entries every node must carry."""
    required_labels: dict[str, str] = {}
    """Labels every node must carry with these values ("*": any value)."""


class ClusterIntent(msgspec.Struct, **_STRUCT):
    min_kubernetes_version: str | None = None
    required_components: dict[str, str] = {}
    """Component id (knowledge/ai_components.yaml) -> version range, or "*" for any version."""
    approved_registries: list[str] = []
    """Registry hosts (or host/path prefixes) workload images may come from."""
    gpu_image_pinning: Literal["tag", "digest"] | None = None
    """How GPU workloads must pin their images in exported policies (`plumbob policy
    export`): `tag` (a release tag: no :latest, branch or pre-release tag; the default) or
    `digest` (image@sha256:...)."""


class Baseline(msgspec.Struct, **_STRUCT):
    api_version: str = msgspec.field(default=BASELINE_API_VERSION, name="apiVersion")
    kind: str = "Baseline"
    cluster: ClusterIntent = ClusterIntent()
    pools: dict[str, PoolIntent] = {}


def settings(baseline: Baseline) -> dict[str, object]:
    """What a baseline sets, by dotted key in its own spelling (`cluster.approved-registries`,
    `pools.gpu.kernel`); a key left at its default (an empty list) is not set. Check options
    declared `from_baseline=` a key take its value when plumbob.yaml does not set them
    (checks/options.py)."""
    out: dict[str, object] = {}

    def walk(prefix: str, value: object) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                walk(f"{prefix}.{key}" if prefix else str(key), item)
        else:
            out[prefix] = value

    walk("", msgspec.to_builtins(baseline))  # omit_defaults: only what the file sets
    return out


class BaselineError(ValueError):
    """A baseline file that cannot be used; the message names the file, key and line."""


@dataclass(frozen=True, slots=True)
class LoadedBaseline:
    path: str
    baseline: Baseline
    specs: Mapping[tuple[str, str], ValueSpec]
    """(pool, attribute) -> compiled expected value."""
    components: Mapping[str, ValueSpec]


def alternatives(key: str) -> list[str]:
    """A required-components key names one component id, or several joined by `|` of which
    any one will do (`kyverno|opa-gatekeeper`: an admission policy engine)."""
    return [part.strip() for part in key.split("|") if part.strip()]


_PATH_TOKEN = re.compile(r"\.([^.\[]+)|\[(\d+)\]")
_UNKNOWN = re.compile(r"unknown field `([^`]+)`")
_AT = re.compile(r"at `(\$[^`]*)`")


def _line_of(root: yaml.Node | None, path: str, unknown: str | None) -> int | None:
    node = root
    line = root.start_mark.line + 1 if root is not None else None
    tokens = [(m.group(1), m.group(2)) for m in _PATH_TOKEN.finditer(path.removeprefix("$"))]
    if unknown is not None:
        tokens.append((unknown, None))
    for key, index in tokens:
        if isinstance(node, yaml.MappingNode) and key is not None:
            for k, v in node.value:
                if isinstance(k, yaml.ScalarNode) and k.value == key:
                    line = k.start_mark.line + 1
                    node = v
                    break
            else:
                return line
        elif (
            isinstance(node, yaml.SequenceNode)
            and index is not None
            and int(index) < len(node.value)
        ):
            node = node.value[int(index)]
            line = node.start_mark.line + 1
        else:
            return line
    if node is not None and unknown is None:
        line = node.start_mark.line + 1
    return line


def _key_name(path: str, unknown: str | None) -> str:
    keys = [m.group(1) or f"[{m.group(2)}]" for m in _PATH_TOKEN.finditer(path.removeprefix("$"))]
    if unknown:
        keys.append(unknown)
    return ".".join(keys) or "(top level)"


_BaseLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_BaseLoader):  # type: ignore[valid-type,misc]
    """Every value in a baseline is text: `gpu-count: 8`, `cuda: 12.10`,
    `min-kubernetes-version: 1.30` and `team: yes` keep the characters the user wrote (YAML
    would turn them into 8, 12.1, 1.3 and True)."""


def _scalar_text(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> str:
    return str(node.value)


for _tag in ("int", "float", "bool", "timestamp"):
    _Loader.add_constructor(f"tag:yaml.org,2002:{_tag}", _scalar_text)


def _duplicate_key(node: yaml.Node | None, where: str = "") -> tuple[str, int, int] | None:
    """(key path, line, line of the first one) of the first key given twice in one mapping:
    YAML would keep the last silently."""
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key, value in node.value:
            name = str(key.value) if isinstance(key, yaml.ScalarNode) else "?"
            path = f"{where}.{name}" if where else name
            line = key.start_mark.line + 1
            if name in seen:
                return path, line, seen[name]
            seen[name] = line
            found = _duplicate_key(value, path)
            if found:
                return found
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            found = _duplicate_key(item, f"{where}[{i}]")
            if found:
                return found
    return None


def parse_baseline(text: str, path: str = "baseline.yaml") -> LoadedBaseline:
    try:
        root = yaml.compose(text, Loader=_Loader)
        data = yaml.load(text, Loader=_Loader)  # a SafeLoader subclass
    except yaml.YAMLError as exc:
        raise BaselineError(yaml_error(path, exc)) from None
    duplicate = _duplicate_key(root)
    if duplicate is not None:
        twice, at, first = duplicate
        raise BaselineError(f"{path}:{at}: {twice}: given twice (first on line {first})")
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise BaselineError(f"{path}:1: a baseline is a mapping with `cluster:` and `pools:`")

    def invalid(exc: msgspec.ValidationError, prefix: str) -> BaselineError:
        message = str(exc)
        at = _AT.search(message)
        where = prefix + (at.group(1).removeprefix("$") if at else "")
        where = where.split("[...]")[0]  # msgspec does not name mapping keys
        unknown = _UNKNOWN.search(message)
        field = unknown.group(1) if unknown else None
        line = _line_of(root, where, field)
        reason = message.split(" - at ")[0]
        return BaselineError(f"{path}:{line or '?'}: {_key_name(where, field)}: {reason}")

    pools = data.get("pools")
    if isinstance(pools, dict):
        for name, body in pools.items():
            try:
                msgspec.convert(body if body is not None else {}, PoolIntent)
            except msgspec.ValidationError as exc:
                raise invalid(exc, f"$.pools.{name}") from None
    try:
        baseline = msgspec.convert(data, Baseline)
    except msgspec.ValidationError as exc:
        raise invalid(exc, "$") from None
    if baseline.kind != "Baseline":
        raise BaselineError(
            f"{path}:{_line_of(root, '$.kind', None) or '?'}: kind: expected "
            f"Baseline, got {baseline.kind!r}"
        )
    if baseline.api_version != BASELINE_API_VERSION:
        raise BaselineError(
            f"{path}:{_line_of(root, '$.apiVersion', None) or '?'}: apiVersion: expected "
            f"{BASELINE_API_VERSION}, got {baseline.api_version!r}"
        )
    specs: dict[tuple[str, str], ValueSpec] = {}
    for pool, intent in baseline.pools.items():
        for attribute in BY_ID:
            text_value = getattr(intent, attribute, None)
            if text_value is None:
                continue
            try:
                specs[(pool, attribute)] = ValueSpec.parse(text_value)
            except SpecError as exc:
                key = f"pools.{pool}.{attribute.replace('_', '-')}"
                line = _line_of(root, f"$.pools.{pool}", attribute.replace("_", "-"))
                raise BaselineError(f"{path}:{line or '?'}: {key}: {exc}") from None
    comps: dict[str, ValueSpec] = {}
    known = known_components()
    for comp, wanted in baseline.cluster.required_components.items():
        line = _line_of(root, "$.cluster.required-components", comp)
        where = f"{path}:{line or '?'}: cluster.required-components.{comp}"
        for alternative in alternatives(comp):
            if alternative not in known:
                close = difflib.get_close_matches(alternative, sorted(known), n=3)
                hint = (
                    f"did you mean {', '.join(close)}?"
                    if close
                    else "known: " + ", ".join(sorted(known))
                )
                raise BaselineError(
                    f"{where}: unknown component {alternative!r} (ids from "
                    f"knowledge/ai_components.yaml; {hint})"
                )
        try:
            comps[comp] = ValueSpec.parse(wanted)
        except SpecError as exc:
            raise BaselineError(f"{where}: {exc}") from None
    if (
        baseline.cluster.min_kubernetes_version is not None
        and parse_minor(baseline.cluster.min_kubernetes_version) is None
    ):
        line = _line_of(root, "$.cluster", "min-kubernetes-version")
        raise BaselineError(
            f"{path}:{line or '?'}: cluster.min-kubernetes-version: "
            f"{baseline.cluster.min_kubernetes_version!r} is not a version "
            "such as 1.30"
        )
    return LoadedBaseline(path, baseline, specs, comps)


def load_baseline(path: Path) -> LoadedBaseline:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise BaselineError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise BaselineError(f"{path}: not UTF-8 text") from None
    return parse_baseline(text, str(path))


__all__ = [
    "BASELINE_API_VERSION",
    "Baseline",
    "BaselineError",
    "ClusterIntent",
    "LoadedBaseline",
    "PoolIntent",
    "alternatives",
    "load_baseline",
    "parse_baseline",
]
