"""Pods decoded from JSON share their identical parts and stay equal to what was decoded."""

from __future__ import annotations

import copy
from typing import Any

import msgspec

from plumbob.model.objects import Node, Origin, Pod
from plumbob.sources.decode import ObjectDecoder
from tests.conftest import make_container, make_node, make_pod

ORIGIN = Origin(file="pods.json")


def _replica(i: int, *, image: str = "vllm/vllm-openai:v0.6.3") -> dict[str, Any]:
    container = make_container("server", image, gpus=1)
    container["env"] = [{"name": "MODEL", "value": "llama"}]
    container["livenessProbe"] = {"httpGet": {"path": "/h", "port": 80}, "periodSeconds": 10}
    container["volumeMounts"] = [{"name": f"kube-api-access-{i}", "mountPath": "/var/run"}]
    pod = make_pod(f"llm-{i}", "ai", node=f"node-{i % 3}", containers=[container])
    pod["metadata"]["labels"] = {"app": "llm", "pod-template-hash": "5f7b"}
    pod["metadata"]["ownerReferences"] = [
        {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "llm-5f7b", "uid": "u1"}
    ]
    pod["spec"]["tolerations"] = [
        {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}
    ]
    pod["spec"]["nodeSelector"] = {"nvidia.com/gpu.present": "true"}
    return pod


def _decode(items: list[dict[str, Any]]) -> list[Pod]:
    decoder = ObjectDecoder()
    out = decoder.from_raws([msgspec.Raw(msgspec.json.encode(i)) for i in items], ORIGIN)
    assert not decoder.diagnostics
    assert all(isinstance(p, Pod) for p in out)
    return out  # type: ignore[return-value]


def test_replicas_share_identical_parts() -> None:
    a, b = _decode([_replica(1), _replica(2)])
    assert a.metadata.labels is b.metadata.labels
    assert a.metadata.owner_references is b.metadata.owner_references
    assert a.spec.tolerations is b.spec.tolerations
    assert a.spec.node_selector is b.spec.node_selector
    ca, cb = a.spec.containers[0], b.spec.containers[0]
    assert ca.resources is cb.resources and ca.env is cb.env
    assert ca.liveness_probe is cb.liveness_probe
    # what differs per pod stays its own
    assert ca.volume_mounts != cb.volume_mounts
    assert a.spec.node_name != b.spec.node_name


def test_different_parts_are_not_merged() -> None:
    other = _replica(2, image="nvcr.io/nvidia/tritonserver:24.08-py3")
    other["spec"]["containers"][0]["env"] = [{"name": "MODEL", "value": "mistral"}]
    other["metadata"]["labels"] = {"app": "triton"}
    a, b = _decode([_replica(1), other])
    assert a.metadata.labels == {"app": "llm", "pod-template-hash": "5f7b"}
    assert b.metadata.labels == {"app": "triton"}
    assert a.spec.containers[0].env[0].value == "llama"
    assert b.spec.containers[0].env[0].value == "mistral"
    assert b.spec.containers[0].image == "nvcr.io/nvidia/tritonserver:24.08-py3"


def test_compacted_pods_equal_plain_decoding() -> None:
    items = [_replica(i) for i in range(5)]
    plain = [msgspec.convert(copy.deepcopy(i), Pod) for i in items]
    compacted = _decode(items)
    assert [msgspec.structs.replace(p, origin=None) for p in compacted] == plain


def _with_token_volume(pod: dict[str, Any], i: int) -> dict[str, Any]:
    """As the API server returns a pod: the service-account token volume, named per pod."""
    pod["spec"]["volumes"] = [
        {"name": f"kube-api-access-{i}", "projected": {"sources": [{"serviceAccountToken": {}}]}},
        {"name": "shm", "emptyDir": {"medium": "Memory"}},
        {"name": "ckpt", "persistentVolumeClaim": {"claimName": "ckpt"}},
    ]
    pod["spec"]["containers"][0]["volumeMounts"] += [
        {"name": "shm", "mountPath": "/dev/shm"},
        {"name": "ckpt", "mountPath": "/ckpt"},
    ]
    return pod


def test_volumes_without_a_source_the_model_carries_are_left_out_with_their_mounts() -> None:
    items = [_with_token_volume(_replica(i), i) for i in range(3)]
    pods = _decode(items)
    for pod in pods:
        assert [v.name for v in pod.spec.volumes] == ["shm", "ckpt"]
        mounts = pod.spec.containers[0].volume_mounts
        assert [(m.name, m.mount_path) for m in mounts] == [("shm", "/dev/shm"), ("ckpt", "/ckpt")]
    # everything else is what plain decoding gives
    plain = msgspec.convert(copy.deepcopy(items[0]), Pod)
    assert pods[0].spec.containers[0].resources == plain.spec.containers[0].resources
    assert pods[0].spec.volumes == plain.spec.volumes[1:]


def test_replicas_share_whole_containers_once_the_token_mount_is_gone() -> None:
    a, b = _decode([_with_token_volume(_replica(i), i) for i in (1, 2)])
    assert a.spec.containers is b.spec.containers
    assert a.spec.containers[0] is b.spec.containers[0]
    assert a.status is b.status
    assert a.spec.node_name != b.spec.node_name  # the pod's own parts stay its own


def test_empty_parts_are_shared_and_still_left_out_of_snapshots() -> None:
    a, b = _decode([_replica(1), _replica(2, image="busybox:1.36")])
    assert a.spec.init_containers is b.spec.init_containers == []
    assert a.metadata.annotations is b.metadata.annotations == {}
    assert a.spec.containers[0].command is b.spec.containers[0].command == []
    encoded = msgspec.json.decode(msgspec.json.encode(a))
    assert "initContainers" not in encoded["spec"] and "annotations" not in encoded["metadata"]
    assert "command" not in encoded["spec"]["containers"][0]


def test_nodes_share_image_entries_and_label_strings() -> None:
    nodes = []
    for i in range(2):
        node = make_node(f"gpu-{i}", gpus=8)
        node["metadata"]["labels"] = {"pool": "h100", "kubernetes.io/hostname": f"gpu-{i}"}
        node["status"]["images"] = [
            {
                "names": ["nvcr.io/nvidia/pytorch@sha256:ab", "nvcr.io/nvidia/pytorch:24.05-py3"],
                "sizeBytes": 9_000_000_000,
            },
        ]
        nodes.append(node)
    decoder = ObjectDecoder()
    a, b = decoder.from_raws([msgspec.Raw(msgspec.json.encode(n)) for n in nodes], ORIGIN)
    assert isinstance(a, Node) and isinstance(b, Node)
    assert a.status.images[0] is b.status.images[0]
    assert a.status.images[0].names[1] == "nvcr.io/nvidia/pytorch:24.05-py3"
    key_a = next(k for k in a.metadata.labels if k == "pool")
    key_b = next(k for k in b.metadata.labels if k == "pool")
    assert key_a is key_b and a.metadata.labels["pool"] is b.metadata.labels["pool"]
    assert a.metadata.labels["kubernetes.io/hostname"] == "gpu-0"


def _hpa(name: str, replicas: Any) -> dict[str, Any]:
    conditions = [
        {"type": "AbleToScale", "status": "True", "reason": "ReadyForNewScale"},
        {"type": "ScalingActive", "status": "True", "reason": "ValidMetricFound"},
    ]
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": name, "namespace": "ai"},
        "spec": {"scaleTargetRef": {"kind": "Deployment", "name": name}, "maxReplicas": 4},
        "status": {"conditions": conditions, "currentReplicas": replicas},
    }


def _decode_any(items: list[dict[str, Any]]) -> list[Any]:
    decoder = ObjectDecoder()
    out = decoder.from_raws([msgspec.Raw(msgspec.json.encode(i)) for i in items], ORIGIN)
    assert not decoder.diagnostics
    return out


def test_plain_data_of_objects_without_a_model_shares_equal_subtrees() -> None:
    a, b = _decode_any([_hpa("llm", 2), _hpa("embed", 3)])
    assert a.status["conditions"] is b.status["conditions"]
    assert a.spec is not b.spec and a.spec["scaleTargetRef"]["name"] == "llm"
    assert b.spec["scaleTargetRef"]["name"] == "embed"
    assert (a.status["currentReplicas"], b.status["currentReplicas"]) == (2, 3)
    assert a.spec["scaleTargetRef"]["kind"] is b.spec["scaleTargetRef"]["kind"]


def test_plain_data_tells_one_from_true_and_from_one_point_zero() -> None:
    one, true, float_one = _decode_any([_hpa("a", 1), _hpa("b", True), _hpa("c", 1.0)])
    replicas = [o.status["currentReplicas"] for o in (one, true, float_one)]
    assert [type(r) for r in replicas] == [int, bool, float]


def test_plain_data_that_msgpack_cannot_hold_or_nests_deep_is_kept_as_it_is() -> None:
    huge, deep = _hpa("huge", 10**30), _hpa("deep", 1)
    nested: dict[str, Any] = {"leaf": "x"}
    for _ in range(40):  # deeper than the compactor looks, within what decoding accepts
        nested = {"n": nested}
    deep["spec"]["nested"] = nested
    pod = _replica(1)
    pod["spec"]["affinity"] = {"weight": 10**30}  # a typed model's plain part, too
    a, b, p = _decode_any([huge, deep, pod])
    assert a.status["currentReplicas"] == 10**30
    assert b.spec["nested"] == nested
    assert p.spec.affinity == {"weight": 10**30}


def test_an_object_nested_too_deeply_is_reported_and_the_others_kept() -> None:
    nested: dict[str, Any] = {"leaf": "x"}
    for _ in range(200):
        nested = {"n": nested}
    deep = _hpa("deep", 1)
    deep["spec"]["nested"] = nested
    decoder = ObjectDecoder()
    raws = [msgspec.Raw(msgspec.json.encode(i)) for i in (deep, _hpa("fine", 1))]
    out = decoder.from_raws(raws, ORIGIN)
    assert [o.metadata.name for o in out] == ["fine"]
    (diag,) = decoder.diagnostics
    assert "nested too deeply" in diag.message and diag.object == "HorizontalPodAutoscaler/ai/deep"


def test_compacted_plain_data_equals_plain_decoding() -> None:
    items = [_hpa(f"m{i}", i % 3) for i in range(6)]
    plain = [msgspec.json.decode(msgspec.json.encode(i)) for i in items]
    for obj, want in zip(_decode_any(items), plain, strict=True):
        assert (obj.spec, obj.status) == (want["spec"], want["status"])


def test_nodes_of_a_pool_share_resources_conditions_and_system_facts() -> None:
    nodes = []
    for i in range(2):
        node = make_node(f"gpu-{i}", gpus=8)
        node["status"]["conditions"] = [{"type": "Ready", "status": "True"}]
        node["status"]["nodeInfo"] = {"kernelVersion": "6.1.0", "machineID": f"m{i}"}
        nodes.append(node)
    a, b = _decode_any(nodes)
    assert a.status.allocatable is b.status.allocatable
    assert a.status.capacity is b.status.capacity
    assert a.status.conditions is b.status.conditions and a.ready is True
    assert a.status.node_info.kernel_version is b.status.node_info.kernel_version
    assert (a.status.node_info.machine_id, b.status.node_info.machine_id) == ("m0", "m1")


def test_a_replica_like_the_last_pod_of_its_owner_takes_its_spec_with_its_own_node() -> None:
    numbers = (0, 1, 2, 3, 6)
    pods = _decode([_with_token_volume(_replica(i), i) for i in numbers])
    first = pods[0]
    for pod in pods[1:]:
        assert pod.spec.containers is first.spec.containers
        assert pod.spec.volumes is first.spec.volumes
        assert pod.metadata.labels is first.metadata.labels
    nodes = ["node-0", "node-1", "node-2", "node-0", "node-0"]
    assert [p.spec.node_name for p in pods] == nodes
    assert pods[4].spec is pods[3].spec  # on the node of the one before: the very same spec
    plain = [msgspec.convert(_with_token_volume(_replica(i), i), Pod) for i in numbers]
    for pod, expected in zip(pods, plain, strict=True):
        assert pod.spec.node_name == expected.spec.node_name
        assert pod.spec.containers[0].resources == expected.spec.containers[0].resources


def test_a_replica_unlike_its_sibling_keeps_its_own_spec() -> None:
    base = _with_token_volume(_replica(1), 1)
    other = _with_token_volume(_replica(2), 2)
    other["spec"]["containers"][0]["image"] = "vllm/vllm-openai:v0.7.0"  # a rollout's new pod
    truthy = _with_token_volume(_replica(3), 3)
    truthy["spec"]["containers"][0]["securityContext"] = {"privileged": 1}
    privileged = _with_token_volume(_replica(4), 4)
    privileged["spec"]["containers"][0]["securityContext"] = {"privileged": True}
    a, b, c, d = _decode([base, other, truthy, privileged])
    assert b.spec.containers[0].image == "vllm/vllm-openai:v0.7.0"
    assert a.spec.containers[0].image == "vllm/vllm-openai:v0.6.3"
    # 1 and true compare equal in Python; the spec encodings tell them apart
    assert c.spec.containers[0].security_context == {"privileged": 1}
    assert d.spec.containers[0].security_context["privileged"] is True
    assert c.spec is not d.spec


def test_pods_of_different_owners_or_of_a_daemonset_do_not_take_each_others_parts() -> None:
    mine = _with_token_volume(_replica(1), 1)
    theirs = _with_token_volume(_replica(2), 2)
    theirs["metadata"]["ownerReferences"][0]["uid"] = "u2"
    theirs["metadata"]["labels"] = {"app": "llm", "pod-template-hash": "9c1d"}
    daemon = _with_token_volume(_replica(3), 3)
    daemon["metadata"]["ownerReferences"] = [
        {"apiVersion": "apps/v1", "kind": "DaemonSet", "name": "agent", "uid": "d1"}
    ]
    a, b, c = _decode([mine, theirs, daemon])
    assert b.metadata.labels == {"app": "llm", "pod-template-hash": "9c1d"}
    assert b.metadata.owner_references[0].uid == "u2"
    assert c.metadata.owner_references[0].kind == "DaemonSet"
    # equal parts are still shared the general way
    assert a.spec.containers is b.spec.containers is c.spec.containers


def _daemon_pod(i: int, node: str) -> dict[str, Any]:
    pod = _with_token_volume(_replica(i), i)
    pod["metadata"]["ownerReferences"] = [
        {"apiVersion": "apps/v1", "kind": "DaemonSet", "name": "agent", "uid": "d1"}
    ]
    pod["spec"]["nodeName"] = node
    pod["spec"]["affinity"] = {  # as the DaemonSet controller pins each pod to its node
        "nodeAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [
                    {"matchFields": [{"key": "metadata.name", "operator": "In", "values": [node]}]}
                ]
            }
        }
    }
    return pod


def test_daemon_pods_share_their_spec_but_keep_the_affinity_that_pins_them() -> None:
    items = [_daemon_pod(i, f"gpu-{i}") for i in range(3)]
    pods = _decode(items)
    assert pods[1].spec.containers is pods[0].spec.containers is pods[2].spec.containers
    assert pods[1].spec.volumes is pods[0].spec.volumes
    for pod, item in zip(pods, items, strict=True):
        plain = msgspec.convert(copy.deepcopy(item), Pod)
        assert pod.spec.node_name == plain.spec.node_name == item["spec"]["nodeName"]
        assert pod.spec.affinity == plain.spec.affinity
        assert pod.spec.volumes == plain.spec.volumes[1:]  # less the token volume
        assert pod.spec.containers[0].resources == plain.spec.containers[0].resources
    # a second DaemonSet's pod on the same node shares the first one's pinning affinity
    other = _daemon_pod(9, "gpu-2")
    other["metadata"]["ownerReferences"][0]["uid"] = "d2"
    other["spec"]["containers"][0]["image"] = "nvcr.io/nvidia/k8s/dcgm-exporter:4.2.3"
    third, fourth = _decode([_daemon_pod(2, "gpu-2"), other])
    assert fourth.spec.affinity is third.spec.affinity
