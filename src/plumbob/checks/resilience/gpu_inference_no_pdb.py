"""GPU inference with several replicas and no PodDisruptionBudget covering its pods."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from plumbob.checks.registry import WORKLOADS, Hit, Origin, check
from plumbob.knowledge.workload_roles import role_of
from plumbob.model.objects import GenericObject
from plumbob.model.roles import WorkloadRole
from plumbob.model.selectors import selector_matches
from plumbob.model.snapshot import Snapshot
from plumbob.model.workloads import PodTemplate

WHY = """
A node drain (cluster upgrade, node image rotation, Karpenter consolidation, a spot reclaim
handled by the node termination handler) evicts every pod on the node at once. Without a
PodDisruptionBudget nothing stops a drain from taking down all replicas of a model server
together, and a GPU inference pod needs minutes to pull its image and load weights before it
serves again: the endpoint is down for that whole time although it runs several replicas.

It applies to GPU workloads whose role is serving (an InferenceService, a LeaderWorkerSet, a
Deployment behind a Service or running a known model server): a drain that stops every replica
of a GPU burn test or a benchmark together costs nothing anyone notices.
"""

FIX = """
Add a PodDisruptionBudget whose selector matches the pod template labels:

    apiVersion: policy/v1
    kind: PodDisruptionBudget
    metadata:
      name: llm-server
      namespace: serving
    spec:
      maxUnavailable: 1
      selector:
        matchLabels:
          app: llm-server

KServe sets this through `spec.predictor.minReplicas` plus a PDB of your own on the label
`serving.kserve.io/inferenceservice: NAME`; LeaderWorkerSet pods carry
`leaderworkerset.sigs.k8s.io/name: NAME`.
"""


def pod_labels(template: PodTemplate) -> dict[str, str]:
    """Labels the pods of a template carry, with those the operators add themselves."""
    labels = dict(template.metadata.labels)
    workload = template.workload
    if workload.kind == "InferenceService":
        labels.setdefault("serving.kserve.io/inferenceservice", workload.name)
        labels.setdefault("component", template.role or "predictor")
    elif workload.kind == "LLMInferenceService":  # KServe's GetWorkloadLabelSelector
        labels.setdefault("app.kubernetes.io/part-of", "llminferenceservice")
        labels.setdefault("app.kubernetes.io/name", workload.name)
        labels.setdefault("kserve.io/component", "workload")
    elif workload.kind == "LeaderWorkerSet":
        labels.setdefault("leaderworkerset.sigs.k8s.io/name", workload.name)
    return labels


class _PdbIndex:
    """PodDisruptionBudgets by namespace and by one of their matchLabels pairs, so a template is
    matched against the few PDBs that can select it, not every PDB in its namespace."""

    def __init__(self, pdbs: Iterable[GenericObject]) -> None:
        self._by_pair: dict[tuple[str, str, str], list[Any]] = defaultdict(list)
        self._other: dict[str, list[Any]] = defaultdict(list)
        self._names: dict[str, list[str]] = defaultdict(list)
        for pdb in pdbs:
            namespace = pdb.namespace or "default"
            self._names[namespace].append(pdb.name)
            selector = pdb.spec.get("selector") if isinstance(pdb.spec, dict) else None
            if not isinstance(selector, dict):
                continue  # no selector: selects nothing
            match_labels = selector.get("matchLabels")
            if isinstance(match_labels, dict) and match_labels:
                key, value = sorted(match_labels.items())[0]
                self._by_pair[(namespace, str(key), str(value))].append(selector)
            else:
                self._other[namespace].append(selector)

    def covers(self, namespace: str, labels: Mapping[str, str]) -> bool:
        candidates = [*self._other.get(namespace, ())]
        for key, value in labels.items():
            candidates.extend(self._by_pair.get((namespace, key, value), ()))
        return any(selector_matches(s, labels) for s in candidates)

    def names(self, namespace: str) -> list[str]:
        return sorted(self._names.get(namespace, ()))


@check(
    id="gpu-inference-no-pdb",
    category="resilience",
    severity="medium",
    reads=(WORKLOADS, "PodDisruptionBudget"),
    consults=("Service",),
    title="GPU inference with several replicas has no PodDisruptionBudget",
    why=WHY,
    fix=FIX,
    references=(
        "https://kubernetes.io/docs/concepts/workloads/pods/disruptions/",
        "https://kubernetes.io/docs/tasks/run-application/configure-pdb/",
        "https://kserve.github.io/website/latest/modelserving/autoscaling/autoscaling/",
    ),
    origin=Origin(
        "https://github.com/ray-project/kuberay/issues/1333",
        "Draining a node with kubectl drain took a RayService down until a new node came "
        "up, so nodes could not be cycled for patches without an outage.",
    ),
)
def gpu_inference_no_pdb(snap: Snapshot) -> Iterator[Hit]:
    index = _PdbIndex(snap.generic("PodDisruptionBudget"))
    seen: set[int] = set()
    for template in snap.gpu_templates:
        if id(template.workload) in seen or template.replicas < 2:
            continue
        if role_of(snap, template.workload).role != WorkloadRole.SERVING:
            continue
        labels = pod_labels(template)
        namespace = template.namespace or "default"
        if index.covers(namespace, labels):
            continue
        seen.add(id(template.workload))
        yield Hit(
            template.workload,
            f"{template.kind} {namespace}/{template.workload.name} runs {template.replicas} GPU "
            f"replicas and no PodDisruptionBudget selects its pods",
            evidence={
                "replicas": template.replicas,
                "pod_labels": labels,
                "pdbs_in_namespace": index.names(namespace),
            },
        )
