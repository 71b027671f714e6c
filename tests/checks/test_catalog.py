"""Catalog-wide rules: every check is complete, unique and has fixtures both ways."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from plumbob.checks.registry import CATEGORIES, Registry
from plumbob.report.model import Severity

HERE = Path(__file__).parent
REGISTRY = Registry.discover()
CHECKS = list(REGISTRY)


def test_catalog_not_empty() -> None:
    assert len(CHECKS) >= 4


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.id)
def test_metadata_complete(check) -> None:  # type: ignore[no-untyped-def]
    assert check.id == check.id.lower() and " " not in check.id
    assert check.category in CATEGORIES
    assert isinstance(check.severity, Severity)
    assert check.title and not check.title.endswith(".")
    assert len(check.why) > 80, "why must explain the cost for AI workloads"
    assert len(check.fix) > 30
    assert check.references and all(r.startswith("https://") for r in check.references)
    assert check.reads, "reads= names what the check looks at"
    assert check.module.rsplit(".", 1)[1] == check.id.replace("-", "_")
    assert check.module.split(".")[2] == check.category


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.id)
def test_fixture_folder(check) -> None:  # type: ignore[no-untyped-def]
    """Every check has a fixture that triggers it and one that does not, each at least once in
    the project itself (a `*.real` pointer is skipped where the shared real fixtures are absent),
    and expected.yaml pins the subjects of at least one trigger; it names only triggers that
    exist."""
    folder = HERE / check.category / check.id
    names = [p.name for p in folder.glob("*")] if folder.is_dir() else []
    triggers = [n for n in names if n.startswith("trigger-")]
    cleans = [n for n in names if n.startswith("clean-")]
    assert triggers, f"{folder}: no trigger-* fixture"
    assert cleans, f"{folder}: no clean-* fixture"
    assert [n for n in triggers if not n.endswith(".real")], f"{folder}: only *.real triggers"
    assert [n for n in cleans if not n.endswith(".real")], f"{folder}: only *.real clean cases"
    expected_file = folder / "expected.yaml"
    assert expected_file.is_file(), f"{folder}: no expected.yaml pinning a trigger's subjects"
    expected = yaml.safe_load(expected_file.read_text()) or {}
    assert set(expected) <= set(triggers), f"{expected_file}: names no trigger file"
    pinned = [n for n in expected if expected[n]]
    assert [n for n in pinned if not n.endswith(".real")], f"{expected_file}: pins no own trigger"
