"""`plumbob policy export` and `plumbob policy test`: the baseline and the single-object checks
as admission policies, and what those policies would deny before they are enforced."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from plumbob.cli import exit_codes
from plumbob.cli.common import (
    CustomChecks,
    fail,
    print_diagnostics,
    read_inputs,
    registry_with_custom,
)
from plumbob.policy.export import Action, PolicyFormat

if TYPE_CHECKING:
    from plumbob.policy.evaluate import Denial, Policy

app = typer.Typer(
    name="policy",
    help="Export the baseline and single-object checks as admission policies "
    "(ValidatingAdmissionPolicy or Kyverno), and test what they would deny.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
)


@app.command("export")
def export(
    out: Annotated[Path, typer.Option("--output", "-o", help="Folder to write the policies to.")],
    baseline: Annotated[
        Path | None,
        typer.Option(
            "--baseline",
            help="Baseline (intent) YAML: approved registries, GPU pool taints, image pinning.",
        ),
    ] = None,
    fmt: Annotated[
        PolicyFormat,
        typer.Option("--format", "-f", help="vap (ValidatingAdmissionPolicy) or kyverno."),
    ] = PolicyFormat.VAP,
    action: Annotated[
        Action,
        typer.Option(
            "--action",
            help="audit: report and warn, refuse nothing (default); deny: refuse what fails.",
        ),
    ] = Action.AUDIT,
    custom_checks: CustomChecks = None,
    only: Annotated[
        list[str] | None,
        typer.Option("--only", help="Only the policies of these check ids (repeatable)."),
    ] = None,
) -> None:
    """Write admission policies for the checks one object decides and the baseline's intent,
    one file per check, in audit/warn mode unless --action deny."""
    from plumbob.cli.baseline import read_baseline
    from plumbob.policy import built_in_rules, custom_rules, parameters, write

    intent = read_baseline(baseline)
    registry = registry_with_custom([], custom_checks)
    rules = built_in_rules(parameters(intent.baseline if intent else None))
    rules += custom_rules(registry)
    if only:
        unknown = sorted(set(only) - {r.check for r in rules})
        if unknown:
            fail(
                f"--only {', '.join(unknown)}: no policy for that check; policies exist for "
                + ", ".join(r.check for r in rules)
            )
            raise typer.Exit(exit_codes.USAGE)
        rules = [r for r in rules if r.check in only]
    try:
        written = write(rules, fmt, action, out)
    except OSError as exc:
        fail(f"{out}: cannot write: {exc.strerror or exc}")
        raise typer.Exit(exit_codes.USAGE) from None
    mode = "deny" if action == Action.DENY else "audit and warn"
    typer.echo(f"wrote {len(written)} {fmt.value} policies ({mode}) to {out}")
    for path in written:
        typer.echo(f"  {path.name}")


@app.command("test")
def test(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(help="Manifests, kubectl output, snapshot files or folders to judge."),
    ] = None,
    policies: Annotated[
        list[Path],
        typer.Option("--policies", help="Folder or file of exported policies (repeatable)."),
    ] = ...,  # type: ignore[assignment]
    demo: Annotated[bool, typer.Option("--demo", help="Judge the demo fleet.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable list.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Errors only.")] = False,
) -> None:
    """List what each policy would deny among the objects given, evaluated locally with the
    policies' own CEL: the blast radius before enforcing."""
    from plumbob.policy import PolicyError, denials, load_policies

    try:
        loaded = load_policies(policies)
    except PolicyError as exc:
        fail(str(exc))
        raise typer.Exit(exit_codes.USAGE) from None
    for why in loaded.skipped:
        fail(f"not evaluated: {why}")
    if not loaded.policies:
        fail(f"no policies in {', '.join(map(str, policies))}")
        raise typer.Exit(exit_codes.USAGE)
    inputs, unreadable = read_inputs(paths, demo, None, quiet or as_json)
    if unreadable and not inputs.snapshots:
        raise typer.Exit(exit_codes.USAGE)
    if not as_json:
        print_diagnostics(inputs.diagnostics, quiet)
    objects = [obj for snap in inputs.snapshots for obj in snap]
    found = denials(loaded.policies, objects)
    if as_json:
        import msgspec

        rows = [
            {
                "policy": d.policy,
                "check": d.check,
                "kind": d.subject.kind,
                "namespace": d.subject.namespace,
                "name": d.subject.name,
                "file": d.subject.origin.file if d.subject.origin else None,
                "line": d.subject.origin.line if d.subject.origin else None,
                "message": d.message,
            }
            for d in found
        ]
        typer.echo(msgspec.json.encode(rows).decode())
        return
    _print(loaded.policies, found, len(objects))


def _print(policies: Sequence[Policy], found: Sequence[Denial], total: int) -> None:
    from rich.console import Console
    from rich.markup import escape

    console = Console(highlight=False, soft_wrap=True)
    by_policy: dict[str, list[Denial]] = {}
    for d in found:
        by_policy.setdefault(d.policy, []).append(d)
    names = sorted({p.name for p in policies})
    console.print(f"{len(names)} policies over {total} objects: {len(found)} denials")
    for name in names:
        hits = by_policy.get(name, [])
        console.print(f"\n[bold]{escape(name)}[/]: {len(hits)} would be denied")
        for d in hits:
            where = f"{d.subject.namespace}/" if d.subject.namespace else ""
            console.print(
                f"  {escape(d.subject.kind)} {escape(where + d.subject.name)}: {escape(d.message)}"
            )
