"""plumbob's benchmarks: `make bench` (or `python bench/run.py [--quick]`) prints tables.

Every figure is one process's wall time (start-up included) and peak resident memory, measured
in the same run as the baselines it is compared with:

- cluster scans: `kubectl get -o json` Lists and plumbob snapshot files, against (a) msgspec
  tokenizing the file and nothing else (the floor) and (b) orjson loading it into Python objects;
- manifest scans: a folder of rendered workload manifests, against (a) parsing it alone, with
  libyaml's C loader and with yaml-rs (the fastest here, which plumbob uses for plain
  manifests), and (c) Checkov's Kubernetes framework on the same folder;
- scaling: the same at 1x, 2x and 4x size, per object, which must stay flat;
- owners: pods listed without their controllers (ReplicaSets left out; bare pods) at 1x, 2x
  and 4x: time per object and findings per workload must stay flat, and so must each check's
  share (bench/owners.py);
- start-up of `plumbob --help` and `plumbob checks`;
- live capture: a demo fleet loaded into a real kube-apiserver (built by tests/services/kube.sh),
  `plumbob snapshot` and `plumbob scan` from it beside `kubectl get pods,nodes -A -o json`
  (bench/live.py).

Inputs are generated into .bench/ once and reused. Checkov is installed into its own virtual
environment there on first use (pip install checkov).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import venv
from collections.abc import Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import clusters, live, manifests, owners
from bench.measure import ROOT, Sample, best, plumbob, probe, run

WORK = ROOT / ".bench"
CHECKOV_VENV = WORK / "checkov-venv"

FULL_CLUSTERS = ((500, 15_000), (5_000, 150_000))
QUICK_CLUSTERS = ((500, 15_000),)

FULL_OWNERS = (("without-replicasets", 1_000, 30_000), ("bare-pods", 1_000, 50_000))
"""Shapes at 1x (nodes, pods): Deployments present and ReplicaSets absent; pods without owners
(100,000 at 2x; 4x of 100,000 would be a List above plumbob's 2 GiB file limit)."""
FULL_LIVE = ((500, 15_000), (1_000, 30_000))
QUICK_LIVE = ((500, 15_000),)
"""Demo fleets loaded into the API server (live section): 15,000 pods took 270 s to load on the
2-core machine in a busy hour, 30,000 about twice that."""
QUICK_OWNERS = (("without-replicasets", 250, 7_500), ("bare-pods", 250, 12_500))
"""A quarter of the full sizes: their 4x is the full 1x."""
GROWTH_LIMIT = 8.0
"""A check whose time grows more than this from 1x to 4x is flagged: linear reads about 4x,
quadratic about 16x, and a shared machine bends small timings by half again."""
GROWTH_FLOOR_S = 0.010
"""...unless it takes less than this at 4x, where timer noise is most of the figure."""


# ---------------------------------------------------------------------- output


def table(title: str, header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """A Markdown table (it pastes into docs/performance.md as it is)."""
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
    print(f"\n### {title}\n")
    print("| " + " | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in rows:
        print(
            "| "
            + " | ".join(
                c.rjust(w) if c[:1].isdigit() or c[:1] in "<>≥≤-" else c.ljust(w)
                for c, w in zip(row, widths, strict=True)
            )
            + " |"
        )
    sys.stdout.flush()


def secs(s: Sample) -> str:
    return f"{s.seconds:.2f} s" if s.ok else f"- ({s.note})"


def mib(s: Sample) -> str:
    return f"{s.peak_mib:,.0f} MiB"


def ratio(num: Sample, den: Sample) -> str:
    if not (num.ok and den.ok):
        return "-"
    return f"{num.seconds / den.seconds:.1f}x"


def size_mib(path: Path) -> float:
    return path.stat().st_size / 2**20


def say(message: str) -> None:
    print(f"  … {message}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------- sections


def startup(repeat: int) -> None:
    rows = []
    for args in (("--help",), ("checks",), ("version",)):
        s = best(plumbob(*args), repeat)
        target = "< 0.30 s" if args[0] != "version" else ""
        rows.append(
            [
                f"plumbob {' '.join(args)}",
                secs(s),
                mib(s),
                target,
                ("ok" if s.seconds < 0.3 else "MISSED") if target else "",
            ]
        )
    table(f"Start-up (best of {repeat})", ["command", "time", "peak RSS", "target", ""], rows)


def scan_cmd(path: Path) -> list[str]:
    return plumbob("scan", str(path), "--format", "json", "--quiet")


def cluster_scans(sizes: Sequence[tuple[int, int]], repeat: int, fresh: bool) -> None:
    rows = []
    for nodes, pods in sizes:
        say(f"cluster {nodes:,} nodes / {pods:,} pods: writing inputs")
        started = time.perf_counter()
        files = clusters.cluster_files(nodes, pods, WORK / "clusters", fresh)
        say(f"inputs ready in {time.perf_counter() - started:.0f} s; measuring")
        # orjson loads the big List into 10 GiB in about a minute: once is enough to show it.
        # The floor and the scan, whose ratio is the target, are the best of `repeat` each.
        loads = repeat if pods <= 20_000 else 1
        for label, path in zip(("kubectl List", "plumbob snapshot"), files, strict=True):
            floor = best(probe("floor", str(path)), repeat)
            loaded = best(probe("orjson", str(path)), loads)
            scan = best(scan_cmd(path), repeat)
            file_mib = size_mib(path)
            rss_ok = "yes" if scan.ok and scan.peak_mib < file_mib else "no"
            rows.append(
                [
                    f"{nodes:,} / {pods:,}",
                    label,
                    f"{file_mib:,.0f} MiB",
                    secs(floor),
                    mib(floor),
                    secs(loaded),
                    mib(loaded),
                    secs(scan),
                    mib(scan),
                    ratio(scan, floor),
                    ratio(scan, loaded),
                    rss_ok,
                ]
            )
    table(
        f"Cluster scan: (a) msgspec floor, (b) orjson.loads, (c) plumbob scan --format json "
        f"(a and c best of {repeat}; b once above 20,000 pods)",
        [
            "nodes / pods",
            "input",
            "file",
            "a time",
            "a RSS",
            "b time",
            "b RSS",
            "c time",
            "c RSS",
            "c/a",
            "c/b",
            "c RSS < file",
        ],
        rows,
    )
    print("\nTargets at 5,000 / 150,000: c/a <= 10x, c/b < 1x, c RSS below the file size.")


def checkov() -> Path | None:
    """Checkov's command, installed into .bench/checkov-venv on first use."""
    exe = CHECKOV_VENV / "bin" / "checkov"
    if exe.exists():
        return exe
    say("installing Checkov into .bench/checkov-venv (once)")
    venv.create(CHECKOV_VENV, with_pip=True)
    pip = [str(CHECKOV_VENV / "bin" / "python"), "-m", "pip", "install", "--quiet", "checkov"]
    if subprocess.run(pip, check=False).returncode != 0 or not exe.exists():
        say("Checkov could not be installed; its column stays empty")
        return None
    return exe


def checkov_cmd(exe: Path, folder: Path) -> list[str]:
    """Checkov on `folder`, given relative to its parent (the command runs there): Checkov skips
    every path with a hidden component, and the inputs live under .bench/."""
    return [
        str(exe),
        "-d",
        folder.name,
        "--framework",
        "kubernetes",
        "--skip-download",
        "--compact",
        "--output",
        "json",
    ]


def checkov_resources(output: Path) -> int:
    """Resources Checkov reports it scanned (0 when its output cannot be read), so a run that
    silently scanned nothing is not taken for a fast one."""
    try:
        data = json.loads(output.read_bytes())
    except (OSError, ValueError):
        return 0
    reports = data if isinstance(data, list) else [data]
    return sum(
        int(r.get("summary", {}).get("resource_count", 0)) for r in reports if isinstance(r, dict)
    )


def manifest_scans(count: int, repeat: int, with_checkov: bool, checkov_timeout: float) -> None:
    say(f"{count:,} manifests: writing inputs")
    folder = manifests.write(count, WORK / f"manifests-{count}")
    libyaml = best(probe("yaml", str(folder)), repeat)
    rust = best(probe("yaml-rs", str(folder)), repeat)
    scan = best(scan_cmd(folder), repeat)
    peer = Sample(0, 0, ok=False, note="not run")
    exe = checkov() if with_checkov else None
    if exe is not None:
        say(f"Checkov on {count:,} manifests (up to {checkov_timeout:.0f} s)")
        output = WORK / "checkov-output.json"
        peer = run(
            checkov_cmd(exe, folder),
            timeout=checkov_timeout,
            env={**os.environ, "LOG_LEVEL": "ERROR"},
            ok_codes=(0, 1),
            cwd=folder.parent,
            stdout=output,
        )
        scanned = checkov_resources(output)
        if peer.ok and not scanned:
            peer = Sample(peer.seconds, peer.peak_mib, ok=False, note="scanned nothing")
        elif peer.ok:
            say(f"Checkov scanned {scanned:,} resources")
    c_over_b = ratio(peer, scan)
    if not peer.ok and peer.note.startswith("killed"):
        c_over_b = f"> {checkov_timeout / scan.seconds:.0f}x"
    rows = [
        [
            f"{count:,}",
            secs(libyaml),
            secs(rust),
            mib(rust),
            secs(scan),
            mib(scan),
            secs(peer),
            mib(peer) if peer.ok else "-",
            ratio(scan, libyaml),
            ratio(scan, rust),
            c_over_b,
        ]
    ]
    table(
        "Manifest scan: (a) parse only, with libyaml (PyYAML CSafeLoader) and with yaml-rs, "
        f"(b) plumbob scan DIR, (c) checkov -d DIR --framework kubernetes "
        f"(a and b best of {repeat}; c once)",
        [
            "manifests",
            "a libyaml",
            "a yaml-rs",
            "a RSS",
            "b time",
            "b RSS",
            "c time",
            "c RSS",
            "b/a libyaml",
            "b/a yaml-rs",
            "c/b",
        ],
        rows,
    )
    print("\nTargets: b/a <= 1.5x (against the fastest parser), c/b >= 100x.")


def scaling(base_nodes: int, base_pods: int, base_manifests: int, repeat: int, fresh: bool) -> None:
    rows = []
    for factor in (1, 2, 4):
        nodes, pods = base_nodes * factor, base_pods * factor
        say(f"scaling {factor}x: {nodes:,} nodes / {pods:,} pods")
        kubectl, _ = clusters.cluster_files(nodes, pods, WORK / "clusters", fresh)
        floor = best(probe("floor", str(kubectl)), repeat)
        scan = best(scan_cmd(kubectl), repeat)
        objects = nodes + pods
        rows.append(
            [
                f"{factor}x",
                f"{nodes:,} / {pods:,} (kubectl List)",
                secs(floor),
                secs(scan),
                mib(scan),
                f"{scan.seconds / objects * 1e6:.1f} µs",
                f"{scan.peak_mib * 2**20 / objects / 1024:.1f} KiB",
            ]
        )
    for factor in (1, 2, 4):
        count = base_manifests * factor
        folder = manifests.write(count, WORK / f"manifests-{count}")
        parse = best(probe("yaml-rs", str(folder)), repeat)
        scan = best(scan_cmd(folder), repeat)
        rows.append(
            [
                f"{factor}x",
                f"{count:,} manifests",
                secs(parse),
                secs(scan),
                mib(scan),
                f"{scan.seconds / count * 1e6:.0f} µs",
                f"{scan.peak_mib * 2**20 / count / 1024:.1f} KiB",
            ]
        )
    table(
        f"Scaling: the cost per object must stay flat (linear growth; best of {repeat})",
        [
            "size",
            "input",
            "floor / YAML parse",
            "plumbob scan",
            "peak RSS",
            "time per object",
            "RSS per object",
        ],
        rows,
    )


def owners_scaling(shapes: Sequence[tuple[str, int, int]], repeat: int, fresh: bool) -> None:
    """Pods without their controllers at 1x, 2x, 4x: whole scans (best of `repeat`) against the
    floor, findings and workloads, then each check's time in one in-process run per size."""
    rows = []
    spent: dict[str, list[dict[str, float]]] = {}
    for shape, base_nodes, base_pods in shapes:
        per_object: float | None = None
        for factor in (1, 2, 4):
            nodes, pods = base_nodes * factor, base_pods * factor
            say(f"owners {shape} {factor}x: {nodes:,} nodes / {pods:,} pods: writing input")
            try:
                path = owners.write(shape, nodes, pods, WORK / "owners", fresh)
            except ImportError:
                say("the demo generator is missing: the owners section needs it")
                return
            floor = best(probe("floor", str(path)), repeat)
            scan = best(scan_cmd(path), repeat)
            counted = owners_checks(path)
            if counted is None or not scan.ok:
                rows.append([f"{factor}x", shape, f"{nodes:,} / {pods:,}", *["-"] * 10])
                break
            spent.setdefault(shape, []).append(counted["timings"])
            objects = int(counted["objects"])
            findings, workloads = int(counted["findings"]), int(counted["workloads"])
            us = scan.seconds / objects * 1e6
            per_object = per_object or us
            rows.append(
                [
                    f"{factor}x",
                    shape,
                    f"{nodes:,} / {pods:,}",
                    f"{objects:,}",
                    secs(floor),
                    secs(scan),
                    ratio(scan, floor),
                    mib(scan),
                    f"{us:.1f} µs",
                    f"{us / per_object:.2f}x",
                    f"{workloads:,}",
                    f"{findings:,}",
                    f"{findings / objects * 1000:.1f}",
                ]
            )
    table(
        "Owners: pods without their controllers, whole scans "
        f"(a) msgspec floor, (c) plumbob scan --format json (best of {repeat})",
        [
            "size",
            "input",
            "nodes / pods",
            "objects",
            "a time",
            "c time",
            "c/a",
            "c RSS",
            "c per object",
            "vs 1x",
            "workloads",
            "findings",
            "findings per 1,000 objects",
        ],
        rows,
    )
    check_rows = []
    for shape, runs in spent.items():
        totals = [sum(r.values()) for r in runs]
        slowest = sorted(runs[-1], key=lambda name: -runs[-1][name])[:6]
        growing = [
            name
            for name, seconds in runs[-1].items()
            if name not in slowest
            and seconds >= GROWTH_FLOOR_S
            and seconds > GROWTH_LIMIT * runs[0].get(name, seconds)
        ]
        for name in [*slowest, *growing, "all checks and analyses"]:
            times = totals if name not in runs[-1] else [r.get(name, 0.0) for r in runs]
            whole = len(times) == 3 and times[0] > 0
            growth = times[-1] / times[0] if whole else 0.0
            check_rows.append(
                [
                    shape,
                    name,
                    *(f"{t:.3f} s" for t in times),
                    *["-"] * (3 - len(times)),
                    f"{growth:.1f}x" if whole else "-",
                    "GROWS" if growth > GROWTH_LIMIT and times[-1] >= GROWTH_FLOOR_S else "",
                ]
            )
    table(
        "Owners: the slowest checks at 4x, seconds in process (least of 3 runs per size; "
        "the index a check asks for first counts in its time)",
        ["input", "check or analysis", "1x", "2x", "4x", "4x/1x", ""],
        check_rows,
    )
    print(
        "\nInputs grow about 4x from 1x to 4x: a cost linear in them reads about 4x, one that "
        f"grows with pods x nodes about 16x. Besides the six slowest, every check above "
        f"{GROWTH_FLOOR_S * 1000:.0f} ms at 4x that grew more than {GROWTH_LIMIT:.0f}x is listed "
        "(GROWS)."
    )


def owners_checks(path: Path) -> dict[str, Any] | None:
    """bench/owners.py's per-check profile of one input, in a process of its own; None, said,
    when it fails."""
    done = subprocess.run(
        [sys.executable, str(Path(owners.__file__)), "checks", str(path)],
        capture_output=True,
        check=False,
        cwd=ROOT,
    )
    if done.returncode != 0:
        last = done.stderr.decode(errors="replace").strip().splitlines()[-1:] or [""]
        say(f"checks of {path.name} failed: {last[0]}")
        return None
    result: dict[str, Any] = json.loads(done.stdout)
    return result


# ---------------------------------------------------------------------- main


def compile_sources() -> None:
    """Byte-compile plumbob's sources first, as installing a package does: an editable checkout
    run with PYTHONDONTWRITEBYTECODE would otherwise compile every module on every start."""
    import compileall

    compileall.compile_dir(ROOT / "src" / "plumbob", quiet=1)


_PACE_LOOP = compile("total = 0\nfor i in range(10_000_000):\n    total += i\n", "pace", "exec")


def machine_pace() -> float:
    """Seconds a module-level pure-Python loop of ten million additions takes (best of 3): how
    fast this machine runs Python code right now (0.71 s at best on the 2-core development
    machine). Shared and virtual machines vary from hour to hour, and Python code varies more
    than the C floors it is compared with; printed before and after the run so that figures
    from different runs can be told apart."""
    best = float("inf")
    for _ in range(3):
        began = time.perf_counter()
        exec(_PACE_LOOP, {})  # (module-level names, as `python -c` runs it)
        best = min(best, time.perf_counter() - began)
    return best


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--quick",
        action="store_true",
        help="small sizes only (a few minutes): 500 nodes / 15,000 pods, "
        "1,000 manifests, Checkov on them, owners from a quarter of their full sizes",
    )
    parser.add_argument("--no-checkov", action="store_true", help="skip the Checkov column")
    parser.add_argument(
        "--checkov-timeout",
        type=float,
        default=330.0,
        help="seconds Checkov may take before it is stopped (default 330)",
    )
    parser.add_argument("--fresh", action="store_true", help="rewrite the generated inputs")
    parser.add_argument(
        "--only",
        choices=("startup", "clusters", "manifests", "scaling", "owners", "live"),
        action="append",
        help="run only these sections",
    )
    args = parser.parse_args(argv)
    sections = set(args.only or ("startup", "clusters", "manifests", "scaling", "owners", "live"))
    WORK.mkdir(exist_ok=True)
    compile_sources()
    started = time.perf_counter()
    print(
        f"plumbob benchmarks: {os.cpu_count()} CPUs, Python {sys.version.split()[0]}, "
        f"cluster objects from the {clusters.generator_name()} generator; "
        f"machine pace (a pure-Python loop of 10^7 additions) {machine_pace():.2f} s"
    )
    if "startup" in sections:
        startup(repeat=5)
    if "clusters" in sections:
        cluster_scans(QUICK_CLUSTERS if args.quick else FULL_CLUSTERS, repeat=3, fresh=args.fresh)
    if "manifests" in sections:
        manifest_scans(
            1_000 if args.quick else 5_000,
            repeat=3,  # the parses and the scan; Checkov runs once
            with_checkov=not args.no_checkov,
            checkov_timeout=args.checkov_timeout,
        )
    if "scaling" in sections:
        # best of 3, as above: one slow run on a shared machine would bend the per-object line
        if args.quick:
            scaling(125, 3_750, 250, repeat=3, fresh=args.fresh)
        else:
            scaling(500, 15_000, 1_250, repeat=3, fresh=args.fresh)
    if "owners" in sections:
        owners_scaling(QUICK_OWNERS if args.quick else FULL_OWNERS, repeat=3, fresh=args.fresh)
    if "live" in sections:
        live.live_capture(QUICK_LIVE if args.quick else FULL_LIVE, 3, table, say)
    print(
        f"\nbenchmarks took {time.perf_counter() - started:.0f} s; "
        f"machine pace at the end {machine_pace():.2f} s"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
