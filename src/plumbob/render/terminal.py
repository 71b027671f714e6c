"""The one console every terminal output goes through: text from input can never act on the
terminal.

Renderers escape names where they build cells (so tables keep their width); this console is
the net under them: every segment of text it writes, whatever built it, has its control
characters, bidirectional overrides and undecodable bytes shown as escapes
(`report.text.shown`). rich's own styling travels outside the text of segments, so colours
still work."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from rich.console import Console, ConsoleOptions, RenderableType
from rich.markup import escape
from rich.segment import Segment

from plumbob.report.text import shown, shown_line


class SafeConsole(Console):
    """A rich Console that never writes a raw control character from the text it renders."""

    def render(
        self, renderable: RenderableType, options: ConsoleOptions | None = None
    ) -> Iterable[Segment]:
        for segment in super().render(renderable, options):
            text, style, control = segment
            if control is None and text:
                safe = shown(text)
                if safe is not text:
                    yield Segment(safe, style)
                    continue
            yield segment


def markup_safe(text: Any) -> str:
    """A value from input placed inside console markup: one line, escapes shown, and rich
    markup (`[/]`, `[link=...]`) taken as text."""
    return escape(shown_line(str(text)))


__all__ = ["SafeConsole", "markup_safe"]
