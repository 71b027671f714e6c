"""Live capture benchmark: a 5,000-node / 150,000-pod demo cluster served by the local HTTPS API
server (tests/integration/fake_apiserver.py, in its own process), captured by plumbob's live
source, against a baseline in the same run that pages through the same lists and keeps every
object as parsed JSON (what a client holding full objects pays).

    python bench/capture.py [--nodes 5000] [--pods 150000] [--page-size 500] [--connections 4]
                            [--managed-fields] [--no-gzip]

--managed-fields serves objects as a real API server stores them (metadata.managedFields on
every object, kubectl's last-applied annotation on applied ones): about twice the JSON.
--no-gzip asks for uncompressed pages (by default both captures ask for gzip, as kubectl does,
and the server compresses pages over 128 KiB at level 1, as kube-apiserver does).

Each capture runs as its own process; peak memory is that process's ru_maxrss (wait4).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.measure import PYTHON, ROOT, Sample, run

WORK = ROOT / ".bench" / "capture"


def _worker(
    mode: str, kubeconfig: str, page_size: int, connections: int, gzip: bool, out: str
) -> None:
    """Runs in the measured child process."""
    from plumbob.checks.kinds import capture_kinds
    from plumbob.checks.registry import Registry
    from plumbob.sources.live import CaptureOptions, LiveSource

    started = time.perf_counter()
    opts = CaptureOptions(
        kinds=capture_kinds(Registry.discover()),
        page_size=page_size,
        connections=connections,
        timeout=120,
        compress=gzip,
    )
    if mode == "plumbob":
        loaded = LiveSource(kubeconfig=kubeconfig, options=opts).load()
        snap = loaded.snapshots[0]
        stats = {
            "objects": len(snap),
            "pods": len(snap.pods),
            "nodes": len(snap.nodes),
            "not_visible": dict(snap.not_visible),
        }
    else:
        import orjson

        from plumbob.sources.kube_client import Target, Transport

        transport = Transport(
            Target(context="bench", kubeconfig=kubeconfig),
            connections=connections,
            timeout=120,
            compress=gzip,
        )
        kept: list[object] = []
        for path in ("/api/v1/nodes", "/api/v1/pods"):
            token = ""
            while True:
                query = [("limit", str(page_size))] + ([("continue", token)] if token else [])
                page = orjson.loads(transport.get(path, query).body)
                kept.extend(page["items"])
                token = page["metadata"].get("continue", "")
                if not token:
                    break
        stats = {"objects": len(kept)}
    stats["seconds"] = time.perf_counter() - started
    Path(out).write_text(json.dumps(stats), encoding="utf-8")


def _serve(
    nodes: int, pods: int, managed_fields: bool
) -> tuple[subprocess.Popen[str], dict[str, object]]:
    WORK.mkdir(parents=True, exist_ok=True)
    info_file = WORK / "server.json"
    info_file.unlink(missing_ok=True)
    proc = subprocess.Popen(
        [
            PYTHON,
            "-m",
            "tests.integration.fake_apiserver",
            "--demo-nodes",
            str(nodes),
            "--demo-pods",
            str(pods),
            "--dir",
            str(WORK),
            *(["--managed-fields"] if managed_fields else []),
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 900
    while not info_file.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            err = proc.stderr.read() if proc.stderr else ""
            proc.kill()
            raise SystemExit(f"test API server did not start: {err.strip()[-500:]}")
        time.sleep(0.5)
    info: dict[str, object] = json.loads(info_file.read_text())
    return proc, info


def _kubeconfig(info: dict[str, object]) -> Path:
    from tests.integration.fake_apiserver import kubeconfig

    return kubeconfig(
        WORK / "kubeconfig",
        {"bench": {"server": info["url"], "ca": info["ca"], "user": {"token": info["token"]}}},
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--nodes", type=int, default=5000)
    parser.add_argument("--pods", type=int, default=150_000)
    parser.add_argument("--page-size", type=int, default=500)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--managed-fields", action="store_true")
    parser.add_argument("--no-gzip", dest="gzip", action="store_false")
    parser.add_argument("--worker", choices=("plumbob", "full-json"), help=argparse.SUPPRESS)
    parser.add_argument("--kubeconfig", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        _worker(args.worker, args.kubeconfig, args.page_size, args.connections, args.gzip, args.out)
        return

    print(
        f"generating and serving a {args.nodes:,}-node / {args.pods:,}-pod demo cluster "
        f"({'with' if args.managed_fields else 'without'} managedFields; pages of "
        f"{args.page_size}, {args.connections} connections, "
        f"{'gzip' if args.gzip else 'no gzip'}) ...",
        flush=True,
    )
    started = time.perf_counter()
    server, info = _serve(args.nodes, args.pods, args.managed_fields)
    print(
        f"  {info['objects']:,} objects served at {info['url']} "
        f"(ready in {time.perf_counter() - started:.0f} s)",
        flush=True,
    )
    try:
        kc = _kubeconfig(info)
        rows: list[tuple[str, Sample, dict[str, object]]] = []
        for mode in ("plumbob", "full-json"):
            out = WORK / f"{mode}.json"
            sample = run(
                [
                    PYTHON,
                    __file__,
                    "--worker",
                    mode,
                    "--kubeconfig",
                    str(kc),
                    "--page-size",
                    str(args.page_size),
                    "--connections",
                    str(args.connections),
                    *([] if args.gzip else ["--no-gzip"]),
                    "--out",
                    str(out),
                ],
                timeout=1800,
            )
            stats = json.loads(out.read_text()) if sample.ok else {}
            rows.append((mode, sample, stats))
    finally:
        server.terminate()
        server.wait(timeout=30)
    print()
    print(f"{'capture':<34}{'objects':>10}{'seconds':>10}{'objects/s':>12}{'peak MiB':>10}")
    for mode, sample, stats in rows:
        label = (
            "plumbob live source (all kinds)"
            if mode == "plumbob"
            else "baseline: nodes+pods as full JSON"
        )
        if not sample.ok:
            print(f"{label:<34}  failed: {sample.note}")
            continue
        objects = int(stats["objects"])  # type: ignore[call-overload]
        secs = float(stats["seconds"])  # type: ignore[arg-type]
        print(
            f"{label:<34}{objects:>10,}{secs:>10.1f}{objects / secs:>12,.0f}"
            f"{sample.peak_mib:>10,.0f}"
        )
    plumbob_row, base_row = rows[0], rows[1]
    if plumbob_row[1].ok and base_row[1].ok:
        print(
            f"\npeak memory, plumbob / full JSON: "
            f"{plumbob_row[1].peak_mib / base_row[1].peak_mib:.2f}"
        )
        print(f"not visible: {plumbob_row[2].get('not_visible') or 'none'}")


if __name__ == "__main__":
    main()
