"""Typed lookups over nvidia_gpus.yaml: what a GPU model is, by the gpu.product label GFD writes.

mig_slices_per_gpu("NVIDIA-A30") -> 4
node_gpu_count(node_gpu) -> GpuCount(physical=2, ...)  # with the model's MIG slices
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cache
from types import MappingProxyType

from plumbob.knowledge.loader import load_table
from plumbob.model.gpu import GpuCount, NodeGpu, gpu_count
from plumbob.model.objects import as_list

_SUFFIX = re.compile(r"-(?:MIG-.*|SHARED)$")
"""What GFD appends to gpu.product: `-MIG-<profile>` under the single MIG strategy, `-SHARED`
with time-slicing replicas (nvidia_gpus.yaml notes)."""


def product_model(product: str) -> str:
    """'NVIDIA-A100-SXM4-40GB-MIG-1g.5gb' -> 'nvidia-a100-sxm4-40gb'; old drivers left out the
    'NVIDIA-' prefix ('A100-SXM4-40GB'), so it is dropped for matching."""
    return _SUFFIX.sub("", product.strip()).lower().removeprefix("nvidia-")


@cache
def _mig_slices() -> Mapping[str, int]:
    out: dict[str, int] = {}
    for row in as_list(load_table("nvidia_gpus").get("gpus")):
        if not isinstance(row, dict):
            continue
        mig = row.get("mig")
        label = row.get("gfd_product_label")
        if not isinstance(mig, dict) or not mig.get("supported") or not isinstance(label, str):
            continue
        slices = mig.get("max_instances")
        if isinstance(slices, int) and slices > 0:
            out[product_model(label)] = slices
    return MappingProxyType(out)


def mig_slices_per_gpu(product: str | None) -> int | None:
    """Compute slices of one GPU of this product (the most 1g MIG devices it holds: 7 on
    A100/H100, 4 on A30), or None for a product the table does not list as MIG-capable."""
    if not product:
        return None
    return _mig_slices().get(product_model(product))


def node_gpu_count(gpu: NodeGpu) -> GpuCount:
    """The node's physical GPUs (model.gpu.gpu_count), MIG slices converted with its GPU
    model's slice count where the table knows the model."""
    return gpu_count(gpu, mig_slices_per_gpu(gpu.product))


__all__ = ["mig_slices_per_gpu", "node_gpu_count", "product_model"]
