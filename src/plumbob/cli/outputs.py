"""Where `plumbob scan` writes its report: `--format` (several), `--output FORMAT=PATH`
(repeatable), `-o PATH` (format from `--format`, else from the suffix), and one format on
standard output. Output problems are found before the scan where they can be (an unknown
format, a missing folder) and are one line and exit 2 where they cannot (a write that fails)."""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, assert_never

from plumbob.render.interface import SUFFIXES, Format, format_of

if TYPE_CHECKING:
    from plumbob.checks.registry import Registry
    from plumbob.render.interface import HistoryPoint
    from plumbob.report.model import Report, Severity


class OutputError(ValueError):
    """An output that cannot be written: the message names it and why, in one line."""


@dataclass(frozen=True, slots=True)
class Target:
    format: Format
    path: Path | None = None
    """None: standard output."""


_NAMES = ", ".join(f.value for f in Format)


def _format(name: str) -> Format:
    try:
        return Format(name.strip().lower())
    except ValueError:
        raise OutputError(f"unknown format {name!r}; use one of {_NAMES}") from None


def plan(formats: Sequence[str] | None, outputs: Sequence[str] | None) -> list[Target]:
    """The outputs a scan writes. `formats`: `--format` values (each may list several,
    comma-separated); `outputs`: `--output` values, `FORMAT=PATH` or a bare PATH."""
    wanted = list(dict.fromkeys(_format(n) for f in formats or () for n in f.split(",") if n))
    targets: list[Target] = []
    bare: list[str] = []
    for given in outputs or ():
        head, sep, tail = given.partition("=")
        if sep and head.strip().lower() in {f.value for f in Format}:
            if not tail:
                raise OutputError(f"--output {given}: no path after '='")
            targets.append(Target(_format(head), Path(tail)))
        else:
            bare.append(given)
    paired = {t.format for t in targets}
    open_formats = [f for f in wanted if f not in paired]
    if bare:
        if wanted:
            if len(bare) != 1 or len(open_formats) != 1:
                raise OutputError(
                    "-o PATH goes with exactly one --format; with several formats give each "
                    "its path: --output FORMAT=PATH (e.g. --output sarif=plumbob.sarif)"
                )
            targets.append(Target(open_formats.pop(), Path(bare[0])))
        else:
            for path in bare:
                fmt = format_of(path)
                if fmt is None:
                    suffixes = ", ".join(SUFFIXES)
                    raise OutputError(
                        f"cannot tell the format of {path} from its suffix ({suffixes}); "
                        "give --format or write --output FORMAT=PATH"
                    )
                targets.append(Target(fmt, Path(path)))
    if not wanted and not outputs:
        open_formats = [Format.TABLE]
    if len(open_formats) > 1:
        names = ", ".join(f.value for f in open_formats)
        raise OutputError(
            f"only one format can go to standard output ({names} asked); give the others a "
            "path: --output FORMAT=PATH"
        )
    targets.extend(Target(f) for f in open_formats)
    seen: set[Path] = set()
    for t in targets:
        if t.path is None:
            continue
        key = t.path.resolve()
        if key in seen:
            raise OutputError(f"{t.path} is the output of two formats")
        seen.add(key)
    return targets


def check_writable(path: Path) -> None:
    """Fails early, before a long scan, on an output whose folder is missing or not writable
    or that is a folder itself."""
    if path.is_dir():
        raise OutputError(f"cannot write {path}: it is a directory")
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise OutputError(f"cannot write {path}: folder {folder} does not exist")
    if path.exists() and not os.access(path, os.W_OK):
        raise OutputError(f"cannot write {path}: permission denied")
    if not path.exists() and not os.access(folder, os.W_OK):
        raise OutputError(f"cannot write {path}: folder {folder} is not writable")


def write_file(path: Path, data: bytes) -> None:
    try:
        path.write_bytes(data)
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from None


def write(
    report: Report,
    targets: Sequence[Target],
    *,
    registry: Registry | None = None,
    fail_on: Severity | None = None,
    max_per_check: int = 8,
    history: Sequence[HistoryPoint] = (),
) -> list[Target]:
    """Render each target and write it; returns those written to files."""
    rules = None
    if any(t.format is not Format.JSON for t in targets):
        from plumbob.render.rules import rules_for

        rules = rules_for(report, registry)
    written = []
    for t in targets:
        buffer = io.StringIO()
        match t.format:
            case Format.TABLE:
                from plumbob.render import table

                if t.path is None:  # straight to the terminal: rich sees its width and colours
                    try:
                        table.render(report, sys.stdout, max_per_check=max_per_check, rules=rules)
                    except BrokenPipeError:
                        _stdout("")
                    continue
                table.render(report, buffer, max_per_check=max_per_check, width=120, rules=rules)
            case Format.JSON:
                from plumbob.render import json as json_renderer

                json_renderer.render(report, buffer)
            case Format.HTML:
                from plumbob.render import html

                assert rules is not None
                html.render(report, buffer, rules=rules, history=history)
            case Format.SARIF:
                from plumbob.render import sarif

                assert rules is not None
                sarif.render(report, buffer, rules=rules)
            case Format.JUNIT:
                from plumbob.render import junit

                assert rules is not None
                junit.render(report, buffer, rules=rules, fail_on=fail_on)
            case Format.MARKDOWN:
                from plumbob.render import markdown

                assert rules is not None
                markdown.render(report, buffer, rules=rules)
            case _:
                assert_never(t.format)
        if t.path is None:
            _stdout(buffer.getvalue())
        else:
            write_file(t.path, buffer.getvalue().encode("utf-8"))
            written.append(t)
    return written


def _stdout(text: str) -> None:
    """Write a report to the terminal (or a pipe): whatever the format, a control character
    from input is shown as an escape, never acted on (report/text.py)."""
    from plumbob.report.text import shown

    try:
        sys.stdout.write(shown(text))
        sys.stdout.flush()
    except BrokenPipeError:  # `plumbob scan | head`: the reader left, nothing more to say
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except OSError as exc:
        raise OutputError(f"cannot write to standard output: {exc.strerror or exc}") from None
