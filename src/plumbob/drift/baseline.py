"""Baseline ("intent"): what pools and clusters are meant to be, read from a YAML file, and
every deviation from it as a finding. docs/baseline.md documents the format."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec
import yaml

from plumbob.drift.attributes import BY_ID, NodeAttributes, attribute_title
from plumbob.drift.components import components as detect_components
from plumbob.drift.findings import FindingMaker, cluster_subject, node_subject, pool_subject
from plumbob.drift.pools import Pool, pools_of, spreads
from plumbob.drift.versions import SpecError, ValueSpec, kubelet_outside_skew, version_key
from plumbob.model.images import parse_image
from plumbob.model.snapshot import Snapshot, parse_minor
from plumbob.report.model import Finding, Subject

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


class Baseline(msgspec.Struct, **_STRUCT):
    api_version: str = msgspec.field(default=BASELINE_API_VERSION, name="apiVersion")
    kind: str = "Baseline"
    cluster: ClusterIntent = ClusterIntent()
    pools: dict[str, PoolIntent] = {}


class BaselineError(ValueError):
    """A baseline file that cannot be used; the message names the file, key and line."""


@dataclass(frozen=True, slots=True)
class LoadedBaseline:
    path: str
    baseline: Baseline
    specs: Mapping[tuple[str, str], ValueSpec]
    """(pool, attribute) -> compiled expected value."""
    components: Mapping[str, ValueSpec]


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


def parse_baseline(text: str, path: str = "baseline.yaml") -> LoadedBaseline:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        root = yaml.compose(text, Loader=loader)
        data = yaml.load(text, Loader=loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at_line = f":{mark.line + 1}" if mark is not None else ""
        raise BaselineError(
            f"{path}{at_line}: not valid YAML: {getattr(exc, 'problem', None) or exc}"
        ) from None
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
    for comp, wanted in baseline.cluster.required_components.items():
        try:
            comps[comp] = ValueSpec.parse(wanted)
        except SpecError as exc:
            line = _line_of(root, "$.cluster.required-components", comp)
            raise BaselineError(
                f"{path}:{line or '?'}: cluster.required-components.{comp}: {exc}"
            ) from None
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


# ---------------------------------------------------------------- evaluation


def _taint_ok(required: str, present: Sequence[str]) -> bool:
    key_part, _, effect = required.rpartition(":")
    if not key_part:
        key_part, effect = required, ""
    for taint in present:
        t_key, _, t_effect = taint.rpartition(":")
        if effect and t_effect != effect:
            continue
        if "=" in key_part:
            if t_key == key_part:
                return True
        elif t_key.partition("=")[0] == key_part:
            return True
    return False


def _severity(attribute: str, pool: Pool, value: str | None, server: str | None) -> str:
    if attribute in ("nvidia_driver", "cuda", "vgpu_host_driver"):
        return "high" if pool.gpu else "medium"
    if attribute in ("kubelet", "kube_proxy"):
        return "high" if kubelet_outside_skew(value, server) else "medium"
    if attribute == "architecture":
        return "high"
    if attribute.startswith("allocatable_") and attribute != "allocatable_gpu":
        return "low"
    return "medium"


def _registry_ok(image: str, approved: Sequence[str]) -> bool:
    ref = parse_image(image)
    full = f"{ref.registry}/{ref.repository}"
    return any(
        full == a or full.startswith(a.rstrip("/") + "/") or ref.registry == a for a in approved
    )


def evaluate(
    loaded: LoadedBaseline, snap: Snapshot, attrs: Mapping[str, NodeAttributes], maker: FindingMaker
) -> list[Finding]:
    """Every deviation of one snapshot from the baseline."""
    cluster = snap.cluster.name
    baseline = loaded.baseline
    out: list[Finding] = []

    def add(finding: Finding | None) -> None:
        if finding is not None:
            out.append(finding)

    pools = {p.name: p for p in pools_of(cluster, attrs.values())}
    server = snap.cluster.server_version
    for name, intent in baseline.pools.items():
        pool = pools.get(name)
        if pool is None:
            if attrs:
                add(
                    maker.make(
                        check="baseline:pool-missing",
                        severity="low",
                        cluster=cluster,
                        subject=pool_subject(name, "pool"),
                        message=f"baseline pool {name} has no nodes in {cluster}",
                        evidence={"pool": name},
                    )
                )
            continue
        for node in pool.nodes:
            out.extend(_node_deviations(loaded, name, intent, pool, node, server, maker, cluster))
    out.extend(_cluster_deviations(loaded, snap, maker))
    return out


def _node_deviations(
    loaded: LoadedBaseline,
    name: str,
    intent: PoolIntent,
    pool: Pool,
    node: NodeAttributes,
    server: str | None,
    maker: FindingMaker,
    cluster: str,
) -> Iterator[Finding]:
    for attribute, attr in BY_ID.items():
        spec = loaded.specs.get((name, attribute))
        if spec is None:
            continue
        value = attr.read(node)
        if spec.matches(value):
            continue
        made = maker.make(
            check=f"baseline:{attribute}",
            severity=_severity(attribute, pool, value, server),
            cluster=cluster,
            subject=node_subject(node.node, attribute),
            message=f"{node.node}: {attribute_title(attribute)} {value or '(absent)'} does not "
            f"match baseline {spec.text!r} for pool {name}",
            evidence={"pool": name, "attribute": attribute, "value": value, "expected": spec.text},
        )
        if made is not None:
            yield made
    for taint in intent.required_taints:
        if not _taint_ok(taint, node.taints):
            made = maker.make(
                check="baseline:taints",
                severity="high" if pool.gpu else "medium",
                cluster=cluster,
                subject=node_subject(node.node, f"taints[{taint}]"),
                message=f"{node.node}: missing taint {taint} required for pool {name}",
                evidence={"pool": name, "required": taint, "taints": list(node.taints)},
            )
            if made is not None:
                yield made
    for key, want in intent.required_labels.items():
        have = node.labels.get(key)
        if have is None or (want != "*" and have != want):
            made = maker.make(
                check="baseline:labels",
                severity="low",
                cluster=cluster,
                subject=node_subject(node.node, f"labels[{key}]"),
                message=f"{node.node}: label {key}={have if have is not None else '(absent)'}"
                f", baseline for pool {name} wants {want}",
                evidence={"pool": name, "label": key, "value": have, "expected": want},
            )
            if made is not None:
                yield made


def _cluster_deviations(
    loaded: LoadedBaseline, snap: Snapshot, maker: FindingMaker
) -> Iterator[Finding]:
    cluster = snap.cluster.name
    intent = loaded.baseline.cluster
    if intent.min_kubernetes_version:
        want = parse_minor(intent.min_kubernetes_version)
        have = snap.server_minor
        if want and have and have < want:
            made = maker.make(
                check="baseline:kubernetes_version",
                severity="high",
                cluster=cluster,
                subject=cluster_subject(cluster, "kubernetesVersion"),
                message=f"Kubernetes {snap.cluster.server_version} is older than the baseline "
                f"minimum {intent.min_kubernetes_version}",
                evidence={
                    "version": snap.cluster.server_version,
                    "minimum": intent.min_kubernetes_version,
                },
            )
            if made is not None:
                yield made
    if loaded.components:
        found = detect_components(snap)
        for comp, spec in loaded.components.items():
            version = found.get(comp)
            if version is None:
                message = f"required component {comp} was not found"
            elif spec.text == "*" or spec.matches(version) or (not version and not spec.is_range):
                continue
            else:
                message = (
                    f"component {comp} {version or '(version unknown)'} does not match "
                    f"baseline {spec.text!r}"
                )
            made = maker.make(
                check="baseline:component",
                severity="medium",
                cluster=cluster,
                subject=cluster_subject(cluster, f"components[{comp}]"),
                message=message,
                evidence={"component": comp, "version": version, "expected": spec.text},
            )
            if made is not None:
                yield made
    if intent.approved_registries:
        seen: set[tuple[int, str]] = set()
        for template in snap.pod_templates:
            for container in template.spec.all_containers:
                image = container.image
                if not image or _registry_ok(image, intent.approved_registries):
                    continue
                key = (id(template.workload), image)
                if key in seen:
                    continue
                seen.add(key)
                w = template.workload
                origin = w.origin
                made = maker.make(
                    check="baseline:registry",
                    severity="medium",
                    cluster=cluster,
                    subject=Subject(
                        kind=w.kind,
                        name=w.name,
                        namespace=w.namespace,
                        api_version=w.api_version,
                        file=origin.file if origin else None,
                        line=origin.line if origin else None,
                        path=f"{template.path}.containers[{container.name}]",
                    ),
                    message=f"{w.kind}/{w.name} container {container.name} uses {image}, "
                    f"not from an approved registry "
                    f"({', '.join(intent.approved_registries)})",
                    evidence={"image": image, "approved": list(intent.approved_registries)},
                )
                if made is not None:
                    yield made


# ---------------------------------------------------------------- init

_INIT_SKIPPED_LABEL_PREFIXES = (
    "feature.node.kubernetes.io/",
    "node-role.kubernetes.io/",
    "kubernetes.azure.com/",
    "node.kubernetes.io/",
    "cloud.google.com/",
    "eks.amazonaws.com/",
)


def initial_baseline(
    snapshots: Sequence[Snapshot], attrs: Mapping[str, Mapping[str, NodeAttributes]]
) -> Baseline:
    """A baseline holding today's majority values: exact versions to be widened by hand."""
    merged: dict[str, list[NodeAttributes]] = {}
    for cluster_name, by_node in attrs.items():
        for pool in pools_of(cluster_name, by_node.values()):
            merged.setdefault(pool.name, []).extend(pool.nodes)
    pools: dict[str, PoolIntent] = {}
    for name, members in sorted(merged.items()):
        spread = spreads(Pool("*", name, tuple(members)))
        fields: dict[str, Any] = {}
        for attribute, attr in BY_ID.items():
            if not attr.fleet:
                continue
            s = spread.get(attribute)
            if s is None or s.majority is None or attribute == "taints":
                continue
            fields[attribute] = s.majority
        taints = spread.get("taints")
        if taints is not None and taints.majority:
            fields["required_taints"] = taints.majority.split(", ")
        labels = {
            k.removeprefix("label:"): s.majority
            for k, s in spread.items()
            if k.startswith("label:")
            and s.majority is not None
            and s.distinct == 1
            and not k.removeprefix("label:").startswith(_INIT_SKIPPED_LABEL_PREFIXES)
        }
        if labels:
            fields["required_labels"] = dict(sorted(labels.items()))
        pools[name] = PoolIntent(**fields)
    minors = [s.server_minor for s in snapshots if s.server_minor]
    comps: dict[str, str] = {}
    registries: set[str] = set()
    for snap in snapshots:
        for comp, version in detect_components(snap).items():
            comps.setdefault(comp, f">={version}" if version_key(version) else "*")
        for template in snap.pod_templates:
            for container in template.spec.all_containers:
                if container.image:
                    registries.add(parse_image(container.image).registry)
    intent = ClusterIntent(
        min_kubernetes_version=".".join(map(str, min(minors))) if minors else None,
        required_components=dict(sorted(comps.items())),
        approved_registries=sorted(registries),
    )
    return Baseline(cluster=intent, pools=pools)


def dump_baseline(baseline: Baseline) -> str:
    header = (
        "# plumbob baseline: what this fleet is meant to be (docs/baseline.md).\n"
        '# Values are exact as found; widen them to globs ("6.1.*") or version ranges\n'
        '# (">=550.54, <560"), then commit this file and run `plumbob scan --baseline`.\n'
    )
    data = {
        "apiVersion": baseline.api_version,
        "kind": baseline.kind,
        **msgspec.to_builtins(baseline),
    }
    return header + yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)


__all__ = [
    "BASELINE_API_VERSION",
    "Baseline",
    "BaselineError",
    "ClusterIntent",
    "LoadedBaseline",
    "PoolIntent",
    "dump_baseline",
    "evaluate",
    "initial_baseline",
    "load_baseline",
    "parse_baseline",
]
