"""Reading an HTTP answer's body from a server plumbob does not control (the API server,
Prometheus): bounded in time and in size, gzip included.

A read timeout bounds the wait for each next byte, so a server that drips one byte a second
never trips it and a list page could take days; here one deadline covers the whole body, and
when it passes the connection is shut from a timer, which ends a read blocked in the socket. The
size cap (sources/limits.py) counts the bytes after gzip is undone, as they arrive: urllib3
inflates at most the asked-for amount per read, so a few MiB of gzip that would inflate to
gigabytes stop at the cap instead of filling memory first."""

from __future__ import annotations

import threading
from typing import Any

from plumbob.sources.limits import max_input_bytes, too_large

_CHUNK = 1 << 20


class AnswerTooLarge(ConnectionError):
    """The answer's body passed the input cap; not worth a retry."""


class AnswerTooSlow(TimeoutError):
    """The answer's body did not arrive whole before the request's deadline."""


def read_body(response: Any, seconds: float, limit: int | None = None) -> bytes:
    """The body of a urllib3 response made with `preload_content=False`, decoded (gzip), within
    `seconds` and `limit` bytes (default: the input cap). The connection is released, or
    closed when the body was not read to its end."""
    limit = max_input_bytes() if limit is None else limit
    expired = threading.Event()

    def stop() -> None:
        expired.set()
        try:
            response.shutdown()
        except (OSError, ValueError, RuntimeError):
            response.close()

    timer = threading.Timer(max(0.0, seconds), stop)
    timer.daemon = True
    timer.start()
    chunks: list[bytes] = []
    total = 0
    whole = False
    try:
        while True:
            try:
                chunk = response.read(_CHUNK)
            except Exception:
                if expired.is_set():
                    break
                raise
            if not chunk:
                whole = not expired.is_set()
                break
            total += len(chunk)
            if total > limit:
                raise AnswerTooLarge(f"answer {too_large()}")
            chunks.append(chunk)
    finally:
        timer.cancel()
        if whole:
            response.release_conn()
        else:
            response.close()
            response.release_conn()
    if not whole:
        raise AnswerTooSlow(
            f"the answer did not arrive whole within {seconds:g} s "
            f"({total} bytes by then): the server is too slow or stalled"
        )
    return b"".join(chunks)


__all__ = ["AnswerTooLarge", "AnswerTooSlow", "read_body"]
