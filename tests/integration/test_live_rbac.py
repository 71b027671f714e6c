"""deploy/rbac.yaml grants get/list on exactly what the live source reads, and nothing else."""

from __future__ import annotations

from pathlib import Path

import yaml

from plumbob.knowledge import load_table
from plumbob.sources.live import BUILTIN_KINDS, METADATA_ONLY
from tests.integration.fake_apiserver import plural

RBAC = Path(__file__).resolve().parents[2] / "deploy" / "rbac.yaml"


def _role() -> dict:  # type: ignore[type-arg]
    docs = list(yaml.safe_load_all(RBAC.read_text()))
    (role,) = [d for d in docs if d["kind"] == "ClusterRole"]
    return role  # type: ignore[no-any-return]


def _granted() -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for rule in _role()["rules"]:
        for group in rule.get("apiGroups", []):
            out.setdefault(group, set()).update(rule["resources"])
    return out


def test_read_only() -> None:
    for rule in _role()["rules"]:
        assert set(rule["verbs"]) <= {"get", "list"}, rule


def test_no_secrets() -> None:
    assert "secrets" not in _granted().get("", set())
    assert ("", "Secret") in METADATA_ONLY


def test_every_kind_plumbob_lists_is_granted() -> None:
    granted = _granted()
    wanted = {(g, plural(k)) for g, k in BUILTIN_KINDS if (g, k) not in METADATA_ONLY}
    for comp in load_table("ai_components")["components"]:
        for crd in [*(comp.get("crds") or []), *(comp.get("crds_used") or [])]:
            kind = crd.get("kind")
            if not isinstance(kind, str):
                continue
            wanted.add(
                (crd["group"], "*" if kind.startswith("<") else crd.get("plural") or plural(kind))
            )
    missing = sorted(
        (g, r)
        for g, r in wanted
        if r not in granted.get(g, set()) and "*" not in granted.get(g, set())
    )
    assert not missing, f"deploy/rbac.yaml lacks {missing}"
    extra = {g for g in granted if g not in {g for g, _ in wanted}}
    assert not extra, f"deploy/rbac.yaml grants groups plumbob never reads: {extra}"


def test_cronjob_uses_the_service_account() -> None:
    docs = {d["kind"]: d for d in yaml.safe_load_all(RBAC.read_text())}
    spec = docs["CronJob"]["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    assert spec["serviceAccountName"] == docs["ServiceAccount"]["metadata"]["name"]
    assert "--in-cluster" in spec["containers"][0]["args"]
