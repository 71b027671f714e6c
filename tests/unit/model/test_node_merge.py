"""One node from several descriptions of it, each showing some parts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from plumbob.model.node_merge import PARTS, merge_nodes
from plumbob.model.objects import NODE_PARTS, Node
from plumbob.sources.files import FileSource
from tests.conftest import decode, make_node

TAINT = [{"key": "nvidia.com/gpu", "value": "present", "effect": "NoSchedule"}]


def node(data: dict[str, Any], *unknown: str) -> Node:
    obj = decode({**data, "unknown": sorted(unknown)})
    assert isinstance(obj, Node)
    return obj


def wide(name: str, kubelet: str = "v1.31.4") -> dict[str, Any]:
    """What `kubectl get nodes -o wide` shows of a node."""
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": name},
        "status": {
            "nodeInfo": {
                "kernelVersion": "6.1.0",
                "kubeletVersion": kubelet,
                "containerRuntimeVersion": "containerd://1.7.23",
                "osImage": "Ubuntu 22.04",
            },
            "conditions": [{"type": "Ready", "status": "True"}],
        },
    }


WIDE_UNKNOWN = tuple(p for p in NODE_PARTS if p not in ("nodeInfo", "conditions"))


def test_every_node_part_can_be_merged() -> None:
    assert set(PARTS) == set(NODE_PARTS)


def test_text_fills_only_what_it_showed_and_the_object_wins() -> None:
    full = node(make_node("g1", gpus=8, taints=TAINT))
    text = node(wide("g1"), *WIDE_UNKNOWN)
    for a, b in ((full, text), (text, full)):
        merged, conflicts = merge_nodes(a, b)
        assert conflicts == [] and merged.unknown == ()
        assert merged.spec.taints == full.spec.taints
        assert merged.status.capacity["nvidia.com/gpu"] == "8"


def test_two_texts_make_a_node_unknown_only_in_what_neither_showed() -> None:
    described = make_node("g1", gpus=8, taints=TAINT)
    described["status"].pop("nodeInfo")
    a = node(described, "images", "nodeInfo", "systemInfo")
    b = node(wide("g1", kubelet="v1.31.9"), *WIDE_UNKNOWN)
    merged, conflicts = merge_nodes(a, b)
    assert conflicts == []
    assert merged.unknown == ("images", "systemInfo")
    assert merged.status.node_info.kubelet_version == "v1.31.9"
    assert merged.spec.taints and merged.labels["kubernetes.io/hostname"] == "g1"


def test_parts_shown_differently_are_named() -> None:
    a = node(make_node("g1", gpus=8), "images")
    b = node(wide("g1", kubelet="v1.30.0"), *WIDE_UNKNOWN)
    merged, conflicts = merge_nodes(a, b)
    assert conflicts == ["nodeInfo"]
    assert merged.status.node_info.kubelet_version == "v1.31.4"  # the object read whole wins


def test_files_describing_one_node_give_one_node_and_warn_on_conflict(tmp_path: Path) -> None:
    (tmp_path / "a-nodes.json").write_text(yaml.safe_dump(make_node("g1", gpus=8)))
    (tmp_path / "b-wide.yaml").write_text(
        yaml.safe_dump({**wide("g1", kubelet="v1.29.0"), "unknown": list(WIDE_UNKNOWN)})
    )
    loaded = FileSource((tmp_path,)).load()
    (snap,) = loaded.snapshots
    (merged,) = snap.nodes
    assert merged.unknown == () and merged.status.capacity["nvidia.com/gpu"] == "8"
    (warning,) = [d for d in loaded.diagnostics if d.object == "Node/g1"]
    assert "nodeInfo differ" in warning.message and "a-nodes.json" in warning.message
