"""Every deviation of a cluster from its baseline, as findings (docs/baseline.md "Findings")."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence

from plumbob.drift.attributes import BY_ID, NodeAttributes, attribute_title
from plumbob.drift.baseline import LoadedBaseline, PoolIntent, alternatives
from plumbob.drift.components import components as detect_components
from plumbob.drift.components import components_visible
from plumbob.drift.findings import cluster_subject, drift_finding, node_subject, pool_subject
from plumbob.drift.pools import Pool, pools_of
from plumbob.drift.versions import ValueSpec, kubelet_outside_skew
from plumbob.findings import FindingPolicy, subject_of
from plumbob.model.images import registry_approved
from plumbob.model.snapshot import Snapshot, parse_minor
from plumbob.report.model import Finding


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


def _component_ok(spec: ValueSpec, version: str) -> bool:
    """A present component meets `spec`: any version for "*", else its tag must match (a range
    compares the tag's first dotted number). A version plumbob cannot read (the component shows
    only through its API group) cannot be checked and counts as a deviation, "version unknown"."""
    return spec.text == "*" or (bool(version) and spec.matches(version))


def evaluate(
    loaded: LoadedBaseline,
    snap: Snapshot,
    attrs: Mapping[str, NodeAttributes],
    policy: FindingPolicy,
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
                    drift_finding(
                        policy,
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
            out.extend(_node_deviations(loaded, name, intent, pool, node, server, policy, cluster))
    out.extend(_cluster_deviations(loaded, snap, policy))
    return out


def _node_deviations(
    loaded: LoadedBaseline,
    name: str,
    intent: PoolIntent,
    pool: Pool,
    node: NodeAttributes,
    server: str | None,
    policy: FindingPolicy,
    cluster: str,
) -> Iterator[Finding]:
    for attribute, attr in BY_ID.items():
        spec = loaded.specs.get((name, attribute))
        if spec is None:
            continue
        value = attr.read(node)
        if spec.matches(value):
            continue
        made = drift_finding(
            policy,
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
            made = drift_finding(
                policy,
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
            made = drift_finding(
                policy,
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
    loaded: LoadedBaseline, snap: Snapshot, policy: FindingPolicy
) -> Iterator[Finding]:
    cluster = snap.cluster.name
    intent = loaded.baseline.cluster
    if intent.min_kubernetes_version:
        want = parse_minor(intent.min_kubernetes_version)
        have = snap.server_minor
        if want and have and have < want:
            made = drift_finding(
                policy,
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
        visible = components_visible(snap)
        for comp, spec in loaded.components.items():
            names = alternatives(comp)
            present = {name: found[name] for name in names if name in found}
            if not present and not visible:
                # Manifests only: absence cannot be told from the snapshot ("not visible").
                continue
            if not present:
                version = None
                message = (
                    f"required component {comp} was not found"
                    if len(names) == 1
                    else f"none of the required components {', '.join(names)} was found"
                )
            elif any(_component_ok(spec, v) for v in present.values()):
                continue
            else:
                version = next(iter(present.values()))
                shown = ", ".join(f"{n} {v or '(version unknown)'}" for n, v in present.items())
                message = f"component {shown} does not match baseline {spec.text!r}"
            made = drift_finding(
                policy,
                check="baseline:component",
                severity="medium",
                cluster=cluster,
                subject=cluster_subject(cluster, f"components[{comp}]"),
                message=message,
                evidence={
                    "component": comp,
                    "version": version,
                    "found": present,
                    "expected": spec.text,
                },
            )
            if made is not None:
                yield made
    if intent.approved_registries:
        seen: set[tuple[int, str]] = set()
        for template in snap.pod_templates:
            for container in template.spec.all_containers:
                image = container.image
                if not image or registry_approved(image, intent.approved_registries):
                    continue
                key = (id(template.workload), image)
                if key in seen:
                    continue
                seen.add(key)
                w = template.workload
                made = drift_finding(
                    policy,
                    check="baseline:registry",
                    severity="medium",
                    cluster=cluster,
                    subject=subject_of(w, f"{template.path}.containers[{container.name}]"),
                    message=f"{w.kind} {w.namespace + '/' if w.namespace else ''}{w.name} "
                    f"container {container.name} uses {image}, "
                    f"not from an approved registry "
                    f"({', '.join(intent.approved_registries)})",
                    evidence={"image": image, "approved": list(intent.approved_registries)},
                )
                if made is not None:
                    yield made
