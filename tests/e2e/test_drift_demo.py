"""Drift end to end: the demo fleet's planted drift, and the baseline / store / history /
diff commands as users run them."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import msgspec
import pytest
from typer.testing import CliRunner

from plumbob import engine
from plumbob.checks.registry import Registry
from plumbob.cli import app
from plumbob.drift import DriftAnalysis
from plumbob.report.model import Report
from plumbob.sources.demo import DemoSource, DemoSpec, planted
from plumbob.sources.snapshot_file import write_snapshot
from tests.conftest import snapshot_of
from tests.unit.drift.helpers import pool_node


@pytest.fixture(scope="module")
def demo_report() -> Report:
    loaded = DemoSource(DemoSpec()).load()
    return engine.run(
        loaded.snapshots,
        Registry.discover(),
        analyses=[engine.Analysis("drift", DriftAnalysis().analyse)],
    )


def test_demo_drift_is_exactly_what_was_planted(demo_report: Report) -> None:
    items = planted(DemoSpec())
    wanted = {(p.check, p.name) for p in items if p.check.startswith("drift:")}
    assert wanted, "the demo plants drift"
    # The node planted without its GPU taint also differs from its tainted pool: the same
    # defect, seen as drift.
    untainted = {("drift:taints", p.name) for p in items if p.check == "gpu-node-untainted"}
    found = {(f.check, f.subject.name) for f in demo_report.findings if f.category == "drift"}
    assert found == wanted | untainted
    driver = next(f for f in demo_report.findings if f.check == "drift:nvidia_driver")
    assert driver.severity == "high"
    assert driver.evidence["cuda"] == "12.2" and driver.evidence["majorityCuda"] == "12.4"


@pytest.mark.parametrize(
    ("nodes", "pods", "seed"),
    [(3, 0, 7), (12, 100, 7), (20, 200, 3), (48, 900, 11), (200, 3000, 7)],
)
def test_demo_drift_is_exactly_what_was_planted_at_any_size(
    nodes: int, pods: int, seed: int
) -> None:
    """Other sizes and seeds move the planted nodes (and shrink pools below a majority): the
    findings still name exactly the planted list."""
    spec = DemoSpec(nodes=nodes, pods=pods, seed=seed)
    findings, _ = DriftAnalysis()(DemoSource(spec).load().snapshots)
    wanted = {(p.check, p.name) for p in planted(spec) if p.check.startswith("drift:")}
    assert {(f.check, f.subject.name) for f in findings} == wanted


def test_demo_drift_table(demo_report: Report) -> None:
    section = msgspec.to_builtins(demo_report.sections.drift)
    rows = {row["pool"]: row for row in section["pools"]}
    runtime = rows["inference-l4"]["cells"]["container_runtime"]
    assert runtime["distinct"] == 2 and len(runtime["outliers"]) == 4
    assert rows["gpu-train-h100"]["gpu"] is True
    assert rows["gpu-train-h100"]["cells"]["nvidia_driver"]["majority"]
    assert "kernel" in section["columns"]


@dataclass(frozen=True)
class Result:
    returncode: int
    stdout: str
    stderr: str


def plumbob(*args: str, cwd: Path) -> Result:
    """Run the CLI in-process (fast) in `cwd`, with its own data directory."""
    runner = CliRunner()
    previous = Path.cwd()
    os.chdir(cwd)
    try:
        result = runner.invoke(
            app,
            list(args),
            env={
                "CI": "1",
                "COLUMNS": "140",
                "PLUMBOB_STORE": None,
                "XDG_DATA_HOME": str(cwd / "xdg"),
            },
        )
    finally:
        os.chdir(previous)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return Result(result.exit_code, result.stdout, result.stderr)


def _fleet(tmp_path: Path, name: str, driver_g3: str, extra: int = 0) -> Path:
    nodes = [pool_node(f"g{i}", "gpu", gpus=8, driver="550.90.07") for i in range(3)]
    nodes.append(pool_node("g3", "gpu", gpus=8, driver=driver_g3))
    nodes += [pool_node(f"c{i}", "cpu") for i in range(2 + extra)]
    path = tmp_path / name
    write_snapshot(snapshot_of(*nodes, cluster="prod"), path)
    return path


def test_terminal_report_shows_the_drift_table(tmp_path: Path) -> None:
    week1 = _fleet(tmp_path, "week1.json", "535.104.05")
    result = plumbob("scan", str(week1), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "drift — pools × attributes" in result.stdout
    assert "1 pools drift, 1 uniform" in result.stdout
    assert "drift:nvidia_driver" in result.stdout


def test_baseline_init_then_scan_with_baseline(tmp_path: Path) -> None:
    week1 = _fleet(tmp_path, "week1.json", "550.90.07")
    result = plumbob("baseline", "init", str(week1), "-o", "baseline.yaml", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    text = (tmp_path / "baseline.yaml").read_text()
    assert "nvidia-driver: 550.90.07" in text
    (tmp_path / "baseline.yaml").write_text(
        text.replace("nvidia-driver: 550.90.07", "nvidia-driver: '>=550.54, <560'")
    )
    week2 = _fleet(tmp_path, "week2.json", "535.104.05")
    result = plumbob(
        "scan", str(week2), "--baseline", "baseline.yaml", "--format", "json", cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    deviations = [
        (f["check"], f["subject"]["name"])
        for f in report["findings"]
        if f["check"].startswith("baseline:")
    ]
    assert deviations == [("baseline:nvidia_driver", "g3")]
    assert report["sections"]["drift"]["baselineDeviations"] == 1
    (tmp_path / "bad.yaml").write_text("pools:\n  gpu:\n    drivr: '1'\n")
    bad = plumbob("scan", str(week2), "--baseline", "bad.yaml", cwd=tmp_path)
    assert bad.returncode == 2
    assert "bad.yaml:3: pools.gpu.drivr: Object contains unknown field" in bad.stderr
    assert "Traceback" not in bad.stderr


def test_store_history_and_diff(tmp_path: Path) -> None:
    week1 = _fleet(tmp_path, "week1.json", "535.104.05")
    week2 = _fleet(tmp_path, "week2.json", "550.90.07", extra=1)
    db = str(tmp_path / "history.sqlite")
    for path in (week1, week2):
        result = plumbob("scan", str(path), "--store", db, "-q", cwd=tmp_path)
        assert result.returncode == 0, result.stderr
    listing = plumbob("history", "--store", db, "--format", "json", cwd=tmp_path)
    scans = json.loads(listing.stdout)["scans"]
    assert [s["cluster"] for s in scans] == ["prod", "prod"] and scans[0]["id"] == 2
    assert (
        plumbob("history", "--store", db, "--cluster", "prod", cwd=tmp_path).stdout.count("prod")
        >= 2
    )
    stored = plumbob("diff", "1", "2", "--store", db, "--format", "json", cwd=tmp_path)
    assert stored.returncode == 0, stored.stderr
    files = plumbob("diff", str(week1), str(week2), "--format", "json", cwd=tmp_path)
    assert files.returncode == 0, files.stderr
    for doc in (json.loads(stored.stdout), json.loads(files.stdout)):
        (d,) = doc["items"]
        assert d["nodesAdded"] == ["c2"] and d.get("nodesRemoved", []) == []
        assert {
            "subject": "g3",
            "attribute": "nvidia_driver",
            "before": "535.104.05",
            "after": "550.90.07",
        } in d["changes"]
        assert [f["check"] for f in d["findingsResolved"]] == ["drift:nvidia_driver"]
    terminal = plumbob("diff", "1", "2", "--store", db, cwd=tmp_path)
    assert "535.104.05" in terminal.stdout and "findings resolved (1)" in terminal.stdout
    since = plumbob("diff", "--since", "7d", "--store", db, "--format", "json", cwd=tmp_path)
    assert since.returncode == 0, since.stderr
    assert json.loads(since.stdout)["items"][0]["nodesAdded"] == ["c2"]
    # both scans are minutes old: the oldest stands in for "7 days ago", and the user is told
    assert "no scan of prod is 7d old yet; comparing with its oldest (scan 1" in since.stderr
    missing = plumbob("diff", "1", "99", "--store", db, cwd=tmp_path)
    assert missing.returncode == 2 and "no scan with id 99" in missing.stderr


def test_store_default_location(tmp_path: Path) -> None:
    week1 = _fleet(tmp_path, "week1.json", "535.104.05")
    result = plumbob("scan", str(week1), "--store", "default", "-q", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "xdg" / "plumbob" / "history.sqlite").is_file()
    listing = plumbob("history", cwd=tmp_path)
    assert "prod" in listing.stdout


def test_cross_cluster_scan(tmp_path: Path) -> None:
    a = tmp_path / "a.json"
    b = tmp_path / "b.json"
    nodes = [pool_node(f"g{i}", "gpu", gpus=8, driver="550.90.07") for i in range(2)]
    write_snapshot(snapshot_of(*nodes, cluster="east"), a)
    other = [pool_node(f"h{i}", "gpu", gpus=8, driver="535.104.05") for i in range(2)]
    write_snapshot(snapshot_of(*other, cluster="west"), b)
    result = plumbob("scan", str(a), str(b), "--format", "json", cwd=tmp_path)
    report = json.loads(result.stdout)
    cross = {
        (f["check"], f["subject"]["kind"])
        for f in report["findings"]
        if f["check"].startswith("cross-cluster:")
    }
    assert cross == {
        ("cross-cluster:nvidia_driver", "Pool"),
        ("cross-cluster:nvidia_driver", "GPUProduct"),
    }
    table = plumbob("scan", str(a), str(b), cwd=tmp_path)
    assert "across clusters" in table.stdout


def test_pool_label_option(tmp_path: Path) -> None:
    nodes = [
        pool_node(f"n{i}", "ng-a" if i % 2 else "ng-b", labels={"team": "vision"}) for i in range(4)
    ]
    nodes[3]["status"]["nodeInfo"]["kernelVersion"] = "6.1.0-30-cloud-amd64"
    path = tmp_path / "teams.json"
    write_snapshot(snapshot_of(*nodes, cluster="prod"), path)
    by_group = json.loads(plumbob("scan", str(path), "-f", "json", cwd=tmp_path).stdout)
    by_team = json.loads(
        plumbob("scan", str(path), "-f", "json", "--pool-label", "team", cwd=tmp_path).stdout
    )
    assert {p["pool"] for p in by_group["sections"]["drift"]["pools"]} == {"ng-a", "ng-b"}
    assert {p["pool"] for p in by_team["sections"]["drift"]["pools"]} == {"vision"}
    kernel = [f for f in by_team["findings"] if f["check"] == "drift:kernel"]
    assert [f["subject"]["name"] for f in kernel] == ["n3"]


def test_readers_never_create_a_store(tmp_path: Path) -> None:
    """`history`/`diff` on a mistyped path: an error, not a new empty database."""
    for args in (("history",), ("diff", "1", "2"), ("diff", "--since", "7d")):
        result = plumbob(*args, "--store", str(tmp_path / "typo.db"), cwd=tmp_path)
        assert result.returncode == 2, args
        assert "no scan history here yet" in result.stderr
        assert "Traceback" not in result.stderr
    assert not (tmp_path / "typo.db").exists()
    assert not (tmp_path / "xdg").exists()  # nor the default one
    assert plumbob("history", cwd=tmp_path).returncode == 2


def test_demo_baseline_init_then_scan_finds_exactly_the_planted_drift(tmp_path: Path) -> None:
    """`baseline init --demo` writes the majority values; scanning the demo against it reports
    every planted outlier once more as a baseline deviation (the driver outlier also for its
    CUDA version, which the baseline names separately), and nothing else."""
    result = plumbob("baseline", "init", "--demo", "-o", "b.yaml", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    text = (tmp_path / "b.yaml").read_text()
    assert "nvidia-dcgm-exporter: '>=3.3.9'" in text  # the tag's version, not its suffix
    scan = plumbob("scan", "--demo", "--baseline", "b.yaml", "-f", "json", cwd=tmp_path)
    assert scan.returncode == 0, scan.stderr
    report = json.loads(scan.stdout)
    found = {
        (f["check"], f["subject"]["name"])
        for f in report["findings"]
        if f["check"].startswith("baseline:")
    }
    items = planted(DemoSpec())
    # a baseline states node attributes, not free-form node labels (drift:label)
    drift = {
        (p.check, p.name)
        for p in items
        if p.check.startswith("drift:") and p.check != "drift:label"
    }
    wanted = {("baseline:" + c.removeprefix("drift:"), n) for c, n in drift}
    wanted |= {("baseline:cuda", n) for c, n in drift if c == "drift:nvidia_driver"}
    assert found == wanted
    assert report["sections"]["drift"]["baselineDeviations"] == len(wanted)
