"""Helpers of the checkpoint, serving, sharing and scheduling checks: how they read command
lines, restart policies, device-plugin configs and Karpenter NodePools, and that malformed
objects are read as not there rather than raising."""

from __future__ import annotations

from typing import Any

import pytest

from plumbob.checks.gpu.gpu_sharing_config_unsafe import _problems, plugin_configs
from plumbob.checks.resilience.checkpoints import (
    Storage,
    checkpoint_paths,
    restarts_on_failure,
)
from plumbob.checks.resilience.gpu_serving_no_shm_volume import shards
from plumbob.checks.scaling.provisioning import karpenter_pools, pool_rejects, verdicts
from plumbob.knowledge.provisioning import karpenter_facts
from plumbob.model.objects import Container, EnvVar, PodSpec, Toleration
from tests.conftest import snapshot_of


def _job(container: dict[str, Any], **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "train", "namespace": "ml"},
        "spec": {
            **spec,
            "template": {
                "spec": {
                    "restartPolicy": spec.pop("restartPolicy", "Never"),
                    "volumes": [
                        {"name": "scratch", "emptyDir": {}},
                        {"name": "ckpt", "persistentVolumeClaim": {"claimName": "c"}},
                        {"name": "host", "hostPath": {"path": "/mnt"}},
                    ],
                    "containers": [
                        {
                            "name": "t",
                            "image": "pytorch/pytorch:2.5.1",
                            "volumeMounts": [
                                {"name": "scratch", "mountPath": "/scratch"},
                                {"name": "ckpt", "mountPath": "/ckpt"},
                                {"name": "ckpt", "mountPath": "/ckpt/deep/other"},
                                {"name": "host", "mountPath": "/mnt/data/"},
                            ],
                            "resources": {"limits": {"nvidia.com/gpu": 1}},
                            **container,
                        }
                    ],
                }
            },
        },
    }


@pytest.mark.parametrize(
    ("container", "expected"),
    [
        ({"args": ["--output_dir=/tmp/x"]}, [("--output_dir", "/tmp/x", Storage.CONTAINER)]),
        ({"args": ["--save-dir", "/scratch/run"]}, [("--save-dir", "/scratch/run", Storage.POD)]),
        (
            {"args": ["--checkpoint_dir", "/ckpt"]},
            [("--checkpoint_dir", "/ckpt", Storage.PERSISTENT)],
        ),
        ({"args": ["--save", "/mnt/data/m"]}, [("--save", "/mnt/data/m", Storage.NODE)]),
        ({"args": ["--output_dir=s3://b/run"]}, [("--output_dir", "s3://b/run", Storage.REMOTE)]),
        ({"args": ["--output_dir", "./out"]}, []),  # relative: where it lands is unknown
        ({"args": ["--output_dir"]}, []),  # no value
        ({"args": ["--output_dir={{ .Values.dir }}"]}, []),  # unrendered
        (
            {"command": ["sh", "-c", "python train.py --ckpt_dir '/scratch/a b' && echo done"]},
            [("--ckpt_dir", "/scratch/a b", Storage.POD)],
        ),
        (
            {
                "env": [
                    {"name": "RUN", "value": "7"},
                    {"name": "OUTPUT_DIR", "value": "/tmp/$(RUN)"},
                ]
            },
            [("env OUTPUT_DIR", "/tmp/7", Storage.CONTAINER)],
        ),
        (
            {"env": [{"name": "OUTPUT_DIR", "valueFrom": {"secretKeyRef": {"name": "s"}}}]},
            [],
        ),
        ({"command": ["sh", "-c", "train --output_dir 'unbalanced"]}, []),
    ],
)
def test_checkpoint_paths(
    container: dict[str, Any], expected: list[tuple[str, str, Storage]]
) -> None:
    snap = snapshot_of(_job(container))
    (template,) = snap.pod_templates
    assert [(p.given, p.path, p.storage) for p in checkpoint_paths(template)] == expected


@pytest.mark.parametrize(
    ("spec", "restarts"),
    [
        ({}, True),  # backoffLimit defaults to 6: failed pods are replaced
        ({"backoffLimit": 0}, False),
        ({"backoffLimit": 0, "restartPolicy": "OnFailure"}, True),
    ],
)
def test_job_restarts(spec: dict[str, Any], restarts: bool) -> None:
    snap = snapshot_of(_job({}, **spec))
    (template,) = snap.pod_templates
    assert (restarts_on_failure(template.workload, template) is not None) is restarts


def test_kubeflow_replica_restart_policy_default_and_never() -> None:
    def job(policy: str | None) -> dict[str, Any]:
        replica: dict[str, Any] = {
            "replicas": 1,
            "template": {"spec": {"containers": [{"name": "p", "image": "x:1"}]}},
        }
        if policy:
            replica["restartPolicy"] = policy
        return {
            "apiVersion": "kubeflow.org/v1",
            "kind": "PyTorchJob",
            "metadata": {"name": "j"},
            "spec": {"pytorchReplicaSpecs": {"Worker": replica}},
        }

    for policy, expected in ((None, True), ("Never", False), ("ExitCode", True)):
        (template,) = snapshot_of(job(policy)).pod_templates
        assert (restarts_on_failure(template.workload, template) is not None) is expected


@pytest.mark.parametrize(
    ("args", "env", "expected"),
    [
        (["--tensor-parallel-size", "4"], [], ("--tensor-parallel-size", 4)),
        (["-tp=2"], [], ("--tensor-parallel-size", 2)),
        (["--tp", "8"], [], ("--tensor-parallel-size", 8)),
        (["--tensor-parallel-size", "1"], [], None),
        (["--tensor-parallel-size", "$(TP)"], [], None),
        ([], [EnvVar(name="NUM_SHARD", value="2")], ("env NUM_SHARD", 2)),
        ([], [EnvVar(name="NUM_SHARD", value="two")], None),
    ],
)
def test_shards(args: list[str], env: list[EnvVar], expected: tuple[str, int] | None) -> None:
    assert shards(Container(name="s", args=args, env=env)) == expected


def _config_map(data: Any) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "cfg", "namespace": "gpu-operator"},
        "data": data,
    }


def test_plugin_configs_skip_what_is_not_one() -> None:
    snap = snapshot_of(
        _config_map(
            {
                "broken": "version: v1\nsharing: [unclosed",
                "other": "version: v2\nsharing: {}",
                "list": "- version: v1",
                "plain": "hello",
                "ok": "version: v1\nsharing:\n  mps:\n    resources: [{name: nvidia.com/gpu}]",
            }
        ),
        _config_map(["not", "a", "mapping"]),
    )
    assert [c.key for c in plugin_configs(snap)] == ["ok"]


def test_sharing_problems_for_odd_shapes() -> None:
    assert _problems({"version": "v1", "sharing": {"timeSlicing": "yes"}}) == []
    assert (
        _problems(
            {
                "version": "v1",
                "sharing": {"timeSlicing": {"resources": [{"name": "x", "replicas": True}]}},
            }
        )
        == []
    )
    one = {"resources": [{"name": "nvidia.com/gpu", "replicas": 1}]}
    assert _problems({"version": "v1", "sharing": {"timeSlicing": one}}) == []
    mig = {
        "renameByDefault": True,
        "failRequestsGreaterThanOne": True,
        "resources": [{"name": "nvidia.com/mig-1g.10gb", "replicas": 2}],
    }
    found = _problems(
        {"version": "v1", "flags": {"migStrategy": "single"}, "sharing": {"timeSlicing": mig}}
    )
    assert len(found) == 1 and "only the mixed strategy" in found[0]
    assert (
        _problems(
            {"version": "v1", "flags": {"migStrategy": "mixed"}, "sharing": {"timeSlicing": mig}}
        )
        == []
    )


def _nodepool(spec: Any, kind: str = "NodePool", api: str = "karpenter.sh/v1") -> dict[str, Any]:
    return {"apiVersion": api, "kind": kind, "metadata": {"name": "p"}, "spec": spec}


@pytest.mark.parametrize(
    ("requirements", "gpu"),
    [
        (
            [
                {
                    "key": "karpenter.k8s.aws/instance-category",
                    "operator": "In",
                    "values": ["c", "m"],
                }
            ],
            False,
        ),
        ([{"key": "karpenter.k8s.aws/instance-category", "operator": "In", "values": ["g"]}], True),
        (
            [
                {
                    "key": "karpenter.k8s.aws/instance-category",
                    "operator": "NotIn",
                    "values": ["g", "p"],
                }
            ],
            False,
        ),
        (
            [
                {
                    "key": "node.kubernetes.io/instance-type",
                    "operator": "In",
                    "values": ["m7g.large"],
                }
            ],
            False,
        ),
        (
            [
                {
                    "key": "node.kubernetes.io/instance-type",
                    "operator": "In",
                    "values": ["p5.48xlarge"],
                }
            ],
            True,
        ),
        ([{"key": "karpenter.k8s.aws/instance-gpu-count", "operator": "DoesNotExist"}], False),
        ([{"key": "kubernetes.io/arch", "operator": "In", "values": ["amd64"]}], None),
        ("not a list", None),
    ],
)
def test_nodepool_gpu_capability(requirements: Any, gpu: bool | None) -> None:
    snap = snapshot_of(_nodepool({"template": {"spec": {"requirements": requirements}}}))
    (pool,) = karpenter_pools(snap)
    assert pool.gpu is gpu


def test_malformed_nodepools_are_read_as_empty() -> None:
    snap = snapshot_of(
        _nodepool("a string"),
        _nodepool(
            {"template": {"metadata": {"labels": ["x"]}, "spec": {"taints": [{"effect": "X"}]}}}
        ),
        _nodepool(
            {"labels": {"team": "a"}, "limits": {"resources": {"nvidia.com/gpu": "0"}}},
            "Provisioner",
            "karpenter.sh/v1alpha5",
        ),
    )
    pools = karpenter_pools(snap)
    assert [p.taints for p in pools] == [(), (), ()]
    assert pools[2].labels == {"team": "a", "karpenter.sh/provisioner-name": "p"}
    spec = PodSpec(tolerations=[Toleration(operator="Exists")])
    assert (
        pool_rejects(pools[2], spec, {"nvidia.com/gpu": 1.0}) == "its limits allow 0 nvidia.com/gpu"
    )
    assert pool_rejects(pools[0], spec, {"nvidia.com/mig-1g.10gb": 1.0}) is not None


def test_a_pool_is_judged_on_labels_before_taints() -> None:
    """A pod whose nodeSelector no pool can satisfy is a label problem for every pool, also
    for a tainted pool it does not tolerate: otherwise a second, tainted NodePool would turn a
    selector no node can match into a missing toleration (found on the demo fleet)."""
    snap = snapshot_of(
        _nodepool({"template": {"spec": {"taints": [{"key": "team", "effect": "NoSchedule"}]}}})
    )
    (pool,) = karpenter_pools(snap)
    spec = PodSpec(node_selector={"cloud.google.com/gke-accelerator": "nvidia-l4"})
    reason = pool_rejects(pool, spec, {"nvidia.com/gpu": 1.0})
    assert reason is not None and reason.startswith("nodeSelector cloud.google.com/gke-accelerator")
    assert pool_rejects(pool, PodSpec(), {"nvidia.com/gpu": 1.0}) == (
        "did not tolerate taint team:NoSchedule"
    )


def test_karpenter_knows_well_known_labels_only() -> None:
    facts = karpenter_facts()
    assert facts.knows("karpenter.k8s.aws/instance-gpu-name")
    assert facts.knows("topology.kubernetes.io/zone")
    assert not facts.knows("nvidia.com/gpu.product")


def test_verdicts_leave_out_daemonsets_bound_pods_and_idle_workloads() -> None:
    gpu = {"resources": {"limits": {"nvidia.com/gpu": 1}}}
    template = {"spec": {"containers": [{"name": "c", "image": "x:1", **gpu}]}}
    snap = snapshot_of(
        {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n"}},
        {
            "apiVersion": "apps/v1",
            "kind": "DaemonSet",
            "metadata": {"name": "ds"},
            "spec": {"template": template},
        },
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "zero"},
            "spec": {"replicas": 0, "template": template},
        },
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "bound"},
            "spec": {"nodeName": "n", **template["spec"]},
        },
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "web"},
            "spec": {"template": template},
        },
    )
    assert sorted(v.template.workload.name for v in verdicts(snap).values()) == ["web"]
