"""A folder as people really have one: JSON beside `kubectl describe node`, `kubectl get nodes -o
wide` and label dumps, with terminal output plumbob does not read. Every file is read or named;
text nodes merge with the JSON of the same node; what the text did not show is not assessed."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from plumbob import engine
from plumbob.checks.registry import Registry
from plumbob.sources.files import FileSource
from tests.conftest import REAL, ROOT, make_container, make_deployment, make_pod

TEXT = ROOT / "tests" / "fixtures" / "text_inventory"
DESCRIBE = TEXT / "hokunpark98-describe-node-rtx3090-events.txt"  # node dnclab3
WIDE = ROOT / "tests" / "fixtures" / "mixed-inputs" / "nodes-wide.txt"


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    shutil.copy(DESCRIBE, tmp_path / "describe-dnclab3.txt")
    shutil.copy(WIDE, tmp_path / "nodes-wide.txt")
    shutil.copy(TEXT / "k8s-device-plugin-33-describe-pods-indented.txt", tmp_path / "pods.txt")
    shutil.copy(TEXT / "k8s-device-plugin-71-nvidia-smi.txt", tmp_path / "smi.txt")
    shutil.copy(TEXT / "bacchus-sgs-query-nodes.md", tmp_path / "notes.md")
    pod = make_pod(
        "train-0", "ml", containers=[make_container(image="pytorch/pytorch:2.3.0", gpus=1)]
    )
    pod["spec"]["nodeName"] = "dnclab3"
    (tmp_path / "pods.json").write_text(json.dumps({"kind": "List", "items": [pod]}))
    (tmp_path / "app.yaml").write_text(
        yaml.safe_dump(make_deployment("web", "ml", containers=[make_container()]))
    )
    return tmp_path


def test_every_form_is_read_or_named(folder: Path) -> None:
    loaded = FileSource((folder,)).load()
    inputs = loaded.inputs
    assert inputs is not None
    assert (inputs.files, inputs.read) == (7, 4)
    unread = {Path(f.path).name: f.reason or "" for f in inputs.unread}
    assert set(unread) == {"pods.txt", "smi.txt", "notes.md"}
    assert "describe pod" in unread["pods.txt"] and "node" in unread["pods.txt"]
    assert "nvidia-smi" in unread["smi.txt"]
    forms = {Path(f.path).name: f.reason for f in inputs.inventories}
    assert forms == {
        "describe-dnclab3.txt": "kubectl describe node",
        "nodes-wide.txt": "kubectl get nodes -o wide",
    }
    (snap,) = loaded.snapshots
    nodes = {n.name: n for n in snap.nodes}
    assert set(nodes) == {"dnclab3", "dnclab4"}  # the describe and the table merged
    assert nodes["dnclab3"].unknown == ("annotations", "images")  # what neither showed whole
    assert nodes["dnclab3"].status.node_info.kubelet_version == "v1.24.15"
    assert "taints" in nodes["dnclab4"].unknown and "labels" in nodes["dnclab4"].unknown
    assert not [d for d in loaded.diagnostics if d.object == "Node/dnclab3"]  # they agree


def test_checks_assess_only_what_the_text_showed(folder: Path) -> None:
    loaded = FileSource((folder,)).load()
    report = engine.run(loaded.snapshots, Registry.discover(), inputs=loaded.inputs)
    runs = {r.check: r for r in report.checks}
    # dnclab3's taints are known (from its describe), dnclab4's are not
    untainted = runs["gpu-node-untainted"]
    assert untainted.unseen == 1 and "dnclab4" not in json.dumps(
        [f.subject.name for f in report.findings if f.check == "gpu-node-untainted"]
    )
    # kubelet versions are known for both: the skew check assesses both nodes
    assert runs["kubelet-version-skew"].unseen == 0
    # nothing said about images: describe never shows them
    assert runs["image-large-gpu"].status == "not-visible"


def test_real_node_folder_is_accounted_for(real: Path) -> None:
    inputs = FileSource((REAL / "nodes",)).load().inputs
    assert inputs is not None
    assert inputs.read + len(inputs.unread) == inputs.files
    assert inputs.inventories, "the real label maps and terminal excerpts are read"
    for f in inputs.unread:
        assert f.reason and "grep" in f.reason  # only the yaml-grep excerpts are refused
