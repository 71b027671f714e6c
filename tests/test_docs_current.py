"""docs/checks.md is generated from the check metadata and must match the current catalog; the
README's configuration example is one plumbob accepts."""

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


def test_readme_configuration_example_is_valid(tmp_path: Path) -> None:
    """The plumbob.yaml shown in the README loads, and every name in it is a check's."""
    from plumbob.config import config_problems, load_config

    readme = (DOCS.parents[1] / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("### Configuration") :]
    start = section.index("```yaml\n") + len("```yaml\n")
    example = section[start : section.index("\n```", start)]
    config = tmp_path / "plumbob.yaml"
    config.write_text(example, encoding="utf-8")
    assert config_problems(load_config(config), Registry.discover()) == []
    assert load_config(config).options == {"image-large-gpu": {"threshold-gb": 8}}
