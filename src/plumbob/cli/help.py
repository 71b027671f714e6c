"""Help that helps: `plumbob --help` lists the commands in the order a user meets them, each
description whole, with the exit codes and examples; `scan --help` groups its options.

Plain text (no rich): `plumbob --help` stays fast to start, and typer shows option panels
only in rich mode, so the groups are drawn here.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, ClassVar

from typer.core import TyperCommand, TyperGroup

if TYPE_CHECKING:
    from typer._click import Context
    from typer._click.formatting import HelpFormatter

COMMAND_ORDER = (
    "scan",
    "explain",
    "checks",
    "snapshot",
    "conformance",
    "policy",
    "baseline",
    "history",
    "diff",
    "serve",
    "demo",
    "version",
)
"""Scan first; then reading its report; capturing clusters; conformance; drift over time."""

EPILOG = """\b
Exit codes:
  0  finished; for scan, no finding at or above --fail-on
  1  scan: a finding at or above --fail-on; diff --exit-code: a change
  2  usage or configuration error, or nothing readable; with scan
     --strict also an input not read or a check not wholly assessed

\b
Examples:
  plumbob scan --demo                             # the embedded demo fleet
  plumbob scan manifests/ --fail-on high -f json  # rendered manifests, in CI
  plumbob scan --context prod --store default     # a live cluster, recorded
"""
"""Shown under the command list; `\\b` keeps click from re-wrapping a paragraph."""

_WHOLE = 10_000
"""Characters a command's description may take in the list: its whole first sentence."""


class PlumbobGroup(TyperGroup):
    """The top-level command: commands in COMMAND_ORDER, descriptions not cut short."""

    def list_commands(self, ctx: Context) -> list[str]:
        names = super().list_commands(ctx)
        rank = {name: i for i, name in enumerate(COMMAND_ORDER)}
        return sorted(names, key=lambda n: rank.get(n, len(rank)))

    def format_commands(self, ctx: Context, formatter: HelpFormatter) -> None:
        rows = []
        for name in self.list_commands(ctx):
            command = self.get_command(ctx, name)
            if command is not None and not command.hidden:
                rows.append((name, command.get_short_help_str(_WHOLE)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


OTHER = "Other options"


class PanelCommand(TyperCommand):
    """A command whose options show in named groups: an option's `rich_help_panel`, else its
    group in `panels` (parameter name -> group), else OTHER. Groups show in `order`."""

    panels: ClassVar[Mapping[str, str]] = MappingProxyType({})
    order: ClassVar[tuple[str, ...]] = ()

    def group_of(self, param_name: str | None, declared: str | None) -> str:
        return declared or self.panels.get(param_name or "", OTHER)

    def format_options(self, ctx: Context, formatter: HelpFormatter) -> None:
        arguments: list[tuple[str, str]] = []
        groups: dict[str, list[tuple[str, str]]] = {}
        for param in self.get_params(ctx):
            record = param.get_help_record(ctx)
            if record is None:
                continue
            if param.param_type_name == "argument":
                arguments.append(record)
                continue
            group = self.group_of(param.name, getattr(param, "rich_help_panel", None))
            groups.setdefault(group, []).append(record)
        if arguments:
            with formatter.section("Arguments"):
                formatter.write_dl(arguments)
        rank = {name: i for i, name in enumerate((*self.order, OTHER))}
        for group in sorted(groups, key=lambda g: rank.get(g, len(rank))):
            with formatter.section(group):
                formatter.write_dl(groups[group])


class ScanCommand(PanelCommand):
    """`plumbob scan`: options by what they are about."""

    order = ("Input", "Live clusters", "Output", "Store", "Checks")
    panels = MappingProxyType(
        {
            **dict.fromkeys(("demo", "cluster", "complete"), "Input"),
            **dict.fromkeys(
                (
                    "context",
                    "all_contexts",
                    "kubeconfig",
                    "in_cluster",
                    "request_timeout",
                    "timeout",
                    "prometheus",
                    "prometheus_token",
                    "prometheus_ca",
                    "window",
                ),
                "Live clusters",
            ),
            **dict.fromkeys(
                (
                    "output_format",
                    "output",
                    "report_json",
                    "fail_on",
                    "strict",
                    "max_per_check",
                    "quiet",
                    "timings",
                ),
                "Output",
            ),
            "store": "Store",
            **dict.fromkeys(
                (
                    "config",
                    "custom_checks",
                    "target_version",
                    "baseline",
                    "pool_label",
                    "prices",
                ),
                "Checks",
            ),
        }
    )


__all__ = ["COMMAND_ORDER", "EPILOG", "OTHER", "PanelCommand", "PlumbobGroup", "ScanCommand"]
