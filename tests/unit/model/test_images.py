"""ImageRef.tag_kind / unpinned: which references name one build, and how the others move."""

from __future__ import annotations

import pytest

from plumbob.model.images import parse_image, unpinned_tag, unrendered_image


@pytest.mark.parametrize(
    ("image", "kind"),
    [
        ("vllm/vllm-openai", "no-tag"),
        ("vllm/vllm-openai:latest", "latest"),
        ("tensorflow/tensorflow:latest-gpu", "latest-variant"),
        ("ghcr.io/example/gw:main", "branch"),
        ("ghcr.io/example/gw:master", "branch"),
        ("vllm/vllm-openai:dev-cu121", "branch"),
        ("pytorch/pytorch:nightly-devel-cuda12.1", "nightly"),
        ("qdrant/qdrant:edge", "nightly"),
        ("rocm/pytorch:stable", "channel"),
        ("example/app:rc", "pre-release-channel"),
        ("paddlepaddle/paddle:2.4.0rc0-gpu-cuda11.2", "release-candidate"),
        ("example/app:v1.0.0-rc.1", "release-candidate"),
        ("example/app:0.5.0-alpha", "pre-release"),
        ("example/app:1.2.0-beta2", "pre-release"),
        ("example/app:2.0.0a1", "pre-release"),
        ("example/app:1.0.0.dev20240501", "pre-release"),
    ],
)
def test_moving_and_test_build_tags(image: str, kind: str) -> None:
    ref = parse_image(image)
    assert ref.tag_kind == kind
    assert ref.unpinned is not None
    if ref.tag:
        assert f":{ref.tag}" in ref.unpinned or kind == "latest"


@pytest.mark.parametrize(
    "image",
    [
        "vllm/vllm-openai:v0.6.4.post1",
        "nvidia/cuda:12.4.1-devel-ubuntu22.04",
        "nvcr.io/nvidia/pytorch:24.05-py3",
        "pytorch/pytorch:nightly-20240501-devel",
        "vllm/vllm-openai:main-3f2c1e9",
        "example/app:stable-20240501",
        "kubeflowkatib/pytorch-mnist-cpu:v1beta1-21320b6",
        "example/app:v2-a100-80gb",
        "example/app:2.1.0-cuda12.1-cudnn8-devel",
        "example/app:main@sha256:0b2ad4b8c3e4d1f6a1bc6bd34b0a9c1df6b5a7c1f6e2a8b0d4c3e2f1a0b9c8d7",
        "mpioperator/mpi-pi:openmpi",
    ],
)
def test_one_build(image: str) -> None:
    assert parse_image(image).tag_kind is None
    assert parse_image(image).unpinned is None


@pytest.mark.parametrize(
    "image", ["{{ .Values.image }}", "${IMAGE}", "<your-registry>/app:<tag>", "$(IMAGE)"]
)
def test_template_text_is_unknown_not_untagged(image: str) -> None:
    assert unrendered_image(image)
    assert unpinned_tag(image) is None


def test_kubelet_pull_policy_meaning_of_mutable_is_unchanged() -> None:
    """`mutable` is what makes the kubelet default to Always: :latest or no tag, only."""
    assert parse_image("x").mutable and parse_image("x:latest").mutable
    assert not parse_image("x:main").mutable and not parse_image("x:2.0.0rc1").mutable
