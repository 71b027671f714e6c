"""Workloads that name their Kueue LocalQueue in an annotation, which Kueue no longer reads.

In the gpu category with the gang-scheduling and GPU-quota checks: Kueue is how these clusters
admit GPU work (quota, fair sharing, all-or-nothing admission); it does not scale anything.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from plumbob.checks.gpu.queues import KUEUE_QUEUE_LABEL
from plumbob.checks.registry import COMPONENTS, WORKLOADS, Hit, Origin, check
from plumbob.knowledge.components import installed
from plumbob.model.gpu import pod_uses_gpu
from plumbob.model.objects import Job, Object
from plumbob.model.snapshot import Snapshot

REMOVED_IN = (0, 15, 0)
"""Kueue v0.15.0 removed the deprecated annotation (kubernetes-sigs/kueue CHANGELOG-0.15.md,
#7271)."""

WHY = """
Kueue takes a workload's LocalQueue from its `kueue.x-k8s.io/queue-name` label. Older Kueue also
read the same key as an annotation; that form was deprecated for years and Kueue v0.15.0
removed it ("Removed the deprecated workload annotation key", kubernetes-sigs/kueue#7271). With
the annotation alone, current Kueue does not manage the workload at all: it is not suspended and
queued, so it starts at once outside the ClusterQueue's GPU quota, fair sharing and
all-or-nothing admission; and a Job created with `suspend: true`, as older Kueue guides told
users to, waits for an admission that never comes.

Severity high: the manifest looks queued and is not. The GPU quota and gang admission the
platform team set up do not apply to it (or it never starts), and nothing in the cluster says
why. Seen in published samples: GoogleCloudPlatform/kubernetes-engine-samples fixed its Kueue
tutorial jobs in #2052 for this reason.
"""

FIX = """
Move the key from annotations to labels (the value, the LocalQueue's name, stays):

    metadata:
      labels:
        kueue.x-k8s.io/queue-name: lq-team-a

For a running Job, `kubectl label job NAME kueue.x-k8s.io/queue-name=lq-team-a` does not make
Kueue take it over; delete and recreate it with the label.
"""

_VERSION = re.compile(r"v?(\d+)\.(\d+)(?:\.(\d+))?")


def _version(tag: str | None) -> tuple[int, int, int] | None:
    match = _VERSION.match(tag or "")
    if match is None:
        return None
    return int(match[1]), int(match[2]), int(match[3] or 0)


def _suspended(workload: Object) -> bool:
    if isinstance(workload, Job):
        return bool(workload.spec.suspend)
    spec: Any = getattr(workload, "spec", None)
    return isinstance(spec, dict) and spec.get("suspend") is True


@check(
    id="kueue-queue-annotation-ignored",
    category="gpu",
    severity="high",
    reads=(WORKLOADS,),
    consults=(COMPONENTS,),
    title="Workload names its Kueue queue in an annotation that Kueue ignores",
    why=WHY,
    fix=FIX,
    references=(
        "https://github.com/kubernetes-sigs/kueue/blob/main/CHANGELOG/CHANGELOG-0.15.md",
        "https://github.com/kubernetes-sigs/kueue/pull/7271",
        "https://kueue.sigs.k8s.io/docs/reference/labels-and-annotations/",
        "https://github.com/GoogleCloudPlatform/kubernetes-engine-samples/pull/2052",
    ),
    origin=Origin(
        "https://github.com/GoogleCloudPlatform/kubernetes-engine-samples/pull/2052",
        "GKE's Kueue samples named their LocalQueue in a kueue.x-k8s.io/queue-name "
        "annotation that Kueue does not read, so their Jobs were not admitted.",
    ),
)
def kueue_queue_annotation_ignored(snap: Snapshot) -> Iterator[Hit]:
    kueue = installed(snap).get("kueue")
    version = _version(kueue.version) if kueue is not None else None
    for workload in snap.workloads:
        queue = workload.annotations.get(KUEUE_QUEUE_LABEL)
        if not queue or workload.labels.get(KUEUE_QUEUE_LABEL):
            continue
        templates = snap.templates_by_workload.get(id(workload), ())
        gpu = any(pod_uses_gpu(t.spec, t.metadata.annotations) for t in templates)
        what = f"{'GPU ' if gpu else ''}{workload.kind} {workload.namespace or 'default'}/"
        what += workload.name
        if version is not None and version < REMOVED_IN:
            effect = (
                f"the installed Kueue {kueue.version if kueue else ''} still reads it "
                "(deprecated); from Kueue v0.15.0 on it is not queued"
            )
        else:
            effect = "Kueue v0.15.0 and later read only the label, so it is not queued"
            if _suspended(workload):
                effect += " and, created suspended, it is never started"
        yield Hit(
            workload,
            f"{what} names LocalQueue {queue!r} in the annotation {KUEUE_QUEUE_LABEL}, not the "
            f"label: {effect}",
            evidence={
                "queue": queue,
                "kueue_version": kueue.version if kueue is not None else None,
                "suspended": _suspended(workload),
                "gpu": gpu,
            },
            path="metadata.annotations",
        )
