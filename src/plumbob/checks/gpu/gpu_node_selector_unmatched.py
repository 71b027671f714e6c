"""GPU workloads that select node labels no node has and no NodePool can give a node."""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache

from plumbob.checks.registry import COMPONENTS, WORKLOADS, Hit, Origin, check
from plumbob.checks.scaling.provisioning import Verdict, first_per_workload, known_values
from plumbob.knowledge.loader import load_table
from plumbob.knowledge.prices import product_key
from plumbob.model.objects import as_list
from plumbob.model.scheduling import required_terms
from plumbob.model.snapshot import Snapshot

WHY = """
A pod is scheduled only on a node whose labels satisfy its nodeSelector and required node
affinity. A GPU workload that names a label value no node carries, such as a GPU product string
that GPU feature discovery never writes (`NVIDIA-H100` for `NVIDIA-H100-80GB-HBM3`,
`Tesla-A100`, an `nvidia-tesla-a100` GKE accelerator on an EKS cluster) or a pool label from
another cluster, stays Pending with "0/N nodes are available: N node(s) didn't match Pod's node
affinity/selector", and the team waits for GPUs that are free. A node autoscaler does not
help: cluster-autoscaler only adds nodes whose template has the label, and Karpenter only
creates a node for a label it knows before the node exists (a well-known label, or one of the
NodePool's labels or requirements); GPU feature discovery labels such as
nvidia.com/gpu.product are added after the node starts, so Karpenter refuses them with "label
... does not have known values" (aws/karpenter-provider-aws issue 5073).

It applies when the input shows the nodes and the cluster's node autoscalers. With
cluster-autoscaler or a managed autoscaler, whose node groups are outside the API, plumbob
cannot know which labels they can create, and does not judge.
"""

FIX = """
Select a value the nodes have (`kubectl get nodes -L nvidia.com/gpu.product`):

    nodeSelector:
      nvidia.com/gpu.product: NVIDIA-H100-80GB-HBM3

With Karpenter, select a label it knows before the node exists instead of a GFD label:

    nodeSelector:
      karpenter.k8s.aws/instance-gpu-name: h100

or give the NodePool the label in its template (`spec.template.metadata.labels`).
"""

_PRODUCT_LABEL = "nvidia.com/gpu.product"


@cache
def _products() -> frozenset[str]:
    """Normalised GPU product labels GFD writes (knowledge/nvidia_gpus.yaml)."""
    out: set[str] = set()
    for row in as_list(load_table("nvidia_gpus").get("gpus")):
        if not isinstance(row, dict):
            continue
        names = [row.get("gfd_product_label"), row.get("legacy_gfd_product_label")]
        names += as_list(row.get("gfd_product_label_examples"))
        out |= {product_key(str(n)) for n in names if n}
    return frozenset(out)


def _unknown_product(value: str) -> bool:
    return product_key(value) not in _products()


def _selector_detail(snap: Snapshot, verdict: Verdict) -> tuple[str, dict[str, object]]:
    spec = verdict.template.spec
    for key, value in spec.node_selector.items():
        have = known_values(snap, key)
        if value in have:
            continue
        shown = ", ".join(have[:5]) + (" ..." if len(have) > 5 else "") if have else "none"
        text = f"nodeSelector {key}={value}, which no node has (values seen: {shown})"
        if key == _PRODUCT_LABEL and _unknown_product(value):
            text += "; no NVIDIA data-center GPU has that product label"
        return text, {"key": key, "value": value, "seen": have[:20]}
    terms = required_terms(spec) or []
    if not terms:
        shown = ", ".join(f"{k}={v}" for k, v in spec.node_selector.items())
        return f"nodeSelector {shown}, which no node has all of", {"selector": shown}
    return (
        f"required node affinity ({len(terms)} term(s)) that no node's labels satisfy",
        {"terms": terms[:5]},
    )


def _unmatched(verdict: Verdict) -> bool:
    """No node carries the labels the template selects, no NodePool offers them, and no other
    autoscaler's node groups (not in the input) might."""
    return not (verdict.label_nodes or verdict.other_autoscaler or verdict.label_pools())


@check(
    id="gpu-node-selector-unmatched",
    category="gpu",
    severity="high",
    reads=("Node", WORKLOADS, COMPONENTS),
    node_parts=("labels",),
    consults=("NodePool", "Provisioner", "ConfigMap", "ClusterAutoscaler", "MachineAutoscaler"),
    title="GPU workload selects node labels no node or NodePool has",
    why=WHY,
    fix=FIX,
    references=(
        "https://kubernetes.io/docs/concepts/scheduling-eviction/assign-pod-node/",
        "https://karpenter.sh/docs/concepts/scheduling/#well-known-labels",
        "https://github.com/aws/karpenter-provider-aws/issues/5073",
        "https://github.com/NVIDIA/k8s-device-plugin/blob/main/docs/gpu-feature-discovery/README.md",
    ),
    origin=Origin(
        "https://github.com/aws/karpenter-provider-aws/issues/5073",
        "Karpenter created no node for a pod whose nodeSelector named a label no NodePool "
        'offers, logging that the label "does not have known values".',
    ),
)
def gpu_node_selector_unmatched(snap: Snapshot) -> Iterator[Hit]:
    for verdict in first_per_workload(snap, _unmatched):
        template = verdict.template
        workload = template.workload
        detail, evidence = _selector_detail(snap, verdict)
        pools = {p.describe(): reason for p, reason in verdict.pools}
        if pools:
            name, reason = next(iter(pools.items()))
            tail = f"; no Karpenter NodePool can create such a node ({name}: {reason})"
        else:
            tail = "; no node autoscaler could add one"
        role = f" ({template.role})" if template.role else ""
        yield Hit(
            workload,
            f"{template.kind} {workload.namespace or 'default'}/{workload.name}{role} requests "
            f"GPUs and selects {detail}{tail}",
            evidence={**evidence, "nodePools": pools},
            path=f"{template.path}.nodeSelector"
            if template.spec.node_selector
            else f"{template.path}.affinity",
        )
