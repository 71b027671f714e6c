"""The JSON report: the Report struct as versioned JSON (docs/report.md)."""

from __future__ import annotations

from typing import TextIO

import msgspec

from plumbob.report.model import Report
from plumbob.report.text import json_bytes


def encode(report: Report) -> bytes:
    """The report as JSON; undecodable bytes in names are written as `\\xff` text and C1
    controls as escapes (report/text.py), so any input gives a document safe to print."""
    return msgspec.json.format(json_bytes(report), indent=2) + b"\n"


def render(report: Report, out: TextIO) -> None:
    out.write(encode(report).decode())
