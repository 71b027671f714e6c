"""`kubectl describe node(s)` output, whole, cut short, elided or grep'd, read into nodes.

kubectl prints a node's sections in a fixed order (k8s.io/kubectl/pkg/describe/describe.go,
`describeNode`): Name, Roles, Labels, Annotations, CreationTimestamp, Taints, Unschedulable,
Lease, Conditions, Addresses, Capacity, Allocatable, System Info, PodCIDR(s), ProviderID (only
when set), Non-terminated Pods, Allocated resources, Events. A part is known when its section
was shown whole: its header is there and the next header closes it. A section that runs into
the end of the text, or into an elision a person wrote (`...`, `[...]`), may have lost rows:
its part is shown in part. Long annotation values are shortened by kubectl itself (a line
ending in `...`): such an annotation is left out and the annotations count as shown in part.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import pairwise

from plumbob.model.quantity import is_quantity
from plumbob.sources.text_command import Command
from plumbob.sources.text_node import (
    NODE_INFO_KEYS,
    SYSTEM_INFO_KEYS,
    NodeText,
    Problems,
    is_label_key,
    kubectl_time,
    split_label,
    split_taint,
)

Line = tuple[int, str]
"""A 1-based line number and the line's text (tabs expanded, line break removed)."""

_PART_OF = {
    "Labels": ("labels",),
    "Annotations": ("annotations",),
    "Taints": ("taints",),
    "Unschedulable": ("unschedulable",),
    "Conditions": ("conditions",),
    "Capacity": ("capacity",),
    "Allocatable": ("allocatable",),
    "System Info": ("nodeInfo", "systemInfo"),
    "ProviderID": ("providerID",),
}
_SINGLE_LINE = frozenset({"Name", "Roles", "CreationTimestamp", "Unschedulable", "PodCIDR"})
_SINGLE_LINE |= {"PodCIDRs", "ProviderID", "ExternalID"}
_SKIPPED = frozenset({"Roles", "Lease", "PodCIDRs", "ExternalID", "Runtime Handlers"})
_AFTER_PROVIDER = frozenset({"Non-terminated Pods", "Allocated resources", "Events"})
_BEFORE_PROVIDER = frozenset({"System Info", "PodCIDR", "PodCIDRs"})
NODE_HEADERS = (
    frozenset({"Name", "Addresses", "CreationTimestamp", "PodCIDR"} | set(_PART_OF) | _SKIPPED)
    | _AFTER_PROVIDER
)
"""Every section header of a node description."""
NODE_MARKERS = frozenset(
    {"Roles", "Taints", "Unschedulable", "System Info", "Capacity", "Allocatable", "Addresses"}
    | {"PodCIDR", "ProviderID", "Lease"}
    | _AFTER_PROVIDER
)
"""Headers only a node description has (Capacity, Allocatable and Addresses with no value on
their line: a PersistentVolume prints `Capacity: 10Gi`)."""
_KIND_MARKERS = (
    ("Containers", "pod"),
    ("QoS Class", "pod"),
    ("Start Time", "pod"),
    ("Min replicas", "horizontalpodautoscaler"),
    ("StrategyType", "deployment"),
    ("NewReplicaSet", "deployment"),
    ("Desired Number of Nodes Scheduled", "daemonset"),
    ("Completions", "job"),
    ("Schedule", "cronjob"),
    ("Session Affinity", "service"),
    ("Access Modes", "persistentvolumeclaim"),
    ("Data", "configmap"),
    ("Pod Template", "workload"),
)
_ROW_SECTIONS = frozenset({"Capacity", "Allocatable", "System Info", "Conditions", "Addresses"})
"""Sections whose rows a grep excerpt keeps under their header in kubectl's order."""
_ELISIONS = frozenset({"...", "[...]", "\u2026", "(...)", "<snip>", "[snip]", "<...>", "[..]"})


def header(text: str) -> tuple[str, str] | None:
    """A column-0 `Key:  value` line as (key, value); None for anything else."""
    if not text or text[0] == " " or not text[0].isalpha():
        return None
    key, colon, value = text.partition(":")
    if not colon or len(key) > 60 or (value and value[0] not in " \t"):
        return None
    if not all(c.isalnum() or c in " ._/()-" for c in key):
        return None
    return key.rstrip(), value.strip()


def is_elision(text: str) -> bool:
    """A line a person wrote to say lines were left out."""
    stripped = text.strip()
    return stripped in _ELISIONS or (len(stripped) >= 3 and set(stripped) == {"."})


def block_kind(lines: Sequence[Line]) -> str | None:
    """What one `kubectl describe` block (from its `Name:` line) describes: `node`, another
    kind's name, or None when the block is too short to tell."""
    keys: dict[str, str] = {}
    for _, text in lines:
        found = header(text)
        if found:
            keys.setdefault(found[0], found[1])
    if "Kind" in keys and "API Version" in keys:
        return keys["Kind"].lower() or "custom resource"
    if "Namespace" in keys:
        for key, kind in _KIND_MARKERS:
            if key in keys:
                return kind
        return "namespaced object"
    for key in NODE_MARKERS:
        if key in keys and not (key in ("Capacity", "Allocatable", "Addresses") and keys[key]):
            return "node"
    for key, kind in _KIND_MARKERS:
        if key in keys:
            return kind
    if len(keys) > 3:
        return "object of another kind"
    return None


@dataclass(slots=True)
class _Block:
    """State while reading one node's block."""

    node: NodeText
    excerpt: bool
    problems: Problems
    section: str | None = None
    sequence: list[str] = field(default_factory=list)
    key_col: int = 0
    pending: tuple[int, str, list[str]] | None = None
    """An annotation whose value kubectl printed on the following lines: line, key, lines."""
    stray: list[int] = field(default_factory=list)
    """Lines of rows with no section shown above them."""
    ambiguous: set[tuple[str, str]] = field(default_factory=set)
    """(section, resource) rows a grep excerpt showed twice: which section each came from is
    not shown, so neither is kept."""

    def whole(self) -> bool:
        return not self.excerpt

    def close(self, cut: bool) -> None:
        """End the current section; `cut`: it may have lost rows."""
        self.flush_annotation()
        parts = _PART_OF.get(self.section or "", ())
        if self.section == "System Info" and cut:
            have = set(self.node.node_info)
            # the last rows kubectl prints: Kubelet Version (nodeInfo), then Kube-Proxy Version
            self.node.show("nodeInfo", "kubeletVersion" in have and self.whole())
            self.node.show("systemInfo", "kubeProxyVersion" in have and self.whole())
        elif self.section and self.section not in _SINGLE_LINE:
            for part in parts:
                self.node.show(part, self.whole() and not cut)
        self.section = None

    def flush_annotation(self) -> None:
        if self.pending is None:
            return
        number, key, values = self.pending
        self.pending = None
        if any(v.endswith("...") for v in values):
            self.node.show("annotations", whole=False)
            self.problems.append(
                (number, f"annotation {key} was shortened by kubectl: its value is not known")
            )
            return
        self.node.annotations[key] = "\n".join(values)


def read_block(
    lines: Sequence[Line], problems: Problems, *, excerpt: bool, name: str = ""
) -> NodeText:
    """One node from its lines. `excerpt`: the lines are what a grep kept, so every part they
    show is shown in part. `name`: the node's name when the lines do not show it (a command
    naming one node)."""
    block = _Block(NodeText(line=lines[0][0] if lines else 0, name=name), excerpt, problems)
    for number, text in lines:
        if not text.strip():
            continue
        if is_elision(text):
            block.close(cut=True)
            block.sequence.append("...")
            continue
        found = header(text)
        if found and (found[0] in NODE_HEADERS or not _row_context(block, found[0])):
            _start(block, number, found[0], found[1], text)
        elif not excerpt:
            _row(block, number, text)
        elif block.section not in _ROW_SECTIONS or not _row(block, number, text):
            _excerpt_line(block, number, text)
    block.close(cut=True)
    if block.stray:
        first, last = block.stray[0], block.stray[-1]
        where = f"lines {first}-{last}" if last != first else f"line {first}"
        problems.append(
            (first, f"{where}: rows whose section header is not shown (cut or elided); skipped")
        )
    _provider_known(block)
    return block.node


def _row_context(block: _Block, key: str) -> bool:
    """Whether a column-0 `key:` line is a row of the open section rather than a header (a
    document that lost the rows' indentation: `Capacity:` then `nvidia.com/gpu: 8`)."""
    return block.section in ("Capacity", "Allocatable") and "/" in key


def _start(block: _Block, number: int, key: str, value: str, text: str) -> None:
    node = block.node
    block.close(cut=False)
    block.sequence.append(key)
    block.section = key
    block.key_col = len(text) - len(text.split(":", 1)[1].lstrip())
    whole = block.whole()
    if key == "Name":
        if value and not node.name:
            node.name = value
    elif key in ("Labels", "Annotations", "Taints"):
        if value and value != "<none>":
            _continuation(block, number, value, block.key_col)
        elif value == "<none>":
            node.show(_PART_OF[key][0], whole)
    elif key == "CreationTimestamp":
        created = kubectl_time(value)
        if created:
            node.created = created
        else:
            block.problems.append(
                (number, f"CreationTimestamp {value!r} is not a time kubectl prints")
            )
    elif key == "Unschedulable":
        if value in ("true", "false"):
            node.unschedulable = value == "true"
            node.show("unschedulable", whole)
        else:
            block.problems.append((number, f"Unschedulable {value!r} is neither true nor false"))
    elif key == "PodCIDR":
        node.pod_cidr = value
    elif key == "ProviderID":
        node.provider_id = value
        node.show("providerID", whole)
    elif key not in NODE_HEADERS:
        block.problems.append(
            (number, f"{key!r} is not a section of a node description; its lines are skipped")
        )
        block.section = "?"


def _row(block: _Block, number: int, text: str) -> bool:
    """An indented line of the open section; False when it is not one of its rows."""
    section = block.section
    stripped = text.strip()
    indent = len(text) - len(text.lstrip())
    if section is None:
        block.stray.append(number)
    elif section in ("Labels", "Annotations", "Taints"):
        _continuation(block, number, stripped, indent)
    elif section in ("Capacity", "Allocatable"):
        return _resource(block, number, section, stripped)
    elif section == "System Info":
        key, _, value = stripped.partition(":")
        field_name = NODE_INFO_KEYS.get(key) or SYSTEM_INFO_KEYS.get(key)
        if field_name is None:
            if not block.excerpt:
                block.problems.append((number, f"{key!r} is not a System Info row; skipped"))
            return False
        block.node.node_info[field_name] = value.strip()
    elif section == "Conditions":
        condition = _condition(stripped)
        if condition is not None:
            block.node.conditions.append(condition)
        elif block.excerpt:
            return False
    elif section == "Addresses":
        kind, colon, address = stripped.partition(":")
        if not (colon and kind and " " not in kind):
            return False
        block.node.addresses.append({"type": kind, "address": address.strip()})
    elif section in _SINGLE_LINE:
        block.problems.append((number, f"unexpected indented line after {section}; skipped"))
    # Lease, Non-terminated Pods, Allocated resources, Events, unknown sections: rows skipped
    return True


def _resource(block: _Block, number: int, section: str, text: str) -> bool:
    """A Capacity or Allocatable row, `resource:  quantity`."""
    key, colon, value = text.partition(":")
    value = value.strip()
    if not (colon and key and " " not in key and value):
        if not block.excerpt:
            block.problems.append((number, f"not a {section} row (`resource:  quantity`); skipped"))
        return False
    target = block.node.capacity if section == "Capacity" else block.node.allocatable
    value, _, comment = value.partition(" ")
    if not is_quantity(value):
        block.problems.append(
            (number, f"{key} under {section}: {value[:40]!r} is not a quantity; skipped")
        )
        return True
    if comment.strip():
        block.problems.append(
            (number, f"text after {key}'s quantity ignored: {comment.strip()[:60]!r}")
        )
    if (section, key) in block.ambiguous:
        return True
    if block.excerpt and key in target:
        del target[key]
        block.ambiguous.add((section, key))
        block.problems.append(
            (
                number,
                f"{key} shows twice under {section}: the excerpt lost the header between; "
                "neither row is kept",
            )
        )
        return True
    target[key] = value
    return True


def _continuation(block: _Block, number: int, text: str, indent: int) -> None:
    """A Labels, Annotations or Taints entry (the header's value or an indented line)."""
    node, section = block.node, block.section
    whole = block.whole()
    if text == "<none>":
        return
    if section == "Labels":
        label = split_label(text.split(None, 1)[0])
        if label is None:
            block.problems.append((number, f"{text[:80]!r} is not a label (key=value); skipped"))
            return
        node.labels[label[0]] = label[1]
        node.show("labels", whole)
        if len(text.split(None, 1)) > 1:
            block.problems.append((number, "text after the label's value ignored"))
    elif section == "Taints":
        taint = split_taint(text)
        if taint is None:
            block.problems.append((number, f"{text[:80]!r} is not a taint (key=value:Effect)"))
            return
        node.taints.append(taint)
        node.show("taints", whole)
    else:
        _annotation(block, number, text, indent)


def _annotation(block: _Block, number: int, text: str, indent: int) -> None:
    pending = block.pending
    if pending is not None and indent > block.key_col:
        pending[2].append(text)
        return
    block.flush_annotation()
    key_end = 0
    while key_end < len(text) and (text[key_end].isalnum() or text[key_end] in "._/-"):
        key_end += 1
    key, sep = text[:key_end], text[key_end : key_end + 1]
    if not is_label_key(key) or sep not in (":", "="):
        block.problems.append((number, f"{text[:80]!r} is not an annotation; skipped"))
        return
    value = text[key_end + 1 :].strip()
    block.node.show("annotations", block.whole())
    if sep == ":" and not value and block.whole():
        block.pending = (number, key, [])  # the value follows on deeper-indented lines
        block.key_col = indent
        return
    block.node.annotations[key] = value


def _condition(text: str) -> dict[str, str] | None:
    """A Conditions row: type, status, two times (6 words each in kubectl's format, or one),
    then the reason. The column header and its underline give None."""
    words = text.split()
    if (
        len(words) < 2
        or words[0] in ("Type", "----")
        or words[1] not in ("True", "False", "Unknown")
    ):
        return None
    condition = {"type": words[0], "status": words[1]}
    rest = words[2:]
    for _ in range(2):
        if len(rest) >= 6 and rest[0].endswith(","):
            rest = rest[6:]
        elif rest:
            rest = rest[1:]
    if rest:
        condition["reason"] = rest[0]
    return condition


def _excerpt_line(block: _Block, number: int, text: str) -> None:
    """A grep-kept line with no section header above it: placed by its shape alone."""
    kept = block.section if block.section in _ROW_SECTIONS else None
    stripped = text.strip()
    indent = len(text) - len(text.lstrip())
    first = stripped.split(None, 1)[0]
    if split_label(first) is not None:
        block.section = "Labels"
        _continuation(block, number, stripped, indent)
    elif split_taint(first) is not None:
        block.section = "Taints"
        _continuation(block, number, stripped, indent)
    elif (info := stripped.partition(":"))[0] in NODE_INFO_KEYS or info[0] in SYSTEM_INFO_KEYS:
        block.section = "System Info"
        _row(block, number, text)
    elif ":" in first and indent >= 8:
        block.section = "Annotations"
        _annotation(block, number, stripped, indent)
    elif ":" not in stripped:
        pass  # an Allocated resources or pods table row: nothing of the node's parts
    else:
        block.problems.append(
            (number, "a Capacity or Allocatable row without its header: which one is not shown")
        )
    block.section = kept


def _provider_known(block: _Block) -> None:
    """ProviderID is printed only when set: a description that went from System Info or
    PodCIDR straight on to the pods (no elision between) shows the node has none."""
    if block.excerpt or "providerID" in block.node.seen:
        return
    seq = block.sequence
    for before, after in pairwise(seq):
        if before in _BEFORE_PROVIDER and after in _AFTER_PROVIDER:
            block.node.show("providerID")
            return


def split_blocks(lines: Sequence[Line]) -> list[list[Line]]:
    """A describe output cut at its column-0 `Name:` lines, one block per object; lines before
    the first `Name:` form a block of their own."""
    blocks: list[list[Line]] = [[]]
    for line in lines:
        found = header(line[1])
        if found and found[0] == "Name" and blocks[-1]:
            blocks.append([])
        blocks[-1].append(line)
    return [b for b in blocks if b]


def read_nodes(
    lines: Sequence[Line],
    problems: Problems,
    command: Command | None,
    refusals: list[tuple[int, str]],
) -> list[NodeText]:
    """The nodes of a describe output; blocks describing other kinds go to `refusals`."""
    excerpt = command is not None and command.filter is not None
    nodes = []
    for block in split_blocks(lines):
        first = header(block[0][1])
        named = first is not None and first[0] == "Name"
        kind = block_kind(block) if named else "node"
        if named and kind is None and command is not None and command.resource == "nodes":
            kind = "node"
        if kind != "node":
            what = f"`kubectl describe {kind}`" if kind else "`kubectl describe`"
            refusals.append(
                (
                    block[0][0],
                    f"looks like {what} output; only node descriptions (kubectl describe nodes) "
                    "are read",
                )
            )
            continue
        name = ""
        if not named and command is not None and len(command.names) == 1:
            name = command.names[0]
        nodes.append(read_block(block, problems, excerpt=excerpt, name=name))
    return nodes
