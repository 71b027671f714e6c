"""Which YAML texts yaml-rs may read: the screens in front of the fast path.

The rule: a document goes to yaml-rs only when it must give exactly what PyYAML's YAML 1.1 safe
loader gives (the documents, their lines and every value, type included), because Kubernetes
reads YAML 1.1 (sigs.k8s.io/yaml, go-yaml v2) and yaml-rs reads YAML 1.2. Each screen below
looks for one way the two read a text differently; any screen that fires sends the document to
PyYAML, which reads it, or says what is wrong with it. A screen may err only one way: a false
alarm costs speed, never a different document. Tests compare both paths on every fixture file,
on generated scalars and on mutated real manifests (tests/unit/sources/test_yaml_fast.py); the
history of each screen is in docs/performance.md and the git log of sources/yamlload.py.

What each screen is for:

- Characters (`printable_alike`, on the raw bytes, before anything is parsed). Control
  characters (a NUL cut a value short in yaml-rs; YAML 1.1 refuses them), NEL, U+2028 and U+2029
  (line breaks to YAML 1.1, PyYAML, libyaml and go-yaml, which end a comment there, so a key
  after one was lost by yaml-rs, which reads on), a byte order mark past the start and U+FFFE.
- The text (`screened`, on one document's text):
  - merge keys `<<` (yaml-rs does not merge), tabs (YAML 1.1 refuses them in indentation) and
    CR line ends;
  - directives (`%YAML`) and document end markers (`...`), which kubectl's splitter and go-yaml
    treat in their own way (sources/yamlload.py `split_documents`, `_pyyaml_chunk`);
  - complex keys (`? key`); colons YAML 1.1 reads apart or refuses in flow collections (a
    colon right before `,`, `]` or `}`, or followed by another after spaces), an empty key
    (`: value`), and a colon first in a flow entry (`[ :x]`);
  - octal, hexadecimal and binary numbers written the YAML 1.1 way (`0755` is 493 to
    Kubernetes and 755 to YAML 1.2), also right after a JSON-like key (`{"mode":0755}`);
  - an anchor, alias or tag, and a `?`, `|` or `>` where a node starts (`_node_indicator`):
    yaml-rs expands aliases without PyYAML's alias-bomb checks, drops an unknown tag such as
    `!Ref` instead of refusing it, takes `[?x]` for text where PyYAML makes a key of it and
    accepts `[>x]`, which PyYAML refuses; the same characters inside words and quotes (`a &&
    b`, `/dev/nvidia*`, cron's `* * *`) are text to both and keep a file on the fast path;
  - a word with an underscore that yaml-rs reads as a number (`1_000`, `_1`, `0o1_7`: YAML 1.1
    reads some of them as numbers too, 1.2 none), asked of yaml-rs itself once per word
    (`_underscored_number`); names such as `llama3_405b` stay text to both;
  - an empty block scalar (`key: |` with nothing below it: yaml-rs gives "\n", PyYAML "");
  - a double-quoted scalar continued by an escaped line break (a backslash last on its line):
    as a flow mapping's key yaml-rs reads `"ab` and `cd"` on the next line as `abcd`, where YAML
    1.1 refuses a key over two lines.
- The decoded values (`clean`, one walk over what yaml-rs built, which also leaves out null
  values as the PyYAML path does): the YAML 1.1 booleans `yes`/`no`/`on`/`off` in any of
  their spellings, `=` and `<<` (text to yaml-rs, which may also mean they were quoted: either
  way PyYAML decides), binary and sexagesimal numbers (`1:30` is 90 to YAML 1.1), floats only
  YAML 1.2 reads (`1e3` without a dot, `-.5`, `.iNf` in mixed case, underscores), keys
  yaml-rs made hashable out of lists or mappings, and keys with a space or a line break: yaml-rs
  folds a flow mapping's key written over two lines (`{n` then `ame: gpu}` is `n ame`), which
  YAML 1.1 refuses (a key must fit on one line), and kubectl with it.

Not screened here, because the fast path in sources/yamlload.py handles them itself: a key
given twice (yaml-rs would keep the last value and drop the first unread; it is told to refuse
the document, which PyYAML then reads), a `kind: List` (its items need their lines, which only
PyYAML's nodes carry), a text whose last block scalar has no final line break, and lines
starting with a no-break space (text to YAML, not indentation).
"""

from __future__ import annotations

import codecs
import re
from typing import Any


class FallBack(Exception):
    """The fast path cannot read this text exactly as PyYAML would: PyYAML reads it."""


class TooDeep(Exception):
    """A document nested deeper than the loader allows."""


# ---------------------------------------------------------------------- characters

_PRINTABLE_ASCII = bytes(range(0x20, 0x7F)) + b"\t\n\r"
_NOT_PRINTABLE = re.compile("[\x00-\x9f\u2028\u2029\ufeff\ufffe\uffff]")
"""Characters other than printable ASCII that YAML 1.1 refuses in a stream (control characters,
U+FFFE), the line breaks only YAML 1.1 knows: NEL, LINE SEPARATOR, PARAGRAPH SEPARATOR (PyYAML,
libyaml and go-yaml end a line, or a comment, there; yaml-rs reads on), and a byte order mark
anywhere but first. (Surrogates, which YAML refuses too, never come out of decoding UTF-8.)"""


def printable_alike(data: bytes, bom: bool) -> bool:
    """Whether the UTF-8 text (after a byte order mark, when `bom`) has only characters both
    parsers read alike. Printable ASCII is deleted at memory speed first; what is left (usually
    nothing) is looked at character by character. (Deleting ASCII bytes leaves whole UTF-8
    sequences, the mark's first.)"""
    rest = data.translate(None, _PRINTABLE_ASCII)
    if bom:
        rest = rest[len(codecs.BOM_UTF8) :]
    return not rest or _NOT_PRINTABLE.search(rest.decode("utf-8")) is None


# ---------------------------------------------------------------------- syntax in the text

_SCREENS = tuple(
    (triggers, re.compile(pattern, re.MULTILINE))
    for triggers, pattern in (
        (("%", "\n..."), r"\n(?:%|\.\.\.)"),  # directives, document end markers
        (("?",), r"\?(?<=[\s\[\{,-]\?)(?=[ \t])"),  # complex keys
        # colons YAML 1.1 reads apart; colons it refuses in flow collections; an empty key
        ((":",), r":(?:(?=[,\]\}])|(?=[ \t]+:)|(?<=[\"' ]::)|(?<=[\s\[\{,]:)(?=\s|$))"),
        (("[", "{", ","), r"[\[\{,][ \t]*:"),  # a colon first in a flow entry
        # 0755, 0o17, 0X1F: other numbers (also right after a JSON-like key: {"mode":0755})
        (("0",), r"0(?<![\w.:/@%]0)(?<![\w][-+]0)[0-9oOxXbB_]|0(?<=\":0)[0-9oOxXbB_]"),
        # a double-quoted scalar continued by an escaped line break (a key that spans lines)
        (("\\\n",), r'"[^"\n]*\\\n'),
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
        import yaml_rs  # (screens run only where yaml-rs is installed)

        try:
            loaded: Any = yaml_rs.loads(f"x: {probe[start:end]}\n", parse_datetime=False)
            value = loaded["x"]
        except Exception:
            return True  # (PyYAML will say what is wrong)
        if not isinstance(value, str):
            return True
    return False


def screened(text: str) -> bool:
    """Whether the text of one document may go to yaml-rs: no screen finds syntax that yaml-rs
    reads differently from YAML 1.1 (the text ends with a line break)."""
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


# ---------------------------------------------------------------------- decoded scalars


def clean(value: Any, text: str, max_depth: int, depth: int = 0) -> None:
    """Leave out null-valued keys in place (as the PyYAML path does while it builds), bound the
    depth (TooDeep past `max_depth`), and send scalars that YAML 1.1 would read differently back
    to PyYAML (FallBack); `text` is the document's, which `_check_float` looks at.
    One pass, no copies: this walk is most of what the fast path costs beyond parsing."""
    if depth > max_depth:
        raise TooDeep
    if value.__class__ is dict:
        nulls = None
        for k, v in value.items():
            if k.__class__ is str:
                if k in _YAML11_WORDS or (k[:1] in _NUMBER_START and _YAML11_NUMBER.fullmatch(k)):
                    raise FallBack
                if " " in k or "\n" in k:
                    raise FallBack  # maybe a key folded from several lines, which YAML refuses
            elif k.__class__ is float:
                _check_float(text)
            elif k.__class__ is not int and k.__class__ is not bool and k is not None:
                raise FallBack  # a complex key, which yaml-rs made hashable (tuple, frozenset)
            cls = v.__class__
            if cls is str:
                if v in _YAML11_WORDS or (v[:1] in _NUMBER_START and _YAML11_NUMBER.fullmatch(v)):
                    raise FallBack
            elif cls is dict or cls is list:
                clean(v, text, max_depth, depth + 1)
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
                    raise FallBack
            elif cls is dict or cls is list:
                clean(v, text, max_depth, depth + 1)
            elif cls is float:
                _check_float(text)
    elif value.__class__ is str:
        if value in _YAML11_WORDS or (
            value[:1] in _NUMBER_START and _YAML11_NUMBER.fullmatch(value)
        ):
            raise FallBack
    elif value.__class__ is float:
        _check_float(text)


def _check_float(text: str) -> None:
    if _FLOAT_TEXT.search(text):
        raise FallBack


_FLOW_ITEM = (
    r"""[^\n\[\]{}"'#]++"""  # text, commas, colons
    r"""|(?<=[^\s\[\]{},"':])\#"""  # `#` inside a word (after a blank or an indicator: a comment)
    r"""|["'](?<![\s\[{,]["'])(?<!["']:["'])"""  # a quote inside a word (`it's`)
    r"""|(?:(?<=[\s\[{,])|(?<=["']:))(?:"(?:[^"\\\n]|\\.)*+"|'(?:[^'\n]|'')*+')"""  # quoted
)
_FLOW_CLOSED = r"(?!)"
for _ in range(16):
    _FLOW_CLOSED = rf"[\[{{](?:{_FLOW_ITEM}|{_FLOW_CLOSED})*+[\]}}]"
_FLOW_CLOSED_ONLY = re.compile(rf"(?:[^\[{{]++|{_FLOW_CLOSED})*+")
"""Text up to the first `[` or `{` whose collection is not shown closed on its line: read
possessively over text, quoted scalars and collections nested up to 16 deep, a collection
stops before something other than a closing bracket (the line's end, a comment, an unclosed
quote, deeper nesting). Quotes count only where a scalar can start, as in YAML, so a quote
inside a word never hides a bracket. (A bracket closed by the other kind is refused by both
parsers.) Every flow collection that goes on past its line stops it; a bracket in a block
scalar or a comment may too (a false alarm costs one walk over the document). One pass: a
closed collection is not read again from each bracket inside it."""
_COLON_FIRST = re.compile(r"\n[ \t]*:")
_HEADER_START = frozenset("|>")


def flow_over_lines(data: Any, text: str) -> bool:
    """Whether a flow collection that goes on past its line holds what yaml-rs reads and YAML
    1.1 does not allow there (PyYAML, libyaml and go-yaml, which kubectl reads with, refuse
    both); looked at only where a `[` or `{` is not closed on its own line:

    - a `:` first on its line: the `:` of a key on an earlier line (`{"a"\n:b}`: a key must
      fit on one line), or a plain scalar that starts with `:` (`[\n:x]`, yaml-rs: [":x"]);
    - a block scalar header (`[x: |`, yaml-rs: {"x": "|"}): no block scalar in a flow
      collection; yaml-rs reads the header as the start of a plain scalar.

    (A key folded over lines is caught by `clean`, and one joined by an escaped line break by
    the screens.)"""
    if "{" not in text and "[" not in text:
        return False
    closed = _FLOW_CLOSED_ONLY.match(text)
    if closed is not None and closed.end() == len(text):
        return False
    if _COLON_FIRST.search(text):
        return True
    if "|" not in text and ">" not in text:
        return False
    stack = [data]
    while stack:
        value = stack.pop()
        for v in value.values() if value.__class__ is dict else value:
            if v.__class__ is dict or v.__class__ is list:
                stack.append(v)
            elif v.__class__ is str and v[:1] in _HEADER_START:
                return True
        if value.__class__ is dict:
            for k in value:
                if k.__class__ is str and k[:1] in _HEADER_START:
                    return True
    return False
