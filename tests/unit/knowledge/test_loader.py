"""The fact tables are parsed with yaml-rs; each must read exactly as PyYAML's safe loader (YAML
1.1) reads it, so that a table edited with, say, an unquoted `yes` or date is caught here."""

from __future__ import annotations

from importlib import resources

import pytest
import yaml

from plumbob.knowledge import loader


@pytest.mark.parametrize("name", loader.table_names())
def test_each_table_reads_as_pyyaml_reads_it(name: str) -> None:
    text = resources.files("plumbob.knowledge").joinpath(f"{name}.yaml").read_text("utf-8")
    expected = yaml.load(text, Loader=yaml.SafeLoader)
    assert repr(loader._parse(text)) == repr(expected)  # (repr: 1 and 1.0 and True differ)
    assert loader.load_table(name)["kind"] == name


def test_a_table_yaml_11_would_read_differently_is_caught() -> None:
    text = "kind: t\nenabled: yes\nsince: 2024-01-01\n"
    assert repr(loader._parse(text)) != repr(yaml.load(text, Loader=yaml.SafeLoader))
