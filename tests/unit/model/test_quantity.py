"""Kubernetes resource quantities, and what is not one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from plumbob import engine
from plumbob.checks.registry import Registry
from plumbob.model.quantity import QuantityError, parse_quantity, quantity_or_zero
from plumbob.sources.files import FileSource
from tests.conftest import make_node


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("8", 8.0),
        ("500m", 0.5),
        ("1.5Gi", 1.5 * 2**30),
        ("2k", 2000.0),
        ("1e3", 1000.0),
        (4, 4.0),
        (0.25, 0.25),
    ],
)
def test_quantities(text: str | int | float, value: float) -> None:
    assert parse_quantity(text) == value


@pytest.mark.parametrize(
    "text",
    ["", "abc", "1_000", "1e400", "1e308Ki", "nan", "NaN", "inf", "-Infinity", True, 10**400],
    ids=lambda value: f"int of {len(str(value))} digits" if isinstance(value, int) else None,
)
def test_what_is_not_a_quantity(text: str | int | bool) -> None:
    """float() reads `nan`, `inf`, `1_000` and `1e400` (as infinity): none is a quantity."""
    with pytest.raises(QuantityError):
        parse_quantity(text)
    assert quantity_or_zero(text) == 0.0


def test_a_node_offering_an_infinite_count_of_gpus_does_not_stop_the_scan(tmp_path: Path) -> None:
    node = make_node("gpu-1", gpus=8, product="NVIDIA-H100-80GB-HBM3")
    node["status"]["allocatable"] = {**node["status"]["allocatable"], "nvidia.com/gpu": "1e400"}
    path = tmp_path / "nodes.json"
    path.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": [node]}))
    loaded = FileSource((path,)).load()
    report = engine.run(loaded.snapshots, Registry.discover())  # raised OverflowError
    [cluster] = report.clusters
    assert cluster.nodes == 1
    assert not [d for d in report.diagnostics if "failed:" in d.message]
