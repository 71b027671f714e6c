"""GPU workloads whose image needs a newer CUDA than the driver on nodes they can land on."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from plumbob.checks.registry import GPU_IDENTITY, WORKLOADS, Hit, Origin, check
from plumbob.knowledge.cuda import max_cuda_of_driver, requirement
from plumbob.knowledge.image_cuda import cuda_of_container, require_disabled
from plumbob.model.gpu import container_gpu_request
from plumbob.model.objects import GenericObject, Node, Object, as_list
from plumbob.model.scheduling import NodeClasses, requested_gpu_resources
from plumbob.model.snapshot import Snapshot
from plumbob.model.workloads import PodTemplate

WHY = """
Every CUDA release needs a minimum NVIDIA driver. An image built on CUDA 12.8 scheduled onto a
node whose driver only supports CUDA 12.4 fails at container start with "unsatisfied condition:
cuda>=12.8" (images built from nvidia/cuda and NGC images check NVIDIA_REQUIRE_CUDA), or, where
the image does not check, starts in CUDA minor-version compatibility mode and fails later when a
kernel needs PTX JIT or a newer driver API. Below the major's compatibility floor (e.g. a 470
driver for a CUDA 12 image) nothing runs. The pod is placed only on some nodes of a mixed pool,
so it works on one replica and crash-loops on the next, and the GPU sits idle meanwhile.
"""

FIX = """
Either upgrade the driver on the listed nodes (GPU Operator: set `driver.version` in the
ClusterPolicy or an NVIDIADriver CR per pool; managed pools: move to a node image with a newer
driver), or keep the workload off them:

    spec:
      nodeSelector:
        nvidia.com/cuda.driver-version.major: "570"   # GFD label; or a pool label

or pick an image built for an older CUDA (e.g. a `-cu124` tag). For data-center GPUs the
`cuda-compat-<major>-<minor>` forward-compatibility package lets a newer CUDA run on an older
driver branch.
"""

MAX_LISTED = 25


def _claim_classes(claim: Object | None) -> set[str] | None:
    """Device classes a ResourceClaim(Template) asks for (resource.k8s.io v1 and v1beta1)."""
    if not isinstance(claim, GenericObject) or not isinstance(claim.spec, dict):
        return None
    spec = claim.spec.get("spec", claim.spec) if claim.kind.endswith("Template") else claim.spec
    requests = (spec.get("devices") or {}).get("requests") if isinstance(spec, dict) else None
    classes: set[str] = set()
    for req in as_list(requests):
        if isinstance(req, dict):
            inner = req.get("exactly")
            name = (inner if isinstance(inner, dict) else req).get("deviceClassName")
            if name:
                classes.add(str(name))
    return classes


def _gpu_claims(snap: Snapshot, template: PodTemplate) -> set[str | None]:
    """Names of the pod's DRA claims that get a GPU; a claim plumbob cannot resolve counts as
    one (GPU DRA drivers are what such clusters run)."""
    out: set[str | None] = set()
    for claim in template.spec.resource_claims:
        if not isinstance(claim, dict):
            continue
        ns = template.namespace
        if claim.get("resourceClaimName"):
            obj = snap.get("ResourceClaim", ns, str(claim["resourceClaimName"]))
        elif claim.get("resourceClaimTemplateName"):
            obj = snap.get("ResourceClaimTemplate", ns, str(claim["resourceClaimTemplateName"]))
        else:
            obj = None
        classes = _claim_classes(obj)
        if classes is None or any("gpu" in c or "nvidia" in c for c in classes):
            out.add(claim.get("name"))
    return out


@check(
    id="cuda-driver-mismatch",
    category="compat",
    severity="high",
    reads=(WORKLOADS, "Node"),
    node_parts=GPU_IDENTITY,
    consults=("ResourceClaim", "ResourceClaimTemplate"),
    title="Image CUDA version needs a newer NVIDIA driver than nodes it can run on",
    why=WHY,
    fix=FIX,
    references=(
        "https://docs.nvidia.com/cuda/cuda-toolkit-release-notes/index.html#cuda-major-component-versions",
        "https://docs.nvidia.com/deploy/cuda-compatibility/minor-version-compatibility.html",
        "https://docs.nvidia.com/deploy/cuda-compatibility/forward-compatibility.html",
        "https://github.com/NVIDIA/nvidia-container-toolkit/blob/main/docs/cli.md",
    ),
    origin=Origin(
        "https://github.com/defilantech/LLMKube/issues/1424",
        "A vLLM image built on CUDA 13 crash-looped on AKS GPU nodes whose driver "
        "550.144.03 supports CUDA 12.4, after the node was provisioned and the image "
        "pulled.",
    ),
)
def cuda_driver_mismatch(snap: Snapshot) -> Iterator[Hit]:
    gpus = snap.node_gpus
    by_driver: dict[str, list[Node]] = defaultdict(list)
    for node in snap.gpu_nodes:
        driver = gpus[node.name].driver
        if driver:
            by_driver[driver].append(node)
    if not by_driver:
        return
    # Nodes by driver, each set in classes of nodes alike for placement: a template is placed
    # once per class and driver, and big fleets run few driver versions and few node shapes.
    fleets = {driver: NodeClasses(nodes) for driver, nodes in by_driver.items()}
    driver_cuda = {driver: max_cuda_of_driver(driver) for driver in by_driver}
    verdicts_of: dict[str, dict[str, str]] = {}
    for template in snap.pod_templates:
        gpu_claims = _gpu_claims(snap, template)
        wanted: dict[str, float] | None = None
        candidates: int | None = None
        for path, container in template.containers():
            claimed = {c.get("name") for c in container.resources.claims} & gpu_claims
            if container_gpu_request(container) <= 0 and not claimed:
                continue
            needs = cuda_of_container(container)
            if needs is None:
                continue
            req = requirement(needs.cuda)
            if req is None:
                continue
            # judge drivers first (one comparison per driver version), place the pod only on
            # nodes that would be a problem
            verdicts = verdicts_of.get(needs.cuda)
            if verdicts is None:
                verdicts = verdicts_of[needs.cuda] = {d: req.verdict(d) for d in by_driver}
            old = [d for d, v in verdicts.items() if v in ("compat", "too-old")]
            if not old:
                continue
            if wanted is None:
                wanted = requested_gpu_resources(template.spec)
            reachable = {d: fleets[d].eligible(template.spec, gpu_resources=wanted) for d in old}
            affected = sum(len(nodes) for nodes in reachable.values())
            if not affected:
                continue
            if candidates is None:
                candidates = sum(
                    len(nodes.eligible(template.spec, gpu_resources=wanted))
                    for nodes in fleets.values()
                )
            bad: list[dict[str, Any]] = []
            for driver, nodes in reachable.items():
                bad.extend(
                    {
                        "node": node.name,
                        "driver": driver,
                        "driver_cuda": gpus[node.name].cuda or driver_cuda[driver],
                        "verdict": verdicts[driver],
                    }
                    for node in nodes.first(MAX_LISTED - len(bad))
                )
            too_old = sum(len(n) for d, n in reachable.items() if verdicts[d] == "too-old")
            listed = ", ".join(f"{b['node']} ({b['driver']})" for b in bad[:3])
            more = f" and {affected - 3} more" if affected > 3 else ""
            if too_old:
                effect = (
                    f"{too_old} of them are below the CUDA {req.cuda.split('.')[0]} floor "
                    f"{req.compat_floor} and cannot run it at all"
                )
            elif require_disabled(container):
                effect = (
                    "NVIDIA_DISABLE_REQUIRE is set, so it starts in minor-version "
                    "compatibility mode with a reduced feature set"
                )
            else:
                effect = (
                    "it fails at start where the image checks NVIDIA_REQUIRE_CUDA, "
                    "else runs in minor-version compatibility mode"
                )
            yield Hit(
                template.workload,
                f"container {container.name!r} ({container.image}) needs CUDA {needs.cuda} "
                f"(driver >= {req.toolkit_driver}), but {affected} of {candidates} GPU "
                f"nodes it can be scheduled on have an older driver: {listed}{more}; {effect}",
                evidence={
                    "container": container.name,
                    "image": container.image,
                    "cuda": needs.cuda,
                    "cuda_from": needs.basis,
                    "cuda_source": needs.source,
                    "cuda_confidence": needs.confidence,
                    "min_driver": req.toolkit_driver,
                    "min_driver_release": req.toolkit_label,
                    "compat_floor": req.compat_floor,
                    "eligible_nodes": candidates,
                    "affected_nodes": affected,
                    "nodes": bad,
                    "role": template.role,
                },
                path=f"{path}.image",
            )
