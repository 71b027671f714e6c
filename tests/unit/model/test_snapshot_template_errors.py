"""A workload whose pod template has the wrong shape is found when the snapshot's workload index
is built: the same warning whichever checks run, and a snapshot nothing outside can change."""

from __future__ import annotations

from typing import Any

from plumbob import engine
from plumbob.checks.registry import Registry
from plumbob.config import Config
from plumbob.report.model import Diagnostic, DiagnosticCode, Level
from tests.conftest import make_container, make_deployment, make_node, snapshot_of

REGISTRY = Registry.discover()


def broken_pytorch_job() -> dict[str, Any]:
    return {
        "apiVersion": "kubeflow.org/v1",
        "kind": "PyTorchJob",
        "metadata": {"name": "train", "namespace": "ml", "uid": "u-1"},
        "spec": {
            "pytorchReplicaSpecs": {
                "Master": {"replicas": 1, "template": "not a pod template"},
            }
        },
    }


def objects() -> list[dict[str, Any]]:
    return [
        broken_pytorch_job(),
        make_deployment(containers=[make_container(image="nginx:latest")]),
        make_node("gpu-1", gpus=8),
    ]


def template_warnings(only: str) -> list[Diagnostic]:
    report = engine.run([snapshot_of(*objects())], REGISTRY, Config(only=[only]))
    return [d for d in report.diagnostics if d.code == DiagnosticCode.TEMPLATE_INVALID]


def test_the_warning_does_not_depend_on_the_checks_run() -> None:
    check = REGISTRY.get("gpu-node-untainted")
    assert check is not None and "workloads" not in check.reads  # reads no pod templates
    with_workloads = template_warnings("image-mutable-tag")
    without = template_warnings("gpu-node-untainted")
    assert with_workloads == without
    (warning,) = without
    assert warning.level == Level.WARNING
    assert warning.object == "PyTorchJob/ml/train"
    assert "expected a pod template object, got str" in warning.message


def test_template_errors_are_a_value_of_the_snapshot() -> None:
    snap = snapshot_of(*objects())
    templates = snap.pod_templates  # templates first, errors after
    errors = snap.template_errors
    assert isinstance(errors, tuple) and snap.template_errors is errors  # computed once
    ((obj, message),) = errors
    assert obj.kind == "PyTorchJob" and "Master" in message
    assert all(t.workload is not obj for t in templates)  # it has no template
    fresh = snapshot_of(*objects())  # errors first, templates after: the same index
    assert [(o.name, m) for o, m in fresh.template_errors] == [(obj.name, message)]
    assert len(fresh.pod_templates) == len(templates)
