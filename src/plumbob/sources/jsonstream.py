"""Read the items of a big JSON List a block at a time.

A `kubectl get pods -A -o json` of a large cluster is hundreds of megabytes; held whole next to
the objects decoded from it, it would double plumbob's memory. This reader keeps at most a block
or two of the file: it cuts the text between items, checks each cut by letting msgspec split the
items before it (a cut inside an item cannot parse), and hands those items on.

Only the common layouts stream: an object whose array (`items` of a List, `objects` of a
plumbob snapshot) comes after at most a few members with string, null or flat-object values
(`apiVersion`, `kind`, `metadata` of kubectl and client libraries and cluster-info dumps;
`cluster` and `capturedAt` of a snapshot). Members after the array (a snapshot's `discovery`
and `gpuMetrics`) are decoded with the last batch. Anything else, or any text that stops parsing
part-way, raises `NotStreamable` and the caller reads the file whole, which also gives the
precise error message.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, Protocol

import msgspec

BLOCK = 2 * 1024 * 1024
"""Bytes read at a time."""
MAX_BLOCKS_WITHOUT_CUT = 4
"""A List whose items cannot be told apart within this many blocks is read whole instead (one
item that big, or items that do not start alike), which bounds the work spent looking."""
_MAX_TRIES = 8

_MEMBER = rb'"[A-Za-z]+"\s*:\s*(?:"[^"\\]*"|null|\{[^{}]*\})\s*,\s*'
_HEADS = {
    key: re.compile(rb"\s*\{\s*((?:" + _MEMBER + rb')*)"' + key.encode() + rb'"\s*:\s*\[\s*')
    for key in ("items", "objects")
}
"""The object's start up to its array's first item, e.g.
`{"apiVersion":"v1","kind":"List","metadata":{"resourceVersion":""},"items":[`."""
_PAIR = re.compile(rb'"(apiVersion|kind)"\s*:\s*"([^"\\]*)"')
_LEAD = re.compile(rb'\{\s*"[^"\\]*"')
"""An item's opening brace and first key: later items start with the same bytes (kubectl
indents every item alike), which finds item boundaries without tokenizing twice."""
_WHITESPACE = b" \t\r\n"


class Readable(Protocol):
    def read(self, size: int, /) -> bytes: ...


class NotStreamable(Exception):
    """The text is not a List this reader can take apart; read the file whole instead."""


class _Tail(msgspec.Struct, rename="camel"):
    api_version: str = ""
    kind: str = ""
    items: list[msgspec.Raw] = []


_tail = msgspec.json.Decoder(_Tail)
_raw_items = msgspec.json.Decoder(list[msgspec.Raw])


class ListStream:
    """The items of one JSON List (or the array under `key`), in batches. `api_version` and
    `kind` are those of the List (from before the items, or, as kubectl writes them, from after
    the last batch). `head` is the text before the array, made a whole object
    (`{"apiVersion":...,"items":[]}`); once the batches are read, `tail` holds the members after
    the array, decoded by `tail_decoder` (whose type has the array under `key` too)."""

    def __init__(
        self,
        stream: Readable,
        first: bytes,
        block: int = BLOCK,
        *,
        key: str = "items",
        tail_decoder: msgspec.json.Decoder[Any] = _tail,
    ) -> None:
        head = _HEADS[key].match(first)
        if head is None:
            raise NotStreamable(f"not an object with its {key} first")
        pairs = {k.decode(): v.decode() for k, v in _PAIR.findall(head.group(1))}
        self.api_version = pairs.get("apiVersion", "")
        self.kind = pairs.get("kind", "")
        self.head = b"{" + head.group(1) + b'"' + key.encode() + b'":[]}'
        self.tail: Any = None
        self._key = key.encode()
        self._tail_decoder = tail_decoder
        self._stream = stream
        self._block = block
        self._buf = first[head.end() :]
        lead = _LEAD.match(self._buf)
        if lead is None:
            raise NotStreamable("the List's items are not objects")
        self._lead = lead.group(0)

    def batches(self) -> Iterator[list[msgspec.Raw]]:
        """Items in file order, a block's worth at a time. Raises NotStreamable."""
        while True:
            chunk = self._stream.read(self._block)
            if not chunk:
                break
            self._buf += chunk
            cut = self._last_cut()
            if cut is not None:
                end, items = cut
                self._buf = self._buf[end + 1 :]
                yield items
            elif len(self._buf) > MAX_BLOCKS_WITHOUT_CUT * self._block:
                raise NotStreamable("no boundary between items found")
        try:
            tail = self._tail_decoder.decode(b'{"' + self._key + b'":[' + self._buf)
        except msgspec.DecodeError as exc:  # includes ValidationError
            raise NotStreamable(str(exc)) from None
        self._buf = b""
        self.tail = tail
        self.api_version = self.api_version or getattr(tail, "api_version", "")
        self.kind = self.kind or getattr(tail, "kind", "")
        yield getattr(tail, self._key.decode())

    def _last_cut(self) -> tuple[int, list[msgspec.Raw]] | None:
        """The last comma in the buffer that separates two items, with the items before it."""
        buf = self._buf
        start = len(buf)
        for _ in range(_MAX_TRIES):
            start = buf.rfind(self._lead, 0, start)
            if start <= 0:
                return None
            comma = _skip_back(buf, start - 1)
            if comma < 0 or buf[comma] != ord(","):
                continue
            close = _skip_back(buf, comma - 1)
            if close < 0 or buf[close] != ord("}"):
                continue
            try:
                return comma, _raw_items.decode(b"[" + buf[:comma] + b"]")
            except msgspec.DecodeError:
                continue  # the comma was inside an item (a nested list of objects)
        return None


def _skip_back(buf: bytes, i: int) -> int:
    while i >= 0 and buf[i] in _WHITESPACE:
        i -= 1
    return i
