"""Safe, bounded YAML loading: libyaml's C parser with the safe constructor, line numbers kept,
and aliases checked so a few bytes of anchors cannot expand into gigabytes ("billion laughs")."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import yaml

try:
    _Loader: type[yaml.SafeLoader] = yaml.CSafeLoader  # type: ignore[assignment,unused-ignore]
except AttributeError:  # PyYAML built without libyaml
    _Loader = yaml.SafeLoader

MAX_EXPANDED_NODES = 5_000_000
"""A document whose aliases would expand past this many nodes is refused."""
MAX_DEPTH = 200
"""Deeper nesting than any Kubernetes object needs is refused (protects recursion)."""


class YamlError(ValueError):
    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.line = line


@dataclass(frozen=True, slots=True)
class Document:
    index: int
    line: int
    data: Any
    item_lines: tuple[int, ...] = ()
    """For `kind: List` documents, the line of each item."""


def _items_lines(node: yaml.Node) -> tuple[int, ...]:
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if (
                isinstance(key, yaml.ScalarNode)
                and key.value == "items"
                and isinstance(value, yaml.SequenceNode)
            ):
                return tuple(item.start_mark.line + 1 for item in value.value)
    return ()


def _has_alias(node: yaml.Node, depth: int = 0) -> bool:
    """Whether a composed tree shares nodes (aliases); also bounds depth."""
    if depth > MAX_DEPTH:
        raise YamlError(f"nested deeper than {MAX_DEPTH} levels", node.start_mark.line + 1)
    seen: set[int] = set()
    stack: list[tuple[yaml.Node, int]] = [(node, depth)]
    while stack:
        current, d = stack.pop()
        if d > MAX_DEPTH:
            raise YamlError(f"nested deeper than {MAX_DEPTH} levels", current.start_mark.line + 1)
        if id(current) in seen:
            return True
        seen.add(id(current))
        if isinstance(current, yaml.SequenceNode):
            stack.extend((child, d + 1) for child in current.value)
        elif isinstance(current, yaml.MappingNode):
            for k, v in current.value:
                stack.append((k, d + 1))
                stack.append((v, d + 1))
    return False


def _expanded_size(node: yaml.Node, line: int) -> int:
    """Nodes the document would have with every alias expanded, computed without expanding."""
    memo: dict[int, int] = {}
    on_path: set[int] = set()

    def size(n: yaml.Node) -> int:
        key = id(n)
        if key in memo:
            return memo[key]
        if key in on_path:
            raise YamlError("recursive alias (a node contains itself)", line)
        on_path.add(key)
        total = 1
        if isinstance(n, yaml.SequenceNode):
            total += sum(size(c) for c in n.value)
        elif isinstance(n, yaml.MappingNode):
            total += sum(size(k) + size(v) for k, v in n.value)
        on_path.discard(key)
        memo[key] = total
        if total > MAX_EXPANDED_NODES:
            raise YamlError(
                f"aliases expand to more than {MAX_EXPANDED_NODES:,} nodes (alias bomb)", line
            )
        return total

    return size(node)


def load_documents(text: str | bytes) -> Iterator[Document]:
    """Yield each document with its first line. Raises YamlError at the first broken document;
    documents before it have been yielded."""
    loader = _Loader(text)
    index = 0
    # An alias is written `*name`: text without a `*` has none, and skipping the walk over
    # every node that looks for them makes reading manifests a third faster.
    may_alias = (b"*" in text) if isinstance(text, bytes) else ("*" in text)
    try:
        while True:
            try:
                if not loader.check_node():
                    break
                node = loader.get_node()
            except yaml.MarkedYAMLError as exc:
                mark = exc.problem_mark or exc.context_mark
                line = mark.line + 1 if mark else None
                problem = exc.problem or exc.context or "invalid YAML"
                raise YamlError(f"invalid YAML: {problem}", line) from None
            except yaml.YAMLError as exc:
                raise YamlError(f"invalid YAML: {exc}") from None
            except RecursionError:
                raise YamlError(f"nested deeper than {MAX_DEPTH} levels") from None
            if node is None:
                continue
            line = node.start_mark.line + 1
            try:
                if may_alias and _has_alias(node):
                    _expanded_size(node, line)
                data = loader.construct_document(node)
            except RecursionError:
                raise YamlError(f"nested deeper than {MAX_DEPTH} levels", line) from None
            except yaml.YAMLError as exc:
                raise YamlError(f"invalid YAML: {exc}", line) from None
            yield Document(index=index, line=line, data=data, item_lines=_items_lines(node))
            index += 1
    finally:
        loader.dispose()
