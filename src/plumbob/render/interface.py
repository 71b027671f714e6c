"""Renderers turn a Report into bytes for people or machines; one per output format."""

from __future__ import annotations

import enum


class Format(enum.StrEnum):
    TABLE = "table"
    JSON = "json"
