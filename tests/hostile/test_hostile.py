"""The hostile corpus (corpus.py), each case run as a user runs plumbob, bounded in time and
memory (runner.py): no traceback, no hang, exit 0-2, the good objects beside the bad input
still reported, no raw control characters in any output, and what each class adds."""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path

import pytest

from tests.hostile import servers
from tests.hostile.corpus import Case, file_cases
from tests.hostile.runner import problems, run
from tests.integration.fake_apiserver import Pki, make_pki

_ROOT = Path(tempfile.mkdtemp(prefix="plumbob-hostile-"))
atexit.register(shutil.rmtree, _ROOT, ignore_errors=True)
CASES = {c.name: c for c in file_cases(_ROOT)}
"""Built once when the tests are collected; the runs read it in place."""


def test_the_corpus_covers_every_class() -> None:
    classes = {c.klass for c in CASES.values()}
    assert classes >= {
        "terminal",
        "special",
        "limits",
        "encoding",
        "compression",
        "snapshot",
        "secrets",
        "quantities",
        "store",
    }
    assert len(CASES) >= 60


@pytest.mark.parametrize("name", list(CASES))
def test_hostile_file(name: str, tmp_path: Path) -> None:
    case = CASES[name]
    outcome = run(case, tmp_path)
    found = problems(case, outcome)
    assert not found, (found, outcome.stderr[-2000:])


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("hostile-pki"))


@pytest.mark.parametrize("name", servers.NAMES)
def test_hostile_server(name: str, pki: Pki, tmp_path: Path) -> None:
    with servers.serving(name, tmp_path, pki) as case:
        outcome = run(case, tmp_path)
    found = problems(case, outcome)
    assert not found, (found, outcome.stderr[-2000:])


def test_hostile_names_are_stored_in_postgresql(tmp_path: Path) -> None:
    """A NUL, C1 controls and bytes that are not UTF-8 in a node's name and labels: the real
    PostgreSQL (tests/services/start.sh) takes the scan, and reads it back as escapes."""
    from tests.conftest import service_url

    url = service_url("postgres")
    case = CASES["store-nul-in-label-sqlite"]
    pg = Case(
        "store-nul-in-label-postgresql",
        "store",
        (case.args[0], "--cluster", "nul\x1b[2J\udcff", "--store", url),
        case.good,
        verify=case.verify,
    )
    outcome = run(pg, tmp_path)
    assert not problems(pg, outcome), (problems(pg, outcome), outcome.stderr[-2000:])

    from plumbob.store import open_store

    store = open_store(url)
    try:
        (info,) = store.scans(cluster="nul\x1b[2J\\xff", limit=1)
        stored = store.load(info.id)
    finally:
        store.close()
    (labels,) = [n.labels for n in stored.nodes if n.node == "nul-label"]
    assert labels == {"team": "a\\x00b", "k\\x00": "v"}
