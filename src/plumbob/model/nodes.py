"""Node pools: which nodes a cloud or provisioner meant to be identical."""

from __future__ import annotations

from plumbob.model.objects import Node

POOL_LABELS = (
    "eks.amazonaws.com/nodegroup",
    "alpha.eksctl.io/nodegroup-name",
    "cloud.google.com/gke-nodepool",
    "kubernetes.azure.com/agentpool",
    "agentpool",
    "karpenter.sh/nodepool",
    "karpenter.sh/provisioner-name",
    "machine.openshift.io/cluster-api-machineset",
    "cluster.x-k8s.io/deployment-name",
    "cluster.x-k8s.io/set-name",
    "node.kubernetes.io/pool",
    "doks.digitalocean.com/node-pool",
    "oke.oraclecloud.com/pool.name",
    "nodepool",
)
"""Labels naming a node's pool, most specific first: EKS managed node groups, eksctl, GKE node
pools, AKS agent pools, Karpenter NodePools (and legacy Provisioners), OpenShift MachineSets,
Cluster API MachineDeployments/MachineSets, DigitalOcean, OCI."""

_ROLE_LABELS = ("node-role.kubernetes.io/control-plane", "node-role.kubernetes.io/master")


def pool_of(node: Node, pool_label: str | None = None) -> str:
    """The pool a node belongs to: the user's label, a known pool label, or a documented
    fallback of role + instance type + GPU product."""
    labels = node.labels
    if pool_label:
        return labels.get(pool_label, "(unlabelled)")
    for key in POOL_LABELS:
        value = labels.get(key)
        if value:
            return value
    parts = []
    if any(k in labels for k in _ROLE_LABELS):
        parts.append("control-plane")
    itype = labels.get("node.kubernetes.io/instance-type") or labels.get(
        "beta.kubernetes.io/instance-type"
    )
    if itype:
        parts.append(itype)
    product = labels.get("nvidia.com/gpu.product")
    if product:
        parts.append(product)
    return "/".join(parts) or "default"
