"""Objects written with API versions the cluster's (or a target) Kubernetes release no longer
serves."""

from __future__ import annotations

from collections.abc import Iterator

from plumbob.checks.compat.versions import control_plane
from plumbob.checks.options import TARGET_VERSION, TODAY
from plumbob.checks.registry import EVERY_KIND, WORKLOADS, CheckContext, Hit, Origin, check
from plumbob.knowledge.kubernetes import (
    Minor,
    RemovedApi,
    minor_text,
    oldest_supported,
    removed_api,
)
from plumbob.model.objects import Object
from plumbob.model.snapshot import Snapshot

WHY = """
The API server rejects objects sent with a removed apiVersion, so a Helm chart or manifest for a
GPU operator, an inference service's HPA or PodDisruptionBudget, or a training CronJob that
still uses one fails to apply on upgrade day, often half-applied. The batch/v1beta1 CronJob,
autoscaling/v2beta1/v2beta2 HorizontalPodAutoscaler and policy/v1beta1 PodDisruptionBudget
removals hit many AI serving charts.
"""

FIX = """
Rewrite the objects to the replacement version shown in the finding (fields may have moved;
see the migration guide), e.g. with the kubectl-convert plugin:

    kubectl convert -f hpa.yaml --output-version autoscaling/v2

and check rendered charts before upgrading: `plumbob scan manifests/ --target-version 1.NN`.
"""


@check(
    id="api-version-removed",
    category="compat",
    severity="high",
    reads=(WORKLOADS,),
    consults=(EVERY_KIND, "Node"),
    title="Object uses an API version removed in the cluster's or target Kubernetes release",
    why=WHY,
    fix=FIX,
    references=(
        "https://kubernetes.io/docs/reference/using-api/deprecation-guide/",
        "https://kubernetes.io/docs/reference/using-api/deprecation-policy/",
        "https://kubernetes.io/docs/tasks/tools/included/kubectl-convert-overview/",
    ),
    options=(TARGET_VERSION, TODAY),
    origin=Origin(
        "https://github.com/NVIDIA/k8s-device-plugin/issues/191",
        "The device plugin manifest from NVIDIA's install guide failed on Kubernetes 1.16 "
        'with no matches for kind "DaemonSet" in version "extensions/v1beta1".',
    ),
)
def api_version_removed(snap: Snapshot, ctx: CheckContext) -> Iterator[Hit]:
    target = ctx.value(TARGET_VERSION)
    cp = control_plane(snap)
    if target is not None and (cp is None or target >= cp.minor):
        release, basis = target, "target version"
    else:
        if cp is not None:
            release, basis = cp.minor, f"cluster version {cp.version} ({cp.basis})"
        else:
            oldest = oldest_supported(ctx.value(TODAY))
            if oldest is None:
                return
            release, basis = oldest, "oldest supported Kubernetes release (cluster version unknown)"
    for objs in snap.kinds.values():  # the removal table is looked up once per apiVersion
        types = {(o.api_version, o.kind) for o in objs}
        rows = {t: removed_api(*t) for t in types}
        removed = {t: r for t, r in rows.items() if r is not None and r.removed_in <= release}
        if removed:
            yield from _hits(objs, removed, release, basis)


def _hits(
    objs: tuple[Object, ...],
    removed: dict[tuple[str, str], RemovedApi],
    release: Minor,
    basis: str,
) -> Iterator[Hit]:
    for obj in objs:
        row = removed.get((obj.api_version, obj.kind))
        if row is None:
            continue
        instead = (
            f"use {row.replacement}"
            if row.replacement
            else (row.note or "there is no replacement API")
        )
        yield Hit(
            obj,
            f"{obj.kind} {obj.name} uses {obj.api_version}, removed in Kubernetes "
            f"{minor_text(row.removed_in)} (checked against {minor_text(release)}, {basis}); "
            f"{instead}",
            evidence={
                "api_version": obj.api_version,
                "removed_in": minor_text(row.removed_in),
                "replacement": row.replacement,
                "checked_against": minor_text(release),
                "basis": basis,
                "source": row.source,
            },
            path="apiVersion",
        )
