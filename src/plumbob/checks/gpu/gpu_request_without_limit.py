"""Containers that request GPUs without an equal limit."""

from __future__ import annotations

from collections.abc import Iterator

from plumbob.checks.registry import WORKLOADS, Hit, Origin, check
from plumbob.model.gpu import is_gpu_resource
from plumbob.model.quantity import quantity_or_zero
from plumbob.model.snapshot import Snapshot

WHY = """
Extended resources such as nvidia.com/gpu cannot be overcommitted: Kubernetes only accepts them
when the limit is set and equals the request. A manifest with a GPU request and no (or a
different) limit is rejected by the API server at apply time, or, behind admission defaults,
runs with a different GPU count than its author planned. Either way a training job or an
inference rollout stalls at deploy time instead of in review.
"""

FIX = """
Set the GPU limit equal to the request (or set only the limit; Kubernetes copies it):

    resources:
      limits:
        nvidia.com/gpu: 1
"""


@check(
    id="gpu-request-without-limit",
    category="gpu",
    severity="high",
    reads=(WORKLOADS,),
    title="GPU requested without an equal limit",
    why=WHY,
    fix=FIX,
    references=(
        "https://kubernetes.io/docs/tasks/manage-gpus/scheduling-gpus/",
        "https://kubernetes.io/docs/concepts/configuration/manage-resources-containers/#extended-resources",
    ),
    origin=Origin(
        "https://github.com/nebius/soperator/pull/161",
        "An operator's pods were rejected with \"Limit must be set for non overcommitable "
        'resources" until it set limits for the GPUs it requested.',
    ),
)
def gpu_request_without_limit(snap: Snapshot) -> Iterator[Hit]:
    for template in snap.pod_templates:
        for path, container in template.containers():
            requests = container.resources.requests
            limits = container.resources.limits
            for resource, value in requests.items():
                if not is_gpu_resource(resource):
                    continue
                wanted = quantity_or_zero(value)
                limit = limits.get(resource)
                if limit is not None and quantity_or_zero(limit) == wanted:
                    continue
                got = "no limit" if limit is None else f"limit {limit}"
                yield Hit(
                    template.workload,
                    f"container {container.name!r} requests {resource}: {value} with {got}",
                    evidence={
                        "container": container.name,
                        "resource": resource,
                        "request": value,
                        "limit": limit,
                        "role": template.role,
                    },
                    path=f"{path}.resources",
                )
