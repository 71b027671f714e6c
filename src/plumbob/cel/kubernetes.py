"""The Kubernetes CEL library functions plumbob's policies and custom checks use: quantity,
regex, lists (https://kubernetes.io/docs/reference/using-api/cel/#kubernetes-cel-libraries).

The strings library (`lowerAscii`, `split`, `replace`, ...) is cel-cpp's strings extension, as
the API server's is cel-go's. The functions here follow the API server's Go implementations
(k8s.io/apiserver/pkg/cel/library: quantity.go, regex.go, lists.go); an argument they refuse
raises, which CEL turns into an evaluation error, as the API server does. The lists library's
`indexOf` and `lastIndexOf` are left out: cel-cpp declares those names for strings and refuses a
second declaration, and no exported policy uses them. `sign()` on a quantity is left out as the
API server v1.37 leaves it out of a ValidatingAdmissionPolicy's environment (it refuses a policy
that calls it: "found no matching overload for 'sign'").

A quantity is carried as a one-key map (`{"__quantity__": "1.5"}`): cel-expr-python cannot
return values of an opaque type from Python, so the type checker sees `map(string, string)`.
Expressions that compare quantities with `==` instead of `compareTo` compare those maps; the
API server refuses `==` on quantities when a policy is created, and so does `policy test`
where it matters: the exported policies never use it.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from cel_expr_python import cel
from kubernetes.utils.quantity import parse_quantity

QUANTITY_KEY = "__quantity__"
QUANTITY = cel.Type.Map(cel.Type.STRING, cel.Type.STRING)
"""What the type checker calls a quantity (see the module docstring)."""

_INT64 = (-(2**63), 2**63 - 1)
_QUANTITY_RE = re.compile(r"^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$")
"""k8s.io/apimachinery/pkg/api/resource: the form a quantity string must have."""


class CelFunctionError(ValueError):
    """An argument a Kubernetes library function refuses (an evaluation error in CEL)."""


# ---------------------------------------------------------------- quantity


def parse(text: str) -> Decimal:
    """A quantity string's value; raises CelFunctionError for what is no quantity."""
    if not isinstance(text, str) or not _QUANTITY_RE.match(text.strip() or "x"):
        raise CelFunctionError(f"{text!r} is not a quantity")
    try:
        return Decimal(parse_quantity(text))  # type: ignore[no-untyped-call]
    except (ValueError, InvalidOperation):
        raise CelFunctionError(f"{text!r} is not a quantity") from None


def _q(value: Decimal) -> dict[str, str]:
    return {QUANTITY_KEY: str(value)}


def _v(q: Any) -> Decimal:
    if not isinstance(q, dict) or QUANTITY_KEY not in q:
        raise CelFunctionError("not a quantity: use quantity('...') first")
    return Decimal(q[QUANTITY_KEY])


def quantity(text: str) -> dict[str, str]:
    return _q(parse(text))


def is_quantity(text: str) -> bool:
    try:
        parse(text)
    except CelFunctionError:
        return False
    return True


def _as_integer(q: Any) -> int:
    value = _v(q)
    if value != value.to_integral_value() or not _INT64[0] <= value <= _INT64[1]:
        raise CelFunctionError("cannot convert value to integer")
    return int(value)


def _is_integer(q: Any) -> bool:
    value = _v(q)
    return value == value.to_integral_value() and _INT64[0] <= value <= _INT64[1]


def _compare(a: Any, b: Any) -> int:
    x, y = _v(a), _v(b)
    return (x > y) - (x < y)


# ---------------------------------------------------------------- regex


def _find(text: str, pattern: str) -> str:
    found = re.search(pattern, text)
    return found.group(0) if found else ""


def _find_all(text: str, pattern: str, limit: int = -1) -> list[str]:
    matches = [m.group(0) for m in re.finditer(pattern, text)]
    return matches if limit < 0 else matches[:limit]


# ---------------------------------------------------------------- lists


def _is_sorted(items: Sequence[Any]) -> bool:
    return all(a <= b for a, b in itertools.pairwise(items))


def _sum(items: Sequence[Any]) -> Any:
    return sum(items) if items else 0


def _min(items: Sequence[Any]) -> Any:
    if not items:
        raise CelFunctionError("min called on empty list")
    return min(items)


def _max(items: Sequence[Any]) -> Any:
    if not items:
        raise CelFunctionError("max called on empty list")
    return max(items)


def _overload(
    name: str,
    result: cel.Type,
    params: list[cel.Type],
    impl: Callable[..., Any],
    member: bool = True,
) -> cel.Overload:
    return cel.Overload(name, result, params, is_member=member, impl=impl)


def declarations() -> list[cel.FunctionDecl]:
    """The Kubernetes library functions, declared with their implementations."""
    T, S, N, B, D = (
        cel.Type.DYN,
        cel.Type.STRING,
        cel.Type.INT,
        cel.Type.BOOL,
        cel.Type.DOUBLE,
    )
    Q = QUANTITY
    L = cel.Type.List(T)
    LS = cel.Type.List(S)

    def q_int(a: Any, n: int) -> dict[str, str]:
        return _q(_v(a) + n)

    def q_add(a: Any, b: Any) -> dict[str, str]:
        return _q(_v(a) + _v(b))

    def q_sub_int(a: Any, n: int) -> dict[str, str]:
        return _q(_v(a) - n)

    def q_sub(a: Any, b: Any) -> dict[str, str]:
        return _q(_v(a) - _v(b))

    fn = cel.FunctionDecl
    return [
        fn("quantity", [_overload("string_to_quantity", Q, [S], quantity, member=False)]),
        fn("isQuantity", [_overload("is_quantity_string", B, [S], is_quantity, member=False)]),
        fn("isInteger", [_overload("quantity_is_integer", B, [Q], _is_integer)]),
        fn("asInteger", [_overload("quantity_get_integer", N, [Q], _as_integer)]),
        fn(
            "asApproximateFloat",
            [_overload("quantity_get_float", D, [Q], lambda q: float(_v(q)))],
        ),
        fn(
            "add",
            [
                _overload("quantity_add", Q, [Q, Q], q_add),
                _overload("quantity_add_int", Q, [Q, N], q_int),
            ],
        ),
        fn(
            "sub",
            [
                _overload("quantity_sub", Q, [Q, Q], q_sub),
                _overload("quantity_sub_int", Q, [Q, N], q_sub_int),
            ],
        ),
        fn(
            "isLessThan",
            [_overload("quantity_less", B, [Q, Q], lambda a, b: _compare(a, b) < 0)],
        ),
        fn(
            "isGreaterThan",
            [_overload("quantity_greater", B, [Q, Q], lambda a, b: _compare(a, b) > 0)],
        ),
        fn("compareTo", [_overload("quantity_compare", N, [Q, Q], _compare)]),
        fn("find", [_overload("string_find_string", S, [S, S], _find)]),
        fn(
            "findAll",
            [
                _overload("string_find_all_string", LS, [S, S], _find_all),
                _overload("string_find_all_string_int", LS, [S, S, N], _find_all),
            ],
        ),
        fn("isSorted", [_overload("list_is_sorted", B, [L], _is_sorted)]),
        fn("sum", [_overload("list_sum", T, [L], _sum)]),
        fn("min", [_overload("list_min", T, [L], _min)]),
        fn("max", [_overload("list_max", T, [L], _max)]),
    ]
