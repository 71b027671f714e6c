"""Workloads that tolerate the GPU taint but request no GPU."""

from __future__ import annotations

from collections.abc import Iterator

from plumbob.checks.registry import WORKLOADS, Hit, Origin, check
from plumbob.knowledge.components import is_gpu_stack
from plumbob.model.gpu import pod_uses_gpu
from plumbob.model.objects import Toleration
from plumbob.model.snapshot import Snapshot
from plumbob.model.workloads import PodTemplate

WHY = """
The GPU taint is what keeps ordinary pods off expensive GPU nodes. A pod that tolerates it
without requesting a GPU undoes that: it may land on a GPU node and take the CPU, memory and pod
slots a training or inference pod needs, leaving GPUs idle while GPU pods wait.
"""

FIX = """
Remove the GPU toleration from workloads that do not use a GPU, or request the GPU they are
meant to use:

    tolerations:
    - {key: nvidia.com/gpu, operator: Exists, effect: NoSchedule}   # only with:
    resources:
      limits:
        nvidia.com/gpu: 1

Kubernetes' ExtendedResourceToleration admission plugin adds this toleration automatically to
pods that request nvidia.com/gpu, so GPU workloads need not carry it by hand.
"""

_GENERIC_PREFIXES = (
    "node.kubernetes.io/",
    "node-role.kubernetes.io/",
    "node.cloudprovider.kubernetes.io/",
    "ToBeDeletedByClusterAutoscaler",
)


def _gpu_taint_keys(snap: Snapshot) -> set[str]:
    """nvidia.com/gpu plus taint keys found on GPU nodes and on no other node."""
    gpu_names = {n.name for n in snap.gpu_nodes}
    on_gpu = {t.key for n in snap.gpu_nodes for t in n.spec.taints}
    elsewhere = {t.key for n in snap.nodes if n.name not in gpu_names for t in n.spec.taints}
    keys = {k for k in on_gpu - elsewhere if not k.startswith(_GENERIC_PREFIXES)}
    return keys | {"nvidia.com/gpu"}


def _tolerated(tolerations: list[Toleration], keys: set[str]) -> str | None:
    for tol in tolerations:
        if tol.effect not in (None, "", "NoSchedule", "NoExecute"):
            continue
        if tol.operator == "Exists" and not tol.key:
            return "every taint"
        if tol.key in keys:
            return tol.key
    return None


def _static(template: PodTemplate) -> bool:
    meta = template.workload.metadata
    return "kubernetes.io/config.mirror" in meta.annotations or any(
        o.kind == "Node" for o in meta.owner_references
    )


@check(
    id="gpu-toleration-without-request",
    category="gpu",
    severity="medium",
    reads=(WORKLOADS,),
    consults=("Node",),
    title="Workload tolerates the GPU taint but requests no GPU",
    why=WHY,
    fix=FIX,
    references=(
        "https://kubernetes.io/docs/concepts/scheduling-eviction/taint-and-toleration/#example-use-cases",
        "https://kubernetes.io/docs/reference/access-authn-authz/admission-controllers/#extendedresourcetoleration",
    ),
    origin=Origin(
        "https://github.com/everycure-org/matrix/pull/1384",
        "An optimisation gave pods that request no GPU the GPU taint's toleration, so they "
        "were scheduled onto GPU nodes until the toleration was removed.",
    ),
)
def gpu_toleration_without_request(snap: Snapshot) -> Iterator[Hit]:
    keys = _gpu_taint_keys(snap)
    gpu_tainted = any(n.has_taint_effect("NoSchedule", "NoExecute") for n in snap.gpu_nodes)
    for template in snap.pod_templates:
        if template.kind == "DaemonSet" or _static(template):
            continue  # node agents and static control-plane pods are meant to run everywhere
        spec = template.spec
        which = _tolerated(spec.tolerations, keys)
        if which is None or pod_uses_gpu(spec, template.metadata.annotations):
            continue
        if which == "every taint" and (not gpu_tainted or template.namespace == "kube-system"):
            continue  # a blanket toleration only matters where GPU nodes carry a taint
        if is_gpu_stack(template.namespace, (c.image for c in spec.all_containers)):
            continue
        role = f" ({template.role})" if template.role else ""
        tolerates = (
            "tolerates every taint, GPU taints included"
            if which == "every taint"
            else f"tolerates the GPU taint {which}"
        )
        yield Hit(
            template.workload,
            f"{template.kind} {template.workload.name}{role} {tolerates} but requests no GPU",
            evidence={"toleration": which, "role": template.role, "gpu_taint_keys": sorted(keys)},
            path=f"{template.path}.tolerations",
        )
