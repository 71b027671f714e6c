"""Benchmark inputs whose pods are listed without their controllers, and a per-check profile.

Real input often lists pods without the objects that own them: `kubectl get pods,deployments`,
a cluster-info dump of some namespaces, a support archive. Two shapes, both from plumbob's demo
generator, written as `kubectl get -o json` Lists into .bench/owners/ once and reused:

- without-replicasets: the demo cluster with its ReplicaSets left out; the pods keep their
  ownerReferences and pod-template-hash labels, the Deployments are there;
- bare-pods: the demo cluster's nodes and pods, every pod without ownerReferences, and no
  workload controllers (Deployments, ReplicaSets, StatefulSets, DaemonSets, Jobs, training and
  serving resources): every pod is a workload of its own.

`python bench/owners.py checks FILE` reads FILE with plumbob, runs every check and analysis
as `plumbob scan` does, three times, and prints JSON: the least seconds per check and analysis,
findings, workloads, objects.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import msgspec

Obj = dict[str, Any]

_CONTROLLERS = frozenset(
    {
        "Deployment",
        "ReplicaSet",
        "StatefulSet",
        "DaemonSet",
        "Job",
        "CronJob",
        "PyTorchJob",
        "JobSet",
        "InferenceService",
        "RayCluster",
        "RayJob",
        "RayService",
        "LeaderWorkerSet",
    }
)
"""Kinds left out of the bare-pods shape: everything that owns pods in the demo cluster."""


def _without_replica_sets(objects: Iterator[Obj]) -> Iterator[Obj]:
    for obj in objects:
        if obj.get("kind") != "ReplicaSet":
            yield obj


def _bare_pods(objects: Iterator[Obj]) -> Iterator[Obj]:
    for obj in objects:
        kind = obj.get("kind")
        if kind in _CONTROLLERS:
            continue
        if kind == "Pod":
            obj["metadata"].pop("ownerReferences", None)
        yield obj


SHAPES: dict[str, Callable[[Iterator[Obj]], Iterator[Obj]]] = {
    "without-replicasets": _without_replica_sets,
    "bare-pods": _bare_pods,
}


def write(shape: str, nodes: int, pods: int, folder: Path, fresh: bool = False) -> Path:
    """The List of this shape and size, written when missing. Raises ImportError without the
    demo generator (bench/synthetic.py has no controllers to leave out)."""
    from plumbob.sources.demo import DemoSpec, generate

    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{shape}-{nodes}n-{pods}p.json"
    if path.exists() and not fresh:
        return path
    objects = generate(DemoSpec(nodes=nodes, pods=pods, seed=7, managed_fields=True))
    encoder = msgspec.json.Encoder()
    tmp = path.with_name(path.name + ".part")
    with tmp.open("wb") as out:
        out.write(b'{"apiVersion":"v1","kind":"List","metadata":{"resourceVersion":""},"items":[')
        for count, obj in enumerate(SHAPES[shape](objects)):
            if count:
                out.write(b",\n")
            out.write(encoder.encode(obj))
        out.write(b"]}\n")
    tmp.rename(path)
    return path


def check_times(path: Path, runs: int = 3) -> dict[str, Any]:
    """Seconds per check and analysis on one input, as `plumbob scan --timings` counts them
    (the first check to ask for an index of the snapshot builds it): the least of `runs` runs,
    each on a fresh snapshot of the objects read once, so that indexes are built in every run
    and one disturbed run does not count."""
    from plumbob import engine
    from plumbob.checks.cost.summary import SECTION, cost_section
    from plumbob.checks.registry import Registry
    from plumbob.cli.baseline import drift_analysis
    from plumbob.sources.files import FileSource

    read = FileSource((path,)).load().snapshots
    registry = Registry.discover()
    analyses = [drift_analysis(None, None), engine.Analysis(SECTION, cost_section)]
    least: dict[str, float] = {}
    findings = workloads = 0
    for _ in range(max(runs, 1)):
        snapshots = [s.renamed(s.cluster.name) for s in read]  # no index built yet
        spent: dict[str, float] = {}
        report = engine.run(snapshots, registry, analyses=analyses, timings=spent)
        for name, seconds in spent.items():
            least[name] = min(seconds, least.get(name, seconds))
        findings = len(report.findings)
        workloads = sum(c.workloads for c in report.clusters)
    return {
        "timings": least,
        "findings": findings,
        "workloads": workloads,
        "objects": sum(len(s) for s in read),
    }


def main() -> None:
    what, target = sys.argv[1], sys.argv[2]
    if what != "checks":
        raise SystemExit(f"usage: {sys.argv[0]} checks FILE")
    print(json.dumps(check_times(Path(target))))


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    main()
