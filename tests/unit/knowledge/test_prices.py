"""GPU prices: shipped table, product-label variants, user files on top."""

from __future__ import annotations

from pathlib import Path

import pytest

from plumbob.knowledge.prices import HOURS_PER_MONTH, PricesError, load_prices


def test_shipped_table_prices_current_labels() -> None:
    prices = load_prices()
    assert prices.currency == "USD"
    assert prices.per_gpu_hour("NVIDIA-H100-80GB-HBM3") == pytest.approx(10.97906)
    assert prices.per_gpu_hour("Tesla-T4") == pytest.approx(0.526)
    row = prices.lookup("NVIDIA-L4")
    assert row is not None
    assert row.source == "derived from `instances` above"


@pytest.mark.parametrize(
    ("label", "same_as"),
    [
        ("A100-SXM4-40GB", "NVIDIA-A100-SXM4-40GB"),  # legacy GFD, no NVIDIA- prefix
        ("NVIDIA-A100-SXM4-40GB-SHARED", "NVIDIA-A100-SXM4-40GB"),  # time-slicing suffix
        ("NVIDIA-H100-80GB-HBM3-MIG-1g.10gb", "NVIDIA-H100-80GB-HBM3"),  # single MIG strategy
        ("Tesla-T4-SHARED", "Tesla-T4"),
        ("nvidia-l4", "NVIDIA-L4"),  # GKE accelerator label
        ("nvidia-h100-mega-80gb", "NVIDIA-H100-80GB-HBM3"),
    ],
)
def test_label_variants(label: str, same_as: str) -> None:
    prices = load_prices()
    assert prices.per_gpu_hour(label) is not None
    assert prices.per_gpu_hour(label) == prices.per_gpu_hour(same_as)


def test_unknown_and_missing_products() -> None:
    prices = load_prices()
    assert prices.per_gpu_hour("NVIDIA-A16-4Q") is None
    assert prices.per_gpu_hour(None) is None
    assert prices.per_gpu_hour("") is None


def test_monthly_is_730_hours() -> None:
    assert HOURS_PER_MONTH == 730


def test_user_file_overrides_named_products(tmp_path: Path) -> None:
    path = tmp_path / "prices.yaml"
    path.write_text(
        "prices:\n"
        "  - {gpu_product: NVIDIA-H100-80GB-HBM3, usd_per_gpu_hour: 2.5,"
        " source: contract}\n"
        "  - {gpu_product: NVIDIA-A16, usd_per_gpu_hour: 0.4}\n"
    )
    prices = load_prices(path)
    assert prices.per_gpu_hour("NVIDIA-H100-80GB-HBM3-SHARED") == 2.5
    assert prices.lookup("NVIDIA-H100-80GB-HBM3").source == "contract"
    assert prices.per_gpu_hour("NVIDIA-A16") == 0.4
    assert prices.per_gpu_hour("Tesla-T4") == pytest.approx(0.526)  # shipped rows remain
    assert str(path) in prices.origin


def test_user_file_same_shape_as_shipped_table(tmp_path: Path) -> None:
    path = tmp_path / "prices.yaml"
    path.write_text(
        "defaults_by_product:\n"
        "  - {gpu_product: Tesla-T4, usd_per_gpu_hour: 0.1, source: on-prem TCO}\n"
    )
    assert load_prices(path).per_gpu_hour("Tesla-T4") == 0.1
    listing = tmp_path / "list.yaml"
    listing.write_text("- {gpu_product: Tesla-T4, usd_per_gpu_hour: 0.2}\n")
    assert load_prices(listing).per_gpu_hour("Tesla-T4") == 0.2


def test_other_currency_stands_alone(tmp_path: Path) -> None:
    path = tmp_path / "eur.yaml"
    path.write_text("currency: EUR\nprices:\n  - {gpu_product: NVIDIA-L4, usd_per_gpu_hour: 0.6}\n")
    prices = load_prices(path)
    assert prices.currency == "EUR"
    assert prices.per_gpu_hour("NVIDIA-L4") == 0.6
    assert prices.per_gpu_hour("Tesla-T4") is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("prices: [{gpu_product: X, usd_per_gpu_hour: cheap}]\n", "row 1 (X): usd_per_gpu_hour"),
        ("prices: [{usd_per_gpu_hour: 1}]\n", "row 1: gpu_product missing"),
        ("prices: [{gpu_product: X, usd_per_gpu_hour: -1}]\n", "must be a number >= 0"),
        ("prices: 3\n", "expected a list of price rows"),
        ("other: []\n", "under 'prices:'"),
        ("prices: [oops]\n", "row 1: expected a mapping"),
        ("prices: [\n", "not valid YAML"),
    ],
)
def test_bad_files_are_named_errors(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(PricesError, match=r"bad\.yaml") as err:
        load_prices(path)
    assert message in str(err.value)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(PricesError, match="cannot read"):
        load_prices(tmp_path / "absent.yaml")
