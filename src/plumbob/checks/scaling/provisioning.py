"""Where a GPU pod template could run: on a node the input shows, or on a node a Karpenter
NodePool (or v1alpha5 Provisioner) would create for it. Shared by the scheduling checks (not
a check module).

    verdicts(snap)[id(template)] -> Verdict(label_nodes=0, fit_nodes=0,
        pools=(("gpu", "did not tolerate taint dedicated=ml:NoSchedule"),), other_autoscaler=None)

Karpenter is judged as its provisioner does (https://karpenter.sh/docs/concepts/scheduling/): a
NodePool is compatible with a pod when the pod tolerates the NodePool's taints (startup taints
excepted), every label the pod selects is one the NodePool can give a new node (its template
labels, what its requirements allow, or a label Karpenter knows for every instance type), and,
for a GPU request, its requirements leave GPU instance types and its limits leave GPUs. Other
autoscalers (cluster-autoscaler, managed autoscalers) keep their node groups outside the API:
what they could create is not known, and the verdict says so.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

import msgspec

from plumbob.checks.scaling.autoscalers import cluster_autoscaler_evidence
from plumbob.knowledge.provisioning import (
    KarpenterFacts,
    extended_resource_toleration_labels,
    karpenter_facts,
)
from plumbob.model.gpu import WHOLE_GPU_RESOURCES
from plumbob.model.objects import GenericObject, PodSpec, Taint, Toleration, as_list, dig
from plumbob.model.quantity import is_quantity, quantity_or_zero
from plumbob.model.scheduling import NodeClasses, requested_gpu_resources, required_terms
from plumbob.model.snapshot import Snapshot
from plumbob.model.workloads import PodTemplate

_BLOCKING = ("NoSchedule", "NoExecute")


@dataclass(frozen=True, slots=True)
class Requirement:
    key: str
    operator: str
    values: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ProvisionerPool:
    """What one Karpenter NodePool (or Provisioner) can create."""

    source: GenericObject
    labels: Mapping[str, str]
    requirements: tuple[Requirement, ...]
    taints: tuple[Taint, ...]
    gpu: bool | None
    """True: its requirements ask for GPU instances; False: they leave none; None: they say
    nothing about GPUs (GPU instance types are among those it may choose)."""
    gpu_limit: float | None
    """Its `limits` for nvidia.com/gpu, when it sets one."""

    @property
    def name(self) -> str:
        return self.source.name

    def describe(self) -> str:
        return f"{self.source.kind} {self.name}"


def _requirements(raw: object) -> tuple[Requirement, ...]:
    return tuple(
        Requirement(
            r["key"],
            str(r.get("operator") or ""),
            tuple(str(v) for v in as_list(r.get("values"))),
        )
        for r in as_list(raw)
        if isinstance(r, dict) and isinstance(r.get("key"), str)
    )


def _taints(raw: object) -> tuple[Taint, ...]:
    out: list[Taint] = []
    for t in as_list(raw):
        if isinstance(t, dict) and isinstance(t.get("key"), str):
            value = t.get("value")
            out.append(
                Taint(
                    key=t["key"],
                    value=None if value is None else str(value),
                    effect=str(t.get("effect") or ""),
                )
            )
    return tuple(out)


def _pool(obj: GenericObject, facts: KarpenterFacts) -> ProvisionerPool:
    spec = obj.spec if isinstance(obj.spec, dict) else {}
    if obj.kind == "Provisioner":  # karpenter.sh/v1alpha5
        labels_raw = spec.get("labels")
        requirements = _requirements(spec.get("requirements"))
        taints = _taints(spec.get("taints"))
        limits = dig(spec, "limits", "resources")
        own = {facts.provisioner_label: obj.name}
    else:
        labels_raw = dig(spec, "template", "metadata", "labels")
        requirements = _requirements(dig(spec, "template", "spec", "requirements"))
        taints = _taints(dig(spec, "template", "spec", "taints"))
        limits = spec.get("limits")
        if isinstance(limits, dict) and isinstance(limits.get("resources"), dict):
            limits = limits["resources"]  # karpenter.sh/v1beta1 wrote them one level down
        own = {facts.nodepool_label: obj.name}
    raw = labels_raw if isinstance(labels_raw, dict) else {}
    labels = {str(k): str(v) for k, v in raw.items()}
    gpu: bool | None = None
    for r in requirements:
        answer = facts.gpu_requirement(r.key, r.operator, r.values)
        if answer is False:
            gpu = False
            break
        if answer is True:
            gpu = True
    limit_raw = limits.get("nvidia.com/gpu") if isinstance(limits, dict) else None
    gpu_limit = quantity_or_zero(limit_raw) if is_quantity(limit_raw) else None
    return ProvisionerPool(
        source=obj,
        labels=MappingProxyType({**labels, **own}),
        requirements=requirements,
        taints=taints,
        gpu=gpu,
        gpu_limit=gpu_limit,
    )


def karpenter_pools(snap: Snapshot) -> tuple[ProvisionerPool, ...]:
    """The Karpenter NodePools and Provisioners of the input (built once per snapshot)."""
    return snap.derived(_karpenter_pools)


def _karpenter_pools(snap: Snapshot) -> tuple[ProvisionerPool, ...]:
    facts = karpenter_facts()
    return tuple(
        _pool(obj, facts)
        for kind in ("NodePool", "Provisioner")
        for obj in snap.generic(kind)
        if obj.group in facts.groups
    )


# ------------------------------------------------------------------ pod against pool


def _allows(pool: ProvisionerPool, key: str, op: str, values: Sequence[str]) -> bool | None:
    """Whether a new node of the pool can satisfy one label expression of a pod: True, False,
    or None when the pool says nothing of the label."""
    wanted = set(values)
    if key in pool.labels:
        have = pool.labels[key]
        match op:
            case "In":
                return have in wanted
            case "NotIn":
                return have not in wanted
            case "Exists":
                return True
            case "DoesNotExist":
                return False
        return True  # Gt/Lt on a fixed label: not judged
    answer: bool | None = None
    for r in (r for r in pool.requirements if r.key == key):
        given = set(r.values)
        ok = True
        if op == "In":
            if r.operator == "In":
                ok = bool(wanted & given)
            elif r.operator == "NotIn":
                ok = bool(wanted - given)
            elif r.operator == "DoesNotExist":
                ok = False
        elif op == "NotIn" and r.operator == "In":
            ok = bool(given - wanted)
        elif (op == "Exists" and r.operator == "DoesNotExist") or (
            op == "DoesNotExist" and r.operator in ("In", "Exists")
        ):
            ok = False
        if not ok:
            return False
        answer = True
    return answer


def _expression_reason(
    pool: ProvisionerPool, key: str, op: str, values: Sequence[str], facts: KarpenterFacts
) -> str | None:
    allowed = _allows(pool, key, op, values)
    if allowed is True:
        return None
    shown = f"{key} {op} {list(values)}" if op in ("In", "NotIn") else f"{key} {op}"
    if allowed is False:
        return f"its labels and requirements do not allow {shown}"
    if op in ("NotIn", "DoesNotExist") or facts.knows(key):
        return None
    return (
        f"label {key} does not have known values: it is not a well-known label nor in the "
        f"{pool.source.kind}'s labels or requirements, so Karpenter cannot create a node with it"
    )


def pool_rejects(pool: ProvisionerPool, spec: PodSpec, gpus: Mapping[str, float]) -> str | None:
    """Why Karpenter would not create a node of this pool for a pod with this spec, or None.
    Labels are judged before taints: a pool that cannot make a node with the selected labels
    is rejected for that (gpu-node-selector-unmatched), whatever its taints."""
    facts = karpenter_facts()
    for key, value in spec.node_selector.items():
        reason = _expression_reason(pool, key, "In", [value], facts)
        if reason is not None:
            return f"nodeSelector {key}={value}: {reason}"
    terms = required_terms(spec)
    if terms is not None:
        reasons: list[str] = []
        for term in terms:
            if as_list(term.get("matchFields")):
                reasons.append("a term selects node names, which a new node does not have")
                continue
            found = None
            for expr in as_list(term.get("matchExpressions")):
                if not isinstance(expr, dict) or not isinstance(expr.get("key"), str):
                    continue
                found = _expression_reason(
                    pool,
                    expr["key"],
                    str(expr.get("operator") or ""),
                    [str(v) for v in as_list(expr.get("values"))],
                    facts,
                )
                if found is not None:
                    break
            if found is None:
                reasons = []
                break
            reasons.append(found)
        if reasons:
            return f"required node affinity: {reasons[0]}"
    for taint in pool.taints:
        if taint.effect in _BLOCKING and not any(t.tolerates(taint) for t in spec.tolerations):
            value = f"={taint.value}" if taint.value else ""
            return f"did not tolerate taint {taint.key}{value}:{taint.effect}"
    for resource in gpus:
        if resource not in WHOLE_GPU_RESOURCES:
            return f"its instance types offer whole GPUs, not {resource}"
        if pool.gpu is False:
            return f"its requirements leave no GPU instance type for {resource}"
        if pool.gpu_limit is not None and pool.gpu_limit < gpus[resource]:
            return f"its limits allow {pool.gpu_limit:g} nvidia.com/gpu"
    return None


# ------------------------------------------------------------------ verdicts


@dataclass(frozen=True, slots=True)
class Verdict:
    """Where one GPU pod template can run."""

    template: PodTemplate
    label_nodes: int
    """Nodes whose labels its nodeSelector and required node affinity accept."""
    fit_nodes: int
    """Nodes it can be scheduled on (labels, taints, GPU resources; cordoned nodes excluded)."""
    pools: tuple[tuple[ProvisionerPool, str | None], ...]
    """Each Karpenter pool with why it would not create a node for the template (None: it
    would)."""
    other_autoscaler: str | None
    """Evidence of a node autoscaler whose node groups the input does not show."""
    spec: PodSpec | None = None
    """The template's pod spec as the scheduler sees it (with the tolerations the platform
    adds)."""
    tolerations_added: tuple[str, ...] = ()
    """Resource names the platform adds tolerations for (GKE's ExtendedResourceToleration)."""

    @property
    def provisionable(self) -> bool:
        return any(reason is None for _, reason in self.pools)

    def label_pools(self) -> bool:
        """Whether some pool can create a node with the labels the template selects."""
        return any(
            reason is None or not reason.startswith(("nodeSelector", "required node affinity"))
            for _, reason in self.pools
        )


_ALL = Toleration(operator="Exists")


def first_per_workload(snap: Snapshot, fires: Callable[[Verdict], bool]) -> Iterator[Verdict]:
    """The first verdict of each workload for which `fires` holds: one finding per workload,
    not one per template (a PyTorchJob's master and workers). Nothing without nodes in the
    input, where no placement can be judged."""
    if not snap.nodes:
        return
    reported: set[int] = set()
    for verdict in verdicts(snap).values():
        workload = verdict.template.workload
        if id(workload) not in reported and fires(verdict):
            reported.add(id(workload))
            yield verdict


def verdicts(snap: Snapshot) -> Mapping[int, Verdict]:
    """id(template) -> its Verdict, for every GPU template that is not bound to a node and
    creates pods (DaemonSets and workloads scaled to zero left out); built once per
    snapshot."""
    return snap.derived(_verdicts)


def _verdicts(snap: Snapshot) -> Mapping[int, Verdict]:
    nodes = NodeClasses(snap.nodes)
    pools = karpenter_pools(snap)
    other = cluster_autoscaler_evidence(snap, karpenter=False)
    auto = _auto_tolerating(snap)
    out: dict[int, Verdict] = {}
    for template in _schedulable(snap.gpu_templates):
        spec = template.spec
        gpus = requested_gpu_resources(spec)
        added = tuple(sorted(r for r in gpus if auto))
        if added:
            spec = msgspec.structs.replace(
                spec,
                tolerations=[
                    *spec.tolerations,
                    *(Toleration(key=r, operator="Exists") for r in added),
                ],
            )
        labels_only = msgspec.structs.replace(spec, tolerations=[_ALL])
        out[id(template)] = Verdict(
            template=template,
            label_nodes=len(nodes.eligible(labels_only, gpu_resources={}, include_cordoned=True)),
            fit_nodes=len(nodes.eligible(spec, gpu_resources=gpus)),
            pools=tuple((p, pool_rejects(p, spec, gpus)) for p in pools),
            other_autoscaler=other,
            spec=spec,
            tolerations_added=added,
        )
    return MappingProxyType(out)


def _schedulable(templates: Iterable[PodTemplate]) -> Iterable[PodTemplate]:
    for t in templates:
        if t.spec.node_name or t.kind == "DaemonSet" or t.replicas == 0:
            continue
        yield t


def _auto_tolerating(snap: Snapshot) -> bool:
    """Whether the platform adds tolerations for requested extended resources (GKE)."""
    keys = extended_resource_toleration_labels()
    return any(k in n.labels for n in snap.nodes for k in keys)


def known_values(snap: Snapshot, key: str) -> list[str]:
    """The values of a label across the input's nodes and Karpenter pools, sorted."""
    values = {n.labels[key] for n in snap.nodes if key in n.labels}
    for pool in karpenter_pools(snap):
        if key in pool.labels:
            values.add(pool.labels[key])
        for r in pool.requirements:
            if r.key == key and r.operator == "In":
                values |= set(r.values)
    return sorted(values)
