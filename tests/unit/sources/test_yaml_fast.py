"""yaml-rs reads plain manifests; whatever it would read differently from PyYAML's YAML 1.1 safe
loader goes to PyYAML. Both paths must give the same documents, lines and data."""

from __future__ import annotations

import itertools
import random
from pathlib import Path

import pytest
import yaml

from plumbob.sources import yamlload
from tests.conftest import REAL, ROOT

pytestmark = pytest.mark.skipif(yamlload.yaml_rs is None, reason="yaml-rs is not installed")


def _docs(documents: list[yamlload.Document]) -> list[tuple[int, int, str, tuple[int, ...]]]:
    # repr: tells 1 from 1.0 from True, and nan compares equal to itself
    return [(d.index, d.line, repr(d.data), d.item_lines) for d in documents]


def _same_or_declined(text: str) -> bool:
    """True when the fast path read `text` (and then exactly as PyYAML), or refused it as PyYAML
    does; False when it left the text to PyYAML."""
    try:
        fast = yamlload._fast_documents(text)
    except yamlload.YamlError:
        with pytest.raises(yamlload.YamlError):
            list(yamlload._pyyaml_documents(text))
        return True
    if fast is None:
        return False
    try:
        reference = list(yamlload._pyyaml_documents(text))
    except yamlload.YamlError as exc:
        pytest.fail(f"PyYAML refuses {text!r} ({exc}) but the fast path read it: {fast}")
    assert _docs(fast) == _docs(reference), text
    return True


MANIFEST = """\
# Source: chart/templates/deployment.yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: trainer
  labels: {app: trainer, tier: "1"}
  annotations:
spec:
  replicas: 3
  strategy: {rollingUpdate: {maxSurge: 25%, maxUnavailable: 0}}
  template:
    spec:
      containers:
      - name: main
        image: nvcr.io/nvidia/pytorch:24.05-py3@sha256:3e4f5a
        args: ["--epochs", "10", --lr, 0.5, "--flag=true"]
        command:
        - /bin/sh
        - -c
        - |
          echo "start"; exec python train.py
        env:
        - {name: NCCL_DEBUG, value: INFO}
        - name: EMPTY
          value: ""
        resources:
          limits: {nvidia.com/gpu: 8, cpu: "4", memory: 64Gi}
---
apiVersion: v1
kind: Service
metadata: {name: trainer}
spec:
  ports: [{port: 80, targetPort: 8080}]
"""


def test_a_plain_manifest_takes_the_fast_path_and_reads_the_same() -> None:
    assert _same_or_declined(MANIFEST)
    docs = list(yamlload.load_documents(MANIFEST))
    assert [(d.index, d.line) for d in docs] == [(0, 2), (1, 29)]
    meta = docs[0].data["metadata"]
    assert "annotations" not in meta  # a null value is left out, as on the PyYAML path
    assert docs[0].data["spec"]["template"]["spec"]["containers"][0]["args"][3] == 0.5


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("YAML 1.1 boolean", "a: yes\n"),
        ("YAML 1.1 boolean key", "on: push\n"),
        ("octal", "mode: 0755\n"),
        ("1.2 octal", "mode: 0o755\n"),
        ("sexagesimal", "t: 1:20\n"),
        ("exponent without a dot", "x: 1e3\n"),
        ("signed leading dot", "x: -.5\n"),
        ("underscore", "x: _6\n"),
        ("underscores in a number", "- 1_000\n"),
        ("underscore after a flow bracket", "[_1, x]\n"),
        ("local tag", "a: !Ref x\n"),
        ("tag in a flow mapping", "{a: !!str 1}\n"),
        ("tag first on its line", "a:\n  !!str\n  1\n"),
        ("anchor in a sequence", "- &a x\n- *a\n"),
        ("anchor after a JSON key", '{"a":&x 1, "b": *x}\n'),
        ("tag right after a JSON key's colon", '{"a":!t 1}\n'),
        ("alias", "a: &x [1]\nb: *x\n"),
        ("merge key", "base: {a: 1}\nb:\n  <<: {c: 2}\n"),
        ("explicit tag", "a: !!binary aGk=\n"),
        ("directive", "%YAML 1.1\n---\na: 1\n"),
        ("document end", "a: 1\n...\n"),
        ("tab", "a:\tb\n"),
        ("carriage returns", "a: |\r\nb: 1\r\n"),
        ("empty block scalar", "a: |\nb: 1\n"),
        ("no final line break", "a: |\n  text"),
        ("List with item lines", "kind: List\nitems:\n- kind: Pod\n- kind: Pod\n"),
        ("complex key", "? [1, 2]\n: x\n"),
        ("flow mapping as a key", "{a: 1}: x\n"),
        ("key indicator in a flow sequence", "[?x, y]\n"),
        ("folded indicator in a flow sequence", "[>x]\n"),
        ("colon first in a flow entry", "[  :x, y]\n"),
        ("flow key over two lines", "metadata: {n\name: gpu}\n"),
        ("quoted flow key over two lines", "m: {'ab\ncd': 1}\n"),
        ("flow key over a blank line", "m: {n\n\n ame: gpu}\n"),
        ("flow key joined by an escaped line break", 'm: {"ab\\\ncd": 1}\n'),
        ("not UTF-8", b"a: \xff\n"),
        ("NUL", "a: x\x00\nb: y\n"),
        ("control character", "a: \x1b[0m\n"),
        ("DEL", "\x7f: 1\n"),
        ("C1 control character", "a: \x9f\n"),
        ("U+FFFE", "a: \ufffe\n"),
        ("next line (NEL)", "a: x\x85y\n"),
        ("line separator", "a: x\u2028  y\n"),
        ("paragraph separator in a block scalar", "a: |\n  x\u2029y\n"),
        ("byte order mark inside", "a: b\n\ufeff: c\n"),
        ("invalid", "a: [1, 2\n"),
        ("colon after a single-quoted JSON-like key's colon", "{'a'::b}\n"),
        ("colon after a quoted key's colon after a blank", '- {"a"  ::b}\n'),
        ("tab on a line of its own", "a: 1\n---\n\t\n"),
    ],
)
def test_what_yaml_rs_would_read_differently_goes_to_pyyaml(name: str, text: str | bytes) -> None:
    assert yamlload._fast_documents(text) is None, name
    try:
        list(yamlload.load_documents(text))  # and PyYAML reads it, or explains why not
    except (yamlload.YamlError, UnicodeDecodeError):
        assert name in (
            "invalid",
            "complex key",
            "flow mapping as a key",
            "folded indicator in a flow sequence",
            "colon first in a flow entry",
            "not UTF-8",
            "NUL",
            "control character",
            "DEL",
            "C1 control character",
            "U+FFFE",
            "next line (NEL)",
            "paragraph separator in a block scalar",
            "byte order mark inside",
            "local tag",
            "tag right after a JSON key's colon",
            # kubectl cuts `%YAML 1.1` off from the document after `---`, and go-yaml refuses
            # a directive without a document (split_documents)
            "directive",
            # a key must fit on one line: yaml-rs folds it, YAML 1.1 refuses it
            "flow key over two lines",
            "quoted flow key over two lines",
            "flow key over a blank line",
            "flow key joined by an escaped line break",
            "colon after a single-quoted JSON-like key's colon",
            "colon after a quoted key's colon after a blank",
            # PyYAML, libyaml and go-yaml skip only spaces where a line starts
            "tab on a line of its own",
        )


@pytest.mark.parametrize(
    "text",
    [
        'command: ["bash", "-c", "ls /dev/nvidia* && echo done"]\n',
        "args:\n- sh\n- -c\n- nvidia-smi && sleep 10 || exit 1\n",
        'schedule: "0 4 * * *"\nplain: 0 4 * * *\n',
        "test: if [ a != b ]; then x; fi\n",
        "name: llama3_405b-a3\nsku: Standard_NC24ads_A100_v4\nenv: {NCCL_DEBUG: INFO}\n",
        "image: repo/app:v1_2\nid: gke_aiml_llm_70b\n",
        "kind: ConfigMap\nmetadata: {name: x}\ndata: {a: b}",  # no final line break
    ],
)
def test_words_that_only_look_like_yaml_syntax_take_the_fast_path(text: str) -> None:
    """`&&`, globs, cron stars, `!=` and names with underscores are text: they no longer send a
    file to PyYAML, and yaml-rs reads them exactly as PyYAML does."""
    assert _same_or_declined(text), text


def test_a_key_given_twice_null_the_second_time_is_left_out() -> None:
    """The last value counts, and a null one means the key is absent (as Kubernetes reads
    it): PyYAML's own constructor and the direct builder agree."""
    text = "a: 1\nb: 2\na:\n"
    assert [d.data for d in yamlload.load_documents(text)] == [{"b": 2}]
    assert yaml.load(text, Loader=yamlload._Loader) == {"b": 2}
    assert [d.data for d in yamlload._pyyaml_documents("{a: -?5, a}\n")] == [{}]


@pytest.mark.parametrize(
    "text",
    [
        "a: 1\nb: 2\na:\n",
        "spec:\na: y\nspec:\n  b: 1\n",
        # the first value, which yaml-rs would drop unread, is one PyYAML refuses
        "spec:\n  [a]: 1\nspec: {}\n",
        "spec:\n  x: =\nspec: {}\n",
        "spec:\n  mode: 0755\nspec: {}\n",
    ],
)
def test_a_key_given_twice_goes_to_pyyaml(text: str) -> None:
    assert yamlload._fast_documents(text) is None


def test_a_line_separator_ends_a_comment_on_both_paths() -> None:
    """YAML 1.1 (PyYAML, libyaml, and go-yaml, which Kubernetes reads with) ends a line at
    U+2028, U+2029 and NEL; yaml-rs does not. A key after such a character in a comment is a key
    to the cluster, and plumbob must see it too."""
    text = "securityContext:\n  runAsNonRoot: true # reviewed\u2028  privileged: true\n"
    assert yamlload._fast_documents(text) is None
    docs = list(yamlload.load_documents(text))
    assert docs[0].data == {"securityContext": {"runAsNonRoot": True, "privileged": True}}


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("{n\ne: }", 2),  # the shortest text found: a key over two lines, its value null
        ("metadata: {n\name: gpu}\n", 2),
        ("{a: b,\n c\n d: e}\n", 3),
        ("- {a\n  b: c}\n", 2),
        ("{a: [x, {b\n c: d}]}\n", 2),
        ('{"a\n b": c}\n', 2),
        ("{'a\n\n b': c}\n", 3),
        ('{"a\\\n b": c}\n', 2),  # an escaped line break: yaml-rs reads the key `ab`
        ('{"a"\n  :b}\n', 2),  # the key on one line, its `:` on the next
        # no block scalar in a flow collection: yaml-rs reads [{"x": "|"}], ["a", {"b": "| c"}]
        ("[x: |\n  ]\n", 1),
        ("[a,\n b: |\n  c]\n", 2),
        ("{a: >\n  b}\n", 1),
        # no plain scalar starts with `:` in a flow collection: yaml-rs reads [":x"]
        ("[\n:x]\n", 2),
        ("k: [a: # c\n  :x]\n", 2),
    ],
)
def test_what_a_flow_collection_over_lines_may_not_hold_is_refused_as_kubectl_does(
    text: str, line: int
) -> None:
    """YAML restricts an implicit key to one line: PyYAML, libyaml and go-yaml, which kubectl
    reads with, refuse the `:` after a key that began on an earlier line (scannerc.go
    `yaml_parser_stale_simple_keys`); yaml-rs reads `{a\nb: c}` as {"a b": "c"}. Nor do they
    read a block scalar header or a `:` starting a scalar in a flow collection, which yaml-rs
    takes for text. The fast path leaves such text to PyYAML, which names the line."""
    assert yamlload._fast_documents(text) is None
    with pytest.raises(yamlload.YamlError) as caught:
        list(yamlload.load_documents(text))
    assert caught.value.line == line
    stream = f"{MANIFEST}---\n{text}\n---\n{MANIFEST}"
    docs, broken = _streamed(stream)
    assert (docs, broken) == _reference_stream(stream)
    assert len(docs) == 4 and broken == [MANIFEST.count("\n") + 1 + line]


@pytest.mark.parametrize(
    "text",
    [
        "metadata: {name: a,\n  namespace: b}\n",
        "k: {a: x\n  y}\n",  # a value over two lines is allowed
        "{a: [x,\n y: z]}\n",
        "a: {b: c,  # note\n  d: e}\n",
        '{"a": 1,\n "b": {"c": "d e"}}\n',
        "data:\n  policy.rego: |\n    deny[msg] {\n      input.kind == 'Pod'\n    }\n",
    ],
)
def test_a_flow_mapping_over_lines_with_one_line_keys_takes_the_fast_path(text: str) -> None:
    """Flow mappings may go on over lines, and braces in a block scalar are text: only a key
    over two lines sends a document to PyYAML."""
    assert _same_or_declined(text), text


@pytest.mark.parametrize(
    "text", ["\xa0n: x\n", "\xa0n:\na: 1\n", "a:\n  \xa0b: c\n", "---#: x\nb: 1\n", "---#\n"]
)
def test_what_only_looks_like_space_or_a_marker_reads_alike(text: str) -> None:
    """A no-break space is text to YAML, not white space (the first document was lost: its
    only line looked empty); `---#` is a word to YAML but a separator to kubectl, and both
    paths cut the stream there."""
    assert _same_or_declined(text), text


def test_a_byte_order_mark_first_is_read_on_the_fast_path() -> None:
    assert _same_or_declined("\ufeffa: b\n")
    assert _same_or_declined(b"\xef\xbb\xbfa: b\n".decode())
    assert yamlload._fast_documents(b"\xef\xbb\xbfa: b\n") is not None
    assert _same_or_declined("a: caf\u00e9 \U0001f600\n")  # other text outside ASCII


def test_a_key_given_twice_keeps_its_first_place() -> None:
    """PyYAML's constructor keeps a repeated key where it first stood, with its last value;
    so does the direct builder, also when the first value is null."""
    text = "spec:\na: y\nspec:\n  b: 1\n"
    assert list(next(yamlload._pyyaml_documents(text)).data) == ["spec", "a"]
    assert list(yaml.load(text, Loader=yamlload._Loader)) == ["spec", "a"]


_PROSE = [
    "a && b",
    "x & y",
    "ls /dev/nvidia*",
    "* * *",
    "a != b",
    "! x",
    "&a",
    "*a",
    "!t x",
    "!!str 1",
    "llama3_405b",
    "_1",
    "1_000",
    "x_1",
    "0_7 x",
    "- &y z",
]


def test_property_characters_read_alike_or_go_to_pyyaml() -> None:
    """`*`, `&`, `!` and `_` in every position a scalar can take, bare and quoted."""
    templates = (
        "a: {}\n",
        "- {}\n",
        "[{}]\n",
        "{{a: {}}}\n",
        '{{"a":{}}}\n',
        "a:{}\n",
        'a: "{}"\n',
        "a: '{}'\n",
    )
    fast = 0
    for word, other in itertools.product(_PROSE, repeat=2):
        for template in templates:
            for text in (template.format(word), template.format(f"{word} {other}")):
                fast += _same_or_declined(text)
    assert fast > 500


_TOKENS = [
    *"0123456789",
    *"+-._:eExXoObB=~",
    "yes",
    "No",
    "ON",
    "off",
    "true",
    "False",
    "null",
    ".inf",
    ".NaN",
    "0x",
]


_SCALAR_PLACES = (
    "a: {}\n",
    "- {}\n",
    "{}: x\n",
    "[{}, x]\n",
    "{{a: {}}}\n",
    '{{"a":{}}}\n',
    "{{a:{}}}\n",
    "[a:{}]\n",
)
"""Where a scalar can stand, and right after a colon with no space (a JSON-like key takes the
value that follows, a plain word keeps it)."""


def test_scalars_read_alike_or_go_to_pyyaml() -> None:
    """Plain scalars made of number-ish pieces, in every position a scalar can take."""
    rng = random.Random(7)
    tokens = {"".join(p) for n in (1, 2) for p in itertools.product(_TOKENS, repeat=n)}
    tokens |= {"".join(rng.choice(_TOKENS) for _ in range(rng.randint(3, 6))) for _ in range(4000)}
    fast = 0
    for token in sorted(tokens):
        for template in _SCALAR_PLACES:
            fast += _same_or_declined(template.format(token))
    assert fast > 1000  # most of them are read fast; the rest were compared with PyYAML


CORPORA = ("project", "real")
"""The tests over fixture files (and the fuzz tests seeded from them) run over the project's own
fixtures, the same on every checkout, and apart from them over the shared real fixtures where
present (skipped where not): a checkout without the shared files runs the project's cases
exactly as one with them does, with the same random edits."""


def _corpus(corpus: str) -> list[Path]:
    if corpus == "real" and not REAL.is_dir():
        pytest.skip(f"real fixtures not found at {REAL} (set PLUMBOB_REAL_FIXTURES)")
    root = REAL if corpus == "real" else ROOT / "tests" / "fixtures"
    return sorted(p for p in root.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file())


def _fast_seeds(corpus: str, limit: int) -> list[str]:
    """MANIFEST and the corpus' files under `limit` characters that the fast path reads whole."""
    seeds = [MANIFEST]
    for path in _corpus(corpus):
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        if len(text) < limit and yamlload._fast_documents(text) is not None:
            seeds.append(text)
    return seeds


@pytest.mark.parametrize("corpus", CORPORA)
def test_fixture_files_read_alike(corpus: str) -> None:
    fast = 0
    for path in _corpus(corpus):
        text = path.read_bytes()
        try:
            fast += _same_or_declined(text.decode())
        except UnicodeDecodeError:
            assert yamlload._fast_documents(text) is None
    assert fast >= 10, f"only {fast} fixture files took the fast path"


_INSERTS = [
    *"#:-\"'\\{}[],&*!|>%@`?~\t ",
    *"\x00\x1b\x7f\x85\x9f\xa0\u2028\u2029\ufeff\ufffe\xe9",
    "\n",
    "\n---\n",
    "\n...\n",
    ": ",
    " #",
    "- ",
    "? ",
    "|-",
    ">+",
    "\n  ",
    "!!str ",
    "<<: ",
]
_VALUES = [
    *("yes", "No", "~", "null", "true", "0o17", "0755", "0x1F", "1e3", "1_000", ".inf", "1:30"),
    *("'x'", '"x"', "''", "&a x", "*a", "|", ">\n  y", "[a, b]", "{a: b}", "x #c", "=", "<<"),
    *("- a", "a: b", "-", "---", "...", "0b101", "+.5", "_1", "2001-12-14", "'a''b'", '"\\x41"'),
]


def _mutated(text: str, rng: random.Random) -> str:
    """`text` with one to three random edits of the kinds that found differences before:
    a YAML special character or line break inserted, a few characters deleted, a value or key
    replaced by a tricky scalar, a line re-indented or repeated."""
    for _ in range(rng.randint(1, 3)):
        lines = text.split("\n")
        i = rng.randrange(len(lines))
        line = lines[i]
        op = rng.randrange(6)
        if op == 0:
            at = rng.randrange(len(text) + 1)
            text = text[:at] + rng.choice(_INSERTS) + text[at:]
            continue
        if op == 1:
            at = rng.randrange(len(text) + 1)
            text = text[:at] + text[at + rng.randint(1, 4) :]
            continue
        colon = line.find(": ")
        if op == 2 and colon >= 0:
            lines[i] = line[: colon + 2] + rng.choice(_VALUES)
        elif op == 3 and colon > 0:
            indent = len(line) - len(line.lstrip())
            lines[i] = line[:indent] + rng.choice(_VALUES) + line[colon:]
        elif op == 4:
            lines[i] = " " * rng.choice((1, 2, 4)) + line
        else:
            lines.insert(i, rng.choice(lines))
        text = "\n".join(lines)
    return text


@pytest.mark.parametrize("corpus", CORPORA)
def test_mutated_manifests_read_alike(corpus: str) -> None:
    """Manifests the fast path reads, edited at random (seeded): every text it still takes
    reads exactly as on the PyYAML path. (Each difference this found is a case above.)"""
    rng = random.Random(2026)
    seeds = _fast_seeds(corpus, 20_000)
    fast = sum(_same_or_declined(_mutated(rng.choice(seeds), rng)) for _ in range(6000))
    assert fast > 1000  # (the rest went to PyYAML: nothing to compare)


def _reference_stream(text: str) -> tuple[list[tuple[int, int, str, tuple[int, ...]]], list[int]]:
    """What `load_documents` must give: the stream cut as kubectl cuts it and every document
    read by PyYAML alone; (documents, lines of the broken ones)."""
    stream = yamlload._decoded(text, False)
    docs: list[yamlload.Document] = []
    broken: list[int] = []
    for chunk in yamlload.split_documents(stream.text):
        try:
            if chunk.separator is not None:
                raise yamlload._separator_error(chunk)
            doc, _ = yamlload._pyyaml_chunk(
                stream.text[chunk.start : chunk.end], chunk.line, len(docs)
            )
        except yamlload.YamlError as exc:
            assert exc.line is not None
            broken.append(exc.line)
            continue
        if doc is not None:
            docs.append(doc)
    return _docs(docs), broken


def _streamed(text: str) -> tuple[list[tuple[int, int, str, tuple[int, ...]]], list[int]]:
    problems: list[yamlload.YamlError] = []
    docs = list(yamlload.load_documents(text, problems))
    return _docs(docs), [p.line for p in problems if p.level == "error" and p.line is not None]


@pytest.mark.parametrize(
    "middle",
    [
        "a: [1, 2\n",  # unclosed: the fast path's parser refuses it, PyYAML says where
        "a: &x 1\nb: *y\n",  # an unknown alias: PyYAML's own constructor
        "a: 0x_\n",  # a number PyYAML resolves but cannot convert
        "a: b: c\n",
        "\tkey: tab\n",
        "kind: List\nitems:\n- 1\n- [\n",
        " \t# a tab where the line starts: not a blank line to YAML 1.1\n",
    ],
)
def test_a_broken_middle_document_reads_alike_on_both_paths(middle: str) -> None:
    """Around a document only PyYAML can judge, the documents the fast path reads are the
    ones PyYAML reads, with the same lines; the broken one is named at its line."""
    text = f"{MANIFEST}---\n{middle}---\n{MANIFEST}"
    docs, broken = _streamed(text)
    assert (docs, broken) == _reference_stream(text)
    assert len(docs) == 4 and len(broken) == 1
    first = MANIFEST.count("\n") + 2
    assert first <= broken[0] < first + middle.count("\n")


@pytest.mark.parametrize("corpus", CORPORA)
def test_mutated_middle_documents_read_alike(corpus: str) -> None:
    """Three documents, the middle one edited at random (seeded): whatever the middle turns
    into (broken, several documents, a separator of its own), the stream reads as kubectl's
    cut read by PyYAML, and the first and last documents are always read."""
    rng = random.Random(2027)
    seeds = [
        text if text.endswith("\n") else text + "\n"
        for text in (
            "apiVersion: v1\nkind: Namespace\nmetadata: {name: gpu}\n",
            *_fast_seeds(corpus, 5_000),
        )
    ]
    broken_seen = 0
    for _ in range(1500):
        first, last = rng.choice(seeds), rng.choice(seeds)
        middle = _mutated(rng.choice(seeds), rng)
        text = f"{first}---\n{middle}\n---\n{last}"
        docs, broken = _streamed(text)
        reference = _reference_stream(text)
        assert docs == reference[0], text
        if "{{" not in text:  # (template documents are one problem per file)
            assert broken == reference[1], text
        broken_seen += bool(broken)
        alone = [d.data for d in yamlload.load_documents(first)]
        assert [d[2] for d in docs[: len(alone)]] == [repr(a) for a in alone]
        assert docs[-1][2] == repr(list(yamlload.load_documents(last))[-1].data)
    assert broken_seen > 100
