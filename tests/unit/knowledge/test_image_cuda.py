"""Image reference / container env -> CUDA version, from image_cuda.yaml."""

from __future__ import annotations

import pytest

from plumbob.knowledge.image_cuda import cuda_of_container, cuda_of_env, cuda_of_image
from plumbob.model.objects import Container, EnvVar


@pytest.mark.parametrize(
    ("image", "cuda", "family"),
    [
        ("nvidia/cuda:12.9.0-base-ubuntu24.04", "12.9.0", "nvidia-cuda"),
        ("docker.io/nvidia/cuda:11.8.0-cudnn8-runtime-ubuntu22.04", "11.8.0", "nvidia-cuda"),
        ("nvcr.io/nvidia/cuda:12.9.0-devel-ubuntu24.04", "12.9.0", "nvidia-cuda"),
        ("pytorch/pytorch:2.7.0-cuda12.8-cudnn9-devel", "12.8", "pytorch-pytorch"),
        ("nvcr.io/nvidia/pytorch:24.06-py3", "12.5.0.23", "ngc-pytorch"),
        ("nvcr.io/nvidia/tritonserver:22.01-py3", "11.6.0", "ngc-tritonserver"),
        ("nvcr.io/nvidia/tritonserver:25.08-trtllm-python-py3", "12.9.0.043", "ngc-tritonserver"),
        ("nvcr.io/nvidia/tensorflow:23.01-tf2-py3", "12.0.1", "ngc-tensorflow"),
        ("vllm/vllm-openai:v0.8.5", "12.4", "vllm-openai"),
        ("vllm/vllm-openai:v0.11.0", "12.9", "vllm-openai"),
        ("vllm/vllm-openai:v0.11.0-cu130", "13.0", "vllm-openai"),
        ("ghcr.io/huggingface/text-generation-inference:3.3.4", "12.8", "hf-tgi"),
        ("lmsysorg/sglang:v0.5.6-cu129-amd64", "12.9", "sglang"),
        ("rayproject/ray-llm:2.52.0-py311-cu128", "12.8", "rayproject-ray"),
        ("rayproject/ray:2.9.0-gpu", "12.1.1", "rayproject-ray"),
        ("tensorflow/tensorflow:2.15.0-gpu", "12.2", "tensorflow-gpu"),
        ("nvcr.io/nvidia/tensorrt-llm/release:1.0.0", "12.9.1", "ngc-tensorrt-llm"),
    ],
)
def test_known_images(image: str, cuda: str, family: str) -> None:
    found = cuda_of_image(image)
    assert found is not None, image
    assert (found.cuda, found.family, found.basis) == (cuda, family, "image")
    assert found.source


@pytest.mark.parametrize(
    "image",
    [
        "nginx:1.27",
        "vllm/vllm-openai:latest",
        "vllm/vllm-openai:v0.10.1",  # 0.10.x is a GAP
        "rayproject/ray:2.9.0-cpu",
        "pytorch/pytorch:2.3.1-runtime",
        "nvcr.io/nvidia/pytorch:23.01-py3",
        "nvidia/cuda@sha256:abc",
        "ollama/ollama:0.12.0",
        "",
    ],
)
def test_unknown_images(image: str) -> None:
    assert cuda_of_image(image) is None


def test_env_wins_over_image() -> None:
    c = Container(
        name="c",
        image="nvidia/cuda:12.9.0-base-ubuntu24.04",
        env=[
            EnvVar(
                name="NVIDIA_REQUIRE_CUDA", value="cuda>=12.4 brand=tesla,driver>=470,driver<471"
            )
        ],
    )
    found = cuda_of_container(c)
    assert found is not None and (found.cuda, found.basis) == ("12.4", "env:NVIDIA_REQUIRE_CUDA")


def test_cuda_version_env() -> None:
    found = cuda_of_env({"CUDA_VERSION": "12.4.1"})
    assert found is not None and found.cuda == "12.4.1"
    assert cuda_of_env({"CUDA_VERSION": "twelve"}) is None
    assert cuda_of_env({}) is None


def test_every_row_has_a_source() -> None:
    from plumbob.knowledge import load_table

    for family in load_table("image_cuda")["families"]:
        rows = family.get("releases") or []
        assert family.get("source") or (rows and all(r.get("source") for r in rows)), family["id"]
        assert all(r.get("source") or family.get("source") for r in rows), family["id"]
