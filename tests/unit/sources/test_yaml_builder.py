"""The direct document builder gives exactly what PyYAML's safe constructor gives."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from plumbob.sources import yamlload
from tests.conftest import REAL


def _reference(text: bytes) -> list[object]:
    """PyYAML's own constructor with plumbob's loader settings (nulls dropped, timestamps
    kept as text)."""
    return [d for d in yaml.load_all(text, Loader=yamlload._Loader) if d is not None]


def _ours(text: bytes) -> list[object]:
    return [d.data for d in yamlload.load_documents(text) if d.data is not None]


CASES = {
    "scalars": b"a: 1\nb: 0x1F\nc: 0o17\nd: 1_000\ne: 1.5\nf: .inf\ng: yes\nh: Off\n"
    b"i: ~\nj: null\nk: '2024-01-01T00:00:00Z'\nl: 2024-01-01T00:00:00Z\nm: '007'\nn: -0\n",
    "nested": b"spec:\n  containers:\n  - name: a\n    args: [--x, '1', 2]\n    env: {}\n"
    b"  empty:\n  list: [~, 1]\n",
    "merge key": b"base: &b {cpu: 1}\nres:\n  <<: *b\n  memory: 2Gi\n",
    "explicit tags": b"a: !!str 10\nb: !!binary aGVsbG8=\nc: !!float 1\n",
    "multi": b"kind: A\n---\nkind: B\n---\n# only a comment\n---\nkind: C\n",
    "block scalars": b"a: |\n  line 1\n  line 2\nb: >-\n  folded\n  text\n",
    "numeric keys": b"1: a\ntrue: b\n~: c\n",
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_same_as_pyyaml(name: str) -> None:
    assert _ours(CASES[name]) == _reference(CASES[name])


def test_same_as_pyyaml_on_real_manifests() -> None:
    if not REAL.is_dir():
        pytest.skip(f"real fixtures absent: {REAL}")
    compared = 0
    for path in sorted(REAL.rglob("*")):
        if path.suffix not in (".yaml", ".yml") or not path.is_file():
            continue
        text = path.read_bytes()
        try:
            expected = _reference(text)
        except yaml.YAMLError:
            with pytest.raises(yamlload.YamlError):
                _ours(text)
            continue
        assert _ours(text) == expected, path
        compared += 1
    assert compared > 10, f"only {compared} real YAML files found under {REAL}"


def test_timestamps_stay_text_and_null_keys_are_left_out(tmp_path: Path) -> None:
    [doc] = _ours(b"metadata:\n  creationTimestamp: 2024-01-01T00:00:00Z\n  annotations:\n")
    assert doc == {"metadata": {"creationTimestamp": "2024-01-01T00:00:00Z"}}
