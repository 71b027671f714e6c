"""Cost checks: pricing options, MIG and time-sliced nodes, the default request size."""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest
from tests.conftest import make_container, make_node, make_pod, snapshot_of

from plumbob.checks.registry import Registry

REGISTRY = Registry.discover()


def hits(check_id: str, snap, **options):  # type: ignore[no-untyped-def]
    check = REGISTRY.get(check_id)
    assert check is not None
    return list(check.run(snap, check.context(options)))


def test_idle_cost_uses_price_file(tmp_path: Path) -> None:
    snap = snapshot_of(
        make_node("g1", gpus=4, product="NVIDIA-L4"),
        make_pod("p", node="g1", containers=[make_container(gpus=1)]),
    )
    [shipped] = hits("gpu-idle", snap)
    assert shipped.evidence["idle_gpus"] == 3
    assert shipped.evidence["monthly_cost_usd"] == pytest.approx(3 * 0.75582 * 730, abs=0.01)
    prices = tmp_path / "prices.yaml"
    prices.write_text("prices: [{gpu_product: NVIDIA-L4, usd_per_gpu_hour: 1.0}]\n")
    [custom] = hits("gpu-idle", snap, prices=str(prices))
    assert custom.evidence["monthly_cost_usd"] == 3 * 730
    assert "$2,190/month" in custom.message


def test_min_idle_gpus_and_unknown_product() -> None:
    snap = snapshot_of(
        make_node("g1", gpus=8, product="NVIDIA-H100-80GB-HBM3"),
        make_pod("p", node="g1", containers=[make_container(gpus=7)]),
        make_node("g2", gpus=2),
    )
    found = {h.subject.name: h for h in hits("gpu-idle", snap)}
    assert set(found) == {"g1", "g2"}
    assert found["g2"].evidence["monthly_cost_usd"] is None
    assert "product unknown" in found["g2"].message
    assert {h.subject.name for h in hits("gpu-idle", snap, **{"min-idle-gpus": 2})} == {"g2"}


def test_time_sliced_node_counts_physical_gpus() -> None:
    node = make_node(
        "ts",
        gpus=8,
        product="Tesla-T4-SHARED",
        labels={"nvidia.com/gpu.count": "2", "nvidia.com/gpu.replicas": "4"},
    )
    snap = snapshot_of(node, make_pod("p", node="ts", containers=[make_container(gpus=4)]))
    [hit] = hits("gpu-idle", snap)
    assert hit.evidence["idle_gpus"] == 1  # half of 8 replicas free -> one of two T4s
    assert hit.evidence["usd_per_gpu_hour"] == pytest.approx(0.526)


def test_whole_pool_idle_is_called_out() -> None:
    labels = {"eks.amazonaws.com/nodegroup": "train"}
    snap = snapshot_of(
        make_node("a", gpus=8, labels=labels, product="NVIDIA-H100-80GB-HBM3"),
        make_node("b", gpus=8, labels=labels, product="NVIDIA-H100-80GB-HBM3"),
        make_pod("cpu", node="a"),
    )
    found = hits("gpu-idle", snap)
    assert len(found) == 2
    assert all(h.evidence["pool_idle"] for h in found)
    assert "whole pool train requests no GPU (2 nodes, 16 GPUs idle" in found[0].message


def test_fragmentation_uses_largest_request_seen() -> None:
    nodes = [make_node(f"n{i}", gpus=8) for i in range(4)]
    pods = [make_pod(f"p{i}", node=f"n{i}", containers=[make_container(gpus=6)]) for i in range(4)]
    [hit] = hits("gpu-fragmentation", snapshot_of(*nodes, *pods))
    # 8 GPUs free in total, 2 per node: the largest request seen (6) fits nowhere.
    assert hit.evidence["request"] == 6 and hit.evidence["free_gpus"] == 8
    assert hit.evidence["largest_free_on_one_node"] == 2


def test_fragmentation_request_capped_by_node_size() -> None:
    # 4-GPU nodes can never take an 8-GPU pod; fragmentation is judged against 4.
    nodes = [make_node(f"n{i}", gpus=4) for i in range(3)]
    pods = [make_pod(f"p{i}", node=f"n{i}", containers=[make_container(gpus=2)]) for i in range(3)]
    big = make_pod("big", containers=[make_container(gpus=8)])
    [hit] = hits("gpu-fragmentation", snapshot_of(*nodes, *pods, big))
    assert hit.evidence["request"] == 4 and hit.evidence["largest_request_seen"] == 8


def test_fragmentation_not_reported_when_capacity_is_short() -> None:
    nodes = [make_node(f"n{i}", gpus=8) for i in range(2)]
    pods = [make_pod(f"p{i}", node=f"n{i}", containers=[make_container(gpus=7)]) for i in range(2)]
    assert not hits("gpu-fragmentation", snapshot_of(*nodes, *pods))


def test_cost_section_totals(tmp_path: Path) -> None:
    from plumbob.checks.cost.summary import cost_section
    from plumbob.checks.options import PRICES
    from plumbob.findings import FindingPolicy

    labels = {"eks.amazonaws.com/nodegroup": "infer"}
    snap = snapshot_of(
        make_node("a", gpus=4, labels=labels, product="NVIDIA-L4"),
        make_node("b", gpus=4, labels=labels, product="NVIDIA-L4"),
        make_node("c", gpus=2),
        make_pod("p", node="a", containers=[make_container(gpus=3)]),
    )
    result = cost_section([snap], FindingPolicy())
    assert result.findings == [] and result.assessed == []
    assert result.sections.gpu_cost is not None
    section = msgspec.to_builtins(result.sections.gpu_cost)
    [cluster] = section["clusters"]
    assert (cluster["gpus"], cluster["requested"], cluster["idle"]) == (10, 3, 7)
    infer = next(p for p in cluster["pools"] if p["pool"] == "infer")
    assert infer["idle"] == 5 and infer["nodes"] == 2
    assert infer["idle_monthly_cost"] == pytest.approx(5 * 0.75582 * 730, abs=0.01)
    assert cluster["unpriced_idle_gpus"] == 2
    assert section["idle_monthly_cost"] == cluster["idle_monthly_cost"]
    prices = tmp_path / "p.yaml"
    prices.write_text("prices: [{gpu_product: NVIDIA-L4, usd_per_gpu_hour: 1}]\n")
    mine = cost_section([snap], FindingPolicy(), prices=PRICES.type.convert(str(prices)))
    assert mine.sections.gpu_cost is not None
    assert mine.sections.gpu_cost.idle_monthly_cost == 5 * 730
    nodes_only = snapshot_of(make_node("x", gpus=1), captured=("Node",))  # pods not seen
    assert cost_section([nodes_only], FindingPolicy()).sections.gpu_cost is None


def test_scan_prices_flag(tmp_path: Path) -> None:
    import json

    from typer.testing import CliRunner

    from plumbob.cli import app

    fixture = Path(__file__).parent / "gpu-idle" / "trigger-idle-pool.yaml"
    prices = tmp_path / "prices.yaml"
    prices.write_text("prices: [{gpu_product: NVIDIA-H100-80GB-HBM3, usd_per_gpu_hour: 2}]\n")
    runner = CliRunner()
    result = runner.invoke(app, ["scan", str(fixture), "--prices", str(prices), "-q", "-f", "json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    idle = [f for f in report["findings"] if f["check"] == "gpu-idle"]
    h100 = next(f for f in idle if f["subject"]["name"] == "train-1")
    assert h100["evidence"]["monthly_cost_usd"] == 8 * 2 * 730
    section = report["sections"]["gpu-cost"]
    assert section["price_source"].startswith(str(prices))
    bad = tmp_path / "bad.yaml"
    bad.write_text("prices: [{gpu_product: X}]\n")
    failed = runner.invoke(app, ["scan", str(fixture), "--prices", str(bad), "-q"])
    assert failed.exit_code == 2
    assert "usd_per_gpu_hour" in failed.output
