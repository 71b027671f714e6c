"""Checks: a small function plus metadata, filed in an explicit Registry by one discovery pass.

    @check(id="gpu-node-untainted", category="gpu", severity="high", reads=("Node",),
           title=..., why=..., fix=..., references=(...), origin=Origin(url, what))
    def gpu_node_untainted(snap: Snapshot) -> Iterator[Hit]: ...

A check may take a second parameter, the CheckContext, for its option values (declared typed in
`options=`, see checks/options.py) and the other snapshots of the run.

What a check reads is declared in two lists of kind keys (`Node`, `Job.batch.volcano.sh`, or the
pseudo-kinds WORKLOADS, COMPONENTS and GPU_METRICS):

- `reads=`: the kinds its verdict stands on. When the input cannot show one of them (a 403, a
  folder of manifests without Nodes: `Snapshot.unseen`), the check is reported "not visible"
  and left out of the score instead of passing on what it did not see.
- `consults=`: kinds it looks at as further evidence, whose absence does not make its verdict
  wrong (a PodGroup that names a workload's gang, the Namespace labels that exempt one). They
  never make a check not visible.

Both lists together are what a live capture lists (checks/kinds.py `capture_kinds`, with the
components table): a check that reads a new kind declares it here and nowhere else.
tests/checks/test_reads.py runs every check with each kind it declares neither way removed
from real and fixture snapshots, and fails when its findings change.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal, NewType, TypeVar, get_args

from plumbob.checks.options import Option, declare
from plumbob.checks.options import convert as convert_options
from plumbob.model.objects import NODE_PARTS, Object
from plumbob.model.refs import ObjectRef
from plumbob.model.snapshot import COMPONENTS as COMPONENTS
from plumbob.model.snapshot import EVERY_KIND as EVERY_KIND
from plumbob.model.snapshot import WORKLOADS as WORKLOADS
from plumbob.model.snapshot import Snapshot
from plumbob.report.model import Severity

CheckId = NewType("CheckId", str)
T = TypeVar("T")

CATEGORIES = (
    "gpu",
    "compat",
    "scaling",
    "images",
    "resilience",
    "policy",
    "observability",
    "cost",
    "drift",
)
"""Check categories, in report order."""


GPU_IDENTITY = ("labels", "capacity", "allocatable")
"""Node parts that tell whether a node has GPUs and which: a check about GPU nodes reads them."""


@dataclass(frozen=True, slots=True)
class Hit:
    """One problem a check found: the object, a message naming it, evidence, and a field path."""

    subject: Object | ObjectRef
    message: str
    evidence: Mapping[str, Any] = field(default_factory=dict)
    path: str | None = None


@dataclass(frozen=True, slots=True)
class CheckContext:
    """What a check may read besides the snapshot: its option values (converted, defaults
    filled in, the baseline's where an option takes one: `value`) and other snapshots of the
    same run (for cross-cluster checks)."""

    options: Mapping[str, object] = field(default_factory=lambda: MappingProxyType({}))
    """Option name -> converted value, for every option the check declares."""
    snapshots: tuple[Snapshot, ...] = ()

    def value(self, option: Option[T]) -> T:
        """The value of one of the check's declared options."""
        try:
            return self.options[option.name]  # type: ignore[return-value]
        except KeyError:
            raise KeyError(
                f"option {option.name!r} has no value here: a check reads only the options its "
                "@check(options=...) declares"
            ) from None


CheckFn = Callable[..., Iterator[Hit]]

OriginKind = Literal["incident", "document"]
"""What an Origin links to: "incident", a failure someone reported on their own cluster (an issue
thread, the pull request that fixed it); "document", the vendor or upstream document that states
the failure, for a check no public failure report was found for."""


@dataclass(frozen=True, slots=True)
class Origin:
    """The one link that shows why a check exists, shown first wherever the check is explained
    (docs/checks.md, `plumbob explain`); `references=` holds the longer list."""

    url: str
    what: str
    """One sentence: what went wrong there, or what the document states."""
    kind: OriginKind = "incident"

    def describe(self) -> str:
        """The origin as one Markdown line: what happened, with the link, and which kind."""
        label = (
            "From a failure report"
            if self.kind == "incident"
            else "From the vendor documentation (no public failure report found)"
        )
        return f"{label}: {self.what} <{self.url}>"

    def as_data(self) -> dict[str, str]:
        return {"url": self.url, "what": self.what, "kind": self.kind}


@dataclass(frozen=True, slots=True)
class Check:
    id: CheckId
    title: str
    category: str
    severity: Severity
    why: str
    fix: str
    references: tuple[str, ...]
    reads: tuple[str, ...]
    """Kinds the verdict stands on: one the input cannot show makes the check not visible."""
    fn: CheckFn
    aliases: tuple[str, ...] = ()
    wants_context: bool = False
    module: str = ""
    options: Mapping[str, Option[Any]] = field(default_factory=lambda: MappingProxyType({}))
    """Option name -> its declaration (type, default, help); plumbob.yaml `options:` and the
    scan flags are converted with it (checks/options.py)."""
    consults: tuple[str, ...] = ()
    """Kinds read as further evidence only: listed by a live capture, never a reason for "not
    visible" (see the module docstring)."""
    node_parts: tuple[str, ...] = ()
    """The parts of a Node (NODE_PARTS) the check's verdict depends on, when it reads nodes: a
    node whose source did not show one of them (a node read from `kubectl get nodes -o wide`
    has no taints) is not assessed by the check, neither passed nor failed."""
    origin: Origin | None = None
    """The failure report (or, lacking one, the vendor document) the check comes from; every
    check of the catalog names one (tests/checks/test_catalog.py)."""

    def run(self, snap: Snapshot, ctx: CheckContext) -> Iterator[Hit]:
        return self.fn(snap, ctx) if self.wants_context else self.fn(snap)

    def context(
        self,
        options: Mapping[str, object] | None = None,
        *,
        snapshots: tuple[Snapshot, ...] = (),
    ) -> CheckContext:
        """A context for running this check alone: `options` (as plumbob.yaml would give them)
        converted, the defaults for the rest. Raises ValueError naming an unusable option."""
        values = convert_options(self.options, options or {})
        return CheckContext(options=MappingProxyType(values), snapshots=snapshots)


_ATTR = "__plumbob_check__"


class CheckDefinitionError(ValueError):
    """A check's metadata is incomplete or clashes with another check."""


def check(
    *,
    id: str,
    title: str,
    category: str,
    severity: str,
    why: str,
    fix: str,
    references: tuple[str, ...] = (),
    reads: tuple[str, ...] = (),
    aliases: tuple[str, ...] = (),
    options: tuple[Option[Any], ...] = (),
    node_parts: tuple[str, ...] | None = None,
    consults: tuple[str, ...] = (),
    origin: Origin | None = None,
) -> Callable[[CheckFn], CheckFn]:
    """Attach check metadata to a function; `Registry.discover` files it. `reads`, `consults`:
    see the module docstring. `node_parts`: the Node parts the check depends on (default: every
    part, when it reads nodes). `origin`: the failure report the check comes from (Origin)."""
    if category not in CATEGORIES:
        raise CheckDefinitionError(f"{id}: unknown category {category!r}; use one of {CATEGORIES}")
    both = sorted(set(reads) & set(consults))
    if both:
        raise CheckDefinitionError(f"{id}: {', '.join(both)} both in reads= and consults=")
    if node_parts is None:
        node_parts = NODE_PARTS if "Node" in reads else ()
    elif "Node" not in reads:
        raise CheckDefinitionError(f"{id}: node_parts given, but reads= does not name Node")
    unknown_parts = set(node_parts) - set(NODE_PARTS)
    if unknown_parts:
        raise CheckDefinitionError(f"{id}: no such node parts {sorted(unknown_parts)}")
    if origin is not None:
        _validate_origin(id, origin)
    declared = declare(id, options)

    def decorate(fn: CheckFn) -> CheckFn:
        params = inspect.signature(fn).parameters
        meta = Check(
            id=CheckId(id),
            title=title,
            category=category,
            severity=Severity(severity),
            why=inspect.cleandoc(why),
            fix=inspect.cleandoc(fix),
            references=tuple(references),
            reads=tuple(reads),
            consults=tuple(consults),
            fn=fn,
            aliases=tuple(aliases),
            wants_context=len(params) > 1,
            module=fn.__module__,
            options=declared,
            node_parts=tuple(node_parts),
            origin=origin,
        )
        setattr(fn, _ATTR, meta)
        return fn

    return decorate


def _validate_origin(check_id: str, origin: object) -> None:
    if not isinstance(origin, Origin):
        raise CheckDefinitionError(f"{check_id}: origin= takes Origin(url, what, kind)")
    if not origin.url.startswith("https://") or any(c.isspace() for c in origin.url):
        raise CheckDefinitionError(f"{check_id}: origin url {origin.url!r} is no https link")
    what = origin.what.strip()
    if not what or not what.endswith(".") or "\n" in what:
        raise CheckDefinitionError(
            f"{check_id}: origin what= must be one sentence ending with a period"
        )
    if origin.kind not in get_args(OriginKind):
        raise CheckDefinitionError(
            f"{check_id}: origin kind {origin.kind!r}; use one of {get_args(OriginKind)}"
        )


class Registry:
    """All known checks by id (and alias)."""

    def __init__(self, checks: list[Check]) -> None:
        by_id: dict[str, Check] = {}
        for c in checks:
            for key in (c.id, *c.aliases):
                if key in by_id and by_id[key] is not c:
                    raise CheckDefinitionError(
                        f"check id {key!r} defined twice ({by_id[key].module}, {c.module})"
                    )
                by_id[key] = c
        self._by_id = by_id
        flagged: dict[str, Option[Any]] = {}
        for c in checks:
            for option in c.options.values():
                if option.flag is None:
                    continue
                other = flagged.setdefault(option.flag, option)
                if other != option:
                    raise CheckDefinitionError(
                        f"{c.id}: option {option.name!r} declares flag {option.flag} that another "
                        f"check's option {other.name!r} declares differently; share one Option"
                    )
        order = {cat: i for i, cat in enumerate(CATEGORIES)}
        self._checks = tuple(
            sorted({c.id: c for c in checks}.values(), key=lambda c: (order[c.category], c.id))
        )

    @classmethod
    def discover(cls, package: str = "plumbob.checks") -> Registry:
        """Import every module under `package` once and file the decorated functions."""
        pkg = importlib.import_module(package)
        found: list[Check] = []
        for info in pkgutil.walk_packages(pkg.__path__, prefix=f"{package}."):
            module = importlib.import_module(info.name)
            for value in vars(module).values():
                meta = getattr(value, _ATTR, None)
                if isinstance(meta, Check) and meta.module == module.__name__:
                    found.append(meta)
        return cls(found)

    def with_checks(self, more: list[Check]) -> Registry:
        """This registry and `more` (custom checks): an id that is already a check's id or
        alias is an error naming both."""
        for c in more:
            for key in (c.id, *c.aliases):
                clash = self._by_id.get(key)
                if clash is not None:
                    what = (
                        "custom check" if clash.module.startswith("custom:") else "built-in check"
                    )
                    raise CheckDefinitionError(
                        f"{c.module.removeprefix('custom:')}: check id {key!r} is already a "
                        f"{what}'s ({clash.id}); pick another id"
                    )
        return Registry([*self._checks, *more])

    def __iter__(self) -> Iterator[Check]:
        return iter(self._checks)

    def __len__(self) -> int:
        return len(self._checks)

    def __contains__(self, key: object) -> bool:
        return key in self._by_id

    def get(self, key: str) -> Check | None:
        return self._by_id.get(key)
