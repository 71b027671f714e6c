"""Physical GPUs on MIG nodes: slices are listed apart, never counted as GPUs.

Nodes are built from real material: the shared NVIDIA docs label sets with the MIG devices
their `nvidia-smi -L` shows, and the node excerpts in tests/fixtures/mig (see SOURCES.md there).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml

from plumbob.checks.cost.gpu_idle import gpu_use
from plumbob.checks.inventory import inventory
from plumbob.knowledge.gpus import mig_slices_per_gpu, node_gpu_count
from plumbob.model.gpu import GpuCount, gpu_count, mig_gpus, node_gpu
from plumbob.model.objects import Node
from plumbob.sources.files import FileSource
from tests.conftest import ROOT, decode, make_node, make_pod, snapshot_of

MIG = ROOT / "tests" / "fixtures" / "mig"


def node_of(labels: dict[str, str], allocatable: dict[str, str], name: str = "n") -> Node:
    data = make_node(name, labels=labels)
    resources = {"cpu": "8", **allocatable}
    data["status"]["allocatable"] = resources
    data["status"]["capacity"] = resources
    obj = decode(data)
    assert isinstance(obj, Node)
    return obj


def count_of(labels: dict[str, str], allocatable: dict[str, str]) -> GpuCount:
    return node_gpu_count(node_gpu(node_of(labels, allocatable)))


def smi_mig_devices(path: Path) -> dict[str, str]:
    """`nvidia-smi -L` -> the nvidia.com/mig-<profile> resources its MIG devices make under the
    mixed strategy."""
    found = Counter(re.findall(r"^\s+MIG (\S+)\s+Device", path.read_text(), re.MULTILINE))
    return {f"nvidia.com/mig-{profile}": str(n) for profile, n in found.items()}


def real_labels(real: Path, name: str) -> dict[str, str]:
    labels = json.loads((real / "nodes" / name).read_text())
    assert isinstance(labels, dict)
    return labels


def test_mixed_strategy_h100_is_one_gpu_cut_into_four_slices(real: Path) -> None:
    """The NVIDIA docs' H100 node after `all-balanced` with the mixed strategy: one GPU (GFD's
    gpu.count), four MIG devices as nvidia-smi -L lists them; not four GPUs."""
    labels = real_labels(real, "nvidia-docs-h100-mig-mixed.labels.json")
    slices = smi_mig_devices(real / "metrics" / "nvidia-docs-h100-mig-mixed-nvidia-smi-L.txt")
    assert slices == {
        "nvidia.com/mig-3g.40gb": "1",
        "nvidia.com/mig-2g.20gb": "1",
        "nvidia.com/mig-1g.10gb": "2",
    }
    count = count_of(labels, {"nvidia.com/gpu": "0", **slices})
    assert count.physical == 1 and not count.at_least
    assert count.basis == "label nvidia.com/gpu.count"
    assert count.slices == {"1g.10gb": 2, "2g.20gb": 1, "3g.40gb": 1}
    assert count.text() == "1 GPU (4 MIG slices)"
    # without the count label the layout tells: 2x1g + 2g + 3g fill the 7 slices of one H100
    unlabelled = {k: v for k, v in labels.items() if k != "nvidia.com/gpu.count"}
    layout = count_of(unlabelled, {"nvidia.com/gpu": "0", **slices})
    assert (layout.physical, layout.at_least, layout.basis) == (1, True, "MIG layout")


def test_single_strategy_h100_with_mig_disabled_counts_its_gpu(real: Path) -> None:
    """The same node under the single strategy with `all-disabled`: gpu.count is the physical
    GPU (no MIG device, no `-MIG-` product), offered whole."""
    labels = real_labels(real, "nvidia-docs-h100-mig-single.labels.json")
    gpu = node_gpu(node_of(labels, {"nvidia.com/gpu": "1"}))
    assert gpu.mig_strategy == "single" and gpu.single_mig_slices is None
    assert gpu.physical_count == 1
    count = node_gpu_count(gpu)
    assert (count.physical, count.at_least, count.slices) == (1, False, {})


def gpu_operator_981() -> Node:
    """gpu-operator#981: two A100-PCIE-40GB under the single strategy with `all-1g.5gb`, as the
    issue shows the node's labels and status (the strategy from its text)."""
    block = (MIG / "gpu-operator-981-labels.txt").read_text().removeprefix("labels:\n")
    labels = {str(k): str(v) for k, v in yaml.safe_load(block).items()}
    labels["nvidia.com/mig.strategy"] = "single"  # "My strategy is set to \"single\""
    status: dict[str, dict[str, str]] = {}
    section = ""
    for line in (MIG / "gpu-operator-981-status.txt").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("capacity", "allocatable"):
            section = key
        elif section and value.strip():
            status.setdefault(section, {})[key] = value.strip().strip("'")
    data = make_node("gpu-operator-981", labels=labels)
    data["status"] = status
    obj = decode(data)
    assert isinstance(obj, Node)
    return obj


def test_single_strategy_mig_devices_are_slices_of_two_gpus() -> None:
    """14 nvidia.com/gpu under the single strategy are fourteen 1g.5gb MIG devices (GFD's MIG
    labels gpu.memory/gpu.engines.* say so): at least two A100s, not 14 GPUs."""
    gpu = node_gpu(gpu_operator_981())
    assert gpu.allocatable == 14 and gpu.single_mig_slices == 1
    assert gpu.physical_count is None  # under single, gpu.count would count the devices
    count = node_gpu_count(gpu)
    assert (count.physical, count.at_least) == (2, True)
    assert count.slices == {"1g.5gb": 14} and count.whole == 0
    assert count.text() == "at least 2 GPUs (14 MIG slices)"


def test_mixed_strategy_h100_nvl_from_describe() -> None:
    """kubectl-view-allocations#258: an H100 with the mixed `all-balanced` layout offers
    nvidia.com/gpu 0 and four slices: one GPU."""
    rows = (MIG / "kubectl-view-allocations-258-describe-h100-mixed.txt").read_text()
    allocatable = dict(re.findall(r"^\s+(\S+):\s+(\S+)$", rows, re.MULTILINE))
    count = count_of({}, allocatable)
    assert (count.physical, count.at_least) == (1, True)
    assert count.slices == {"1g.12gb": 2, "2g.24gb": 1, "3g.47gb": 1}


def test_sixteen_3g_slices_take_eight_a100s() -> None:
    """gpu-feature-discovery#7: a DGX A100 node with sixteen 3g slices. Two 3g devices fit one
    GPU, so the slices take eight GPUs (a sum of compute slices, 48/7, would say seven)."""
    loaded = FileSource((MIG / "gpu-feature-discovery-7-describe-grep-mig.txt",), cluster="t")
    (snap,) = loaded.load().snapshots
    (node,) = snap.nodes
    count = node_gpu_count(snap.node_gpus[node.name])
    assert (count.physical, count.at_least) == (8, True)
    assert count.slices == {"3g.21gb": 16}


def test_one_whole_gpu_and_three_slices_are_two_gpus_not_four() -> None:
    slices = {"nvidia.com/mig-3g.20gb": "1", "nvidia.com/mig-2g.10gb": "1"}
    slices["nvidia.com/mig-1g.5gb"] = "1"
    labelled = count_of(
        {"nvidia.com/mig.strategy": "mixed", "nvidia.com/gpu.count": "2"},
        {"nvidia.com/gpu": "1", **slices},
    )
    assert (labelled.physical, labelled.at_least) == (2, False)
    assert labelled.text() == "2 GPUs (1 whole, 3 MIG slices)"
    bare = count_of({}, {"nvidia.com/gpu": "1", **slices})
    assert (bare.physical, bare.at_least, bare.basis) == (2, True, "resources and MIG layout")


def test_gpu_model_decides_slices_per_gpu() -> None:
    """An A30 has 4 compute slices (knowledge/nvidia_gpus.yaml): sixteen 1g.6gb slices take
    four A30s; with the 7 slices of an A100 they would fit three."""
    assert mig_slices_per_gpu("NVIDIA-A30") == 4
    assert mig_slices_per_gpu("NVIDIA-A100-SXM4-40GB-MIG-1g.5gb") == 7
    assert mig_slices_per_gpu("A100-SXM4-40GB") == 7  # legacy label without NVIDIA-
    assert mig_slices_per_gpu("NVIDIA-L4") is None
    a30 = count_of({"nvidia.com/gpu.product": "NVIDIA-A30"}, {"nvidia.com/mig-1g.6gb": "16"})
    assert a30.physical == 4
    assert mig_gpus({"1g.6gb": 16}, 7) == 3


@pytest.mark.parametrize(
    ("labels", "allocatable", "physical"),
    [
        ({"nvidia.com/gpu.replicas": "8"}, {"nvidia.com/gpu": "8"}, 1),  # time-sliced
        ({}, {"nvidia.com/gpu": "8"}, 8),
        ({"nvidia.com/gpu.count": "4"}, {"nvidia.com/gpu": "4"}, 4),
        ({"nvidia.com/gpu.present": "true"}, {}, None),  # hardware, no count
    ],
)
def test_whole_gpu_nodes(
    labels: dict[str, str], allocatable: dict[str, str], physical: int | None
) -> None:
    count = gpu_count(node_gpu(node_of(labels, allocatable)))
    assert count.physical == physical and not count.at_least and not count.slices


def mixed_snapshot(real: Path, *pods: dict[str, Any]) -> Any:
    labels = real_labels(real, "nvidia-docs-h100-mig-mixed.labels.json")
    slices = smi_mig_devices(real / "metrics" / "nvidia-docs-h100-mig-mixed-nvidia-smi-L.txt")
    node = make_node("s4124-0073", labels=labels)
    node["status"]["allocatable"] = node["status"]["capacity"] = {
        "cpu": "64",
        "nvidia.com/gpu": "0",
        **slices,
    }
    return snapshot_of(node, *pods)


def test_inventory_counts_physical_gpus_and_lists_slices(real: Path) -> None:
    pod = make_pod(
        "infer",
        node="s4124-0073",
        containers=[{"name": "c", "resources": {"limits": {"nvidia.com/mig-3g.40gb": "1"}}}],
    )
    inv = inventory(mixed_snapshot(real, pod))
    assert inv.gpus == 1 and not inv.gpus_at_least
    assert inv.mig_slices == {"1g.10gb": 2, "2g.20gb": 1, "3g.40gb": 1}
    assert inv.gpus_allocatable == 4  # schedulable units, as before
    assert inv.gpus_requested == 1 and inv.mig_slices_requested == 1
    assert inv.gpu_models == {"NVIDIA-H100-80GB-HBM3": 1}
    (pool,) = [p for p in inv.pools if p.gpus]
    assert pool.gpus == 1 and pool.mig_slices == inv.mig_slices


def test_idle_share_of_a_mig_gpu(real: Path) -> None:
    """A pod on the 3g slice of the H100 leaves 2x1g + 2g idle: 4/7 of the GPU, not 3/4."""
    pod = make_pod(
        "infer",
        node="s4124-0073",
        containers=[{"name": "c", "resources": {"limits": {"nvidia.com/mig-3g.40gb": "1"}}}],
    )
    (use,) = gpu_use(mixed_snapshot(real, pod))
    assert use.physical == 1 and use.units == 4 and use.requested == 1
    assert use.idle == pytest.approx(4 / 7)


def test_untainted_mig_node_is_reported_with_its_physical_gpus(real: Path) -> None:
    from plumbob import engine
    from plumbob.checks.registry import Registry
    from plumbob.config import Config

    report = engine.run([mixed_snapshot(real)], Registry.discover(), Config(only=["gpu"]))
    (untainted,) = [f for f in report.findings if f.check == "gpu-node-untainted"]
    assert untainted.message == (
        "s4124-0073 has 1 GPU (4 MIG slices) and no NoSchedule/NoExecute taint"
    )
    assert untainted.evidence["gpus"] == 1
    assert untainted.evidence["mig_slices"] == {"1g.10gb": 2, "2g.20gb": 1, "3g.40gb": 1}
