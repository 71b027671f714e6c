"""User configuration (plumbob.yaml): loading it and checking every name and value in it."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import msgspec

from plumbob.checks.registry import Registry
from plumbob.report.model import Severity, Subject


class Exemption(msgspec.Struct, frozen=True, forbid_unknown_fields=True, omit_defaults=True):
    check: str = "*"
    namespace: str | None = None
    kind: str | None = None
    name: str | None = None
    cluster: str | None = None
    reason: str | None = None

    def covers(self, check_id: str, cluster: str, subject: Subject) -> bool:
        namespace = subject.name if subject.kind == "Namespace" else subject.namespace
        return (
            self.check in ("*", check_id)
            and self.namespace in (None, namespace)
            and self.kind in (None, subject.kind)
            and self.name in (None, subject.name)
            and self.cluster in (None, cluster)
        )


class Config(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True, rename="kebab"):
    """User configuration (plumbob.yaml). Keys are kebab-case; unknown keys are errors."""

    severity: dict[str, Severity] = {}
    """Check id -> severity override."""
    disable: list[str] = []
    only: list[str] = []
    exemptions: list[Exemption] = []
    options: dict[str, dict[str, Any]] = {}
    """Check id -> options, e.g. {"image-large-pull": {"threshold-gb": 8}}."""


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


def config_problems(config: Config, registry: Registry) -> list[str]:
    """What the configuration names that is no check id, alias, category or drift id, and
    options a check does not take or values it cannot use, each with where it is (and the
    closest names): a misspelt id or option would otherwise change nothing, silently."""
    from plumbob.drift.findings import TITLES  # the drift families: drift, drift:kernel, ...

    def hint(name: str, candidates: Iterable[str], otherwise: str) -> str:
        close = difflib.get_close_matches(name, sorted(candidates), n=3)
        return f"; did you mean {', '.join(close)}?" if close else otherwise

    known = {name for c in registry for name in (c.id, *c.aliases, c.category)}
    known.update(TITLES)
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
        if name not in known and name.partition(":")[0] not in TITLES:
            out.append(f"{where}: no such check{hint(name, known, '; see plumbob checks')}")
    for check_id, options in config.options.items():
        check = registry.get(check_id)
        if check is None:
            ids = [c.id for c in registry]
            out.append(f"options: {check_id}: no such check{hint(check_id, ids, '')}")
            continue
        for name, value in options.items():
            kind = check.options.get(name)
            if kind is None:
                takes = f" takes: {', '.join(check.options)}" if check.options else " takes none"
                more = hint(name, check.options, f"; {check.id}{takes}")
                out.append(f"options: {check_id}: {name}: no such option{more}")
                continue
            try:
                kind(value)
            except ValueError as exc:
                out.append(f"options: {check_id}: {name}: {exc}")
    return out


__all__ = ["Config", "ConfigError", "Exemption", "config_problems", "load_config"]
