"""Reading files on several cores gives what reading them one by one gives, in the same order,
and a helper that fails only costs time."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from plumbob.report.model import Diagnostic, DiagnosticCode, Level
from plumbob.sources import parallel
from plumbob.sources.files import FileSource

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork on this platform")


@pytest.fixture
def forking(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parallel, "PARALLEL_FROM", 2)
    monkeypatch.setattr(parallel, "usable_cores", lambda: 4)  # three helpers, even on one core
    # (a thread another test left running would otherwise keep this process from forking)
    monkeypatch.setattr(parallel, "fork_is_safe", lambda: True)


def _files(tmp_path: Path, count: int) -> list[Path]:
    out = []
    for i in range(count):
        path = tmp_path / f"f{i:03}.txt"
        path.write_text(str(i))
        out.append(path)
    return out


def _reader(diagnostics: list[Diagnostic], fail_in_helpers: bool = False):  # type: ignore[no-untyped-def]
    parent = os.getpid()

    def read(path: Path) -> tuple[int, int]:
        if fail_in_helpers and os.getpid() != parent:
            raise RuntimeError("helper fails")
        n = int(path.read_text())
        if n % 7 == 0:
            diagnostics.append(
                Diagnostic(
                    level=Level.WARNING, code=DiagnosticCode.FILE_EMPTY, message=f"seven {n}"
                )
            )
        return n, os.getpid()

    return read


@pytest.mark.usefixtures("forking")
def test_results_and_diagnostics_come_in_file_order(tmp_path: Path) -> None:
    files = _files(tmp_path, 50)
    diagnostics: list[Diagnostic] = []
    got = list(parallel.read_in_order(files, _reader(diagnostics), diagnostics))
    assert [f for f, _ in got] == files
    assert [n for _, (n, _) in got] == list(range(50))
    assert [d.message for d in diagnostics] == [f"seven {n}" for n in range(0, 50, 7)]
    assert len({pid for _, (_, pid) in got}) > 1  # helpers did read some of them


@pytest.mark.usefixtures("forking")
def test_a_failing_helper_share_is_read_by_the_parent(tmp_path: Path) -> None:
    files = _files(tmp_path, 30)
    diagnostics: list[Diagnostic] = []
    got = list(parallel.read_in_order(files, _reader(diagnostics, True), diagnostics))
    assert [n for _, (n, _) in got] == list(range(30))
    assert {pid for _, (_, pid) in got} == {os.getpid()}
    assert [d.message for d in diagnostics] == [f"seven {n}" for n in range(0, 30, 7)]


def test_no_fork_while_another_thread_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A progress bar's thread may hold a lock at the moment of a fork: files are then read
    here, one by one."""
    monkeypatch.setattr(parallel, "PARALLEL_FROM", 2)
    monkeypatch.setattr(parallel, "usable_cores", lambda: 4)
    files = _files(tmp_path, 20)
    diagnostics: list[Diagnostic] = []
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    try:
        assert not parallel.fork_is_safe()
        got = list(parallel.read_in_order(files, _reader(diagnostics), diagnostics))
    finally:
        stop.set()
        thread.join()
    assert {pid for _, (_, pid) in got} == {os.getpid()}
    assert [n for _, (n, _) in got] == list(range(20))


def test_short_lists_are_read_here(tmp_path: Path) -> None:
    files = _files(tmp_path, 5)
    diagnostics: list[Diagnostic] = []
    got = list(parallel.read_in_order(files, _reader(diagnostics), diagnostics))
    assert {pid for _, (_, pid) in got} == {os.getpid()}


def test_a_folder_reads_the_same_on_several_cores(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for i in range(40):
        gpus = f"\n          limits: {{nvidia.com/gpu: {i % 3}}}" if i % 2 else ""
        (tmp_path / f"deploy-{i:02}.yaml").write_text(
            f"""apiVersion: apps/v1
kind: Deployment
metadata: {{name: d{i}, namespace: ns{i % 4}}}
spec:
  template:
    spec:
      containers:
      - name: main
        image: vllm/vllm-openai:v0.6.{i}
        resources:{gpus or " {}"}
"""
        )
    (tmp_path / "broken.yaml").write_text("kind: [unclosed\n")
    (tmp_path / "deploy-07.yaml").write_text((tmp_path / "deploy-03.yaml").read_text())

    def load() -> tuple[list[object], list[str]]:
        loaded = FileSource((tmp_path,), cluster="c").load()
        return list(loaded.snapshots[0]), [str(d) for d in loaded.diagnostics]

    one_by_one = load()
    monkeypatch.setattr(parallel, "PARALLEL_FROM", 2)
    monkeypatch.setattr(parallel, "usable_cores", lambda: 3)
    monkeypatch.setattr(parallel, "fork_is_safe", lambda: True)
    assert load() == one_by_one
    assert len(one_by_one[0]) == 39  # a duplicate was reported, the broken file too
    assert any("duplicate object" in d for d in one_by_one[1])
    assert any("broken.yaml" in d for d in one_by_one[1])
