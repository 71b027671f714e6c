"""Parse Kubernetes resource quantities ("500m", "16Gi", "1e3") into floats: the one parser every
part of plumbob reads requests, limits, capacities and quotas with."""

from __future__ import annotations

import math
import re
from functools import lru_cache

_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_DECIMAL = {
    "": 1.0,
    "n": 1e-9,
    "u": 1e-6,
    "m": 1e-3,
    "k": 1e3,
    "M": 1e6,
    "G": 1e9,
    "T": 1e12,
    "P": 1e15,
    "E": 1e18,
}

_QUANTITY = re.compile(
    r"""(?P<number>[+-]?[0-9]*(?:\.[0-9]*)?)
    (?: (?P<binary>[KMGTPE]i)
      | (?P<decimal>[numkMGTPE]?)
      | [eE](?P<exponent>[+-]?[0-9]+)
    )""",
    re.VERBOSE,
)
"""What k8s.io/apimachinery/pkg/api/resource accepts (quantity.go `ParseQuantity`,
`parseQuantityString`; suffix.go `newSuffixer`, `interpret`): a signed decimal number, then a
binary suffix (Ki..Ei), a decimal one (n, u, m, k, M, G, T, P, E, or none) or an exponent
(`e3`, `E-2`). As the implementation does (and its grammar comment does not say), the number's
digits may be left out: `.`, `-`, `m` and `Ki` are quantities of zero, and `1.` and `1.G` are
quantities too. `1e` (an `e` without digits), `1mi`, `1.2.3`, `16GB`, `2 cores` are not."""

_MAX_EXPONENT = 2**63 - 1
"""The exponent is read with strconv.ParseInt(..., 10, 64): a longer one is refused."""


class QuantityError(ValueError):
    """A value that is not a Kubernetes quantity."""


@lru_cache(maxsize=4096)
def parse_quantity(value: str | int | float) -> float:
    """Return the numeric value of a quantity; raise QuantityError when it is not one.

    A string is read as the API server reads a quantity in a manifest: Quantity.UnmarshalJSON
    trims white space around it, then ParseQuantity takes it exactly or not at all. Numbers
    (YAML `nvidia.com/gpu: 1`) are quantities; booleans are not.
    """
    if isinstance(value, bool):
        raise QuantityError(f"not a Kubernetes quantity: {value!r}")
    if isinstance(value, int | float):
        return _finite(value, value)
    text = value.strip()
    if not text:
        raise QuantityError("not a Kubernetes quantity: an empty string")
    match = _QUANTITY.fullmatch(text)
    if match is None:
        raise QuantityError(f"not a Kubernetes quantity: {_shown(value)}")
    digits = match["number"].lstrip("+-")
    number = float(match["number"]) if digits not in ("", ".") else 0.0
    if match["binary"] is not None:
        return _finite(number * _BINARY[match["binary"]], value)
    if match["exponent"] is not None:
        exponent = int(match["exponent"])
        if abs(exponent) > _MAX_EXPONENT:
            raise QuantityError(f"not a Kubernetes quantity: {_shown(value)}")
        try:
            return _finite(number * 10.0**exponent, value) if number else 0.0
        except OverflowError:
            raise QuantityError(f"quantity out of range: {_shown(value)}") from None
    return _finite(number * _DECIMAL[match["decimal"]], value)


def _shown(value: str) -> str:
    return repr(value) if len(value) <= 40 else f"{value[:40]!r}..."


def _finite(number: float, original: str | int | float) -> float:
    """The number as a float; a quantity too big for one (`1e400`, an integer past 1e308) or
    not a number at all (`nan`, `inf` given as YAML floats) is no quantity plumbob can count."""
    try:
        result = float(number)
    except OverflowError:  # (an integer: its digits are not quoted, they may be thousands)
        raise QuantityError("quantity out of range: an integer past 1e308") from None
    if not math.isfinite(result):
        shown = _shown(original) if isinstance(original, str) else repr(original)
        raise QuantityError(f"quantity out of range: {shown}")
    return result


def quantity_or_zero(value: str | int | float | None) -> float:
    """Quantity value, or 0.0 when absent or malformed (malformed input is reported elsewhere)."""
    if value is None:
        return 0.0
    try:
        return parse_quantity(value)
    except QuantityError:
        return 0.0


def count_or_zero(value: str | int | float | None) -> float:
    """A number of devices (GPUs, MIG slices): the quantity, or 0.0 when absent, malformed or
    negative. The API server refuses a negative amount in a node's capacity or a container's
    resources (k8s.io/kubernetes pkg/apis/core/validation `ValidateNonnegativeQuantity`), so a
    negative count is not -8 GPUs but no count at all (the reader warns about it)."""
    amount = quantity_or_zero(value)
    return amount if amount > 0 else 0.0


def is_negative(value: object) -> bool:
    """A quantity below zero (`-8`, `-1Gi`): valid grammar, refused for any resource amount."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return False
    return quantity_or_zero(value) < 0


def is_quantity(value: object) -> bool:
    """Whether a value read from a manifest is a Kubernetes quantity."""
    if not isinstance(value, str | int | float):
        return False
    try:
        parse_quantity(value)
    except QuantityError:
        return False
    return True
