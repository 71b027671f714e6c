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
from dataclasses import dataclass
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


# ------------------------------------------------------------------ one bad item


_TOKEN = re.compile(rb'"(?:[^"\\]|\\.)*"|[\[\]{},]', re.DOTALL)
"""A JSON string (escapes inside skipped) or a bracket or comma: enough to find where each
item of an array ends without parsing the items."""
_LONE_SURROGATE = re.compile(
    rb"\\u[dD][89abAB][0-9a-fA-F]{2}(?!\\u[dD][c-fC-F][0-9a-fA-F]{2})|"
    rb"(?<![89abAB][0-9a-fA-F]{2})\\u[dD][c-fC-F][0-9a-fA-F]{2}"
)
_ANY = msgspec.json.Decoder()


@dataclass(frozen=True, slots=True)
class Pruned:
    """A List or snapshot rewritten without the items that cannot be decoded on their own."""

    text: bytes
    dropped: list[tuple[int, str]]
    """(index in the array, why) of each item left out."""


def item_problem(raw: bytes) -> str | None:
    """Why one item cannot be decoded (None when it can): named as a person would look for
    it, not as the parser stopped."""
    try:
        _ANY.decode(raw)
    except RecursionError:
        return "nested too deeply to be a Kubernetes object"
    except msgspec.DecodeError as exc:
        if (lone := _LONE_SURROGATE.search(raw)) is not None:
            return f"a lone surrogate escape ({lone.group().decode()}) is not a character"
        if "UTF-8" in str(exc):
            return "not UTF-8 text"
        return f"malformed JSON: {exc}"
    return None


def prune_items(data: bytes, key: str = "items") -> Pruned | None:
    """`data` with each item of its `key` array that cannot be decoded alone left out, so one
    deep, undecodable or broken item costs only itself; None when the text around the items
    is itself broken (the array cannot be found, or does not end)."""
    head = _HEADS[key].match(data)
    if head is None:
        return None
    start = head.end()
    items: list[tuple[int, int]] = []
    depth, item_start, end = 0, start, None
    for token in _TOKEN.finditer(data, start):
        ch = token.group()
        if ch[:1] == b'"':
            continue
        if ch in (b"[", b"{"):
            depth += 1
        elif ch in (b"]", b"}"):
            if depth == 0:
                if ch == b"]":
                    end = token.start()
                    if data[item_start:end].strip():
                        items.append((item_start, end))
                break
            depth -= 1
        elif depth == 0:  # a comma between items
            items.append((item_start, token.start()))
            item_start = token.end()
    if end is None:
        return None
    keep, dropped = [], []
    for index, (a, b) in enumerate(items):
        raw = data[a:b]
        why = item_problem(raw)
        if why is None:
            keep.append(raw)
        else:
            dropped.append((index, why))
    text = data[:start] + b",".join(keep) + data[end:]
    return Pruned(text, dropped)
