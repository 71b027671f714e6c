"""`plumbob checks` and `plumbob explain`: the catalog of every id a report can carry (checks,
and drift ids such as `drift:nvidia_driver`)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from plumbob.cli import exit_codes
from plumbob.cli.common import CustomChecks, fail, registry_with_custom

if TYPE_CHECKING:
    from plumbob.checks.registry import Check, Registry
    from plumbob.drift.catalog import DriftEntry

DRIFT = "drift"

ConfigFile = Annotated[
    Path | None,
    typer.Option("--config", "-c", help="plumbob.yaml, for the custom checks it lists."),
]


def _registry(config: Path | None, custom_checks: list[Path] | None) -> Registry:
    """Built-in checks and the custom checks of `config` and `--custom-checks`."""
    from plumbob import config as configuration

    listed: list[str] = []
    if config is not None:
        try:
            listed = configuration.load_config_at(config).custom_checks
        except configuration.ConfigError as exc:
            fail(str(exc))
            raise typer.Exit(exit_codes.USAGE) from None
    return registry_with_custom(listed, custom_checks)


def list_checks(
    category: Annotated[
        str | None,
        typer.Option(
            "--category", help="Only this category (gpu, compat, ..., drift for the drift ids)."
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable list.")] = False,
    config: ConfigFile = None,
    custom_checks: CustomChecks = None,
) -> None:
    """List every check and drift id with its category, severity and title."""
    from plumbob.checks.registry import CATEGORIES
    from plumbob.drift.catalog import drift_entries

    if category is not None and category not in CATEGORIES:
        fail(
            f"--category {category!r}: no such category; the categories are {', '.join(CATEGORIES)}"
        )
        raise typer.Exit(exit_codes.USAGE)
    checks = [c for c in _registry(config, custom_checks) if category in (None, c.category)]
    drift = list(drift_entries().values()) if category in (None, DRIFT) else []
    if as_json:
        import msgspec

        typer.echo(
            msgspec.json.encode([*map(_check_data, checks), *map(_drift_data, drift)]).decode()
        )
        return
    from rich.table import Table

    from plumbob.render.table import SEVERITY_STYLE
    from plumbob.render.terminal import SafeConsole

    console = SafeConsole()
    if checks:
        t = Table(title=f"{len(checks)} checks", title_justify="left")
        for col in ("id", "category", "severity", "title"):
            t.add_column(col)
        for c in checks:
            t.add_row(
                c.id, c.category, f"[{SEVERITY_STYLE[c.severity]}]{c.severity.value}[/]", c.title
            )
        console.print(t)
    if category == DRIFT:
        t = Table(title=f"{len(drift)} drift ids", title_justify="left")
        for col in ("id", "severity", "title"):
            t.add_column(col)
        for e in drift:
            t.add_row(e.id, e.severity, e.title)
        console.print(t)
    elif category is None:
        console.print(
            f"and {len(drift)} drift ids (drift:kernel, baseline:nvidia_driver, "
            "cross-cluster:component-missing, ...): plumbob checks --category drift",
            highlight=False,
        )


def _check_data(c: Check) -> dict[str, Any]:
    return {
        "id": c.id,
        "category": c.category,
        "severity": c.severity.value,
        "title": c.title,
        "reads": list(c.reads),
        "consults": list(c.consults),
        "nodeParts": list(c.node_parts),
        "origin": c.origin.as_data() if c.origin is not None else None,
        "references": list(c.references),
        "options": {n: o.as_data() for n, o in c.options.items()},
    }


def _drift_data(e: DriftEntry) -> dict[str, Any]:
    return {
        "id": e.id,
        "category": e.category,
        "family": e.family,
        "severity": e.severity,
        "title": e.title,
        "references": list(e.references),
    }


def explain(
    check_id: Annotated[
        str,
        typer.Argument(help="Check or drift id, e.g. gpu-node-untainted or drift:nvidia_driver."),
    ],
    config: ConfigFile = None,
    custom_checks: CustomChecks = None,
) -> None:
    """Why a check or drift id matters for AI workloads, how to fix it, references."""
    from rich.console import Console
    from rich.markdown import Markdown

    from plumbob.drift.catalog import drift_entries, drift_entry, family_ids
    from plumbob.drift.findings import TITLES

    registry = _registry(config, custom_checks)
    c = registry.get(check_id)
    if c is not None:
        text = _check_text(c)
    elif (entry := drift_entry(check_id)) is not None:
        text = _drift_text(entry)
    elif check_id in TITLES:
        listed = "\n".join(f"- `{i}`" for i in family_ids(check_id))
        text = f"# {check_id}\n\n**{TITLES[check_id]}**. Its ids:\n\n{listed}\n"
    else:
        import difflib

        known = [x.id for x in registry] + list(drift_entries())
        close = difflib.get_close_matches(check_id, known, n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else "; see plumbob checks"
        fail(f"no check or drift id {check_id!r}{hint}")
        raise typer.Exit(exit_codes.USAGE)
    Console().print(Markdown(text))


def _fix_block(fix: str) -> str:
    return "\n".join(
        f"    {line}" if line.startswith("    ") or not line else line for line in fix.splitlines()
    )


def _check_text(c: Check) -> str:
    refs = "\n".join(f"- {r}" for r in c.references) or "-"
    origin = f"{c.origin.describe()}\n\n" if c.origin is not None else ""
    text = (
        f"# {c.id}\n\n**{c.title}** — category `{c.category}`, severity "
        f"`{c.severity.value}`\n\n{origin}## Why it matters\n\n{c.why}\n\n## How to fix\n\n"
        f"{_fix_block(c.fix)}\n\n## References\n\n{refs}\n"
    )
    if c.options:
        where = f"`options: {{{c.id}: ...}}`"
        listed = "\n".join(f"- {o.describe()}" for o in c.options.values())
        text += f"\n## Options\n\nIn plumbob.yaml, {where}:\n\n{listed}\n"
    from plumbob.checks.custom import CustomCheck

    if isinstance(c.fn, CustomCheck):
        kinds = ", ".join(c.fn.kinds)
        text += (
            f"\n## Custom check\n\nFrom `{c.fn.source}`, judging {kinds}; compliant where\n\n"
            f"    {c.fn.expression.source}\n"
        )
    return text


def _drift_text(e: DriftEntry) -> str:
    refs = "\n".join(f"- {r}" for r in e.references) or "-"
    return (
        f"# {e.id}\n\n**{e.title}** — category `{e.category}`, family `{e.family}`, severity "
        f"{e.severity}\n\n## What is compared\n\n{e.what}\n\n## Why it matters\n\n{e.why}\n\n"
        f"## How to fix\n\n{e.fix}\n\n## References\n\n{refs}\n"
    )
