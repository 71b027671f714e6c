"""The JSON report: the Report struct as versioned JSON (docs/report.md)."""

from __future__ import annotations

from typing import TextIO

import msgspec

from plumbob.report.model import Report


def encode(report: Report) -> bytes:
    return msgspec.json.format(msgspec.json.encode(report), indent=2) + b"\n"


def render(report: Report, out: TextIO) -> None:
    out.write(encode(report).decode())
