"""Read a long list of manifest files on several cores.

A folder of thousands of rendered manifests is read file by file: parsing the YAML and decoding
the objects is most of a scan's time, and one core does it all. Here the parent process reads
the first share of the files itself while forked helper processes read the other shares and
send back what they decoded (objects and diagnostics, pickled) through a pipe. Results come out
in file order, so a scan reports the same findings and messages either way.

Helpers are only forked where fork exists (Linux, macOS), for lists long enough to repay it,
on as many cores as this process may use, and while this process runs no other thread: a fork
copies a lock another thread holds (a progress bar's, writing to the terminal) already taken,
and a helper that wanted it would wait forever. (Progress bars run in terminals; CI and
`--quiet` runs have none.) A helper that fails in any way (killed, out of memory, a result that
cannot be unpickled) costs nothing but time: the parent reads its share itself.
"""

from __future__ import annotations

import os
import pickle
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

PARALLEL_FROM = 400
"""Files from which helpers are forked; below it a fork costs more than it saves."""
MAX_HELPERS = 7

Result = TypeVar("Result")


def usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not Linux
        return os.cpu_count() or 1


def fork_is_safe() -> bool:
    return hasattr(os, "fork") and threading.active_count() == 1


def read_in_order(
    files: Sequence[Path],
    read: Callable[[Path], Result],
    diagnostics: list[Any],
) -> Iterator[tuple[Path, Result]]:
    """`(file, read(file))` for every file, in order. `read` appends its problems to
    `diagnostics`; a helper's problems are appended when its files' results are yielded."""
    helpers = min(usable_cores() - 1, MAX_HELPERS)
    if helpers < 1 or len(files) < PARALLEL_FROM or not fork_is_safe():
        for file in files:
            yield file, read(file)
        return
    # The first file is read here first: whatever reading imports lazily is imported once,
    # before any fork.
    yield files[0], read(files[0])
    rest = files[1:]
    size = -(-len(rest) // (helpers + 1))
    shares = [rest[i : i + size] for i in range(0, len(rest), size)]
    forked = [_fork(share, read, diagnostics) for share in shares[1:]]
    for file in shares[0]:
        yield file, read(file)
    for share, helper in zip(shares[1:], forked, strict=True):
        received = _collect(helper, len(share))
        if received is None:  # the helper failed: read its share here
            for file in share:
                yield file, read(file)
            continue
        results, problems = received
        diagnostics.extend(problems)
        yield from zip(share, results, strict=True)


def _fork(
    share: Sequence[Path], read: Callable[[Path], Any], diagnostics: list[Any]
) -> tuple[int, int] | None:
    """Fork a helper reading `share`; (pid, read end of its pipe), or None if it cannot."""
    try:
        out, into = os.pipe()
        pid = os.fork()
    except OSError:
        return None
    if pid:
        os.close(into)
        return pid, out
    # the helper: read, send, and leave without running the parent's exit handlers
    status = 1
    try:
        os.close(out)
        start = len(diagnostics)
        results = [read(file) for file in share]
        payload = pickle.dumps((results, diagnostics[start:]), protocol=pickle.HIGHEST_PROTOCOL)
        with os.fdopen(into, "wb") as pipe:
            pipe.write(payload)
        status = 0
    finally:
        os._exit(status)


def _collect(helper: tuple[int, int] | None, files: int) -> tuple[list[Any], list[Any]] | None:
    """The helper's results (one per file) and problems; None when it failed."""
    if helper is None:
        return None
    pid, out = helper
    try:
        with os.fdopen(out, "rb") as pipe:
            payload = pipe.read()
    except OSError:
        payload = b""
    try:
        _, status = os.waitpid(pid, 0)
    except ChildProcessError:
        status = 1
    if status != 0 or not payload:
        return None
    try:
        results, problems = pickle.loads(payload)
    except Exception:
        return None
    if not isinstance(results, list) or len(results) != files or not isinstance(problems, list):
        return None
    return results, problems
