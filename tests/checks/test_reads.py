"""Each check's `reads=` and `consults=` name every kind it reads: run on snapshots without the
kinds it declares neither way, every check makes the same hits as on the whole snapshot.

The snapshots are every check fixture, the well-configured cluster, the demo fleet and the
shared real fixtures (when present). A kind a check reads without declaring it would be missing
from a live capture (the capture lists what the checks declare) and could not make the check
"not visible" when it is unseen."""

from __future__ import annotations

import ast
import json
from collections.abc import Iterator, Mapping
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from plumbob.checks.kinds import component_groups, expand
from plumbob.checks.registry import COMPONENTS, EVERY_KIND, WORKLOADS, Check, Registry
from plumbob.knowledge.kinds import component_kinds
from plumbob.model.objects import api_group, kind_key
from plumbob.model.snapshot import Snapshot
from plumbob.model.workloads import WORKLOAD_KINDS
from plumbob.sources.demo import DemoSource, DemoSpec
from plumbob.sources.files import FileSource
from tests.conftest import REAL, ROOT
from tests.kind_names import kinds_named_in

REGISTRY = Registry.discover()
TODAY = "2026-12-01"

REAL_INPUTS = ("workloads", "dumps", "nodes")
"""Folders of the shared real fixtures scanned as one input each (dumps: one per dump)."""


def _load(*paths: Path) -> list[Snapshot]:
    return FileSource(tuple(paths), cluster="audit").load().snapshots


@cache
def corpus() -> tuple[tuple[str, Snapshot], ...]:
    """(name, snapshot) of every input the audit runs the checks on."""
    out: list[tuple[str, Snapshot]] = []
    for path in sorted((ROOT / "tests" / "checks").glob("*/*/*.yaml")):
        if path.name.startswith(("trigger-", "clean-", "unseen-")):
            out += [(str(path.relative_to(ROOT)), s) for s in _load(path)]
    out += [("well-configured", s) for s in _load(ROOT / "tests" / "fixtures" / "well-configured")]
    out += [(f"demo {s.cluster.name}", s) for s in DemoSource(DemoSpec()).load().snapshots]
    if REAL.is_dir():
        for folder in REAL_INPUTS:
            if (REAL / folder).is_dir():
                out += [(f"real {folder} {s.cluster.name}", s) for s in _load(REAL / folder)]
    return tuple(out)


def declared(check: Check, snap: Snapshot) -> frozenset[str]:
    """The kind keys of `snap` that `check` declares (reads or consults), expanded as a capture
    expands them (checks/kinds.py `expand`) and further by what the snapshot holds: WORKLOADS
    also stands for the kinds of whatever owns a workload object (a workload is counted under
    its topmost owner); COMPONENTS for every kind of an API group of the components table;
    EVERY_KIND for all."""
    names = {*check.reads, *check.consults}
    if EVERY_KIND in names:
        return frozenset(snap.kinds)
    kinds = set(expand(names))
    if WORKLOADS in names or COMPONENTS in names:
        kinds |= _owner_kinds(snap)
    if COMPONENTS in names:
        kinds |= {k for k, objs in snap.kinds.items() if _group(objs) in component_groups()}
    return frozenset(kinds)


def _group(objs: tuple[Any, ...]) -> str:
    return api_group(objs[0].api_version) if objs else ""


def _owner_kinds(snap: Snapshot) -> set[str]:
    out: set[str] = set()
    for kind in WORKLOAD_KINDS:
        for obj in snap.objects(kind):
            owner = snap.owner_of(obj)
            for _ in range(4):  # as deep as Snapshot.workload_of looks
                if owner is None:
                    break
                out.add(kind_key(owner.api_version, owner.kind))
                owner = snap.owner_of(owner)
    return out


def without(snap: Snapshot, kinds: frozenset[str]) -> Snapshot:
    """The same snapshot without the objects of `kinds`."""
    return Snapshot(
        cluster=snap.cluster,
        objects=(o for k, objs in snap.kinds.items() if k not in kinds for o in objs),
        captured_at=snap.captured_at,
        discovery=snap.discovery,
        not_visible=snap.not_visible,
        source=snap.source,
        gpu_metrics=snap.gpu_metrics,
        captured=snap.captured,
    )


def hits(check: Check, snap: Snapshot) -> list[str]:
    options: Mapping[str, object] = {"today": TODAY} if "today" in check.options else {}
    ctx = check.context(options, snapshots=(snap,))
    out = []
    for hit in check.run(snap, ctx):
        subject = hit.subject
        evidence = json.dumps(hit.evidence, sort_keys=True, default=repr)
        out.append(
            f"{subject.kind}/{subject.namespace}/{subject.name} {hit.path}: {hit.message} "
            f"{evidence}"
        )
    return sorted(out)


def undeclared_reads(check: Check, snap: Snapshot) -> list[str]:
    """The kinds of `snap` whose removal changes what `check` finds though it does not declare
    them: removed all at once first (one run), then one by one to name them."""
    extra = frozenset(snap.kinds) - declared(check, snap)
    if not extra:
        return []
    whole = hits(check, snap)
    if hits(check, without(snap, extra)) == whole:
        return []
    return sorted(k for k in extra if hits(check, without(snap, frozenset({k}))) != whole)


def _cases() -> Iterator[Check]:
    yield from REGISTRY


@pytest.mark.parametrize("check", list(_cases()), ids=lambda c: c.id)
def test_reads_and_consults_name_every_kind_read(check: Check) -> None:
    missed: dict[str, list[str]] = {}
    for name, snap in corpus():
        for kind in undeclared_reads(check, snap):
            missed.setdefault(kind, []).append(name)
    assert not missed, (
        f"{check.id} reads kinds its reads=/consults= do not name (kind: inputs where removing "
        f"it changed the findings): { {k: v[:3] for k, v in missed.items()} }"
    )


_COMPONENT_LOOKUPS = frozenset({"installed", "inventory_visible"})
"""knowledge/components.py functions that read the cluster's components (COMPONENTS)."""


def _module_file(check: Check) -> Path:
    return ROOT / "src" / Path(*check.module.split(".")).with_suffix(".py")


@pytest.mark.parametrize("check", list(_cases()), ids=lambda c: c.id)
def test_kinds_a_checks_module_names_are_declared(check: Check) -> None:
    """The same audit read from the source, for kinds no snapshot above holds: every kind the
    check's module asks a snapshot for is declared, and a check that looks up the installed
    components declares COMPONENTS."""
    names = {*check.reads, *check.consults}
    if EVERY_KIND in names:
        return
    path = _module_file(check)
    covered = expand(names)
    if COMPONENTS in names:
        covered |= {k for _, k in component_kinds()}
    missing = kinds_named_in(path) - covered
    assert not missing, f"{check.id}: {path.name} reads {sorted(missing)} undeclared"
    tree = ast.parse(path.read_text())
    looks_up = {
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module == "plumbob.knowledge.components"
        for alias in node.names
    }
    if looks_up & _COMPONENT_LOOKUPS:
        assert COMPONENTS in names, f"{check.id} looks up installed components: declare COMPONENTS"


def test_the_audit_sees_a_kind_read_without_declaring_it() -> None:
    """The audit itself: a check that counts PriorityClasses without declaring them is caught."""
    import dataclasses

    from plumbob.checks.registry import Hit

    def count_priority_classes(snap: Snapshot) -> Iterator[Hit]:
        for node in snap.nodes:
            yield Hit(node, f"{len(snap.objects('PriorityClass'))} priority classes")

    base = REGISTRY.get("gpu-node-untainted")
    assert base is not None
    sneaky = dataclasses.replace(base, fn=count_priority_classes, wants_context=False)
    snap = next(s for name, s in corpus() if name == "well-configured")
    assert undeclared_reads(sneaky, snap) == ["PriorityClass"]
    honest = dataclasses.replace(sneaky, consults=("PriorityClass",))
    assert undeclared_reads(honest, snap) == []
