"""`plumbob checks` and `plumbob explain`: the catalog."""

from __future__ import annotations

from typing import Annotated

import typer

from plumbob.cli import exit_codes
from plumbob.cli.common import fail


def list_checks(
    category: Annotated[str | None, typer.Option("--category", help="Only this category.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable list.")] = False,
) -> None:
    """List every check with its id, category, severity and title."""
    from plumbob.checks.registry import Registry

    checks = [c for c in Registry.discover() if category in (None, c.category)]
    if as_json:
        import msgspec

        typer.echo(
            msgspec.json.encode(
                [
                    {
                        "id": c.id,
                        "category": c.category,
                        "severity": c.severity.value,
                        "title": c.title,
                        "reads": list(c.reads),
                        "consults": list(c.consults),
                        "nodeParts": list(c.node_parts),
                        "references": list(c.references),
                        "options": {n: o.as_data() for n, o in c.options.items()},
                    }
                    for c in checks
                ]
            ).decode()
        )
        return
    from rich.console import Console
    from rich.table import Table

    from plumbob.render.table import SEVERITY_STYLE

    t = Table(title=f"{len(checks)} checks", title_justify="left")
    for col in ("id", "category", "severity", "title"):
        t.add_column(col)
    for c in checks:
        t.add_row(c.id, c.category, f"[{SEVERITY_STYLE[c.severity]}]{c.severity.value}[/]", c.title)
    Console().print(t)


def explain(
    check_id: Annotated[str, typer.Argument(help="Check id, e.g. gpu-node-untainted.")],
) -> None:
    """Why a check matters for AI workloads, how to fix it, references."""
    from rich.console import Console
    from rich.markdown import Markdown

    from plumbob.checks.registry import Registry

    registry = Registry.discover()
    c = registry.get(check_id)
    if c is None:
        import difflib

        close = difflib.get_close_matches(check_id, [x.id for x in registry], n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else "; see plumbob checks"
        fail(f"no check {check_id!r}{hint}")
        raise typer.Exit(exit_codes.USAGE)
    refs = "\n".join(f"- {r}" for r in c.references) or "-"
    fix = "\n".join(
        f"    {line}" if line.startswith("    ") or not line else line
        for line in c.fix.splitlines()
    )
    text = (
        f"# {c.id}\n\n**{c.title}** — category `{c.category}`, severity "
        f"`{c.severity.value}`\n\n## Why it matters\n\n{c.why}\n\n## How to fix\n\n{fix}\n\n"
        f"## References\n\n{refs}\n"
    )
    if c.options:
        where = f"`options: {{{c.id}: ...}}`"
        listed = "\n".join(f"- {o.describe()}" for o in c.options.values())
        text += f"\n## Options\n\nIn plumbob.yaml, {where}:\n\n{listed}\n"
    Console().print(Markdown(text))
