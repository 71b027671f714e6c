"""Renderers turn a Report into bytes for people or machines; one per output format."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Format(enum.StrEnum):
    TABLE = "table"
    """The terminal report (render/table.py)."""
    JSON = "json"
    """The versioned JSON report (docs/report.md)."""
    HTML = "html"
    """One self-contained HTML file with charts and a filterable findings table."""
    SARIF = "sarif"
    """SARIF 2.1.0 for code scanning."""
    JUNIT = "junit"
    """JUnit XML for CI test reports."""
    MARKDOWN = "markdown"
    """A pull-request comment."""


SUFFIXES = {
    ".txt": Format.TABLE,
    ".log": Format.TABLE,
    ".json": Format.JSON,
    ".html": Format.HTML,
    ".htm": Format.HTML,
    ".sarif": Format.SARIF,
    ".xml": Format.JUNIT,
    ".md": Format.MARKDOWN,
    ".markdown": Format.MARKDOWN,
}
"""The format `-o FILE` picks from the file's suffix when `--format` is not given
(`report.sarif.json` is SARIF)."""


def format_of(path: str) -> Format | None:
    """The format a file name asks for, by its suffix; None when it names none."""
    name = path.lower()
    if name.endswith(".sarif.json"):
        return Format.SARIF
    dot = name.rfind(".")
    return SUFFIXES.get(name[dot:]) if dot > name.rfind("/") else None


@dataclass(frozen=True, slots=True)
class HistoryPoint:
    """One scan of a cluster as the store recorded it (or this one), for reports that draw
    history (HTML)."""

    cluster: str
    scanned_at: str
    score: int | None
    findings: int
    nodes: int
