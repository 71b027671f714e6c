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
def test_origin_names_the_failure_it_comes_from(check) -> None:  # type: ignore[no-untyped-def]
    """Every check says where it comes from: the failure report (an issue thread, the pull
    request that fixed someone's cluster) or, where no public report was found, the vendor
    document that states the failure, marked as such. docs/checks.md and `plumbob explain`
    show it first."""
    assert check.origin is not None, (
        f"{check.id}: no origin=Origin(url, what[, kind='document']); name the failure report "
        "it comes from (see CONTRIBUTING.md, step 1)"
    )
    origin = check.origin
    assert origin.kind in ("incident", "document")
    if origin.kind == "incident":
        # a failure report is a thread someone wrote about their own cluster
        assert origin.url.startswith("https://github.com/"), origin.url
        assert "/issues/" in origin.url or "/pull/" in origin.url, origin.url
    else:
        assert "/issues/" not in origin.url and "/pull/" not in origin.url, (
            f"{check.id}: {origin.url} is a thread: kind='incident'"
        )
    assert 40 <= len(origin.what) <= 240 and origin.what.endswith(".")


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


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.id)
def test_mutation_for_the_well_configured_cluster(check) -> None:  # type: ignore[no-untyped-def]
    """Every check says, in its fixture folder, which one defect planted into the
    well-configured cluster makes it fire (tests/e2e/test_well_configured.py plants each), so
    that a clean scan of that cluster means the check looked; the file is read here, so that a
    malformed one fails at once."""
    from tests.e2e.mutations import load

    path = HERE / check.category / check.id / "mutation.yaml"
    assert path.is_file(), (
        f"{path}: no mutation.yaml; write the defect that makes {check.id} fire on "
        "tests/fixtures/well-configured (see CONTRIBUTING.md)"
    )
    mutation = load(path, check.id)
    assert set(mutation.options) <= set(check.options), f"{path}: options the check lacks"


class _Asked(dict[str, object]):
    """Option values that remember which names a check asked for."""

    def __init__(self, values: dict[str, object]) -> None:
        super().__init__(values)
        self.asked: set[str] = set()

    def __getitem__(self, key: str) -> object:
        self.asked.add(key)
        return super().__getitem__(key)


@pytest.fixture(scope="module")
def demo_snapshots() -> list[object]:
    from plumbob.sources.demo import DemoSource, DemoSpec

    return list(DemoSource(DemoSpec()).load().snapshots)


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.id)
def test_options_a_check_reads_are_declared(check, demo_snapshots) -> None:  # type: ignore[no-untyped-def]
    """plumbob.yaml and the scan flags reach a check only through the options it declares: one
    it reads without declaring has no value (the check fails), and one it declares but never
    reads could be set to no effect. Run on the demo fleet and on the check's own trigger
    fixtures (those with GPU metrics reach the options of the utilisation checks)."""
    from plumbob.checks.registry import CheckContext
    from plumbob.sources.files import FileSource

    folder = HERE / check.category / check.id
    triggers = sorted(p for p in folder.glob("trigger-*") if p.suffix in (".yaml", ".json"))
    snapshots = list(demo_snapshots)
    if triggers:
        snapshots += FileSource(tuple(triggers)).load().snapshots
    defaults = dict(check.context().options)
    asked: set[str] = set()
    for snap in snapshots:
        options = _Asked(defaults)
        list(check.run(snap, CheckContext(options=options, snapshots=tuple(demo_snapshots))))
        asked |= options.asked
    assert asked <= set(check.options), f"{check.id} reads {sorted(asked - set(check.options))}"
    assert set(check.options) <= asked, f"{check.id} never reads {set(check.options) - asked}"


@pytest.mark.parametrize(
    ("check", "option"),
    [(c, o) for c in CHECKS for o in c.options.values()],
    ids=lambda x: getattr(x, "id", None) or getattr(x, "name", ""),
)
def test_every_option_is_documented(check, option) -> None:  # type: ignore[no-untyped-def]
    """Each option shows its type, default and help where users look: `plumbob explain`,
    `plumbob checks --json` and docs/checks.md all read `describe`/`as_data`."""
    text = option.describe()
    assert text.startswith(f"`{option.name}` ({option.type.words}; default ")
    assert option.help.strip().endswith(".")
    data = option.as_data()
    assert data["type"] == option.type.words and data["help"] == option.help.strip()
