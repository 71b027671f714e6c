"""PersistentVolumeClaims of GPU workloads in namespaces no Velero Schedule backs up."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from plumbob.checks.registry import COMPONENTS, WORKLOADS, Hit, Origin, check
from plumbob.knowledge.components import installed
from plumbob.model.objects import GenericObject
from plumbob.model.selectors import selector_matches
from plumbob.model.snapshot import Snapshot
from plumbob.model.workloads import PodTemplate

WHY = """
The state of an AI platform lives in a few volumes: fine-tuned weights and checkpoints, model
caches that took hours to download, vector indexes, notebooks and experiment results. Losing a
namespace (a bad `helm uninstall`, a deleted PVC with reclaimPolicy Delete, a cluster rebuild)
means re-running the GPU-hours that produced them. Velero only protects namespaces a Schedule
includes; a Schedule for the databases does not cover the training namespace next to it.
"""

FIX = """
Install Velero (with CSI snapshots or the node-agent for file-system backup) and schedule the
namespaces that hold GPU workload data:

    apiVersion: velero.io/v1
    kind: Schedule
    metadata: {name: ml-data-daily, namespace: velero}
    spec:
      schedule: "0 3 * * *"
      template:
        includedNamespaces: [training, inference]
        snapshotVolumes: true
        ttl: 720h

Data that is already durable elsewhere (weights in an object store, a replicated filesystem with
its own backups) can be exempted with the annotation `plumbob.dev/ignore:
gpu-data-not-backed-up` on the namespace.
"""


@dataclass(frozen=True, slots=True)
class Coverage:
    """One active Velero Schedule's namespace scope."""

    name: str
    included: tuple[str, ...]
    excluded: tuple[str, ...]
    label_selector: Mapping[str, Any] | None

    def covers(self, namespace: str, labels: Mapping[str, str]) -> bool:
        if namespace in self.excluded:
            return False
        if self.included and "*" not in self.included and namespace not in self.included:
            return False
        return self.label_selector is None or selector_matches(self.label_selector, labels)


def _strings(value: Any) -> tuple[str, ...]:
    return tuple(str(v) for v in value) if isinstance(value, list) else ()


def schedules(snap: Snapshot) -> list[Coverage]:
    """Velero Schedules that are not paused."""
    out = []
    for obj in snap.generic("Schedule"):
        if obj.group != "velero.io" or not isinstance(obj.spec, dict) or obj.spec.get("paused"):
            continue
        template = obj.spec.get("template") or {}
        if not isinstance(template, dict):
            continue
        selector = template.get("labelSelector")
        out.append(
            Coverage(
                name=f"{obj.namespace}/{obj.name}",
                included=_strings(template.get("includedNamespaces")),
                excluded=_strings(template.get("excludedNamespaces")),
                label_selector=selector if isinstance(selector, dict) else None,
            )
        )
    return out


def claims_of(template: PodTemplate) -> list[str]:
    """PVC names a template mounts: `persistentVolumeClaim` volumes, and for a StatefulSet the
    mounts not declared in `volumes` (they come from volumeClaimTemplates; their PVCs are named
    `<template>-<statefulset>-<ordinal>`)."""
    claims = [
        str(v.persistent_volume_claim.get("claimName"))
        for v in template.spec.volumes
        if v.persistent_volume_claim
    ]
    if template.workload.kind == "StatefulSet":
        declared = {v.name for v in template.spec.volumes}
        mounts = {m.name for c in template.spec.all_containers for m in c.volume_mounts}
        claims += [f"{name}-{template.workload.name}-*" for name in sorted(mounts - declared)]
    return claims


@check(
    id="gpu-data-not-backed-up",
    category="resilience",
    severity="medium",
    reads=(WORKLOADS, "Schedule"),
    consults=(COMPONENTS, "PersistentVolumeClaim"),
    title="GPU workload volumes are in a namespace no Velero Schedule backs up",
    why=WHY,
    fix=FIX,
    references=(
        "https://velero.io/docs/main/backup-reference/#schedule-a-backup",
        "https://velero.io/docs/main/api-types/schedule/",
        "https://velero.io/docs/main/csi/",
    ),
    origin=Origin(
        "https://velero.io/docs/main/backup-reference/#schedule-a-backup",
        "Velero backs up a namespace's volumes on a timetable only when a Schedule selects "
        "it; volumes no Schedule covers are not backed up.",
        kind="document",
    ),
)
def gpu_data_not_backed_up(snap: Snapshot) -> Iterator[Hit]:
    covered = schedules(snap)
    velero = "velero" in installed(snap) or snap.has_group("velero.io")
    pvcs_by_name = {
        (p.namespace or "default", p.name): p for p in snap.generic("PersistentVolumeClaim")
    }
    seen: set[int] = set()
    for template in snap.gpu_templates:
        if id(template.workload) in seen:
            continue
        claims = claims_of(template)
        if not claims:
            continue
        namespace = template.namespace or "default"
        unprotected = []
        for claim in claims:
            pvc: GenericObject | None = pvcs_by_name.get((namespace, claim))
            labels = pvc.labels if pvc is not None else template.metadata.labels
            if not any(s.covers(namespace, labels) for s in covered):
                unprotected.append(claim)
        if not unprotected:
            continue
        seen.add(id(template.workload))
        if not velero:
            why = "Velero is not installed"
        elif not covered:
            why = "Velero has no active Schedule"
        else:
            why = f"no Velero Schedule includes namespace {namespace}"
        yield Hit(
            template.workload,
            f"{template.kind} {namespace}/{template.workload.name} keeps data in PVC "
            f"{', '.join(unprotected)} and {why}",
            evidence={
                "pvcs": unprotected,
                "velero": velero,
                "schedules": [s.name for s in covered],
            },
            path=f"{template.path}.volumes",
        )
