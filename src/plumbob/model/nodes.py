"""Node pools: which nodes a cloud or provisioner meant to be identical."""

from __future__ import annotations

import re

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

OPENSHIFT_MACHINE_ANNOTATION = "machine.openshift.io/machine"
"""`openshift-machine-api/<machineset>-<suffix>`: the Machine behind an OpenShift node; its
MachineSet is the machine name without the random suffix (openshift/machine-api-operator)."""
CAPI_OWNER_KIND_ANNOTATION = "cluster.x-k8s.io/owner-kind"
CAPI_OWNER_NAME_ANNOTATION = "cluster.x-k8s.io/owner-name"
"""Cluster API annotates nodes with the Machine's owner (a MachineSet, named
`<machinedeployment>-<hash>`; sigs.k8s.io/cluster-api internal/controllers/machine)."""

_GENERATED_SUFFIX = re.compile(r"^(.+)-([a-z0-9]{5,10})$")
_OPENSHIFT_SUFFIX = re.compile(r"(?<=.)-[a-z0-9]{5}$")


def _strip_generated(name: str) -> str:
    """'md-0-7c9f8b5d4' -> 'md-0'; a suffix without a digit ('workers') is kept as a name."""
    match = _GENERATED_SUFFIX.match(name)
    if match and any(c.isdigit() for c in match.group(2)):
        return match.group(1)
    return name


def _machine_set(node: Node) -> str | None:
    """The MachineSet (or MachineDeployment) an OpenShift or Cluster API node was made from."""
    annotations = node.annotations
    if annotations.get(CAPI_OWNER_KIND_ANNOTATION) == "MachineSet":
        owner = annotations.get(CAPI_OWNER_NAME_ANNOTATION)
        if owner:
            # A MachineDeployment's MachineSets carry a hash suffix that changes on rollout.
            return _strip_generated(owner)
    machine = annotations.get(OPENSHIFT_MACHINE_ANNOTATION)
    if machine:
        # Machines of a MachineSet are its name plus "-" and five random characters; other
        # machines (control-plane "<infra>-master-0") fall through to the role fallback.
        name = machine.rpartition("/")[2]
        if _OPENSHIFT_SUFFIX.search(name):
            return _OPENSHIFT_SUFFIX.sub("", name)
    return None


UNKNOWN_POOL = "(pool unknown: labels not shown)"
"""Pool of nodes read from text that did not show their labels (`kubectl get nodes -o wide`
without --show-labels): which pool they belong to cannot be told."""


def pool_of(node: Node, pool_label: str | None = None) -> str:
    """The pool a node belongs to: the user's label, a known pool label, the OpenShift or
    Cluster API MachineSet named in the node's annotations, or a documented fallback of
    role + instance type + GPU product."""
    labels = node.labels
    if not node.knows("labels"):
        return UNKNOWN_POOL
    if pool_label:
        return labels.get(pool_label, "(unlabelled)")
    for key in POOL_LABELS:
        value = labels.get(key)
        if value:
            return value
    machine_set = _machine_set(node)
    if machine_set:
        return machine_set
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
