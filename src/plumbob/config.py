"""User configuration (plumbob.yaml): loading it, checking every name and value in it, and the
option values every check gets from it and from the `scan` flags.

Precedence of an option's value, one rule for all (checks/options.py `resolve_options`): the
`plumbob scan` flag that sets it (`--prices`, `--target-version`), then the check's entry under
`options:` here, then the baseline's value for an option that takes one (`--baseline FILE`:
`cluster.approved-registries` for image-registry-not-approved), then the default the check
declares.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import msgspec

from plumbob.checks.options import CheckOptions, resolve_options
from plumbob.checks.registry import Check, Registry
from plumbob.findings import Exemption, FindingPolicy
from plumbob.report.model import Severity

if TYPE_CHECKING:
    from plumbob.drift.baseline import Baseline


class Config(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True, rename="kebab"):
    """User configuration (plumbob.yaml). Keys are kebab-case; unknown keys are errors."""

    severity: dict[str, Severity] = {}
    """Check id -> severity override."""
    disable: list[str] = []
    only: list[str] = []
    exemptions: list[Exemption] = []
    options: dict[str, dict[str, Any]] = {}
    """Check id -> options, e.g. {"image-large-pull": {"threshold-gb": 8}}."""

    def policy(self) -> FindingPolicy:
        """The finding policy these settings make (plumbob.findings): selection, severity
        overrides and exemptions, applied alike to checks, drift and every other analysis."""
        return FindingPolicy(
            severity=dict(self.severity),
            disable=frozenset(self.disable),
            only=frozenset(self.only),
            exemptions=tuple(self.exemptions),
        )


class ConfigError(ValueError):
    """A configuration file that cannot be used; the message names the key and line."""


def load_config(path: Path) -> Config:
    from plumbob.sources.yamlload import YamlError, load_documents

    try:
        docs = list(load_documents(path.read_bytes()))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except YamlError as exc:
        raise ConfigError(f"{path}:{exc.line or '?'}: {exc}") from None
    data = docs[0].data if docs else {}
    try:
        return msgspec.convert(data or {}, Config)
    except msgspec.ValidationError as exc:
        raise ConfigError(f"{path}: {exc}") from None


def check_options(
    config: Config,
    registry: Registry,
    flags: Mapping[str, object] | None = None,
    checks: Iterable[Check] | None = None,
    baseline: Baseline | None = None,
) -> CheckOptions:
    """The option values of every check (or of `checks`) for one scan: `flags` (flag name ->
    value, for the `scan` flags given) over `config.options` over what `baseline` sets over the
    declared defaults, each distinct value converted once; what cannot be used is in the
    result's `problems`, `flag_problems` and `unusable`."""
    set_by_baseline: Mapping[str, object] = {}
    if baseline is not None:
        from plumbob.drift.baseline import settings

        set_by_baseline = settings(baseline)
    return resolve_options(registry, config.options, flags, checks, set_by_baseline)


def config_problems(
    config: Config, registry: Registry, options: CheckOptions | None = None
) -> list[str]:
    """What the configuration names that is no check id, alias, category or drift id, and
    options a check does not take or values it cannot use, each with where it is (and the
    closest names): a misspelt id or option would otherwise change nothing, silently.
    `options`: the configuration's option values when already resolved (`check_options`), so
    that no value is converted twice."""
    from plumbob.drift.catalog import drift_entries  # every drift id: drift:kernel, ...
    from plumbob.drift.findings import TITLES  # the drift families: drift, baseline, ...

    def hint(name: str, candidates: Iterable[str], otherwise: str) -> str:
        close = difflib.get_close_matches(name, sorted(candidates), n=3)
        return f"; did you mean {', '.join(close)}?" if close else otherwise

    known = {name for c in registry for name in (c.id, *c.aliases, c.category)}
    known.update(TITLES)
    known.update(drift_entries())
    out: list[str] = []
    named: list[tuple[str, str]] = [
        *((f"severity: {name}", name) for name in config.severity),
        *((f"disable: {name}", name) for name in config.disable),
        *((f"only: {name}", name) for name in config.only),
        *(
            (f"exemptions[{i}].check: {e.check}", e.check)
            for i, e in enumerate(config.exemptions)
            if e.check != "*"
        ),
    ]
    for where, name in named:
        if name not in known:
            out.append(f"{where}: no such check{hint(name, known, '; see plumbob checks')}")
    if options is None:
        options = check_options(config, registry)
    out.extend(options.problems)
    return out


__all__ = [
    "Config",
    "ConfigError",
    "Exemption",
    "check_options",
    "config_problems",
    "load_config",
]
