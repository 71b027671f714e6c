"""Drift in time: nodes added/removed, attribute changes, findings appeared/resolved."""

from __future__ import annotations

from plumbob.drift import DriftAnalysis
from plumbob.drift.attributes import snapshot_attributes
from plumbob.drift.compare import Side, State, diff
from tests.conftest import snapshot_of
from tests.unit.drift.helpers import pool_node


def _state(label: str, *nodes: dict) -> State:
    snap = snapshot_of(*nodes, cluster="c1")
    attrs = snapshot_attributes(snap)
    findings, _ = DriftAnalysis()([snap])
    return State(Side(label=label, cluster="c1"), [attrs[n] for n in sorted(attrs)], findings)


def test_diff_nodes_changes_and_findings() -> None:
    before = _state(
        "a",
        *(pool_node(f"g{i}", "gpu", gpus=8, driver="550.54.15") for i in range(3)),
        pool_node("g3", "gpu", gpus=8, driver="535.1"),
    )
    after = _state(
        "b",
        *(pool_node(f"g{i}", "gpu", gpus=8, driver="550.54.15") for i in range(1, 3)),
        pool_node("g3", "gpu", gpus=8, driver="550.54.15", kernel="6.1.0-30"),
        pool_node("g4", "gpu", gpus=8, driver="550.54.15"),
    )
    result = diff(before, after)
    assert result.nodes_added == ["g4"] and result.nodes_removed == ["g0"]
    assert result.node_pools == {"g4": "gpu", "g0": "gpu"}
    changes = {(c.subject, c.attribute): (c.before, c.after) for c in result.changes}
    assert changes == {
        ("g3", "nvidia_driver"): ("535.1", "550.54.15"),
        ("g3", "kernel"): ("6.1.0-28-cloud-amd64", "6.1.0-30"),
    }
    assert [f.check for f in result.findings_resolved] == ["drift:nvidia_driver"]
    assert [(f.check, f.subject.name) for f in result.findings_appeared] == [("drift:kernel", "g3")]
    assert not result.empty


def test_same_state_is_empty() -> None:
    nodes = [pool_node(f"n{i}", "cpu") for i in range(2)]
    assert diff(_state("a", *nodes), _state("b", *nodes)).empty
