"""`plumbob policy test`: what exported policies would deny, evaluated here with the same CEL
the API server (or Kyverno) runs, before anyone enforces them.

It reads ValidatingAdmissionPolicies with their bindings and Kyverno ClusterPolicies whose
rules validate with CEL, matches each object as the policy's match rules say (API group and
resource, namespaces a binding's selector leaves out) and evaluates the variables and
validations in order. A validation that is false denies with its message; one that fails to
evaluate denies too, as under `failurePolicy: Fail`. Policies of other shapes (Kyverno
patterns, VAPs with parameters) are named as not evaluated, never passed silently.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from plumbob.cel import CelCompileError, Program, compile_expression
from plumbob.checks.custom import plain
from plumbob.model.objects import Object, api_group
from plumbob.policy.rules import resource_of


class PolicyError(ValueError):
    """A policy file that cannot be evaluated: the message names the file and policy."""


@dataclass(frozen=True, slots=True)
class Validation:
    program: Program
    message: str
    message_program: Program | None = None
    """messageExpression: what the message is when it evaluates to a string that is not
    empty (else `message`, as the API server does)."""

    def message_for(self, data: Mapping[str, Any]) -> str:
        if self.message_program is not None:
            outcome = self.message_program.evaluate(data)
            if outcome.error is None and isinstance(outcome.value, str) and outcome.value.strip():
                return outcome.value
        return self.message


@dataclass(frozen=True, slots=True)
class Policy:
    """One policy as `policy test` evaluates it."""

    name: str
    check: str | None
    """The plumbob check it enforces (its `plumbob.dev/check` annotation)."""
    source: str
    resources: frozenset[tuple[str, str]]
    """(API group, plural resource) it matches; '*' for any."""
    variables: tuple[tuple[str, Program], ...]
    validations: tuple[Validation, ...]
    excluded_namespaces: frozenset[str] = frozenset()
    bound: bool = True
    """A VAP without a binding denies nothing."""

    def matches(self, obj: Object) -> bool:
        if obj.namespace in self.excluded_namespaces:
            return False
        group = api_group(obj.api_version)
        plural = resource_of(obj.kind).resource
        return any(g in ("*", group) and r in ("*", plural) for g, r in self.resources)


@dataclass(frozen=True, slots=True)
class Denial:
    policy: str
    check: str | None
    subject: Object
    message: str


@dataclass(slots=True)
class Loaded:
    policies: list[Policy] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    """Policies not evaluated, with why."""


def load_policies(paths: Iterable[Path]) -> Loaded:
    """Every policy in the YAML files under `paths` (folders walked, sorted)."""
    import yaml

    loaded = Loaded()
    vaps: dict[str, tuple[str, dict[str, Any]]] = {}
    bindings: dict[str, list[dict[str, Any]]] = {}
    for path in _files(paths):
        try:
            docs = list(yaml.load_all(path.read_text(), Loader=_loader()))
        except (OSError, yaml.YAMLError) as exc:
            raise PolicyError(f"{path}: cannot read: {exc}") from None
        for doc in docs:
            if not isinstance(doc, dict):
                continue
            kind = doc.get("kind")
            name = str((doc.get("metadata") or {}).get("name", "?"))
            if kind == "ValidatingAdmissionPolicy":
                vaps[name] = (str(path), doc)
            elif kind == "ValidatingAdmissionPolicyBinding":
                bound = str((doc.get("spec") or {}).get("policyName", ""))
                bindings.setdefault(bound, []).append(doc)
            elif kind in ("ClusterPolicy", "Policy") and str(doc.get("apiVersion", "")).startswith(
                "kyverno.io/"
            ):
                loaded.policies.extend(_kyverno(doc, str(path), loaded.skipped))
    for name, (source, doc) in sorted(vaps.items()):
        made = _vap(doc, source, bindings.get(name, []), loaded.skipped)
        if made is not None:
            loaded.policies.append(made)
    return loaded


def _loader() -> Any:
    import yaml

    return getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _files(paths: Iterable[Path]) -> Iterator[Path]:
    for path in paths:
        if path.is_dir():
            yield from sorted(
                p for p in path.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file()
            )
        else:
            yield path


def _compile(expression: object, where: str) -> Program:
    if not isinstance(expression, str):
        raise PolicyError(f"{where}: expression missing")
    try:
        return compile_expression(expression)
    except CelCompileError as exc:
        at = f" (line {exc.line}, column {exc.column} of the expression)" if exc.line else ""
        raise PolicyError(f"{where}: {exc}{at}") from None


def _message_program(validation: Mapping[str, Any], where: str) -> Program | None:
    text = validation.get("messageExpression")
    return None if text is None else _compile(text, where)


def _check_of(doc: Mapping[str, Any]) -> str | None:
    meta = doc.get("metadata") or {}
    value = (meta.get("annotations") or {}).get("plumbob.dev/check")
    return str(value) if value else None


def _vap(
    doc: dict[str, Any], source: str, bindings: list[dict[str, Any]], skipped: list[str]
) -> Policy | None:
    name = str(doc["metadata"].get("name"))
    spec = doc.get("spec") or {}
    where = f"{source}: ValidatingAdmissionPolicy {name}"
    if spec.get("paramKind"):
        skipped.append(f"{where}: takes parameters (paramKind), which policy test does not read")
        return None
    resources = set()
    for rule in (spec.get("matchConstraints") or {}).get("resourceRules") or []:
        for group in rule.get("apiGroups") or []:
            for resource in rule.get("resources") or []:
                resources.add((str(group), str(resource).split("/")[0]))
    excluded: set[str] = set()
    for binding in bindings:
        excluded |= _excluded(binding, where, skipped)
    return Policy(
        name=name,
        check=_check_of(doc),
        source=source,
        resources=frozenset(resources),
        variables=tuple(
            (str(v["name"]), _compile(v.get("expression"), f"{where}: variable {v.get('name')}"))
            for v in spec.get("variables") or []
        ),
        validations=tuple(
            Validation(
                _compile(v.get("expression"), f"{where}: validations[{i}]"),
                str(v.get("message") or f"failed expression: {v.get('expression')}"),
                _message_program(v, f"{where}: validations[{i}].messageExpression"),
            )
            for i, v in enumerate(spec.get("validations") or [])
        ),
        excluded_namespaces=frozenset(excluded),
        bound=bool(bindings),
    )


def _excluded(binding: Mapping[str, Any], where: str, skipped: list[str]) -> set[str]:
    """Namespaces a binding's namespaceSelector leaves out by name (NotIn on
    kubernetes.io/metadata.name); other selectors are named as not read."""
    selector = ((binding.get("spec") or {}).get("matchResources") or {}).get("namespaceSelector")
    out: set[str] = set()
    for expr in (selector or {}).get("matchExpressions") or []:
        if expr.get("key") == "kubernetes.io/metadata.name" and expr.get("operator") == "NotIn":
            out.update(str(v) for v in expr.get("values") or [])
        else:
            skipped.append(f"{where}: binding selector {expr} not read: treated as matching all")
    return out


def _kyverno(doc: dict[str, Any], source: str, skipped: list[str]) -> Iterator[Policy]:
    name = str(doc["metadata"].get("name"))
    for i, rule in enumerate((doc.get("spec") or {}).get("rules") or []):
        where = f"{source}: ClusterPolicy {name} rule {rule.get('name', i)}"
        cel = (rule.get("validate") or {}).get("cel")
        if not isinstance(cel, dict):
            skipped.append(f"{where}: validates without CEL, which policy test does not evaluate")
            continue
        resources: set[tuple[str, str]] = set()
        for entry in (rule.get("match") or {}).get("any") or []:
            for kind in (entry.get("resources") or {}).get("kinds") or []:
                parts = str(kind).split("/")
                known = resource_of(parts[-1])
                group = known.group if len(parts) == 1 else parts[0] if len(parts) == 3 else ""
                resources.add((group, known.resource))
        excluded: set[str] = set()
        for entry in (rule.get("exclude") or {}).get("any") or []:
            excluded.update(str(n) for n in (entry.get("resources") or {}).get("namespaces") or [])
        yield Policy(
            name=name,
            check=_check_of(doc),
            source=source,
            resources=frozenset(resources),
            variables=tuple(
                (str(v["name"]), _compile(v.get("expression"), f"{where}: variable"))
                for v in cel.get("variables") or []
            ),
            validations=tuple(
                Validation(
                    _compile(v.get("expression"), f"{where}: expressions[{j}]"),
                    str(v.get("message") or "denied"),
                )
                for j, v in enumerate(cel.get("expressions") or [])
            ),
            excluded_namespaces=frozenset(excluded),
        )


def evaluate(policy: Policy, obj: Object) -> str | None:
    """The message `policy` denies `obj` with, or None when it admits it."""
    data: dict[str, Any] = {"object": plain(obj), "oldObject": None, "params": None}
    data["request"] = {"operation": "CREATE", "namespace": obj.namespace or ""}
    data["namespaceObject"] = None
    values: dict[str, Any] = {}
    failed: dict[str, str] = {}
    for name, program in policy.variables:
        data["variables"] = values
        outcome = program.evaluate(data)
        if outcome.error is not None:
            failed[name] = outcome.error
        else:
            values[name] = outcome.value
    data["variables"] = values
    for validation in policy.validations:
        used = [n for n in failed if f"variables.{n}" in validation.program.source]
        if used:
            return f"{validation.message} (variable {used[0]} failed: {failed[used[0]]})"
        outcome = validation.program.evaluate(data)
        if outcome.error is not None:
            return f"expression failed: {outcome.error}"
        if outcome.value is not True:
            return validation.message_for(data)
    return None


def denials(policies: Sequence[Policy], objects: Iterable[Object]) -> list[Denial]:
    """What each bound policy would deny among `objects`."""
    out = []
    for obj in objects:
        for policy in policies:
            if not policy.bound or not policy.matches(obj):
                continue
            message = evaluate(policy, obj)
            if message is not None:
                out.append(Denial(policy.name, policy.check, obj, message))
    return out
