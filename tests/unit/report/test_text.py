"""Text from input made safe: escapes for the terminal, undecodable bytes, long values."""

from __future__ import annotations

import io
import json

import msgspec
from rich.text import Text

from plumbob.render.terminal import SafeConsole, markup_safe
from plumbob.report.text import (
    MAX_TEXT,
    clipped,
    encodable,
    escape_c1,
    json_bytes,
    shown,
    shown_line,
)


def test_control_characters_are_shown_not_emitted() -> None:
    assert shown("a\x1b[2Jb") == "a\\x1b[2Jb"
    assert shown("\x9b31m") == "\\x9b31m"
    assert shown("nul\x00") == "nul\\x00"
    assert shown("rtl\u202e") == "rtl\\u202e"
    assert shown("two\nlines\tok") == "two\nlines\tok"
    assert shown_line("two\nlines") == "two\\x0alines"
    assert shown("plain") == "plain"


def test_undecodable_bytes_become_their_hex_escape() -> None:
    name = b"nodes-\xff.yaml".decode("utf-8", "surrogateescape")
    assert encodable(name) == "nodes-\\xff.yaml"
    assert shown(name) == "nodes-\\xff.yaml"
    assert json.loads(json_bytes({"path": name})) == {"path": "nodes-\\xff.yaml"}


def test_json_keeps_c1_controls_as_escapes() -> None:
    data = json_bytes({"name": "x\u009b2J\u2028"})
    assert b"\xc2\x9b" not in data and b"\\u009b" in data and b"\\u2028" in data
    assert json.loads(data) == {"name": "x\u009b2J\u2028"}
    assert escape_c1(b'"plain"') == b'"plain"'


def test_long_values_are_clipped_with_a_count() -> None:
    text = "y" * (MAX_TEXT + 5)
    assert clipped(text) == "y" * MAX_TEXT + "... (5 more characters)"
    assert clipped("short") == "short"


def test_the_console_never_writes_a_raw_control_character() -> None:
    out = io.StringIO()
    console = SafeConsole(
        file=out, width=80, force_terminal=True, color_system="standard", highlight=False
    )
    console.print(Text("node \x1b]8;;https://evil\x07click \x9b2J", style="bold"))
    hostile = "[/] [link=https://evil]x[/link] \x1b[2J"
    console.print(f"[red]error[/]: {markup_safe(hostile)}")
    written = out.getvalue()
    assert "\x1b]8;;https://evil" not in written and "\x9b" not in written
    assert "\\x1b]8;;https://evil" in written
    assert "[link=https://evil]x[/link]" in written  # shown as text, not made a link
    assert "\x1b]8;" not in written
    assert "\x1b[1m" in written  # rich's own styling still reaches the terminal
    assert msgspec.json.decode(json_bytes(["\x1b"])) == ["\x1b"]
