"""docs/incidents.md lists the public failure reports behind the catalog: every entry links its
report, says what went wrong and gives a verdict (the checks that catch it, or why none can); the
checks it names exist, and every check whose origin is a failure report is in it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from plumbob.checks.registry import Registry

DOC = Path(__file__).resolve().parents[1] / "docs" / "incidents.md"
VERDICTS = ("Caught by", "Partly caught", "Not caught")
REPORT_URL = re.compile(r"<(https://github\.com/[^>\s]+/(?:issues|pull)/\d+)>")
CHECK_LINK = re.compile(r"\[`([a-z0-9-]+)`\]\(checks\.md#([a-z0-9-]+)\)")


@dataclass(frozen=True)
class Entry:
    title: str
    text: str

    def field(self, name: str) -> str | None:
        match = re.search(rf"^- \*\*{name}:\*\*(.*?)(?=^- \*\*|\Z)", self.text, re.M | re.S)
        return " ".join(match.group(1).split()) if match else None


def entries(text: str) -> list[Entry]:
    parts = re.split(r"^### ", text, flags=re.M)[1:]
    return [Entry(p.split("\n", 1)[0], p.split("\n", 1)[1].split("\n## ")[0]) for p in parts]


@pytest.fixture(scope="module")
def doc() -> list[Entry]:
    return entries(DOC.read_text(encoding="utf-8"))


def test_at_least_fifteen_reports(doc: list[Entry]) -> None:
    assert len(doc) >= 15


def test_every_entry_links_its_report_says_what_and_judges(doc: list[Entry]) -> None:
    registry = {c.id for c in Registry.discover()}
    for entry in doc:
        reports = entry.field("Reports?") or ""
        assert REPORT_URL.findall(reports), f"{entry.title}: no report link"
        assert entry.field("What went wrong"), f"{entry.title}: what went wrong is missing"
        verdicts = [v for v in VERDICTS if entry.field(v)]
        assert len(verdicts) == 1, f"{entry.title}: one verdict of {VERDICTS}, got {verdicts}"
        verdict = entry.field(verdicts[0]) or ""
        links = CHECK_LINK.findall(verdict)
        if verdicts[0] != "Not caught":
            assert links, f"{entry.title}: {verdicts[0]} links no check"
        for name, anchor in links:
            assert name == anchor, f"{entry.title}: {name} links to #{anchor}"
            assert name in registry, f"{entry.title}: no check {name}"


def test_a_report_is_listed_once(doc: list[Entry]) -> None:
    seen: dict[str, str] = {}
    for entry in doc:
        for url in REPORT_URL.findall(entry.field("Reports?") or ""):
            assert url not in seen, f"{url} in {seen.get(url)!r} and {entry.title!r}"
            seen[url] = entry.title


def test_every_check_from_a_failure_report_is_listed(doc: list[Entry]) -> None:
    listed = {url for e in doc for url in REPORT_URL.findall(e.field("Reports?") or "")}
    for check in Registry.discover():
        if check.origin is not None and check.origin.kind == "incident":
            assert check.origin.url in listed, f"{check.id}: {check.origin.url} not in incidents.md"


def test_a_verdict_naming_an_unknown_check_is_seen() -> None:
    """The parser reads what the doc's readers follow: the check links in the verdict."""
    text = (
        "### 1. x\n\n- **Report:** <https://github.com/o/r/issues/1>\n"
        "- **What went wrong:** w.\n- **Caught by:** [`no-such-check`](checks.md#no-such-check).\n"
    )
    [entry] = entries(text)
    links = CHECK_LINK.findall(entry.field("Caught by") or "")
    assert links == [("no-such-check", "no-such-check")]
    assert "no-such-check" not in {c.id for c in Registry.discover()}
