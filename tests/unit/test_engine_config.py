"""A configuration that names something no check is called is reported, place by place."""

from __future__ import annotations

from plumbob import engine
from plumbob.checks.registry import Registry
from plumbob.report.model import Severity


def test_every_place_a_config_names_checks_is_looked_at() -> None:
    config = engine.Config(
        severity={"gpu-idle": Severity.HIGH, "gpu-idel": Severity.LOW},
        disable=["cross-cluster:policy-mode", "drift-kernel", "drift"],
        only=["cost", "gpu", "nope"],
        exemptions=[engine.Exemption(check="*"), engine.Exemption(check="gpu-node-untainted")],
        options={"image-large-gpu": {}, "imag-large-gpu": {}},
    )
    problems = engine.unknown_names(config, Registry.discover())
    assert [p.split(": no such check")[0] for p in problems] == [
        "severity: gpu-idel",
        "disable: drift-kernel",
        "only: nope",
        "options: imag-large-gpu",
    ]
    assert "did you mean gpu-idle" in problems[0]
    assert problems[2].endswith("; see plumbob checks")


def test_an_empty_config_names_nothing() -> None:
    assert engine.unknown_names(engine.Config(), Registry.discover()) == []
