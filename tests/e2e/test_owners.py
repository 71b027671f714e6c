"""A cluster listed without the controllers of its pods (`kubectl get pods,services,... -o json`
with no ReplicaSets and no Deployments) scans as the full listing does: findings per workload,
each with its pod count, never one per pod."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from plumbob import engine
from plumbob.checks.registry import Registry
from plumbob.model.workloads import deployment_of_replica_set
from plumbob.report.model import Report
from plumbob.sources.demo import DemoSpec, generate
from plumbob.sources.files import FileSource

SPEC = DemoSpec(nodes=48, pods=400)
LEFT_OUT = frozenset({"ReplicaSet", "Deployment"})


@pytest.fixture(scope="module")
def objects() -> list[dict[str, Any]]:
    return list(generate(SPEC))


def write_list(path: Path, items: list[dict[str, Any]]) -> Path:
    path.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": items}))
    return path


def scan(path: Path) -> Report:
    loaded = FileSource((path,), cluster="demo").load()
    return engine.run(loaded.snapshots, Registry.discover(), diagnostics=loaded.diagnostics)


def pods_of_deployments(objects: list[dict[str, Any]]) -> Counter[tuple[str, str]]:
    """(namespace, Deployment) -> its pods in the input, counted from the pods alone."""
    counts: Counter[tuple[str, str]] = Counter()
    for obj in objects:
        meta = obj["metadata"]
        owners = meta.get("ownerReferences") or []
        if obj["kind"] != "Pod" or not owners or owners[0]["kind"] != "ReplicaSet":
            continue
        name = deployment_of_replica_set(
            owners[0]["name"], meta.get("labels", {}).get("pod-template-hash")
        )
        assert name is not None, meta["name"]
        counts[(meta["namespace"], name)] += 1
    return counts


def keys(findings: list[Any]) -> set[tuple[str, str, str | None, str]]:
    return {(f.check, f.subject.kind, f.subject.namespace, f.subject.name) for f in findings}


def test_findings_are_per_workload_with_the_pod_count(
    objects: list[dict[str, Any]], tmp_path: Path
) -> None:
    owned = [o for o in objects if o["kind"] == "Pod" and o["metadata"].get("ownerReferences")]
    assert len(owned) >= 300  # a few hundred pods, every one with an owner
    stripped = [o for o in objects if o["kind"] not in LEFT_OUT]
    pods_only = scan(write_list(tmp_path / "pods-only.json", stripped))
    full = scan(write_list(tmp_path / "full.json", objects))
    assert pods_only.clusters[0].workloads == full.clusters[0].workloads
    assert not [f for f in pods_only.findings if f.subject.kind == "Pod"]
    seen = Counter(
        (f.check, f.subject.kind, f.subject.namespace, f.subject.name, f.subject.path)
        for f in pods_only.findings
    )
    assert not [k for k, n in seen.items() if n > 1], "one finding per workload and field"
    # the same workloads are found; what only the full listing shows has no pod to show it
    counts = pods_of_deployments(objects)
    assert keys(pods_only.findings) <= keys(full.findings)
    for _, kind, namespace, name in keys(full.findings) - keys(pods_only.findings):
        assert kind == "Deployment" and not counts[(namespace or "", name)], name
    on_deployments = [f for f in pods_only.findings if f.subject.kind == "Deployment"]
    assert on_deployments
    for f in on_deployments:
        assert f.evidence["pods"] == counts[(f.subject.namespace or "", f.subject.name)]
        assert "pod-template-hash" in f.evidence["controller"]
        assert f.subject.file and f.subject.line is None  # where the pod it shows was read


def test_scan_cli_on_a_list_without_controllers(
    objects: list[dict[str, Any]], tmp_path: Path
) -> None:
    path = write_list(tmp_path / "pods.json", [o for o in objects if o["kind"] not in LEFT_OUT])
    out = tmp_path / "report.json"
    result = subprocess.run(
        [sys.executable, "-m", "plumbob", "scan", str(path), "--format", "json", "-o", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
        env={"CI": "1", "PATH": "/usr/bin:/bin", "COLUMNS": "120"},
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(out.read_text())
    counts = pods_of_deployments(objects)
    grouped = [f for f in report["findings"] if "controller" in f["evidence"]]
    assert grouped
    for f in grouped:
        subject = f["subject"]
        assert subject["kind"] != "Pod"
        if subject["kind"] == "Deployment":
            assert f["evidence"]["pods"] == counts[(subject["namespace"], subject["name"])]
    assert report["clusters"][0]["kinds"].get("Deployment") is None  # none was read
