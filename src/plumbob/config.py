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
    custom_checks: list[str] = []
    """Custom check files (checks/custom.py), relative to the configuration file's folder."""

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


def load_config_at(path: Path) -> Config:
    """`load_config`, with the custom check files it lists made relative to where it is."""
    config = load_config(path)
    if not config.custom_checks:
        return config
    files = [str(path.parent / f) for f in config.custom_checks]
    return msgspec.structs.replace(config, custom_checks=files)


def load_custom_checks(paths: Iterable[Path]) -> list[Check]:
    """The checks defined in custom check files, in order. Raises ConfigError naming the file,
    the check and the position of the first thing that cannot be used: malformed YAML, an
    unknown or missing key, a bad expression, an id given twice."""
    from plumbob.checks.custom import CustomCheckError, build

    out: list[Check] = []
    seen: dict[str, str] = {}
    for path in paths:
        entries, places = _custom_file(path)
        for spec, where in zip(entries.checks, places, strict=False):
            try:
                check = build(spec, str(path), where)
            except CustomCheckError as exc:
                raise ConfigError(str(exc)) from None
            if check.id in seen:
                raise ConfigError(
                    f"{path}:{where.line}: check {check.id}: defined twice (also {seen[check.id]})"
                )
            seen[check.id] = f"{path}:{where.line}"
            out.append(check)
    return out


def _custom_file(path: Path) -> tuple[Any, list[Any]]:
    """A custom checks file decoded, and where each entry is in it."""
    import yaml

    from plumbob.checks.custom import CustomChecksFile, Where
    from plumbob.sources.yamlload import YamlError, load_documents

    try:
        raw = path.read_bytes()
        docs = list(load_documents(raw))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except YamlError as exc:
        raise ConfigError(f"{path}:{exc.line or '?'}: {exc}") from None
    if len(docs) != 1 or not isinstance(docs[0].data, dict):
        raise ConfigError(f"{path}: a custom checks file is one YAML mapping with `checks:`")
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    lines = raw.decode("utf-8", "replace").splitlines()
    places = _entry_places(yaml.compose(raw, Loader=loader), lines)
    try:
        decoded = msgspec.convert(docs[0].data, CustomChecksFile)
    except msgspec.ValidationError as exc:
        raise ConfigError(
            f"{path}:{_line_of(str(exc), places)}{_named(str(exc), docs[0].data)}: {exc}"
        ) from None
    return decoded, [Where(line, *rest) for line, *rest in places]


def _entry_places(root: Any, lines: list[str]) -> list[tuple[int, Any, Any]]:
    """(line of each entry under `checks:`, where its expression text starts, where its
    messageExpression text starts)."""
    import yaml

    def value_start(node: Any) -> tuple[int, int, bool] | None:
        if not isinstance(node, yaml.ScalarNode):
            return None
        line, column = node.start_mark.line + 1, node.start_mark.column + 1
        if node.style in ("|", ">"):
            return line + 1, _block_indent(node, lines) + 1, True
        return line, column + (1 if node.style in ("'", '"') else 0), False

    out: list[tuple[int, Any, Any]] = []
    if not isinstance(root, yaml.MappingNode):
        return out
    for key, value in root.value:
        if key.value != "checks" or not isinstance(value, yaml.SequenceNode):
            continue
        for entry in value.value:
            found = {}
            if isinstance(entry, yaml.MappingNode):
                found = {k.value: v for k, v in entry.value if isinstance(k, yaml.ScalarNode)}
            out.append(
                (
                    entry.start_mark.line + 1,
                    value_start(found.get("expression")),
                    value_start(found.get("messageExpression")),
                )
            )
    return out


def _block_indent(node: Any, lines: list[str]) -> int:
    """The indentation of a block scalar's text: that of its first non-empty line."""
    for text in lines[node.start_mark.line + 1 :]:
        if text.strip():
            return len(text) - len(text.lstrip(" "))
    return int(node.start_mark.column)


def _line_of(message: str, places: list[tuple[int, Any, Any]]) -> str:
    """The line of the entry a msgspec error path names (`$.checks[2].match`), or '?'."""
    import re

    found = re.search(r"\$\.checks\[(\d+)\]", message)
    if found and int(found[1]) < len(places):
        return str(places[int(found[1])][0])
    return "1" if places or "$.checks" not in message else "?"


def _named(message: str, data: Any) -> str:
    """`: check ID` for the entry a msgspec error path names, when it has an id."""
    import re

    found = re.search(r"\$\.checks\[(\d+)\]", message)
    entries = data.get("checks") if isinstance(data, dict) else None
    if found and isinstance(entries, list) and int(found[1]) < len(entries):
        entry = entries[int(found[1])]
        if isinstance(entry, dict) and isinstance(entry.get("id"), str):
            return f": check {entry['id']}"
    return ""


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
    "load_config_at",
    "load_custom_checks",
]
