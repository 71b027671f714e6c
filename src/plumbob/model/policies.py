"""Admission policies a snapshot holds (Gatekeeper, Kyverno, ValidatingAdmissionPolicy) and what
they constrain: images, registries, GPU requests."""

from __future__ import annotations

import fnmatch
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from plumbob.model.objects import GenericObject, Object, as_list
from plumbob.model.snapshot import Snapshot

KYVERNO_KINDS = (
    "ClusterPolicy",
    "Policy",
    "ValidatingPolicy",
    "ImageValidatingPolicy",
    "NamespacedValidatingPolicy",
    "MutatingPolicy",
)
"""Kyverno policy kinds (kyverno.io and policies.kyverno.io)."""

GATEKEEPER_CONSTRAINTS_GROUP = "constraints.gatekeeper.sh"
VAP_KINDS = ("ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding")

_IMAGE_WORDS = re.compile(
    r"\bimages?\b|imagereferences|registr(y|ies)|\brepos\b|\bdigest\b|\btags?\b|"
    r"cosign|verifyimages|signature"
)
"""Words in a policy body that show it constrains images (fields, rule names, messages)."""
_GPU_WORDS = re.compile(r"nvidia\.com/|amd\.com/gpu|\bgpus?\b|accelerator|resourceclaim")
"""Words that show a policy constrains GPU requests or devices."""


@dataclass(frozen=True, slots=True)
class PolicyObject:
    """One admission policy object: its engine ('kyverno', 'gatekeeper', 'vap'), the object and
    whether it enforces (deny) or only audits."""

    engine: str
    obj: Object
    enforcing: bool

    @property
    def text(self) -> str:
        """The policy body as lower-case text, for keyword scans. (Unsorted: a body from YAML
        may mix key types, `1:` and `a:`, which do not sort; keys JSON cannot hold are left
        out.)"""
        body = self.obj.spec if isinstance(self.obj, GenericObject) else None
        return (self.obj.name + " " + json.dumps(body, default=str, skipkeys=True)).lower()

    @property
    def constrains_images(self) -> bool:
        text = self.text
        if self.engine == "kyverno" and '"verifyimages"' in text:
            return True
        return _IMAGE_WORDS.search(text) is not None

    @property
    def constrains_gpus(self) -> bool:
        return _GPU_WORDS.search(self.text) is not None


def _group(obj: Object) -> str:
    return obj.group


def admission_policies(snap: Snapshot) -> Iterator[PolicyObject]:
    """Kyverno policies, Gatekeeper constraints (and templates) and VAPs with a binding."""
    for kind in KYVERNO_KINDS:
        for obj in snap.objects(kind):
            if not _group(obj).endswith("kyverno.io"):
                continue
            spec = obj.spec if isinstance(obj, GenericObject) else None
            action = ""
            if isinstance(spec, dict):
                action = str(
                    spec.get("validationFailureAction") or spec.get("validationActions") or ""
                )
            yield PolicyObject(
                "kyverno", obj, "enforce" in action.lower() or "deny" in action.lower()
            )
    for objs in snap.kinds.values():
        if not objs or _group(objs[0]) != GATEKEEPER_CONSTRAINTS_GROUP:
            continue
        for obj in objs:
            spec = obj.spec if isinstance(obj, GenericObject) else None
            action = spec.get("enforcementAction", "deny") if isinstance(spec, dict) else "deny"
            yield PolicyObject("gatekeeper", obj, action == "deny")
    for obj in snap.objects("ConstraintTemplate"):
        if _group(obj) == "templates.gatekeeper.sh":
            yield PolicyObject("gatekeeper", obj, False)
    bound = {
        str(b.spec.get("policyName"))
        for b in snap.objects("ValidatingAdmissionPolicyBinding")
        if isinstance(b, GenericObject)
        and isinstance(b.spec, dict)
        and "Deny" in (b.spec.get("validationActions") or ["Deny"])
    }
    for obj in snap.objects("ValidatingAdmissionPolicy"):
        yield PolicyObject("vap", obj, obj.name in bound)


def policy_engines(snap: Snapshot) -> dict[str, str]:
    """Engines present -> how they were recognised (API group served, controller image, VAP
    binding). ValidatingAdmissionPolicy counts only with a binding."""
    found: dict[str, str] = {}
    if snap.has_group("kyverno.io") or snap.has_group("policies.kyverno.io"):
        found["kyverno"] = "API group kyverno.io"
    if snap.has_group("templates.gatekeeper.sh") or snap.has_group(GATEKEEPER_CONSTRAINTS_GROUP):
        found["gatekeeper"] = "API group templates.gatekeeper.sh"
    for template in snap.pod_templates:
        for container in template.spec.containers:
            image = (container.image or "").lower()
            if "kyverno/kyverno" in image and "kyverno" not in found:
                found["kyverno"] = f"{template.kind} {template.workload.name} runs {image}"
            if "openpolicyagent/gatekeeper" in image and "gatekeeper" not in found:
                found["gatekeeper"] = f"{template.kind} {template.workload.name} runs {image}"
    bindings = snap.objects("ValidatingAdmissionPolicyBinding")
    if bindings and snap.objects("ValidatingAdmissionPolicy"):
        found["validating-admission-policy"] = f"{len(bindings)} ValidatingAdmissionPolicyBinding"
    return found


# ------------------------------------------------------------------ approved registries


@dataclass(frozen=True, slots=True)
class RegistryRule:
    """One allowed image pattern: a glob (`eu.foo.io/*`) or a plain prefix (`openpolicyagent/`),
    the policy it comes from, and the namespaces that policy applies to (empty: all)."""

    pattern: str
    origin: str
    namespaces: frozenset[str] = frozenset()
    excluded: frozenset[str] = frozenset()
    """Namespace names; Kyverno's may carry `*`/`?` wildcards."""

    def applies_to(self, namespace: str) -> bool:
        if _any_namespace(namespace, self.excluded):
            return False
        return not self.namespaces or _any_namespace(namespace, self.namespaces)

    def allows(self, image: str) -> bool:
        if any(ch in self.pattern for ch in "*?["):
            return fnmatch.fnmatchcase(image, self.pattern)
        return image.startswith(self.pattern)


def _any_namespace(namespace: str, names: frozenset[str]) -> bool:
    return namespace in names or any(
        fnmatch.fnmatchcase(namespace, n) for n in names if any(ch in n for ch in "*?")
    )


_FILTER_KEYS = frozenset({"kinds", "namespaces", "operations"})
"""ResourceFilter keys that keep an exclude namespace-wide: with `names`, selectors, subjects or
roles it excludes only some requests of the namespace."""


def _filters(block: Any) -> tuple[str, list[dict[str, Any]]]:
    """A Kyverno match/exclude block as ('any'|'all', [ResourceFilter]); the legacy form (a
    bare `resources:`) is one filter."""
    if not isinstance(block, dict):
        return "any", []
    for how in ("any", "all"):
        filters = block.get(how)
        if isinstance(filters, list):
            return how, [f for f in filters if isinstance(f, dict)]
    return "all", [block] if "resources" in block else []


def _namespaces_of(flt: dict[str, Any]) -> frozenset[str] | None:
    resources = flt.get("resources")
    names = resources.get("namespaces") if isinstance(resources, dict) else None
    if not isinstance(names, list) or not names:
        return None
    return frozenset(str(n) for n in names)


def kyverno_rule_scope(rule: dict[str, Any]) -> tuple[frozenset[str] | None, frozenset[str]]:
    """(namespaces the rule matches, None for every one; namespaces it excludes) of one Kyverno
    rule. Only namespace names are read: a namespaceSelector or label selector narrows a rule in
    ways a snapshot of names cannot settle, so such a filter counts as matching everywhere and
    excluding nothing."""
    how, filters = _filters(rule.get("match"))
    scopes = [_namespaces_of(f) for f in filters]
    matched: frozenset[str] | None = None
    if how == "any" and scopes and all(s is not None for s in scopes):
        matched = frozenset().union(*(s for s in scopes if s is not None))
    elif how == "all":
        limited = [s for s in scopes if s is not None]
        if limited:
            matched = frozenset.intersection(*limited)
    how, filters = _filters(rule.get("exclude"))
    whole = [
        ns
        for f in filters
        if set(f) == {"resources"}
        and isinstance(f["resources"], dict)
        and set(f["resources"]) <= _FILTER_KEYS
        and (ns := _namespaces_of(f)) is not None
    ]
    excluded: frozenset[str] = frozenset()
    if how == "any" and whole:
        excluded = frozenset().union(*whole)
    elif how == "all" and len(whole) == len(filters) == 1:
        excluded = whole[0]
    return matched, excluded


def _kyverno_image_patterns(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(key, str) and key.strip("=()") == "image" and isinstance(item, str):
                for part in item.split("|"):
                    part = part.strip()
                    if part and not part.startswith("!") and part != "*":
                        yield part
            else:
                yield from _kyverno_image_patterns(item)
    elif isinstance(value, list):
        for item in value:
            yield from _kyverno_image_patterns(item)


def _names(value: Any) -> frozenset[str]:
    """A list of namespace names; anything else (a string, a number: a malformed constraint
    the API server would refuse) counts as none given."""
    return frozenset(str(n) for n in as_list(value))


def declared_registry_rules(snap: Snapshot) -> list[RegistryRule]:
    """Allowed-image patterns the cluster's own policies declare: Gatekeeper K8sAllowedRepos
    `parameters.repos` (with the constraint's namespace scope) and Kyverno validate patterns on
    container `image` (with the rule's match/exclude namespaces). Patterns of one policy are
    alternatives; an image must satisfy every policy that applies to its namespace."""
    rules: list[RegistryRule] = []
    for obj in snap.objects("K8sAllowedRepos"):
        if isinstance(obj, GenericObject) and isinstance(obj.spec, dict):
            parameters = obj.spec.get("parameters")
            repos = parameters.get("repos") if isinstance(parameters, dict) else None
            match = obj.spec.get("match")
            match = match if isinstance(match, dict) else {}
            scope = _names(match.get("namespaces"))
            excluded = _names(match.get("excludedNamespaces"))
            rules.extend(
                RegistryRule(repo, f"K8sAllowedRepos/{obj.name}", scope, excluded)
                for repo in as_list(repos)
                if isinstance(repo, str) and repo
            )
    for policy in admission_policies(snap):
        if policy.engine != "kyverno" or not isinstance(policy.obj, GenericObject):
            continue
        spec = policy.obj.spec
        rule_list = spec.get("rules") if isinstance(spec, dict) else None
        for rule in as_list(rule_list):
            validate = rule.get("validate") if isinstance(rule, dict) else None
            if not isinstance(validate, dict):
                continue
            patterns = [validate.get("pattern")]
            any_pattern = validate.get("anyPattern")
            if isinstance(any_pattern, list):
                patterns.extend(any_pattern)
            matched, excluded = kyverno_rule_scope(rule)
            if policy.obj.namespace:  # a namespaced Policy applies to its own namespace only
                inside = matched is None or _any_namespace(policy.obj.namespace, matched)
                matched = frozenset({policy.obj.namespace} if inside else ())
            if matched is not None and not matched:
                continue  # the rule matches no namespace
            # Only patterns naming a registry or repository; '*:*' is a tag rule.
            rules.extend(
                RegistryRule(
                    pattern,
                    f"{policy.obj.kind}/{policy.obj.name}",
                    matched or frozenset(),
                    excluded,
                )
                for pattern in _kyverno_image_patterns(patterns)
                if "/" in pattern
            )
    return rules
