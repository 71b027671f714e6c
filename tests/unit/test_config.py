"""Configuration from plumbob.yaml and the scan flags reaching the checks: the flag wins over
plumbob.yaml, an unusable value stops the scan before any input is read, and the library path
(engine.run without the CLI) says what it ignored."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from plumbob import engine
from plumbob.checks.registry import Registry
from plumbob.cli import app
from plumbob.config import Config, check_options, config_problems
from plumbob.report.model import CheckStatus, Level
from tests.conftest import make_node, snapshot_of

IDLE_POOL = Path(__file__).parents[1] / "checks" / "cost" / "gpu-idle" / "trigger-idle-pool.yaml"
"""Eight idle H100s on node train-1, among others."""


def _prices(tmp_path: Path, name: str, usd: float) -> Path:
    path = tmp_path / name
    path.write_text(f"prices: [{{gpu_product: NVIDIA-H100-80GB-HBM3, usd_per_gpu_hour: {usd}}}]\n")
    return path


def _train_1_cost(stdout: str) -> tuple[float, str]:
    report = json.loads(stdout)
    [finding] = [
        f
        for f in report["findings"]
        if f["check"] == "gpu-idle" and f["subject"]["name"] == "train-1"
    ]
    return finding["evidence"]["monthly_cost_usd"], report["sections"]["gpu-cost"]["price_source"]


def test_scan_prices_flag_wins_over_plumbob_yaml(tmp_path: Path) -> None:
    configured = _prices(tmp_path, "configured.yaml", 1)
    flagged = _prices(tmp_path, "flagged.yaml", 2)
    config = tmp_path / "plumbob.yaml"
    config.write_text(f"options:\n  gpu-idle: {{prices: {configured}}}\n")
    runner = CliRunner()
    args = ["scan", str(IDLE_POOL), "-q", "-f", "json", "--config", str(config)]
    plain = runner.invoke(app, args)
    assert plain.exit_code == 0, plain.output
    assert _train_1_cost(plain.stdout) == (
        8 * 1 * 730,
        f"{configured} (over knowledge/gpu_prices.yaml)",
    )
    both = runner.invoke(app, [*args, "--prices", str(flagged)])
    assert both.exit_code == 0, both.output
    assert _train_1_cost(both.stdout) == (
        8 * 2 * 730,
        f"{flagged} (over knowledge/gpu_prices.yaml)",
    )


def test_an_unusable_value_stops_the_scan_before_reading(tmp_path: Path) -> None:
    """One line per problem, exit 2, and the inputs are not read (the missing one is not
    reported)."""
    bad = tmp_path / "bad.yaml"
    bad.write_text("prices: [{gpu_product: X}]\n")
    missing = tmp_path / "no-such-input.yaml"
    result = CliRunner().invoke(app, ["scan", str(missing), "--prices", str(bad), "-q"])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert lines == [
        f"error: --prices: {bad}: row 1 (X): usd_per_gpu_hour must be a number >= 0, got None"
    ]

    config = tmp_path / "plumbob.yaml"
    config.write_text("options:\n  api-version-removed: {target-version: 1.30}\n")
    result = CliRunner().invoke(app, ["scan", str(missing), "--config", str(config), "-q"])
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        f"error: {config}: options: api-version-removed: target-version: expected a Kubernetes "
        "version in quotes like '1.33', got the number 1.3"
    ]


def test_config_problems_reuse_resolved_options(tmp_path: Path) -> None:
    registry = Registry.discover()
    config = Config(options={"gpu-idle": {"prices": str(tmp_path / "absent.yaml")}})
    options = check_options(config, registry)
    assert config_problems(config, registry, options) == list(options.problems)
    assert [p.split(": cannot read")[0] for p in options.problems] == [
        f"options: gpu-idle: prices: {tmp_path / 'absent.yaml'}"
    ]


def test_library_runs_say_which_options_they_ignored() -> None:
    snap = snapshot_of(make_node("g1", gpus=1))
    config = Config(only=["gpu-idle"], options={"gpu-idle": {"today": "2026-12-01"}})
    report = engine.run([snap], Registry.discover(), config)
    [run] = report.checks
    assert run.status in (CheckStatus.PASSED, CheckStatus.FAILED)
    assert [(d.level, d.message) for d in report.diagnostics] == [
        (
            Level.WARNING,
            "options: gpu-idle: today: no such option; gpu-idle takes: min-idle-gpus, prices "
            "(ignored)",
        )
    ]
