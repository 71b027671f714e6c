"""The GPU cost section in the terminal report and in the JSON report."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import msgspec
import pytest
from typer.testing import CliRunner

from plumbob import engine
from plumbob.checks.cost.summary import SECTION, cost_section
from plumbob.checks.registry import Registry
from plumbob.cli import app
from plumbob.config import Config
from plumbob.render import json as json_renderer
from plumbob.render import table
from plumbob.render.cost import MAX_POOLS_SHOWN
from plumbob.report.model import Report
from tests.conftest import make_container, make_node, make_pod, snapshot_of

REGISTRY = Registry.discover()
H100 = "NVIDIA-H100-80GB-HBM3"


def cluster(pools: int = 2) -> list[dict[str, object]]:
    """`pools` priced H100 pools (8 GPUs, 3 requested) and one pool of an unpriced product."""
    objects: list[dict[str, object]] = []
    for i in range(pools):
        labels = {"eks.amazonaws.com/nodegroup": f"train-{i}"}
        objects.append(make_node(f"h100-{i}", gpus=8, labels=labels, product=H100))
        pod = make_pod(f"job-{i}", "ml", node=f"h100-{i}", containers=[make_container(gpus=3)])
        objects.append(pod)
    other = {"eks.amazonaws.com/nodegroup": "lab"}
    objects.append(make_node("lab-0", gpus=2, labels=other, product="NVIDIA-Imaginary-9000"))
    return objects


def report_of(*objects: dict[str, object], **snap_args: Any) -> Report:
    snap = snapshot_of(*objects, cluster="lab", **snap_args)
    analysis = engine.Analysis(SECTION, cost_section)
    return engine.run([snap], REGISTRY, Config(only=["gpu-idle"]), analyses=[analysis])


def rendered(report: Report) -> str:
    out = io.StringIO()
    table.render(report, out, width=120)
    return out.getvalue()


def test_table_shows_the_cost_section() -> None:
    report = report_of(*cluster())
    text = rendered(report)
    section = msgspec.to_builtins(report.sections.gpu_cost)
    idle = section["clusters"][0]["idle"]
    assert idle == 5 + 5 + 2
    assert (
        f"GPU cost — {idle:g} of 18 GPUs idle ≈ ${section['idle_monthly_cost']:,.0f}/month" in text
    )
    assert "(+2 GPUs without a price)" in text
    for pool in ("train-0", "train-1", "lab"):
        assert pool in text
    assert "H100-80GB-HBM3" in text and "8/1" in text
    per_pool = section["clusters"][0]["pools"][0]["idle_monthly_cost"]
    assert f"${per_pool:,.0f}" in text
    assert "knowledge/gpu_prices.yaml" in text


def test_json_carries_the_same_section() -> None:
    report = report_of(*cluster())
    data = json.loads(json_renderer.encode(report))
    section = data["sections"][SECTION]
    assert section == msgspec.to_builtins(report.sections.gpu_cost)
    [lab] = section["clusters"]
    assert (lab["gpus"], lab["requested"], lab["idle"]) == (18, 6, 12)
    pools = {p["pool"]: p for p in lab["pools"]}
    assert pools["lab"]["usd_per_gpu_hour"] is None and pools["lab"]["unpriced_idle_gpus"] == 2
    assert pools["train-0"]["usd_per_gpu_hour"] > 0
    assert section["idle_monthly_cost"] == round(
        sum(p["idle_monthly_cost"] for p in lab["pools"]), 2
    )


def test_many_pools_are_cut_short() -> None:
    text = rendered(report_of(*cluster(pools=MAX_POOLS_SHOWN + 2)))
    assert "3 more pools (see the JSON report)" in text


def test_no_section_no_panel() -> None:
    # a node list alone: its pods, and so its GPUs' use, are not in the input
    no_pods = report_of(make_node("h100-0", gpus=8, product=H100), captured=("Node",))
    assert no_pods.sections.gpu_cost is None
    assert "GPU cost" not in rendered(no_pods)
    with pytest.raises(msgspec.ValidationError):  # a section of another shape is an error
        msgspec.convert({"sections": {SECTION: {"clusters": "not a list"}}}, Report)


def test_scan_table_and_prices_flag(tmp_path: Path) -> None:
    path = tmp_path / "cluster.json"
    path.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": cluster(1)}))
    prices = tmp_path / "prices.yaml"
    prices.write_text(f"prices: [{{gpu_product: {H100}, usd_per_gpu_hour: 2}}]\n")
    result = CliRunner().invoke(
        app, ["scan", str(path), "-q", "--prices", str(prices)], env={"COLUMNS": "120"}
    )
    assert result.exit_code == 0, result.output
    assert f"GPU cost — 7 of 10 GPUs idle ≈ ${5 * 2 * 730:,}/month" in result.stdout
    assert "$2.00" in result.stdout  # the --prices rate, not the shipped one


def test_several_clusters_name_their_pools() -> None:
    snaps = [snapshot_of(*cluster(1), cluster=name) for name in ("east", "west")]
    analysis = engine.Analysis(SECTION, cost_section)
    report = engine.run(snaps, REGISTRY, Config(only=["gpu-idle"]), analyses=[analysis])
    text = rendered(report)
    assert "east/train-0" in text and "west/train-0" in text
    assert "GPU cost — 14 of 20 GPUs idle" in text
