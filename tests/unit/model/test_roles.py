"""Workload roles: each role from the templates that name it, the precedence between signals,
unknown when nothing speaks, and the evidence that says why."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from plumbob.knowledge.workload_roles import role_facts, role_of
from plumbob.model.roles import (
    NOT_A_WORKLOAD,
    Role,
    ServiceIndex,
    WorkloadRole,
    deadline_seconds,
    idle_script,
    script_of,
)
from plumbob.model.snapshot import Snapshot
from plumbob.sources.files import FileSource
from tests.conftest import REAL, decode, make_container, snapshot_of

SERVING, TRAINING, BATCH = WorkloadRole.SERVING, WorkloadRole.TRAINING, WorkloadRole.BATCH
INTERACTIVE, DIAGNOSTIC = WorkloadRole.INTERACTIVE, WorkloadRole.DIAGNOSTIC
SYSTEM, UNKNOWN = WorkloadRole.SYSTEM, WorkloadRole.UNKNOWN


def container(
    image: str, *command: str, args: tuple[str, ...] = (), gpus: int = 1
) -> dict[str, Any]:
    data = make_container("main", image, gpus=gpus)
    if command:
        data["command"] = list(command)
    if args:
        data["args"] = list(args)
    return data


def pod_spec(*containers: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"containers": list(containers), **extra}


def deployment(
    name: str, spec: dict[str, Any], namespace: str = "ml", kind: str = "Deployment"
) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": kind,
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": name}},
            "template": {"metadata": {"labels": {"app": name}}, "spec": spec},
        },
    }


def job(name: str, spec: dict[str, Any], namespace: str = "ml", **job_spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"template": {"spec": {"restartPolicy": "Never", **spec}}, **job_spec},
    }


def service(name: str, selector: dict[str, str] | None, namespace: str = "ml") -> dict[str, Any]:
    spec: dict[str, Any] = {"ports": [{"port": 80}]}
    if selector is not None:
        spec["selector"] = selector
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "namespace": namespace},
        "spec": spec,
    }


def custom(api_version: str, kind: str, name: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": api_version,
        "kind": kind,
        "metadata": {"name": name, "namespace": "ml"},
        "spec": spec,
    }


def roles(*objects: dict[str, Any]) -> dict[str, Role]:
    snap = snapshot_of(*objects)
    return {w.name: role_of(snap, w) for w in snap.workloads}


def role(*objects: dict[str, Any]) -> Role:
    (only,) = roles(*objects).values()
    return only


# ------------------------------------------------------------------ each role


@pytest.mark.parametrize(
    ("obj", "expected", "evidence"),
    [
        pytest.param(
            deployment("llm", pod_spec(container("vllm/vllm-openai:v0.6.3"))),
            SERVING,
            "image vllm/vllm-openai:v0.6.3 is a vLLM server",
            id="vllm-image",
        ),
        pytest.param(
            deployment(
                "llm",
                pod_spec(
                    container(
                        "registry.example/mirror/python:3.12",
                        "python3",
                        "-m",
                        "vllm.entrypoints.openai.api_server",
                    )
                ),
            ),
            SERVING,
            "container main runs vLLM's OpenAI-compatible server",
            id="vllm-entrypoint",
        ),
        pytest.param(
            deployment("tgi", pod_spec(container("nvcr.io/nim/meta/llama-3.1-8b-instruct:1.3"))),
            SERVING,
            "is an NVIDIA NIM inference microservice",
            id="nim-prefix",
        ),
        pytest.param(
            deployment("cpp", pod_spec(container("ghcr.io/ggml-org/llama.cpp:server-cuda"))),
            SERVING,
            "is a llama.cpp server",
            id="llama-cpp-server-tag",
        ),
        pytest.param(
            custom(
                "serving.kserve.io/v1beta1",
                "InferenceService",
                "isvc",
                {"predictor": {"model": {"modelFormat": {"name": "huggingface"}}}},
            ),
            SERVING,
            "kind InferenceService: a KServe InferenceService",
            id="kserve-kind",
        ),
        pytest.param(
            custom(
                "serving.knative.dev/v1",
                "Service",
                "knative",
                {"template": {"spec": pod_spec(container("ghcr.io/acme/app:1"))}},
            ),
            SERVING,
            "a Knative Service",
            id="knative-service-kind",
        ),
        pytest.param(
            custom(
                "kubeflow.org/v1",
                "PyTorchJob",
                "ft",
                {
                    "pytorchReplicaSpecs": {
                        "Worker": {"replicas": 2, "template": {"spec": pod_spec(container("x:1"))}}
                    }
                },
            ),
            TRAINING,
            "kind PyTorchJob: a Kubeflow PyTorchJob",
            id="pytorchjob-kind",
        ),
        pytest.param(
            job("ft", pod_spec(container("ghcr.io/x/trainer:1", "torchrun", "train.py"))),
            TRAINING,
            "container main runs torchrun",
            id="job-torchrun",
        ),
        pytest.param(
            deployment(
                "ds",
                pod_spec(container("ghcr.io/x/t:1", "deepspeed", "--num_gpus=8", "pretrain.py")),
            ),
            TRAINING,
            "runs DeepSpeed",
            id="deployment-deepspeed",
        ),
        pytest.param(
            custom(
                "ray.io/v1",
                "RayJob",
                "rj",
                {
                    "entrypoint": "python /home/ray/samples/train_fashion_mnist.py",
                    "rayClusterSpec": {
                        "headGroupSpec": {
                            "template": {"spec": pod_spec(container("rayproject/ray:2.46.0"))}
                        }
                    },
                },
            ),
            TRAINING,
            "the job entrypoint runs a training script",
            id="rayjob-entrypoint",
        ),
        pytest.param(
            job("etl", pod_spec(container("ghcr.io/x/etl:1", gpus=0))),
            BATCH,
            "kind Job: a Job (runs to completion)",
            id="plain-job",
        ),
        pytest.param(
            {
                "apiVersion": "jobset.x-k8s.io/v1alpha2",
                "kind": "JobSet",
                "metadata": {"name": "embed", "namespace": "ml"},
                "spec": {
                    "replicatedJobs": [
                        {
                            "name": "w",
                            "template": {
                                "spec": {
                                    "template": {
                                        "spec": pod_spec(
                                            container(
                                                "ghcr.io/huggingface/text-embeddings-inference:1.5"
                                            )
                                        )
                                    }
                                }
                            },
                        }
                    ]
                },
            },
            BATCH,
            "kind JobSet runs to completion: batch inference",
            id="server-in-jobset-is-batch-inference",
        ),
        pytest.param(
            custom(
                "kubeflow.org/v1",
                "Notebook",
                "nb",
                {"template": {"spec": pod_spec(container("kubeflownotebookswg/jupyter:v1.9.0"))}},
            ),
            INTERACTIVE,
            "kind Notebook: a Kubeflow Notebook",
            id="notebook-kind",
        ),
        pytest.param(
            deployment("lab", pod_spec(container("quay.io/jupyter/pytorch-notebook:cuda12"))),
            INTERACTIVE,
            "is a Jupyter notebook server",
            id="jupyter-image",
        ),
        pytest.param(
            deployment("burn", pod_spec(container("oguzpastirmaci/gpu-burn:latest"))),
            DIAGNOSTIC,
            "is a gpu-burn stress test",
            id="gpu-burn-image",
        ),
        pytest.param(
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {"name": "smi", "namespace": "ml"},
                "spec": pod_spec(
                    container(
                        "nvidia/cuda:12.9.0-base-ubuntu24.04", "bash", "-c", "nvidia-smi && echo ok"
                    ),
                    restartPolicy="Never",
                ),
            },
            DIAGNOSTIC,
            "its containers only wait or print: `nvidia-smi && echo ok`",
            id="nvidia-smi-pod",
        ),
        pytest.param(
            deployment(
                "box",
                pod_spec(container("nvidia/cuda:12.4.1-devel-ubuntu22.04", "sleep", "infinity")),
                kind="StatefulSet",
            ),
            DIAGNOSTIC,
            "only wait or print: `sleep infinity`",
            id="sleep-infinity",
        ),
        pytest.param(
            job("vec", pod_spec(container("nvcr.io/nvidia/k8s/cuda-sample:vectoradd-cuda11.7.1"))),
            DIAGNOSTIC,
            "is a CUDA sample",
            id="cuda-sample-image",
        ),
        pytest.param(
            {
                "apiVersion": "apps/v1",
                "kind": "DaemonSet",
                "metadata": {"name": "nvidia-device-plugin-daemonset", "namespace": "ops"},
                "spec": {
                    "template": {
                        "spec": pod_spec(
                            container("nvcr.io/nvidia/k8s-device-plugin:v0.17.0", gpus=0)
                        )
                    }
                },
            },
            SYSTEM,
            "is part of",
            id="device-plugin",
        ),
        pytest.param(
            deployment(
                "coredns",
                pod_spec(container("registry.k8s.io/coredns:1.11", gpus=0)),
                "kube-system",
            ),
            SYSTEM,
            "namespace kube-system belongs to the platform",
            id="kube-system",
        ),
    ],
)
def test_each_role(obj: dict[str, Any], expected: WorkloadRole, evidence: str) -> None:
    found = role(obj)
    assert found.role == expected, found
    assert any(evidence in e for e in found.evidence), found.evidence


def test_unknown_says_what_was_seen() -> None:
    found = role(deployment("sdxl", pod_spec(container("ghcr.io/acme-ai/sdxl-server:0.9.3"))))
    assert found.role == UNKNOWN
    assert found.evidence == (
        "kind Deployment, no Service selects its pods",
        "ghcr.io/acme-ai/sdxl-server:0.9.3: no known server, trainer, notebook or test image or "
        "command",
    )


# ------------------------------------------------------------------ precedence


def test_service_makes_a_deployment_serving_but_not_a_job() -> None:
    found = roles(
        deployment("sdxl", pod_spec(container("ghcr.io/acme-ai/sdxl-server:0.9.3"))),
        service("sdxl", {"app": "sdxl"}),
        job("rendezvous", {**pod_spec(container("ghcr.io/acme/x:1")), "hostname": "x"}),
        service("rendezvous", {"job-name": "rendezvous"}),
    )
    assert found["sdxl"] == Role(SERVING, ("Service ml/sdxl selects its pods",))
    assert found["rendezvous"].role == BATCH


def test_service_selector_must_match_every_pair_in_the_same_namespace() -> None:
    found = roles(
        deployment("a", pod_spec(container("ghcr.io/acme/a:1"))),
        service("wider", {"app": "a", "tier": "gpu"}),
        service("elsewhere", {"app": "a"}, namespace="other"),
        service("headless-no-selector", None),
    )
    assert found["a"].role == UNKNOWN


def test_diagnostic_command_beats_the_kind() -> None:
    """An NCCL benchmark submitted as an MPIJob is a test, not training."""
    mpijob = custom(
        "kubeflow.org/v2beta1",
        "MPIJob",
        "nccl",
        {
            "mpiReplicaSpecs": {
                "Launcher": {
                    "template": {
                        "spec": pod_spec(
                            container("nccl:1", "mpirun", "-np", "16", "all_reduce_perf", gpus=0)
                        )
                    }
                },
                "Worker": {
                    "replicas": 2,
                    "template": {"spec": pod_spec(container("nccl:1", "/usr/sbin/sshd", "-De"))},
                },
            }
        },
    )
    found = role(mpijob)
    assert found.role == DIAGNOSTIC
    assert "runs an NCCL benchmark (nccl-tests): `all_reduce_perf`" in found.evidence[0]
    assert "kind MPIJob: a Kubeflow MPIJob" not in found.evidence  # it does not agree


def test_diagnostic_command_beats_a_server_image() -> None:
    found = role(
        deployment(
            "bench",
            pod_spec(
                container("vllm/vllm-openai:v0.11.0", "vllm", "bench", "serve", "--model", "m")
            ),
        )
    )
    assert found.role == DIAGNOSTIC
    assert "a vLLM benchmark" in found.evidence[0]


def test_kind_beats_entrypoint() -> None:
    lws = custom(
        "leaderworkerset.x-k8s.io/v1",
        "LeaderWorkerSet",
        "lws",
        {
            "leaderWorkerTemplate": {
                "size": 2,
                "workerTemplate": {"spec": pod_spec(container("x:1", "torchrun", "serve.py"))},
            }
        },
    )
    assert role(lws).role == SERVING


def test_entrypoint_beats_image() -> None:
    found = role(
        job("ft", pod_spec(container("vllm/vllm-openai:v0.6.3", "accelerate", "launch", "ft.py")))
    )
    assert found.role == TRAINING
    assert found.evidence[0].startswith("container main runs accelerate launch")


def test_image_beats_namespace_and_namespace_beats_service() -> None:
    found = roles(
        deployment("vllm", pod_spec(container("vllm/vllm-openai:v0.6.3")), "kube-system"),
        deployment(
            "dns", pod_spec(container("registry.k8s.io/coredns:1.11", gpus=0)), "kube-system"
        ),
        service("dns", {"app": "dns"}, namespace="kube-system"),
    )
    assert found["vllm"].role == SERVING
    assert found["dns"].role == SYSTEM
    assert found["dns"].evidence == ("namespace kube-system belongs to the platform",)


def test_idle_means_every_container_idles() -> None:
    """A sleeping sidecar does not make a model server a diagnostic."""
    spec = pod_spec(
        container("vllm/vllm-openai:v0.6.3"),
        {**container("busybox:1.36", "sleep", "infinity", gpus=0), "name": "sidecar"},
    )
    assert role(deployment("llm", spec)).role == SERVING


def test_owned_pod_takes_its_absent_controllers_kind() -> None:
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": "ft-worker-0",
            "namespace": "ml",
            "ownerReferences": [
                {
                    "apiVersion": "kubeflow.org/v1",
                    "kind": "PyTorchJob",
                    "name": "ft",
                    "controller": True,
                }
            ],
        },
        "spec": pod_spec(container("ghcr.io/x/t:1")),
    }
    found = role(pod)
    assert found == Role(
        TRAINING, ("owned by PyTorchJob ft (not in this input): a Kubeflow PyTorchJob",)
    )


def test_core_service_is_not_a_workload_and_knative_service_is() -> None:
    snap = snapshot_of(
        service("web", {"app": "web"}),
        custom(
            "serving.knative.dev/v1",
            "Service",
            "kn",
            {"template": {"spec": pod_spec(container("x:1"))}},
        ),
    )
    assert [w.kind for w in snap.workloads] == ["Service"]
    assert snap.workloads[0].group == "serving.knative.dev"
    assert snap.objects("Service")[0].name == "web"


def test_classified_once_per_snapshot() -> None:
    snap = snapshot_of(deployment("llm", pod_spec(container("vllm/vllm-openai:v0.6.3"))))
    index = snap.roles(role_facts())
    (llm,) = snap.workloads
    assert snap.roles(role_facts()) is index
    assert snap.role_of(llm, role_facts()) is snap.role_of(llm, role_facts())
    assert snap.role_of(decode(service("x", {})), role_facts()) == NOT_A_WORKLOAD


# ------------------------------------------------------------------ commands and run time


@pytest.mark.parametrize(
    ("command", "script"),
    [
        (([], []), None),
        ((["sleep", "infinity"], []), "sleep infinity"),
        (
            (["/bin/sh", "-lc"], ["while :; do /app/gpu_burn 300; done"]),
            "while :; do /app/gpu_burn 300; done",
        ),
        ((["bash", "-c", "nvidia-smi && echo ok"], []), "nvidia-smi && echo ok"),
        (([], ["--model", "m"]), "--model m"),
    ],
)
def test_script_of(command: tuple[list[str], list[str]], script: str | None) -> None:
    data = {"name": "c", "command": command[0], "args": command[1]}
    obj = decode(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "p"},
            "spec": {"containers": [data]},
        }
    )
    assert script_of(obj.spec.containers[0]) == script  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("script", "idle"),
    [
        ("sleep infinity", True),
        ("sleep 3600", True),
        ("nvidia-smi && echo 'Gang worker 0 completed successfully'", True),
        ("ls /dev/nvidia* && echo 'DRA GPU allocation successful'", True),
        ("trap 'exit 0' TERM; sleep infinity & wait", True),
        ("while true; do sleep 30; done", True),
        ("tail -f /dev/null", True),
        ("tail -f /var/log/train.log", False),
        ("env FOO=1 sleep 10", True),
        ("env FOO=1 python train.py", False),
        ("nvidia-smi; torchrun train.py", False),
        ("sleep 10; mpiexec -np 2 python /tmp/gpu-test.py; sleep 3600", False),
        ("", False),
    ],
)
def test_idle_script(script: str, idle: bool) -> None:
    assert idle_script(script, role_facts().idle) is idle


def test_deadlines() -> None:
    snap = snapshot_of(
        job("short", pod_spec(container("x:1")), activeDeadlineSeconds=600),
        job("pod-level", pod_spec(container("x:1"), activeDeadlineSeconds=120)),
        job("open", pod_spec(container("x:1"))),
        custom(
            "kubeflow.org/v1",
            "PyTorchJob",
            "ft",
            {
                "runPolicy": {"activeDeadlineSeconds": 7200},
                "pytorchReplicaSpecs": {
                    "Worker": {"template": {"spec": pod_spec(container("x:1"))}}
                },
            },
        ),
    )
    deadlines = {
        w.name: deadline_seconds(w, snap.templates_by_workload[id(w)]) for w in snap.workloads
    }
    assert deadlines == {"short": 600, "pod-level": 120, "open": None, "ft": 7200}


def test_service_index_looks_up_by_selector_pair() -> None:
    index = ServiceIndex(
        [decode(service("s", {"app": "a", "tier": "gpu"})), decode(service("n", None))]
    )
    assert [s.name for s in index.selecting("ml", {"app": "a", "tier": "gpu", "x": "y"})] == ["s"]
    assert index.selecting("ml", {"app": "a"}) == []
    assert index.selecting("other", {"app": "a", "tier": "gpu"}) == []


# ------------------------------------------------------------------ real manifests

REAL_ROLES = [
    ("workloads/kserve-isvc-tensorflow-gpu.yaml", "tensorflow-gpu", SERVING),
    ("workloads/gke-lws-vllm-llama3-405b-a3.yaml", "vllm", SERVING),
    ("workloads/gke-triton-deployment-l4.yaml", "triton-deployment", SERVING),
    ("workloads/hf-gke-tgi-deployment.yaml", "tgi-deployment", SERVING),
    ("workloads/llm-d-async-vllm-qwen3-8b-deployment.yaml", "vllm", SERVING),
    ("workloads/kuberay-rayservice-llm-serve.yaml", "ray-serve-llm", SERVING),
    ("workloads/kubeflow-pytorchjob-deepspeed.yaml", "pytorch-deepspeed-demo", TRAINING),
    ("workloads/kubeflow-tfjob-dist-mnist.yaml", "dist-mnist-for-e2e-test", TRAINING),
    ("workloads/volcano-job-mindspore-gpu.yaml", "mindspore-gpu", TRAINING),
    ("workloads/kuberay-rayjob-pytorch-gpu.yaml", "pytorch-text-classifier-", TRAINING),
    ("workloads/nvidia-aicr-hpa-gpu-utilization-test.yaml", "gpu-workload", DIAGNOSTIC),
    ("workloads/kueue-hami-clusterqueue-gpuburn.yaml", "gpu-burn", DIAGNOSTIC),
    ("workloads/nvidia-aicr-kai-podgroup-gang-test.yaml", "gang-worker-0", DIAGNOSTIC),
    ("workloads/nvidia-aicr-dra-resourceclaim-gpu-test.yaml", "dra-gpu-test", DIAGNOSTIC),
    ("workloads/onizuka-ubuntu-gpu-pod.yaml", "ubuntu", DIAGNOSTIC),
    ("workloads/dcgm-exporter-daemonset.yaml", "dcgm-exporter", SYSTEM),
    ("workloads/aks-nvidia-device-plugin-ds.yaml", "nvidia-device-plugin-daemonset", SYSTEM),
    ("workloads/kuberay-raycluster-verl-4gpu.yaml", "verl-cluster", UNKNOWN),
]


@pytest.mark.parametrize(("path", "name", "expected"), REAL_ROLES, ids=lambda v: str(v))
def test_real_manifests(path: str, name: str, expected: WorkloadRole) -> None:
    target = REAL / path
    if not target.exists():
        pytest.skip(f"real fixture {target} absent")
    snap: Snapshot = FileSource((Path(target),), cluster="real").load().snapshots[0]
    found = {w.name: role_of(snap, w) for w in snap.workloads}
    assert found[name].role == expected, found[name]
    assert found[name].evidence
