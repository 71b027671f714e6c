"""Every drift id a report can carry has an entry `plumbob explain` shows."""

from __future__ import annotations

import re

import pytest

from plumbob.drift.assessed import FLEET_IDS
from plumbob.drift.attributes import ATTRIBUTES
from plumbob.drift.catalog import DOCS, drift_entries, drift_entry, family_ids
from plumbob.drift.cross import CROSS_ATTRIBUTES
from tests.conftest import ROOT

DRIFT_SOURCES = sorted((ROOT / "src" / "plumbob" / "drift").glob("*.py"))
LITERAL = re.compile(r"check=\"((?:drift|baseline|cross-cluster):[a-z_-]+)\"")
ASSESSED = re.compile(r"_assessed\(\"((?:drift|baseline|cross-cluster):[a-z_-]+)\"")


def test_every_id_drift_makes_has_an_entry() -> None:
    ids = set(drift_entries())
    assert set(FLEET_IDS) <= ids
    assert {f"baseline:{a.id}" for a in ATTRIBUTES} <= ids
    assert {f"cross-cluster:{a}" for a in CROSS_ATTRIBUTES} <= ids
    written = {
        found
        for path in DRIFT_SOURCES
        for pattern in (LITERAL, ASSESSED)
        for found in pattern.findall(path.read_text())
    }
    assert len(written) >= 10, "the patterns still find the ids drift writes out"
    assert written <= ids, sorted(written - ids)


def test_every_attribute_has_its_text() -> None:
    assert {a.id for a in ATTRIBUTES} | {"label"} == set(DOCS)


@pytest.mark.parametrize("entry", list(drift_entries().values()), ids=lambda e: e.id)
def test_entries_say_what_why_and_how(entry: object) -> None:
    from plumbob.drift.catalog import DriftEntry

    assert isinstance(entry, DriftEntry)
    assert entry.category == "drift" and entry.family in ("drift", "baseline", "cross-cluster")
    assert entry.id.startswith(entry.family + ":")
    assert len(entry.what) > 20 and len(entry.why) > 80 and len(entry.fix) > 40
    assert entry.severity.split()[0].rstrip(";") in ("critical", "high", "medium", "low", "info")


def test_lookups() -> None:
    found = drift_entry("drift:nvidia_driver")
    assert found is not None and found.severity == "high in GPU pools, else medium"
    assert drift_entry("drift:nope") is None
    assert "cross-cluster:policy-mode" in family_ids("cross-cluster")
    assert all(i.startswith("baseline:") for i in family_ids("baseline"))


def test_configuration_names_drift_ids_from_the_catalog() -> None:
    """A misspelt drift id in plumbob.yaml is named, as a misspelt check id is: it would
    otherwise change nothing, silently."""
    from plumbob.checks.registry import Registry
    from plumbob.config import Config, config_problems
    from plumbob.report.model import Severity

    good = Config(severity={"drift:nvidia_driver": Severity.CRITICAL, "baseline": Severity.LOW})
    assert config_problems(good, Registry.discover()) == []
    bad = Config(disable=["drift:kernal", "cross-cluster:kubelet"])
    (problem,) = config_problems(bad, Registry.discover())
    assert problem.startswith("disable: drift:kernal: no such check; did you mean drift:kernel")
