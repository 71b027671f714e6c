"""Field paths to YAML positions: `spec.template.spec.containers[0].resources` in app.yaml is
line 23, column 11.

Objects keep only the line their document (or List item) starts at; a report that points at the
offending field (SARIF for code scanning) asks here. Each file is read again, once, cut into
documents as the reader cuts them (`yamlload.split_documents`) and composed with PyYAML's
composer, which keeps every node's line and column; JSON is YAML to it. Only when a format asks,
never during a scan. A file that is too large, gone or unreadable has no positions: the caller
falls back to the object's line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from plumbob.sources.yamlload import split_documents

MAX_FILE_BYTES = 16 * 1024 * 1024
"""Larger files are not composed again (a 1 GB `kubectl get -o json` List): objects in them are
located by their line only."""

_BASE = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_BASE):  # type: ignore[valid-type,misc,unused-ignore]
    """The safe loader without tag resolution: positions need no types (a quarter faster)."""

    def resolve(self, kind: type[yaml.Node], value: object, implicit: object) -> str:
        if kind is yaml.ScalarNode:
            return "tag:yaml.org,2002:str"
        return "tag:yaml.org,2002:seq" if kind is yaml.SequenceNode else "tag:yaml.org,2002:map"


_TOKEN = re.compile(r"([^.\[\]]+)|\[(\d+)\]|\[([^\]]*)\]")


@dataclass(frozen=True, slots=True)
class Position:
    """A 1-based line and column in a file, and how much of the field path was found there."""

    line: int
    column: int
    end_line: int | None
    """Where the key (or the object's first key) ends; None when the position is a list item
    or an object, whose extent is not a useful highlight."""
    end_column: int | None
    found: str
    """The part of the field path that exists in the file ("" for the object itself)."""
    exact: bool
    """Whether the whole path was found; otherwise the position is its deepest existing parent
    (a missing `spec.taints` points at `spec`)."""


@dataclass(slots=True)
class _Parsed:
    objects: list[yaml.MappingNode]
    """Every top-level object and every item of a `kind: List`, in file order."""
    offsets: list[int]
    """Lines before each object's document: its node lines count from there."""
    starts: list[int]
    """1-based start line of each object in the file."""


def parse_path(path: str) -> list[str | int]:
    """`a.b[0].c` -> ["a", "b", 0, "c"]; `metadata.labels[nvidia.com/gpu]` keeps the key."""
    out: list[str | int] = []
    for m in _TOKEN.finditer(path):
        key, index, quoted = m.groups()
        out.append(key if key is not None else int(index) if index is not None else quoted)
    return out


def _scalar(node: yaml.Node) -> str | None:
    return node.value if isinstance(node, yaml.ScalarNode) else None


def _get(node: yaml.Node, key: str) -> tuple[yaml.Node, yaml.Node] | None:
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            if _scalar(k) == key:
                return k, v
    return None


@dataclass(slots=True)
class FieldLocator:
    """Positions of fields in the files objects were read from; each file composed once."""

    max_bytes: int = MAX_FILE_BYTES
    _files: dict[str, _Parsed | None] = field(default_factory=dict)

    def locate(
        self,
        file: str,
        *,
        kind: str,
        name: str,
        namespace: str | None = None,
        line: int | None = None,
        path: str | None = None,
    ) -> Position | None:
        """Where `path` of the object `kind namespace/name` (that starts at `line`, when known)
        is in `file`; None when the file or the object cannot be found in it."""
        parsed = self._parsed(file)
        if parsed is None:
            return None
        at = _find(parsed, kind, name, namespace, line)
        if at is None:
            return None
        return _walk(parsed.objects[at], parsed.offsets[at], parse_path(path or ""))

    def _parsed(self, file: str) -> _Parsed | None:
        if file not in self._files:
            self._files[file] = _compose(file, self.max_bytes)
        return self._files[file]


def _compose(file: str, max_bytes: int) -> _Parsed | None:
    p = Path(file)
    try:
        if not p.is_file() or p.stat().st_size > max_bytes:
            return None
        text = p.read_bytes().decode("utf-8-sig")
    except (OSError, UnicodeDecodeError):
        return None
    objects: list[yaml.MappingNode] = []
    offsets: list[int] = []
    for chunk in split_documents(text):
        if chunk.separator is not None:
            continue
        try:
            node = yaml.compose(text[chunk.start : chunk.end], Loader=_Loader)
        except yaml.YAMLError:
            try:  # a chunk that ends its document with `...` and holds more after it
                node = next(yaml.compose_all(text[chunk.start : chunk.end], Loader=_Loader))
            except (yaml.YAMLError, StopIteration):
                continue
        if not isinstance(node, yaml.MappingNode):
            continue
        items = _get(node, "items")
        if items is not None and isinstance(items[1], yaml.SequenceNode) and _get(node, "kind"):
            found = [i for i in items[1].value if isinstance(i, yaml.MappingNode)]
        else:
            found = [node]
        objects.extend(found)
        offsets.extend([chunk.line - 1] * len(found))
    starts = [o.start_mark.line + 1 + off for o, off in zip(objects, offsets, strict=True)]
    return _Parsed(objects, offsets, starts)


def _identity(obj: yaml.MappingNode) -> tuple[str | None, str | None, str | None]:
    kind = _get(obj, "kind")
    meta = _get(obj, "metadata")
    name = _get(meta[1], "name") if meta else None
    namespace = _get(meta[1], "namespace") if meta else None
    return (
        _scalar(kind[1]) if kind else None,
        _scalar(name[1]) if name else None,
        _scalar(namespace[1]) if namespace else None,
    )


def _find(
    parsed: _Parsed, kind: str, name: str, namespace: str | None, line: int | None
) -> int | None:
    """The index of the object by kind and name (and namespace where the file gives one), the
    one nearest `line` when several match; else of the object that starts at or before `line`."""
    matches = []
    for i, obj in enumerate(parsed.objects):
        k, n, ns = _identity(obj)
        if k == kind and n == name and (ns is None or namespace is None or ns == namespace):
            matches.append(i)
    if matches:
        if line is None:
            return matches[0]
        return min(matches, key=lambda i: abs(parsed.starts[i] - line))
    if line is None:
        return None
    before = [i for i, start in enumerate(parsed.starts) if start <= line]
    return before[-1] if before else None


def _walk(obj: yaml.MappingNode, offset: int, path: list[str | int]) -> Position:
    anchor: yaml.Node = obj
    node: yaml.Node = obj
    found: list[str] = []
    exact = True
    for step in path:
        if isinstance(step, int) and isinstance(node, yaml.SequenceNode):
            if step >= len(node.value):
                exact = False
                break
            anchor = node = node.value[step]
            found.append(f"[{step}]")
            continue
        pair = _get(node, str(step))
        if pair is None:
            exact = False
            break
        anchor, node = pair
        found.append(f".{step}" if found else str(step))
    start, end = anchor.start_mark, anchor.end_mark
    scalar = isinstance(anchor, yaml.ScalarNode)
    return Position(
        line=start.line + 1 + offset,
        column=start.column + 1,
        end_line=end.line + 1 + offset if scalar else None,
        end_column=end.column + 1 if scalar else None,
        found="".join(found),
        exact=exact,
    )
