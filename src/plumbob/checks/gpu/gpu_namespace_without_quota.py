"""GPU workloads in namespaces without a ResourceQuota on GPUs."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from plumbob.checks.registry import WORKLOADS, Hit, check
from plumbob.model.gpu import (
    containers_gpu_request,
    gpu_count_unknown,
    gpus_text,
    is_gpu_resource,
)
from plumbob.model.refs import ObjectRef
from plumbob.model.snapshot import Snapshot

WHY = """
GPUs are the scarcest resource in the cluster. Without a ResourceQuota on GPUs, one team's
hyper-parameter sweep can take every GPU and starve another team's production inference; nothing
stops it until someone notices the Pending pods.
"""

FIX = """
Give every namespace that runs GPU workloads a quota on its GPUs:

    apiVersion: v1
    kind: ResourceQuota
    metadata: {name: gpu-quota, namespace: TEAM}
    spec:
      hard:
        requests.nvidia.com/gpu: "8"

For fair sharing with borrowing between teams use Kueue ClusterQueues with GPU nominalQuota.
"""


def _caps_gpus(hard_key: str) -> bool:
    for prefix in ("requests.", "limits."):
        if hard_key.startswith(prefix) and is_gpu_resource(hard_key.removeprefix(prefix)):
            return True
    return False


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


@check(
    id="gpu-namespace-without-quota",
    category="gpu",
    severity="medium",
    reads=(WORKLOADS, "ResourceQuota"),
    title="GPU workloads in a namespace without a GPU ResourceQuota",
    why=WHY,
    fix=FIX,
    references=(
        "https://kubernetes.io/docs/concepts/policy/resource-quotas/#resource-quota-for-extended-resources",
        "https://kueue.sigs.k8s.io/docs/concepts/cluster_queue/",
    ),
)
def gpu_namespace_without_quota(snap: Snapshot) -> Iterator[Hit]:
    gpu_workloads: dict[str, list[str]] = defaultdict(list)
    gpus: dict[str, float] = defaultdict(float)
    unknown: set[str] = set()
    for template in snap.gpu_templates:
        ns = template.namespace or "default"
        label = f"{template.kind}/{template.workload.name}"
        if label not in gpu_workloads[ns]:
            gpu_workloads[ns].append(label)
        gpus[ns] += template.replicas * containers_gpu_request(template.spec.containers)
        if gpu_count_unknown(template.spec.containers):
            unknown.add(ns)
    profiles = _profile_quotas(snap)
    for ns in sorted(gpu_workloads):
        quotas = snap.quotas_by_namespace.get(ns, ())
        if any(_caps_gpus(key) for q in quotas for key in q.spec.hard):
            continue
        if any(_caps_gpus(key) for key in profiles.get(ns, ())):
            continue
        namespace = snap.namespaces.get(ns)
        subject = (
            namespace
            if namespace is not None
            else ObjectRef(kind="Namespace", name=ns, api_version="v1")
        )
        workloads = gpu_workloads[ns]
        yield Hit(
            subject,
            f"namespace {ns} runs {len(workloads)} GPU workload(s) asking for "
            f"{gpus_text(gpus[ns], ns in unknown)} and has no ResourceQuota on GPUs",
            evidence={
                "workloads": workloads[:20],
                "gpus_requested": gpus[ns],
                "quotas": [q.name for q in quotas],
            },
        )
