"""What node provisioners know before a node exists, from knowledge/node_provisioning.yaml:
the labels Karpenter can satisfy for a pending pod, the NodePool requirements that admit or
exclude GPU instances, and the platforms that add GPU tolerations to pods themselves.

    karpenter_facts().knows("nvidia.com/gpu.product") -> False
    karpenter_facts().gpu_requirement("karpenter.k8s.aws/instance-category", "In", ["c", "m"])
      -> False (no GPU instance)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

from plumbob.knowledge.loader import load_table
from plumbob.model.objects import as_list


@dataclass(frozen=True, slots=True)
class GpuLabels:
    """One provider's instance labels that say whether an instance has GPUs."""

    count_label: str
    name_labels: tuple[str, ...]
    category_label: str | None
    gpu_categories: tuple[str, ...]
    family_labels: tuple[str, ...]
    type_labels: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class KarpenterFacts:
    groups: tuple[str, ...]
    nodepool_label: str
    provisioner_label: str
    well_known: frozenset[str]
    prefixes: tuple[str, ...]
    gpu: tuple[GpuLabels, ...]

    def knows(self, label: str) -> bool:
        """Whether Karpenter knows the label's values before it creates a node (without a
        NodePool saying it)."""
        return label in self.well_known or label.startswith(self.prefixes)

    def gpu_requirement(self, key: str, operator: str, values: Sequence[str]) -> bool | None:
        """What one NodePool requirement says of GPU instances: True when it asks for them,
        False when it leaves none, None when it says nothing about them."""
        for gpu in self.gpu:
            answer = _gpu_answer(gpu, key, operator, [str(v) for v in values])
            if answer is not None:
                return answer
        return None


def _int(text: str) -> int | None:
    try:
        return int(text)
    except ValueError:
        return None


def _family_has_gpu(value: str, gpu: GpuLabels) -> bool:
    return value[:1].lower() in gpu.gpu_categories


def _gpu_answer(gpu: GpuLabels, key: str, op: str, values: list[str]) -> bool | None:
    if key == gpu.count_label:
        numbers = [n for n in (_int(v) for v in values) if n is not None]
        match op:
            case "Exists":
                return True
            case "DoesNotExist":
                return False
            case "Gt":
                return True if numbers and numbers[0] >= 0 else None
            case "Lt":
                return False if numbers and numbers[0] <= 1 else None
            case "In":
                return any(n > 0 for n in numbers)
            case "NotIn":
                return None
        return None
    if key in gpu.name_labels:
        if op in ("In", "Exists"):
            return True
        return False if op == "DoesNotExist" else None
    families: list[str] = []
    if key == gpu.category_label or key in gpu.family_labels:
        families = values
    elif key in gpu.type_labels:
        families = [v.split(".", 1)[0] for v in values]
    else:
        return None
    if op == "In":
        return any(_family_has_gpu(f, gpu) for f in families)
    if op == "NotIn" and key == gpu.category_label:
        excluded = {f.lower() for f in families}
        return False if set(gpu.gpu_categories) <= excluded else None
    return None


@cache
def karpenter_facts() -> KarpenterFacts:
    table = load_table("node_provisioning")
    karp = table.get("karpenter") or {}
    gpu = tuple(
        GpuLabels(
            count_label=str(row.get("count_label", "")),
            name_labels=tuple(str(x) for x in as_list(row.get("name_labels"))),
            category_label=row.get("category_label"),
            gpu_categories=tuple(str(x) for x in as_list(row.get("gpu_categories"))),
            family_labels=tuple(str(x) for x in as_list(row.get("family_labels"))),
            type_labels=tuple(str(x) for x in as_list(row.get("type_labels"))),
        )
        for row in as_list(karp.get("gpu_capability"))
        if isinstance(row, dict)
    )
    return KarpenterFacts(
        groups=tuple(str(g) for g in as_list(karp.get("groups"))),
        nodepool_label=str(karp.get("nodepool_label", "karpenter.sh/nodepool")),
        provisioner_label=str(karp.get("provisioner_label", "karpenter.sh/provisioner-name")),
        well_known=frozenset(
            str(r["name"]) for r in as_list(karp.get("well_known_labels")) if isinstance(r, dict)
        ),
        prefixes=tuple(
            str(r["prefix"])
            for r in as_list(karp.get("well_known_prefixes"))
            if isinstance(r, dict)
        ),
        gpu=gpu,
    )


@cache
def extended_resource_toleration_labels() -> tuple[str, ...]:
    """Node labels of platforms whose API server adds a toleration for every extended resource a
    pod requests (the ExtendedResourceToleration admission controller): GKE."""
    rows = as_list(load_table("node_provisioning").get("extended_resource_toleration"))
    return tuple(str(r["node_label"]) for r in rows if isinstance(r, dict) and r.get("node_label"))
