"""Pods, ReplicaSets and Jobs whose controller is not in the input, grouped by their controller
reference (Snapshot.pod_templates, Snapshot.workload_of, model/workloads.py)."""

from __future__ import annotations

from typing import Any

import pytest

from plumbob import engine
from plumbob.checks.registry import Registry
from plumbob.model.objects import Pod
from plumbob.model.snapshot import Snapshot
from plumbob.model.workloads import (
    AbsentController,
    cron_job_of_job,
    deployment_of_replica_set,
    unbound_spec,
)
from tests.conftest import make_container, make_deployment, make_node, make_pod, snapshot_of


def owned(
    name: str,
    kind: str,
    owner: str,
    *,
    namespace: str = "ml",
    api_version: str = "apps/v1",
    labels: dict[str, str] | None = None,
    node: str | None = "node-1",
    created: str = "2026-11-20T08:00:00Z",
    image: str = "nginx:1.27",
    gpus: int = 0,
) -> dict[str, Any]:
    pod = make_pod(name, namespace, node=node, containers=[make_container(image=image, gpus=gpus)])
    pod["metadata"].update(
        labels=labels or {},
        creationTimestamp=created,
        ownerReferences=[
            {
                "apiVersion": api_version,
                "kind": kind,
                "name": owner,
                "uid": f"uid-{owner}",
                "controller": True,
            }
        ],
    )
    return pod


def replica_pods(rs: str, count: int, **kwargs: Any) -> list[dict[str, Any]]:
    """Pods of ReplicaSet `rs`, labelled with the pod-template-hash its name ends with."""
    hash_label = {"pod-template-hash": rs.rpartition("-")[2]}
    return [
        owned(f"{rs}-p{i}", "ReplicaSet", rs, labels=hash_label, **kwargs) for i in range(count)
    ]


def workload(snap: Snapshot, pod_name: str) -> Any:
    pod = next(p for p in snap.pods if p.name == pod_name)
    return snap.workload_of(pod)


def subjects(snap: Snapshot) -> list[tuple[str, str, int]]:
    return [(t.kind, t.workload.name, t.replicas) for t in snap.pod_templates]


# ---------------------------------------------------------------- names


@pytest.mark.parametrize(
    ("replica_set", "label", "deployment"),
    [
        ("web-7d4b9c6f5d", "7d4b9c6f5d", "web"),
        ("my-web-app-7d4b9c6f5d", "7d4b9c6f5d", "my-web-app"),
        # Kubernetes 1.8-1.11: the name carries the label's digits safe-encoded
        # (real pair from the k8s-ha-2017 cluster-info dump: kube-dns-545bc4bfd4)
        ("kube-dns-545bc4bfd4", "1016706980", "kube-dns"),
        ("web-7d4b9c6f5d", "other", None),
        ("web-7d4b9c6f5d", None, None),
        ("7d4b9c6f5d", "7d4b9c6f5d", None),
    ],
)
def test_deployment_of_replica_set(
    replica_set: str, label: str | None, deployment: str | None
) -> None:
    assert deployment_of_replica_set(replica_set, label) == deployment


@pytest.mark.parametrize(
    ("job", "cron_job"),
    [
        ("nightly-29410560", "nightly"),
        ("etl-daily-29410560", "etl-daily"),
        ("backup", None),
        ("backup-manual-x", None),
        ("-29410560", None),
    ],
)
def test_cron_job_of_job(job: str, cron_job: str | None) -> None:
    assert cron_job_of_job(job) == cron_job


# ---------------------------------------------------------------- ReplicaSets and Deployments


def test_pods_of_an_absent_replica_set_belong_to_the_present_deployment() -> None:
    snap = snapshot_of(make_deployment("web", "ml", replicas=3), *replica_pods("web-7d4b9c", 3))
    assert subjects(snap) == [("Deployment", "web", 3)]
    dep = snap.get("Deployment", "ml", "web")
    assert dep is not None and workload(snap, "web-7d4b9c-p0") is dep
    assert len(snap.workloads) == 1


def test_pods_of_two_replica_sets_of_one_deployment_are_one_workload() -> None:
    pods = [*replica_pods("web-7d4b9c", 2), *replica_pods("web-5f6a7b", 3)]
    present = snapshot_of(make_deployment("web", "ml", replicas=5), *pods)
    assert subjects(present) == [("Deployment", "web", 5)]
    absent = snapshot_of(*pods)  # neither the ReplicaSets nor the Deployment
    assert subjects(absent) == [("Deployment", "web", 5)]
    (stand_in,) = absent.workloads
    assert isinstance(stand_in, AbsentController)
    assert stand_in.pods == 5 and stand_in.members == {"Pod": 5}
    assert {id(workload(absent, p.name)) for p in absent.pods} == {id(stand_in)}


def test_deployment_absent_without_the_hash_label_one_group_per_replica_set() -> None:
    """No pod-template-hash (or one the name does not end with): nothing implies a Deployment,
    so each ReplicaSet reference is a workload, and no Deployment is invented."""
    pods = [
        *(owned(f"a-{i}", "ReplicaSet", "web-7d4b9c") for i in range(3)),
        *(
            owned(f"b-{i}", "ReplicaSet", "web-5f6a7b", labels={"pod-template-hash": "x"})
            for i in range(2)
        ),
    ]
    snap = snapshot_of(*pods)
    assert subjects(snap) == [("ReplicaSet", "web-7d4b9c", 3), ("ReplicaSet", "web-5f6a7b", 2)]
    stand_in = workload(snap, "a-0")
    assert isinstance(stand_in, AbsentController)
    assert (stand_in.kind, stand_in.namespace, stand_in.implied_by) == ("ReplicaSet", "ml", "")
    assert "ownerReferences of 3 Pods" in stand_in.describe()


def test_implied_deployment_says_how_it_was_found() -> None:
    snap = snapshot_of(*replica_pods("web-7d4b9c", 2))
    stand_in = workload(snap, "web-7d4b9c-p1")
    assert isinstance(stand_in, AbsentController)
    assert (stand_in.kind, stand_in.name, stand_in.api_version) == ("Deployment", "web", "apps/v1")
    assert stand_in.implied_by == "the pod-template-hash of the pods of ReplicaSet web-7d4b9c"
    assert stand_in.describe() == (
        "not in the input; implied by the pod-template-hash of the pods of ReplicaSet "
        "web-7d4b9c (2 Pods)"
    )


def test_groups_are_per_namespace() -> None:
    pods = [*replica_pods("web-7d4b9c", 2), *replica_pods("web-7d4b9c", 2, namespace="other")]
    for p in pods[2:]:
        p["metadata"]["name"] += "-other"
    snap = snapshot_of(*pods)
    assert sorted((t.namespace, t.workload.name, t.replicas) for t in snap.pod_templates) == [
        ("ml", "web", 2),
        ("other", "web", 2),
    ]


def test_replica_sets_of_an_absent_deployment_are_one_workload() -> None:
    def rs(name: str, replicas: int, created: str) -> dict[str, Any]:
        data = make_deployment(name, "ml", replicas=replicas)
        data["kind"] = "ReplicaSet"
        data["metadata"].update(
            creationTimestamp=created,
            ownerReferences=[
                {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web", "controller": True}
            ],
        )
        return data

    old, new = rs("web-1", 0, "2026-01-01T00:00:00Z"), rs("web-2", 4, "2026-02-01T00:00:00Z")
    pods = replica_pods("web-2", 4)
    snap = snapshot_of(old, new, *pods)
    assert subjects(snap) == [("Deployment", "web", 4)]  # the newest ReplicaSet's template
    stand_in = workload(snap, "web-2-p0")
    assert isinstance(stand_in, AbsentController)
    assert stand_in.members == {"ReplicaSet": 2} and stand_in.pods == 4
    assert stand_in.origin is not None  # where the template it carries was read


def test_newest_pod_carries_the_template_without_its_node() -> None:
    pods = [
        *replica_pods("web-7d4b9c", 2, image="app:1", created="2026-01-01T00:00:00Z"),
        *replica_pods("web-5f6a7b", 1, image="app:2", created="2026-02-01T00:00:00Z"),
    ]
    snap = snapshot_of(*pods)
    (template,) = snap.pod_templates
    assert [c.image for c in template.spec.containers] == ["app:2"]
    assert template.spec.node_name is None and template.path == "spec"
    assert (
        template.workload.origin == next(p for p in snap.pods if p.name == "web-5f6a7b-p0").origin
    )


# ---------------------------------------------------------------- Jobs and CronJobs


def test_job_pods_belong_to_the_present_cron_job() -> None:
    cron = {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": "nightly", "namespace": "ml"},
        "spec": {
            "schedule": "0 2 * * *",
            "jobTemplate": {"spec": {"template": {"spec": {"containers": [make_container()]}}}},
        },
    }
    pods = [
        owned(f"nightly-29410560-{i}", "Job", "nightly-29410560", api_version="batch/v1")
        for i in range(2)
    ]
    snap = snapshot_of(cron, *pods)
    assert subjects(snap) == [("CronJob", "nightly", 1)]
    assert workload(snap, "nightly-29410560-0") is snap.get("CronJob", "ml", "nightly")


def test_job_pods_without_job_or_cron_job_group_per_job() -> None:
    pods = [
        *(owned(f"a-{i}", "Job", "nightly-29410560", api_version="batch/v1") for i in range(2)),
        owned("b-0", "Job", "nightly-29410620", api_version="batch/v1"),
    ]
    snap = snapshot_of(*pods)  # no CronJob is invented from the name
    assert subjects(snap) == [("Job", "nightly-29410560", 2), ("Job", "nightly-29410620", 1)]


def test_jobs_of_an_absent_cron_job_are_one_workload() -> None:
    def job(name: str, created: str) -> dict[str, Any]:
        return {
            "apiVersion": "batch/v1",
            "kind": "Job",
            "metadata": {
                "name": name,
                "namespace": "ml",
                "creationTimestamp": created,
                "ownerReferences": [
                    {
                        "apiVersion": "batch/v1",
                        "kind": "CronJob",
                        "name": "nightly",
                        "controller": True,
                    }
                ],
            },
            "spec": {"template": {"spec": {"containers": [make_container()]}}},
        }

    jobs = [job("nightly-1", "2026-01-01T02:00:00Z"), job("nightly-2", "2026-01-02T02:00:00Z")]
    pods = [owned("nightly-2-x", "Job", "nightly-2", api_version="batch/v1")]
    snap = snapshot_of(*jobs, *pods)
    assert subjects(snap) == [("CronJob", "nightly", 1)]
    stand_in = workload(snap, "nightly-2-x")  # pod -> present Job -> absent CronJob
    assert isinstance(stand_in, AbsentController)
    assert stand_in.members == {"Job": 2} and stand_in.pods == 1


# ---------------------------------------------------------------- StatefulSets, DaemonSets


def test_stateful_set_pods_are_one_workload() -> None:
    pods = [owned(f"db-{i}", "StatefulSet", "db", node=f"node-{i}") for i in range(3)]
    snap = snapshot_of(*pods)
    assert subjects(snap) == [("StatefulSet", "db", 3)]
    stand_in = workload(snap, "db-2")
    assert isinstance(stand_in, AbsentController) and stand_in.pods == 3


def test_stateful_set_present_sees_its_pods_through_it() -> None:
    sts = make_deployment("db", "ml", replicas=3)
    sts["kind"] = "StatefulSet"
    pods = [owned(f"db-{i}", "StatefulSet", "db") for i in range(3)]
    snap = snapshot_of(sts, *pods)
    assert subjects(snap) == [("StatefulSet", "db", 3)]
    assert workload(snap, "db-0") is snap.get("StatefulSet", "ml", "db")


def test_daemon_pods_lose_the_controller_pin_to_their_node() -> None:
    pin = {
        "nodeAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [
                    {
                        "matchFields": [
                            {"key": "metadata.name", "operator": "In", "values": ["node-1"]}
                        ]
                    }
                ]
            },
            "preferredDuringSchedulingIgnoredDuringExecution": [],
        }
    }
    data = owned("agent-x", "DaemonSet", "agent")
    data["spec"]["affinity"] = pin
    snap = snapshot_of(data)
    (template,) = snap.pod_templates
    assert template.kind == "DaemonSet" and template.spec.node_name is None
    assert template.spec.affinity == {
        "nodeAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": []}
    }
    pod = snap.pods[0]
    assert pod.spec.affinity == pin  # the pod itself is unchanged
    assert unbound_spec(pod) is not pod.spec


# ---------------------------------------------------------------- bare and static pods


def test_bare_pods_stay_one_workload_each() -> None:
    snap = snapshot_of(make_pod("a", "ml", node="node-1"), make_pod("b", "ml", node="node-1"))
    assert subjects(snap) == [("Pod", "a", 1), ("Pod", "b", 1)]
    assert snap.pod_templates[0].spec.node_name == "node-1"  # a bare pod stays bound
    assert workload(snap, "a") is snap.pods[0]


def test_static_pods_stay_one_workload_each_even_with_their_node() -> None:
    pods = [owned(f"etcd-{i}", "Node", "node-1", api_version="v1") for i in range(2)]
    snap = snapshot_of(make_node("node-1"), *pods)
    assert subjects(snap) == [("Pod", "etcd-0", 1), ("Pod", "etcd-1", 1)]
    assert workload(snap, "etcd-0").kind == "Pod"


def test_a_reference_naming_no_controller_groups_nothing() -> None:
    pods = [make_pod(f"p{i}", "ml") for i in range(2)]
    for p in pods:
        p["metadata"]["ownerReferences"] = [{"apiVersion": "apps/v1", "kind": "ReplicaSet"}]
    snap = snapshot_of(*pods)
    assert subjects(snap) == [("Pod", "p0", 1), ("Pod", "p1", 1)]


# ---------------------------------------------------------------- never mistaken for input


def test_stand_ins_are_not_objects_of_the_snapshot() -> None:
    pods = replica_pods("web-7d4b9c", 3, api_version="extensions/v1beta1")
    snap = snapshot_of(*pods)
    (stand_in,) = snap.workloads
    assert stand_in.api_version == "extensions/v1beta1"
    assert set(snap.kinds) == {"Pod"} and len(snap) == 3
    assert stand_in not in list(snap) and snap.get("Deployment", "ml", "web") is None
    report = engine.run([snap], Registry.discover())
    assert report.clusters[0].kinds == {"Pod": 3}
    assert report.clusters[0].workloads == 1
    # extensions/v1beta1 Deployments are removed, but none was read: nothing to report
    assert not [f for f in report.findings if f.check == "api-version-removed"]


# ---------------------------------------------------------------- findings and scores


def _scan(*objects: dict[str, Any]) -> Any:
    config = engine.Config(only=["image-mutable-tag"])
    return engine.run([snapshot_of(*objects)], Registry.discover(), config)


def test_findings_are_per_workload_with_the_pod_count() -> None:
    report = _scan(*replica_pods("web-7d4b9c", 12, image="app:latest"))
    (finding,) = report.findings
    assert (finding.subject.kind, finding.subject.name) == ("Deployment", "web")
    assert finding.evidence["pods"] == 12
    assert "pod-template-hash" in finding.evidence["controller"]


def test_scores_count_workload_groups_not_pods() -> None:
    """A listing of pods alone scores as the full listing does: one bad workload of four."""
    good = [make_deployment(f"ok-{i}", "ml") for i in range(3)]
    pods_only = _scan(*good, *replica_pods("web-7d4b9c", 12, image="app:latest"))
    full = _scan(
        *good,
        make_deployment("web", "ml", replicas=12, containers=[make_container(image="app:latest")]),
    )
    assert [f.subject.name for f in pods_only.findings] == ["web"]
    assert pods_only.scores == full.scores
    assert pods_only.clusters[0].workloads == full.clusters[0].workloads == 4


def test_bare_pods_findings_stay_per_pod() -> None:
    pods = [
        make_pod(f"p{i}", "ml", containers=[make_container(image="app:latest")]) for i in range(3)
    ]
    report = _scan(*pods)
    assert sorted(f.subject.name for f in report.findings) == ["p0", "p1", "p2"]
    assert all("pods" not in f.evidence for f in report.findings)


def test_workload_of_a_pod_object() -> None:
    snap = snapshot_of(*replica_pods("web-7d4b9c", 1))
    pod = snap.pods[0]
    assert isinstance(pod, Pod)
    assert snap.workload_of(pod) is snap.workloads[0]


GPU_MAIN = {"containers": [{"name": "main", "resources": {"limits": {"nvidia.com/gpu": "1"}}}]}


def test_llm_inference_service_pod_specs_each_with_its_role() -> None:
    """KServe's LLMInferenceService keeps pod specs, not pod templates (template, worker, the
    same in prefill, the router's scheduler): each is a template whose path names the pod spec
    itself, with a role when prefill splits serving in two."""
    snap = snapshot_of(
        {
            "apiVersion": "serving.kserve.io/v1alpha2",
            "kind": "LLMInferenceService",
            "metadata": {"name": "qwen", "namespace": "llm", "labels": {"team": "a"}},
            "spec": {
                "model": {"uri": "hf://Qwen/Qwen2.5-7B-Instruct"},
                "replicas": 3,
                "template": GPU_MAIN,
                "worker": GPU_MAIN,
                "prefill": {"replicas": 2, "template": GPU_MAIN},
                "router": {"scheduler": {"template": {"containers": [{"name": "epp"}]}}},
            },
        }
    )
    got = [(t.path, t.role, t.replicas, t.metadata.labels) for t in snap.pod_templates]
    assert got == [
        ("spec.template", "decode", 3, {"team": "a"}),
        ("spec.worker", "decode-worker", 3, {"team": "a"}),
        ("spec.prefill.template", "prefill", 2, {"team": "a"}),
        ("spec.router.scheduler.template", "scheduler", 1, {"team": "a"}),
    ]
    assert snap.template_errors == ()


def test_llm_inference_service_without_prefill_and_with_a_malformed_pod_spec() -> None:
    whole = {"apiVersion": "serving.kserve.io/v1alpha1", "kind": "LLMInferenceService"}
    snap = snapshot_of(
        {**whole, "metadata": {"name": "one"}, "spec": {"template": GPU_MAIN}},
        {**whole, "metadata": {"name": "bad"}, "spec": {"template": 5}},
        {**whole, "metadata": {"name": "worse"}, "spec": {"prefill": "yes"}},
    )
    assert [(t.workload.name, t.path, t.role) for t in snap.pod_templates] == [
        ("one", "spec.template", None)
    ]
    errors = {o.name: message for o, message in snap.template_errors}
    assert "spec.template" in errors["bad"] and "int" in errors["bad"]
    assert "spec.prefill" in errors["worse"] and "str" in errors["worse"]
