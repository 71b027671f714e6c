"""Renderers turn a Report into bytes for people or machines; one per output format."""

from __future__ import annotations

import enum
from typing import Protocol, TextIO

from plumbob.report.model import Report


class Format(enum.StrEnum):
    TABLE = "table"
    JSON = "json"


class Renderer(Protocol):
    def __call__(self, report: Report, out: TextIO) -> None: ...


class RenderError(Exception):
    """A report could not be written in the asked format."""
