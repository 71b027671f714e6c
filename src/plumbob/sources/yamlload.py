"""Safe, bounded YAML loading, line numbers kept.

A stream is cut into documents the way kubectl cuts it (`split_documents`) and each document is
read on its own, so a broken one loses only itself, named with its line in the whole file.

Two parsers, one result, document by document. Plain Kubernetes manifests (no aliases, tags,
merge keys, directives, keys given twice, control characters, line breaks other than LF, or
scalars that YAML 1.1 and 1.2 read differently) go to yaml-rs, a YAML parser written in Rust
that builds the Python objects itself, several times faster than libyaml with PyYAML's
constructor. Everything else goes to libyaml's C parser with the safe constructor, which reads
YAML 1.1 as Kubernetes does (`yes` is true, `0755` is octal), checks aliases so a few bytes of
anchors cannot expand into gigabytes ("billion laughs"), and gives the error messages. Both give
the same documents, lines and data (tests/unit/sources/test_yaml_builder.py and
test_yaml_fast.py compare them). Which texts yaml-rs may read is decided by the screens in
sources/yaml_screens.py; `PLUMBOB_YAML_FAST=0` turns the fast path off (`FAST_SWITCH`).
"""

from __future__ import annotations

import codecs
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from types import ModuleType
from typing import Any, ClassVar

import yaml

from plumbob.report.model import DiagnosticCode as Code
from plumbob.report.model import Level
from plumbob.sources.yaml_screens import (
    FallBack,
    TooDeep,
    clean,
    flow_over_lines,
    printable_alike,
    screened,
)

yaml_rs: ModuleType | None
try:
    import yaml_rs
except ImportError:  # no wheel for this platform: PyYAML reads everything
    yaml_rs = None

FAST_SWITCH = "PLUMBOB_YAML_FAST"
"""Environment variable that turns the yaml-rs fast path off: `0`, `false`, `no` or `off` (in any
case) send every text to PyYAML; unset or any other value leaves the fast path on where yaml-rs
is installed. Both paths give the same documents; the switch is for measuring one against the
other and for ruling the fast path out when a manifest reads strangely."""
FAST = yaml_rs is not None and os.environ.get(FAST_SWITCH, "").strip().lower() not in (
    "0",
    "false",
    "no",
    "off",
)
"""Whether texts may go to yaml-rs in this process (see FAST_SWITCH)."""

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
    """A document that cannot be read (or, at WARNING level, text kubectl would not read)."""

    def __init__(
        self,
        message: str,
        line: int | None = None,
        level: Level = Level.ERROR,
        code: Code = Code.YAML_INVALID,
    ) -> None:
        super().__init__(message)
        self.line = line
        """Line in the whole text, not in the document."""
        self.level = level
        self.code = code


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
        raise YamlError(
            f"nested deeper than {MAX_DEPTH} levels",
            node.start_mark.line + 1,
            code=Code.NESTED_TOO_DEEPLY,
        )
    seen: set[int] = set()
    stack: list[tuple[yaml.Node, int]] = [(node, depth)]
    while stack:
        current, d = stack.pop()
        if d > MAX_DEPTH:
            raise YamlError(
                f"nested deeper than {MAX_DEPTH} levels",
                current.start_mark.line + 1,
                code=Code.NESTED_TOO_DEEPLY,
            )
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


_CONSTRUCT_ERRORS = (ValueError, IndexError, KeyError, TypeError, OverflowError)
"""What PyYAML's scalar constructors raise, instead of a YAML error, on scalars they resolved
but cannot convert (`0x_` is an int to the resolver and `int("", 16)` to the constructor; an
empty `!!float` indexes an empty string)."""


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
            raise YamlError(
                f"nested deeper than {MAX_DEPTH} levels",
                node.start_mark.line + 1,
                code=Code.NESTED_TOO_DEEPLY,
            )
        kind = node.__class__
        tag = node.tag
        if kind is yaml.ScalarNode:
            if tag == _STR:
                return node.value
            construct = self.scalars.get(tag)
            if construct is None:
                raise _Slow
            try:
                return construct(node)
            except _CONSTRUCT_ERRORS:  # a number PyYAML cannot convert: 0x_, !!int a, !!float
                what = "an integer" if tag.endswith(":int") else "a number"
                value = node.value if len(node.value) <= 40 else f"{node.value[:40]}..."
                raise YamlError(
                    f"invalid YAML: {value!r} reads as {what} but is not one",
                    node.start_mark.line + 1,
                ) from None
        if kind is yaml.SequenceNode and tag == _SEQ:
            return [self.build(child, depth + 1) for child in node.value]
        if kind is not yaml.MappingNode or tag != _MAP:
            raise _Slow
        out: dict[Any, Any] = {}
        nulls = False
        for key_node, value_node in node.value:
            if key_node.__class__ is not yaml.ScalarNode:
                raise _Slow  # a complex key: PyYAML's constructor explains unhashable ones
            key = self.build(key_node, depth + 1)
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise _Slow
            value = self.build(value_node, depth + 1)
            out[key] = value
            nulls = nulls or value is None
        if nulls:  # left out once all are in: a key given twice keeps its first place and its
            # last value, and is left out when that is null (as PyYAML's constructor does)
            for key in [k for k, v in out.items() if v is None]:
                del out[key]
        return out


def load_documents(
    text: str | bytes, problems: list[YamlError] | None = None, *, fast: bool | None = None
) -> Iterator[Document]:
    """Yield each document with its first line, the stream cut into documents as kubectl cuts
    it (`split_documents`) and each document read on its own: yaml-rs where it reads the text
    exactly as PyYAML would, PyYAML otherwise. A broken document is left out and, with
    `problems`, added there (its line counted in the whole text) while the others are read;
    without `problems`, YamlError is raised at it, after the documents before it.

    Documents that do not parse because they hold Go template actions (`{{- if .Values.x }}`,
    a chart's `templates/*.yaml`) are one problem for the whole text: it is an unrendered Helm
    template.

    `fast=False` reads every document with PyYAML, `True` lets yaml-rs read what it reads alike
    (where it is installed); by default, `FAST` (the PLUMBOB_YAML_FAST switch) decides."""
    stream = _decoded(text, FAST if fast is None else fast and yaml_rs is not None)
    templates: list[tuple[int, str]] = []
    index = 0
    for chunk in split_documents(stream.text):
        try:
            doc, rest = _chunk_document(stream, chunk, index)
        except YamlError as exc:
            problem = exc
            action = _template_action(stream.text, chunk) if chunk.separator is None else None
            if action is not None:
                templates.append(action)
                if problems is not None:
                    continue
                problem = _unrendered(templates)
            if problems is None:
                raise problem from None
            problems.append(problem)
            continue
        if doc is not None:
            yield doc
            index += 1
        if rest is not None and problems is not None:
            problems.append(rest)
    if templates and problems is not None:
        problems.append(_unrendered(templates))


def _unrendered(templates: list[tuple[int, str]]) -> YamlError:
    line, action = templates[0]
    n = len(templates)
    return YamlError(
        "unrendered Helm template: render it with `helm template` first "
        f"(template action {action!r}; {n} document{'s' if n > 1 else ''} not read)",
        line,
        code=Code.UNRENDERED_TEMPLATE,
    )


def _template_action(text: str, chunk: Chunk) -> tuple[int, str] | None:
    """The line and text of the first Go template action (`{{ ... }}`) in a chunk, if any."""
    at = text.find("{{", chunk.start, chunk.end)
    if at < 0:
        return None
    begin = max(text.rfind("\n", chunk.start, at) + 1, chunk.start)
    stop = text.find("\n", at, chunk.end)
    shown = text[begin : stop if stop >= 0 else chunk.end].strip()
    if len(shown) > 60:
        shown = shown[:60] + "..."
    return chunk.line + text.count("\n", chunk.start, at), shown


# ---------------------------------------------------------------------- documents

_GO_SPACE = (
    "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008"
    "\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
"""White space to Go's strings.TrimSpace (unicode.IsSpace)."""


@dataclass(frozen=True, slots=True)
class Chunk:
    """One document of a stream as kubectl cuts it: the text between two separator lines."""

    start: int
    end: int
    line: int
    """Line of the chunk's first line in the whole text."""
    separator: str | None = None
    """The separator line before the chunk when kubectl refuses it (`--- {a: 1}`): the chunk is
    then not read."""


def split_documents(text: str) -> Iterator[Chunk]:
    """Cut a YAML stream into documents as kubectl does. `kubectl apply/create -f` read files
    through k8s.io/apimachinery/pkg/util/yaml NewYAMLOrJSONDecoder, whose YAMLReader.Read
    (decoder.go) reads line by line:

    - a separator is a line that starts with `---`, at column 0 (`  ---` is text), wherever it
      is: also inside a block scalar or a quoted string, where YAML forbids such a line anyway;
    - after the `---` only white space and a comment may follow (`---`, `--- # Source: x`,
      and `---#x`, which YAML itself would read as text); anything else (`--- {a: 1}`,
      `--- !tag`, `--- |`, `----`) makes kubectl fail with "invalid Yaml document separator":
      the chunk after such a line is reported and not read;
    - the separator line belongs to no document, a file may start with one, and a chunk of
      nothing but blank lines and comments is no object (cli-runtime's StreamVisitor skips it);
    - lines end at LF (bufio.Reader.ReadLine); a CR before it is white space;
    - `...` is no separator: go-yaml reads the chunk's first document (`_pyyaml_chunk`).

    One scan for `\n---` (memchr speed), so the cost is linear in the text and small next to
    parsing it."""
    found = [0] if text.startswith("---") else []
    at = text.find("\n---")
    while at >= 0:
        found.append(at + 1)
        at = text.find("\n---", at + 4)
    start, line, separator = 0, 1, None
    for sep in found:
        if sep > start or separator is not None:
            yield Chunk(start, sep, line, separator)
        line += text.count("\n", start, sep)
        stop = text.find("\n", sep + 3)
        if stop < 0:
            stop = len(text)
        after = text[sep + 3 : stop].strip(_GO_SPACE)
        separator = text[sep:stop].rstrip("\r") if after and after[0] != "#" else None
        start = min(stop + 1, len(text))
        line += 1
    if start < len(text) or separator is not None:
        yield Chunk(start, len(text), line, separator)


@dataclass(frozen=True, slots=True)
class _Stream:
    text: str
    fast: bool
    """Every character is one yaml-rs and PyYAML read alike: chunks may go to yaml-rs."""
    undecodable: bool = False
    """The bytes were not all UTF-8: the bad ones are in `text` as surrogate escapes."""


def _decoded(text: str | bytes, fast: bool) -> _Stream:
    """The text of a stream, without its byte order mark (kubectl's FileVisitor reads files
    through unicode.BOMOverride: UTF-8, or UTF-16 with its mark); with `fast`, marked for
    yaml-rs when its characters are ones both parsers read alike."""
    if isinstance(text, str):
        try:
            data = text.encode("utf-8")
        except UnicodeError:  # lone surrogates: PyYAML says what is wrong
            return _Stream(text.removeprefix("\ufeff"), fast=False)
        bom = text.startswith("\ufeff")
        return _Stream(text[1:] if bom else text, fast=fast and printable_alike(data, bom))
    if text.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return _Stream(text.decode("utf-16"), fast=False)
        except UnicodeDecodeError:
            return _Stream(text.decode("utf-16", "surrogateescape"), False, undecodable=True)
    bom = text.startswith(codecs.BOM_UTF8)
    try:
        decoded = text.decode("utf-8-sig")
    except UnicodeDecodeError:
        return _Stream(text.decode("utf-8-sig", "surrogateescape"), False, undecodable=True)
    return _Stream(decoded, fast=fast and printable_alike(text, bom))


def _separator_error(chunk: Chunk) -> YamlError:
    return YamlError(
        f"invalid document separator {chunk.separator!r}: kubectl allows only a comment after "
        '"---" and refuses the file ("invalid Yaml document separator"); this document is not '
        "read",
        chunk.line - 1,
    )


_ESCAPED = re.compile("[\udc80-\udcff]")
"""A byte that was not UTF-8, kept as a surrogate escape."""


def _chunk_document(
    stream: _Stream, chunk: Chunk, index: int
) -> tuple[Document | None, YamlError | None]:
    """A chunk's document (None for blank lines and comments) and a warning about text in it
    kubectl would not read; raises YamlError when it cannot be read."""
    if chunk.separator is not None:
        raise _separator_error(chunk)
    text = stream.text[chunk.start : chunk.end]
    if stream.undecodable:
        bad = _ESCAPED.search(text)
        if bad is not None:
            raise YamlError(
                f"not UTF-8 text: byte {ord(bad.group()) - 0xDC00:#04x}",
                chunk.line + text.count("\n", 0, bad.start()),
                code=Code.NOT_UTF8,
            )
    if stream.fast:
        try:
            return _fast_chunk(text, chunk.line, index), None
        except FallBack:
            pass
    return _pyyaml_chunk(text, chunk.line, index)


# ---------------------------------------------------------------------- yaml-rs

_CONTENT = re.compile(r"^[ \r]*[^ \r\n#]", re.MULTILINE)
"""A line with content. Where a line starts, YAML 1.1 skips spaces only: a tab there, also on a
line of nothing else, is refused by PyYAML, libyaml and go-yaml (kubectl's), so it counts as
content, and PyYAML says where (tabs send a text to it). U+00A0 is text to YAML."""


def _fast_documents(text: str | bytes) -> list[Document] | None:
    """The documents of a whole stream as yaml-rs reads them, or None when PyYAML must read one
    of them (tests compare this with `_pyyaml_documents`), whatever the switch says."""
    stream = _decoded(text, yaml_rs is not None)
    if not stream.fast:
        return None
    out: list[Document] = []
    for chunk in split_documents(stream.text):
        if chunk.separator is not None:
            raise _separator_error(chunk)
        try:
            doc = _fast_chunk(stream.text[chunk.start : chunk.end], chunk.line, len(out))
        except FallBack:
            return None
        if doc is not None:
            out.append(doc)
    return out


def _fast_chunk(text: str, line: int, index: int) -> Document | None:
    """The chunk's document as yaml-rs reads it (None for blank lines and comments); FallBack
    when PyYAML must read it."""
    content = _CONTENT.search(text)
    if content is None:
        return None
    if not text.endswith("\n"):
        if "|" in text or ">" in text:
            raise FallBack  # yaml-rs ends a block scalar at the end of such a text with a break
        text += "\n"  # (which changes nothing else: lines are counted from the start)
    if not screened(text):
        raise FallBack
    first = line + text.count("\n", 0, content.start())
    try:
        data = yaml_rs.loads(  # type: ignore[union-attr]
            text,
            parse_datetime=False,
            # a key given twice goes to PyYAML: yaml-rs would drop the first value unread
            duplicate_key_policy=yaml_rs.DuplicateKeyPolicy.Error,  # type: ignore[union-attr]
        )
    except Exception:
        raise FallBack from None
    if flow_over_lines(data, text):
        raise FallBack
    try:
        clean(data, text, MAX_DEPTH)
    except TooDeep:
        raise YamlError(
            f"nested deeper than {MAX_DEPTH} levels", first, code=Code.NESTED_TOO_DEEPLY
        ) from None
    if isinstance(data, dict) and isinstance(data.get("items"), list):
        raise FallBack  # List items need their lines: PyYAML's nodes have them
    return Document(index=index, line=first, data=data)


# ---------------------------------------------------------------------- PyYAML


def _pyyaml_documents(text: str | bytes) -> Iterator[Document]:
    """The documents of a whole stream as PyYAML reads them; raises YamlError at the first
    broken one (tests compare this with `_fast_documents`)."""
    stream = _decoded(text, False)
    index = 0
    for chunk in split_documents(stream.text):
        doc, _ = _chunk_document(stream, chunk, index)
        if doc is not None:
            yield doc
            index += 1


_DOCUMENT_END = re.compile(r"^\.\.\.(?=[ \t\r\n]|$)", re.MULTILINE)


def _pyyaml_chunk(text: str, line: int, index: int) -> tuple[Document | None, YamlError | None]:
    """The chunk's document as PyYAML reads it (None for blank lines and comments), lines
    counted from `line`; and, when text follows a document end marker `...`, a warning that
    kubectl ignores it: go-yaml's Unmarshal, with which kubectl decodes each chunk, reads its
    first document only (gopkg.in/yaml.v2 yaml.go `unmarshal`: one `p.parse()`)."""
    offset = line - 1
    loader = _Loader(text)
    try:
        try:
            doc = _first_document(loader, text, index, offset)
        except YamlError as exc:
            # a problem found at the end of the chunk (an unclosed `[`) is on its last line,
            # not on the next separator's
            last = line + text.count("\n", 0, len(text) - 1)
            at = min(exc.line + offset, last) if exc.line else line
            raise YamlError(str(exc), at, exc.level, exc.code) from None
        try:
            more = loader.check_node()
        except (yaml.YAMLError, RecursionError):
            more = True
    finally:
        loader.dispose()
    if not more:
        return doc, None
    end = _DOCUMENT_END.search(text)
    at = line + text.count("\n", 0, end.start()) if end is not None else line
    return doc, YamlError(
        f"text after the document end marker `...` (line {at}) is ignored by kubectl, which "
        'reads one document up to each "---"; not read',
        at,
        Level.WARNING,
    )


def _first_document(loader: _Loader, text: str, index: int, offset: int) -> Document | None:
    try:
        node = loader.get_node() if loader.check_node() else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "invalid YAML"
        raise YamlError(f"invalid YAML: {problem}", mark.line + 1 if mark else None) from None
    except yaml.YAMLError as exc:
        raise YamlError(f"invalid YAML: {exc}") from None
    except RecursionError:
        raise YamlError(
            f"nested deeper than {MAX_DEPTH} levels", code=Code.NESTED_TOO_DEEPLY
        ) from None
    if node is None:
        return None
    line = node.start_mark.line + 1
    # An alias is written `*name`: text without a `*` has none, and skipping the walk over
    # every node that looks for them makes reading manifests a third faster.
    try:
        if "*" in text and _has_alias(node):
            _expanded_size(node, line)
            data = loader.construct_document(node)
        else:
            try:
                data = _Builder(loader).build(node)
            except _Slow:
                data = loader.construct_document(node)
    except RecursionError:
        raise YamlError(
            f"nested deeper than {MAX_DEPTH} levels", line, code=Code.NESTED_TOO_DEEPLY
        ) from None
    except yaml.YAMLError as exc:
        raise YamlError(f"invalid YAML: {exc}", line) from None
    except YamlError:
        raise
    except _CONSTRUCT_ERRORS as exc:  # PyYAML's constructor on a scalar it cannot convert
        raise YamlError(f"invalid YAML: {exc}", line) from None
    return Document(
        index=index,
        line=line + offset,
        data=data,
        item_lines=tuple(item + offset for item in _items_lines(node)),
    )
