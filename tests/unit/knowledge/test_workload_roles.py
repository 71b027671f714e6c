"""The role facts table: every row sourced and usable, and the platform's own images and
namespaces taken from ai_components.yaml."""

from __future__ import annotations

import re

import pytest

from plumbob.knowledge.loader import load_table
from plumbob.knowledge.workload_roles import role_facts
from plumbob.model.roles import WorkloadRole

TABLE = load_table("workload_roles")


@pytest.mark.parametrize("section", ["images", "commands", "idle_commands"])
def test_every_row_has_a_source(section: str) -> None:
    rows = TABLE[section]
    assert rows
    for row in rows:
        assert str(row.get("source", "")).strip(), row


def test_roles_and_patterns_are_usable() -> None:
    for row in [*TABLE["images"], *TABLE["commands"]]:
        WorkloadRole(row["role"])
        assert row["what"]
    for row in TABLE["commands"]:
        re.compile(row["pattern"])
    facts = role_facts()
    assert len(facts.commands) == len(TABLE["commands"])


@pytest.mark.parametrize(
    ("image", "role", "what"),
    [
        ("vllm/vllm-openai:v0.6.3", WorkloadRole.SERVING, "a vLLM server"),
        ("registry.example/mirror/vllm/vllm-openai:v0.6.3", WorkloadRole.SERVING, "a vLLM server"),
        ("ghcr.io/ggml-org/llama.cpp:full-cuda", None, None),
        ("nvcr.io/nvidia/k8s/dcgm-exporter:3.3.9-3.6.1-ubuntu22.04", WorkloadRole.SYSTEM, None),
        ("registry.k8s.io/kueue/kueue:v0.9.1", WorkloadRole.SYSTEM, "part of Kueue"),
        ("ghcr.io/llm-d/llm-d-cuda:v0.3.0", WorkloadRole.SERVING, "a vLLM server (llm-d build)"),
        ("ubuntu:22.04", None, None),
    ],
)
def test_image_signs(image: str, role: WorkloadRole | None, what: str | None) -> None:
    sign = role_facts().image_sign(image)
    assert (sign.role if sign else None) == role
    if what is not None:
        assert sign is not None and sign.what == what


def test_first_command_row_wins() -> None:
    facts = role_facts()
    found = facts.command_sign("vllm serve m & python benchmark_serving.py --model m")
    assert found is not None
    assert facts.commands[found[0]].role == WorkloadRole.DIAGNOSTIC


def test_platform_namespaces() -> None:
    namespaces = role_facts().system_namespaces
    assert {"kube-system", "gpu-operator", "kueue-system", "volcano-system"} <= namespaces
    assert "default" not in namespaces
    assert not any(" " in ns or "{" in ns for ns in namespaces)
