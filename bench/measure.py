"""Run one command in its own process and report its wall time and peak resident memory."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
PROBE = str(Path(__file__).with_name("probe.py"))


@dataclass(frozen=True, slots=True)
class Sample:
    seconds: float
    """Wall-clock time of the whole process, interpreter start-up included."""
    peak_mib: float
    """Peak resident set size of the process (ru_maxrss from wait4)."""
    ok: bool = True
    note: str = ""


def run(
    cmd: Sequence[str],
    timeout: float | None = None,
    env: dict[str, str] | None = None,
    ok_codes: tuple[int, ...] = (0,),
) -> Sample:
    """Run `cmd`, its output discarded; wait4 gives the rusage of exactly this child, so each
    measurement's peak memory is its own (RUSAGE_CHILDREN would keep the largest so far)."""
    started = time.perf_counter()
    proc = subprocess.Popen(
        cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, cwd=ROOT
    )
    deadline = None if timeout is None else started + timeout
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if deadline is not None and time.perf_counter() > deadline:
            proc.kill()
            pid, status, usage = os.wait4(proc.pid, 0)
            proc.returncode = -9
            return Sample(
                time.perf_counter() - started,
                usage.ru_maxrss / 1024,
                ok=False,
                note=f"killed after {timeout:.0f} s",
            )
        time.sleep(0.002)
    elapsed = time.perf_counter() - started
    code = os.waitstatus_to_exitcode(status)
    proc.returncode = code
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    if proc.stderr:
        proc.stderr.close()
    if code not in ok_codes:
        last = err.strip().splitlines()[-1:] or [""]
        return Sample(elapsed, usage.ru_maxrss / 1024, ok=False, note=f"exit {code}: {last[0]}")
    return Sample(elapsed, usage.ru_maxrss / 1024)


def best(
    cmd: Sequence[str], repeat: int, timeout: float | None = None, ok_codes: tuple[int, ...] = (0,)
) -> Sample:
    """Fastest of `repeat` runs (least disturbed by the rest of the machine); its memory is the
    largest seen, so repetition never hides a peak."""
    samples = [run(cmd, timeout, ok_codes=ok_codes) for _ in range(max(repeat, 1))]
    failed = [s for s in samples if not s.ok]
    if failed:
        return failed[0]
    fastest = min(samples, key=lambda s: s.seconds)
    return Sample(fastest.seconds, max(s.peak_mib for s in samples))


def plumbob(*args: str) -> list[str]:
    """The `plumbob` command of this checkout's environment."""
    exe = Path(PYTHON).with_name("plumbob")
    return [str(exe), *args] if exe.exists() else [PYTHON, "-m", "plumbob.cli", *args]


def probe(*args: str) -> list[str]:
    return [PYTHON, PROBE, *args]
