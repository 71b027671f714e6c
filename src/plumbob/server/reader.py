"""The dashboard's access to the store: a small pool of read-only connections, and views kept
until the store changes.

The store is append-only and every scan is written in one transaction, so a view computed
from it stays true until a scan is added or removed; `SqlStore.revision` (highest id, count)
says when that happened. It is asked at most once per `refresh` seconds, so a page under load
costs no query at all, and a new scan shows within `refresh` seconds.

A connection that fails is closed and forgotten; the next request opens a fresh one, so the
dashboard recovers by itself when a database that was down comes back.
"""

from __future__ import annotations

import contextvars
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from plumbob.store import SqlStore, StoreError

T = TypeVar("T")

MAX_CONNECTIONS = 4
"""Database connections at most: page work is CPU-bound once the data is read, and the
machine the dashboard runs on rarely has more cores than this to spare."""
MAX_VIEWS = 256
"""Computed views kept (fleet, drift, one per cluster page, per diff)."""

_MEMORY_ONLY = contextvars.ContextVar("memory_only", default=False)


class WouldBlock(Exception):
    """Raised, in `memory_only()`, where answering needs the store (or building a view)."""


@contextmanager
def memory_only() -> Iterator[None]:
    """Answer from what is kept, or raise WouldBlock: the server's event loop tries a request
    this way first, and hands it to a worker thread only when the store must be read, so a
    page kept in memory never waits for a thread."""
    token = _MEMORY_ONLY.set(True)
    try:
        yield
    finally:
        _MEMORY_ONLY.reset(token)


class StoreReader:
    """Opens connections with `opener` (`open_store(url, readonly=True)`) as requests need them,
    at most `MAX_CONNECTIONS` at once."""

    def __init__(self, opener: Callable[[], SqlStore], refresh: float = 5.0) -> None:
        self._opener = opener
        self._refresh = refresh
        self._idle: list[SqlStore] = []
        self._slots = threading.BoundedSemaphore(MAX_CONNECTIONS)
        self._lock = threading.Lock()
        self._views: OrderedDict[tuple[object, ...], tuple[tuple[int, int], object]] = OrderedDict()
        self._revision: tuple[int, int] | None = None
        self._checked = 0.0
        self._asking = False
        self._building: dict[tuple[object, ...], threading.Lock] = {}

    @contextmanager
    def store(self) -> Iterator[SqlStore]:
        """A connection for one request; closed instead of returned when it failed."""
        with self._slots:
            with self._lock:
                db = self._idle.pop() if self._idle else None
            if db is None:
                db = self._opener()
            try:
                yield db
            except StoreError:
                db.close()
                with self._lock:
                    self._revision = None  # ask again once a connection works
                raise
            with self._lock:
                self._idle.append(db)

    def revision(self) -> tuple[int, int]:
        """The store's revision, asked at most once per `refresh` seconds, by one request at
        a time: while one asks, the others go on with the revision known."""
        now = time.monotonic()
        with self._lock:
            known = self._revision
            if known is not None and (now - self._checked < self._refresh or self._asking):
                return known
            if _MEMORY_ONLY.get():
                raise WouldBlock
            self._asking = True
        try:
            with self.store() as db:
                revision = db.revision()
        finally:
            with self._lock:
                self._asking = False
        with self._lock:
            self._revision, self._checked = revision, now
        return revision

    def view(self, key: tuple[object, ...], build: Callable[[SqlStore], T]) -> T:
        """`build(store)` computed once per store revision and key."""

        def read() -> T:
            with self.store() as db:
                return build(db)

        return self.memo(key, read)

    def memo(self, key: tuple[object, ...], build: Callable[[], T]) -> T:
        """`build()` computed once per store revision and key: what is made from views (a
        rendered page) without reading the store again."""
        revision = self.revision()
        with self._lock:
            hit = self._views.get(key)
            if hit is not None and hit[0] == revision:
                self._views.move_to_end(key)
                return hit[1]  # type: ignore[return-value]
        if _MEMORY_ONLY.get():
            raise WouldBlock
        with self._lock:
            building = self._building.setdefault(key, threading.Lock())
        with building:  # one request builds; the others wait for it and take its result
            with self._lock:
                hit = self._views.get(key)
                if hit is not None and hit[0] == revision:
                    return hit[1]  # type: ignore[return-value]
            value = build()
            with self._lock:
                self._views[key] = (revision, value)
                while len(self._views) > MAX_VIEWS:
                    self._views.popitem(last=False)
                self._building.pop(key, None)
        return value

    def healthy(self) -> str | None:
        """None when the store answers now (never from memory), else why not."""
        try:
            with self.store() as db:
                db.ping()
        except StoreError as exc:
            return str(exc)
        return None

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for db in idle:
            db.close()
