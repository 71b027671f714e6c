"""Rules -> admission policy objects: a ValidatingAdmissionPolicy with its binding
(admissionregistration.k8s.io/v1), or a Kyverno ClusterPolicy with a `validate.cel` rule.

Every policy names the check it enforces (label and annotation `plumbob.dev/check`) and starts
in a mode that reports without refusing: the VAP binding's `validationActions: [Audit, Warn]`
(a warning to whoever applies the object, an audit annotation), Kyverno's
`validationFailureAction: Audit` (a policy report). `--action deny` gives `[Deny]` and
`Enforce`. The namespaces of the control plane (kube-system, kube-node-lease, kube-public) are
left out, as Kyverno's own default does.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

from plumbob.policy.rules import Resource, Rule

CHECK_LABEL = "plumbob.dev/check"
MANAGED_BY = {"app.kubernetes.io/managed-by": "plumbob"}
EXCLUDED_NAMESPACES = ("kube-system", "kube-node-lease", "kube-public")


class PolicyFormat(enum.StrEnum):
    VAP = "vap"
    KYVERNO = "kyverno"


class Action(enum.StrEnum):
    AUDIT = "audit"
    """Report and warn, refuse nothing (the default)."""
    DENY = "deny"


def policy_name(rule: Rule) -> str:
    return f"plumbob-{rule.check}"


def _metadata(rule: Rule, annotations: dict[str, str]) -> dict[str, Any]:
    return {
        "name": policy_name(rule),
        "labels": {**MANAGED_BY, CHECK_LABEL: rule.check},
        "annotations": {CHECK_LABEL: rule.check, **annotations},
    }


def _resource_rules(resources: Iterable[Resource]) -> list[dict[str, Any]]:
    """Resources grouped by API group and versions, as a VAP's matchConstraints list them."""
    grouped: dict[tuple[str, tuple[str, ...]], list[str]] = {}
    for r in resources:
        grouped.setdefault((r.group, r.versions), []).append(r.resource)
    return [
        {
            "apiGroups": [group],
            "apiVersions": list(versions),
            "operations": ["CREATE", "UPDATE"],
            "resources": names,
        }
        for (group, versions), names in grouped.items()
    ]


def _validation(rule: Rule, reason: str | None = None) -> dict[str, Any]:
    """One validation: the expression, the message (starting with the check id) and, for a
    rule that words its message per object, a messageExpression."""
    out: dict[str, Any] = {
        "expression": rule.expression,
        "message": f"{rule.check}: {rule.message}",
    }
    if rule.message_expression is not None:
        out["messageExpression"] = f"'{rule.check}: ' + ({rule.message_expression})"
    if reason is not None:
        out["reason"] = reason
    return out


def validating_admission_policy(rule: Rule, action: Action) -> list[dict[str, Any]]:
    """The policy and its binding."""
    policy = {
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingAdmissionPolicy",
        "metadata": _metadata(
            rule,
            {
                "plumbob.dev/title": rule.title,
                "plumbob.dev/severity": rule.severity,
                "plumbob.dev/description": rule.description,
            },
        ),
        "spec": {
            "failurePolicy": "Fail",
            "matchConstraints": {"resourceRules": _resource_rules(rule.resources)},
            **(
                {"variables": [{"name": n, "expression": e} for n, e in rule.variables]}
                if rule.variables
                else {}
            ),
            "validations": [_validation(rule, reason="Invalid")],
        },
    }
    binding = {
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingAdmissionPolicyBinding",
        "metadata": {
            "name": policy_name(rule),
            "labels": {**MANAGED_BY, CHECK_LABEL: rule.check},
            "annotations": {CHECK_LABEL: rule.check},
        },
        "spec": {
            "policyName": policy_name(rule),
            "validationActions": ["Deny"] if action == Action.DENY else ["Audit", "Warn"],
            "matchResources": {
                "namespaceSelector": {
                    "matchExpressions": [
                        {
                            "key": "kubernetes.io/metadata.name",
                            "operator": "NotIn",
                            "values": list(EXCLUDED_NAMESPACES),
                        }
                    ]
                }
            },
        },
    }
    return [policy, binding]


def _kyverno_kind(r: Resource) -> str:
    if r.group == "":
        return r.kind
    if r.group == "*":
        return r.kind
    version = r.versions[0]
    return f"{r.group}/{version}/{r.kind}"


def kyverno_cluster_policy(rule: Rule, action: Action) -> list[dict[str, Any]]:
    """A Kyverno ClusterPolicy whose one rule validates with the same CEL."""
    cel: dict[str, Any] = {
        "expressions": [{"expression": rule.expression, "message": f"{rule.check}: {rule.message}"}]
    }
    if rule.variables:
        cel = {"variables": [{"name": n, "expression": e} for n, e in rule.variables], **cel}
    policy = {
        "apiVersion": "kyverno.io/v1",
        "kind": "ClusterPolicy",
        "metadata": _metadata(
            rule,
            {
                "policies.kyverno.io/title": rule.title,
                "policies.kyverno.io/category": f"plumbob {rule.category}",
                "policies.kyverno.io/severity": rule.severity,
                "policies.kyverno.io/subject": ", ".join(r.kind for r in rule.resources),
                "policies.kyverno.io/description": rule.description,
            },
        ),
        "spec": {
            "validationFailureAction": "Enforce" if action == Action.DENY else "Audit",
            "background": True,
            "rules": [
                {
                    "name": rule.check,
                    "match": {
                        "any": [
                            {"resources": {"kinds": [_kyverno_kind(r) for r in rule.resources]}}
                        ]
                    },
                    "exclude": {"any": [{"resources": {"namespaces": list(EXCLUDED_NAMESPACES)}}]},
                    "validate": {"cel": cel},
                }
            ],
        },
    }
    return [policy]


def documents(rule: Rule, fmt: PolicyFormat, action: Action) -> list[dict[str, Any]]:
    match fmt:
        case PolicyFormat.VAP:
            return validating_admission_policy(rule, action)
        case PolicyFormat.KYVERNO:
            return kyverno_cluster_policy(rule, action)


class _Dumper(yaml.SafeDumper):
    """Block scalars for multi-line CEL, so a policy file reads as written."""


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def write(rules: Iterable[Rule], fmt: PolicyFormat, action: Action, out: Path) -> list[Path]:
    """One file per rule, `plumbob-<check>.yaml`, in `out` (created); the paths written."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for rule in rules:
        path = out / f"{policy_name(rule)}.yaml"
        text = yaml.dump_all(
            documents(rule, fmt, action), Dumper=_Dumper, sort_keys=False, width=100
        )
        header = (
            f"# plumbob policy for check {rule.check} ({fmt.value}, "
            f"{'deny' if action == Action.DENY else 'audit and warn'}); "
            "`plumbob explain " + rule.check + "`\n"
        )
        path.write_text(header + text)
        written.append(path)
    return written
