"""Runs one hostile case as a user runs plumbob: a subprocess, bounded in time (wall clock) and
memory (address space), its peak resident memory measured with `wait4`."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

from tests.hostile.corpus import GOOD, Case, Outcome, raw_controls

MEMORY_LIMIT = 3 * 1024**3
"""Address space per run: several times what a clean run of these small inputs takes, far
below what an unbounded read of a bomb would take."""

SRC = Path(__file__).resolve().parents[2] / "src"


def _limits() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def run(case: Case, work: Path, extra: tuple[str, ...] = ()) -> Outcome:
    work.mkdir(parents=True, exist_ok=True)
    report = work / "report.json"
    out_path, err_path = work / "stdout", work / "stderr"
    env = {
        "PATH": "/usr/bin:/bin",
        "CI": "1",
        "COLUMNS": "100",
        "HOME": str(work),
        "XDG_DATA_HOME": str(work / "data"),
        "PYTHONPATH": str(SRC),
        "LANG": "C.UTF-8",
        **case.env,
    }
    args = [
        os.fsencode(sys.executable),
        b"-m",
        b"plumbob",
        b"scan",
        *(os.fsencode(a) if isinstance(a, str) else a for a in case.args),
        *(a.encode() for a in extra),
        b"--report-json",
        os.fsencode(report),
    ]
    start = time.monotonic()
    with out_path.open("wb") as out, err_path.open("wb") as err:
        proc = subprocess.Popen(
            args,
            stdout=out,
            stderr=err,
            stdin=subprocess.DEVNULL,
            env=env,
            preexec_fn=_limits,
            cwd=case.cwd or str(work),
        )
        timed_out = False
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() - start > case.timeout:
                timed_out = True
                proc.kill()
                _, status, usage = os.wait4(proc.pid, 0)
                break
            time.sleep(0.02)
        proc.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.monotonic() - start
    parsed = None
    if report.exists():
        try:
            parsed = json.loads(report.read_bytes())
        except ValueError:
            parsed = None
    written = {}
    for name in case.keep:
        for candidate in (work / name, Path(str(case.args[0])) / name):
            if candidate.exists():
                written[name] = candidate.read_bytes()
    return Outcome(
        rc=proc.returncode,
        stdout=out_path.read_bytes(),
        stderr=err_path.read_bytes(),
        report=parsed,
        written=written,
        seconds=seconds,
        peak_kib=usage.ru_maxrss,
        timed_out=timed_out,
    )


def reported_nodes(report: dict | None) -> set[str]:  # type: ignore[type-arg]
    if report is None:
        return set()
    return {
        f["subject"].get("name", "")
        for f in report.get("findings", [])
        if f.get("check") == "gpu-node-untainted"
    }


def problems(case: Case, out: Outcome) -> list[str]:
    """What went wrong in one run; empty when the case is clean."""
    found = []
    if out.timed_out:
        found.append(f"hung: killed after {case.timeout:.0f} s")
    if b"Traceback" in out.stdout or b"Traceback" in out.stderr:
        tail = out.stderr.decode("utf-8", "replace").strip().splitlines()[-1:]
        found.append(f"traceback: {tail}")
    if out.rc not in (0, 1, 2):
        found.append(f"exit {out.rc}")
    for stream, data in (("stdout", out.stdout), ("stderr", out.stderr)):
        if bad := raw_controls(data):
            found.append(f"raw control characters on {stream}: {' '.join(bad)}")
    if case.good:
        missing = sorted(case.good - reported_nodes(out.report))
        if missing:
            found.append(f"good objects lost: {missing}")
    if not out.timed_out and (case.good or case.verify) and out.report is not None:
        found.extend(why for verify in case.verify if (why := verify(out)) is not None)
    elif case.verify and out.report is None and not out.timed_out:
        found.append("no report written")
    return found


__all__ = ["GOOD", "problems", "reported_nodes", "run"]
