"""GPU workloads that no node can run and no node autoscaler can create a node for."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

from plumbob.checks.registry import COMPONENTS, GPU_IDENTITY, WORKLOADS, Hit, Origin, check
from plumbob.checks.scaling.provisioning import Verdict, first_per_workload
from plumbob.knowledge.components import node_autoscaler_installed
from plumbob.model.gpu import is_mig_resource
from plumbob.model.scheduling import placement, requested_gpu_resources
from plumbob.model.snapshot import Snapshot

WHY = """
A GPU pod that fits no node stays Pending until a node autoscaler adds one it fits. When no
node can ever take it (the GPU nodes carry a taint it does not tolerate, such as
`nvidia.com/gpu:NoSchedule` or AKS's `sku=gpu:NoSchedule`; the pod selects a pool whose nodes
lack the GPUs) and nothing can create one, it waits forever:
the training run never starts, the inference Deployment never becomes ready, and the only
sign is a FailedScheduling event nobody reads (vanvalenlab/kiosk-console PR 81, where
cluster-autoscaler would not scale GPU nodes for a training Deployment without the
toleration).

With Karpenter, capacity is not assumed: each NodePool is checked as Karpenter's provisioner
checks it. A NodePool whose taints the pod does not tolerate, whose requirements leave no GPU
instance type (instance-category c, m, r), whose limits allow no GPU, or that cannot give the
labels the pod selects never creates a node for it ("incompatible with nodepool ...",
aws/karpenter-provider-aws issues 3372 and 5527). With cluster-autoscaler or a managed
autoscaler, whose node groups are outside the API, plumbob cannot tell and does not judge.

Workloads that select labels no node has are gpu-node-selector-unmatched's finding; a GPU
resource name no node offers is gpu-resource-name-unavailable's.
"""

FIX = """
Let the workload onto the GPU nodes it is meant for, usually with the toleration for their
taint:

    tolerations:
      - key: nvidia.com/gpu
        operator: Exists
        effect: NoSchedule

or give the cluster capacity it can use: a Karpenter NodePool that allows GPU instances and
whose taints the workload tolerates,

    spec:
      template:
        spec:
          requirements:
            - {key: karpenter.k8s.aws/instance-gpu-count, operator: Gt, values: ["0"]}
          taints:
            - {key: nvidia.com/gpu, effect: NoSchedule}
      limits:
        nvidia.com/gpu: "64"

or a GPU node group under cluster-autoscaler.
"""


def _node_reasons(snap: Snapshot, verdict: Verdict) -> list[str]:
    """Why the nodes reject the template, the commonest first (with how many nodes)."""
    spec = verdict.spec or verdict.template.spec
    gpus = requested_gpu_resources(spec)
    counts: Counter[str] = Counter()
    for node in snap.nodes:
        found = placement(spec, node, gpu_resources=gpus)
        if not found.fits:
            counts[found.reason] += 1
    return [f"{reason} ({n} node{'s' if n != 1 else ''})" for reason, n in counts.most_common(3)]


def _resource_missing(snap: Snapshot, verdict: Verdict) -> bool:
    """Whether a GPU resource the template asks for is one no node offers, which
    gpu-resource-name-unavailable or mig-resource-unavailable reports."""
    offered = snap.offered_gpu_resources
    for resource in requested_gpu_resources(verdict.template.spec):
        if resource in offered:
            continue
        if is_mig_resource(resource):
            return True
        if offered or not node_autoscaler_installed(snap):
            return True
    return False


@check(
    id="gpu-workload-unschedulable",
    category="scaling",
    severity="high",
    reads=("Node", WORKLOADS, COMPONENTS),
    node_parts=(*GPU_IDENTITY, "taints", "unschedulable"),
    consults=("NodePool", "Provisioner", "ConfigMap", "ClusterAutoscaler", "MachineAutoscaler"),
    title="GPU workload fits no node and no autoscaler can create one",
    why=WHY,
    fix=FIX,
    references=(
        "https://kubernetes.io/docs/concepts/scheduling-eviction/taint-and-toleration/",
        "https://karpenter.sh/docs/concepts/scheduling/",
        "https://github.com/aws/karpenter-provider-aws/issues/3372",
        "https://github.com/vanvalenlab/kiosk-console/pull/81",
    ),
    origin=Origin(
        "https://github.com/vanvalenlab/kiosk-console/pull/81",
        "A training Deployment without a toleration for the GPU nodes' nvidia.com/gpu taint "
        "never scheduled, which only the cluster autoscaler's logs showed.",
    ),
)
def gpu_workload_unschedulable(snap: Snapshot) -> Iterator[Hit]:
    def fires(verdict: Verdict) -> bool:
        if verdict.fit_nodes or verdict.provisionable:
            return False
        if verdict.other_autoscaler is not None:
            return False  # its node groups are not in the input
        if not verdict.label_nodes and not verdict.label_pools():
            return False  # gpu-node-selector-unmatched
        return not _resource_missing(snap, verdict)

    for verdict in first_per_workload(snap, fires):
        template = verdict.template
        workload = template.workload
        nodes = _node_reasons(snap, verdict)
        pools = {p.describe(): reason for p, reason in verdict.pools if reason}
        if pools:
            first = next(iter(pools.items()))
            capacity = f"; no Karpenter NodePool would create one ({first[0]}: {first[1]})"
        else:
            capacity = "; no node autoscaler could add one"
        role = f" ({template.role})" if template.role else ""
        yield Hit(
            workload,
            f"{template.kind} {workload.namespace or 'default'}/{workload.name}{role} fits none "
            f"of the {len(snap.nodes)} nodes ({'; '.join(nodes) or 'no node'}){capacity}",
            evidence={
                "nodes": nodes,
                "nodePools": pools,
                "tolerationsAddedByPlatform": list(verdict.tolerations_added),
            },
            path=f"{template.path}.tolerations",
        )
