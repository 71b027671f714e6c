"""Which AI-platform components a cluster runs (device plugin, GPU operator, DCGM exporter, Kueue,
Volcano, scheduler-plugins, KAI, ...), recognised from the Kubernetes API alone.

Signatures come from knowledge/ai_components.yaml. Detection follows the table's notes: API groups
of the component's CRDs (from discovery, or from objects of that group in the snapshot), its
APIServices, workload images matched on the repository path (registry mirrors and tags ignored),
and workload names that do not depend on a Helm release name.

    installed(snap) -> {"kueue": Installed(version="v0.9.1", objects=(Deployment...), ...), ...}
    daemonset_covers(snap, daemon_set, node) -> bool
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from types import MappingProxyType

import msgspec

from plumbob.knowledge.loader import load_table
from plumbob.model.images import parse_image
from plumbob.model.objects import DaemonSet, Node, Object, Toleration, api_group, as_list
from plumbob.model.scheduling import placement
from plumbob.model.snapshot import COMPONENTS, Snapshot
from plumbob.model.workloads import PodTemplate

GANG_SCHEDULERS = ("kueue", "volcano", "scheduler-plugins", "kai-scheduler")
"""Components that admit a group of pods all-or-nothing."""

DEVICE_PLUGINS = (
    "nvidia-k8s-device-plugin",
    "nvidia-gpu-operator",
    "gke-nvidia-gpu-device-plugin",
    "volcano-device-plugin",
    "nvidia-dra-driver-gpu",
)
"""Components whose DaemonSets make a node's GPUs schedulable."""

_NOT_DEVICE_PLUGIN_NAMES = (
    "feature-discovery",
    "mps-control-daemon",
    "dcgm",
    "validator",
    "toolkit",
    "driver-daemonset",
    "mig-manager",
    "node-status-exporter",
    "controller",
)
"""Workloads sharing a device-plugin image (GFD runs from the k8s-device-plugin image) or
belonging to the GPU operator that do not register devices with the kubelet."""


@dataclass(frozen=True, slots=True)
class Signature:
    """How one component shows itself in the API."""

    id: str
    name: str
    groups: frozenset[str]
    apiservices: frozenset[str]
    images: tuple[str, ...]
    """Repository paths without registry host, e.g. 'nvidia/k8s-device-plugin'."""
    workload_names: frozenset[tuple[str, str]]
    """(kind, name) of workloads whose name does not depend on a release name."""


@dataclass(frozen=True, slots=True)
class Installed:
    """A component found in a snapshot: its version (from an image tag, when one says) and the
    objects that show it."""

    component: str
    name: str
    version: str | None
    objects: tuple[Object, ...]
    evidence: tuple[str, ...]
    deployed_by: str | None = None
    """The component whose operator runs every workload that shows this one (the GPU operator
    runs the device plugin, GFD and the DCGM exporter as its operands)."""


def _repo_path(image: str) -> str:
    """'nvcr.io/nvidia/k8s-device-plugin' -> 'nvidia/k8s-device-plugin'; a registry-less
    reference keeps its path."""
    first, sep, rest = image.partition("/")
    if sep and ("." in first or ":" in first or first == "localhost"):
        return rest
    return image


@cache
def signatures() -> Mapping[str, Signature]:
    """Component id -> signature, from knowledge/ai_components.yaml. An API group shared by
    several components (autoscaling.x-k8s.io, resource.nvidia.com ...) proves none of them."""
    rows = as_list(load_table("ai_components").get("components"))
    owners: dict[str, set[str]] = defaultdict(set)
    for row in rows:
        for crd in as_list(row.get("crds")):
            if isinstance(crd, dict) and "not specific" not in str(crd.get("note", "")):
                owners[str(crd.get("group", ""))].add(str(row["id"]))
    out: dict[str, Signature] = {}
    for row in rows:
        cid = str(row["id"])
        images: list[str] = []
        names: set[tuple[str, str]] = set()
        for wl in as_list(row.get("workloads")):
            if not isinstance(wl, dict):
                continue
            refs = [wl.get("image"), *as_list(wl.get("images"))]
            images.extend(_repo_path(ref) for ref in refs if isinstance(ref, str))
            name = str(wl.get("name", ""))
            if name and "{" not in name and " " not in name:
                names.add((str(wl.get("kind", "")), name))
        for image in as_list(row.get("images")):
            ref = image.get("image") if isinstance(image, dict) else image
            if isinstance(ref, str):
                images.append(_repo_path(ref))
        groups = frozenset(g for g, ids in owners.items() if ids == {cid} and g)
        out[cid] = Signature(
            id=cid,
            name=str(row.get("name", cid)),
            groups=groups,
            apiservices=frozenset(str(a) for a in as_list(row.get("apiservices"))),
            images=tuple(dict.fromkeys(images)),
            workload_names=frozenset(names),
        )
    return MappingProxyType(out)


def _is_image(path: str, known: Iterable[str]) -> bool:
    """Whether an image repository path is one of `known` (on any registry or mirror)."""
    return any(path == k or path.endswith("/" + k) for k in known)


def image_component(image: str, kind: str = "", name: str = "") -> str | None:
    """The component whose workload image this is, if any. An image several components list
    (the GPU operator runs the device plugin's and DCGM exporter's images) goes to the one whose
    workload name matches, then to the most specific one (fewest images)."""
    found = _image_signatures(image)
    if len(found) > 1:
        named = [sig for sig in found if (kind, name) in sig.workload_names]
        if named:
            return named[0].id
    return found[0].id if found else None


@functools.lru_cache(maxsize=16_384)
def _image_signatures(image: str) -> tuple[Signature, ...]:
    """The components listing this image, the most specific (fewest images) first."""
    path = parse_image(image).repository
    index = _signatures_by_image()
    # `_is_image`: the path itself or any tail of it after a "/" is a listed image
    tails = [path, *(path[i + 1 :] for i, ch in enumerate(path) if ch == "/")]
    ids = {sig.id for tail in tails for sig in index.get(tail, ())}
    found = [sig for sig in signatures().values() if sig.id in ids]
    return tuple(sorted(found, key=lambda sig: len(sig.images)))


@functools.cache
def _signatures_by_image() -> Mapping[str, tuple[Signature, ...]]:
    """Image repository path -> the signatures that list it."""
    index: dict[str, list[Signature]] = defaultdict(list)
    for sig in signatures().values():
        for path in sig.images:
            index[path].append(sig)
    return MappingProxyType({path: tuple(sigs) for path, sigs in index.items()})


def installed(snap: Snapshot) -> Mapping[str, Installed]:
    """Components present in the snapshot, by component id (computed once per snapshot)."""
    return snap.derived(_detect)


def node_autoscaler_installed(snap: Snapshot) -> bool:
    """Whether Karpenter or the cluster autoscaler runs: GPU pools may then be scaled to zero,
    so that no node shows the resources they offer."""
    found = installed(snap)
    return "karpenter" in found or "cluster-autoscaler" in found


def _detect(snap: Snapshot) -> Mapping[str, Installed]:
    sigs = signatures()
    evidence: dict[str, list[str]] = defaultdict(list)
    objects: dict[str, list[Object]] = defaultdict(list)
    shown_by: dict[str, list[PodTemplate]] = defaultdict(list)
    versions: dict[str, str] = {}
    # A component's version is the tag of its primary image, the first its signature lists
    # (the GPU operator's own image, not an operand's such as the MIG manager), else the first
    # tag seen.
    from_primary: set[str] = set()
    for sig in sigs.values():
        for group in sorted(sig.groups):
            if snap.has_group(group):
                evidence[sig.id].append(f"API group {group}")
                break
    for svc in snap.generic("APIService"):
        for sig in sigs.values():
            if svc.name in sig.apiservices:
                evidence[sig.id].append(f"APIService {svc.name}")
    by_name = {(k, n): cid for cid, s in sigs.items() for k, n in s.workload_names}
    for template in snap.pod_templates:
        workload = template.workload
        if workload.kind not in ("Deployment", "DaemonSet", "StatefulSet"):
            continue
        found: set[str] = set()
        for _, container in template.containers():
            cid = image_component(container.image or "", workload.kind, workload.name)
            if cid is None or cid in found:
                continue
            found.add(cid)
            ref = parse_image(container.image or "")
            primary = _is_image(ref.repository, sigs[cid].images[:1])
            if ref.tag and (cid not in versions or (primary and cid not in from_primary)):
                versions[cid] = ref.tag
                if primary:
                    from_primary.add(cid)
            evidence[cid].append(f"{workload.kind} {_where(workload)} runs {container.image}")
        named = by_name.get((workload.kind, workload.name))
        if named and not found:  # an image from an unknown mirror path: go by the name
            found.add(named)
            evidence[named].append(f"{workload.kind} {_where(workload)}")
        for cid in found:
            objects[cid].append(workload)
            shown_by[cid].append(template)
    deployed_by = {
        cid: operator
        for cid, templates in shown_by.items()
        if (operator := _operator_of(templates)) not in (None, cid) and evidence.get(operator)
    }
    return MappingProxyType(
        {
            cid: Installed(
                component=cid,
                name=_name(sigs[cid].name, sigs[deployed_by[cid]].name)
                if cid in deployed_by
                else sigs[cid].name,
                version=versions.get(cid),
                objects=tuple(objects.get(cid, ())),
                evidence=tuple(evidence[cid]),
                deployed_by=deployed_by.get(cid),
            )
            for cid in sigs
            if evidence.get(cid)
        }
    )


_OPERATOR_OWNERS = {("nvidia.com", "ClusterPolicy"), ("nvidia.com", "NVIDIADriver")}
"""Custom resources whose controller (the NVIDIA GPU Operator) creates and owns the operand
DaemonSets (controllers/object_controls.go sets the ClusterPolicy as their controller)."""
_DEPLOY_LABEL = "nvidia.com/gpu.deploy."
"""The node labels by which the GPU operator places each operand (`...deploy.device-plugin`)."""


def _operator_of(templates: Iterable[PodTemplate]) -> str | None:
    """The GPU operator's component id when every one of these workloads is one of its operands
    (owned by its ClusterPolicy or NVIDIADriver, labelled part of the gpu-operator, or placed by
    its `nvidia.com/gpu.deploy.<operand>` node labels); else None."""
    seen = False
    for template in templates:
        seen = True
        workload = template.workload
        owned = any(
            (api_group(ref.api_version), ref.kind) in _OPERATOR_OWNERS
            for ref in workload.metadata.owner_references
        )
        part_of = workload.labels.get("app.kubernetes.io/part-of") == "gpu-operator"
        placed = any(key.startswith(_DEPLOY_LABEL) for key in template.spec.node_selector)
        if not (owned or part_of or placed):
            return None
    return "nvidia-gpu-operator" if seen else None


def _name(own: str, operator: str) -> str:
    """'NVIDIA Kubernetes device plugin (deployed by NVIDIA GPU Operator)': the table's
    '(standalone)' names how the component is installed on its own, which this one is not."""
    return f"{own.removesuffix(' (standalone)')} (deployed by {operator})"


def _where(obj: Object) -> str:
    return f"{obj.namespace}/{obj.name}" if obj.namespace else obj.name


def inventory_visible(snap: Snapshot) -> bool:
    """Whether the snapshot can tell a component is absent: a live capture, or a capture of
    the cluster's workloads across its namespaces, not just manifests (`Snapshot.unseen`)."""
    return snap.visible(COMPONENTS)


def device_plugin_daemonsets(snap: Snapshot) -> tuple[DaemonSet, ...]:
    """DaemonSets that register GPUs with the kubelet: the NVIDIA device plugin (standalone or
    operator-managed), GKE's managed plugin, Volcano's plugin, the NVIDIA DRA kubelet plugin."""
    out: list[DaemonSet] = []
    for ds in snap.typed("DaemonSet", DaemonSet):
        if any(part in ds.name for part in _NOT_DEVICE_PLUGIN_NAMES):
            continue
        images = (c.image or "" for c in ds.spec.template.spec.containers)
        if any(image_component(image, ds.kind, ds.name) in DEVICE_PLUGINS for image in images):
            out.append(ds)
    return tuple(out)


DAEMONSET_TOLERATIONS = (
    Toleration(key="node.kubernetes.io/not-ready", operator="Exists", effect="NoExecute"),
    Toleration(key="node.kubernetes.io/unreachable", operator="Exists", effect="NoExecute"),
    Toleration(key="node.kubernetes.io/disk-pressure", operator="Exists", effect="NoSchedule"),
    Toleration(key="node.kubernetes.io/memory-pressure", operator="Exists", effect="NoSchedule"),
    Toleration(key="node.kubernetes.io/pid-pressure", operator="Exists", effect="NoSchedule"),
    Toleration(key="node.kubernetes.io/unschedulable", operator="Exists", effect="NoSchedule"),
    Toleration(
        key="node.kubernetes.io/network-unavailable", operator="Exists", effect="NoSchedule"
    ),
)
"""Tolerations the DaemonSet controller adds to every daemon pod
(https://kubernetes.io/docs/concepts/workloads/controllers/daemonset/#taints-and-tolerations)."""


def daemonset_covers(snap: Snapshot, daemon_set: DaemonSet, node: Node) -> bool:
    """Whether the DaemonSet runs a pod on the node: nodeSelector, required node affinity and
    tolerations against the node's taints, with the tolerations the DaemonSet controller adds.
    A daemon pod of this DaemonSet seen on the node counts too (the spec may have changed)."""
    spec = daemon_set.spec.template.spec
    spec = msgspec.structs.replace(spec, tolerations=[*spec.tolerations, *DAEMONSET_TOLERATIONS])
    if placement(spec, node, gpu_resources={}, include_cordoned=True).fits:
        return True
    return any(snap.owner_of(pod) is daemon_set for pod in snap.pods_by_node.get(node.name, ()))


def covering(snap: Snapshot, daemon_sets: Iterable[DaemonSet], node: Node) -> list[DaemonSet]:
    return [ds for ds in daemon_sets if daemonset_covers(snap, ds, node)]


def gang_targets(template: PodTemplate) -> set[str]:
    """Gang schedulers a workload asks for: Kueue queue label, schedulerName volcano /
    kai-scheduler / scheduler-plugins-scheduler, KAI queue labels, coscheduling pod-group labels;
    a Volcano Job is always Volcano's."""
    out: set[str] = set()
    workload = template.workload
    labels = {**template.metadata.labels, **workload.labels}
    annotations = {**template.metadata.annotations, **workload.annotations}
    if workload.group == "batch.volcano.sh":
        out.add("volcano")
    if "kueue.x-k8s.io/queue-name" in labels:
        out.add("kueue")
    if any(k in labels for k in ("kai.scheduler/queue", "runai/queue")):
        out.add("kai-scheduler")
    if any(
        k.startswith(("scheduling.x-k8s.io/pod-group", "pod-group.scheduling.sigs.k8s.io"))
        for k in labels
    ):
        out.add("scheduler-plugins")
    if "scheduling.k8s.io/group-name" in annotations or "volcano.sh/queue-name" in labels:
        out.add("volcano")
    # KubeRay's batch-scheduler integration creates the PodGroup for the named scheduler.
    ray_scheduler = labels.get("ray.io/scheduler-name")
    if ray_scheduler in ("volcano", "kai-scheduler", "scheduler-plugins"):
        out.add(ray_scheduler)
    match template.spec.scheduler_name:
        case "volcano":
            out.add("volcano")
        case "kai-scheduler":
            out.add("kai-scheduler")
        case "scheduler-plugins-scheduler":
            out.add("scheduler-plugins")
    spec = getattr(workload, "spec", None)
    run_policy = spec.get("runPolicy") if isinstance(spec, dict) else None
    policy = run_policy.get("schedulingPolicy") if isinstance(run_policy, dict) else None
    if isinstance(policy, dict) and policy:
        # The training operator creates a PodGroup for its configured gang scheduler.
        out.add("training-operator-gang")
    return out


GPU_STACK = (
    "nvidia-gpu-operator",
    "nvidia-k8s-device-plugin",
    "nvidia-gpu-feature-discovery",
    "nvidia-dcgm-exporter",
    "nvidia-dra-driver-gpu",
    "nvidia-network-operator",
    "node-feature-discovery",
    "gke-nvidia-gpu-device-plugin",
    "volcano-device-plugin",
)
"""Components that run on GPU nodes by design and may touch GPUs without requesting one."""


@cache
def gpu_stack_namespaces() -> frozenset[str]:
    """Default namespaces of the GPU stack (kube-system excluded: everything runs there)."""
    out: set[str] = set()
    for row in as_list(load_table("ai_components").get("components")):
        if row.get("id") not in GPU_STACK:
            continue
        for ns in as_list(row.get("namespaces")):
            name = str(ns).split(" ")[0]
            if name and name != "kube-system" and "{" not in name:
                out.add(name)
    return frozenset(out)


def gpu_stack_images() -> tuple[str, ...]:
    """Image repository paths of the GPU stack's components (`nvidia/k8s-device-plugin`), for
    admission policies that recognise its workloads themselves (policy/rules.py)."""
    sigs = signatures()
    return tuple(sorted({p for c in GPU_STACK if c in sigs for p in sigs[c].images}))


def is_gpu_stack(namespace: str | None, images: Iterable[str | None]) -> bool:
    """A workload of the GPU stack itself: in one of its namespaces or running one of its
    images (device plugin, GFD, DCGM exporter, operator operands, NFD, DRA driver)."""
    if namespace in gpu_stack_namespaces():
        return True
    return any(image_component(image) in GPU_STACK for image in images if image)
