"""Pods decoded from JSON share their identical parts and stay equal to what was decoded."""

from __future__ import annotations

import copy
from typing import Any

import msgspec

from plumbob.model.objects import Origin, Pod
from plumbob.sources.decode import ObjectDecoder
from tests.conftest import make_container, make_pod

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
