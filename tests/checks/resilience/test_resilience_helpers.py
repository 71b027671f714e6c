"""Helpers the resilience checks share: label selectors, workload roles, probe budgets,
Velero schedule scope."""

from __future__ import annotations

import msgspec
import pytest
from tests.conftest import make_container, make_deployment, snapshot_of

from plumbob.checks.resilience.gpu_data_not_backed_up import Coverage
from plumbob.checks.resilience.liveness_without_startup_probe import liveness_budget
from plumbob.knowledge.workload_roles import role_of
from plumbob.model.objects import Probe
from plumbob.model.roles import WorkloadRole, is_pytorch_style
from plumbob.model.selectors import selector_matches

LABELS = {"app": "llm", "tier": "gpu", "replicas": "3"}


@pytest.mark.parametrize(
    ("selector", "matches"),
    [
        ({}, True),
        (None, False),
        ({"matchLabels": {"app": "llm"}}, True),
        ({"matchLabels": {"app": "web"}}, False),
        ({"matchExpressions": [{"key": "tier", "operator": "In", "values": ["gpu", "cpu"]}]}, True),
        ({"matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["gpu"]}]}, False),
        ({"matchExpressions": [{"key": "zone", "operator": "DoesNotExist"}]}, True),
        ({"matchExpressions": [{"key": "app", "operator": "Exists"}]}, True),
        ({"matchExpressions": [{"key": "replicas", "operator": "Gt", "values": ["2"]}]}, True),
        ({"matchExpressions": [{"key": "app", "operator": "Bogus"}]}, False),
        (
            {
                "matchLabels": {"app": "llm"},
                "matchExpressions": [{"key": "tier", "operator": "In", "values": ["cpu"]}],
            },
            False,
        ),
    ],
)
def test_selector_matches(selector: object, matches: bool) -> None:
    assert selector_matches(selector, LABELS) is matches


def test_roles() -> None:
    gpu = make_deployment(
        "llm", containers=[make_container("vllm", "vllm/vllm-openai:v0.6.4", gpus=1)]
    )
    cpu = make_deployment("web")
    job = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "t", "namespace": "x"},
        "spec": {
            "template": {
                "spec": {
                    "containers": [
                        {
                            **make_container(image="ghcr.io/x/trainer:1", gpus=1),
                            "command": ["torchrun", "train.py"],
                        }
                    ]
                }
            }
        },
    }
    snap = snapshot_of(gpu, cpu, job)
    by_name = {t.workload.name: t for t in snap.pod_templates}
    role = {name: role_of(snap, t.workload).role for name, t in by_name.items()}
    assert role == {
        "llm": WorkloadRole.SERVING,
        "web": WorkloadRole.UNKNOWN,
        "t": WorkloadRole.TRAINING,
    }
    assert is_pytorch_style(by_name["t"])
    assert not is_pytorch_style(by_name["llm"])


@pytest.mark.parametrize(
    ("probe", "seconds"),
    [
        ({}, 30),
        ({"initialDelaySeconds": 60, "periodSeconds": 10}, 90),
        ({"periodSeconds": 30, "failureThreshold": 20}, 600),
        ({"periodSeconds": 0}, 30),
    ],
)
def test_liveness_budget(probe: dict[str, object], seconds: int) -> None:
    assert liveness_budget(msgspec.convert(probe, Probe)) == seconds


def test_velero_coverage() -> None:
    everything = Coverage("v/all", ("*",), ("kube-system",), None)
    assert everything.covers("ml", {}) and not everything.covers("kube-system", {})
    listed = Coverage("v/ai", ("ai",), (), {"matchLabels": {"app": "webui"}})
    assert listed.covers("ai", {"app": "webui"})
    assert not listed.covers("ai", {"app": "llm"})
    assert not listed.covers("ml", {"app": "webui"})
    assert Coverage("v/default", (), (), None).covers("anything", {})


@pytest.mark.parametrize(
    ("check", "kind"),
    [
        ("gpu-inference-no-pdb", "PodDisruptionBudget"),
        ("gpu-data-not-backed-up", "Schedule"),
        ("container-no-readiness-probe", "Pod"),
    ],
)
def test_forbidden_input_is_not_visible_not_a_pass(check: str, kind: str) -> None:
    from plumbob import engine
    from plumbob.checks.registry import Registry
    from plumbob.config import Config
    from plumbob.report.model import CheckStatus

    gpu = make_deployment("llm", replicas=3, containers=[make_container(gpus=1)])
    snap = snapshot_of(gpu, not_visible={kind: "403 Forbidden"})
    report = engine.run([snap], Registry.discover(), Config(only=[check]))
    [run] = report.checks
    assert run.status == CheckStatus.NOT_VISIBLE
    assert run.reason is not None and "403" in run.reason
    assert not report.findings
