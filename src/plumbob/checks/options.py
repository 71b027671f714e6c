"""Check options: declared with their type, default and help in `@check(options=...)`, converted
once per scan from plumbob.yaml and the `scan` flags, and handed to the check as values.

    THRESHOLD_GB = Option("threshold-gb", Number(), default=10.0, help="Image size that counts
                          as large, in GB.")

    @check(id="image-large-gpu", ..., options=(THRESHOLD_GB,))
    def image_large_gpu(snap: Snapshot, ctx: CheckContext) -> Iterator[Hit]:
        threshold = ctx.value(THRESHOLD_GB)     # a float, never the raw YAML value

Where a value comes from, first match wins: the `plumbob scan` flag of the option (`--prices`,
`--target-version`: it sets that option of every check that takes it), then the check's entry
under `options:` in plumbob.yaml, then, for an option declared `from_baseline=`, that key of the
baseline (`plumbob scan --baseline FILE`: its `cluster.approved-registries`), then the declared
default. `resolve_options` applies that rule for every check at once, converting each distinct
value once (a price file is read once per scan however many checks price GPUs), and collects
every unusable value with where it came from.
"""

from __future__ import annotations

import difflib
import enum
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

from plumbob.knowledge.kubernetes import Minor, minor_text, parse_minor_text, releases
from plumbob.knowledge.prices import Prices, PricesError, load_prices

if TYPE_CHECKING:
    from plumbob.checks.registry import Check, Registry

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)


class OptionDefinitionError(ValueError):
    """An option declared with a default its type does not hold, no help, or twice."""


class OptionType(Protocol[T_co]):
    """What an option's value must be: `words` names it for users ('a number'), `convert` turns
    a value from plumbob.yaml or a flag into the value the check gets, or raises ValueError
    saying what was expected; `holds` tells whether a converted value is of the type (declared
    defaults are checked with it)."""

    @property
    def words(self) -> str: ...

    def convert(self, value: object) -> T_co: ...

    def holds(self, value: object) -> bool: ...


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


@dataclass(frozen=True, slots=True)
class Number:
    """A number (integer or decimal), given to the check as a float."""

    words: str = field(default="a number", init=False)

    def convert(self, value: object) -> float:
        if not _is_number(value):
            raise ValueError(f"expected a number, got {value!r}")
        return float(value)  # type: ignore[arg-type]

    def holds(self, value: object) -> bool:
        return isinstance(value, float)


@dataclass(frozen=True, slots=True)
class WholeNumber:
    """An integer, given as an int."""

    words: str = field(default="a whole number", init=False)

    def convert(self, value: object) -> int:
        if not isinstance(value, int) or isinstance(value, bool):
            raise ValueError(f"expected a whole number, got {value!r}")
        return value

    def holds(self, value: object) -> bool:
        return isinstance(value, int) and not isinstance(value, bool)


@dataclass(frozen=True, slots=True)
class Text:
    words: str = field(default="text", init=False)

    def convert(self, value: object) -> str:
        if not isinstance(value, str):
            raise ValueError(f"expected text, got {value!r}")
        return value

    def holds(self, value: object) -> bool:
        return isinstance(value, str)


@dataclass(frozen=True, slots=True)
class TextList:
    """A YAML list of strings, given as a tuple."""

    words: str = field(default="a list of text", init=False)

    def convert(self, value: object) -> tuple[str, ...]:
        if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
            raise ValueError(f"expected a list of text, got {value!r}")
        return tuple(value)

    def holds(self, value: object) -> bool:
        return isinstance(value, tuple) and all(isinstance(v, str) for v in value)


@dataclass(frozen=True, slots=True)
class Date:
    """A day: `2026-12-01` (YAML reads it as a date) or the same text quoted."""

    words: str = field(default="a date, YYYY-MM-DD", init=False)

    def convert(self, value: object) -> date:
        if isinstance(value, datetime):
            return value.date()
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(value)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise ValueError(f"expected a date like 2026-12-01, got {value!r}") from None

    def holds(self, value: object) -> bool:
        return isinstance(value, date) and not isinstance(value, datetime)


@dataclass(frozen=True, slots=True)
class KubernetesVersion:
    """A Kubernetes minor release, `'1.33'` or `v1.33.2`, given as a (major, minor) pair."""

    words: str = field(default="a Kubernetes version like '1.33'", init=False)

    def convert(self, value: object) -> Minor:
        if _is_number(value):
            # YAML reads 1.30 as the number 1.3: the minor is lost, so say so instead of
            # checking against Kubernetes 1.3.
            raise ValueError(
                f"expected a Kubernetes version in quotes like '1.33', got the number {value!r}"
            )
        minor = parse_minor_text(value) if isinstance(value, str) else None
        if minor is None:
            raise ValueError(f"expected a Kubernetes version like 1.33, got {value!r}")
        newest = max(r.minor for r in releases())
        if minor[0] != 1 or minor > newest:
            known = ", ".join(minor_text(r.minor) for r in releases()[-3:])
            raise ValueError(
                f"{value!r} is no Kubernetes release plumbob knows (1.0 to {minor_text(newest)}; "
                f"newest: {known}; knowledge/k8s_versions.yaml)"
            )
        return minor

    def holds(self, value: object) -> bool:
        return (
            isinstance(value, tuple) and len(value) == 2 and all(isinstance(v, int) for v in value)
        )


@dataclass(frozen=True, slots=True)
class PriceFile:
    """A GPU price file (rows `gpu_product`, `usd_per_gpu_hour`), given as the loaded `Prices`:
    the shipped table with the file's rows on top (knowledge/prices.py)."""

    words: str = field(default="a price file", init=False)
    load: Callable[[Path | None], Prices] = load_prices

    def convert(self, value: object) -> Prices:
        if not isinstance(value, str | Path) or not str(value):
            raise ValueError(f"expected the path of a price file, got {value!r}")
        try:
            return self.load(Path(value))
        except PricesError as exc:
            raise ValueError(str(exc)) from None

    def holds(self, value: object) -> bool:
        return isinstance(value, Prices)

    def shipped(self) -> Prices:
        """The shipped table alone (the default)."""
        return self.load(None)


class _Unset(enum.Enum):
    UNSET = "unset"


UNSET = _Unset.UNSET


@dataclass(frozen=True, slots=True)
class Option(Generic[T]):
    """One option of a check. `default` is a converted value (None: not set unless configured);
    `default_factory` computes it once per scan instead (the day of the scan, the shipped price
    table), with `default_text` saying what it is. `flag`: the `plumbob scan` flag that sets the
    option for every check that takes it, over plumbob.yaml."""

    name: str
    type: OptionType[T]
    default: T | _Unset = UNSET
    help: str = ""
    default_factory: Callable[[], T] | None = None
    default_text: str | None = None
    flag: str | None = None
    from_baseline: str | None = None
    """The baseline key (`cluster.approved-registries`, as drift/baseline.py `settings` spells
    it) whose value the option takes when plumbob.yaml does not set it."""

    def __post_init__(self) -> None:
        where = f"option {self.name!r}"
        if not self.help.strip():
            raise OptionDefinitionError(f"{where}: no help text")
        if (self.default is UNSET) == (self.default_factory is None):
            raise OptionDefinitionError(f"{where}: give exactly one of default, default_factory")
        if self.default_factory is not None and not self.default_text:
            raise OptionDefinitionError(f"{where}: a default_factory needs default_text")
        kind = self.type.words
        if self.default not in (UNSET, None) and not self.type.holds(self.default):
            raise OptionDefinitionError(f"{where}: default {self.default!r} is not {kind}")
        if self.flag is not None and not self.flag.startswith("--"):
            raise OptionDefinitionError(f"{where}: flag {self.flag!r} must start with --")

    def make_default(self) -> T:
        if self.default_factory is not None:
            return self.default_factory()
        assert not isinstance(self.default, _Unset)  # __post_init__ guarantees one of the two
        return self.default

    def _plain(self, value: object) -> object:
        """A declared value as plain data: a version as '1.33', a list, an ISO date."""
        if isinstance(self.type, KubernetesVersion) and isinstance(value, tuple):
            return minor_text(value)
        if isinstance(value, tuple):
            return list(value)
        if isinstance(value, date):
            return value.isoformat()
        return value

    @property
    def shown_default(self) -> str:
        """The default in words, for docs and `plumbob explain`."""
        if self.default_text:
            return self.default_text
        value = self._plain(self.default)
        if value is None:
            return "not set"
        if isinstance(value, list):
            return ", ".join(str(v) for v in value) or "none"
        return f"{value:g}" if isinstance(value, float) else str(value)

    def describe(self) -> str:
        """'`threshold-gb` (a number; default 10): help' for docs and `plumbob explain`."""
        flag = (
            f" `plumbob scan {self.flag}` sets it for every check that takes it, over plumbob.yaml."
            if self.flag
            else ""
        )
        if self.from_baseline:
            flag += (
                f" When plumbob.yaml does not set it, the baseline's `{self.from_baseline}` does "
                "(`plumbob scan --baseline FILE`)."
            )
        return (
            f"`{self.name}` ({self.type.words}; default {self.shown_default}): "
            f"{self.help.strip()}{flag}"
        )

    def as_data(self) -> dict[str, object]:
        """The option as plain data for `plumbob checks --json` (`default` is null when it is
        computed per scan: `defaultText` says what it is)."""
        computed = self.default_factory is not None
        default = None if computed else self._plain(self.default)
        return {
            "type": self.type.words,
            "default": default,
            "defaultText": self.shown_default,
            "help": self.help.strip(),
            "flag": self.flag,
            "fromBaseline": self.from_baseline,
        }


# Options several checks share: one declaration each, so that a flag sets them all alike.

TODAY: Option[date] = Option(
    "today",
    Date(),
    default_factory=date.today,
    default_text="the day of the scan",
    help="The day support windows are judged on (pin it to make reports reproducible).",
)

TARGET_VERSION: Option[Minor | None] = Option(
    "target-version",
    KubernetesVersion(),
    default=None,
    flag="--target-version",
    help="The Kubernetes release to check against instead of the cluster's own when it is not "
    "older (an upgrade target).",
)

_PRICE_FILE = PriceFile()
PRICES: Option[Prices] = Option(
    "prices",
    _PRICE_FILE,
    default_factory=_PRICE_FILE.shipped,
    default_text="the shipped list prices (knowledge/gpu_prices.yaml)",
    flag="--prices",
    help="YAML rows `{gpu_product: NVIDIA-H100-80GB-HBM3, usd_per_gpu_hour: 4.10}` (under "
    "`prices:`) that go over the shipped list prices: your negotiated or reserved prices.",
)


def declare(check_id: str, options: Iterable[Option[Any]]) -> Mapping[str, Option[Any]]:
    """A check's options by name; an option declared twice is a definition error."""
    out: dict[str, Option[Any]] = {}
    for option in options:
        if not isinstance(option, Option):
            raise OptionDefinitionError(f"{check_id}: options= takes Option(...), got {option!r}")
        if option.name in out:
            raise OptionDefinitionError(f"{check_id}: option {option.name!r} declared twice")
        out[option.name] = option
    return MappingProxyType(out)


def convert(options: Mapping[str, Option[Any]], given: Mapping[str, object]) -> dict[str, object]:
    """Values for every declared option: converted from `given`, else the default. Raises
    ValueError ('threshold-gb: expected a number, got ...') for a value, or a name, it cannot
    use. For one check's context in tests and tools; a scan goes through `resolve_options`."""
    unknown = sorted(set(given) - set(options))
    if unknown:
        raise ValueError(f"{unknown[0]}: no such option; takes: {', '.join(options) or 'none'}")
    out: dict[str, object] = {}
    for name, option in options.items():
        if name not in given:
            out[name] = option.make_default()
            continue
        try:
            out[name] = option.type.convert(given[name])
        except ValueError as exc:
            raise ValueError(f"{name}: {exc}") from None
    return out


@dataclass(frozen=True, slots=True)
class CheckOptions:
    """The option values of every check for one scan, and what could not be used."""

    values: Mapping[str, Mapping[str, object]] = field(default_factory=lambda: MappingProxyType({}))
    """Check id -> option name -> converted value, for every option the check declares; absent
    for a check one of whose values was unusable."""
    unusable: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    """Check id -> the first unusable value it was given ('options: <id>: <option>: what' or
    '--flag: what'): the check cannot run as configured."""
    problems: tuple[str, ...] = ()
    """plumbob.yaml `options:` entries that name no check or option, or hold a value the option
    cannot use, each as 'options: <check>: <option>: what' with the closest names; and baseline
    values an option cannot use, as 'baseline: <key>: what'."""
    flag_problems: tuple[str, ...] = ()
    """Flags whose value is unusable: '--prices: what'."""

    def of(self, check_id: str) -> Mapping[str, object]:
        return self.values.get(check_id, MappingProxyType({}))

    def value(self, check_id: str, option: Option[T]) -> T | None:
        """The value a check gets for `option`; None when the check's options were unusable."""
        given = self.values.get(check_id)
        return None if given is None else given.get(option.name)  # type: ignore[return-value]


def _hint(name: str, candidates: Iterable[str], otherwise: str) -> str:
    close = difflib.get_close_matches(name, sorted(candidates), n=3)
    return f"; did you mean {', '.join(close)}?" if close else otherwise


@dataclass(slots=True)
class _Converter:
    """Converts values, each distinct (type, value) once; defaults once per declaration."""

    done: dict[tuple[object, ...], object | ValueError] = field(default_factory=dict)

    def value(self, option: Option[Any], raw: object) -> object:
        try:
            key: tuple[object, ...] = ("value", option.type, type(raw), raw)
            hash(key)
        except TypeError:  # a list: cheap to convert again
            return option.type.convert(raw)
        if key not in self.done:
            try:
                self.done[key] = option.type.convert(raw)
            except ValueError as exc:
                self.done[key] = exc
        got = self.done[key]
        if isinstance(got, ValueError):
            raise got
        return got

    def default(self, option: Option[Any]) -> object:
        key = ("default", option)
        if key not in self.done:
            self.done[key] = option.make_default()
        return self.done[key]


def resolve_options(
    registry: Registry,
    configured: Mapping[str, Mapping[str, Any]],
    flags: Mapping[str, object] | None = None,
    checks: Iterable[Check] | None = None,
    baseline: Mapping[str, object] | None = None,
) -> CheckOptions:
    """Every check's option values: flag, else plumbob.yaml (`configured`: check id or alias ->
    option -> value), else the baseline's value for an option declared `from_baseline`, else
    default, each distinct value converted once. `flags`: flag name ('--prices') -> value, for
    the flags given. `checks`: the checks to give values to (default: all); `configured` is
    checked whole either way. `baseline`: what the baseline sets, by key (drift/baseline.py
    `settings`)."""
    flags = dict(flags or {})
    baseline = baseline or {}
    convert_ = _Converter()
    problems: list[str] = []
    unusable: dict[str, str] = {}
    by_check: dict[str, dict[str, object]] = {}
    for key, given in configured.items():
        check = registry.get(key)
        if check is None:
            ids = [c.id for c in registry]
            problems.append(f"options: {key}: no such check{_hint(key, ids, '')}")
            continue
        for name, raw in (given or {}).items():
            option = check.options.get(name)
            if option is None:
                takes = f" takes: {', '.join(check.options)}" if check.options else " takes none"
                more = _hint(name, check.options, f"; {check.id}{takes}")
                problems.append(f"options: {key}: {name}: no such option{more}")
                continue
            try:  # checked even where a flag overrides it: the file is wrong either way
                value = convert_.value(option, raw)
            except ValueError as exc:
                problem = f"options: {key}: {name}: {exc}"
                problems.append(problem)
                unusable.setdefault(check.id, problem)
                continue
            by_check.setdefault(check.id, {})[name] = value
    flag_values: dict[str, object] = {}
    flag_problems: list[str] = []
    declared = {o.flag: o for c in registry for o in c.options.values() if o.flag}
    for flag, raw in flags.items():
        option = declared.get(flag)
        if option is None:
            flag_problems.append(f"{flag}: no check takes this flag")
            continue
        try:
            flag_values[flag] = convert_.value(option, raw)
        except ValueError as exc:
            flag_problems.append(f"{flag}: {exc}")
            for c in registry:
                if c.options.get(option.name) == option:
                    unusable.setdefault(c.id, f"{flag}: {exc}")
    values: dict[str, Mapping[str, object]] = {}
    for check in registry if checks is None else checks:
        if check.id in unusable:
            continue
        mine = by_check.get(check.id, {})
        out: dict[str, object] = {}
        for name, option in check.options.items():
            if option.flag in flag_values:
                out[name] = flag_values[option.flag]
            elif name in mine:
                out[name] = mine[name]
            elif option.from_baseline is not None and option.from_baseline in baseline:
                try:
                    out[name] = convert_.value(option, baseline[option.from_baseline])
                except ValueError as exc:
                    problem = f"baseline: {option.from_baseline}: {exc}"
                    problems.append(problem)
                    unusable.setdefault(check.id, problem)
                    break
            else:
                out[name] = convert_.default(option)
        if check.id not in unusable:
            values[check.id] = MappingProxyType(out)
    return CheckOptions(
        values=MappingProxyType(values),
        unusable=MappingProxyType(unusable),
        problems=tuple(problems),
        flag_problems=tuple(flag_problems),
    )


__all__ = [
    "PRICES",
    "TARGET_VERSION",
    "TODAY",
    "CheckOptions",
    "Date",
    "KubernetesVersion",
    "Number",
    "Option",
    "OptionDefinitionError",
    "OptionType",
    "PriceFile",
    "Text",
    "TextList",
    "WholeNumber",
    "convert",
    "declare",
    "resolve_options",
]
