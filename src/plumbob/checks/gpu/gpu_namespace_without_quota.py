"""GPU workloads in namespaces without a ResourceQuota on GPUs or a queue that caps them."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field

from plumbob.checks.gpu.queues import Admission, admission
from plumbob.checks.registry import WORKLOADS, Hit, Origin, check
from plumbob.model.gpu import (
    containers_gpu_request,
    gpu_count_unknown,
    gpus_text,
    quota_caps_gpus,
)
from plumbob.model.refs import ObjectRef
from plumbob.model.snapshot import Snapshot

WHY = """
GPUs are the scarcest resource in the cluster. Without a ResourceQuota on GPUs, one team's
hyper-parameter sweep can take every GPU and starve another team's production inference; nothing
stops it until someone notices the Pending pods.

A namespace whose GPU workloads are all admitted through a queue that caps or guarantees GPUs
counts as governed: a Kueue LocalQueue whose ClusterQueue covers the GPU resource they ask for
(`kueue.x-k8s.io/queue-name` label), a Volcano Queue with a GPU capability, deserved or guarantee,
a KAI Scheduler Queue with a GPU quota or limit. A queue that covers no GPU resource is named in
the finding: Kueue does not admit a workload asking for a resource its ClusterQueue does not
cover (kubernetes-sigs/kueue#4848), and a Volcano or KAI queue without a GPU figure caps nothing.
A queue that is not in the input is named as such: like a ResourceQuota, it governs only where
plumbob sees it.
"""

FIX = """
Give every namespace that runs GPU workloads a quota on its GPUs:

    apiVersion: v1
    kind: ResourceQuota
    metadata: {name: gpu-quota, namespace: TEAM}
    spec:
      hard:
        requests.nvidia.com/gpu: "8"

For fair sharing with borrowing between teams use Kueue ClusterQueues with GPU nominalQuota
(and the `kueue.x-k8s.io/queue-name` label on every job):

    resourceGroups:
      - coveredResources: ["cpu", "memory", "nvidia.com/gpu"]
        flavors:
          - name: default-flavor
            resources:
              - {name: nvidia.com/gpu, nominalQuota: 16}

or a Volcano Queue with `capability: {nvidia.com/gpu: 16}`, or a KAI Queue with
`resources.gpu.quota`.
"""


def _profile_quotas(snap: Snapshot) -> dict[str, list[str]]:
    """Kubeflow Profiles create a ResourceQuota in the namespace named after them from
    spec.resourceQuotaSpec (kubeflow/kubeflow components/profile-controller)."""
    out: dict[str, list[str]] = {}
    for profile in snap.generic("Profile"):
        if profile.group != "kubeflow.org" or not isinstance(profile.spec, dict):
            continue
        spec = profile.spec.get("resourceQuotaSpec")
        hard = spec.get("hard") if isinstance(spec, dict) else None
        if isinstance(hard, dict):
            out[profile.name] = [str(k) for k in hard]
    return out


@dataclass(slots=True)
class _Namespace:
    workloads: list[str] = field(default_factory=list)
    gpus: float = 0.0
    count_unknown: bool = False
    """A GPU workload asks for GPUs in an amount that could not be read."""
    admissions: dict[str, Admission | None] = field(default_factory=dict)


def _describe(label: str, adm: Admission) -> str:
    where = f"{label} goes to {adm.scheduler} {adm.queue} ({adm.via})"
    if adm.gpu_quota is None:
        return f"{where} but {adm.detail}: its GPU quota is unknown"
    return f"{where}, which {adm.detail}"


@check(
    id="gpu-namespace-without-quota",
    category="gpu",
    severity="medium",
    reads=(WORKLOADS, "ResourceQuota"),
    consults=("ClusterQueue", "LocalQueue", "Queue", "PodGroup", "Profile"),
    title="GPU workloads in a namespace without a GPU ResourceQuota",
    why=WHY,
    fix=FIX,
    references=(
        "https://kubernetes.io/docs/concepts/policy/resource-quotas/#resource-quota-for-extended-resources",
        "https://kueue.sigs.k8s.io/docs/concepts/cluster_queue/",
        "https://github.com/kubernetes-sigs/kueue/issues/4848",
        "https://volcano.sh/en/docs/queue/",
        "https://github.com/kai-scheduler/KAI-Scheduler/blob/main/docs/queues/README.md",
    ),
    origin=Origin(
        "https://github.com/pangeo-data/pangeo-eosc/issues/74",
        "Users of a shared cluster could get no GPU for their notebooks because other "
        "tenants held every one of them.",
    ),
)
def gpu_namespace_without_quota(snap: Snapshot) -> Iterator[Hit]:
    by_ns: dict[str, _Namespace] = defaultdict(_Namespace)
    for template in snap.gpu_templates:
        ns = by_ns[template.namespace or "default"]
        label = f"{template.kind}/{template.workload.name}"
        if label not in ns.workloads:
            ns.workloads.append(label)
            templates = snap.templates_by_workload.get(id(template.workload), (template,))
            ns.admissions[label] = admission(snap, template.workload, templates)
        ns.gpus += template.replicas * containers_gpu_request(template.spec.containers)
        if gpu_count_unknown(template.spec.containers):
            ns.count_unknown = True
    profiles = _profile_quotas(snap)
    for name in sorted(by_ns):
        ns = by_ns[name]
        quotas = snap.quotas_by_namespace.get(name, ())
        if any(quota_caps_gpus(key) for q in quotas for key in q.spec.hard):
            continue
        if any(quota_caps_gpus(key) for key in profiles.get(name, ())):
            continue
        plain = [w for w, adm in ns.admissions.items() if adm is None]
        no_gpu = [(w, a) for w, a in ns.admissions.items() if a is not None and not a.gpu_quota]
        if not plain and not no_gpu:
            continue  # every GPU workload goes through a queue that caps or guarantees GPUs
        namespace = snap.namespaces.get(name)
        subject = (
            namespace
            if namespace is not None
            else ObjectRef(kind="Namespace", name=name, api_version="v1")
        )
        message = (
            f"namespace {name} runs {len(ns.workloads)} GPU workload(s) asking for "
            f"{gpus_text(ns.gpus, ns.count_unknown)} and has no ResourceQuota on GPUs"
        )
        queued = len(ns.workloads) - len(plain)
        if plain and queued:
            shown = ", ".join(plain[:3]) + (f" and {len(plain) - 3} more" if len(plain) > 3 else "")
            message += f"; {shown} go through no queue"
        if no_gpu:
            message += "; " + "; ".join(_describe(w, a) for w, a in no_gpu[:3])
            if len(no_gpu) > 3:
                message += f"; and {len(no_gpu) - 3} more through queues without a GPU quota seen"
        yield Hit(
            subject,
            message,
            evidence={
                "workloads": ns.workloads[:20],
                "gpus_requested": ns.gpus,
                "quotas": [q.name for q in quotas],
                "queues": [
                    {
                        "workload": w,
                        "scheduler": a.scheduler,
                        "queue": a.queue,
                        "via": a.via,
                        "gpu_quota": a.gpu_quota,
                        "detail": a.detail,
                    }
                    for w, a in ns.admissions.items()
                    if a is not None
                ][:20],
            },
        )
