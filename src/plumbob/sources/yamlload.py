"""Safe, bounded YAML loading: libyaml's C parser with the safe constructor, line numbers kept,
and aliases checked so a few bytes of anchors cannot expand into gigabytes ("billion laughs")."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, ClassVar

import yaml

try:
    _Base: type[yaml.SafeLoader] = yaml.CSafeLoader  # type: ignore[assignment,unused-ignore]
except AttributeError:  # PyYAML built without libyaml
    _Base = yaml.SafeLoader

_TIMESTAMP = "tag:yaml.org,2002:timestamp"


class _Loader(_Base):  # type: ignore[valid-type,misc,unused-ignore]
    """The safe loader, read the way Kubernetes reads YAML:

    - null values of mapping keys are left out while the document is built (`annotations:`
      with nothing after it means no annotations), instead of in a second walk over every
      object;
    - unquoted timestamps stay strings (`creationTimestamp: 2024-01-01T00:00:00Z`), as
      sigs.k8s.io/yaml gives them, not `datetime` objects no Kubernetes field holds.
    """

    yaml_implicit_resolvers: ClassVar[dict[Any, list[tuple[str, Any]]]] = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag != _TIMESTAMP]
        for first, resolvers in _Base.yaml_implicit_resolvers.items()
    }


def _construct_map(loader: yaml.SafeLoader, node: yaml.MappingNode) -> Iterator[dict[Any, Any]]:
    data: dict[Any, Any] = {}
    yield data
    data.update((k, v) for k, v in loader.construct_mapping(node).items() if v is not None)


_Loader.add_constructor("tag:yaml.org,2002:map", _construct_map)

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


_STR = "tag:yaml.org,2002:str"
_SEQ = "tag:yaml.org,2002:seq"
_MAP = "tag:yaml.org,2002:map"
_NULL = "tag:yaml.org,2002:null"


class _Slow(Exception):
    """The document uses something the direct builder leaves to PyYAML's constructor."""


class _Builder:
    """Builds a composed, alias-free document straight into dicts, lists and scalars.

    PyYAML's constructor is general (aliases, recursive structures, any tag) and pays for it on
    every node; Kubernetes manifests are plain trees of maps, lists, strings, numbers and
    booleans. This builder handles exactly those, with the same results (the loader's scalar
    constructors, nulls left out of mappings), and hands anything else (merge keys `<<`,
    explicit tags such as `!!binary`, unhashable keys) back to PyYAML."""

    def __init__(self, loader: yaml.SafeLoader) -> None:
        self.scalars: dict[str, Callable[[Any], Any]] = {
            _NULL: lambda node: None,
            "tag:yaml.org,2002:bool": loader.construct_yaml_bool,
            "tag:yaml.org,2002:int": loader.construct_yaml_int,
            "tag:yaml.org,2002:float": loader.construct_yaml_float,
        }

    def build(self, node: yaml.Node, depth: int = 0) -> Any:
        if depth > MAX_DEPTH:
            raise YamlError(f"nested deeper than {MAX_DEPTH} levels", node.start_mark.line + 1)
        kind = node.__class__
        tag = node.tag
        if kind is yaml.ScalarNode:
            if tag == _STR:
                return node.value
            construct = self.scalars.get(tag)
            if construct is None:
                raise _Slow
            return construct(node)
        if kind is yaml.SequenceNode and tag == _SEQ:
            return [self.build(child, depth + 1) for child in node.value]
        if kind is not yaml.MappingNode or tag != _MAP:
            raise _Slow
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if key_node.__class__ is not yaml.ScalarNode:
                raise _Slow  # a complex key: PyYAML's constructor explains unhashable ones
            key = self.build(key_node, depth + 1)
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise _Slow
            value = self.build(value_node, depth + 1)
            if value is not None:
                out[key] = value
        return out


def load_documents(text: str | bytes) -> Iterator[Document]:
    """Yield each document with its first line. Raises YamlError at the first broken document;
    documents before it have been yielded."""
    loader = _Loader(text)
    builder = _Builder(loader)
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
                else:
                    try:
                        data = builder.build(node)
                    except _Slow:
                        data = loader.construct_document(node)
            except RecursionError:
                raise YamlError(f"nested deeper than {MAX_DEPTH} levels", line) from None
            except yaml.YAMLError as exc:
                raise YamlError(f"invalid YAML: {exc}", line) from None
            yield Document(index=index, line=line, data=data, item_lines=_items_lines(node))
            index += 1
    finally:
        loader.dispose()
