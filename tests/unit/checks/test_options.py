"""Check options: each type converts what plumbob.yaml or a flag gives it, or says what it
expected; defaults fill the rest; declarations that cannot work fail at import; a scan converts
each distinct value once, with the flag over plumbob.yaml over the default."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest

from plumbob.checks.options import (
    PRICES,
    TARGET_VERSION,
    TODAY,
    Date,
    KubernetesVersion,
    Number,
    Option,
    OptionDefinitionError,
    OptionType,
    PriceFile,
    Text,
    TextList,
    WholeNumber,
    resolve_options,
)
from plumbob.checks.registry import (
    CheckContext,
    CheckDefinitionError,
    Hit,
    Registry,
    check,
)
from plumbob.knowledge.prices import Prices, load_prices
from plumbob.model.snapshot import Snapshot

REGISTRY = Registry.discover()
COST_CHECKS = ("gpu-allocated-idle", "gpu-idle", "gpu-low-utilization")


def _price_file(tmp_path: Path, name: str, price: float) -> Path:
    path = tmp_path / name
    path.write_text(f"prices: [{{gpu_product: NVIDIA-L4, usd_per_gpu_hour: {price}}}]\n")
    return path


@pytest.mark.parametrize(
    ("kind", "given", "converted"),
    [
        (Number(), 8, 8.0),
        (Number(), 12.5, 12.5),
        (WholeNumber(), 120, 120),
        (Text(), "x", "x"),
        (TextList(), ["nvcr.io", "quay.io"], ("nvcr.io", "quay.io")),
        (TextList(), [], ()),
        (Date(), "2026-12-01", date(2026, 12, 1)),
        (Date(), date(2026, 12, 1), date(2026, 12, 1)),  # YAML's unquoted date
        (Date(), datetime(2026, 12, 1, 8, 30), date(2026, 12, 1)),
        (KubernetesVersion(), "1.33", (1, 33)),
        (KubernetesVersion(), "v1.30.2-eks-2d5f260", (1, 30)),
    ],
)
def test_each_type_converts_what_it_takes(
    kind: OptionType[Any], given: object, converted: object
) -> None:
    value = kind.convert(given)
    assert value == converted and type(value) is type(converted)
    assert kind.holds(value)


@pytest.mark.parametrize(
    ("kind", "given", "said"),
    [
        (Number(), "eight", "expected a number, got 'eight'"),
        (Number(), True, "expected a number, got True"),
        (Number(), None, "expected a number, got None"),
        (WholeNumber(), 1.5, "expected a whole number, got 1.5"),
        (WholeNumber(), False, "expected a whole number, got False"),
        (Text(), 3, "expected text, got 3"),
        (TextList(), "nvcr.io", "expected a list of text, got 'nvcr.io'"),
        (TextList(), ["nvcr.io", 1], "expected a list of text"),
        (Date(), "2026-13-01", "expected a date like 2026-12-01, got '2026-13-01'"),
        (Date(), 20261201, "expected a date like"),
        (KubernetesVersion(), "soon", "expected a Kubernetes version like 1.33, got 'soon'"),
        (KubernetesVersion(), 1.3, "in quotes like '1.33', got the number 1.3"),
        (PriceFile(), 5, "expected the path of a price file, got 5"),
        (PriceFile(), "/nonexistent/p.yaml", "/nonexistent/p.yaml: cannot read"),
    ],
)
def test_each_type_says_what_it_expected(kind: OptionType[Any], given: object, said: str) -> None:
    with pytest.raises(ValueError, match=re.escape(said)):
        kind.convert(given)


def test_a_price_file_becomes_the_loaded_table(tmp_path: Path) -> None:
    path = _price_file(tmp_path, "p.yaml", 0.5)
    prices = PriceFile().convert(str(path))
    assert isinstance(prices, Prices) and prices.per_gpu_hour("NVIDIA-L4") == 0.5
    assert prices.origin.startswith(str(path))
    bad = tmp_path / "bad.yaml"
    bad.write_text("prices: [{gpu_product: X}]\n")
    with pytest.raises(ValueError, match=r"bad.yaml: row 1 \(X\): usd_per_gpu_hour"):
        PriceFile().convert(bad)


@pytest.mark.parametrize("c", [c for c in REGISTRY if c.options], ids=lambda c: c.id)
def test_defaults_fill_every_declared_option(c) -> None:  # type: ignore[no-untyped-def]
    values = c.context().options
    assert set(values) == set(c.options)
    for name, option in c.options.items():
        assert values[name] is None or option.type.holds(values[name]), (name, values[name])


def test_computed_defaults() -> None:
    values = REGISTRY.get("api-version-removed").context().options  # type: ignore[union-attr]
    assert values["today"] == date.today() and values["target-version"] is None
    prices = REGISTRY.get("gpu-idle").context().options["prices"]  # type: ignore[union-attr]
    assert isinstance(prices, Prices) and prices.origin == "knowledge/gpu_prices.yaml"


def test_a_context_names_the_option_it_cannot_use() -> None:
    c = REGISTRY.get("gpu-idle")
    assert c is not None
    with pytest.raises(ValueError, match="min-idle-gpus: expected a number, got 'two'"):
        c.context({"min-idle-gpus": "two"})
    with pytest.raises(ValueError, match="idle: no such option; takes: min-idle-gpus, prices"):
        c.context({"idle": 1})


def test_reading_an_undeclared_option_fails() -> None:
    with pytest.raises(KeyError, match="'threshold-gb' has no value here"):
        CheckContext().value(Option("threshold-gb", Number(), default=1.0, help="x"))


@pytest.mark.parametrize(
    ("make", "said"),
    [
        (lambda: Option("x", Number(), default="ten", help="h"), "default 'ten' is not a number"),
        (lambda: Option("x", Number(), default=10, help="h"), "default 10 is not a number"),
        (lambda: Option("x", WholeNumber(), default=1.5, help="h"), "is not a whole number"),
        (lambda: Option("x", TextList(), default=["a"], help="h"), "is not a list of text"),
        (lambda: Option("x", Date(), default="2026-12-01", help="h"), "is not a date"),
        (lambda: Option("x", Number(), default=1.0), "no help text"),
        (lambda: Option("x", Number(), help="h"), "exactly one of default, default_factory"),
        (
            lambda: Option("x", Number(), default=1.0, default_factory=float, help="h"),
            "exactly one of default, default_factory",
        ),
        (lambda: Option("x", Number(), default_factory=float, help="h"), "needs default_text"),
        (lambda: Option("x", Number(), default=1.0, help="h", flag="x"), "must start with --"),
    ],
)
def test_a_declaration_that_cannot_work_fails_at_definition(make: Any, said: str) -> None:
    with pytest.raises(OptionDefinitionError, match=re.escape(said)):
        make()


def _define(check_id: str, *options: Option[Any], name: str | None = None) -> Any:
    def fn(snap: Snapshot, ctx: CheckContext) -> Iterator[Hit]:
        yield from ()

    fn.__name__ = name or check_id.replace("-", "_")
    return check(
        id=check_id,
        category="cost",
        severity="low",
        title="t",
        why="w",
        fix="f",
        reads=("Pod",),
        options=options,
    )(fn).__plumbob_check__


def test_an_option_declared_twice_fails_at_definition() -> None:
    a = Option("limit", Number(), default=1.0, help="h")
    b = Option("limit", WholeNumber(), default=1, help="h")
    with pytest.raises(OptionDefinitionError, match="x-twice: option 'limit' declared twice"):
        _define("x-twice", a, b)
    with pytest.raises(OptionDefinitionError, match="options= takes Option"):
        _define("x-raw", {"limit": Number()})  # type: ignore[arg-type]


def test_one_flag_one_declaration() -> None:
    one = Option("limit", Number(), default=1.0, help="h", flag="--limit")
    other = Option("limit", Number(), default=2.0, help="h", flag="--limit")
    with pytest.raises(CheckDefinitionError, match="declares flag --limit"):
        Registry([_define("x-one", one), _define("x-other", other)])
    Registry([_define("x-one", one), _define("x-same", one)])


class _CountingLoad:
    """load_prices, counting the calls (as `PriceFile(load=...)`)."""

    def __init__(self) -> None:
        self.paths: list[Path | None] = []

    def __call__(self, path: Path | None) -> Prices:
        self.paths.append(path)
        return load_prices(path)


def _priced_registry(load: _CountingLoad) -> tuple[Registry, Option[Prices]]:
    kind = PriceFile(load=load)
    option: Option[Prices] = Option(
        "prices",
        kind,
        default_factory=kind.shipped,
        default_text="shipped",
        flag="--prices",
        help="h",
    )
    checks = [_define(f"x-priced-{i}", option) for i in range(3)]
    return Registry(checks), option


def test_a_price_file_is_loaded_once_per_scan(tmp_path: Path) -> None:
    a = _price_file(tmp_path, "a.yaml", 1.0)
    b = _price_file(tmp_path, "b.yaml", 2.0)
    load = _CountingLoad()
    registry, option = _priced_registry(load)
    ids = [c.id for c in registry]

    resolve_options(registry, {})
    assert load.paths == [None]  # the shipped table, once for three checks

    load.paths.clear()
    resolved = resolve_options(registry, {i: {"prices": str(a)} for i in ids})
    assert load.paths == [a]
    assert len({id(resolved.value(i, option)) for i in ids}) == 1

    load.paths.clear()
    resolved = resolve_options(registry, {ids[0]: {"prices": str(a)}}, {"--prices": b})
    assert load.paths == [a, b]  # plumbob.yaml's file is checked, the flag's is used
    assert {resolved.value(i, option).per_gpu_hour("NVIDIA-L4") for i in ids} == {2.0}  # type: ignore[union-attr]


def test_scan_prices_reach_every_cost_check_as_one_table(tmp_path: Path) -> None:
    path = _price_file(tmp_path, "p.yaml", 0.5)
    resolved = resolve_options(REGISTRY, {}, {"--prices": path})
    tables = [resolved.value(c, PRICES) for c in COST_CHECKS]
    assert tables[0] is tables[1] is tables[2]
    assert tables[0] is not None and tables[0].per_gpu_hour("NVIDIA-L4") == 0.5


def test_flag_over_config_over_default(tmp_path: Path) -> None:
    check_id = "api-version-removed"
    configured = {check_id: {"target-version": "1.20", "today": "2026-01-05"}}
    assert resolve_options(REGISTRY, {}).value(check_id, TARGET_VERSION) is None
    from_config = resolve_options(REGISTRY, configured)
    assert from_config.value(check_id, TARGET_VERSION) == (1, 20)
    assert from_config.value(check_id, TODAY) == date(2026, 1, 5)
    from_flag = resolve_options(REGISTRY, configured, {"--target-version": "1.33"})
    assert from_flag.value(check_id, TARGET_VERSION) == (1, 33)
    assert from_flag.value(check_id, TODAY) == date(2026, 1, 5)  # no flag: plumbob.yaml's
    # Prices likewise: gpu-idle's file from plumbob.yaml, the other cost checks the default;
    # --prices replaces both.
    a = _price_file(tmp_path, "a.yaml", 1.0)
    b = _price_file(tmp_path, "b.yaml", 2.0)
    mixed = resolve_options(REGISTRY, {"gpu-idle": {"prices": str(a)}})
    assert mixed.value("gpu-idle", PRICES).per_gpu_hour("NVIDIA-L4") == 1.0  # type: ignore[union-attr]
    assert mixed.value("gpu-low-utilization", PRICES).origin == "knowledge/gpu_prices.yaml"  # type: ignore[union-attr]
    flagged = resolve_options(REGISTRY, {"gpu-idle": {"prices": str(a)}}, {"--prices": b})
    assert {flagged.value(c, PRICES).per_gpu_hour("NVIDIA-L4") for c in COST_CHECKS} == {2.0}  # type: ignore[union-attr]


def test_an_unusable_flag_is_a_flag_problem(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("prices: [{gpu_product: X}]\n")
    resolved = resolve_options(REGISTRY, {}, {"--prices": bad, "--target-version": "soon"})
    assert resolved.problems == ()
    assert [p.split(":")[0] for p in resolved.flag_problems] == ["--prices", "--target-version"]
    assert "usd_per_gpu_hour" in resolved.flag_problems[0]
    assert set(resolved.unusable) == {*COST_CHECKS, "api-version-removed"}
    assert "gpu-idle" not in resolved.values
    assert resolve_options(REGISTRY, {}, {"--nope": 1}).flag_problems == (
        "--nope: no check takes this flag",
    )
