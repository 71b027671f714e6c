"""Start a command, wait for it, and write `[wall seconds, peak RSS KiB, exit code]` as JSON.

bench/measure.py runs every measured command through this small process, so the command's
ru_maxrss starts from this process's few MiB and not from the benchmark driver's memory.
Usage: launch.py REPORT.json CMD [ARG...]
"""

import json
import os
import sys
import time


def main() -> None:
    report, cmd = sys.argv[1], sys.argv[2:]
    started = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        try:
            os.execvp(cmd[0], cmd)
        finally:
            os._exit(127)
    _, status, usage = os.wait4(pid, 0)
    elapsed = time.perf_counter() - started
    with open(report, "w") as out:
        json.dump([elapsed, usage.ru_maxrss, os.waitstatus_to_exitcode(status)], out)


if __name__ == "__main__":
    main()
