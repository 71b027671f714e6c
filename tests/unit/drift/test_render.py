"""Terminal drawings of the drift section and of diffs."""

from __future__ import annotations

import io

import msgspec
import pytest
from rich.console import Console

from plumbob.drift import DriftAnalysis
from plumbob.drift.compare import Change, Diff, Side
from plumbob.render.drift import drift_panel as panel_of
from plumbob.render.drift import render_diff
from plumbob.report.sections import DriftSection
from tests.conftest import snapshot_of
from tests.unit.drift.helpers import pool_node


def drift_panel(data: object) -> object:
    """The panel of a section given as the report holds it (plain data)."""
    return panel_of(msgspec.convert(data, DriftSection))


def _text(renderable: object) -> str:
    out = io.StringIO()
    Console(file=out, width=160, highlight=False).print(renderable)
    return out.getvalue()


def test_heatmap_shows_only_drifting_pools_and_attributes() -> None:
    nodes = [pool_node(f"g{i}", "gpu", gpus=8, driver="550.90.07") for i in range(3)]
    nodes.append(pool_node("g3", "gpu", gpus=8, driver="535.104.05"))
    nodes += [pool_node("c0", "cpu", kernel="6.1.0-28"), pool_node("c1", "cpu", kernel="6.1.0-30")]
    nodes += [pool_node(f"u{i}", "steady") for i in range(2)]
    _, section = DriftAnalysis()([snapshot_of(*nodes)])
    text = _text(drift_panel(section))
    assert "gpu (GPU)" in text and "cpu" in text and "steady" not in text
    assert "driver" in text and "kernel" in text and "runtime" not in text
    assert "split" in text and "g3" in text
    assert "2 pools drift, 1 uniform" in text


def test_no_section_draws_nothing_and_a_wrong_one_is_an_error() -> None:
    assert drift_panel({}) is None
    with pytest.raises(msgspec.ValidationError):
        drift_panel({"pools": "not a list"})


def test_diff_rendering() -> None:
    out = io.StringIO()
    result = Diff(
        before=Side(label="scan 1", cluster="prod"),
        after=Side(label="scan 2", cluster="prod"),
        nodes_added=["g9"],
        node_pools={"g9": "gpu-train"},
        changes=[
            Change(subject="g3", attribute="nvidia_driver", before="535.104.05", after="550.90.07")
        ],
    )
    render_diff(result, out, width=120)
    text = out.getvalue()
    assert "scan 1 → scan 2" in text and "g9" in text and "gpu-train" in text
    assert "NVIDIA driver" in text and "535.104.05" in text and "550.90.07" in text
    empty = io.StringIO()
    render_diff(Diff(), empty)
    assert "No changes." in empty.getvalue()


def test_components_across_clusters_show_missing_and_not_visible() -> None:
    section = {
        "pools": [
            {"cluster": "a", "pool": "p", "nodes": 1},
            {"cluster": "b", "pool": "p", "nodes": 1},
            {"cluster": "m", "pool": "p", "nodes": 1},
        ],
        "components": [{"component": "kueue", "versions": {"a": "v0.9.1", "b": None}}],
    }
    text = _text(drift_panel(section))
    line = next(ln for ln in text.splitlines() if "kueue" in ln)
    assert "v0.9.1" in line and "missing" in line and "not visible" in line


def test_policies_across_clusters_table() -> None:
    section = {
        "pools": [{"cluster": c, "pool": "p", "nodes": 1} for c in ("dev", "prod", "ci")],
        "policies": [
            {
                "policy": "ClusterPolicy/require-gpu-limits",
                "states": {"dev": None, "prod": "enforce"},
            }
        ],
    }
    text = _text(drift_panel(section))
    assert "admission policies across clusters" in text
    line = next(ln for ln in text.splitlines() if "require-gpu-limits" in ln)
    assert "missing" in line and "enforce" in line and "not visible" in line
