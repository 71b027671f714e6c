"""GPU prices per hour, keyed by the `nvidia.com/gpu.product` label, from knowledge/gpu_prices.yaml
or a user file with the same row shape (`--prices FILE`).

A row is `{gpu_product: NVIDIA-H100-80GB-HBM3, usd_per_gpu_hour: 10.98, source: ...}`. The shipped
table's `defaults_by_product` rows are the lookup; a user file lists rows under
`defaults_by_product:` or `prices:`, or as a top-level list, and its rows take precedence over the
shipped ones for the products it names.

Lookups accept the label as nodes carry it: the current name (`NVIDIA-A100-SXM4-40GB`), the old
name without the `NVIDIA-` prefix (`A100-SXM4-40GB`), the `-SHARED` suffix of time-sliced GPUs and
the `-MIG-<profile>` suffix of the single MIG strategy (NVIDIA/k8s-device-plugin
internal/lm/resource.go), and GKE's `cloud.google.com/gke-accelerator` values (`nvidia-l4`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from plumbob.knowledge.loader import load_table, yaml_error

HOURS_PER_MONTH = 730.0
"""Average hours in a month (8760 / 12), the basis cloud pricing pages use."""

_SUFFIX = re.compile(r"-(?:SHARED|MIG-.*)$", re.IGNORECASE)

_GKE_ACCELERATORS = {
    "nvidia-tesla-t4": "Tesla-T4",
    "nvidia-tesla-v100": "Tesla-V100-SXM2-16GB",
    "nvidia-tesla-a100": "NVIDIA-A100-SXM4-40GB",
    "nvidia-a100-80gb": "NVIDIA-A100-SXM4-80GB",
    "nvidia-l4": "NVIDIA-L4",
    "nvidia-h100-80gb": "NVIDIA-H100-80GB-HBM3",
    "nvidia-h100-mega-80gb": "NVIDIA-H100-80GB-HBM3",
    "nvidia-h200-141gb": "NVIDIA-H200",
    "nvidia-b200": "NVIDIA-B200",
}
"""GKE accelerator names (cloud.google.com/gke-accelerator, from the GKE GPU docs
https://cloud.google.com/kubernetes-engine/docs/how-to/gpus) -> the GFD product label."""


class PricesError(ValueError):
    """A price file that cannot be used; the message names the file and the row."""


def product_key(product: str) -> str:
    """Normalise a product label for lookup: no -SHARED/-MIG suffix, no NVIDIA- prefix, case
    folded."""
    text = _SUFFIX.sub("", product.strip())
    text = _GKE_ACCELERATORS.get(text.lower(), text)
    text = text.removeprefix("NVIDIA-").removeprefix("nvidia-")
    return text.lower()


@dataclass(frozen=True, slots=True)
class Price:
    product: str
    usd_per_gpu_hour: float
    source: str


@dataclass(frozen=True, slots=True)
class Prices:
    """Price per GPU-hour by product label."""

    rows: Mapping[str, Price] = field(default_factory=lambda: MappingProxyType({}))
    currency: str = "USD"
    origin: str = "knowledge/gpu_prices.yaml"

    def lookup(self, product: str | None) -> Price | None:
        if not product:
            return None
        return self.rows.get(product_key(product))

    def per_gpu_hour(self, product: str | None) -> float | None:
        """Price of one GPU for one hour, or None when the product is unknown."""
        price = self.lookup(product)
        return price.usd_per_gpu_hour if price else None


def _rows(data: Any, where: str) -> Iterable[Price]:
    if isinstance(data, dict):
        items = data.get("prices", data.get("defaults_by_product"))
        if items is None:
            raise PricesError(
                f"{where}: expected a list of rows under 'prices:' or 'defaults_by_product:'"
            )
    else:
        items = data
    if not isinstance(items, list):
        raise PricesError(f"{where}: expected a list of price rows, got {type(items).__name__}")
    for i, row in enumerate(items):
        if not isinstance(row, dict):
            raise PricesError(
                f"{where}: row {i + 1}: expected a mapping with gpu_product and usd_per_gpu_hour"
            )
        product = row.get("gpu_product")
        price = row.get("usd_per_gpu_hour")
        if not isinstance(product, str) or not product:
            raise PricesError(f"{where}: row {i + 1}: gpu_product missing or not a string")
        if isinstance(price, bool) or not isinstance(price, int | float) or price < 0:
            raise PricesError(
                f"{where}: row {i + 1} ({product}): usd_per_gpu_hour must be a "
                f"number >= 0, got {price!r}"
            )
        yield Price(
            product=product, usd_per_gpu_hour=float(price), source=str(row.get("source") or where)
        )


def _index(prices: Iterable[Price], into: dict[str, Price]) -> None:
    for price in prices:
        into[product_key(price.product)] = price


def load_prices(path: Path | None = None) -> Prices:
    """The shipped price table, with the rows of a user file (same row shape) on top.
    Raises PricesError for a file that cannot be read or has a malformed row."""
    table: dict[str, Price] = {}
    _index(_rows(load_table("gpu_prices"), "knowledge/gpu_prices.yaml"), table)
    currency = str(load_table("gpu_prices").get("currency", "USD"))
    origin = "knowledge/gpu_prices.yaml"
    if path is not None:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise PricesError(f"{path}: cannot read: {exc}") from None
        import yaml  # only a user's price file needs the parser

        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise PricesError(yaml_error(path, exc)) from None
        user_currency = data.get("currency") if isinstance(data, dict) else None
        origin = f"{path} (over knowledge/gpu_prices.yaml)"
        if user_currency and user_currency != currency:
            # Mixing currencies would add dollars to euros: a file in another currency stands
            # alone.
            table.clear()
            currency = str(user_currency)
            origin = str(path)
        _index(_rows(data, str(path)), table)
    return Prices(rows=MappingProxyType(table), currency=currency, origin=origin)


__all__ = ["HOURS_PER_MONTH", "Price", "Prices", "PricesError", "load_prices"]
