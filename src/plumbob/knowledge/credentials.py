"""Which literal container environment values are credentials, from credentials.yaml: the names
AI platforms give their tokens and keys, the words credential names are built from, and token
formats recognisable by the value alone. Placeholders and references are not credentials.

    literal_credential("HF_TOKEN", "hf_...34 characters") -> Credential(basis="format", ...)
    literal_credential("HF_TOKEN", "$(TOKEN_FROM_SECRET)") -> None   (a reference)
    literal_credential("MAX_INPUT_TOKENS", "2048") -> None            (not a credential's name)

Nothing here keeps, returns or prints a value: a Credential says why, never what.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache, lru_cache

from plumbob.knowledge.loader import KnowledgeError, load_table
from plumbob.model.objects import as_list

CAPTURE_REDACTED = "<redacted>"
"""What a live capture writes in place of a credential-looking literal value
(sources/kube_redact.py REDACTED): a literal value was there, and the capture hid it."""

_PLACEHOLDER = re.compile(
    r"""^\s*<[^<>]*>\s*$ | <[A-Za-z][^<>]*>    # <token>, <your-ngc-api-key>, </s>
      | \$\(|\$\{|\{\{|^\$[A-Za-z_]\w*$       # $(VAR), ${VAR}, {{ .Values.x }}, $VAR
      | x{4,}|X{4,}|\*{3,}|\.\.\.|…           # hf_xxxxxxxx, ****, sk-...
      | ^(?i:your|insert|replace|enter)[-_ ]   # YOUR_HF_TOKEN, replace-with-your-key
      | (?i:[-_ ]here)$                       # token-goes-here
      | ^(?:REPLACE_?ME|CHANGE_?ME|TODO|TBD|FIXME)$
    """,
    re.VERBOSE,
)
"""Text that stands for a value someone is to fill in, or refers to one held elsewhere: no
credential is written in it."""

_NOT_SECRET = frozenset({"", "true", "false", "yes", "no", "none", "null", "nil", "n/a", "-"})
_FILE_VALUE = ("/", "./", "../", "~/", "file://")
_DIGITS_ONLY_CREDENTIAL_WORDS = frozenset({"PASSWORD", "PASSWD", "PASSPHRASE", "PIN"})


@dataclass(frozen=True, slots=True)
class Credential:
    """Why a literal environment value is taken for a credential (never the value)."""

    basis: str
    """'format' (the value has a known token's shape), 'name' (a known variable), 'name-word'
    (a word of the name: TOKEN, SECRET, `*_KEY`) or 'redacted' (a live capture hid it)."""
    what: str
    """'a Hugging Face access token', 'a secret, by the SECRET in its name'."""
    source: str


@dataclass(frozen=True, slots=True)
class _Format:
    id: str
    what: str
    pattern: re.Pattern[str]
    source: str


@dataclass(frozen=True)
class CredentialFacts:
    names: Mapping[str, tuple[str, str]]
    """Exact variable name -> (what it holds, source)."""
    words: frozenset[str]
    words_source: str
    not_last: frozenset[str]
    not_before_token: frozenset[str]
    not_before_key: frozenset[str]
    formats: tuple[_Format, ...]


def _words(block: object, where: str) -> frozenset[str]:
    words = block.get("words") if isinstance(block, dict) else None
    if not isinstance(words, list) or not all(isinstance(w, str) for w in words):
        raise KnowledgeError(f"credentials: {where}: a list of `words:` expected")
    if not isinstance(block, dict) or not block.get("source"):
        raise KnowledgeError(f"credentials: {where}: `source:` expected")
    return frozenset(w.upper() for w in words)


@cache
def credential_facts() -> CredentialFacts:
    """credentials.yaml, loaded once."""
    table = load_table("credentials")
    names: dict[str, tuple[str, str]] = {}
    for i, row in enumerate(as_list(table.get("names"))):
        if not isinstance(row, dict) or not row.get("name") or not row.get("source"):
            raise KnowledgeError(f"credentials: names[{i}]: `name:` and `source:` expected")
        names[str(row["name"]).upper()] = (str(row.get("what", "a credential")), str(row["source"]))
    block = table.get("name_words")
    if not isinstance(block, dict):
        raise KnowledgeError("credentials: no `name_words:` block")
    formats: list[_Format] = []
    for i, row in enumerate(as_list(table.get("formats"))):
        if not isinstance(row, dict) or not row.get("pattern") or not row.get("source"):
            raise KnowledgeError(f"credentials: formats[{i}]: `pattern:` and `source:` expected")
        try:
            pattern = re.compile(str(row["pattern"]))
        except re.error as exc:
            raise KnowledgeError(f"credentials: formats[{i}]: bad pattern: {exc}") from None
        formats.append(
            _Format(str(row.get("id", i)), str(row.get("what")), pattern, str(row["source"]))
        )
    return CredentialFacts(
        names=names,
        words=_words(block, "name_words"),
        words_source=str(block.get("source", "")),
        not_last=_words(block.get("not_last"), "name_words.not_last"),
        not_before_token=_words(block.get("not_before_token"), "name_words.not_before_token"),
        not_before_key=_words(block.get("not_before_key"), "name_words.not_before_key"),
        formats=tuple(formats),
    )


@lru_cache(maxsize=4096)
def credential_name(name: str) -> Credential | None:
    """Why a variable's name says it holds a credential, or None."""
    facts = credential_facts()
    upper = name.upper()
    known = facts.names.get(upper)
    if known is not None:
        return Credential("name", known[0], known[1])
    words = [w for w in re.split(r"[_\-.]", upper) if w]
    key_id = words[-2:] == ["KEY", "ID"]  # an access key's id: half of the credential
    if not words or (words[-1] in facts.not_last and not key_id):
        return None
    for i, word in enumerate(words):
        before = words[i - 1] if i else ""
        if word in facts.words:
            if word == "TOKEN" and before in facts.not_before_token:
                continue
            return Credential(
                "name-word", f"a secret, by the {word} in its name", facts.words_source
            )
        last_key = word == "KEY" and (i == len(words) - 1 or words[i + 1 :] == ["ID"])
        if last_key and i and before not in facts.not_before_key:
            return Credential("name-word", "a key, by the KEY its name ends in", facts.words_source)
    return None


def placeholder(value: str) -> bool:
    """Whether a literal value holds no credential: empty or a yes/no word, a path to a file,
    a reference ($(VAR), ${VAR}, {{ }}), or text someone is to replace (`<token>`,
    `YOUR_TOKEN`, `hf_xxxx`, `sk-...`)."""
    text = value.strip()
    if text.lower() in _NOT_SECRET or text.startswith(_FILE_VALUE):
        return True
    return _PLACEHOLDER.search(text) is not None


def literal_credential(name: str, value: str) -> Credential | None:
    """Why the literal `value` of the variable `name` is a credential written in plain text, or
    None: a placeholder, a reference, a path, or neither the name nor the value says so."""
    if value == CAPTURE_REDACTED:
        found = credential_name(name)
        if found is None:
            return None  # hidden for a reason plumbob's rules here do not name: not judged
        return Credential("redacted", f"{found.what}; the capture hid its value", found.source)
    if placeholder(value):
        return None
    text = value.strip()
    for fmt in credential_facts().formats:
        if fmt.pattern.search(text):
            return Credential("format", fmt.what, fmt.source)
    found = credential_name(name)
    if found is None:
        return None
    if text.isdigit():
        words = set(re.split(r"[_\-.]", name.upper()))
        if not words & _DIGITS_ONLY_CREDENTIAL_WORDS:
            return None  # TOKEN_TTL=3600, API_KEY_INDEX=2: a setting, not a secret
    return found


__all__ = [
    "CAPTURE_REDACTED",
    "Credential",
    "CredentialFacts",
    "credential_facts",
    "credential_name",
    "literal_credential",
    "placeholder",
]
