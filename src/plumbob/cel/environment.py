"""Compiling and evaluating CEL expressions as the Kubernetes API server does for a
ValidatingAdmissionPolicy: the standard library, the strings and optional extensions and the
Kubernetes library (cel/kubernetes.py), with the variables a policy sees.

The CEL implementation is cel-expr-python, Google's Python binding of cel-cpp (see
docs/guardrails.md for why it and not cel-python or common-expression-language): it type-checks
an expression when it is compiled, so an unknown function or variable is an error with its line
and column before anything is evaluated, as `kubectl apply` of a policy reports it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from cel_expr_python import cel
from cel_expr_python.ext import ext_optional, ext_strings

from plumbob.cel.kubernetes import declarations

POLICY_VARIABLES = ("object", "oldObject", "request", "params", "namespaceObject", "variables")
"""What a ValidatingAdmissionPolicy's expressions may name (all typed dyn here: the API server
types them from the OpenAPI schema, which plumbob does not have)."""

_WHERE = re.compile(r"ERROR: <input>:(\d+):(\d+): (.*)")


class CelCompileError(ValueError):
    """An expression that does not parse or type-check: the message is CEL's, with the line and
    column in the expression (1-based) where it went wrong."""

    def __init__(self, message: str, line: int | None, column: int | None) -> None:
        super().__init__(message)
        self.line = line
        self.column = column


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one evaluation gave: a value, or the evaluation error (a missing key, a bad
    argument) as CEL reports it."""

    value: Any = None
    error: str | None = None


@cache
def _environment(variables: tuple[str, ...]) -> Any:
    return cel.NewEnv(
        variables=dict.fromkeys(variables, cel.Type.DYN),
        extensions=[ext_strings.ExtStrings(), ext_optional.ExtOptional()],
        functions=declarations(),
    )


class Program:
    """A compiled expression, evaluated many times."""

    def __init__(self, source: str, variables: Sequence[str] = POLICY_VARIABLES) -> None:
        self.source = source
        try:
            self._expr = _environment(tuple(variables)).compile(source)
        except RuntimeError as exc:
            raise _compile_error(str(exc)) from None

    def evaluate(self, data: Mapping[str, Any]) -> Outcome:
        value = self._expr.eval(data=dict(data))
        if value.type() == cel.Type.ERROR:
            return Outcome(error=_plain_error(str(value.value())))
        return Outcome(value=value.plain_value())


def _compile_error(text: str) -> CelCompileError:
    """CEL's message, first error only, without the status code it ends with."""
    text = re.sub(r"\s*\[[A-Z_]+\]\s*$", "", text.strip())
    text = re.sub(r"^[A-Z_]+: ", "", text)
    found = _WHERE.search(text)
    if found is None:
        return CelCompileError(text, None, None)
    line, column, message = int(found[1]), int(found[2]), found[3].strip()
    return CelCompileError(message, line, column)


def _plain_error(text: str) -> str:
    return re.sub(r"^[A-Z_]+: ", "", text.strip())


def compile_expression(source: str, variables: Sequence[str] = POLICY_VARIABLES) -> Program:
    """Compile `source`; raises CelCompileError naming the line and column."""
    return Program(source, variables)
