"""Live capture from a real kube-apiserver (tests/services/kube.sh, a server of the benchmark's
own in .bench/kube) holding a demo fleet, against `kubectl get pods,nodes -A -o json` on the
same server in the same run.

plumbob's figure is `plumbob snapshot` (every kind it reads, written to a snapshot file) and
`plumbob scan` (the same capture, then every check); kubectl's is fetching nodes and pods only
(its default pages of 500) and printing them. Each runs as its own process; peak memory is
that process's ru_maxrss.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import msgspec

from bench.measure import ROOT, Sample, best, plumbob

KUBE = ROOT / ".bench" / "kube"
SERVICES = ROOT / "tests" / "services" / "kube.sh"

Table = Callable[[str, Sequence[str], Sequence[Sequence[str]]], None]


def _server(say: Callable[[str], None]) -> Path | None:
    """Start the benchmark's API server; None (said) when it cannot be built or started."""
    env = {**os.environ, "PLUMBOB_KUBE_DIR": str(KUBE)}
    subprocess.run(["bash", str(SERVICES), "stop"], env=env, check=False, capture_output=True)
    started = time.perf_counter()
    result = subprocess.run(
        ["bash", str(SERVICES), "start"], env=env, capture_output=True, text=True, check=False
    )
    if not (KUBE / "admin.kubeconfig").is_file():
        why = KUBE / "unavailable"
        say(f"no API server: {why.read_text().strip() if why.is_file() else result.stderr[-300:]}")
        return None
    say(f"kube-apiserver ready in {time.perf_counter() - started:.1f} s")
    return KUBE


def _stop() -> None:
    env = {**os.environ, "PLUMBOB_KUBE_DIR": str(KUBE)}
    subprocess.run(["bash", str(SERVICES), "stop"], env=env, check=False, capture_output=True)


def _objects(path: Path) -> int:
    class _Items(msgspec.Struct):
        objects: list[msgspec.Raw] = []
        items: list[msgspec.Raw] = []

    doc = msgspec.json.decode(path.read_bytes(), type=_Items)
    return len(doc.objects) + len(doc.items)


def live_capture(
    sizes: Sequence[tuple[int, int]],
    repeat: int,
    table: Table,
    say: Callable[[str], None],
) -> None:
    from tests.integration import kube_fleet
    from tests.services.kubeadmin import Api, Credentials

    from plumbob.sources.demo import DemoSpec, generate

    kubectl = shutil.which("kubectl")
    rows: list[list[str]] = []
    for nodes, pods in sizes:
        kube = _server(say)
        if kube is None:
            return
        try:
            api = Api(Credentials.admin(kube))
            started = time.perf_counter()
            fleet = generate(DemoSpec(nodes=nodes, pods=pods))
            loaded = kube_fleet.load(api, fleet, workers=8, prune=False)  # a server just started
            took = time.perf_counter() - started
            say(
                f"{nodes:,} nodes / {pods:,} pods: {loaded.objects:,} objects and "
                f"{loaded.statuses:,} statuses loaded in {took:.0f} s "
                f"({len(loaded.problems)} refused by the server)"
            )
            kc = str(kube / "admin.kubeconfig")
            out = ROOT / ".bench" / "live-snapshot.json"
            snap = best(plumbob("snapshot", "--kubeconfig", kc, "-o", str(out), "-q"), repeat)
            captured = _objects(out) if snap.ok else 0
            scan = best(plumbob("scan", "--kubeconfig", kc, "-f", "json", "-q"), repeat)
            measured: list[tuple[str, Sample, int]] = [
                ("plumbob snapshot (every kind)", snap, captured),
                ("plumbob scan (capture + checks)", scan, captured),
            ]
            if kubectl:
                listed = ROOT / ".bench" / "live-kubectl.json"
                cmd = [kubectl, "--kubeconfig", kc, "get", "pods,nodes", "-A", "-o", "json"]
                ref = _best_to(cmd, listed, repeat)
                measured.append(("kubectl get pods,nodes -A -o json", ref, _objects(listed)))
            else:
                say("kubectl not found (Debian: apt-get install kubernetes-client): no baseline")
        finally:
            _stop()
        base = measured[-1][1] if kubectl else None
        for label, sample, count in measured:
            per_s = f"{count / sample.seconds:,.0f}" if sample.ok and sample.seconds else "-"
            rows.append(
                [
                    f"{nodes:,} / {pods:,}",
                    label,
                    f"{count:,}",
                    f"{sample.seconds:.2f} s" if sample.ok else f"- ({sample.note})",
                    per_s,
                    f"{sample.peak_mib:,.0f} MiB",
                    _ratio(sample.seconds, base.seconds) if base and base.ok else "-",
                    _ratio(sample.peak_mib, base.peak_mib) if base and base.ok else "-",
                ]
            )
    table(
        f"Live capture from kube-apiserver v1.37 on loopback (best of {repeat}; time and peak "
        "RSS of each process, against kubectl in the same run)",
        [
            "nodes / pods",
            "command",
            "objects",
            "time",
            "objects/s",
            "peak RSS",
            "time/kubectl",
            "RSS/kubectl",
        ],
        rows,
    )
    print(
        "\nTarget: plumbob snapshot takes no longer than kubectl fetching nodes and pods only, "
        "with a fraction of its memory."
    )


def _best_to(cmd: list[str], stdout: Path, repeat: int) -> Sample:
    from bench.measure import run

    samples = [run(cmd, timeout=600, stdout=stdout) for _ in range(max(1, repeat))]
    failed = [s for s in samples if not s.ok]
    if failed:
        return failed[0]
    fastest = min(samples, key=lambda s: s.seconds)
    return Sample(fastest.seconds, max(s.peak_mib for s in samples))


def _ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}x" if b else "-"
