"""Recognising installed AI-platform components and DaemonSet coverage."""

from __future__ import annotations

from typing import Any

import pytest

from plumbob.knowledge.components import (
    daemonset_covers,
    device_plugin_daemonsets,
    gang_targets,
    image_component,
    installed,
    inventory_visible,
    is_gpu_stack,
    signatures,
)
from plumbob.model.objects import DaemonSet, Node
from plumbob.model.snapshot import ClusterInfo, Discovery, Snapshot
from tests.conftest import make_deployment, make_node, snapshot_of


def workload(kind: str, name: str, namespace: str, image: str, **spec: Any) -> dict[str, Any]:
    group = "apps/v1"
    return {
        "apiVersion": group,
        "kind": kind,
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "c", "image": image}], **spec},
            },
        },
    }


def test_shared_api_groups_prove_nothing() -> None:
    sigs = signatures()
    assert "kueue.x-k8s.io" in sigs["kueue"].groups
    assert "autoscaling.x-k8s.io" not in sigs["karpenter"].groups
    assert "autoscaling.x-k8s.io" not in sigs["cluster-autoscaler"].groups
    assert "scheduling.run.ai" in sigs["kai-scheduler"].groups


@pytest.mark.parametrize(
    ("image", "kind", "name", "component"),
    [
        (
            "nvcr.io/nvidia/k8s-device-plugin:v0.17.0",
            "DaemonSet",
            "nvdp-nvidia-device-plugin",
            "nvidia-k8s-device-plugin",
        ),
        (
            "nvcr.io/nvidia/k8s-device-plugin:v0.17.0",
            "DaemonSet",
            "gpu-feature-discovery",
            "nvidia-gpu-feature-discovery",
        ),
        (
            "mirror.corp.example/nvidia/k8s/dcgm-exporter:4.5.3-4.8.2-distroless",
            "DaemonSet",
            "x",
            "nvidia-dcgm-exporter",
        ),
        (
            "nvcr.io/nvidia/gpu-operator:v24.9.0",
            "Deployment",
            "gpu-operator",
            "nvidia-gpu-operator",
        ),
        ("registry.k8s.io/kueue/kueue:v0.9.1", "Deployment", "kueue-controller-manager", "kueue"),
        ("volcanosh/spark:v2.4.0", "Deployment", "spark", None),
    ],
)
def test_image_component(image: str, kind: str, name: str, component: str | None) -> None:
    assert image_component(image, kind, name) == component


def test_installed_reads_images_versions_and_groups() -> None:
    snap = snapshot_of(
        workload(
            "Deployment",
            "kueue-controller-manager",
            "kueue-system",
            "registry.k8s.io/kueue/kueue:v0.9.1",
        ),
        {"apiVersion": "nvidia.com/v1", "kind": "ClusterPolicy", "metadata": {"name": "cp"}},
        {"apiVersion": "kyverno.io/v1", "kind": "ClusterPolicy", "metadata": {"name": "kp"}},
    )
    found = installed(snap)
    assert found["kueue"].version == "v0.9.1"
    assert [o.name for o in found["kueue"].objects] == ["kueue-controller-manager"]
    # Two CRDs named ClusterPolicy from different groups: both components show.
    assert "nvidia-gpu-operator" in found and "kyverno" in found
    assert "volcano" not in found
    assert installed(snap) is found  # computed once per snapshot


def test_installed_from_discovery() -> None:
    snap = Snapshot(
        cluster=ClusterInfo(name="c"),
        objects=[],
        discovery=Discovery(group_versions=["v1", "scheduling.volcano.sh/v1beta1"]),
    )
    assert set(installed(snap)) == {"volcano"}
    assert inventory_visible(snap)
    assert not inventory_visible(snapshot_of(make_deployment(), captured=()))  # manifests


def ds_and_node(
    ds_spec: dict[str, Any],
    node_labels: dict[str, str],
    taints: list[dict[str, str]] | None = None,
    **node_spec: Any,
) -> tuple[Snapshot, DaemonSet, Node]:
    ds = workload(
        "DaemonSet",
        "nvidia-device-plugin-daemonset",
        "kube-system",
        "nvcr.io/nvidia/k8s-device-plugin:v0.17.0",
        **ds_spec,
    )
    node = make_node("gpu-a", gpus=4, labels=node_labels, taints=taints)
    node["spec"].update(node_spec)
    snap = snapshot_of(ds, node)
    (d,) = device_plugin_daemonsets(snap)
    return snap, d, snap.nodes[0]


def test_daemonset_covers_selector_affinity_and_taints() -> None:
    gpu_taint = [{"key": "nvidia.com/gpu", "value": "present", "effect": "NoSchedule"}]
    tolerating = {"tolerations": [{"key": "nvidia.com/gpu", "operator": "Exists"}]}
    assert daemonset_covers(*ds_and_node({}, {}))
    assert not daemonset_covers(*ds_and_node({}, {}, gpu_taint))
    assert daemonset_covers(*ds_and_node(tolerating, {}, gpu_taint))
    selector = {"nodeSelector": {"nvidia.com/gpu.deploy.device-plugin": "true"}}
    assert not daemonset_covers(*ds_and_node(selector, {}))
    assert daemonset_covers(*ds_and_node(selector, {"nvidia.com/gpu.deploy.device-plugin": "true"}))
    affinity = {
        "affinity": {
            "nodeAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": {
                    "nodeSelectorTerms": [
                        {
                            "matchExpressions": [
                                {"key": "cloud.google.com/gke-accelerator", "operator": "Exists"}
                            ]
                        }
                    ]
                }
            }
        }
    }
    assert not daemonset_covers(*ds_and_node(affinity, {}))
    assert daemonset_covers(*ds_and_node(affinity, {"cloud.google.com/gke-accelerator": "l4"}))


def test_daemonset_tolerations_added_by_the_controller() -> None:
    cordoned = [{"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"}]
    assert daemonset_covers(*ds_and_node({}, {}, cordoned, unschedulable=True))


def test_gfd_is_not_a_device_plugin() -> None:
    snap = snapshot_of(
        workload(
            "DaemonSet",
            "gpu-feature-discovery",
            "gpu-operator",
            "nvcr.io/nvidia/k8s-device-plugin:v0.17.0",
        )
    )
    assert device_plugin_daemonsets(snap) == ()


def templates(data: dict[str, Any]) -> list[Any]:
    return list(snapshot_of(data).pod_templates)


def test_gang_targets() -> None:
    queued = make_deployment()
    queued["metadata"]["labels"] = {"kueue.x-k8s.io/queue-name": "team"}
    assert gang_targets(templates(queued)[0]) == {"kueue"}
    volcano = make_deployment()
    volcano["spec"]["template"]["spec"]["schedulerName"] = "volcano"
    assert gang_targets(templates(volcano)[0]) == {"volcano"}
    ray = {
        "apiVersion": "ray.io/v1",
        "kind": "RayJob",
        "metadata": {"name": "r", "labels": {"ray.io/scheduler-name": "kai-scheduler"}},
        "spec": {
            "rayClusterSpec": {
                "headGroupSpec": {
                    "template": {
                        "spec": {"containers": [{"name": "head", "image": "rayproject/ray:2.52.0"}]}
                    }
                }
            }
        },
    }
    assert gang_targets(templates(ray)[0]) == {"kai-scheduler"}
    assert gang_targets(templates(make_deployment())[0]) == set()


def test_is_gpu_stack() -> None:
    assert is_gpu_stack("gpu-operator", ["busybox"])
    assert is_gpu_stack("monitoring", ["nvcr.io/nvidia/k8s/dcgm-exporter:4.5.3-4.8.2-distroless"])
    assert not is_gpu_stack("kube-system", ["registry.k8s.io/coredns/coredns:v1.11.1"])


def test_version_comes_from_the_components_own_image() -> None:
    """The GPU operator manages operand DaemonSets (MIG manager, DCGM …) with images of their
    own; its version is its own image's tag, whichever workload comes first."""
    from plumbob.sources.demo import DemoSource, DemoSpec

    snap = DemoSource(DemoSpec(nodes=12, pods=40)).load().snapshots[0]
    found = installed(snap)
    assert found["nvidia-gpu-operator"].version == "v24.9.1"
    assert found["kueue"].version == "v0.16.1"


def _operand(how: str) -> dict[str, Any]:
    """The device plugin DaemonSet as the GPU operator creates it, shown one way."""
    obj = workload(
        "DaemonSet",
        "nvidia-device-plugin-daemonset",
        "gpu-operator",
        "nvcr.io/nvidia/k8s-device-plugin:v0.17.0",
    )
    if how == "owner":
        obj["metadata"]["ownerReferences"] = [
            {"apiVersion": "nvidia.com/v1", "kind": "ClusterPolicy", "name": "cluster-policy"}
        ]
    elif how == "label":
        obj["metadata"]["labels"] = {"app.kubernetes.io/part-of": "gpu-operator"}
    elif how == "placement":
        obj["spec"]["template"]["spec"]["nodeSelector"] = {
            "nvidia.com/gpu.deploy.device-plugin": "true"
        }
    return obj


_OPERATOR = workload(
    "Deployment", "gpu-operator", "gpu-operator", "nvcr.io/nvidia/gpu-operator:v24.9.0"
)


@pytest.mark.parametrize("how", ["owner", "label", "placement"])
def test_an_operand_is_named_for_the_operator_that_deploys_it(how: str) -> None:
    found = installed(snapshot_of(_OPERATOR, _operand(how)))
    plugin = found["nvidia-k8s-device-plugin"]
    assert plugin.deployed_by == "nvidia-gpu-operator"
    assert plugin.name == "NVIDIA Kubernetes device plugin (deployed by NVIDIA GPU Operator)"
    assert plugin.version == "v0.17.0"
    assert found["nvidia-gpu-operator"].deployed_by is None


def test_a_device_plugin_of_its_own_stays_standalone() -> None:
    standalone = workload(
        "DaemonSet",
        "nvdp-nvidia-device-plugin",
        "kube-system",
        "nvcr.io/nvidia/k8s-device-plugin:v0.17.0",
    )
    # Next to the operator, unmarked: its own install.
    found = installed(snapshot_of(_OPERATOR, standalone))
    assert found["nvidia-k8s-device-plugin"].deployed_by is None
    assert found["nvidia-k8s-device-plugin"].name == "NVIDIA Kubernetes device plugin (standalone)"
    # One operand and one standalone DaemonSet: not all of it is the operator's.
    found = installed(snapshot_of(_OPERATOR, _operand("owner"), standalone))
    assert found["nvidia-k8s-device-plugin"].deployed_by is None
    # Operator markings without the operator in sight (manifests of one operand): no claim.
    found = installed(snapshot_of(_operand("label")))
    assert found["nvidia-k8s-device-plugin"].deployed_by is None
