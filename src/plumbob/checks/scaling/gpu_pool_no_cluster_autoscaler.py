"""GPU node pools that no cluster autoscaler or Karpenter manages."""

from __future__ import annotations

from collections.abc import Iterator

from plumbob.checks.registry import COMPONENTS, GPU_IDENTITY, Hit, Origin, check
from plumbob.checks.scaling.autoscalers import cluster_autoscaler_evidence, node_autoscaled
from plumbob.model.snapshot import Snapshot

WHY = """
GPU nodes are the most expensive nodes in the cluster. A fixed-size GPU pool either holds idle
GPUs around the clock or leaves training and inference pods Pending when demand grows; gang
scheduled training jobs and scaled-out inference replicas need nodes added on demand and
removed when the job ends.
"""

FIX = """
Put GPU pools under a node autoscaler with a minimum of zero where start-up latency allows:

    # EKS managed node group: cluster-autoscaler or Karpenter NodePool with
    #   requirements: [{key: karpenter.k8s.aws/instance-gpu-count, operator: Gt, values: ["0"]}]
    # GKE
    gcloud container node-pools update POOL --cluster CLUSTER --enable-autoscaling \\
        --min-nodes 0 --max-nodes 8
    # AKS
    az aks nodepool update -g RG --cluster-name CLUSTER -n POOL --enable-cluster-autoscaler \\
        --min-count 0 --max-count 8

Managed autoscalers that run outside the cluster write a `cluster-autoscaler-status`
ConfigMap in kube-system; include it in the snapshot so plumbob can see them.
"""


@check(
    id="gpu-pool-no-cluster-autoscaler",
    category="scaling",
    severity="info",
    reads=("Node", "Deployment", COMPONENTS),
    node_parts=(*GPU_IDENTITY, "annotations"),
    consults=("ConfigMap", "Provisioner", "ClusterAutoscaler", "MachineAutoscaler"),
    title="GPU node pool without a cluster autoscaler or Karpenter",
    why=WHY,
    fix=FIX,
    references=(
        "https://github.com/kubernetes/autoscaler/blob/master/cluster-autoscaler/FAQ.md",
        "https://karpenter.sh/docs/concepts/nodepools/",
        "https://cloud.google.com/kubernetes-engine/docs/concepts/cluster-autoscaler",
        "https://learn.microsoft.com/en-us/azure/aks/cluster-autoscaler",
    ),
    origin=Origin(
        "https://github.com/kubernetes/autoscaler/blob/master/cluster-autoscaler/FAQ.md",
        "The cluster autoscaler adds nodes for Pending pods and removes underused ones; "
        "without it or Karpenter a GPU pool's size never follows demand.",
        kind="document",
    ),
)
def gpu_pool_no_cluster_autoscaler(snap: Snapshot) -> Iterator[Hit]:
    if not snap.gpu_nodes or cluster_autoscaler_evidence(snap) is not None:
        return
    gpus = snap.node_gpus
    for pool, nodes in snap.nodes_by_pool().items():
        gpu_nodes = [n for n in nodes if gpus[n.name].present]
        if not gpu_nodes:
            continue
        if any(node_autoscaled(n.labels, n.annotations) for n in gpu_nodes):
            continue
        first = gpu_nodes[0]
        yield Hit(
            first,
            f"GPU pool {pool} ({len(gpu_nodes)} GPU node(s), e.g. {first.name}) has no cluster "
            f"autoscaler or Karpenter managing it",
            evidence={
                "pool": pool,
                "gpu_nodes": len(gpu_nodes),
                "nodes": [n.name for n in gpu_nodes[:10]],
            },
        )
