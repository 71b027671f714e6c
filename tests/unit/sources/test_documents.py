"""A YAML stream is cut into documents as kubectl cuts it, and a broken document loses only
itself. kubectl's rules are those of k8s.io/apimachinery pkg/util/yaml/decoder.go
`YAMLReader.Read` (what `kubectl apply -f` reads files with, through NewYAMLOrJSONDecoder) and
cli-runtime pkg/resource/visitor.go (`FileVisitor.Visit`: a byte order mark is read, not kept;
`StreamVisitor.Visit`: an empty or null document is skipped)."""

from __future__ import annotations

import codecs
from pathlib import Path
from typing import Any

import pytest

from plumbob.report.model import Level
from plumbob.sources.files import FileSource
from plumbob.sources.yamlload import YamlError, load_documents, split_documents


def read(text: str | bytes) -> tuple[list[tuple[int, Any]], list[tuple[int | None, str]]]:
    """(line, data) of each document read, and (line, message) of each problem."""
    problems: list[YamlError] = []
    docs = [(d.line, d.data) for d in load_documents(text, problems)]
    return docs, [(p.line, str(p)) for p in problems]


def chunks(text: str) -> list[tuple[int, str, str | None]]:
    return [(c.line, text[c.start : c.end], c.separator) for c in split_documents(text)]


# ---------------------------------------------------------------------- what a separator is


@pytest.mark.parametrize(
    "line",
    ["---", "--- ", "---\t", "--- # Source: chart/templates/a.yaml", "---#comment", "---   #x"],
)
def test_a_separator_is_dashes_and_at_most_a_comment(line: str) -> None:
    """YAMLReader.Read trims the rest of a `---` line (strings.TrimSpace) and accepts it when
    it is empty or starts with `#`; `---#x`, which YAML itself reads as text, is a separator
    to kubectl too."""
    text = f"a: 1\n{line}\nb: 2\n"
    assert chunks(text) == [(1, "a: 1\n", None), (3, "b: 2\n", None)]
    assert read(text) == ([(1, {"a": 1}), (3, {"b": 2})], [])


@pytest.mark.parametrize("line", ["  ---", "a: ---", " --- # indented", "x---"])
def test_dashes_not_at_the_start_of_a_line_are_text(line: str) -> None:
    """bytes.Index(line, "---") == 0: only a line that starts with `---` is a separator."""
    assert len(chunks(f"k: v\n{line}\n")) == 1


@pytest.mark.parametrize(
    ("line", "shown"),
    [
        ("--- {b: 2}", "--- {b: 2}"),  # YAML: a document on the marker's line; kubectl: no
        ("--- !!map", "--- !!map"),
        ("--- |", "--- |"),
        ("----", "----"),
        ("---foo", "---foo"),
        ("--- {b: 2}\r", "--- {b: 2}"),
    ],
)
def test_content_after_the_dashes_breaks_only_the_document_it_opens(line: str, shown: str) -> None:
    """kubectl fails on such a line ("invalid Yaml document separator: {b: 2}", decoder.go);
    plumbob names it with its line and reads the documents around it."""
    text = f"a: 1\n{line}\nc: 3\n---\nd: 4\n"
    docs, problems = read(text)
    assert docs == [(1, {"a": 1}), (5, {"d": 4})]
    [(where, message)] = problems
    assert where == 2
    assert message.startswith(f"invalid document separator {shown!r}: kubectl allows only")


def test_a_file_may_start_with_a_separator_and_empty_documents_are_none() -> None:
    text = "---\n---\n# only a comment\n---\n\n---\nkind: A\n---\n"
    assert read(text) == ([(7, {"kind": "A"})], [])
    assert read("\ufeff---\nkind: A\n") == ([(2, {"kind": "A"})], [])


def test_a_separator_at_column_0_ends_a_block_scalar() -> None:
    """YAMLReader.Read does not know about block scalars: a `---` line inside one at column 0
    ends the document there. (YAML agrees: such a line is a document marker wherever it is.)"""
    text = "kind: ConfigMap\ndata:\n  script: |\n    echo start\n---\n    echo more\nkind: B\n"
    docs, problems = read(text)
    assert docs[0] == (1, {"kind": "ConfigMap", "data": {"script": "echo start\n"}})
    assert [line for line, _ in problems] == [7], "the rest is a document of its own, broken"


def test_windows_line_ends() -> None:
    """bufio.Reader.ReadLine drops the CR of a CRLF: `---\\r\\n` is a separator."""
    text = "a: 1\r\n---\r\nb: [1,\r\n---\r\nc: 3\r\n"
    assert read(text) == (
        [(1, {"a": 1}), (5, {"c": 3})],
        [(3, "invalid YAML: did not find expected node content")],
    )


@pytest.mark.parametrize(
    "encoded",
    [
        codecs.BOM_UTF8 + b"a: 1\n---\nb: 2\n",
        "\ufeffa: 1\n---\nb: 2\n".encode("utf-16-le"),
        "\ufeffa: 1\n---\nb: 2\n".encode("utf-16-be"),
    ],
    ids=["utf-8", "utf-16-le", "utf-16-be"],
)
def test_a_byte_order_mark_is_read_not_kept(encoded: bytes) -> None:
    """FileVisitor reads files through unicode.BOMOverride: UTF-8, or UTF-16 by its mark."""
    assert read(encoded) == ([(1, {"a": 1}), (3, {"b": 2})], [])


def test_a_document_end_marker_is_no_separator() -> None:
    """`...` ends a YAML document, but kubectl cuts only at `---` and go-yaml's Unmarshal reads
    the first document of what it is given: what follows `...` up to the next `---` is never
    applied. plumbob reads what kubectl reads and says what it left out."""
    text = "a: 1\n...\nb: 2\n---\nc: 3\n...\n# nothing after\n"
    docs, problems = read(text)
    assert docs == [(1, {"a": 1}), (5, {"c": 3})]
    [(line, message)] = problems
    assert line == 2 and "ignored by kubectl" in message
    problems_ = []
    list(load_documents(text, problems_))
    assert problems_[0].level == Level.WARNING


def test_bytes_that_are_not_utf8_break_only_their_document() -> None:
    text = b"a: 1\n---\nb: caf\xe9\n---\nc: 3\n"
    assert read(text) == ([(1, {"a": 1}), (5, {"c": 3})], [(3, "not UTF-8 text: byte 0xe9")])


# ---------------------------------------------------------------------- a broken document


BROKEN_MIDDLE = """\
apiVersion: v1
kind: Namespace
metadata: {name: first}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: broken}
data:
  key: [unclosed
  other: value
---
apiVersion: v1
kind: Namespace
metadata: {name: third}
"""


def test_a_broken_middle_document_loses_only_itself() -> None:
    docs, problems = read(BROKEN_MIDDLE)
    assert [line for line, _ in docs] == [1, 12]
    assert [d["metadata"]["name"] for _, d in docs] == ["first", "third"]
    [(line, message)] = problems
    assert message.startswith("invalid YAML:") and line == 10, "its line in the whole file"


def test_without_a_list_of_problems_the_first_broken_document_raises() -> None:
    """(`plumbob scan --config` reads its one document that way.)"""
    seen: list[int] = []
    with pytest.raises(YamlError) as raised:
        seen.extend(doc.line for doc in load_documents(BROKEN_MIDDLE))
    assert seen == [1] and raised.value.line == 10


def test_a_file_with_a_broken_middle_document_gives_documents_1_and_3(tmp_path: Path) -> None:
    path = tmp_path / "three.yaml"
    path.write_text(BROKEN_MIDDLE)
    loaded = FileSource((path,)).load()
    [snap] = loaded.snapshots
    assert sorted(n.name for n in snap.objects("Namespace")) == ["first", "third"]
    assert [o.origin.line for o in snap.objects("Namespace") if o.origin] == [1, 12]
    [problem] = loaded.diagnostics
    assert (problem.path, problem.line, problem.level) == (str(path), 10, Level.ERROR)
    assert problem.message.startswith("invalid YAML:")


def test_a_file_of_broken_documents_only_is_unreadable(tmp_path: Path) -> None:
    (tmp_path / "ok.yaml").write_text("apiVersion: v1\nkind: Namespace\nmetadata: {name: ok}\n")
    bad = tmp_path / "bad.yaml"
    bad.write_text("a: [1\n---\nb: {2\n")
    loaded = FileSource((tmp_path,)).load()
    assert [(d.path, d.line) for d in loaded.diagnostics] == [(str(bad), 1), (str(bad), 3)]


def test_list_items_keep_their_lines_after_other_documents() -> None:
    text = "kind: A\n---\nkind: List\nitems:\n- kind: Pod\n- kind: Pod\n"
    [_, listed] = load_documents(text)
    assert listed.line == 3 and listed.item_lines == (5, 6)


# ---------------------------------------------------------------------- unrendered templates

CHART = Path(__file__).parents[2] / "fixtures" / "unrendered"


def test_an_unrendered_helm_template_is_one_problem_with_its_line(tmp_path: Path) -> None:
    """A chart's templates/deployment.yaml, as published (tests/fixtures/helm/SOURCES.md):
    `name: {{ .Values.app }}` is a flow mapping whose key is a mapping to YAML. One diagnostic
    says what the file is, not the YAML error the template text happens to cause."""
    template = CHART / "vllm-helm" / "templates" / "deployment.yaml"
    docs, problems = read(template.read_bytes())
    assert docs == []
    assert problems == [
        (
            4,
            "unrendered Helm template: render it with `helm template` first (template action "
            "'name: {{ .Values.app }}'; 1 document not read)",
        )
    ]


def test_template_documents_of_a_file_are_named_once() -> None:
    text = (
        "{{- if .Values.enabled }}\nkind: A\n{{- end }}\n---\nkind: B\n---\n"
        "kind: C\nspec:\n  replicas: {{ .Values.replicas }}\n"
    )
    docs, problems = read(text)
    assert docs == [(5, {"kind": "B"})]
    assert problems == [
        (
            1,
            "unrendered Helm template: render it with `helm template` first (template action "
            "'{{- if .Values.enabled }}'; 2 documents not read)",
        )
    ]


def test_a_long_template_action_is_shown_short() -> None:
    text = "a: {{ " + "x" * 200 + " }}\n"
    [(line, message)] = read(text)[1]
    assert line == 1 and len(message) < 200 and "...'" in message


def test_the_split_is_linear() -> None:
    """Many documents cost their length once: cut by one scan for `\\n---`."""
    text = "".join(f"---\nkind: K\nmetadata: {{name: n{i}}}\n" for i in range(20_000))
    parts = chunks(text)
    assert len(parts) == 20_000 and parts[-1][0] == 3 * 19_999 + 2
