"""Parse Kubernetes resource quantities ("500m", "16Gi", "1e3") into floats."""

from __future__ import annotations

import math
from functools import lru_cache

_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_DECIMAL = {
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


class QuantityError(ValueError):
    """A string that is not a Kubernetes quantity."""


@lru_cache(maxsize=4096)
def parse_quantity(value: str | int | float) -> float:
    """Return the numeric value of a quantity; raise QuantityError when it is not one.

    Follows k8s.io/apimachinery/pkg/api/resource: binary suffixes (Ki..Ei), decimal
    suffixes (n..E) and exponents (1e3).
    """
    if isinstance(value, bool):
        raise QuantityError(f"not a quantity: {value!r}")
    if isinstance(value, int | float):
        return _finite(value, value)
    text = value.strip()
    if not text:
        raise QuantityError("empty quantity")
    for suffix, factor in _BINARY.items():
        if text.endswith(suffix):
            return _finite(_number(text[: -len(suffix)], value) * factor, value)
    last = text[-1]
    if last in _DECIMAL:
        return _finite(_number(text[:-1], value) * _DECIMAL[last], value)
    return _finite(_number(text, value), value)


def _number(text: str, original: str) -> float:
    if "_" in text:  # float() reads 1_000; a quantity has no underscores
        raise QuantityError(f"not a quantity: {original!r}")
    try:
        return float(text)
    except ValueError:
        raise QuantityError(f"not a quantity: {original!r}") from None


def _finite(number: float, original: str | int | float) -> float:
    """The number as a float; a quantity too big for one (`1e400`, an integer past 1e308) or
    not a number at all (`nan`, `inf`, which float() reads) is no quantity."""
    try:
        result = float(number)
    except OverflowError:  # (an integer: its digits are not quoted, they may be thousands)
        raise QuantityError("quantity out of range: an integer past 1e308") from None
    if not math.isfinite(result):
        shown = original if not isinstance(original, str) or len(original) <= 40 else "..."
        raise QuantityError(f"not a finite quantity: {shown!r}")
    return result


def quantity_or_zero(value: str | int | float | None) -> float:
    """Quantity value, or 0.0 when absent or malformed (malformed input is reported elsewhere)."""
    if value is None:
        return 0.0
    try:
        return parse_quantity(value)
    except QuantityError:
        return 0.0
