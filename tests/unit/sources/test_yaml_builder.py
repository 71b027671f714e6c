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


@pytest.mark.parametrize(
    ("text", "line"),
    [
        (b"a: 0x_\n", 1),  # PyYAML resolves it as an integer, then int("", 16) fails
        (b"kind: A\n---\nitems:\n- 0b_\n", 4),
        (b"a: !!int abc\n", 1),
        (b"a: !!float x\n", 1),
        (b"a: &x 0x_\nb: *x\n", 1),  # the alias path: PyYAML's own constructor
        (b"a: !!float\n", 1),  # an empty string indexed: IndexError
        (b"- x\n- !!int\n", 2),
        (b"a: 1" + b"_1" * 5000 + b"\n", 1),  # past Python's 4,300-digit limit for int()
    ],
)
def test_a_number_pyyaml_cannot_convert_is_an_error_with_its_line(text: bytes, line: int) -> None:
    with pytest.raises(yamlload.YamlError) as raised:
        _ours(text)
    assert raised.value.line == line
    assert str(raised.value).startswith("invalid YAML:")
    assert len(str(raised.value)) < 200  # the value is quoted short


def test_a_file_with_such_a_number_is_reported_and_the_others_read(tmp_path: Path) -> None:
    from plumbob.sources.files import FileSource

    (tmp_path / "bad.yaml").write_text("kind: ConfigMap\napiVersion: v1\ndata:\n  a: 0x_\n")
    (tmp_path / "ok.yaml").write_text("kind: Namespace\napiVersion: v1\nmetadata: {name: ok}\n")
    loaded = FileSource((tmp_path,)).load()
    [snap] = loaded.snapshots
    assert [o.name for o in snap.objects("Namespace")] == ["ok"]
    [problem] = loaded.diagnostics
    assert problem.path.endswith("bad.yaml") and problem.line == 4
    assert "'0x_' reads as an integer" in problem.message


def test_a_word_of_many_underscores_is_looked_at_once() -> None:
    """Each word is asked of yaml-rs once: a long one costs its length, not its length times
    its underscores (which made this text take minutes)."""
    name = "a1" + "_1" * 200_000  # a name: the fast path reads it
    [doc] = yamlload._fast_documents(f"k: {name}\n".encode()) or []
    assert doc.data == {"k": name}
