"""Parse Kubernetes resource quantities ("500m", "16Gi", "1e3") into floats."""

from __future__ import annotations

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
        return float(value)
    text = value.strip()
    if not text:
        raise QuantityError("empty quantity")
    for suffix, factor in _BINARY.items():
        if text.endswith(suffix):
            return _number(text[: -len(suffix)], value) * factor
    last = text[-1]
    if last in _DECIMAL:
        return _number(text[:-1], value) * _DECIMAL[last]
    return _number(text, value)


def _number(text: str, original: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise QuantityError(f"not a quantity: {original!r}") from None


def quantity_or_zero(value: str | int | float | None) -> float:
    """Quantity value, or 0.0 when absent or malformed (malformed input is reported elsewhere)."""
    if value is None:
        return 0.0
    try:
        return parse_quantity(value)
    except QuantityError:
        return 0.0
