"""The GPU inventory: every shape real nodes expose GPUs in, read by one model."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import msgspec
import pytest

from plumbob.model.gpu import (
    container_gpu_request,
    container_gpu_resources,
    containers_gpu_request,
    dra_gpu_devices,
    gpu_count_unknown,
    gpus_text,
    mig_profile_of_label,
    node_gpu,
    offered_resources,
    pod_uses_gpu,
)
from plumbob.model.objects import Container, GenericObject, Node, Pod
from plumbob.sources.files import FileSource
from tests.conftest import decode, make_node, snapshot_of


def node_of(data: dict[str, Any]) -> Node:
    obj = decode(data)
    assert isinstance(obj, Node)
    return obj


def labelled(labels: dict[str, str], allocatable: dict[str, str] | None = None) -> Node:
    data = make_node("n", labels=labels)
    if allocatable is not None:
        data["status"]["allocatable"] = {"cpu": "8", **allocatable}
        data["status"]["capacity"] = {"cpu": "8", **allocatable}
    return node_of(data)


def real_node(real: Path, name: str) -> Node:
    loaded = FileSource((real / "nodes" / name,), cluster="t").load()
    (snap,) = loaded.snapshots
    (node,) = snap.nodes
    return node


def test_akash_node_with_plugin(real: Path) -> None:
    gpu = node_gpu(real_node(real, "akash-k3s-node1-8gpu-no-gfd.json"))
    assert gpu.present and gpu.hardware
    assert gpu.allocatable == 8 and gpu.offered == {"nvidia.com/gpu": 8}
    assert gpu.product is None and gpu.labelled_count is None


def test_akash_node_before_plugin_offers_nothing(real: Path) -> None:
    gpu = node_gpu(real_node(real, "akash-k3s-node1-gpu0-before-plugin.json"))
    assert gpu.hardware and gpu.status_known
    assert gpu.total_allocatable == 0 and gpu.offered == {}


def test_rke2_vgpu_node(real: Path) -> None:
    gpu = node_gpu(real_node(real, "edgexr-rke2-nori-a16-vgpu.nodelist.json"))
    assert gpu.product == "NVIDIA-A16-4Q"
    assert gpu.driver == "550.90.07" and gpu.vgpu_host_driver == "550.54.16"
    assert gpu.labelled_count == 1 and gpu.allocatable == 1


def test_mig_mixed_labels_and_resources() -> None:
    gpu = node_gpu(
        labelled(
            {
                "nvidia.com/mig.strategy": "mixed",
                "nvidia.com/mig.config": "all-balanced",
                "nvidia.com/gpu.count": "1",
                "nvidia.com/mig-1g.10gb.count": "2",
                "nvidia.com/mig-1g.10gb.memory": "9856",
                "nvidia.com/mig-3g.40gb.count": "1",
            },
            {"nvidia.com/mig-1g.10gb": "2", "nvidia.com/mig-3g.40gb": "1"},
        )
    )
    assert gpu.mig_allocatable == {"1g.10gb": 2, "3g.40gb": 1}
    assert gpu.mig_labelled == {"1g.10gb": 2, "3g.40gb": 1}
    assert gpu.total_allocatable == 3 and gpu.allocatable == 0


def test_time_slicing_is_shared() -> None:
    sliced = node_gpu(
        labelled(
            {
                "nvidia.com/gpu.replicas": "8",
                "nvidia.com/gpu.count": "1",
                "nvidia.com/gpu.sharing-strategy": "time-slicing",
            },
            {"nvidia.com/gpu": "8"},
        )
    )
    renamed = node_gpu(labelled({}, {"nvidia.com/gpu.shared": "4"}))
    whole = node_gpu(labelled({"nvidia.com/gpu.replicas": "1"}, {"nvidia.com/gpu": "8"}))
    assert sliced.shared and renamed.shared and not whole.shared
    assert renamed.allocatable == 4


@pytest.mark.parametrize("resource", ["volcano.sh/gpu-number", "alpha.kubernetes.io/nvidia-gpu"])
def test_other_whole_gpu_resources(resource: str) -> None:
    gpu = node_gpu(labelled({}, {resource: "1", "volcano.sh/gpu-memory": "0"}))
    assert gpu.present and gpu.allocatable == 1 and gpu.offered == {resource: 1}


def test_offered_skips_zero_and_non_gpu_resources() -> None:
    node = labelled({}, {"nvidia.com/gpu": "0", "nvidia.com/mig-1g.5gb": "7", "memory": "1Gi"})
    assert offered_resources(node) == {"nvidia.com/mig-1g.5gb": 7}


def test_nfd_and_cloud_labels_mean_hardware() -> None:
    assert node_gpu(labelled({"feature.node.kubernetes.io/pci-10de.present": "true"})).hardware
    assert node_gpu(labelled({"cloud.google.com/gke-accelerator": "nvidia-l4"})).present
    assert not node_gpu(labelled({"kubernetes.io/os": "linux"})).present


def test_dra_resource_slices_count_per_node() -> None:
    snap = snapshot_of(
        make_node("dra-a", labels={"nvidia.com/gpu.present": "true"}),
        {
            "apiVersion": "resource.k8s.io/v1",
            "kind": "ResourceSlice",
            "metadata": {"name": "s1"},
            "spec": {
                "driver": "gpu.nvidia.com",
                "nodeName": "dra-a",
                "devices": [{"name": "gpu-0"}, {"name": "gpu-1"}],
            },
        },
        {
            "apiVersion": "resource.k8s.io/v1",
            "kind": "ResourceSlice",
            "metadata": {"name": "s2"},
            "spec": {"driver": "net.example.com", "nodeName": "dra-a", "devices": [{"name": "x"}]},
        },
    )
    assert snap.node_gpus["dra-a"].dra_devices == 2
    slices = tuple(o for o in snap.generic("ResourceSlice") if isinstance(o, GenericObject))
    assert dra_gpu_devices(slices) == {"dra-a": 2}


def container(resources: dict[str, Any]) -> Container:
    pod = decode(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "p"},
            "spec": {"containers": [{"name": "c", "resources": resources}]},
        }
    )
    assert isinstance(pod, Pod)
    return pod.spec.containers[0]


def test_container_requests_from_limits_only() -> None:
    c = container({"limits": {"nvidia.com/gpu": "2", "cpu": "1"}})
    assert container_gpu_request(c) == 2
    assert container_gpu_resources(c) == {"nvidia.com/gpu": 2}


@pytest.mark.parametrize(
    "resources",
    [
        {"limits": {"nvidia.com/gpu": "{{ .Values.gpus }}"}},
        {"requests": {"nvidia.com/gpu": "one"}, "limits": {"nvidia.com/gpu": "one"}},
        {"limits": {"nvidia.com/mig-1g.10gb": "$SLICES", "cpu": "1"}},
        {"requests": {"amd.com/gpu": "2 cards"}},
    ],
)
def test_a_gpu_amount_that_is_not_a_quantity_is_an_unknown_count(resources: Any) -> None:
    """The GPU resource is named, so the container asks for GPUs; how many is unknown: not 0
    (which would hide it from every GPU check and the GPU inventory), and no count either."""
    c = container(resources)
    gpus = container_gpu_request(c)
    assert math.isnan(gpus) and bool(gpus), "unknown, and still a GPU container"
    assert gpu_count_unknown([c]) and containers_gpu_request([c, c]) == 0
    known = container({"limits": {"nvidia.com/gpu": 2}})
    assert containers_gpu_request([known, c]) == 2 and gpu_count_unknown([known, c])
    assert gpus_text(2, True) == "2 GPUs and more (a GPU count unknown)"
    assert gpus_text(0, True) == "GPUs (count unknown)" and gpus_text(4, False) == "4 GPUs"


def test_a_known_count_in_requests_or_limits_is_the_count() -> None:
    """Kubernetes wants requests and limits of an extended resource equal: where one of them
    is a quantity, that is the count."""
    c = container({"requests": {"nvidia.com/gpu": "x"}, "limits": {"nvidia.com/gpu": "2"}})
    assert container_gpu_request(c) == 2 and not gpu_count_unknown([c])
    assert container_gpu_request(container({"limits": {"cpu": "lots"}})) == 0


def test_remembered_requests_belong_to_their_own_container() -> None:
    """Answers are kept per container object: a new container, even one that takes a freed
    container's place in memory, gets its own answer, and the memory stays bounded."""
    from plumbob.model import gpu

    for i in range(300):
        c = container({"limits": {"nvidia.com/gpu": str(i % 5)}})
        assert container_gpu_request(c) == i % 5
        assert container_gpu_request(c) == i % 5  # the remembered answer
        del c  # its id may be reused by the next container
    base = container({"limits": {"nvidia.com/gpu": "1"}})
    for _ in range(gpu._MAX_REMEMBERED + 10):
        assert container_gpu_request(msgspec.structs.replace(base)) == 1
    assert 0 < len(gpu.REMEMBERED["container_gpu_request"]) <= gpu._MAX_REMEMBERED


def test_lists_of_containers_are_remembered_as_lists() -> None:
    """Two lists with equal containers are two entries; a list and its answer stay together."""
    from plumbob.model import gpu

    one, two = container({"limits": {"nvidia.com/gpu": "1"}}), container({})
    first, second = [one, one], [one, two]
    assert containers_gpu_request(first) == 2 and containers_gpu_request(second) == 1
    table = gpu.REMEMBERED["containers_gpu_request"]
    assert table[id(first)] == (first, 2) and table[id(second)] == (second, 1)


def test_pod_uses_gpu_three_ways() -> None:
    def pod(spec: dict[str, Any], annotations: dict[str, str] | None = None) -> Pod:
        obj = decode(
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {"name": "p", "annotations": annotations or {}},
                "spec": spec,
            }
        )
        assert isinstance(obj, Pod)
        return obj

    counted = pod({"containers": [{"name": "c", "resources": {"limits": {"nvidia.com/gpu": 1}}}]})
    claimed = pod(
        {
            "resourceClaims": [{"name": "gpu", "resourceClaimTemplateName": "one"}],
            "containers": [{"name": "c", "resources": {"claims": [{"name": "gpu"}]}}],
        }
    )
    shared = pod({"containers": [{"name": "c"}]}, {"gpu-fraction": "0.5"})
    cpu = pod({"containers": [{"name": "c", "resources": {"requests": {"cpu": "1"}}}]})
    for p in (counted, claimed, shared):
        assert pod_uses_gpu(p.spec, p.annotations)
    assert not pod_uses_gpu(cpu.spec, cpu.annotations)


def test_mig_profile_of_label() -> None:
    assert mig_profile_of_label("nvidia.com/mig-1g.10gb.count") == "1g.10gb"
    assert mig_profile_of_label("nvidia.com/mig-3g.40gb.engines.copy") == "3g.40gb"
    assert mig_profile_of_label("nvidia.com/mig.strategy") is None


def test_the_inventory_counts_workloads_whose_gpu_count_is_unknown() -> None:
    """A GPU workload with an unknown count stays a GPU workload, and the inventory says how
    many such workloads it could not count, instead of counting them as 0 GPUs."""
    from plumbob.checks.inventory import inventory
    from tests.conftest import make_container, make_deployment

    templated = make_container("server", "vllm/vllm-openai:v0.6.3")
    templated["resources"] = {"limits": {"nvidia.com/gpu": "{{ .Values.gpus }}"}}
    snap = snapshot_of(
        make_deployment("vllm", containers=[templated]),
        make_deployment("trainer", containers=[make_container(gpus=2)]),
        make_deployment("web"),
    )
    facts = inventory(snap)
    assert (facts.workloads, facts.gpu_workloads, facts.gpu_workloads_count_unknown) == (3, 2, 1)
