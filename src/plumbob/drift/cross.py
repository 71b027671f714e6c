"""Cross-cluster drift: the same pool name or the same GPU model in several clusters with
different drivers, kernels or kubelets; components present in some clusters and not others,
or at different versions; admission policies applied unevenly."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping

from plumbob.drift.attributes import NodeAttributes, attribute_title
from plumbob.drift.findings import cluster_subject, drift_finding, pool_subject
from plumbob.drift.policies import ENFORCE, ClusterPolicies
from plumbob.drift.pools import Pool, Spread, pools_of, spreads
from plumbob.findings import FindingPolicy
from plumbob.knowledge.prices import product_key  # the one GPU-label normaliser
from plumbob.report.model import Finding, Severity, Subject
from plumbob.report.sections import ComponentRow, CrossRow, PolicyRow

CROSS_ATTRIBUTES = {
    "nvidia_driver": "high",
    "cuda": "high",
    "kubelet": "medium",
    "kernel": "medium",
    "os_image": "low",
    "container_runtime": "medium",
}
"""Attributes compared across clusters for pools of the same name or the same GPU product,
with the severity of a difference (driver/CUDA high only for GPU groups)."""


def _majority(by_attribute: Mapping[str, Spread], attribute: str) -> str | None:
    spread = by_attribute.get(attribute)
    return spread.majority if spread is not None else None


def _groups(
    per_cluster: Mapping[str, Mapping[str, NodeAttributes]],
) -> dict[str, dict[str, list[Pool]]]:
    """`pool:<name>` / `gpu:<product>` -> cluster -> pools. One GPU model is one group however
    a node names it (`-SHARED`/`-MIG-<profile>` suffixes, the pre-`NVIDIA-` names, GKE
    accelerator names); the group is named by its most common label."""
    groups: dict[str, dict[str, list[Pool]]] = defaultdict(lambda: defaultdict(list))
    by_model: dict[str, dict[str, list[NodeAttributes]]] = defaultdict(lambda: defaultdict(list))
    for cluster, attrs in per_cluster.items():
        for pool in pools_of(cluster, attrs.values()):
            groups[f"pool:{pool.name}"][cluster].append(pool)
        for a in attrs.values():
            if a.gpu_product:
                by_model[product_key(a.gpu_product)][cluster].append(a)
    for clusters in by_model.values():
        labels = Counter(a.gpu_product for nodes in clusters.values() for a in nodes)
        name = min(labels, key=lambda p: (-labels[p], p or ""))
        for cluster, nodes in clusters.items():
            groups[f"gpu:{name}"][cluster].append(Pool(cluster, str(name), tuple(nodes)))
    return {k: dict(v) for k, v in groups.items() if len(v) > 1}


def cross_cluster(
    per_cluster: Mapping[str, Mapping[str, NodeAttributes]],
    components: Mapping[str, Mapping[str, str]],
    policy: FindingPolicy,
    visible: Mapping[str, bool] | None = None,
) -> tuple[list[Finding], list[CrossRow], list[ComponentRow]]:
    """Compare clusters (at least two) group by group and component by component. Findings
    are filed against the clusters in the minority for each difference (all when split).
    `visible`: cluster -> whether its snapshot can show a component is absent (default: yes);
    a component is reported missing only from clusters that can."""
    findings: list[Finding] = []
    rows: list[CrossRow] = []
    if len(per_cluster) < 2:
        return findings, rows, []
    for group, by_cluster in sorted(_groups(per_cluster).items()):
        merged = {
            c: Pool(c, group, tuple(n for p in pools for n in p.nodes))
            for c, pools in by_cluster.items()
        }
        gpu_group = group.startswith("gpu:") or any(p.gpu for p in merged.values())
        per_cluster_spreads = {c: spreads(p) for c, p in sorted(merged.items())}
        for attribute, base in CROSS_ATTRIBUTES.items():
            values = {c: _majority(sp, attribute) for c, sp in per_cluster_spreads.items()}
            if len({v for v in values.values() if v is not None}) < 2:
                continue
            rows.append(CrossRow(group=group, attribute=attribute, values=values))
            level = base if gpu_group or base != "high" else "medium"
            findings.extend(_differs(group, attribute, values, level, policy))
    comp_rows = _components(components, policy, findings, visible or {})
    return findings, rows, comp_rows


def _minority(values: Mapping[str, str | None]) -> list[tuple[str, str | None, str | None]]:
    """(cluster, its value, most common value) for clusters not holding the most common value."""
    counts: dict[str | None, int] = defaultdict(int)
    for v in values.values():
        counts[v] += 1
    ordered = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0] is None, kv[0] or ""))
    top, top_n = ordered[0]
    tie = len(ordered) > 1 and ordered[1][1] == top_n
    return [(c, v, None if tie else top) for c, v in values.items() if tie or v != top]


def _differs(
    group: str, attribute: str, values: Mapping[str, str | None], level: str, policy: FindingPolicy
) -> list[Finding]:
    out: list[Finding] = []
    title = attribute_title(attribute)
    listing = ", ".join(f"{c}: {v or '-'}" for c, v in values.items())
    kind, _, name = group.partition(":")
    for cluster, value, common in _minority(values):
        subject = (
            pool_subject(name, attribute)
            if kind == "pool"
            else Subject(kind="GPUProduct", name=name, path=attribute)
        )
        made = drift_finding(
            policy,
            check=f"cross-cluster:{attribute}",
            severity=level,
            cluster=cluster,
            subject=subject,
            message=f"{'pool' if kind == 'pool' else 'GPU'} {name}: {title} {value or '-'} here"
            + (f", {common} in most clusters" if common else "")
            + f" ({listing})",
            evidence={"group": group, "attribute": attribute, "values": dict(values)},
        )
        if made is not None:
            out.append(made)
    return out


def _same_version(version: str) -> str:
    """Tags that name one version alike ("v0.9.1", "0.9.1") compare equal."""
    return version.removeprefix("v")


def _components(
    components: Mapping[str, Mapping[str, str]],
    policy: FindingPolicy,
    findings: list[Finding],
    visible: Mapping[str, bool],
) -> list[ComponentRow]:
    clusters = sorted(components)
    names = sorted({c for found in components.values() for c in found})
    rows: list[ComponentRow] = []
    for comp in names:
        # A cluster whose snapshot cannot show absence (manifests only) and lacks the
        # component is left out: "not visible", neither present nor missing.
        versions: dict[str, str | None] = {
            c: components[c].get(comp)
            for c in clusters
            if comp in components[c] or visible.get(c, True)
        }
        present = [c for c, v in versions.items() if v is not None]
        missing = [c for c, v in versions.items() if v is None]
        known = {_same_version(v) for v in versions.values() if v}
        if not missing and len(known) < 2:
            continue
        rows.append(ComponentRow(component=comp, versions=versions))
        where = ", ".join(present)
        for cluster in missing:
            made = drift_finding(
                policy,
                check="cross-cluster:component-missing",
                severity="medium",
                cluster=cluster,
                subject=cluster_subject(cluster, comp),
                message=f"{comp} runs in {where} but not in {cluster}",
                evidence={"component": comp, "versions": versions},
            )
            if made is not None:
                findings.append(made)
        if len(known) > 1:
            tagged = {c: _same_version(v) for c, v in versions.items() if v}
            for cluster, _, common in _minority(tagged):
                shown = versions[cluster]
                usual = next((v for c, v in versions.items() if v and tagged[c] == common), None)
                made = drift_finding(
                    policy,
                    check="cross-cluster:component-version",
                    severity=Severity.LOW.value,
                    cluster=cluster,
                    subject=cluster_subject(cluster, comp),
                    message=f"{comp} {shown} here"
                    + (f", {usual} in most clusters" if usual else "")
                    + " ("
                    + ", ".join(f"{c}: {v}" for c, v in versions.items() if v)
                    + ")",
                    evidence={"component": comp, "versions": versions},
                )
                if made is not None:
                    findings.append(made)
    return rows


def policy_drift(
    policies: Mapping[str, ClusterPolicies], rules: FindingPolicy
) -> tuple[list[Finding], list[PolicyRow]]:
    """Admission policies applied unevenly across clusters: a policy some clusters have and
    another (that can show absence) lacks, `cross-cluster:policy-missing` (medium); a policy
    that enforces in some clusters and only audits in others, `cross-cluster:policy-mode`
    (low, filed against the clusters in the minority, every one on a tie)."""
    findings: list[Finding] = []
    rows: list[PolicyRow] = []
    clusters = sorted(policies)
    if len(clusters) < 2:
        return findings, rows
    every = sorted({p for found in policies.values() for p in found.states})
    for policy in every:
        states: dict[str, str | None] = {
            c: policies[c].states.get(policy)
            for c in clusters
            if policy in policies[c].states or policies[c].can_show_absence(policy)
        }
        present = [c for c, v in states.items() if v is not None]
        missing = [c for c, v in states.items() if v is None]
        modes = {v for v in states.values() if v is not None}
        if not missing and len(modes) < 2:
            continue
        rows.append(PolicyRow(policy=policy, states=states))
        listing = ", ".join(f"{c}: {v or 'missing'}" for c, v in states.items())
        for cluster in missing:
            made = drift_finding(
                rules,
                check="cross-cluster:policy-missing",
                severity="medium",
                cluster=cluster,
                subject=cluster_subject(cluster, f"policies[{policy}]"),
                message=f"admission policy {policy} is applied in {', '.join(present)} but "
                f"not in {cluster} ({listing})",
                evidence={"policy": policy, "states": states},
            )
            if made is not None:
                findings.append(made)
        if len(modes) > 1:
            applied = {c: v for c, v in states.items() if v is not None}
            for cluster, mode, common in _minority(applied):
                made = drift_finding(
                    rules,
                    check="cross-cluster:policy-mode",
                    severity="low",
                    cluster=cluster,
                    subject=cluster_subject(cluster, f"policies[{policy}]"),
                    message=f"admission policy {policy} "
                    + ("enforces" if mode == ENFORCE else "only audits")
                    + " here"
                    + (f", {common}s in most clusters" if common else "")
                    + f" ({listing})",
                    evidence={"policy": policy, "states": states},
                )
                if made is not None:
                    findings.append(made)
    return findings, rows
