"""Node inventories people paste as text, read into Node objects that say what they did not show.

Forms read, and what each shows (the rest of NODE_PARTS is `unknown`):

- `kubectl describe node(s)`, one or several nodes (blocks start at column-0 `Name:`): every
  part but images. A part whose section is missing, runs into the end of the text or into an
  elision (`...`, `[...]`) is shown in part (`TextNode.partial`). kubectl shortens long
  annotation values itself (`k3s.io/node-env: {...,"K3S_U...`): those annotations are left
  out and the annotations are shown in part. ProviderID is printed only when set, so its
  absence is known only when System Info/PodCIDR is followed straight by the pods or events.
  Non-terminated Pods, Allocated resources, Lease and Events are skipped (GPU requests are
  pods' business, read from pods). A fragment without `Name:` (`Capacity:` onwards) is read
  the same way; rows before any header it shows (a cut) are skipped with a warning.
- `kubectl get nodes` tables, plain or `-o wide`, with `--show-labels` and `-L` columns: STATUS
  gives the Ready condition (NotReady is recorded as False: kubectl prints it for False and
  Unknown alike) and unschedulable (`SchedulingDisabled`); VERSION the kubelet; `-o wide` the
  OS image, kernel and runtime (nodeInfo whole only when all four columns are there); LABELS
  all labels; `-L` columns and equality terms of `-l` some labels. ROLES and AGE are not read.
- `kubectl get nodes -o custom-columns=...` with its command line (the headers alone do not say
  which field a column holds): each column goes where its JSON path points; single labels,
  annotations and resources are shown in part, a whole field (`.spec.providerID`) in full.
  Without the command line such a table is refused, naming what is missing.
- A node's label map (`kubectl get node X -o json | jq .metadata.labels`, or yq), as a JSON
  or YAML mapping of label keys to strings with at least one node-label key
  (`kubernetes.io/hostname`, `node.kubernetes.io/...`, `nvidia.com/gpu...`): labels only. A jq
  filter that selects among the labels (`with_entries(select(...))`) makes them partial.
  The name comes from the command, else `kubernetes.io/hostname`, else the file's stem (said).
- grep/egrep excerpts of `describe node`: each kept line is placed by its shape (`k=v` label,
  `k=v:Effect` taint, `k: v` annotation, System Info row) or under the kept header of its
  section (Capacity/Allocatable rows, which come in kubectl's order); every part they show is
  partial, because grep dropped the rest. The node is the one the command or a kept `Name:`
  line names; an excerpt of several nodes' descriptions without their `Name:` lines
  (`kubectl describe nodes | grep nvidia.com`) is refused, as its lines cannot be told apart
  by node. A grep of `-o yaml`/`-o json` output is refused: labels, annotations, capacity and
  allocatable lines look alike once their parents are gone.

Refused with a reason (NotInventory, or a problem next to nodes read from the same text):
describe output of other kinds, `kubectl get` tables of other kinds, `kubectl top`, events,
other kubectl verbs, other programs' output after a prompt, nvidia-smi, Prometheus exposition
text, output rewritten by awk/sed/tr, and jsonpath/go-template output. Not recognised (None):
text with none of these, and documents: text with markdown headings and prose, or more than
`MAX_PROSE_LINES` lines that belong to no recognised output (a README quoting example output
is not an inventory of the reader's cluster).

The shared real excerpts: `kubectl describe node virt01 | egrep` (labels, partial, node virt01)
read; `oc get node worker03 -o yaml | grep` (both) refused; custom-columns with their command
line read; the volcano Capacity/Allocatable fragment read as a nameless node whose Allocatable
is shown in part (it runs into the end) and whose unlabelled first rows are skipped.

All work is linear in the text: lines are scanned once per reader, no regular expression has
nested repetition, JSON and YAML go through the bounded loaders.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any

from plumbob.sources.text_command import Command, command_at
from plumbob.sources.text_describe import (
    NODE_HEADERS,
    Line,
    block_kind,
    header,
    is_elision,
    read_nodes,
)
from plumbob.sources.text_node import (
    NodeText,
    Problems,
    TextNode,
    is_label_key,
    node_label_domain,
)
from plumbob.sources.text_tables import (
    custom_columns,
    header_columns,
    read_custom_columns,
    read_node_table,
    table_kind,
)
from plumbob.sources.yamlload import YamlError, load_documents

__all__ = ["NotInventory", "TextInventory", "TextNode", "label_map_node", "read_text"]

MAX_PROSE_LINES = 3
"""Lines outside any recognised output tolerated before a text counts as a document."""
_READ = "only node text is read (kubectl describe nodes, kubectl get nodes -o wide, label maps)"
_STRONG = frozenset(
    {"Capacity", "Allocatable", "System Info", "Taints", "Unschedulable", "Lease"}
    | {"Non-terminated Pods", "Allocated resources", "PodCIDR", "ProviderID"}
)
_METRIC = re.compile(r"[A-Za-z_:][A-Za-z0-9_:]*(?:\{[^{}\n]*\})? [-+0-9.eEinfNa]+(?: [0-9]+)?")
_HEADING = re.compile(r"#{1,6} \S")
_PROSE = "not part of any node text; skipped"
_MAX_CONTINUED = 50
"""Lines one command may run over with trailing backslashes."""
_SUFFIXES = frozenset({".txt", ".text", ".log", ".out", ".json", ".yaml", ".yml", ".gz", ".md"})
_SUFFIXES |= {".labels", ".describe", ".nodes"}
_FULL_LABELS = re.compile(r"\.(?:items\[\d+\]\.)?metadata\.labels")


@dataclass(frozen=True, slots=True)
class TextInventory:
    """Nodes read from a text, and what in it could not be read."""

    form: str
    """What the text was, e.g. `kubectl describe node`, `kubectl get nodes -o wide`."""
    nodes: list[TextNode]
    problems: list[tuple[int | None, str]]
    """Warnings: lines or blocks not read (with their line), names taken from the file."""


@dataclass(frozen=True, slots=True)
class NotInventory:
    """A text recognised as Kubernetes or GPU output that holds no node inventory."""

    reason: str
    """One line: what the text is and what would be read instead."""


@dataclass(slots=True)
class _Segment:
    command: Command | None
    lines: list[Line] = field(default_factory=list)
    filled: bool = False
    """Whether any of `lines` holds text."""

    def append(self, line: Line) -> None:
        self.lines.append(line)
        self.filled = self.filled or bool(line[1].strip())


@dataclass(slots=True)
class _Reading:
    """What one text gave so far."""

    stem: str
    nodes: list[NodeText] = field(default_factory=list)
    ready: list[TextNode] = field(default_factory=list)
    """Nodes complete as read (label maps, Node objects)."""
    forms: list[str] = field(default_factory=list)
    problems: Problems = field(default_factory=list)
    refusals: list[tuple[int, str]] = field(default_factory=list)
    prose: list[int] = field(default_factory=list)
    """Lines that belong to no recognised output (headings not included)."""
    headings: int = 0
    """Markdown headings outside any output: with prose around them, a document."""

    def add(self, form: str, nodes: Sequence[NodeText]) -> None:
        if nodes:
            self.nodes.extend(nodes)
            if form not in self.forms:
                self.forms.append(form)

    def refuse(self, line: int, reason: str) -> None:
        self.refusals.append((line, reason))


def read_text(text: str, name: str) -> TextInventory | NotInventory | None:
    """Read pasted terminal text. None: not recognised at all (the caller reports it as not
    Kubernetes data); NotInventory: recognised, holds no nodes, says why; TextInventory: the
    nodes, with a problem for every block that could not be read."""
    if "\x00" in text:
        return None
    lines = _lines(text)
    reading = _Reading(stem=stem(name))
    for segment in _segments(lines):
        if segment.command is not None:
            _command_segment(reading, segment.command, segment.lines)
        else:
            _content_segment(reading, segment.lines)
    if len(reading.prose) > MAX_PROSE_LINES or (reading.headings and reading.prose):
        return None
    nodes = [n.build(reading.stem, reading.problems) for n in reading.nodes]
    nodes += reading.ready
    problems = sorted(
        [*reading.problems, *reading.refusals, *((n, _PROSE) for n in reading.prose)],
        key=lambda p: p[0] or 0,
    )
    if nodes:
        nodes.sort(key=lambda n: n.line)
        return TextInventory(form=" + ".join(reading.forms), nodes=nodes, problems=problems)
    if reading.refusals:
        reason = reading.refusals[0][1]
        more = len(reading.refusals) - 1
        return NotInventory(reason + (f" (and {more} more block(s) not read)" if more else ""))
    return None


def label_map_node(data: Any, name: str, line: int = 1) -> TextInventory | None:
    """A JSON/YAML mapping that is one node's labels (label keys to strings, at least one key
    of a node label domain such as kubernetes.io/hostname, node.kubernetes.io/instance-type,
    nvidia.com/gpu.product), or None. The node is named after its kubernetes.io/hostname label,
    else after `name` (the file's stem), and a problem says which."""
    labels = _label_map(data)
    if labels is None:
        return None
    node = NodeText(line=line, labels=labels)
    node.show("labels")
    problems: Problems = []
    built = node.build(stem(name), problems)
    return TextInventory(form="node label map", nodes=[built], problems=problems)


def stem(name: str) -> str:
    """A file's name without the suffixes of text and data files (`gpu-3.labels.json` is
    `gpu-3`; a node name's own dots stay: `ip-10-0-1-2.ec2.internal.txt`)."""
    base = PurePath(name).name
    while (suffix := PurePath(base).suffix.lower()) in _SUFFIXES and base != suffix:
        base = base[: -len(suffix)]
    return base or name


def _label_map(data: Any) -> dict[str, str] | None:
    if not isinstance(data, dict) or not data:
        return None
    labels: dict[str, str] = {}
    for key, value in data.items():
        if not isinstance(key, str) or not is_label_key(key):
            return None
        if isinstance(value, bool):
            value = "true" if value else "false"
        elif isinstance(value, int):
            value = str(value)
        if not isinstance(value, str) or "\n" in value or len(value) > 256:
            return None
        labels[key] = value
    if not any(node_label_domain(k) for k in labels):
        return None
    return labels


# ------------------------------------------------------------------ lines and segments


def _lines(text: str) -> list[Line]:
    text = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    return [(i, raw.expandtabs(8).rstrip()) for i, raw in enumerate(text.split("\n"), start=1)]


def _fence(text: str) -> bool:
    return text.lstrip().startswith(("```", "~~~"))


def _segments(lines: Sequence[Line]) -> list[_Segment]:
    """The text cut at prompt lines (each command and the output after it) and at markdown
    fences that close an output."""
    segments: list[_Segment] = []
    current: _Segment | None = None
    i = 0
    while i < len(lines):
        number, text = lines[i]
        i += 1
        if _fence(text):
            if current is not None and current.filled:
                segments.append(current)
                current = None
            continue
        command = command_at(text, number)
        if command is not None:
            parts = [text]
            while parts[-1].endswith("\\") and i < len(lines) and len(parts) < _MAX_CONTINUED:
                parts[-1] = parts[-1][:-1]  # a command continued on the next line
                parts.append(lines[i][1].strip())
                i += 1
            if len(parts) > 1:
                command = command_at(" ".join(parts), number) or command
            if current is not None:
                segments.append(current)
            current = _Segment(command)
            continue
        if current is None:
            if not text.strip():
                continue
            current = _Segment(None)
        current.append((number, text))
    if current is not None:
        segments.append(current)
    return segments


def _dedent(lines: list[Line]) -> list[Line]:
    """The lines without the indentation the first one has, when every line has it (a paste
    indented as a whole)."""
    body = [t for _, t in lines if t.strip()]
    if not body:
        return lines
    indent = len(body[0]) - len(body[0].lstrip())
    if indent == 0 or any(len(t) - len(t.lstrip()) < indent for t in body):
        return lines
    return [(n, t[indent:]) for n, t in lines]


# ------------------------------------------------------------------ commands


def _command_segment(reading: _Reading, command: Command, lines: list[Line]) -> None:
    start = command.line
    if not any(t.strip() for _, t in lines):
        return
    if not command.kube:
        what = (
            "nvidia-smi output from a host: it names no Kubernetes node"
            if (command.program == "nvidia-smi")
            else f"output of `{command.program}`, not of kubectl"
        )
        reading.refuse(start, f"{what}; {_READ}")
        return
    shown = "`" + " ".join(w for w in (command.program, command.verb, command.resource) if w) + "`"
    if command.transform is not None:
        reading.refuse(
            start,
            f"output of {shown} rewritten by `{command.transform}`: its layout is not "
            f"kubectl's; save the command's own output",
        )
        return
    resources = command.resource.split(",")
    if (command.verb, resources) == ("describe", ["nodes"]) or (
        command.verb == "get" and "nodes" in resources
    ):
        before = (len(reading.nodes), len(reading.ready), len(reading.refusals))
        if command.verb == "describe":
            _describe(reading, command, lines)
        else:
            _get_nodes(reading, command, lines)
        if (len(reading.nodes), len(reading.ready), len(reading.refusals)) == before:
            empty = any(t.strip().startswith("No resources found") for _, t in lines)
            why = "kubectl found no nodes" if empty else "it does not have kubectl's layout"
            reading.refuse(
                start, f"nothing could be read from the output of `{command.text[:80]}`: {why}"
            )
    elif command.verb in ("get", "describe") and command.resource:
        verb = f"{command.program} {command.verb} {command.resource}"
        reading.refuse(start, f"looks like `{verb}` output, not nodes; {_READ}")
    else:
        reading.refuse(
            start, f"output of `{command.program} {command.verb}`, not a node inventory; {_READ}"
        )


def _describe(reading: _Reading, command: Command, lines: list[Line]) -> None:
    excerpt = command.filter is not None
    if not excerpt:
        lines = _dedent(lines)
    named = any((h := header(t)) is not None and h[0] == "Name" for _, t in lines)
    if excerpt and not named and len(command.names) != 1:
        reading.refuse(
            command.line,
            f"an excerpt (`{command.filter}`) of `{command.program} describe nodes` without the "
            "nodes' Name: lines: its lines cannot be told apart by node; an excerpt that keeps "
            "the Name: lines, or one node's description, is read",
        )
        return
    nodes = read_nodes(lines, reading.problems, command, reading.refusals)
    form = f"{command.program} describe node"
    reading.add(f"{form} ({command.filter} excerpt)" if excerpt else form, nodes)


def _get_nodes(reading: _Reading, command: Command, lines: list[Line]) -> None:
    output = command.output.strip("'\"")
    shown = f"{command.program} get nodes"
    if output in ("", "wide"):
        nodes = read_node_table(_dedent(lines), reading.problems, command, reading.refusals)
        flags = " -o wide" if output == "wide" else ""
        flags += " --show-labels" if command.show_labels else ""
        reading.add(shown + flags, nodes)
    elif custom_columns(output) is not None:
        nodes = read_custom_columns(_dedent(lines), reading.problems, command)
        reading.add(f"{shown} -o custom-columns", nodes)
    elif output in ("json", "yaml"):
        if command.filter is not None:
            main = command.text.split("|", 1)[0].strip()
            reading.refuse(
                command.line,
                f"an excerpt (`{command.filter}`) of `{main}`: the lines it kept lost their "
                "parent keys (labels, annotations, capacity and allocatable look alike); save "
                f"the whole `{main}` output instead",
            )
            return
        if not _structured(reading, command, lines) and command.jq is not None:
            reading.refuse(
                command.line,
                f"the output of `{shown} -o {output}` reshaped by jq `{command.jq[:60]}`: only a "
                "node's label map (`jq .metadata.labels`) or whole nodes are read",
            )
    else:
        reading.refuse(
            command.line,
            f"`{shown} -o {output}` output has no layout plumbob can rely on; save "
            f"`{shown} -o wide --show-labels`, `-o yaml` or `kubectl describe nodes`",
        )


def _structured(reading: _Reading, command: Command | None, lines: list[Line]) -> bool:
    """JSON or YAML output: a label map, Node objects, or something refused. False when the
    lines do not parse as either."""
    start = lines[0][0] if lines else 0
    body = "\n".join(t for _, t in lines)
    docs: list[Any] = []
    try:
        docs = [json.loads(body)]
    except (ValueError, RecursionError):
        try:
            docs = [d.data for d in load_documents(body)]
        except (YamlError, RecursionError, ValueError):
            return False
    docs = [d for d in docs if d is not None]
    if not docs:
        return False
    labels = _label_map(docs[0]) if len(docs) == 1 else None
    if labels is not None:
        node = NodeText(line=start, labels=labels)
        jq = command.jq if command is not None else None
        node.show("labels", whole=jq is None or _FULL_LABELS.fullmatch(jq.strip()) is not None)
        if command is not None and len(command.names) == 1:
            node.name = command.names[0]
        reading.add("node label map", [node])
        return True
    if command is None:
        return False  # Kubernetes objects without a command line are manifests: not ours
    objects = [i for d in docs if isinstance(d, dict) for i in (d.get("items") or [d])]
    nodes = [o for o in objects if isinstance(o, dict) and o.get("kind", "Node") == "Node"]
    nodes = [o for o in nodes if isinstance(o.get("metadata"), dict)]
    if nodes:
        reading.ready.extend(TextNode(data=o, unknown=(), line=start) for o in nodes)
        if "kubectl get nodes -o json/yaml" not in reading.forms:
            reading.forms.append("kubectl get nodes -o json/yaml")
        return True
    if objects and all(isinstance(o, dict) and "kind" in o for o in objects):
        kinds = sorted({str(o["kind"]) for o in objects})
        reading.refuse(start, f"objects of kind {', '.join(kinds)}, not nodes; {_READ}")
        return True
    return False


# ------------------------------------------------------------------ text without a command


def _content_segment(reading: _Reading, lines: list[Line]) -> None:
    """Lines with no prompt line above them: recognised by their shape. Forms that take the
    whole segment (JSON or YAML, a describe fragment) are tried once, at its first line; the
    rest at each line, each consuming what it reads, so the work stays linear."""
    lines = _dedent(lines)
    body = [t for _, t in lines if t.strip()]
    if not body:
        return
    first = body[0]
    mapping = first.lstrip().startswith(("{", "[")) or (": " in first and first[0] not in " -#")
    if mapping and _structured(reading, None, lines):
        return
    named = (h := header(first)) is not None and h[0] == "Name"
    if not named and _fragment(lines):
        nodes = read_nodes(lines, reading.problems, None, reading.refusals)
        reading.add("kubectl describe node (fragment)", nodes)
        return
    i = 0
    while i < len(lines):
        number, text = lines[i]
        if not text.strip():
            i += 1
            continue
        end = _recognise(reading, lines, i)
        if end is None:
            if _HEADING.match(text):
                reading.headings += 1
            else:
                reading.prose.append(number)
            i += 1
        else:
            i = end


def _recognise(reading: _Reading, lines: list[Line], i: int) -> int | None:
    """Read the structure starting at line `i`; the index after it, or None."""
    number, text = lines[i]
    found = header(text)
    # kubectl aligns values in a column (`Name:  x` at the least); `Name: x` is YAML
    aligned = found is not None and found[0] == "Name" and text.find(found[1]) >= 7
    if aligned and found is not None and found[1] and block_kind(lines[i : i + 200]):
        nodes = read_nodes(lines[i:], reading.problems, None, reading.refusals)
        reading.add("kubectl describe node", nodes)
        return len(lines)
    columns = header_columns(text)
    if columns is not None and columns[0].name in ("NAME", "NAMESPACE", "LAST SEEN"):
        end = _table_end(lines, i)
        kind = table_kind(columns)
        if kind is not None:
            reading.refuse(number, f"looks like `{kind[0]}` output ({kind[1]}); {_READ}")
        elif any(c.name in ("STATUS", "VERSION", "OS-IMAGE") for c in columns[1:]):
            nodes = read_node_table(lines[i:end], reading.problems, None, reading.refusals)
            names = {c.name for c in columns}
            form = "kubectl get nodes" + (" -o wide" if "KERNEL-VERSION" in names else "")
            reading.add(form + (" --show-labels" if "LABELS" in names else ""), nodes)
        else:
            listed = ", ".join(c.name for c in columns)
            reading.refuse(
                number,
                f"a table whose columns ({listed}) do not say which fields they hold; save it "
                "with the `kubectl get nodes -o custom-columns=...` line that printed it",
            )
        return end
    if "NVIDIA-SMI" in text and "Driver Version" in text:
        reading.refuse(
            number,
            "nvidia-smi output from a host: it names no Kubernetes node; save "
            "`kubectl describe node NODE` to have the node read",
        )
        return _block_end(lines, i)
    if text.startswith(("# HELP ", "# TYPE ")) or _metrics(lines[i : i + 20]):
        reading.refuse(
            number,
            "Prometheus metrics in exposition format: plumbob reads GPU use from a Prometheus "
            "server (--prometheus URL), not from saved metrics; " + _READ,
        )
        return len(lines)
    return None


def _fragment(lines: Sequence[Line]) -> bool:
    """Part of a node description without its Name: line: a header only nodes have, and every
    column-0 line a node-description header (or an elision), so a values file with a
    `Capacity:` key does not pass."""
    strong = False
    for _, text in lines:
        if not text.strip() or text[0] == " " or is_elision(text):
            continue
        found = header(text)
        if found is None or found[0] not in NODE_HEADERS:
            return False
        if found[0] in _STRONG and not (found[0] in ("Capacity", "Allocatable") and found[1]):
            strong = True
    return strong


def _table_end(lines: Sequence[Line], i: int) -> int:
    """The end of the table(s) starting at `i`: a blank line not followed by another header."""
    j = i + 1
    while j < len(lines):
        if not lines[j][1].strip():
            k = j
            while k < len(lines) and not lines[k][1].strip():
                k += 1
            if k >= len(lines) or header_columns(lines[k][1]) is None:
                return k
            j = k
        j += 1
    return j


def _block_end(lines: Sequence[Line], i: int) -> int:
    j = i
    while j < len(lines) and lines[j][1].strip():
        j += 1
    return j


def _metrics(lines: Sequence[Line]) -> bool:
    body = [t for _, t in lines if t.strip()]
    return len(body) >= 2 and all(_METRIC.fullmatch(t) for t in body)
