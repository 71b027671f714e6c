"""Custom resources of AI workload controllers written in an API version that no current release
of the controller serves."""

from __future__ import annotations

from collections.abc import Iterator

from plumbob.checks.registry import EVERY_KIND, Hit, Origin, check
from plumbob.knowledge.custom_versions import RemovedVersion, removed_custom_version
from plumbob.model.snapshot import Snapshot

WHY = """
Custom resources are versioned by the controller that serves them, not by Kubernetes, and AI
controllers have moved fast: KFServing's serving.kubeflow.org became KServe's serving.kserve.io
(KServe v0.7), the Kubeflow training jobs went from v1alpha1 to v1, the MPI operator dropped
v1alpha1/v1alpha2, Volcano dropped kube-batch's scheduling.incubator.k8s.io PodGroups, and Kueue
stopped serving v1alpha1, v1alpha2 and, in v0.20, v1beta1. A manifest in such a version cannot
be applied to a cluster running a current controller: `kubectl apply` fails with "no matches for
kind" (kubeflow/pipelines issue 2615: TFJob v1alpha2 components failed on the new Kubeflow;
volcano-sh/volcano issue 1695: an old training operator's PodGroups were rejected by Volcano
1.3), so the training job or model server never starts. Objects read from a live cluster in
such a version mean the cluster still runs a controller old enough to serve it: the objects
break when it is upgraded. Medium: unlike a removed built-in API, nothing tells whether the
cluster's controller is already past the removal; the finding names the release that removed
it.
"""

FIX = """
Rewrite the object in the replacement version named in the finding (fields may have moved: the
KServe migration job converts KFServing InferenceServices; Kueue ships
hack/migrate-to-v1beta2.sh; Kubeflow jobs moved replicaSpecs lists to `<framework>ReplicaSpecs`
maps):

    apiVersion: kubeflow.org/v1
    kind: PyTorchJob
    spec:
      pytorchReplicaSpecs:
        Worker: {replicas: 4, template: {...}}

and upgrade the controller that still serves the old version before it holds more objects.
"""


@check(
    id="custom-resource-version-removed",
    category="compat",
    severity="medium",
    reads=(EVERY_KIND,),
    title="Custom resource uses an API version no current release of its controller serves",
    why=WHY,
    fix=FIX,
    references=(
        "https://github.com/kubeflow/pipelines/issues/2615",
        "https://github.com/volcano-sh/volcano/issues/1695",
        "https://github.com/kserve/kserve/issues/1818",
        "https://github.com/kubernetes-sigs/kueue/pull/14558",
        "https://kubernetes.io/docs/tasks/extend-kubernetes/custom-resources/custom-resource-definition-versioning/",
    ),
    origin=Origin(
        "https://github.com/kubeflow/pipelines/issues/2615",
        "Kubeflow Pipelines components still created v1alpha2 and v1beta1 TFJobs, which a "
        "current Kubeflow refused.",
    ),
)
def custom_resource_version_removed(snap: Snapshot) -> Iterator[Hit]:
    for objs in snap.kinds.values():  # looked up once per apiVersion and kind
        rows: dict[tuple[str, str], RemovedVersion | None] = {}
        for obj in objs:
            key = (obj.api_version, obj.kind)
            if key not in rows:
                rows[key] = removed_custom_version(*key)
            row = rows[key]
            if row is None:
                continue
            yield Hit(
                obj,
                f"{obj.kind} {obj.name} uses {obj.api_version} ({row.controller}), removed in "
                f"{row.removed_in}; no current release serves it: use {row.replacement}",
                evidence={
                    "api_version": obj.api_version,
                    "controller": row.controller,
                    "removed_in": row.removed_in,
                    "replacement": row.replacement,
                    "source": row.source,
                },
                path="apiVersion",
            )
