"""Helpers the resilience checks share: label selectors, workload roles, probe budgets,
Velero schedule scope."""

from __future__ import annotations

import msgspec
import pytest
from tests.conftest import make_container, make_deployment, snapshot_of

from plumbob.checks.resilience.gpu_data_not_backed_up import Coverage
from plumbob.checks.resilience.gpu_serving_model_not_cached import cache_path, hub_model
from plumbob.checks.resilience.liveness_without_startup_probe import liveness_budget
from plumbob.knowledge.workload_roles import role_of
from plumbob.model.objects import Container, Probe
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


def _server(
    command: list[str],
    args: list[str],
    env: dict[str, str] | None = None,
    image: str = "vllm/vllm-openai:v0.10.1",
) -> Container:
    return msgspec.convert(
        {
            "name": "server",
            "image": image,
            "command": command,
            "args": args,
            "env": [{"name": k, "value": v} for k, v in (env or {}).items()],
        },
        Container,
    )


@pytest.mark.parametrize(
    ("command", "args", "env", "model"),
    [
        ([], ["--model", "Qwen/Qwen3-8B"], None, "Qwen/Qwen3-8B"),
        ([], ["--model=Qwen/Qwen3-8B", "--port=8000"], None, "Qwen/Qwen3-8B"),
        (
            ["sh", "-c", "exec vllm serve meta-llama/Llama-3.1-8B --port 8000"],
            [],
            None,
            "meta-llama/Llama-3.1-8B",
        ),
        (
            ["python3", "-m", "vllm.entrypoints.openai.api_server"],
            ["--model", "/models/llama"],
            None,
            None,
        ),
        ([], ["--model-id", "${MODEL_ID}"], None, None),
        ([], ["--model-path", "deepseek-ai/DeepSeek-V3"], None, "deepseek-ai/DeepSeek-V3"),
        ([], [], {"MODEL_ID": "mistralai/Mistral-7B-v0.1"}, "mistralai/Mistral-7B-v0.1"),
        ([], ["--model", "s3://bucket/llama"], None, None),
        ([], ["--served-model-name", "org/name"], None, None),
    ],
)
def test_hub_model_reads_the_model_a_server_downloads(
    command: list[str], args: list[str], env: dict[str, str] | None, model: str | None
) -> None:
    assert hub_model(_server(command, args, env)) == model


@pytest.mark.parametrize(
    ("args", "env", "image", "path"),
    [
        ([], None, "vllm/vllm-openai:v0.10.1", "/root/.cache/huggingface"),
        (["--download-dir", "/weights"], None, "vllm/vllm-openai:v0.10.1", "/weights"),
        ([], {"HF_HOME": "/models/hf"}, "vllm/vllm-openai:v0.10.1", "/models/hf/hub"),
        ([], {"HF_HUB_CACHE": "/cache"}, "vllm/vllm-openai:v0.10.1", "/cache"),
        ([], None, "ghcr.io/huggingface/text-generation-inference:3.3.4", "/data"),
        (
            [],
            None,
            "us-docker.pkg.dev/deeplearning-platform-release/gcr.io/"
            "huggingface-text-generation-inference-cu121.2-2.ubuntu2204:latest",
            "/tmp",
        ),
    ],
)
def test_cache_path_follows_flags_environment_and_image(
    args: list[str], env: dict[str, str] | None, image: str, path: str
) -> None:
    assert cache_path(_server([], args, env, image)) == path
