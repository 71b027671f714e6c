"""The hostile corpus (corpus.py), each case run as a user runs plumbob, bounded in time and
memory (runner.py): no traceback, no hang, exit 0-2, the good objects beside the bad input
still reported, no raw control characters in any output, and what each class adds."""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path

import pytest

from tests.hostile.corpus import file_cases
from tests.hostile.runner import problems, run

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
