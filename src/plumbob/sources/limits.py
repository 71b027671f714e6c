"""How much plumbob reads of one input, and the setting that raises it.

A file's decompressed content, an API server answer and a Prometheus answer are each read up
to `max_input_bytes()` (2 GiB unless `PLUMBOB_MAX_INPUT_MB` says otherwise), counted as the
bytes arrive, gzip included: a small compressed bomb stops at the cap instead of filling
memory first. The cap is per input; an input past it is skipped (a file) or reported not
visible (a kind, Prometheus) with the setting named, and everything else is read."""

from __future__ import annotations

import os
import stat
import zlib
from pathlib import Path

DEFAULT_MAX_INPUT_MB = 2048
LIMIT_SETTING = "PLUMBOB_MAX_INPUT_MB"
"""Environment variable holding the cap in MiB (a positive whole number)."""


class TooLarge(ValueError):
    """An input past the cap; the message says the cap and how to raise it."""


def max_input_bytes() -> int:
    """The cap in bytes: `PLUMBOB_MAX_INPUT_MB` MiB when set to a positive number, else 2 GiB."""
    raw = os.environ.get(LIMIT_SETTING, "").strip()
    mib = int(raw) if raw.isascii() and raw.isdigit() and int(raw) > 0 else DEFAULT_MAX_INPUT_MB
    return mib * 1024 * 1024


def too_large() -> TooLarge:
    mib = max_input_bytes() // (1024 * 1024)
    return TooLarge(f"larger than {mib} MiB (raise the limit with {LIMIT_SETTING}=MiB)")


def special_file(path: Path) -> str | None:
    """What `path` is when it is not a regular file (after symlinks): "a FIFO", "a socket",
    "a device"; None for a regular file or one that cannot be looked at (reading it says
    why). A FIFO never ends and a device such as /dev/zero never ends either: neither is read."""
    try:
        mode = path.stat().st_mode
    except (OSError, ValueError):
        return None
    if stat.S_ISREG(mode) or stat.S_ISDIR(mode):
        return None
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "not a regular file"


def gunzip(data: bytes, limit: int | None = None) -> bytes:
    """Decompress gzip `data` (concatenated members too), stopping with `TooLarge` as soon as
    the output passes `limit` (default: the cap): never more than the cap plus one block in
    memory. Raises zlib.error/EOFError on a corrupt or truncated stream."""
    limit = max_input_bytes() if limit is None else limit
    out = bytearray()
    view = memoryview(data)
    while view:
        inflater = zlib.decompressobj(31)
        chunk = inflater.decompress(view, 1 << 20)
        while True:
            out += chunk
            if len(out) > limit:
                raise too_large()
            if not inflater.unconsumed_tail:
                break
            chunk = inflater.decompress(inflater.unconsumed_tail, 1 << 20)
        rest = inflater.flush()
        out += rest
        if len(out) > limit:
            raise too_large()
        if not inflater.eof:
            raise EOFError("compressed file ended before the end-of-stream marker was reached")
        view = memoryview(inflater.unused_data) if inflater.unused_data else memoryview(b"")
        if view[:2].tobytes() != b"\x1f\x8b":
            break  # trailing garbage after the last member: ignored, as gzip(1) does
    return bytes(out)


__all__ = [
    "DEFAULT_MAX_INPUT_MB",
    "LIMIT_SETTING",
    "TooLarge",
    "gunzip",
    "max_input_bytes",
    "special_file",
    "too_large",
]
