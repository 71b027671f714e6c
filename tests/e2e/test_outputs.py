"""`plumbob scan` outputs: several formats at once, the format from the suffix, history in the
HTML report from a store, and output errors as one line and exit 2."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from junitparser import JUnitXml

from tests.e2e.test_cli import manifests as manifests  # the fixture, shared


def plumbob(*args: str) -> subprocess.CompletedProcess[str]:
    """The CLI in a child process with a CI environment (and the caller's PYTHONPATH, so a
    checkout under test runs its own sources)."""
    env = {"CI": "1", "PATH": "/usr/bin:/bin", "COLUMNS": "120"}
    if "PYTHONPATH" in os.environ:
        env["PYTHONPATH"] = os.environ["PYTHONPATH"]
    return subprocess.run(
        [sys.executable, "-m", "plumbob", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )


def test_several_outputs_in_one_scan(manifests: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    result = plumbob(
        "scan",
        str(manifests),
        "--output",
        f"sarif={out / 'plumbob.sarif'}",
        "--output",
        f"html={out / 'report.html'}",
        "-o",
        f"junit={out / 'junit.xml'}",
        "--output",
        f"markdown={out / 'comment.md'}",
        "--format",
        "table",
    )
    assert result.returncode == 0, result.stderr
    assert "Score" in result.stdout  # the one format without a path goes to stdout
    sarif = json.loads((out / "plumbob.sarif").read_text())
    assert sarif["version"] == "2.1.0" and sarif["runs"][0]["results"]
    assert "<svg" in (out / "report.html").read_text()
    assert len(list(JUnitXml.fromfile(str(out / "junit.xml")))) >= 1
    assert (out / "comment.md").read_text().startswith("## plumbob: ")
    for name in ("sarif", "html", "junit", "markdown"):
        assert f"wrote the {name} report to" in result.stderr


@pytest.mark.parametrize(
    ("name", "check"),
    [
        ("report.json", lambda t: json.loads(t)["kind"] == "Report"),
        ("report.sarif", lambda t: json.loads(t)["version"] == "2.1.0"),
        ("report.sarif.json", lambda t: json.loads(t)["version"] == "2.1.0"),
        ("report.html", lambda t: t.startswith("<!doctype html>")),
        ("junit.xml", lambda t: "<testsuites" in t),
        ("comment.md", lambda t: t.startswith("## plumbob")),
        ("report.txt", lambda t: "Score" in t),
    ],
)
def test_format_from_the_suffix(manifests: Path, tmp_path: Path, name: str, check: object) -> None:
    result = plumbob("scan", str(manifests), "-o", str(tmp_path / name), "-q")
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert check((tmp_path / name).read_text())  # type: ignore[operator]


def test_format_list_and_one_path(manifests: Path, tmp_path: Path) -> None:
    path = tmp_path / "out.anything"
    result = plumbob("scan", str(manifests), "--format", "json", "-o", str(path), "-q")
    assert result.returncode == 0 and json.loads(path.read_text())["kind"] == "Report"
    result = plumbob(
        "scan", str(manifests), "-f", "table,sarif", "--output", f"sarif={tmp_path / 'x.sarif'}"
    )
    assert result.returncode == 0 and "Score" in result.stdout
    assert (tmp_path / "x.sarif").is_file()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-o", "{tmp}/missing/report.html"], "folder {tmp}/missing does not exist"),
        (["-o", "{tmp}/report.weird"], "cannot tell the format of {tmp}/report.weird"),
        (["--format", "pdf"], "unknown format 'pdf'"),
        (["--format", "sarif,html"], "only one format can go to standard output"),
        (["--format", "sarif,html", "-o", "{tmp}/x"], "-o PATH goes with exactly one --format"),
        (["--output", "html={tmp}"], "cannot write {tmp}: it is a directory"),
        (["--report-json", "{tmp}/nope/r.json"], "folder {tmp}/nope does not exist"),
        (
            ["--output", "html={tmp}/a.html", "--output", "markdown={tmp}/a.html"],
            "is the output of two formats",
        ),
    ],
)
def test_output_errors_are_one_line_and_exit_2(
    manifests: Path,
    tmp_path: Path,
    args: list[str],
    message: str,
) -> None:
    result = plumbob("scan", str(manifests), *(a.format(tmp=tmp_path) for a in args))
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    assert message.format(tmp=tmp_path) in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_permission_denied_is_one_line(manifests: Path, tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    result = plumbob("scan", str(manifests), "-o", str(locked / "r.sarif"))
    assert result.returncode == 2 and "not writable" in result.stderr


def test_html_shows_history_from_the_store(manifests: Path, tmp_path: Path) -> None:
    db = tmp_path / "history.db"
    for _ in range(2):
        result = plumbob("scan", str(manifests), "--store", f"sqlite:///{db}", "-q")
        assert result.returncode == 0, result.stderr
    page = tmp_path / "report.html"
    result = plumbob("scan", str(manifests), "--store", f"sqlite:///{db}", "-o", str(page), "-q")
    assert result.returncode == 0, result.stderr
    text = page.read_text()
    assert 'id="history"' in text and 'class="chart history"' in text and "3 scans" in text
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM scans").fetchone()[0] == 3


def test_a_write_that_fails_after_the_scan_is_one_line(tmp_path: Path) -> None:
    from plumbob.cli.outputs import OutputError, write_file

    with pytest.raises(OutputError, match=r"cannot write .*gone/r.sarif: No such file"):
        write_file(tmp_path / "gone" / "r.sarif", b"{}")


def test_plan() -> None:
    from plumbob.cli.outputs import Target, plan
    from plumbob.render.interface import Format

    assert plan(None, None) == [Target(Format.TABLE)]
    assert plan(["json"], ["r.out"]) == [Target(Format.JSON, Path("r.out"))]
    assert plan(None, ["sarif=a=b.sarif"]) == [Target(Format.SARIF, Path("a=b.sarif"))]
    assert plan(["table,html"], ["html=r.html"]) == [
        Target(Format.HTML, Path("r.html")),
        Target(Format.TABLE),
    ]
    assert plan(None, ["odd=name.md"]) == [Target(Format.MARKDOWN, Path("odd=name.md"))]
