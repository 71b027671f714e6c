"""Pool membership: cloud and provisioner labels, OpenShift and Cluster API MachineSets,
--pool-label, and the instance type + GPU fallback."""

from __future__ import annotations

from plumbob.drift.attributes import snapshot_attributes
from plumbob.drift.pools import Pool, spreads
from plumbob.model.nodes import pool_of
from tests.conftest import decode, make_node


def _node(
    labels: dict[str, str] | None = None, annotations: dict[str, str] | None = None, **kw: object
):
    data = make_node("n", labels=labels, **kw)  # type: ignore[arg-type]
    if annotations:
        data["metadata"]["annotations"] = annotations
    return decode(data)


def test_cloud_pool_labels() -> None:
    assert pool_of(_node({"cloud.google.com/gke-nodepool": "a3-pool"})) == "a3-pool"
    assert pool_of(_node({"karpenter.sh/nodepool": "gpu"})) == "gpu"
    assert pool_of(_node({"kubernetes.azure.com/agentpool": "nc24"})) == "nc24"


def test_openshift_machine_set_from_annotation() -> None:
    node = _node(
        annotations={
            "machine.openshift.io/machine": (
                "openshift-machine-api/ocp-x7k2p-worker-gpu-us-east-1a-9bq4z"
            )
        }
    )
    assert pool_of(node) == "ocp-x7k2p-worker-gpu-us-east-1a"


def test_cluster_api_machine_deployment_from_owner() -> None:
    node = _node(
        annotations={
            "cluster.x-k8s.io/owner-kind": "MachineSet",
            "cluster.x-k8s.io/owner-name": "gpu-md-0-7c9f8b5d4x",
        }
    )
    assert pool_of(node) == "gpu-md-0"
    plain = _node(
        annotations={
            "cluster.x-k8s.io/owner-kind": "MachineSet",
            "cluster.x-k8s.io/owner-name": "gpu-workers",
        }
    )
    assert pool_of(plain) == "gpu-workers"


def test_pool_label_option_and_fallback() -> None:
    node = _node(
        {
            "team.example.com/pool": "train",
            "node.kubernetes.io/instance-type": "p5",
            "nvidia.com/gpu.product": "H100",
        }
    )
    assert pool_of(node, "team.example.com/pool") == "train"
    assert pool_of(node, "missing/label") == "(unlabelled)"
    assert pool_of(node) == "p5/H100"


def test_spread_majority_and_split() -> None:
    nodes = [make_node(f"n{i}", kernel=k) for i, k in enumerate(["a", "a", "b", "b"])]
    from tests.conftest import snapshot_of

    attrs = snapshot_attributes(snapshot_of(*nodes))
    spread = spreads(Pool("c", "p", tuple(attrs.values())))["kernel"]
    assert spread.split and spread.majority is None and spread.distinct == 2
    three = spreads(Pool("c", "p", tuple(list(attrs.values())[:3])))["kernel"]
    assert not three.split and three.majority == "a"
