"""What a report shows can be asked about, and comparisons are of like with like: `explain` and
`checks` for drift ids, `diff` across clusters and `--since` per cluster, `--cluster` naming
snapshot files, the CUDA floors shown, and `--help`."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from plumbob.cli import app
from plumbob.sources.snapshot_file import write_snapshot
from tests.conftest import snapshot_of
from tests.unit.drift.helpers import pool_node


@dataclass(frozen=True)
class Result:
    returncode: int
    stdout: str
    stderr: str


def plumbob(*args: str, cwd: Path) -> Result:
    """Run the CLI in-process in `cwd`, with its own data directory."""
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
                "KUBECONFIG": None,
            },
        )
    finally:
        os.chdir(previous)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return Result(result.exit_code, result.stdout, result.stderr)


def fleet(
    tmp_path: Path, file: str, cluster: str, driver: str = "550.90.07", base: str = "550.90.07"
) -> Path:
    nodes = [pool_node(f"g{i}", "gpu", gpus=8, driver=base) for i in range(3)]
    nodes.append(pool_node("g3", "gpu", gpus=8, driver=driver))
    path = tmp_path / file
    write_snapshot(snapshot_of(*nodes, cluster=cluster), path)
    return path


# ------------------------------------------------------------------ explain and checks


def test_every_id_in_a_report_can_be_explained(tmp_path: Path) -> None:
    """Every finding id of a scan with fleet, baseline and cross-cluster drift: `explain`
    answers with why and how, exit 0."""
    east = fleet(tmp_path, "east.json", "east", driver="535.104.05")
    west = fleet(tmp_path, "west.json", "west", driver="570.86.15", base="570.86.15")
    (tmp_path / "b.yaml").write_text("pools:\n  gpu:\n    nvidia-driver: '>=550'\n")
    scan = plumbob("scan", str(east), str(west), "--baseline", "b.yaml", "-f", "json", cwd=tmp_path)
    ids = {f["check"] for f in json.loads(scan.stdout)["findings"]}
    assert {"drift:nvidia_driver", "baseline:nvidia_driver"} <= ids
    assert any(i.startswith("cross-cluster:") for i in ids)
    for check in sorted(ids):
        explained = plumbob("explain", check, cwd=tmp_path)
        assert explained.returncode == 0, (check, explained.stderr)
        assert "Why it matters" in explained.stdout and "How to fix" in explained.stdout


def test_explain_a_drift_id(tmp_path: Path) -> None:
    result = plumbob("explain", "drift:nvidia_driver", cwd=tmp_path)
    assert result.returncode == 0
    assert "NVIDIA driver" in result.stdout and "ClusterPolicy" in result.stdout
    assert "high in GPU pools, else medium" in result.stdout
    typo = plumbob("explain", "drift:nvidia_drivr", cwd=tmp_path)
    assert typo.returncode == 2 and "did you mean drift:nvidia_driver" in typo.stderr


def test_checks_lists_drift_ids_and_refuses_unknown_categories(tmp_path: Path) -> None:
    drift = plumbob("checks", "--category", "drift", "--json", cwd=tmp_path)
    assert drift.returncode == 0
    listed = {d["id"] for d in json.loads(drift.stdout)}
    assert {"drift:kernel", "baseline:registry", "cross-cluster:policy-mode"} <= listed
    assert all(i.partition(":")[0] in ("drift", "baseline", "cross-cluster") for i in listed)
    table = plumbob("checks", "--category", "drift", cwd=tmp_path)
    assert "drift ids" in table.stdout and "drift:nvidia_driver" in table.stdout
    unknown = plumbob("checks", "--category", "gpus", cwd=tmp_path)
    assert unknown.returncode == 2
    assert "no such category" in unknown.stderr and "gpu, compat" in unknown.stderr
    everything = json.loads(plumbob("checks", "--json", cwd=tmp_path).stdout)
    assert {"gpu-node-untainted", "drift:kernel"} <= {d["id"] for d in everything}


# ------------------------------------------------------------------ diff


def test_diff_of_two_clusters_refuses_unless_forced(tmp_path: Path) -> None:
    east = fleet(tmp_path, "east.json", "east")
    west = fleet(tmp_path, "west.json", "west", driver="535.104.05")
    refused = plumbob("diff", str(east), str(west), cwd=tmp_path)
    assert refused.returncode == 2
    assert "cluster 'east'" in refused.stderr and "cluster 'west'" in refused.stderr
    assert "--force" in refused.stderr
    forced = plumbob("diff", str(east), str(west), "--force", "-f", "json", cwd=tmp_path)
    assert forced.returncode == 0, forced.stderr
    assert "compared as asked (--force)" in forced.stderr
    (d,) = json.loads(forced.stdout)["items"]
    # findings are matched by check and subject, not taken as all resolved and all appeared
    assert [f["check"] for f in d["findingsAppeared"]] == ["drift:nvidia_driver"]
    assert d.get("findingsResolved", []) == []


def test_diff_of_one_cluster_over_time(tmp_path: Path) -> None:
    before = fleet(tmp_path, "before.json", "prod", driver="535.104.05")
    after = fleet(tmp_path, "after.json", "prod")
    result = plumbob("diff", str(before), str(after), "-f", "json", cwd=tmp_path)
    assert result.returncode == 0 and not result.stderr
    (d,) = json.loads(result.stdout)["items"]
    assert [f["check"] for f in d["findingsResolved"]] == ["drift:nvidia_driver"]


def test_diff_since_takes_each_cluster_in_turn(tmp_path: Path) -> None:
    db = str(tmp_path / "h.sqlite")
    for path in (fleet(tmp_path, "east.json", "east"), fleet(tmp_path, "west.json", "west")):
        assert plumbob("scan", str(path), "--store", db, "-q", cwd=tmp_path).returncode == 0
    one_each = plumbob("diff", "--since", "7d", "--store", db, cwd=tmp_path)
    assert one_each.returncode == 2
    assert "fewer than two" not in one_each.stderr
    assert "east (scan 1)" in one_each.stderr and "west (scan 2)" in one_each.stderr
    again = fleet(tmp_path, "east2.json", "east", driver="535.104.05")
    assert plumbob("scan", str(again), "--store", db, "-q", cwd=tmp_path).returncode == 0
    since = plumbob("diff", "--since", "7d", "--store", db, "-f", "json", cwd=tmp_path)
    assert since.returncode == 0, since.stderr
    (d,) = json.loads(since.stdout)["items"]
    assert (d["before"]["cluster"], d["after"]["cluster"]) == ("east", "east")
    assert (d["before"]["scanId"], d["after"]["scanId"]) == (1, 3)
    assert "one stored scan only, nothing to compare: west (scan 2)" in since.stderr
    west = plumbob("diff", "--since", "7d", "--cluster", "west", "--store", db, cwd=tmp_path)
    assert west.returncode == 2 and "west (scan 2)" in west.stderr
    nowhere = plumbob("diff", "--since", "7d", "--cluster", "north", "--store", db, cwd=tmp_path)
    assert nowhere.returncode == 2
    assert "no stored scan of it" in nowhere.stderr and "east, west" in nowhere.stderr


# ------------------------------------------------------------------ names and advice


def test_cluster_option_renames_a_snapshot_file(tmp_path: Path) -> None:
    prod = fleet(tmp_path, "prod.json", "prod")
    renamed = plumbob("scan", str(prod), "--cluster", "staging", "-f", "json", cwd=tmp_path)
    assert [c["cluster"] for c in json.loads(renamed.stdout)["clusters"]] == ["staging"]
    # the advice of the duplicate-name warning works: the second file, scanned with the
    # first under its own name, no longer clashes
    again = fleet(tmp_path, "prod-again.json", "prod")
    clash = plumbob("scan", str(prod), str(again), "-f", "json", cwd=tmp_path)
    assert "reported as 'prod (2)'" in clash.stderr and "--cluster NAME" in clash.stderr
    several = plumbob("scan", str(prod), str(again), "--cluster", "x", "-f", "json", cwd=tmp_path)
    assert "--cluster x names one cluster, and these paths hold 2 (prod, prod)" in several.stderr


def test_a_missing_kubeconfig_is_named(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-kubeconfig"
    for args in (("scan", "--context", "prod"), ("snapshot", "-o", "x.json")):
        result = plumbob(*args, "--kubeconfig", str(missing), cwd=tmp_path)
        assert result.returncode == 2, args
        assert f"kubeconfig not found: {missing}" in result.stderr
        assert "Invalid kube-config" not in result.stderr and "Traceback" not in result.stderr


def test_kubeconfig_lists_are_missing_only_when_every_file_is(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from plumbob.sources.kube_client import kubeconfig_missing

    present = tmp_path / "kc"
    present.write_text("apiVersion: v1\nkind: Config\n")
    gone = tmp_path / "gone"
    monkeypatch.setenv("KUBECONFIG", f"{gone}{os.pathsep}{present}")
    assert kubeconfig_missing(None) is None
    monkeypatch.setenv("KUBECONFIG", str(gone))
    assert kubeconfig_missing(None) == (
        f"kubeconfig not found: {gone} (give --kubeconfig FILE, or --in-cluster inside a pod)"
    )
    assert kubeconfig_missing(str(present)) is None


# ------------------------------------------------------------------ help


def test_top_level_help_orders_commands_names_exit_codes_and_shows_examples(
    tmp_path: Path,
) -> None:
    from plumbob.cli.help import COMMAND_ORDER

    shown = plumbob("--help", cwd=tmp_path).stdout
    commands = shown.split("Commands:")[1].split("Exit codes:")[0]
    listed = [
        line.split()[0]
        for line in commands.splitlines()
        if line.strip() and line.startswith("  ") and not line.startswith("   ")
    ]
    assert listed == list(COMMAND_ORDER)
    assert "..." not in commands, "descriptions are whole"
    assert "Write and check" not in commands  # baseline says what it does
    assert all(code in shown for code in ("  0  ", "  1  ", "  2  "))
    examples = [
        line.split("#")[0].split()
        for line in shown.split("Examples:")[1].splitlines()
        if line.strip().startswith("plumbob ")
    ]
    assert len(examples) == 3
    for example in examples:  # every example is a command line plumbob takes
        checked = plumbob(*example[1:], "--help", cwd=tmp_path)
        assert checked.returncode == 0, (example, checked.stderr)


def test_scan_help_groups_every_option(tmp_path: Path) -> None:
    shown = plumbob("scan", "--help", cwd=tmp_path).stdout
    sections = ["Arguments:", "Input:", "Live clusters:", "Output:", "Store:", "Checks:"]
    where = [shown.index(f"\n{s}\n") for s in sections]
    assert where == sorted(where)
    other = shown.split("\nOther options:\n")[1]
    assert other.split() == ["--help", "Show", "this", "message", "and", "exit."]
    for option in ("--demo", "--context", "--format", "--store", "--config", "--baseline"):
        assert option in shown
