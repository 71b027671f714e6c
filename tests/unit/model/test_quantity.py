"""Kubernetes resource quantities, and what is not one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from plumbob import engine
from plumbob.checks.registry import Registry
from plumbob.model.quantity import QuantityError, is_quantity, parse_quantity, quantity_or_zero
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
        # the rest of k8s.io/apimachinery pkg/api/resource/quantity.go's grammar
        ("100n", 100e-9),
        ("3u", 3e-6),
        ("1Ei", 2.0**60),
        ("2E", 2e18),  # a suffix (exa), not an exponent
        ("2E3", 2000.0),  # an exponent
        ("1e+3", 1000.0),
        ("5e-1", 0.5),
        ("-2", -2.0),
        ("+.5", 0.5),
        ("1.", 1.0),
        ("1.G", 1e9),  # quantity.go: "we currently allow 1.G"
        (" 16Gi ", 16 * 2**30),  # Quantity.UnmarshalJSON trims white space first
        # parseQuantityString takes a number without digits as zero, and suffix.go reads the
        # suffix alone: the API server accepts these, as zero
        ("m", 0.0),
        ("Ki", 0.0),
        (".", 0.0),
        ("-", 0.0),
    ],
)
def test_quantities(text: str | int | float, value: float) -> None:
    assert parse_quantity(text) == pytest.approx(value)


@pytest.mark.parametrize(
    "text",
    [
        *("", "abc", "1_000", "1e400", "1e308Ki", "nan", "NaN", "inf", "-Infinity"),
        # units people write that Kubernetes does not know, and broken numbers
        *("one", "16GBs", "16GB", "2 cores", "1K", "1ki", "1mi", "1e", "1e+", "1.2.3", "0x10"),
        *("1e3.5", "1Ki3", "1 Gi", "--1", "1e99999999999999999999", "{{ .Values.gpus }}"),
        *(True, 10**400),
    ],
    ids=lambda value: f"int of {len(str(value))} digits" if isinstance(value, int) else None,
)
def test_what_is_not_a_quantity(text: str | int | bool) -> None:
    """float() reads `nan`, `inf`, `1_000` and `1e400` (as infinity): none is a quantity.
    Kubernetes knows `K` only in `Ki` and `m` only as milli (`1mi` is refused: suffix.go), and
    reads an exponent with strconv.ParseInt (one past int64 is refused)."""
    with pytest.raises(QuantityError):
        parse_quantity(text)
    assert quantity_or_zero(text) == 0.0
    assert not is_quantity(text)


def test_the_demo_cluster_sums_requests_with_the_one_parser() -> None:
    """The demo generator's quota usage reads requests through parse_quantity, not a parser of
    its own."""
    from plumbob.sources.demo import cluster

    spec = {"containers": [{"resources": {"requests": {"cpu": "1500m", "memory": "1.5Gi"}}}]}
    assert cluster._request(spec, "cpu") == 1500
    assert cluster._request(spec, "memory") == round(1.5 * 2**30)


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
