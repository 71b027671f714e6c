"""Custom checks: a team's own rules, written in YAML with a CEL expression, run like built-in
checks (exemptions, severity overrides, reports, scores, `plumbob explain`, policy export).

    checks:
      - id: team-label-required
        severity: medium
        category: policy
        title: Workloads carry a team label
        match: {kinds: [Deployment, StatefulSet, Job]}
        expression: "has(object.metadata.labels) && 'team' in object.metadata.labels"
        message: "{kind} {namespace}/{name} has no team label"
        why: "..."
        fix: "..."

The expression is what a ValidatingAdmissionPolicy validation is: true means compliant, and an
evaluation error (a field read without `has()` that is not there) is a finding, as the
API server denies on an error under `failurePolicy: Fail`. The object it sees is the one in the
snapshot: the fields plumbob's model keeps for the kinds it types (Pod, Deployment, ... with
their pod templates; docs/guardrails.md lists what is kept) and every field of other kinds.
The file is read and its positions found by config.py; this module turns one entry into a Check.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import msgspec
import msgspec.inspect

from plumbob.cel import CelCompileError, Program, compile_expression
from plumbob.checks.registry import CATEGORIES, Check, CheckId, Hit
from plumbob.model.objects import TYPED_KINDS, Object
from plumbob.model.snapshot import Snapshot
from plumbob.report.model import Severity

MESSAGE_FIELDS = ("kind", "namespace", "name", "apiVersion")
"""Placeholders a `message` may use: `{kind} {namespace}/{name}`."""


class Match(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    kinds: list[str]
    """Kinds the expression judges, as kubectl names them (Deployment, PyTorchJob)."""


class CustomCheckSpec(
    msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True, rename="camel"
):
    """One entry of a custom checks file (unknown keys are errors)."""

    id: str
    severity: Severity
    category: str
    title: str
    match: Match
    expression: str
    message: str | None = None
    message_expression: str | None = None
    why: str = ""
    fix: str = ""
    references: list[str] = []


class CustomChecksFile(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    checks: list[CustomCheckSpec]


@dataclass(frozen=True, slots=True)
class Where:
    """Where one entry is in its file: the entry's line, and where the text of its
    `expression` and `messageExpression` values starts (line, column, both 1-based, and
    whether it is a block scalar, whose every line is indented by that column)."""

    line: int
    expression: tuple[int, int, bool] | None = None
    message_expression: tuple[int, int, bool] | None = None


class CustomCheckError(ValueError):
    """A custom check that cannot be used; the message names the file, the check and where."""


@dataclass(frozen=True, slots=True)
class CustomCheck:
    """What a custom check runs: its compiled expressions and how it words a finding."""

    kinds: tuple[str, ...]
    expression: Program
    message: str | None
    message_expression: Program | None
    source: str
    """The file it came from."""

    def __call__(self, snap: Snapshot) -> Iterator[Hit]:
        for kind in self.kinds:
            for obj in snap.objects(kind):
                data = plain(obj)
                outcome = self.expression.evaluate({"object": data})
                if outcome.error is None and outcome.value is True:
                    continue
                if outcome.error is not None:
                    text = f"{describe(obj)}: the expression failed: {outcome.error}"
                    yield Hit(obj, text, evidence={"error": outcome.error})
                elif outcome.value is False:
                    yield Hit(obj, self._message(obj, data))
                else:
                    got = f"{type(outcome.value).__name__} {outcome.value!r}"[:200]
                    text = f"{describe(obj)}: the expression gave {got}, not true or false"
                    yield Hit(obj, text, evidence={"value": repr(outcome.value)[:200]})

    def _message(self, obj: Object, data: Mapping[str, Any]) -> str:
        if self.message_expression is not None:
            outcome = self.message_expression.evaluate({"object": data})
            if outcome.error is None and isinstance(outcome.value, str) and outcome.value:
                return outcome.value
        if self.message is not None:
            return self.message.format_map(_fields(obj))
        return f"{describe(obj)} fails the check"


def describe(obj: Object) -> str:
    where = f"{obj.namespace}/" if obj.namespace else ""
    return f"{obj.kind} {where}{obj.name}"


def _fields(obj: Object) -> dict[str, str]:
    return {
        "kind": obj.kind,
        "namespace": obj.namespace or "",
        "name": obj.name,
        "apiVersion": obj.api_version,
    }


_NOT_OBJECT_FIELDS = ("origin", "unknown", "extra")


def plain(obj: Object) -> dict[str, Any]:
    """The object as CEL sees it: plain data under the API's field names, without what
    plumbob adds (where it was read, which node parts a text source did not show)."""
    data: dict[str, Any] = msgspec.to_builtins(obj)
    extra = data.get("extra")
    for key in _NOT_OBJECT_FIELDS:
        data.pop(key, None)
    if isinstance(extra, dict):
        for key, value in extra.items():
            data.setdefault(key, value)
    return data


def build(spec: CustomCheckSpec, source: str, where: Where) -> Check:
    """The Check one entry defines. Raises CustomCheckError naming the file, the entry's id and
    the position of what is wrong (an expression's own line and column within the file)."""

    def fail(what: str, line: int | None = None) -> CustomCheckError:
        return CustomCheckError(f"{source}:{line or where.line}: check {spec.id}: {what}")

    if not spec.id or spec.id != spec.id.strip() or any(c.isspace() for c in spec.id):
        raise fail(f"id {spec.id!r} must be one word (kebab-case, like team-label-required)")
    if spec.category not in CATEGORIES or spec.category == "drift":
        shown = ", ".join(c for c in CATEGORIES if c != "drift")
        raise fail(f"unknown category {spec.category!r}; use one of {shown}")
    if not spec.match.kinds:
        raise fail("match.kinds is empty: name the kinds the expression judges")
    if spec.message is not None:
        _check_message(spec.message, fail)
    for text, key, at in (
        (spec.expression, "expression", where.expression),
        (spec.message_expression, "messageExpression", where.message_expression),
    ):
        unkept = unkept_fields(text or "", spec.match.kinds)
        if unkept:
            raise fail(
                f"{key} reads {', '.join(unkept)}, which plumbob does not keep for that kind "
                "(docs/guardrails.md: what a custom check sees)",
                at[0] if at else None,
            )
    expression = _compiled(spec.expression, "expression", where.expression, fail)
    message_expression = None
    if spec.message_expression is not None:
        message_expression = _compiled(
            spec.message_expression, "messageExpression", where.message_expression, fail
        )
    runner = CustomCheck(
        kinds=tuple(spec.match.kinds),
        expression=expression,
        message=spec.message,
        message_expression=message_expression,
        source=source,
    )
    return Check(
        id=CheckId(spec.id),
        title=spec.title,
        category=spec.category,
        severity=spec.severity,
        why=spec.why.strip() or "(the custom check gives no why)",
        fix=spec.fix.strip() or "(the custom check gives no fix)",
        references=tuple(spec.references),
        reads=tuple(dict.fromkeys(spec.match.kinds)),
        fn=runner,
        module=f"custom:{source}",
    )


_PATH = re.compile(r"\bobject((?:\.[A-Za-z_][A-Za-z0-9_]*)+)")


def unkept_fields(expression: str, kinds: Iterable[str]) -> list[str]:
    """The `object.a.b` paths of `expression` that name a field plumbob's typed model drops
    for every one of `kinds` (a Deployment's `spec.strategy`): the expression would read it as
    absent on every object, a verdict on data never read. A path that one of the kinds keeps
    (or may hold: a kind without a typed model keeps everything), and paths through lists,
    maps and untyped parts, cannot be told and are let through."""
    names = set(kinds)
    typed = {kind: cls for (_, kind), cls in TYPED_KINDS.items() if kind in names}
    if not typed or names - set(typed):
        return []
    out = []
    for found in _PATH.finditer(expression):
        path = found[1].lstrip(".").split(".")
        missing = {kind: _missing(cls, path) for kind, cls in sorted(typed.items())}
        if all(m is not None for m in missing.values()):
            out.append(f"object.{next(iter(missing.values()))} ({', '.join(missing)})")
    return sorted(set(out))


def _missing(cls: type, path: list[str]) -> str | None:
    info: Any = msgspec.inspect.type_info(cls)
    for i, name in enumerate(path):
        if isinstance(info, msgspec.inspect.UnionType):
            structs = [t for t in info.types if isinstance(t, msgspec.inspect.StructType)]
            info = structs[0] if structs else None
        if not isinstance(info, msgspec.inspect.StructType):
            return None  # a map, a list or plain data: any key may be there
        field = next((f for f in info.fields if f.encode_name == name), None)
        if field is None or name in _NOT_OBJECT_FIELDS:
            return ".".join(path[: i + 1])
        info = field.type
    return None


def _check_message(message: str, fail: Any) -> None:
    try:
        parsed = list(string.Formatter().parse(message))
    except ValueError as exc:
        raise fail(f"message: {exc}") from None
    for _, name, spec, conversion in parsed:
        if name is None:
            continue
        if name not in MESSAGE_FIELDS or spec or conversion:
            raise fail(
                f"message: unknown placeholder {{{name}}}; use {', '.join(MESSAGE_FIELDS)} "
                "(or messageExpression for more)"
            )


def _compiled(source: str, key: str, start: tuple[int, int, bool] | None, fail: Any) -> Program:
    try:
        return compile_expression(source, ("object",))
    except CelCompileError as exc:
        line, column = _position(start, exc.line, exc.column)
        at = f" (line {line}, column {column})" if column else ""
        raise fail(f"{key}: {exc}{at}", line) from None


def _position(
    start: tuple[int, int, bool] | None, line: int | None, column: int | None
) -> tuple[int | None, int | None]:
    """A position in an expression (1-based) as a position in the file, for an expression whose
    text starts at `start`: exact on its first line and in block scalars; on a later line of a
    folded plain or quoted scalar, the line only (YAML has joined its lines)."""
    if start is None or line is None or column is None:
        return (start[0] if start else None), None
    first_line, first_column, block = start
    if line == 1 or block:
        return first_line + line - 1, first_column + column - 1
    return first_line, None
