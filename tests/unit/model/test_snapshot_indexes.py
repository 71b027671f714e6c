"""Indexes over a snapshot are built once and kept with the snapshot, whoever asks for them."""

from __future__ import annotations

from plumbob.checks.cost.gpu_idle import gpu_use
from plumbob.checks.cost.gpu_low_utilization import gpu_workload_use
from plumbob.checks.gpu.queues import _queues
from plumbob.checks.scaling.autoscalers import scale_index
from plumbob.knowledge.components import installed
from plumbob.model.metrics import GpuMetrics, GpuUsage
from plumbob.model.snapshot import Snapshot
from tests.conftest import ROOT, make_container, make_node, make_pod, snapshot_of

SRC = ROOT / "src" / "plumbob"


def _cluster() -> Snapshot:
    node = make_node("gpu-1", gpus=4, product="NVIDIA-L4")
    node["status"]["allocatable"]["nvidia.com/mig-1g.10gb"] = "0"
    pod = make_pod("trainer-0", node="gpu-1", containers=[make_container(gpus=1)])
    return snapshot_of(node, pod)


def test_derived_builds_once_per_snapshot() -> None:
    calls: list[Snapshot] = []

    def build(snap: Snapshot) -> int:
        calls.append(snap)
        return len(calls)

    snap = _cluster()
    assert snap.derived(build) == snap.derived(build) == 1
    other = snap.renamed("other")  # a new snapshot keeps nothing of the old one's
    assert other.derived(build) == 2
    assert calls == [snap, other]


def test_shared_indexes_are_the_same_object_for_every_caller() -> None:
    snap = _cluster()
    for index in (installed, scale_index, _queues, gpu_use, gpu_workload_use):
        assert index(snap) is index(snap), index.__name__
    assert snap.image_sizes is snap.image_sizes
    assert snap.offered_gpu_resources == {"nvidia.com/gpu"}  # a zero amount is not offered


def test_gpu_workload_use_follows_the_snapshots_metrics() -> None:
    snap = _cluster()
    assert gpu_workload_use(snap) == ()  # no metrics: no use is known
    metrics = GpuMetrics(
        source="http://prometheus:9090",
        window="1h",
        by_pod={"default/trainer-0": GpuUsage(gpus=1, util_percent=3.0)},
    )
    (use,) = gpu_workload_use(snap.with_gpu_metrics(metrics))
    assert use.pods == ["trainer-0"] and use.util_percent == 3.0
    assert [u.node.name for u in gpu_use(snap)] == ["gpu-1"]


def test_no_module_keeps_a_cache_keyed_by_snapshot() -> None:
    """Per-snapshot indexes live in the Snapshot (`Snapshot.derived`, cached properties), not in
    module-level tables that outlive or mix up snapshots."""
    found = [
        str(path.relative_to(SRC))
        for path in sorted(SRC.rglob("*.py"))
        if "WeakKeyDictionary" in path.read_text(encoding="utf-8")
    ]
    assert (SRC / "model" / "snapshot.py").is_file() and found == []
