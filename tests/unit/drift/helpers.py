"""Builders for drift tests: nodes in pools with chosen attributes."""

from __future__ import annotations

from typing import Any

from tests.conftest import make_node

POOL = "eks.amazonaws.com/nodegroup"


def pool_node(
    name: str,
    pool: str,
    *,
    gpus: int = 0,
    driver: str | None = None,
    kernel: str = "6.1.0-28-cloud-amd64",
    kubelet: str = "v1.31.4",
    runtime: str = "containerd://1.7.23",
    labels: dict[str, str] | None = None,
    taints: list[dict[str, str]] | None = None,
    product: str | None = None,
    cuda: str | None = None,
) -> dict[str, Any]:
    all_labels = {POOL: pool, **(labels or {})}
    if driver:
        all_labels["nvidia.com/cuda.driver-version.full"] = driver
    if cuda:
        all_labels["nvidia.com/cuda.runtime-version.full"] = cuda
    node = make_node(
        name,
        gpus=gpus,
        labels=all_labels,
        taints=taints,
        kernel=kernel,
        product=product or ("NVIDIA-H100-80GB-HBM3" if gpus else None),
    )
    info = node["status"]["nodeInfo"]
    info["kubeletVersion"] = kubelet
    info["kubeProxyVersion"] = kubelet
    info["containerRuntimeVersion"] = runtime
    return node
