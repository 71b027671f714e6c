"""deploy/rbac.yaml grants get/list on exactly what the live source reads, and nothing else; and
the live source lists every kind a check or the model reads."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path
from typing import Any

import yaml

from plumbob.checks.registry import COMPONENTS, WORKLOADS, Registry
from plumbob.knowledge import load_table
from plumbob.model.metrics import GPU_METRICS
from plumbob.model.policies import KYVERNO_KINDS, VAP_KINDS
from plumbob.model.workloads import CUSTOM_TEMPLATES, WORKLOAD_KINDS
from plumbob.sources.live import ANY_KIND, BUILTIN_KINDS, METADATA_ONLY, SELECTED, wanted_kinds
from tests.integration.fake_apiserver import plural

ROOT = Path(__file__).resolve().parents[2]
RBAC = ROOT / "deploy" / "rbac.yaml"
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
    for group, kind in sorted(wanted_kinds()):
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
    builtin = [g for g in dict.fromkeys(g for g, _ in BUILTIN_KINDS) if g in by_group]
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
    assert rules == want, "deploy/rbac.yaml rules should read:\n" + _as_yaml(want)


def test_discovery_is_granted() -> None:
    (rule,) = [r for r in _role()["rules"] if "nonResourceURLs" in r]
    assert set(rule["nonResourceURLs"]) == {"/version", "/api", "/api/*", "/apis", "/apis/*"}
    assert rule["verbs"] == ["get"]


def test_cronjob_uses_the_service_account() -> None:
    docs = {d["kind"]: d for d in yaml.safe_load_all(RBAC.read_text())}
    spec = docs["CronJob"]["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    assert spec["serviceAccountName"] == docs["ServiceAccount"]["metadata"]["name"]
    assert "--in-cluster" in spec["containers"][0]["args"]


# ---------------------------------------------------------------------- kinds the code reads

_ACCESSORS = frozenset({"objects", "generic", "typed", "visible", "get"})


def _kinds_named_in(path: Path) -> set[str]:
    """Kind names the code asks a snapshot for: `snap.objects("Kind")` and friends, and the
    tuples a loop feeds to them (`for kind in ("A", "B"): snap.objects(kind)`)."""
    tree = ast.parse(path.read_text())
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if node.func.attr in _ACCESSORS and node.args:
                out.update(_strings(ast.Tuple(elts=node.args[:1])))
            if node.func.attr == "_listed" and len(node.args) > 1:
                out.update(_strings(node.args[1]))
        if isinstance(node, ast.For) and isinstance(node.target, ast.Name):
            var = node.target.id
            uses = any(
                isinstance(n, ast.Call)
                and isinstance(n.func, ast.Attribute)
                and n.func.attr in _ACCESSORS
                and n.args
                and isinstance(n.args[0], ast.Name)
                and n.args[0].id == var
                for n in ast.walk(node)
            )
            if uses:
                out.update(_strings(node.iter))
    return out


def _strings(node: ast.AST) -> set[str]:
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        return {
            e.value
            for e in node.elts
            if isinstance(e, ast.Constant) and isinstance(e.value, str) and e.value[:1].isupper()
        }
    return set()


GENERATED_KINDS = {"K8sAllowedRepos": "constraints.gatekeeper.sh"}
"""Kinds a cluster generates at run time (Gatekeeper constraints from ConstraintTemplates),
listed as every kind of their group."""


def test_every_kind_the_analyses_read_is_listed() -> None:
    listed = {kind for _, kind in wanted_kinds()}
    listed |= {f"{kind}.{group}" for group, kind in wanted_kinds()}
    listed |= {k for k, group in GENERATED_KINDS.items() if (group, ANY_KIND) in wanted_kinds()}
    read: dict[str, set[str]] = defaultdict(set)
    for check in Registry.discover():
        for kind in check.reads:
            if kind not in (WORKLOADS, GPU_METRICS, COMPONENTS):
                read[kind].add(f"check {check.id}")
    for kind in WORKLOAD_KINDS | set(CUSTOM_TEMPLATES) | set(KYVERNO_KINDS) | set(VAP_KINDS):
        read[kind].add("model")
    for folder in ("checks", "model", "drift", "conformance"):
        for path in (ROOT / "src" / "plumbob" / folder).rglob("*.py"):
            for kind in _kinds_named_in(path):
                read[kind].add(str(path.relative_to(ROOT)))
    assert len(read) > 40  # the scan found the checks' kinds
    missing = {kind: sorted(where) for kind, where in read.items() if kind not in listed}
    assert not missing, f"live capture does not list: {missing}"
