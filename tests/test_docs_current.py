"""docs/checks.md is generated from the check metadata and must match the current catalog."""

from __future__ import annotations

from pathlib import Path

from plumbob.checks.docs import render
from plumbob.checks.registry import Registry

DOCS = Path(__file__).resolve().parents[1] / "docs" / "checks.md"


def test_checks_md_is_current() -> None:
    expected = render(Registry.discover())
    current = DOCS.read_text(encoding="utf-8") if DOCS.exists() else ""
    assert current == expected, (
        "docs/checks.md is out of date with the check metadata; regenerate it with\n"
        "    python -m plumbob.checks.docs > docs/checks.md"
    )


def test_every_check_is_documented() -> None:
    text = render(Registry.discover())
    for check in Registry.discover():
        assert f"### {check.id}\n" in text
        assert check.fix.strip().splitlines()[0] in text
