"""Node attributes from hand-made and real node objects (GFD current/legacy, vGPU, DRA)."""

from __future__ import annotations

import json
from pathlib import Path

from plumbob.drift import DriftAnalysis
from plumbob.drift.attributes import (
    dra_cuda_version,
    dra_driver_version,
    dra_gpus,
    dra_product,
    snapshot_attributes,
    values_of,
)
from tests.conftest import make_node, snapshot_of


def _items(path: Path) -> list[dict]:
    data = json.loads(path.read_text())
    return data.get("items", [data])


def test_gpu_node_attributes_from_current_gfd_schema(real: Path) -> None:
    snap = snapshot_of(*_items(real / "nodes" / "edgexr-rke2-nori-a16-vgpu.nodelist.json"))
    attrs = snapshot_attributes(snap)["nori"]
    assert attrs.gpu
    assert attrs.nvidia_driver == "550.90.07"
    assert attrs.vgpu_host_driver == "550.54.16"  # guest and host drivers are kept apart
    assert attrs.cuda == "12.4"
    assert attrs.gpu_product == "NVIDIA-A16-4Q"
    assert attrs.gpu_count == 1
    assert attrs.mig_strategy == "single"
    assert attrs.sharing_strategy == "none"
    assert attrs.sharing_replicas == 1
    assert attrs.kernel == "5.15.0-134-generic"
    assert attrs.container_runtime == "containerd://2.0.2-k3s2"
    assert attrs.kubelet == "v1.31.6+rke2r1"
    assert attrs.allocatable_gpu == "1"
    # Labels a dedicated attribute reads, and per-node labels, are not compared as labels.
    # GPU Operator operand switches are compared as labels; nothing else from nvidia.com/ is.
    assert [k for k in attrs.labels if k.startswith("nvidia.com/")] == [
        k for k in attrs.labels if k.startswith("nvidia.com/gpu.deploy.")
    ]
    assert "kubernetes.io/hostname" not in attrs.labels
    assert not any(k.startswith("feature.node.kubernetes.io/kernel-version") for k in attrs.labels)


def test_legacy_gfd_schema(real: Path) -> None:
    labels = json.loads(
        (real / "nodes" / "nvidia-docs-dgx-a100-gfd-legacy-schema.labels.json").read_text()
    )
    snap = snapshot_of(make_node("dgx", gpus=1, labels=labels))
    attrs = snapshot_attributes(snap)["dgx"]
    assert attrs.nvidia_driver == "450.80.02"
    assert attrs.cuda == "11.0"
    assert attrs.gpu_product == "A100-SXM4-40GB"
    assert "nvidia.com/gfd.timestamp" not in attrs.labels


def test_aks_nodes_identical_apart_from_zone_and_kib(real: Path) -> None:
    snap = snapshot_of(*_items(real / "nodes" / "edgexr-aks-agentpool-3nodes.nodelist.json"))
    attrs = snapshot_attributes(snap)
    assert {a.pool for a in attrs.values()} == {"agentpool"}
    assert {a.zone for a in attrs.values()} == {"0", "1", "2"}
    # allocatable memory differs by 4 KiB between these nodes; rounded it is one value
    assert {a.allocatable_memory for a in attrs.values()} == {"5.2Gi"}
    assert {a.container_runtime for a in attrs.values()} == {"docker://19.3.14"}
    assert not any(attrs[n].gpu for n in attrs)
    values = [values_of(a) for a in attrs.values()]
    compared = [{k: v for k, v in vs.items() if k != "zone"} for vs in values]
    assert compared[0] == compared[1] == compared[2]


def _slice(node: str, attributes: dict, *, beta: bool = False) -> dict:
    device = {
        "name": "gpu-0",
        **({"basic": {"attributes": attributes}} if beta else {"attributes": attributes}),
    }
    return {
        "apiVersion": "resource.k8s.io/v1beta1" if beta else "resource.k8s.io/v1",
        "kind": "ResourceSlice",
        "metadata": {"name": f"{node}-gpu.nvidia.com-x"},
        "spec": {
            "driver": "gpu.nvidia.com",
            "nodeName": node,
            "pool": {"name": node},
            "devices": [device],
        },
    }


def test_dra_resource_slices_fill_driver_and_cuda() -> None:
    attrs_v1 = {
        "type": {"string": "gpu"},
        "driverVersion": {"version": "570.124.6"},
        "cudaDriverVersion": {"version": "12.8.0"},
        "productName": {"string": "NVIDIA H100 80GB HBM3"},
    }
    attrs_beta = {
        "gpu.nvidia.com/type": {"string": "gpu"},
        "gpu.nvidia.com/driverVersion": {"version": "560.35.3"},
    }
    snap = snapshot_of(
        make_node("a"), make_node("b"), _slice("a", attrs_v1), _slice("b", attrs_beta, beta=True)
    )
    dra = dra_gpus(snap)
    # semver as published (570.124.6, 12.8.0), written back as GFD labels spell them
    assert dra["a"].driver == "570.124.06" and dra["a"].cuda == "12.8"
    assert dra["b"].driver == "560.35.03" and dra["b"].count == 1
    attrs = snapshot_attributes(snap)
    assert attrs["a"].gpu and attrs["a"].nvidia_driver == "570.124.06"
    assert attrs["a"].gpu_product == "NVIDIA-H100-80GB-HBM3"
    assert attrs["b"].nvidia_driver == "560.35.03"


def test_dra_and_gfd_nodes_of_one_driver_do_not_drift() -> None:
    """A pool half on the device plugin (GFD labels) and half on the DRA driver, all on driver
    570.124.06 / CUDA 12.8: one value each, no drift."""
    gfd = {
        "eks.amazonaws.com/nodegroup": "gpu",
        "nvidia.com/cuda.driver-version.full": "570.124.06",
        "nvidia.com/cuda.runtime-version.full": "12.8",
        "nvidia.com/gpu.product": "NVIDIA-H100-80GB-HBM3",
    }
    dra_attrs = {
        "type": {"string": "gpu"},
        "driverVersion": {"version": "570.124.6"},
        "cudaDriverVersion": {"version": "12.8.0"},
        "productName": {"string": "NVIDIA H100 80GB HBM3"},
    }
    nodes = [make_node(f"g{i}", gpus=8, labels=gfd) for i in range(2)]
    nodes += [make_node(f"d{i}", labels={"eks.amazonaws.com/nodegroup": "gpu"}) for i in range(2)]
    snap = snapshot_of(*nodes, _slice("d0", dra_attrs), _slice("d1", dra_attrs))
    attrs = snapshot_attributes(snap)
    assert {(a.nvidia_driver, a.cuda, a.gpu_product) for a in attrs.values()} == {
        ("570.124.06", "12.8", "NVIDIA-H100-80GB-HBM3")
    }
    findings, _ = DriftAnalysis()([snap])
    assert not [f for f in findings if f.check in ("drift:nvidia_driver", "drift:cuda")]


def test_dra_versions_as_gfd_writes_them() -> None:
    assert dra_driver_version("550.54.15") == "550.54.15"
    assert dra_driver_version("535.104.5") == "535.104.05"
    assert dra_driver_version("410.48.0") == "410.48"  # a two-field driver version
    assert dra_driver_version("not-semver") == "not-semver"
    assert dra_cuda_version("12.8.0") == "12.8" and dra_cuda_version("12.8.1") == "12.8.1"
    assert dra_product("NVIDIA A100-SXM4-40GB (MIG)") == "NVIDIA-A100-SXM4-40GB-MIG"


def test_labels_minus_per_node_ones() -> None:
    node = make_node(
        "n1",
        labels={
            "team": "ml",
            "kubernetes.io/hostname": "n1",
            "custom/node-name": "n1",
            "topology.kubernetes.io/zone": "us-east-1a",
        },
    )
    attrs = snapshot_attributes(snapshot_of(node))["n1"]
    assert attrs.labels == {"team": "ml"}
    assert attrs.zone == "us-east-1a"
    assert values_of(attrs)["label:team"] == "ml"
