"""Safe, bounded YAML loading, line numbers kept.

Two parsers, one result. Plain Kubernetes manifests (no aliases, tags, merge keys, directives,
keys given twice, control characters, line breaks other than LF, or scalars that YAML 1.1 and
1.2 read differently) go to yaml-rs, a YAML parser written in Rust that builds the Python
objects itself, several times faster than libyaml with PyYAML's constructor. Everything else
goes to libyaml's C parser with the safe constructor, which reads YAML 1.1 as Kubernetes does
(`yes` is true, `0755` is octal), checks aliases so a few bytes of anchors cannot expand into
gigabytes ("billion laughs"), and gives the error messages. Both give the same documents, lines
and data (tests/unit/sources/test_yaml_builder.py and test_yaml_fast.py compare them).
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from types import ModuleType
from typing import Any, ClassVar

import yaml

yaml_rs: ModuleType | None
try:
    import yaml_rs
except ImportError:  # no wheel for this platform: PyYAML reads everything
    yaml_rs = None

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
            raise YamlError(f"nested deeper than {MAX_DEPTH} levels", node.start_mark.line + 1)
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


def load_documents(text: str | bytes) -> Iterator[Document]:
    """Yield each document with its first line. Raises YamlError at the first broken document;
    documents before it have been yielded."""
    fast = _fast_documents(text)
    if fast is not None:
        yield from fast
        return
    yield from _pyyaml_documents(text)


# ---------------------------------------------------------------------- yaml-rs

_SCREENS = tuple(
    (triggers, re.compile(pattern, re.MULTILINE))
    for triggers, pattern in (
        (("%", "\n..."), r"\n(?:%|\.\.\.)"),  # directives, document end markers
        (("?",), r"\?(?<=[\s\[\{,-]\?)(?=[ \t])"),  # complex keys
        # colons YAML 1.1 reads apart; colons it refuses in flow collections; an empty key
        ((":",), r":(?:(?=[,\]\}])|(?=[ \t]+:)|(?<=\"::)|(?<=[\s\[\{,]:)(?=\s|$))"),
        (("[", "{", ","), r"[\[\{,][ \t]*:"),  # a colon first in a flow entry
        # 0755, 0o17, 0X1F: other numbers (also right after a JSON-like key: {"mode":0755})
        (("0",), r"0(?<![\w.:/@%]0)(?<![\w][-+]0)[0-9oOxXbB_]|0(?<=\":0)[0-9oOxXbB_]"),
    )
)
"""Text that yaml-rs would read differently from PyYAML's YAML 1.1 safe loader, or that needs
PyYAML's checks and messages. Each pattern starts with a literal, which keeps the scan fast,
and comes with the strings it cannot match without: a text that holds none of them is not
scanned at all (an `in` test of one character runs at memchr speed, many times faster than the
pattern's scan). A false alarm only costs speed."""

_BLOCK_HEADER = re.compile(r"[|>][-+1-9]{0,2}[ \t]*(?:#[^\n]*)?\n")
_INDENT = re.compile(r"[ \t]*")
_FLOAT_TEXT = re.compile(
    r"""(?:^|(?<=[\s\[\{,])|(?<=":))
    (?: [-+]?[0-9_.]*[eE][-+]?[0-9_]+        # exponents (1.1 wants a dot and a sign)
      | [-+]\.[0-9_]+                        # -.5 (1.1: text)
      | [-+]?[0-9.]*_[-+0-9_.eE]*             # underscores, read apart
      | [-+]?\.(?:[iI][nN][fF]|[nN][aA][nN])  # infinity, not a number in any case
    )(?=[ \t]*(?:[,\]\}#:\r\n]|$))""",
    re.VERBOSE | re.MULTILINE,
)
"""Floats YAML 1.2 reads that 1.1 does not; checked only in text where yaml-rs found a float."""

_YAML11_WORDS = frozenset(
    ("yes", "Yes", "YES", "no", "No", "NO", "on", "On", "ON", "off", "Off", "OFF", "=", "<<")
)
_YAML11_NUMBER = re.compile(r"[-+]?(?:0b[0-1_]+|[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?)")
"""Plain scalars YAML 1.1 reads as booleans or numbers (binary, sexagesimal) and 1.2 as text:
yaml-rs gives them as strings, which may also mean they were quoted; either way PyYAML reads
the file."""
_NUMBER_START = frozenset("+-0123456789")


_INDICATOR = re.compile(r"[*&!?|>](?<=[\s\[\{,:][*&!?|>])")
"""A `*`, `&`, `!`, `?`, `|` or `>` that starts a word (or follows a colon: `{"a":!t 1}`): an
indicator if it also starts a node (`_node_indicator`)."""
_NODE_START = frozenset(":-?,[{\n")
_UNDERSCORE = re.compile(r"_(?<=[\s\[\{,:+\-0-9.]_)")
"""An underscore at the start of a word or after a digit, sign or dot: maybe in a number."""
_WORD_END = frozenset(" \n,[]{}#:")


def _node_indicator(probe: str) -> bool:
    """Whether the text has an alias, an anchor or an explicit tag, or a `?`, `|` or `>` that
    YAML 1.1 reads as an indicator where yaml-rs reads text: one of these characters where a
    node starts (after `key:`, `- `, `? `, a flow `[`, `{` or `,`, or first on its line).
    yaml-rs reads properties without PyYAML's checks (an unknown tag such as `!Ref` is dropped,
    not refused), takes `[?x]` for text where PyYAML makes a key of it, and accepts `[>x]`,
    which PyYAML refuses. Block scalar headers (`key: |-`) are left to the block checks. The
    same characters inside words and quoted text (`a && b`, `/dev/nvidia*`, cron's `* * *`,
    `2>&1`, `a | b`) are text and no reason to leave the fast path."""
    for match in _INDICATOR.finditer(probe):
        start = match.start()
        if probe[start] in "|>" and _BLOCK_HEADER.match(probe, start):
            continue
        at = start - 1
        while probe[at] in " \t":  # (the probe starts with a line break: this stops)
            at -= 1
        if probe[at] not in _NODE_START:
            continue
        if (
            at == start - 1
            and probe[at] == ":"
            and probe[at - 1] not in "\"'"
            and probe[start] != "?"
        ):
            continue  # `*:*`, `a:&b`: one word; only a JSON-like key's colon takes a value close
        return True
    return False


def _underscored_number(probe: str) -> bool:
    """Whether yaml-rs would read a word with an underscore as a number: it takes `1_000`,
    `_1`, `0o1_7` and `1_0e+3` as numbers, of which YAML 1.1 reads only some (and 1.2 none).
    Names such as `llama3_405b` or `A100_v4` are text for both and need no second look; a word
    that starts like a number is asked of yaml-rs itself, once per word (a word of a million
    underscores is walked once, not once per underscore)."""
    done = 0
    for match in _UNDERSCORE.finditer(probe):
        if match.start() < done:
            continue  # in a word already looked at
        start = match.start()
        while probe[start - 1] not in _WORD_END:  # (the probe starts with a line break)
            start -= 1
        end = match.end()
        while end < len(probe) and probe[end] not in _WORD_END:
            end += 1
        done = end
        if probe[start] not in _NUMBER_START and probe[start] not in "._":
            continue
        try:
            value = yaml_rs.loads(f"x: {probe[start:end]}\n", parse_datetime=False)["x"]  # type: ignore[union-attr]
        except Exception:
            return True  # (PyYAML will say what is wrong)
        if not isinstance(value, str):
            return True
    return False


def _screened(text: str) -> bool:
    """Whether the text may go to yaml-rs."""
    if "<<" in text or "\t" in text or "\r" in text:
        return False  # merge keys; tabs, which YAML 1.1 refuses in indentation; CR line ends
    probe = "\n" + text  # (so that a pattern's look-behind also sees the text's start)
    for triggers, screen in _SCREENS:
        if any(trigger in probe for trigger in triggers) and screen.search(probe):
            return False
    if any(char in text for char in "*&!?|>") and _node_indicator(probe):
        return False
    if "_" in text and _underscored_number(probe):
        return False
    if "|" not in text and ">" not in text:
        return True
    for header in _BLOCK_HEADER.finditer(text):  # an empty block scalar: yaml-rs gives "\n"
        line_start = text.rfind("\n", 0, header.start()) + 1
        own = _INDENT.match(text, line_start).end() - line_start  # type: ignore[union-attr]
        after = header.end()
        while after < len(text) and text[after] == "\n":
            after += 1
        if after >= len(text):
            return False
        nxt = text.find("\n", after)
        line = text[after : nxt if nxt >= 0 else len(text)]
        if not line.strip():
            return False
        if len(line) - len(line.lstrip(" ")) <= own:
            return False
    return True


_MARKER = re.compile(r"^---(?=[ \t\r\n]|$)", re.MULTILINE)
_CONTENT = re.compile(r"^[ \t]*[^ \t\r\n#]", re.MULTILINE)
"""A line with content: YAML's white space is spaces and tabs (U+00A0 is text to it)."""


_PRINTABLE_ASCII = bytes(range(0x20, 0x7F)) + b"\t\n\r"
_NOT_PRINTABLE = re.compile("[\x00-\x9f\u2028\u2029\ufeff\ufffe\uffff]")
"""Characters other than printable ASCII that YAML 1.1 refuses in a stream (control characters,
U+FFFE), the line breaks only YAML 1.1 knows: NEL, LINE SEPARATOR, PARAGRAPH SEPARATOR (PyYAML,
libyaml and go-yaml end a line, or a comment, there; yaml-rs reads on), and a byte order mark
anywhere but first. (Surrogates, which YAML refuses too, never come out of decoding UTF-8.)"""


def _printable(data: bytes) -> bool:
    """Whether the UTF-8 text has only characters both parsers read alike. Printable ASCII is
    deleted at memory speed first; what is left (usually nothing) is looked at character by
    character. (Deleting ASCII bytes leaves whole UTF-8 sequences.)"""
    rest = data.translate(None, _PRINTABLE_ASCII)
    return not rest or _NOT_PRINTABLE.search(rest.decode("utf-8")) is None


class _FallBack(Exception):
    """The fast path cannot read this text exactly as PyYAML would."""


def _fast_documents(text: str | bytes) -> list[Document] | None:
    """The documents as yaml-rs reads them, or None when PyYAML must read the text."""
    if yaml_rs is None:
        return None
    try:
        data = text if isinstance(text, bytes) else text.encode("utf-8")
        if data.startswith(codecs.BOM_UTF8):
            data = data[3:]
        if not _printable(data):
            return None
        text = data.decode("utf-8")
    except UnicodeError:
        return None
    if text and not text.endswith("\n"):
        if "|" in text or ">" in text:
            return None  # yaml-rs ends a block scalar at the end of such a file with a break
        text += "\n"  # (which changes nothing else: lines are counted from the start)
    if not _screened(text):
        return None
    try:
        return list(_split_and_parse(text))
    except _FallBack:
        return None


def _split_and_parse(text: str) -> Iterator[Document]:
    markers = [0] if _MARKER.match(text) else []
    at = text.find("\n---")
    while at >= 0:
        if _MARKER.match(text, at + 1):
            markers.append(at + 1)
        at = text.find("\n---", at + 4)
    starts = [0, *markers] if not markers or markers[0] != 0 else markers
    ends = [*starts[1:], len(text)]
    line = 1
    index = 0
    for start, end in zip(starts, ends, strict=True):
        chunk = text[start:end]
        explicit = _MARKER.match(chunk) is not None  # (`---#` is a word, not a marker)
        body = chunk[3:] if explicit else chunk
        content = _CONTENT.search(body)
        if content is None:
            if explicit:  # `---` with nothing after it: an empty document, as PyYAML reads it
                yield Document(index=index, line=line + chunk.count("\n"), data=None)
                index += 1
            line += chunk.count("\n")
            continue
        first = line + body.count("\n", 0, content.start())
        try:
            data = yaml_rs.loads(  # type: ignore[union-attr]
                chunk,
                parse_datetime=False,
                # a key given twice goes to PyYAML: yaml-rs would drop the first value unread
                duplicate_key_policy=yaml_rs.DuplicateKeyPolicy.Error,  # type: ignore[union-attr]
            )
        except Exception:
            raise _FallBack from None
        if isinstance(data, list) and chunk.count("\n---") + chunk.startswith("---") > 1:
            raise _FallBack  # (cannot happen: one chunk is one document)
        _clean(data, first, chunk)
        if isinstance(data, dict) and isinstance(data.get("items"), list):
            raise _FallBack  # List items need their lines: PyYAML's nodes have them
        yield Document(index=index, line=first, data=data)
        index += 1
        line += chunk.count("\n")


def _clean(value: Any, line: int, text: str, depth: int = 0) -> None:
    """Leave out null-valued keys in place (as the PyYAML path does while it builds), bound the
    depth, and send scalars that YAML 1.1 would read differently back to PyYAML (_FallBack).
    One pass, no copies: this walk is most of what the fast path costs beyond parsing."""
    if depth > MAX_DEPTH:
        raise YamlError(f"nested deeper than {MAX_DEPTH} levels", line)
    if value.__class__ is dict:
        nulls = None
        for k, v in value.items():
            if k.__class__ is str:
                if k in _YAML11_WORDS or (k[:1] in _NUMBER_START and _YAML11_NUMBER.fullmatch(k)):
                    raise _FallBack
            elif k.__class__ is float:
                _check_float(text)
            elif k.__class__ is not int and k.__class__ is not bool and k is not None:
                raise _FallBack  # a complex key, which yaml-rs made hashable (tuple, frozenset)
            cls = v.__class__
            if cls is str:
                if v in _YAML11_WORDS or (v[:1] in _NUMBER_START and _YAML11_NUMBER.fullmatch(v)):
                    raise _FallBack
            elif cls is dict or cls is list:
                _clean(v, line, text, depth + 1)
            elif v is None:
                nulls = [k] if nulls is None else [*nulls, k]
            elif cls is float:
                _check_float(text)
        if nulls:
            for k in nulls:
                del value[k]
    elif value.__class__ is list:
        for v in value:
            cls = v.__class__
            if cls is str:
                if v in _YAML11_WORDS or (v[:1] in _NUMBER_START and _YAML11_NUMBER.fullmatch(v)):
                    raise _FallBack
            elif cls is dict or cls is list:
                _clean(v, line, text, depth + 1)
            elif cls is float:
                _check_float(text)
    elif value.__class__ is str:
        if value in _YAML11_WORDS or (
            value[:1] in _NUMBER_START and _YAML11_NUMBER.fullmatch(value)
        ):
            raise _FallBack
    elif value.__class__ is float:
        _check_float(text)


def _check_float(text: str) -> None:
    if _FLOAT_TEXT.search(text):
        raise _FallBack


# ---------------------------------------------------------------------- PyYAML


def _pyyaml_documents(text: str | bytes) -> Iterator[Document]:
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
            except YamlError:
                raise
            except _CONSTRUCT_ERRORS as exc:  # PyYAML's constructor on a scalar it cannot convert
                raise YamlError(f"invalid YAML: {exc}", line) from None
            yield Document(index=index, line=line, data=data, item_lines=_items_lines(node))
            index += 1
    finally:
        loader.dispose()
