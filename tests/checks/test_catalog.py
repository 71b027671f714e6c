"""Catalog-wide rules: every check is complete, unique and has fixtures both ways."""

from __future__ import annotations

from pathlib import Path

import pytest

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
    folder = HERE / check.category / check.id
    names = [p.name for p in folder.glob("*")] if folder.is_dir() else []
    assert any(n.startswith("trigger-") for n in names), f"{folder}: no trigger-* fixture"
    assert any(n.startswith("clean-") for n in names), f"{folder}: no clean-* fixture"
