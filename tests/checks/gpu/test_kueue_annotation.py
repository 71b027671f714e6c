"""kueue-queue-annotation-ignored says what the installed Kueue does with the annotation."""

from __future__ import annotations

from typing import Any

from tests.conftest import snapshot_of

from plumbob import engine
from plumbob.checks.registry import Registry
from plumbob.config import Config

REGISTRY = Registry.discover()
CONFIG = Config(only=["kueue-queue-annotation-ignored"])


def gpu_job(namespace: str, annotations: dict[str, str], **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "sample-job", "namespace": namespace, "annotations": annotations},
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


def kueue(version: str) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "kueue-controller-manager", "namespace": "kueue-system"},
        "spec": {
            "template": {
                "spec": {
                    "containers": [
                        {"name": "manager", "image": f"registry.k8s.io/kueue/kueue:{version}"}
                    ]
                }
            }
        },
    }


def messages(*objects: dict[str, Any]) -> list[str]:
    return [f.message for f in engine.run([snapshot_of(*objects)], REGISTRY, CONFIG).findings]


def test_old_kueue_still_reads_the_annotation() -> None:
    """With Kueue v0.14 installed the annotation still works (deprecated); the upgrade breaks it."""
    job = gpu_job("team-a", {"kueue.x-k8s.io/queue-name": "lq-team-a"})
    (message,) = messages(job, kueue("v0.14.2"))
    assert "the installed Kueue v0.14.2 still reads it (deprecated)" in message


def test_current_kueue_ignores_it_and_a_suspended_job_never_starts() -> None:
    job = gpu_job("team-a", {"kueue.x-k8s.io/queue-name": "lq-team-a"}, suspend=True)
    (message,) = messages(job, kueue("v0.15.1"))
    assert message.startswith("GPU Job team-a/sample-job names LocalQueue 'lq-team-a'")
    assert "Kueue v0.15.0 and later read only the label" in message
    assert "created suspended, it is never started" in message


def test_label_wins_over_annotation() -> None:
    job = gpu_job("team-a", {"kueue.x-k8s.io/queue-name": "lq-team-a"})
    job["metadata"]["labels"] = {"kueue.x-k8s.io/queue-name": "lq-team-a"}
    assert messages(job) == []
