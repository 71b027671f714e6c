"""`kubectl get` tables read into nodes: `get nodes` (plain, `-o wide`, `--show-labels`, `-L`) and
`-o custom-columns`; tables of other kinds are named so they can be refused.

kubectl aligns columns with a tab writer (k8s.io/cli-runtime/pkg/printers/tabwriter.go: padding
3, spaces), so a column's cells start where its header does; a row that does not line up (a
paste that lost its spacing, a hand-edited document) is split on whitespace instead, which
only works when at most one cell holds spaces (OS-IMAGE).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from plumbob.sources.text_command import Command, selector_labels
from plumbob.sources.text_node import (
    NODE_INFO_KEYS,
    SYSTEM_INFO_KEYS,
    NodeText,
    Problems,
    split_label,
)

Line = tuple[int, str]

_WIDE = ("INTERNAL-IP", "EXTERNAL-IP", "OS-IMAGE", "KERNEL-VERSION", "CONTAINER-RUNTIME")
_BASE = ("NAME", "STATUS", "ROLES", "AGE", "VERSION")
_INFO_COLUMNS = {
    "VERSION": "kubeletVersion",
    "OS-IMAGE": "osImage",
    "KERNEL-VERSION": "kernelVersion",
    "CONTAINER-RUNTIME": "containerRuntimeVersion",
}
_IGNORED = frozenset({"ROLES", "AGE"})
_NODE_SIGNS = frozenset({"VERSION", "OS-IMAGE", "KERNEL-VERSION", "CONTAINER-RUNTIME"})
_SIGNATURES = (
    (
        ("CPU(cores)",),
        "kubectl top nodes/pods",
        "current CPU and memory use, not the node inventory",
    ),
    (("LAST SEEN",), "kubectl get events", "events, not the node inventory"),
    (("READY", "STATUS", "RESTARTS"), "kubectl get pods", "pods, not nodes"),
    (("READY", "UP-TO-DATE", "AVAILABLE"), "kubectl get deployments", "deployments, not nodes"),
    (("DESIRED", "CURRENT"), "kubectl get daemonsets/replicasets", "workloads, not nodes"),
    (("TYPE", "CLUSTER-IP"), "kubectl get services", "services, not nodes"),
)
_NODE_INFO_FIELDS = dict.fromkeys(NODE_INFO_KEYS.values(), "nodeInfo")
_NODE_INFO_FIELDS |= dict.fromkeys(SYSTEM_INFO_KEYS.values(), "systemInfo")


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    start: int


def split_columns(text: str) -> list[Column]:
    """A table line's cells and where they start, split on runs of two or more spaces (a
    header's `LAST SEEN` is one name)."""
    columns: list[Column] = []
    i, n = 0, len(text)
    while i < n and text[i] == " ":
        i += 1
    while i < n:
        start = i
        while i < n and not (text[i] == " " and (i + 1 >= n or text[i + 1] == " ")):
            i += 1
        columns.append(Column(text[start:i], start))
        while i < n and text[i] == " ":
            i += 1
    return columns


def header_columns(text: str) -> list[Column] | None:
    """The columns of a kubectl table header (upper-case names, `CPU(cores)` allowed); None
    when the line is not one."""
    if not text or text[0] == " ":
        return None
    columns = split_columns(text)
    for column in columns:
        bare = column.name.split("(", 1)[0]  # `CPU(cores)`: the unit may be lower case
        if not bare or not bare[0].isupper():
            return None
        if not all(c.isupper() or c.isdigit() or c in "()%/_.:- " for c in bare):
            return None
    return columns if len(columns) >= 2 else None


def table_kind(columns: Sequence[Column]) -> tuple[str, str] | None:
    """The command and contents of a non-node table (`kubectl get pods`, `kubectl top`...)
    recognised by its header; None for a node table or a table not recognised."""
    names = {c.name for c in columns}
    for needed, command, what in _SIGNATURES:
        if all(n in names for n in needed):
            return command, what
    if columns[0].name == "NAMESPACE":
        return "kubectl get --all-namespaces", "namespaced objects, not nodes"
    return None


def is_node_header(columns: Sequence[Column]) -> bool:
    return columns[0].name == "NAME" and any(c.name in _NODE_SIGNS for c in columns)


def _cells(columns: Sequence[Column], text: str, blank_ok: frozenset[str]) -> list[str] | None:
    """A row's cells by the header's column starts; None when the row does not line up."""
    cells = []
    for j, col in enumerate(columns):
        end = columns[j + 1].start if j + 1 < len(columns) else len(text)
        if col.start > 0 and (col.start > len(text) or text[col.start - 1] != " "):
            if col.name in blank_ok and col.start >= len(text):
                cells.append("")
                continue
            return None
        cell = text[col.start : end].strip() if col.start < len(text) else ""
        if not cell and col.name not in blank_ok:
            return None
        if cell and j + 1 < len(columns) and text[end - 1 : end] not in ("", " "):
            return None  # the cell runs on into the next column
        cells.append(cell)
    return cells


def _split_cells(columns: Sequence[str], text: str) -> list[str] | None:
    """A row's cells by whitespace, when only OS-IMAGE may hold spaces."""
    words = text.split()
    if len(words) == len(columns):
        return words
    if "OS-IMAGE" in columns and len(words) > len(columns):
        k = list(columns).index("OS-IMAGE")
        extra = len(words) - len(columns)
        return [*words[:k], " ".join(words[k : k + extra + 1]), *words[k + extra + 1 :]]
    return None


def expected_columns(command: Command) -> list[str]:
    """The columns `kubectl get nodes` prints for the command's flags (for rows a grep kept
    without their header)."""
    columns = list(_BASE)
    if command.output == "wide":
        columns += _WIDE
    columns += [label.rsplit("/", 1)[-1].upper() for label in command.label_columns]
    if command.show_labels:
        columns.append("LABELS")
    return columns


def read_node_table(
    lines: Sequence[Line],
    problems: Problems,
    command: Command | None,
    refusals: list[tuple[int, str]],
) -> list[NodeText]:
    """The nodes of `kubectl get nodes` output (one or more tables); tables of other kinds
    go to `refusals`."""
    label_columns = {}
    selected: dict[str, str] = {}
    if command is not None:
        label_columns = {c.rsplit("/", 1)[-1].upper(): c for c in command.label_columns}
        selected = selector_labels(command.selector)
    nodes: list[NodeText] = []
    columns: list[Column] | None = None
    names: list[str] = []
    refused = False
    for number, text in lines:
        if not text.strip():
            columns = None
            continue
        found = header_columns(text)
        if found is not None and found[0].name in ("NAME", "NAMESPACE", "LAST SEEN"):
            columns, names, refused = found, [c.name for c in found], False
            kind = table_kind(found)
            if kind is not None or not (is_node_header(found) or _commanded(command, found)):
                refused = True
                what = kind[0] if kind else "a kubectl table of another kind"
                refusals.append((number, f"looks like `{what}` output; only node tables are read"))
                continue
            unread = [n for n in names if n not in _BASE + _WIDE + ("LABELS",)]
            unread = [n for n in unread if n not in label_columns]
            if unread:
                problems.append((number, f"column(s) {', '.join(unread)} not read"))
            continue
        if refused:
            continue
        if columns is None:
            if command is None or command.filter is None:
                problems.append((number, "a table row without a header line; skipped"))
                continue
            names = expected_columns(command)  # a grep kept the rows, not the header
            cells = _split_cells(names, text)
        else:
            blank_ok = frozenset(label_columns) | {"LABELS"}
            cells = _cells(columns, text, blank_ok) or _split_cells(names, text)
        if cells is None or len(cells) != len(names):
            problems.append((number, "a row that does not fit the table's columns; skipped"))
            continue
        node = _node_row(number, dict(zip(names, cells, strict=True)), label_columns, problems)
        if node is None:
            refused = True
            refusals.append((number, "rows of another kind (`pod/...`); only nodes are read"))
            continue
        nodes.append(_with_selected(node, selected))
    return nodes


def _with_selected(node: NodeText, selected: Mapping[str, str]) -> NodeText:
    """The node with the labels its command selected on (`-l key=value`): every row has them,
    though no column shows them."""
    for key, value in selected.items():
        node.labels.setdefault(key, value)
        node.show("labels", whole=False)
    return node


def _commanded(command: Command | None, columns: Sequence[Column]) -> bool:
    return (
        command is not None
        and "nodes" in command.resource.split(",")
        and (columns[0].name == "NAME")
    )


def _node_row(
    number: int, row: dict[str, str], label_columns: dict[str, str], problems: Problems
) -> NodeText | None:
    kind, slash, name = row["NAME"].rpartition("/")
    if slash and kind not in ("node", "nodes"):
        return None
    node = NodeText(line=number, name=name)
    if "STATUS" in row:
        _status(node, row["STATUS"], number, problems)
    info = [c for c in _INFO_COLUMNS if c in row]
    for column in info:
        value = row[column]
        if value and value != "<unknown>":
            node.node_info[_INFO_COLUMNS[column]] = value
    if info:
        node.show("nodeInfo", whole=len(info) == len(_INFO_COLUMNS))
    for column in ("INTERNAL-IP", "EXTERNAL-IP"):
        for address in row.get(column, "").split(","):
            if address and address != "<none>":
                kind_name = "InternalIP" if column == "INTERNAL-IP" else "ExternalIP"
                node.addresses.append({"type": kind_name, "address": address})
    if "LABELS" in row:
        _labels(node, row["LABELS"], number, problems)
    for column, key in label_columns.items():
        value = row.get(column, "")
        if value and value != "<none>":
            node.labels[key] = value
            node.show("labels", whole=False)
    return node


def _status(node: NodeText, status: str, number: int, problems: Problems) -> None:
    """STATUS: `Ready`, `NotReady` (Ready False or Unknown: kubectl prints both so, and the
    condition is recorded as False), `Unknown` (no Ready condition), then
    `,SchedulingDisabled` when the node is cordoned (k8s.io/kubernetes/pkg/printers/internalversion
    printNode)."""
    words = status.split(",")
    if words[0] == "Ready":
        node.conditions.append({"type": "Ready", "status": "True"})
    elif words[0] == "NotReady":
        node.conditions.append({"type": "Ready", "status": "False"})
    elif words[0] != "Unknown":
        problems.append((number, f"STATUS {status!r} is not one kubectl prints for a node"))
        return
    node.show("conditions")
    node.unschedulable = "SchedulingDisabled" in words[1:]
    node.show("unschedulable")


def _labels(node: NodeText, text: str, number: int, problems: Problems) -> None:
    """The LABELS column of `--show-labels`: `k=v,k2=v2` or `<none>`."""
    if text not in ("", "<none>"):
        for item in text.split(","):
            label = split_label(item)
            if label is None:
                problems.append((number, f"{item[:80]!r} is not a label (key=value); skipped"))
                node.show("labels", whole=False)
                continue
            node.labels[label[0]] = label[1]
    node.show("labels")


def custom_columns(spec: str) -> list[tuple[str, tuple[str, ...]]] | None:
    """`-o custom-columns=HEADER:.json.path,...` as (header, path segments); None when the
    spec is not one (a file, a malformed spec)."""
    spec = spec.strip("'\"")
    if not spec.startswith("custom-columns="):
        return None
    out = []
    for item in spec.removeprefix("custom-columns=").split(","):
        head, colon, path = item.partition(":")
        if not colon or not head:
            return None
        path = path.strip().strip("'\"").removeprefix("{").removesuffix("}")
        segments, current, escaped = [], "", False
        for ch in path.removeprefix("."):
            if escaped:
                current += ch
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == ".":
                segments.append(current)
                current = ""
            else:
                current += ch
        segments.append(current)
        out.append((head, tuple(segments)))
    return out


def read_custom_columns(
    lines: Sequence[Line], problems: Problems, command: Command
) -> list[NodeText]:
    """Nodes from a `kubectl get nodes -o custom-columns=...` table: every field a column
    shows is placed where the path says; labels, annotations and resources shown one by one
    are shown in part."""
    spec = custom_columns(command.output)
    assert spec is not None
    paths = dict(spec)
    selected = selector_labels(command.selector)
    nodes: list[NodeText] = []
    columns: list[Column] | None = None
    unread: set[str] = set()
    for number, text in lines:
        if not text.strip():
            continue
        found = split_columns(text)
        if columns is None and found and [c.name for c in found] == [h for h, _ in spec]:
            columns = found
            for c in found:
                if _place(NodeText(line=0), paths[c.name], "x") is False:
                    unread.add(c.name)
            if unread:
                problems.append((number, f"column(s) {', '.join(sorted(unread))} not read"))
            continue
        if columns is None:
            problems.append((number, "a row before the custom-columns header line; skipped"))
            continue
        cells = _cells(columns, text, frozenset(c.name for c in columns))
        if cells is None:
            cells = _split_cells([c.name for c in columns], text)
        if cells is None:
            problems.append((number, "a row that does not fit the table's columns; skipped"))
            continue
        node = NodeText(line=number)
        for column, cell in zip(columns, cells, strict=True):
            path = paths[column.name]
            if column.name in unread:
                continue
            if cell not in ("", "<none>"):
                _place(node, path, cell)
            elif path == ("spec", "providerID"):
                node.show("providerID")  # a whole field shown as <none>: the node has none
            elif path == ("spec", "unschedulable"):
                _place(node, path, "false")
        if not node.name:
            problems.append((number, "the table has no .metadata.name column; row skipped"))
            continue
        nodes.append(_with_selected(node, selected))
    return nodes


def _place(node: NodeText, path: tuple[str, ...], value: str) -> bool:
    """Put a custom-columns cell where its path points; False when plumbob does not read it."""
    match path:
        case ("metadata", "name"):
            node.name = value
        case ("metadata", "labels", key):
            node.labels[key] = value
            node.show("labels", whole=False)
        case ("metadata", "annotations", key):
            node.annotations[key] = value
            node.show("annotations", whole=False)
        case ("status", ("capacity" | "allocatable") as part, resource):
            (node.capacity if part == "capacity" else node.allocatable)[resource] = value
            node.show(part, whole=False)
        case ("status", "nodeInfo", field_name) if field_name in _NODE_INFO_FIELDS:
            node.node_info[field_name] = value
            node.show(_NODE_INFO_FIELDS[field_name], whole=False)
        case ("spec", "providerID"):
            node.provider_id = value
            node.show("providerID")
        case ("spec", "unschedulable"):
            node.unschedulable = value == "true"
            node.show("unschedulable")
        case ("spec", "podCIDR"):
            node.pod_cidr = value
        case _:
            return False
    return True
