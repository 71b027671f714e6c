"""Run one command in its own process and report its wall time and peak resident memory."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
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


LAUNCHER = str(Path(__file__).with_name("launch.py"))


def run(
    cmd: Sequence[str],
    timeout: float | None = None,
    env: dict[str, str] | None = None,
    ok_codes: tuple[int, ...] = (0,),
    cwd: Path = ROOT,
    stdout: Path | None = None,
) -> Sample:
    """Run `cmd` in `cwd`, its output discarded (or written to `stdout`), and return its wall
    time and peak RSS.

    The command is started by bench/launch.py, a small process that forks it and reports the
    child's own rusage. Forking the command straight from this process would not do: Linux
    carries the parent's peak RSS over into the child's ru_maxrss (fork copies the high-water
    mark and exec keeps it), so every figure would read at least as much as this process holds
    after generating the inputs."""
    with (
        tempfile.NamedTemporaryFile(prefix="plumbob-bench-", suffix=".json") as report,
        open(stdout or os.devnull, "wb") as out,
    ):
        proc = subprocess.Popen(
            [PYTHON, LAUNCHER, report.name, *cmd],
            stdout=out,
            stderr=subprocess.PIPE,
            env=env,
            cwd=cwd,
            start_new_session=True,
        )
        try:
            _, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            return Sample(float(timeout or 0), 0.0, ok=False, note=f"killed after {timeout:.0f} s")
        try:
            seconds, peak_kib, code = json.loads(Path(report.name).read_text())
        except (OSError, ValueError):
            return Sample(0.0, 0.0, ok=False, note=f"launcher failed: {err.decode()[-200:]}")
    if code not in ok_codes:
        last = err.decode(errors="replace").strip().splitlines()[-1:] or [""]
        return Sample(seconds, peak_kib / 1024, ok=False, note=f"exit {code}: {last[0]}")
    return Sample(seconds, peak_kib / 1024)


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
