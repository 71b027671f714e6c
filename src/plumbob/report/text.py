"""Text from input made safe to show and to store: control characters, undecodable bytes.

Names, labels, images, file names and messages quoting them come from files and servers other
people control. On a terminal a raw ESC, CSI (``\\x9b``) or OSC sequence can clear the screen,
retitle the window, forge a hyperlink or hide the lines after it, so it is shown as the
characters ``\\x1b`` instead (what `cat -v` and `less` do). A file name or argument that was not
UTF-8 arrives from Python as lone surrogates (PEP 383); they cannot be encoded as UTF-8 at all,
so JSON, the store and the terminal get the undecodable byte written as ``\\xff``.
"""

from __future__ import annotations

import re
from typing import Any

import msgspec

_UNSAFE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)
"""C0 controls but tab and newline, DEL, C1 controls, line/paragraph separators, bidirectional
overrides and isolates (which reorder what follows them on screen), surrogates."""

_UNSAFE_LINE = re.compile(_UNSAFE.pattern[:-1] + "\t\n]")
"""The same and tab and newline: for one value shown on one line."""

_SURROGATE = re.compile("[\ud800-\udfff]")


def _escaped(match: re.Match[str]) -> str:
    ch = match.group()
    code = ord(ch)
    if 0xDC80 <= code <= 0xDCFF:  # a byte that was not UTF-8 (surrogateescape)
        return f"\\x{code - 0xDC00:02x}"
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def shown(text: str) -> str:
    """`text` with every character a terminal would act on written as an escape; newlines
    and tabs kept (for text that is laid out over lines)."""
    return _UNSAFE.sub(_escaped, text) if _UNSAFE.search(text) else text


def shown_line(text: str) -> str:
    """`text` as one line: as `shown`, newlines and tabs escaped too (a name, a path)."""
    return _UNSAFE_LINE.sub(_escaped, text) if _UNSAFE_LINE.search(text) else text


def encodable(text: str) -> str:
    """`text` with undecodable bytes (lone surrogates) written as ``\\xff``, so it can be
    encoded as UTF-8; everything else kept."""
    return _SURROGATE.sub(_escaped, text) if _SURROGATE.search(text) else text


def encodable_tree(value: Any, depth: int = 0) -> Any:
    """`value` (plain data) with every string, keys included, made `encodable`."""
    if isinstance(value, str):
        return encodable(value)
    if depth > 200:
        return value
    if isinstance(value, dict):
        return {encodable_tree(k): encodable_tree(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        return [encodable_tree(v, depth + 1) for v in value]
    return value


MAX_TEXT = 1000
"""Characters of one value from input kept in a finding (its message, each evidence string):
a 20 MB label value is a finding about that label, not 20 MB in every report, the store and
a terminal table that has to wrap it."""


def clipped(text: str, limit: int = MAX_TEXT) -> str:
    """`text`, or its first `limit` characters and how many more there were."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... ({len(text) - limit} more characters)"


def clipped_tree(value: Any, depth: int = 0) -> Any:
    """`value` (plain data, such as evidence) with every string `clipped`."""
    if isinstance(value, str):
        return clipped(value)
    if depth > 32:
        return value
    if isinstance(value, dict):
        return {k: clipped_tree(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clipped_tree(v, depth + 1) for v in value]
    return value


def json_bytes(value: Any) -> bytes:
    """`msgspec.json.encode(value)`, with undecodable bytes in any string written as
    ``\\xff`` text rather than failing the whole document; C1 controls, which JSON lets
    through raw, written as ``\\u009b`` escapes so the document is safe to print."""
    try:
        data = msgspec.json.encode(value)
    except UnicodeEncodeError:
        data = msgspec.json.encode(encodable_tree(msgspec.to_builtins(value)))
    return escape_c1(data)


_C1_UTF8 = re.compile(b"\xc2([\x80-\x9f])|\xe2\x80([\xa8\xa9\xaa-\xae])|\xe2\x81([\xa6-\xa9])")


def escape_c1(data: bytes) -> bytes:
    """UTF-8 JSON (or any text where a backslash-u escape means the character) with C1
    controls, line separators and bidirectional controls as ``\\u`` escapes. In JSON they
    can only occur inside strings, where the escape is the same character."""
    if b"\xc2" not in data and b"\xe2" not in data:
        return data
    return _C1_UTF8.sub(lambda m: f"\\u{ord(m.group().decode()):04x}".encode(), data)


__all__ = [
    "MAX_TEXT",
    "clipped",
    "clipped_tree",
    "encodable",
    "encodable_tree",
    "escape_c1",
    "json_bytes",
    "shown",
    "shown_line",
]
