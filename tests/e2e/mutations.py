"""Defects planted into the well-configured cluster, one per check, read from the check's fixture
folder (`tests/checks/<category>/<id>/mutation.yaml`), so that adding a check needs no edit to a
central table.

A mutation file holds exactly one of:

    plant:                       # edits applied, in order, to the cluster's documents
      - drop: {kind: Schedule}   # remove every document a selector (or a list of them) matches
      - add: [{...}, ...]        # append documents
      - in: {kind: Node, name: ip-10-42-131-27.us-west-2.compute.internal}
        set: {metadata.labels["nvidia.com/mig.config"]: all-1g.10gb}
        delete: [spec.taints]    # a path or a list of paths
    gpu-util-percent: 0.3        # every GPU pod's DCGM utilisation (checks that read metrics)
    fires-already:               # the check's finding on the clean cluster is true
      subjects: [Deployment/ml-serving/qwen25-32b-instruct]
      why: the vLLM image is 12.4 GB

and, optionally, `options:` (given to the check whenever the cluster is scanned, e.g. the day
support windows are judged on) and `expect:` (the exact subjects, `Kind/namespace/name`, the
defect must produce).

A selector is a mapping of `kind`, `name`, `namespace` and `apiVersion`, each a pattern or a list
of patterns (`*` matches any text); a document matches when every key given matches (a
cluster-scoped object's namespace is ""). A path is dot-separated keys; `["nvidia.com/gpu"]`
quotes a key with dots, `[0]` indexes a list, `[*]` is every item, `[name=dshm]` every item whose
`name` is `dshm`, and a key with `*` every key it matches. A path that starts with `podSpec`
starts at every pod spec of the document (a Pod's spec, a controller's `spec.template.spec`, a
CronJob's job template's, each replica spec's of a Kubeflow job). `set` creates missing mapping
keys on its way. A step, selector or path that matches nothing is an error, so that a mutation
cannot go stale without a word.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

Doc = dict[str, Any]

KEYS = frozenset({"plant", "gpu-util-percent", "fires-already", "options", "expect"})
KINDS = ("plant", "gpu-util-percent", "fires-already")
STEP_KEYS = frozenset({"drop", "add", "in", "set", "delete"})
SELECTOR_KEYS = frozenset({"kind", "name", "namespace", "apiVersion"})


class MutationError(ValueError):
    """A mutation file that cannot be applied, with where and why."""


@dataclass(frozen=True, slots=True)
class Mutation:
    check: str
    source: Path
    plant: tuple[dict[str, Any], ...] = ()
    gpu_util_percent: float | None = None
    fires_already: tuple[str, ...] = ()
    options: dict[str, Any] = field(default_factory=dict)
    expect: tuple[str, ...] | None = None

    def apply(self, docs: list[Doc]) -> list[Doc]:
        """The documents with this mutation's defect planted (a copy; `docs` is left alone)."""
        out = copy.deepcopy(docs)
        for number, step in enumerate(self.plant, 1):
            try:
                _apply(step, out)
            except MutationError as exc:
                raise MutationError(f"{self.source}: plant step {number}: {exc}") from None
        return out


def load(path: Path, check: str) -> Mutation:
    """The mutation file of a check, its shape checked (MutationError naming the file)."""
    data = yaml.safe_load(path.read_text())
    if not isinstance(data, dict):
        raise MutationError(f"{path}: expected a mapping with one of {', '.join(KINDS)}")
    unknown = set(data) - KEYS
    if unknown:
        raise MutationError(f"{path}: unknown keys {sorted(unknown)} (known: {sorted(KEYS)})")
    given = [k for k in KINDS if k in data]
    if len(given) != 1:
        raise MutationError(f"{path}: needs exactly one of {', '.join(KINDS)}, has {given}")
    options = data.get("options") or {}
    expect = data.get("expect")
    if not isinstance(options, dict) or (expect is not None and not _strings(expect)):
        raise MutationError(f"{path}: options must be a mapping and expect a list of subjects")
    kind = given[0]
    if kind == "plant":
        steps = data["plant"]
        if not isinstance(steps, list) or not steps:
            raise MutationError(f"{path}: plant must be a non-empty list of steps")
        for number, step in enumerate(steps, 1):
            _check_step(step, f"{path}: plant step {number}")
        return Mutation(check, path, plant=tuple(steps), options=options, expect=_tuple(expect))
    if kind == "gpu-util-percent":
        value = data[kind]
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise MutationError(f"{path}: gpu-util-percent must be a number")
        return Mutation(
            check, path, gpu_util_percent=float(value), options=options, expect=_tuple(expect)
        )
    block = data[kind]
    if not isinstance(block, dict) or not _strings(block.get("subjects")) or not block.get("why"):
        raise MutationError(f"{path}: fires-already needs subjects (a list) and why")
    return Mutation(check, path, fires_already=tuple(block["subjects"]), options=options)


def _strings(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, str) for v in value)


def _tuple(value: list[str] | None) -> tuple[str, ...] | None:
    return None if value is None else tuple(value)


def _check_step(step: Any, where: str) -> None:
    if not isinstance(step, dict) or not step or set(step) - STEP_KEYS:
        raise MutationError(f"{where}: a step is a mapping of {sorted(STEP_KEYS)}")
    if "in" in step:
        if not ({"set", "delete"} & set(step)) or {"drop", "add"} & set(step):
            raise MutationError(f"{where}: `in` takes `set` and/or `delete`")
        _selectors(step["in"], where)
        for path in _paths(step.get("delete")):
            _parse(path, where)
        setting = step.get("set") or {}
        if not isinstance(setting, dict):
            raise MutationError(f"{where}: `set` maps paths to values")
        for path in setting:
            _parse(str(path), where)
    elif {"set", "delete"} & set(step) or len(step) != 1:
        raise MutationError(f"{where}: `set` and `delete` need `in`; `drop`, `add` stand alone")
    elif "drop" in step:
        _selectors(step["drop"], where)
    elif not all(isinstance(d, dict) for d in _list(step["add"])):
        raise MutationError(f"{where}: `add` takes documents")


# ------------------------------------------------------------------ applying


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _paths(value: Any) -> list[str]:
    return [] if value is None else [str(p) for p in _list(value)]


def _selectors(value: Any, where: str = "") -> list[dict[str, Any]]:
    selectors = _list(value)
    for sel in selectors:
        if not isinstance(sel, dict) or not sel or set(sel) - SELECTOR_KEYS:
            raise MutationError(f"{where}: a selector is a mapping of {sorted(SELECTOR_KEYS)}")
    return selectors


def _glob(pattern: str) -> re.Pattern[str]:
    return re.compile(".*".join(re.escape(part) for part in pattern.split("*")) + r"\Z")


def _matches(doc: Doc, selector: dict[str, Any]) -> bool:
    meta = doc.get("metadata") or {}
    values = {
        "kind": doc.get("kind", ""),
        "apiVersion": doc.get("apiVersion", ""),
        "name": meta.get("name", ""),
        "namespace": meta.get("namespace", ""),
    }
    return all(
        any(_glob(str(p)).match(str(values[key])) for p in _list(patterns))
        for key, patterns in selector.items()
    )


def _apply(step: dict[str, Any], docs: list[Doc]) -> None:
    if "drop" in step:
        selectors = _selectors(step["drop"])
        for sel in selectors:
            if not any(_matches(d, sel) for d in docs):
                raise MutationError(f"drop: {sel} matches no document")
        docs[:] = [d for d in docs if not any(_matches(d, s) for s in selectors)]
        return
    if "add" in step:
        docs.extend(copy.deepcopy(d) for d in _list(step["add"]))
        return
    selected = [d for d in docs if any(_matches(d, s) for s in _selectors(step["in"]))]
    if not selected:
        raise MutationError(f"in: {step['in']} matches no document")
    for path in _paths(step.get("delete")):
        if not sum(_delete(root, steps) for root, steps in _roots(selected, path)):
            raise MutationError(f"delete: {path} matches nothing in {_names(selected)}")
    for path, value in (step.get("set") or {}).items():
        if not sum(_set(root, steps, value) for root, steps in _roots(selected, str(path))):
            raise MutationError(f"set: {path} reaches nothing in {_names(selected)}")


def _names(docs: list[Doc]) -> str:
    return ", ".join(f"{d.get('kind')}/{(d.get('metadata') or {}).get('name')}" for d in docs)


# ------------------------------------------------------------------ paths

_SEGMENT = re.compile(
    r"""\.?(?:\[(?P<index>\d+|\*)\]
          |\[(?P<field>[^=\]"']+)=(?P<value>[^\]]*)\]
          |\[(?P<quote>["'])(?P<quoted>.*?)(?P=quote)\]
          |(?P<key>[^.\[\]]+))""",
    re.VERBOSE,
)


def _parse(path: str, where: str = "") -> list[tuple[str, Any]]:
    """A path as (how, what) steps: ('key', name), ('index', n), ('all', None),
    ('where', (field, value)); the first step is the root."""
    out: list[tuple[str, Any]] = []
    at = 0
    while at < len(path):
        match = _SEGMENT.match(path, at)
        if match is None or match.end() == at:
            raise MutationError(f"{where}: cannot read path {path!r} at {path[at:]!r}")
        at = match.end()
        if match["index"] == "*":
            out.append(("all", None))
        elif match["index"] is not None:
            out.append(("index", int(match["index"])))
        elif match["field"] is not None:
            out.append(("where", (match["field"], match["value"])))
        else:
            out.append(("key", match["quoted"] if match["quote"] else match["key"]))
    if not out or out[0][0] != "key":
        raise MutationError(f"{where}: path {path!r} must start with a key")
    return out


Step = tuple[str, Any]


def _roots(docs: list[Doc], path: str) -> Iterator[tuple[dict[str, Any], list[Step]]]:
    """Where a path starts in each document, and its steps from there: the whole document
    (held in a one-key mapping, as every place is a container and a key), or, for `podSpec`,
    each of its pod specs."""
    steps = _parse(path)
    for doc in docs:
        if steps[0] == ("key", "podSpec"):
            yield from (({"": spec}, steps[1:]) for spec in _pod_specs(doc))
        else:
            yield {"": doc}, steps


def _pod_specs(doc: Doc) -> Iterator[dict[str, Any]]:
    spec = doc.get("spec") or {}
    if doc.get("kind") == "Pod":
        yield spec
        return
    for found in (
        ((spec.get("template") or {}).get("spec")),
        (((spec.get("jobTemplate") or {}).get("spec") or {}).get("template") or {}).get("spec"),
    ):
        if isinstance(found, dict):
            yield found
    for value in spec.values():  # Kubeflow: spec.<kind>ReplicaSpecs.<role>.template.spec
        if isinstance(value, dict):
            for replica in value.values():
                inner = (replica.get("template") or {}) if isinstance(replica, dict) else {}
                if isinstance(inner.get("spec"), dict):
                    yield inner["spec"]


def _children(node: Any, step: Step) -> Iterator[tuple[Any, Any]]:
    """(container, key or index) of each place one step reaches from `node`."""
    how, what = step
    if how == "key" and isinstance(node, dict):
        if "*" in what:
            pattern = _glob(what)
            yield from ((node, k) for k in list(node) if pattern.match(str(k)))
        elif what in node:
            yield node, what
    elif how == "index" and isinstance(node, list) and what < len(node):
        yield node, what
    elif how == "all" and isinstance(node, list):
        yield from ((node, i) for i in range(len(node)))
    elif how == "where" and isinstance(node, list):
        name, value = what
        yield from (
            (node, i)
            for i, item in enumerate(node)
            if isinstance(item, dict) and str(item.get(name)) == value
        )


def _delete(root: dict[str, Any], steps: list[Step]) -> int:
    places = [(root, "")]
    for step in steps:
        places = [found for parent, key in places for found in _children(parent[key], step)]
    # list items last to first, so that each index still names its item
    for parent, key in sorted(places, key=lambda p: p[1] if isinstance(p[1], int) else 0)[::-1]:
        del parent[key]
    return len(places) if steps else 0


def _set(root: dict[str, Any], steps: list[Step], value: Any) -> int:
    if not steps:
        return 0
    *middle, (how, last) = steps
    places: list[tuple[Any, Any]] = [(root, "")]
    for step in middle:
        reached = []
        for parent, key in places:
            node = parent[key]
            if step[0] == "key" and "*" not in step[1] and isinstance(node, dict):
                node.setdefault(step[1], {})
            reached += list(_children(node, step))
        places = reached
    count = 0
    for parent, key in places:
        node = parent[key]
        if (how == "key" and isinstance(node, dict) and "*" not in last) or (
            how == "index" and isinstance(node, list) and last < len(node)
        ):
            node[last] = copy.deepcopy(value)
            count += 1
    return count


def mutations(checks_root: Path) -> dict[str, Mutation]:
    """Every check's mutation, by check id (folders without a mutation file are left out: the
    catalog test names them)."""
    return {
        path.parent.name: load(path, path.parent.name)
        for path in sorted(checks_root.glob("*/*/mutation.yaml"))
    }
