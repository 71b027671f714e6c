"""Which queue admits a GPU workload and whether it caps GPUs, read from the real Kueue, Volcano
and KAI manifests in place, and what gpu-namespace-without-quota makes of it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from tests.conftest import REAL, snapshot_of

from plumbob import engine
from plumbob.checks.gpu.queues import admission
from plumbob.checks.registry import Registry
from plumbob.config import Config
from plumbob.model.snapshot import Snapshot
from plumbob.sources.files import FileSource

REGISTRY = Registry.discover()


def gpu_job(namespace: str, labels: dict[str, str], **spec: Any) -> dict[str, Any]:
    """A 2-pod GPU Job (the shape of Kueue's sample job, with a GPU)."""
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "sample-job", "namespace": namespace, "labels": labels},
        "spec": {
            "parallelism": 2,
            "template": {
                "spec": {
                    "restartPolicy": "Never",
                    "containers": [
                        {
                            "name": "dummy-job",
                            "image": "gcr.io/k8s-staging-perf-tests/sleep:v0.1.0",
                            "args": ["30s"],
                            "resources": {"limits": {"nvidia.com/gpu": 1}},
                        }
                    ],
                }
            },
            **spec,
        },
    }


def load(tmp_path: Path, real: str, *extra: dict[str, Any]) -> Snapshot:
    target = REAL / real
    if not target.exists():
        pytest.skip(f"real fixture {target} absent")
    paths = [target]
    if extra:
        mine = tmp_path / "extra.yaml"
        mine.write_text(yaml.safe_dump_all(extra))
        paths.append(mine)
    # the queues and the job as the whole cluster: a kind not here (ResourceQuota) has none
    return FileSource(tuple(paths), cluster="real", complete=True).load().snapshots[0]


def the_job(snap: Snapshot) -> Any:
    job = next(w for w in snap.workloads if w.name == "sample-job")
    return admission(snap, job, snap.templates_by_workload[id(job)])


def quota_findings(snap: Snapshot) -> list[str]:
    config = Config(only=["gpu-namespace-without-quota"])
    return [f.message for f in engine.run([snap], REGISTRY, config).findings]


def test_kueue_clusterqueue_without_gpu(tmp_path: Path) -> None:
    """Kueue's single-ClusterQueue example covers cpu and memory only: a GPU job sent to it is
    not admitted, and the namespace is not governed."""
    snap = load(
        tmp_path,
        "workloads/kueue-single-clusterqueue-cpu-only.yaml",
        gpu_job("default", {"kueue.x-k8s.io/queue-name": "user-queue"}),
    )
    found = the_job(snap)
    assert found is not None and found.gpu_quota is False
    assert found.queue == "LocalQueue default/user-queue -> ClusterQueue cluster-queue"
    assert found.detail.startswith("covers only cpu, memory, not nvidia.com/gpu")
    (message,) = quota_findings(snap)
    assert "Job/sample-job goes to Kueue LocalQueue default/user-queue" in message
    assert "Kueue does not admit a workload asking for a resource" in message


@pytest.mark.parametrize(
    ("real", "queue"),
    [
        ("workloads/kueue-tas-gpu-queues.yaml", "tas-user-queue"),
        ("workloads/kueue-provisioning-gpu-clusterqueue.yaml", "user-queue"),
    ],
)
def test_kueue_clusterqueue_with_gpu_quota(tmp_path: Path, real: str, queue: str) -> None:
    snap = load(tmp_path, real, gpu_job("default", {"kueue.x-k8s.io/queue-name": queue}))
    found = the_job(snap)
    assert found is not None and found.gpu_quota is True
    assert "nvidia.com/gpu nominalQuota" in found.detail
    assert quota_findings(snap) == []


def test_kueue_queue_not_in_the_input(tmp_path: Path) -> None:
    snap = load(
        tmp_path,
        "workloads/kueue-tas-gpu-queues.yaml",
        gpu_job("team-b", {"kueue.x-k8s.io/queue-name": "team-b-queue"}),
    )
    found = the_job(snap)
    assert found is not None and found.gpu_quota is None
    (message,) = quota_findings(snap)
    assert "LocalQueue team-b/team-b-queue is not in the input: its GPU quota is unknown" in message


def test_kueue_hami_deployment_is_governed(tmp_path: Path) -> None:
    snap = load(tmp_path, "workloads/kueue-hami-clusterqueue-gpuburn.yaml")
    burn = next(w for w in snap.workloads if w.name == "gpu-burn")
    found = admission(snap, burn, snap.templates_by_workload[id(burn)])
    assert found is not None and found.gpu_quota is True
    assert quota_findings(snap) == []


def test_volcano_queue_without_gpu_capability(tmp_path: Path) -> None:
    """KubeRay's Volcano queue caps cpu and memory only."""
    job = gpu_job("default", {"volcano.sh/queue-name": "kuberay-test-queue"})
    snap = load(tmp_path, "workloads/kuberay-volcano-queue-rayjob.yaml", job)
    found = the_job(snap)
    assert found is not None and found.scheduler == "Volcano" and found.gpu_quota is False
    assert found.detail == "caps only cpu, memory: no GPU limit"
    (message,) = quota_findings(snap)
    assert "Volcano Queue kuberay-test-queue (volcano.sh/queue-name)" in message


def test_volcano_hierarchical_queue_with_weight_only(tmp_path: Path) -> None:
    job = gpu_job("default", {})
    job["spec"]["template"]["metadata"] = {
        "annotations": {"scheduling.volcano.sh/queue-name": "root-eng-dev"}
    }
    job["spec"]["template"]["spec"]["schedulerName"] = "volcano"
    snap = load(tmp_path, "workloads/volcano-hierarchical-queues.yaml", job)
    found = the_job(snap)
    assert found is not None and found.gpu_quota is False
    assert found.detail.startswith("sets no capability, deserved or guarantee")


def test_volcano_job_default_queue_unseen(tmp_path: Path) -> None:
    snap = load(tmp_path, "workloads/volcano-job-mindspore-gpu.yaml")
    job = next(w for w in snap.workloads if w.name == "mindspore-gpu")
    found = admission(snap, job, snap.templates_by_workload[id(job)])
    assert found is not None and found.queue == "Queue default" and found.gpu_quota is None


def test_kai_queue_unlimited(tmp_path: Path) -> None:
    """KubeRay's KAI example queues set gpu quota and limit -1: unlimited, nothing capped."""
    job = gpu_job("default", {"kai.scheduler/queue": "team-a"})
    job["spec"]["template"]["spec"]["schedulerName"] = "kai-scheduler"
    snap = load(tmp_path, "workloads/kuberay-raycluster-kai-gpu-sharing.yaml", job)
    found = the_job(snap)
    assert found is not None and found.scheduler == "KAI Scheduler" and found.gpu_quota is False
    assert "gpu quota -1 and limit -1" in found.detail


def test_no_queue_at_all() -> None:
    snap = snapshot_of(gpu_job("ml", {}))
    assert the_job(snap) is None
