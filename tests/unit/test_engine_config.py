"""A configuration that names something no check is called, or an option no check takes, or a
value an option cannot use, is reported place by place."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

from plumbob.checks.registry import Registry
from plumbob.config import Config, Exemption, config_problems
from plumbob.report.model import Severity

REGISTRY = Registry.discover()


def test_every_place_a_config_names_checks_is_looked_at() -> None:
    config = Config(
        severity={"gpu-idle": Severity.HIGH, "gpu-idel": Severity.LOW},
        disable=["cross-cluster:policy-mode", "drift-kernel", "drift"],
        only=["cost", "gpu", "nope"],
        exemptions=[Exemption(check="*"), Exemption(check="gpu-node-untainted")],
        options={"image-large-gpu": {}, "imag-large-gpu": {}},
    )
    problems = config_problems(config, REGISTRY)
    assert [p.split(": no such check")[0] for p in problems] == [
        "severity: gpu-idel",
        "disable: drift-kernel",
        "only: nope",
        "options: imag-large-gpu",
    ]
    assert "did you mean gpu-idle" in problems[0]
    assert problems[2].endswith("; see plumbob checks")


@pytest.mark.parametrize(
    ("options", "problem"),
    [
        ({"image-large-gpu": {"threshold_gb": 8}}, "threshold_gb: no such option; did you mean"),
        ({"image-large-gpu": {"threshold-gb": "eight"}}, "expected a number, got 'eight'"),
        ({"image-large-gpu": {"threshold-gb": True}}, "expected a number, got True"),
        ({"gpu-node-untainted": {"x": 1}}, "x: no such option; gpu-node-untainted takes none"),
        ({"gpu-idle": {"limit": 1}}, "gpu-idle takes: min-idle-gpus, prices"),
        ({"kubernetes-version-eol": {"today": "2026-13-01"}}, "expected a date like"),
        ({"liveness-without-startup-probe": {"min-startup-seconds": 1.5}}, "a whole number"),
        (
            {"image-registry-not-approved": {"approved-registries": "nvcr.io"}},
            "expected a list of text, got 'nvcr.io'",
        ),
        ({"api-version-removed": {"target-version": "soon"}}, "a Kubernetes version like 1.33"),
        ({"api-version-removed": {"target-version": 1.3}}, "in quotes like '1.33', got the number"),
        ({"gpu-idle": {"prices": "/nonexistent/prices.yaml"}}, "prices.yaml: cannot read"),
        ({"gpu-idle": {"min-idle-gpus": None}}, "expected a number, got None"),
    ],
)
def test_options_a_check_does_not_take_or_cannot_use(
    options: dict[str, dict[str, Any]], problem: str
) -> None:
    [found] = config_problems(Config(options=options), REGISTRY)
    assert found.startswith(f"options: {next(iter(options))}: ") and problem in found


def test_options_checks_take_pass(tmp_path: Path) -> None:
    prices = tmp_path / "p.yaml"
    prices.write_text("prices: [{gpu_product: NVIDIA-L4, usd_per_gpu_hour: 0.5}]\n")
    options: dict[str, dict[str, Any]] = {
        "image-large-gpu": {"threshold-gb": 8},
        "image-large-pull-always": {"threshold-gb": 12.5},
        "gpu-low-utilization": {"threshold-percent": 20, "idle-percent": 2, "prices": str(prices)},
        "kubernetes-version-eol": {"today": "2026-12-01"},
        "api-version-removed": {"target-version": "1.33", "today": date(2026, 12, 1)},
        "image-registry-not-approved": {"approved-registries": ["nvcr.io"]},
        "liveness-without-startup-probe": {"min-startup-seconds": 120},
    }
    assert config_problems(Config(options=options), REGISTRY) == []
    assert config_problems(Config(), REGISTRY) == []
