"""Load the fact tables in this package (knowledge/*.yaml) once per process.

The tables come from ../shared/knowledge with their sources; typed lookups over them live next to
the analyses that use them and read the raw tables through `load_table`.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

_PACKAGE = "plumbob.knowledge"


class KnowledgeError(RuntimeError):
    """A shipped fact table is missing or malformed (a packaging bug, not a user error)."""


def table_names() -> list[str]:
    return sorted(
        entry.name.removesuffix(".yaml")
        for entry in resources.files(_PACKAGE).iterdir()
        if entry.name.endswith(".yaml")
    )


@cache
def load_table(name: str) -> dict[str, Any]:
    """The parsed table `name` (e.g. 'cuda_driver_compat'), checked for its `kind`."""
    try:
        text = resources.files(_PACKAGE).joinpath(f"{name}.yaml").read_text(encoding="utf-8")
    except FileNotFoundError:
        raise KnowledgeError(f"no knowledge table {name!r}; have {table_names()}") from None
    data = _parse(text)
    if not isinstance(data, dict) or data.get("kind") != name:
        raise KnowledgeError(f"knowledge table {name}.yaml does not declare kind: {name}")
    return data


def _parse(text: str) -> Any:
    """The table's data. yaml-rs builds it about eight times faster than PyYAML (a scan loads
    three to five tables: 10 to 25 ms with PyYAML); the tables are written so that both read
    them alike, which tests/unit/knowledge/test_loader.py checks for every table. Imported
    here, not at the top: listing checks never parses a table."""
    try:
        import yaml_rs
    except ImportError:  # no wheel for this platform
        import yaml

        return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    return yaml_rs.loads(text, parse_datetime=False)
