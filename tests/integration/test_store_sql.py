"""The SQL store on a real SQLite file and a real PostgreSQL server (tests/services/start.sh
starts one on loopback and writes its URL to .services/postgres.url)."""

from __future__ import annotations

import multiprocessing
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from plumbob.drift.attributes import NodeAttributes
from plumbob.report.model import Finding, Severity, Subject
from plumbob.store import (
    ScanId,
    ScanRecord,
    SqlStore,
    StoreError,
    default_sqlite_path,
    migrations,
    open_store,
)
from tests.conftest import service_url

WRITERS = 4
SCANS_PER_WRITER = 8


def _pg_admin_url() -> str:
    return service_url("postgres")


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database of each kind."""
    if request.param == "sqlite":
        yield str(tmp_path / "history.sqlite")
        return
    import psycopg

    admin = _pg_admin_url()
    name = f"plumbob_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base, _, _ = admin.rpartition("/")
    yield f"{base}/{name}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


def _record(cluster: str, n: int, *, when: str = "2026-11-30T08:00:00Z") -> ScanRecord:
    nodes = tuple(
        NodeAttributes(
            node=f"{cluster}-node-{i}",
            pool="gpu",
            gpu=True,
            kernel="6.1.0-28",
            nvidia_driver=f"550.{n}.{i}",
            taints=["nvidia.com/gpu:NoSchedule"],
            labels={"team": "ml"},
        )
        for i in range(3)
    )
    findings = tuple(
        Finding(
            check="drift:nvidia_driver",
            severity=Severity.HIGH,
            category="drift",
            title="Node differs from its pool",
            cluster=cluster,
            subject=Subject(kind="Node", name=f"{cluster}-node-{i}", path="nvidia_driver"),
            message=f"scan {n} finding {i}",
            fingerprint=f"{cluster}-{n}-{i}",
            evidence={"value": f"550.{n}.{i}"},
        )
        for i in range(2)
    )
    return ScanRecord(
        cluster=cluster,
        scanned_at=when,
        digest=f"digest-{cluster}-{n}",
        plumbob_version="0.1.0",
        nodes=nodes,
        findings=findings,
        captured_at=when,
        summary={"inventory": {"nodes": 3}},
    )


def test_migrations_are_named_ordered_and_applied_once(store_url: str) -> None:
    names = [name for name, _ in migrations()]
    assert names == sorted(names) and names[0] == "0001_initial"
    store = open_store(store_url)
    try:
        assert store.applied_migrations() == names
        assert store.migrate() == []  # nothing left to apply
    finally:
        store.close()
    again = open_store(store_url)
    try:
        assert again.applied_migrations() == names
    finally:
        again.close()


def test_save_load_and_list(store_url: str) -> None:
    store = open_store(store_url)
    try:
        first = store.save(_record("east", 1, when="2026-11-20T08:00:00Z"))
        second = store.save(_record("east", 2, when="2026-11-30T08:00:00Z"))
        other = store.save(_record("west", 1, when="2026-11-25T08:00:00Z"))
        assert len({first, second, other}) == 3
        assert [s.id for s in store.scans()] == [second, other, first]
        assert [s.id for s in store.scans(cluster="east")] == [second, first]
        assert [s.id for s in store.scans(cluster="east", before="2026-11-25T00:00:00Z")] == [first]
        assert store.clusters() == ["east", "west"]
        loaded = store.load(second)
        original = _record("east", 2, when="2026-11-30T08:00:00Z")
        assert loaded.nodes == original.nodes
        assert loaded.findings == original.findings
        assert loaded.summary == {"inventory": {"nodes": 3}}
        assert loaded.info.nodes == 3 and loaded.info.findings == 2
        assert loaded.info.digest == "digest-east-2"
        with pytest.raises(StoreError, match="no scan with id 999"):
            store.load(ScanId(999))
    finally:
        store.close()


def _write_many(url: str, writer: int, start: Any) -> None:
    start.wait(timeout=60)  # all writers go at once, so they really overlap
    store = open_store(url)  # every writer also races to migrate a fresh database
    try:
        for n in range(SCANS_PER_WRITER):
            store.save(_record(f"cluster-{writer}", n))
            time.sleep(0.002)  # let the others in between, so transactions interleave
    finally:
        store.close()


def _assert_all_present(url: str) -> None:
    store = open_store(url)
    try:
        scans = store.scans(limit=1000)
        assert len(scans) == WRITERS * SCANS_PER_WRITER
        assert len({s.id for s in scans}) == len(scans)
        for w in range(WRITERS):
            mine = store.scans(cluster=f"cluster-{w}", limit=1000)
            assert sorted(s.digest for s in mine) == sorted(
                f"digest-cluster-{w}-{n}" for n in range(SCANS_PER_WRITER)
            )
        for s in scans:
            whole = store.load(s.id)
            assert len(whole.nodes) == 3 and len(whole.findings) == 2
        assert store.applied_migrations() == [name for name, _ in migrations()]
    finally:
        store.close()


def test_concurrent_writer_processes_lose_nothing(store_url: str) -> None:
    ctx = multiprocessing.get_context("fork")
    start = ctx.Barrier(WRITERS)
    procs = [ctx.Process(target=_write_many, args=(store_url, w, start)) for w in range(WRITERS)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=120)
    assert [p.exitcode for p in procs] == [0] * WRITERS
    _assert_all_present(store_url)


def test_concurrent_writer_threads_lose_nothing(store_url: str) -> None:
    errors: list[BaseException] = []
    start = threading.Barrier(WRITERS)

    def run(w: int) -> None:
        try:
            _write_many(store_url, w, start)
        except BaseException as exc:  # reported below, with the thread's error
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(w,)) for w in range(WRITERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    _assert_all_present(store_url)


def test_bad_urls_get_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="unsupported store URL"):
        open_store("mysql://root@localhost/x")
    with pytest.raises(StoreError, match=r"postgresql://u:\*\*\*@127.0.0.1:1/db: cannot connect"):
        open_store("postgresql://u:secret@127.0.0.1:1/db")
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(StoreError, match="cannot open SQLite database"):
        open_store(str(blocker / "sub" / "history.sqlite"))


def test_sqlite_urls_and_default_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    assert default_sqlite_path() == tmp_path / "data" / "plumbob" / "history.sqlite"
    store = open_store(None)
    assert isinstance(store, SqlStore) and store.where == str(default_sqlite_path())
    store.close()
    absolute = tmp_path / "abs.sqlite"
    store = open_store(f"sqlite:///{absolute}")
    store.close()
    assert absolute.is_file()


def test_readers_do_not_create_sqlite_files(tmp_path: Path) -> None:
    missing = tmp_path / "sub" / "typo.sqlite"
    with pytest.raises(StoreError, match="no scan history here yet"):
        open_store(str(missing), create=False)
    with pytest.raises(StoreError, match="no scan history here yet"):
        open_store(f"sqlite:///{missing}", create=False)
    assert not missing.parent.exists()
    open_store(str(missing)).close()  # a writer creates it (and its folder)
    reader = open_store(str(missing), create=False)
    try:
        assert reader.scans() == []
    finally:
        reader.close()
