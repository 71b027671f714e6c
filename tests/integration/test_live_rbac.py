"""deploy/rbac.yaml grants get/list on exactly what the live source reads, and nothing else; and
the live source lists every kind a check or the model reads (the kinds it lists are derived from
the checks' declarations: checks/kinds.py)."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

import yaml

from plumbob.checks.kinds import capture_kinds
from plumbob.checks.registry import COMPONENTS, EVERY_KIND, WORKLOADS, Registry
from plumbob.knowledge import load_table
from plumbob.knowledge.kinds import builtin_kinds
from plumbob.model.metrics import GPU_METRICS
from plumbob.model.policies import KYVERNO_KINDS, VAP_KINDS
from plumbob.model.workloads import CUSTOM_TEMPLATES, WORKLOAD_KINDS
from plumbob.sources.live import ANY_KIND, METADATA_ONLY, SELECTED
from tests.integration.fake_apiserver import plural
from tests.kind_names import kinds_named_in

ROOT = Path(__file__).resolve().parents[2]
RBAC = ROOT / "deploy" / "rbac.yaml"
REGISTRY = Registry.discover()
WANTED = capture_kinds(REGISTRY)
"""What `plumbob scan` and `plumbob snapshot` ask a live capture for."""
NOT_GRANTED = {("", "Secret")}
"""Listed when allowed, deliberately not granted (RBAC cannot grant Secret metadata only)."""


def _role() -> dict[str, Any]:
    docs = list(yaml.safe_load_all(RBAC.read_text()))
    (role,) = [d for d in docs if d["kind"] == "ClusterRole"]
    return role  # type: ignore[no-any-return]


def _plurals() -> dict[tuple[str, str], str]:
    out = {}
    for comp in load_table("ai_components")["components"]:
        for crd in [*(comp.get("crds") or []), *(comp.get("crds_used") or [])]:
            if isinstance(crd.get("kind"), str) and crd.get("plural"):
                out[crd["group"], crd["kind"]] = crd["plural"]
    return out


def expected_rules() -> list[dict[str, Any]]:
    """The resource rules deploy/rbac.yaml must hold: one per API group, get/list on the
    resources plumbob lists, the field-selected kinds limited to their names."""
    plurals = _plurals()
    by_group: dict[str, set[str]] = defaultdict(set)
    named: list[dict[str, Any]] = []
    for group, kind in sorted(WANTED):
        if (group, kind) in NOT_GRANTED:
            continue
        resource = "*" if kind == ANY_KIND else plurals.get((group, kind)) or plural(kind)
        selector = SELECTED.get((group, kind))
        if selector is not None:
            field, _, name = selector.partition("=")
            assert field == "metadata.name", "RBAC can only narrow a list by name"
            named.append(
                {
                    "apiGroups": [group],
                    "resources": [resource],
                    "resourceNames": [name],
                    "verbs": ["get", "list"],
                }
            )
        else:
            by_group[group].add(resource)
    builtin = sorted({g for g, _ in builtin_kinds()} & set(by_group))
    groups = builtin + sorted(g for g in by_group if g not in builtin)
    rules = [
        {"apiGroups": [g], "resources": sorted(by_group[g]), "verbs": ["get", "list"]}
        for g in groups
    ]
    return rules[:1] + named + rules[1:]


def _as_yaml(rules: list[dict[str, Any]]) -> str:
    lines = []
    for r in rules:
        quote = ", ".join(f'"{x}"' for x in r["resources"])
        lines.append(f'  - apiGroups: ["{r["apiGroups"][0]}"]\n    resources: [{quote}]')
        if "resourceNames" in r:
            names = ", ".join(f'"{x}"' for x in r["resourceNames"])
            lines.append(f"    resourceNames: [{names}]")
        lines.append('    verbs: ["get", "list"]')
    return "\n".join(lines)


def test_read_only() -> None:
    for rule in _role()["rules"]:
        assert set(rule["verbs"]) <= {"get", "list"}, rule


def test_no_secrets() -> None:
    for rule in _role()["rules"]:
        assert "secrets" not in rule.get("resources", []) or "" not in rule["apiGroups"]
    assert ("", "Secret") in METADATA_ONLY


def test_role_grants_exactly_what_plumbob_lists() -> None:
    rules = [r for r in _role()["rules"] if "nonResourceURLs" not in r]
    want = expected_rules()
    assert rules == want, (
        "deploy/chart/files/rules.yaml should read (then render deploy/rbac.yaml):\n"
        + _as_yaml(want)
    )


def test_discovery_is_granted() -> None:
    (rule,) = [r for r in _role()["rules"] if "nonResourceURLs" in r]
    assert set(rule["nonResourceURLs"]) == {"/version", "/api", "/api/*", "/apis", "/apis/*"}
    assert rule["verbs"] == ["get"]


def test_cronjob_uses_the_service_account() -> None:
    docs = {d["kind"]: d for d in yaml.safe_load_all(RBAC.read_text())}
    spec = docs["CronJob"]["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    assert spec["serviceAccountName"] == docs["ServiceAccount"]["metadata"]["name"]
    assert "--in-cluster" in spec["containers"][0]["args"]


GENERATED_KINDS = {"K8sAllowedRepos": "constraints.gatekeeper.sh"}
"""Kinds a cluster generates at run time (Gatekeeper constraints from ConstraintTemplates),
listed as every kind of their group."""


def test_every_kind_the_analyses_read_is_listed() -> None:
    listed = {kind for _, kind in WANTED}
    listed |= {f"{kind}.{group}" for group, kind in WANTED}
    listed |= {k for k, group in GENERATED_KINDS.items() if (group, ANY_KIND) in WANTED}
    read: dict[str, set[str]] = defaultdict(set)
    for check in REGISTRY:
        for kind in (*check.reads, *check.consults):
            if kind not in (WORKLOADS, GPU_METRICS, COMPONENTS, EVERY_KIND):
                read[kind].add(f"check {check.id}")
    for kind in WORKLOAD_KINDS | set(CUSTOM_TEMPLATES) | set(KYVERNO_KINDS) | set(VAP_KINDS):
        read[kind].add("model")
    for folder in ("checks", "model", "drift", "knowledge", "conformance"):
        for path in (ROOT / "src" / "plumbob" / folder).rglob("*.py"):
            for kind in kinds_named_in(path):
                read[kind].add(str(path.relative_to(ROOT)))
    assert len(read) > 40  # the scan found the checks' kinds
    missing = {kind: sorted(where) for kind, where in read.items() if kind not in listed}
    assert not missing, f"live capture does not list: {missing}"
