"""The GPU checks over every shared real fixture at once: sensible findings, no false alarms on
the cluster dumps without GPUs."""

from __future__ import annotations

from pathlib import Path

from plumbob import engine
from plumbob.checks.registry import Registry
from plumbob.config import Config
from plumbob.sources.files import FileSource

REGISTRY = Registry.discover()
GPU_CHECKS = [c.id for c in REGISTRY if c.module.startswith("plumbob.checks.gpu.")]


def test_gpu_checks_on_real_fixtures(real: Path) -> None:
    loaded = FileSource((real,)).load()
    report = engine.run(loaded.snapshots, REGISTRY, Config(only=GPU_CHECKS))
    assert not [r for r in report.checks if r.status == "error"]
    found = {(f.check, f.subject.kind, f.subject.name) for f in report.findings}
    # Kubeflow training jobs from the training-operator examples carry no queue label.
    assert ("gpu-training-no-gang-scheduler", "PyTorchJob", "pytorch-dist-mnist-nccl") in found
    # The Volcano Job is gang-scheduled by Volcano itself.
    assert not [
        f for f in found if f[0] == "gpu-training-no-gang-scheduler" and f[2] == "mindspore-gpu"
    ]
    # KAI's fractional GPU (gpu-fraction annotation) makes the RayCluster a GPU workload.
    assert ("gpu-workload-no-priority-class", "RayCluster", "raycluster-half-gpu") in found
    # The cluster dumps have no GPUs: the GPU checks say nothing about them.
    dumps = {s.cluster.name for s in loaded.snapshots if s.cluster.name != "real"}
    assert dumps and not [f for f in report.findings if f.cluster in dumps]
