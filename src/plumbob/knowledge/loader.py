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


def yaml_error(path: object, exc: Exception) -> str:
    """One line for a user's YAML file that does not parse: the file and line PyYAML stopped at
    and its reason, without the parser's multi-line context (which echoes the file's text)."""
    mark = getattr(exc, "problem_mark", None)
    line = f":{mark.line + 1}" if mark is not None else ""
    return f"{path}{line}: not valid YAML: {getattr(exc, 'problem', None) or exc}"


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
    import yaml  # here, not at the top: listing checks never parses a table

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    data = yaml.load(text, Loader=loader)
    if not isinstance(data, dict) or data.get("kind") != name:
        raise KnowledgeError(f"knowledge table {name}.yaml does not declare kind: {name}")
    return data
