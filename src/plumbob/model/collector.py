"""Python's cyclic garbage collector, paused while plumbob builds big trees of objects."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while objects are built: a source decoding a
    snapshot, the engine's checks building their indexes over it.

    Decoded objects and indexes are trees (no reference cycles), so collecting finds nothing;
    but each collection walks the container objects allocated since the last one, and a big
    snapshot allocates millions of them: with the collector running, loading 150,000 pods takes
    twice as long, and its checks a tenth longer. On the way out the objects built are moved
    to the permanent generation (`gc.freeze`) so later collections skip them too; reference
    counting still frees them as usual. https://docs.python.org/3/library/gc.html#gc.freeze"""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if was_enabled:
            gc.enable()
