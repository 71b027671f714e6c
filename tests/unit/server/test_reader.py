"""The dashboard's reader: views built once per store revision, asked from memory first."""

from __future__ import annotations

from pathlib import Path

import pytest

from plumbob.server.reader import StoreReader, WouldBlock, memory_only
from plumbob.store import SqlStore, open_store
from tests.unit.server.fleet import Day, days_ago, record


def _store(tmp_path: Path) -> str:
    path = str(tmp_path / "h.sqlite")
    writer = open_store(path)
    writer.save(record(Day(cluster="a", when=days_ago(1))))
    writer.close()
    return path


def test_a_view_is_built_once_per_revision(tmp_path: Path) -> None:
    path = _store(tmp_path)
    reader = StoreReader(lambda: open_store(path, readonly=True), refresh=0.0)
    builds: list[int] = []

    def build(db: SqlStore) -> int:
        builds.append(1)
        return len(db.latest())

    assert reader.view(("n",), build) == 1
    assert reader.view(("n",), build) == 1
    assert len(builds) == 1
    writer = open_store(path)
    writer.save(record(Day(cluster="b", when=days_ago(0))))
    writer.close()
    assert reader.view(("n",), build) == 2  # a new scan: the view is built again
    assert len(builds) == 2
    reader.close()


def test_memory_only_answers_what_is_kept_and_refuses_the_rest(tmp_path: Path) -> None:
    path = _store(tmp_path)
    reader = StoreReader(lambda: open_store(path, readonly=True), refresh=60.0)
    with memory_only(), pytest.raises(WouldBlock):
        reader.view(("clusters",), lambda db: db.clusters())
    assert reader.view(("clusters",), lambda db: db.clusters()) == ["a"]
    with memory_only():
        assert reader.view(("clusters",), lambda db: db.clusters()) == ["a"]
        with pytest.raises(WouldBlock):
            reader.memo(("other",), lambda: 1)
    reader.close()


def test_a_failed_connection_is_dropped_and_the_next_one_opened(tmp_path: Path) -> None:
    path = _store(tmp_path)
    opened: list[SqlStore] = []

    def opener() -> SqlStore:
        opened.append(open_store(path, readonly=True))
        return opened[-1]

    reader = StoreReader(opener, refresh=0.0)
    assert reader.healthy() is None
    opened[-1].close()  # the connection dies under the reader
    problem = reader.healthy()
    assert problem is not None and path in problem
    assert reader.healthy() is None  # a fresh connection
    assert len(opened) == 2
    reader.close()


def test_latest_is_each_clusters_newest_scan_ties_to_the_higher_id(tmp_path: Path) -> None:
    path = str(tmp_path / "h.sqlite")
    writer = open_store(path)
    ids = {
        (c, d): int(writer.save(record(Day(cluster=c, when=days_ago(d)))))
        for c in ("b", "a", "c")
        for d in (2, 0, 1)
    }
    same_time = days_ago(0)
    tie = [int(writer.save(record(Day(cluster="d", when=same_time)))) for _ in range(2)]
    latest = writer.latest()
    assert [info.cluster for info, _ in latest] == ["a", "b", "c", "d"]
    assert [int(info.id) for info, _ in latest] == [ids[("a", 0)], ids[("b", 0)], ids[("c", 0)],
                                                    tie[1]]  # fmt: skip
    assert all("rollup" in summary for _, summary in latest)
    writer.close()
