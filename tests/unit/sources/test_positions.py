"""Field paths resolved to YAML and JSON positions (sources/positions.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from plumbob.sources.positions import FieldLocator, parse_path

MANIFEST = """\
# a comment before the first document
---
apiVersion: v1
kind: Node
metadata:
  name: gpu-1
spec: {}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: infer
  namespace: ml
spec:
  template:
    spec:
      containers:
        - name: a
          image: x
        - name: b
          image: "y:latest"
          resources:
            limits: {nvidia.com/gpu: 1}
"""


@pytest.fixture
def manifest(tmp_path: Path) -> Path:
    path = tmp_path / "app.yaml"
    path.write_text(MANIFEST)
    return path


def _at(text: str, line: int, column: int) -> str:
    return text.splitlines()[line - 1][column - 1 :]


def test_parse_path() -> None:
    assert parse_path("spec.template.spec.containers[1].resources") == [
        "spec",
        "template",
        "spec",
        "containers",
        1,
        "resources",
    ]
    assert parse_path("metadata.labels[nvidia.com/gpu.product]") == [
        "metadata",
        "labels",
        "nvidia.com/gpu.product",
    ]
    assert parse_path("") == []


def test_field_in_second_document_has_its_line_and_column(manifest: Path) -> None:
    pos = FieldLocator().locate(
        str(manifest),
        kind="Deployment",
        name="infer",
        namespace="ml",
        line=9,
        path="spec.template.spec.containers[1].image",
    )
    assert pos is not None and pos.exact
    assert (pos.line, pos.column) == (21, 11)
    assert _at(MANIFEST, pos.line, pos.column).startswith('image: "y:latest"')
    assert (pos.end_line, pos.end_column) == (21, 16)


def test_list_item_and_flow_key(manifest: Path) -> None:
    locator = FieldLocator()
    item = locator.locate(
        str(manifest), kind="Deployment", name="infer", path="spec.template.spec.containers[0]"
    )
    assert item is not None and (item.line, item.column) == (18, 11)
    assert item.end_line is None  # an object, not a key: no highlight span
    key = locator.locate(
        str(manifest),
        kind="Deployment",
        name="infer",
        path="spec.template.spec.containers[1].resources.limits[nvidia.com/gpu]",
    )
    assert key is not None and key.exact
    assert _at(MANIFEST, key.line, key.column).startswith("nvidia.com/gpu: 1")


def test_absent_field_points_at_its_deepest_parent(manifest: Path) -> None:
    pos = FieldLocator().locate(str(manifest), kind="Node", name="gpu-1", path="spec.taints")
    assert pos is not None and not pos.exact and pos.found == "spec"
    assert _at(MANIFEST, pos.line, pos.column).startswith("spec: {}")


def test_json_list_items_are_found_by_identity(tmp_path: Path) -> None:
    items = [
        {"apiVersion": "v1", "kind": "Node", "metadata": {"name": n}, "spec": {"taints": []}}
        for n in ("a", "b")
    ]
    path = tmp_path / "nodes.json"
    text = json.dumps({"apiVersion": "v1", "kind": "List", "items": items}, indent=2)
    path.write_text(text)
    pos = FieldLocator().locate(str(path), kind="Node", name="b", path="spec.taints")
    assert pos is not None and pos.exact
    assert _at(text, pos.line, pos.column).startswith('"taints"')
    assert pos.line > text[: text.index('"name": "b"')].count("\n")


def test_unreadable_and_oversized_files_have_no_positions(tmp_path: Path, manifest: Path) -> None:
    assert FieldLocator().locate(str(tmp_path / "gone.yaml"), kind="Node", name="x") is None
    assert FieldLocator(max_bytes=10).locate(str(manifest), kind="Node", name="gpu-1") is None
    broken = tmp_path / "broken.yaml"
    broken.write_text(
        "kind: Node\nmetadata: {name: [unclosed\n---\nkind: Pod\nmetadata: {name: p}\n"
    )
    pos = FieldLocator().locate(str(broken), kind="Pod", name="p", path="metadata.name")
    assert pos is not None and pos.line == 5  # the broken document loses only itself
    assert FieldLocator().locate(str(manifest), kind="Pod", name="nope") is None
