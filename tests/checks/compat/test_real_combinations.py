"""Compat checks over several real files read together (one cluster), and with options."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from plumbob import engine
from plumbob.checks.registry import Registry
from plumbob.config import Config
from plumbob.report.model import Finding
from plumbob.sources.files import FileSource

REGISTRY = Registry.discover()


def run(check: str, *paths: Path, options: dict[str, Any] | None = None) -> list[Finding]:
    loaded = FileSource(paths, cluster="real").load()
    config = Config(only=[check], options={check: options or {}})
    report = engine.run(loaded.snapshots, REGISTRY, config)
    return [f for f in report.findings if f.check == check]


def test_vllm_gemma_on_rke2_a16_node(real: Path) -> None:
    # kubernetes/examples vLLM 0.11.0 (CUDA 12.9) + edgexr RKE2 A16 node with driver 550.90.07.
    found = run(
        "cuda-driver-mismatch",
        real / "workloads/k8s-examples-vllm-gemma-deployment.yaml",
        real / "nodes/edgexr-rke2-nori-a16-vgpu.nodelist.json",
    )
    assert len(found) == 1
    ev = found[0].evidence
    assert (ev["cuda"], ev["min_driver"], ev["compat_floor"]) == ("12.9", "575.51.03", "525.60.13")
    assert ev["nodes"] == [
        {"node": "nori", "driver": "550.90.07", "driver_cuda": "12.4", "verdict": "compat"}
    ]


def test_rayservice_needs_more_gpus_than_the_node_has(real: Path) -> None:
    # ray-llm cu128 wants 4 GPUs per worker; the A16 vGPU node offers 1: it can never land there.
    assert not run(
        "cuda-driver-mismatch",
        real / "workloads/kuberay-rayservice-llm-serve.yaml",
        real / "nodes/edgexr-rke2-nori-a16-vgpu.nodelist.json",
    )


OLD_CLUSTER = """\
apiVersion: extensions/v1beta1
kind: Deployment
metadata: {name: gpu-app, namespace: ml}
spec:
  template:
    spec:
      containers: [{name: c, image: "nvidia/cuda:10.0-base"}]
---
apiVersion: v1
kind: Node
metadata: {name: n1}
status: {nodeInfo: {kubeletVersion: v1.15.12}}
"""


def test_target_version(tmp_path: Path) -> None:
    path = tmp_path / "old.yaml"
    path.write_text(OLD_CLUSTER)
    assert not run("api-version-removed", path)  # still served by the 1.15 cluster
    found = run("api-version-removed", path, options={"target-version": "1.16"})
    assert [f.subject.name for f in found] == ["gpu-app"]
    assert found[0].evidence["replacement"] == "apps/v1"
    assert found[0].evidence["checked_against"] == "1.16"
    # a target older than the cluster does not hide what the cluster itself removed
    path.write_text(OLD_CLUSTER.replace("v1.15.12", "v1.22.0"))
    assert run("api-version-removed", path, options={"target-version": "1.10"})


def test_scan_target_version_option(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from plumbob.cli import app

    path = tmp_path / "old.yaml"
    path.write_text(OLD_CLUSTER)
    runner = CliRunner()
    plain = runner.invoke(app, ["scan", str(path), "--format", "json", "-q"])
    target = runner.invoke(
        app, ["scan", str(path), "--format", "json", "-q", "--target-version", "1.16"]
    )

    def removed(stdout: str) -> list[str]:
        report = json.loads(stdout)
        return [
            f["subject"]["name"] for f in report["findings"] if f["check"] == "api-version-removed"
        ]

    assert removed(plain.stdout) == []
    assert removed(target.stdout) == ["gpu-app"]
    bad = runner.invoke(app, ["scan", str(path), "--target-version", "soon"])
    assert bad.exit_code == 2


def test_eol_with_fixed_today(tmp_path: Path) -> None:
    snap = tmp_path / "s.json"
    snap.write_text(
        '{"apiVersion": "plumbob.dev/v1", "kind": "Snapshot", "cluster": '
        '{"name": "c", "serverVersion": "v1.35.2"}, "objects": []}'
    )
    assert not run("kubernetes-version-eol", snap, options={"today": "2027-02-27"})
    found = run("kubernetes-version-eol", snap, options={"today": "2027-02-28"})
    assert len(found) == 1
    assert found[0].evidence["end_of_life"] == "2027-02-28"
    assert found[0].subject.kind == "Cluster"


def test_dra_claim_pod_on_rke2_a16_node(real: Path) -> None:
    # NVIDIA/aicr DRA test pod (CUDA 12.9.0 via a gpu.nvidia.com ResourceClaim) + driver 550.90.07.
    found = run(
        "cuda-driver-mismatch",
        real / "workloads/nvidia-aicr-dra-resourceclaim-gpu-test.yaml",
        real / "nodes/edgexr-rke2-nori-a16-vgpu.nodelist.json",
    )
    assert [(f.subject.kind, f.subject.name) for f in found] == [("Pod", "dra-gpu-test")]
    assert found[0].evidence["cuda"] == "12.9.0"


def test_triton_2201_on_new_driver_is_fine(real: Path) -> None:
    # Triton 22.01 needs CUDA 11.6 (driver >= 510.39.01); the A16 node's 550.90.07 covers it,
    # and the Deployment selects GKE L4 nodes anyway.
    assert not run(
        "cuda-driver-mismatch",
        real / "workloads/gke-triton-deployment-l4.yaml",
        real / "nodes/edgexr-rke2-nori-a16-vgpu.nodelist.json",
    )
