"""What reports say about each finding id: title, why it matters, how to fix, references.

Checks carry this in their metadata (the Registry); drift ids (`drift:kernel`,
`baseline:taints`, `cross-cluster:nvidia_driver`) take their family's text. Renderers that explain
findings (HTML, SARIF, Markdown, JUnit, the terminal's first finding of each check) read it from
one `Rules` built once per report, never from the checks themselves.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from plumbob.checks.registry import Registry
from plumbob.drift.catalog import drift_entry
from plumbob.drift.findings import TITLES
from plumbob.report.model import Finding, Report, Severity


@dataclass(frozen=True, slots=True)
class Rule:
    """One finding id as reports describe it."""

    id: str
    title: str
    category: str
    severity: Severity
    """The id's default severity; for drift ids, the highest of its findings in the report."""
    why: str = ""
    fix: str = ""
    references: tuple[str, ...] = ()

    @property
    def fix_line(self) -> str:
        """The fix's first sentence, for one-line hints (a sentence that introduces a command
        or an example with a colon ends there)."""
        first = " ".join(self.fix.strip().split("\n\n", 1)[0].split())
        at = first.find(". ")
        if at > 0:
            first = first[: at + 1]
        first = first.rstrip(":").rstrip()
        if len(first) > 200:
            first = first[:200].rsplit(" ", 1)[0] + " …"
        return first if first.endswith((".", "…", ")")) or not first else first + "."

    @property
    def help_uri(self) -> str | None:
        """The first reference that is a web address."""
        return next((r for r in self.references if r.startswith(("https://", "http://"))), None)


@dataclass(frozen=True, slots=True)
class Rules:
    """Every finding id of one report, described."""

    by_id: Mapping[str, Rule]

    def __getitem__(self, check: str) -> Rule:
        return self.by_id[check]

    def get(self, check: str) -> Rule | None:
        return self.by_id.get(check)

    def __iter__(self) -> Iterator[Rule]:
        return iter(self.by_id.values())

    def __len__(self) -> int:
        return len(self.by_id)


def rules_for(report: Report, registry: Registry | None = None) -> Rules:
    """A Rule for every check the report ran and every finding id it holds. Without a
    registry (a report read back from JSON), checks are described by their findings' titles."""
    registry = registry if registry is not None else Registry.discover()
    worst: dict[str, Severity] = {}
    firsts: dict[str, Finding] = {}
    for f in report.findings:
        firsts.setdefault(f.check, f)
        if f.check not in worst or f.severity.rank > worst[f.check].rank:
            worst[f.check] = f.severity
    ids = dict.fromkeys([*(r.check for r in report.checks), *firsts])
    out: dict[str, Rule] = {}
    for check_id in ids:
        check = registry.get(check_id)
        first = firsts.get(check_id)
        if check is not None:
            out[check_id] = Rule(
                id=check_id,
                title=check.title,
                category=check.category,
                severity=worst.get(check_id, check.severity),
                why=check.why,
                fix=check.fix,
                references=check.references,
            )
            continue
        family = check_id.partition(":")[0]
        entry = drift_entry(check_id)
        out[check_id] = Rule(
            id=check_id,
            title=first.title if first else TITLES.get(family, check_id),
            category=first.category if first else "drift" if family in TITLES else "other",
            severity=worst.get(check_id, Severity.MEDIUM),
            why=entry.why if entry else "",
            fix=entry.fix if entry else "",
            references=entry.references if entry and entry.references else ("docs/drift.md",),
        )
    return Rules(MappingProxyType(out))
