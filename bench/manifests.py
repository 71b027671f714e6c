"""Benchmark input for manifest scans: a folder of rendered workload manifests, one object per
file as `helm template --output-dir` writes them: Deployments, StatefulSets, Jobs, PyTorchJobs
and KServe InferenceServices, with and without GPU containers."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import yaml

Obj = dict[str, Any]

_KINDS = ("Deployment", "Deployment", "StatefulSet", "Job", "Job", "PyTorchJob", "InferenceService")
_IMAGES_GPU = (
    "nvcr.io/nvidia/pytorch:24.05-py3",
    "vllm/vllm-openai:v0.6.3",
    "nvcr.io/nvidia/tritonserver:24.08-py3",
    "ghcr.io/org/trainer:latest",
)
_IMAGES_CPU = ("nginx:1.27", "redis:7.4", "ghcr.io/org/api:2.3.1", "python:3.12-slim")


def _container(i: int, gpu: bool, name: str = "main") -> Obj:
    images = _IMAGES_GPU if gpu else _IMAGES_CPU
    limits: Obj = {"cpu": "8" if gpu else "1", "memory": "64Gi" if gpu else "2Gi"}
    if gpu:
        limits["nvidia.com/gpu"] = 1 + i % 4
    return {
        "name": name,
        "image": images[i % len(images)],
        "imagePullPolicy": "IfNotPresent",
        "args": ["--port", "8080", "--log-level", "info"],
        "env": [
            {"name": "LOG_LEVEL", "value": "info"},
            {"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
        ],
        "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"}],
        "resources": {
            "requests": {"cpu": limits["cpu"], "memory": limits["memory"]},
            "limits": limits,
        },
        "readinessProbe": {
            "httpGet": {"path": "/healthz", "port": "http"},
            "initialDelaySeconds": 5,
            "periodSeconds": 10,
        },
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "runAsNonRoot": True,
            "capabilities": {"drop": ["ALL"]},
        },
        "volumeMounts": [{"name": "cache", "mountPath": "/cache"}],
    }


def _pod_spec(i: int, gpu: bool, restart: str = "Always") -> Obj:
    spec: Obj = {
        "serviceAccountName": f"svc-{i % 20}",
        "containers": [_container(i, gpu)],
        "volumes": [{"name": "cache", "emptyDir": {"sizeLimit": "10Gi"}}],
        "nodeSelector": {"kubernetes.io/os": "linux"},
    }
    if restart != "Always":
        spec["restartPolicy"] = restart
    if gpu:
        spec["tolerations"] = [
            {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}
        ]
        if i % 3:
            spec["priorityClassName"] = "gpu-batch"
    return spec


def _template(name: str, spec: Obj) -> Obj:
    return {
        "metadata": {
            "labels": {"app.kubernetes.io/name": name, "app.kubernetes.io/instance": "release"}
        },
        "spec": spec,
    }


def manifest(i: int) -> Obj:
    kind = _KINDS[i % len(_KINDS)]
    gpu = i % 5 in (0, 3)
    name = f"{kind.lower()}-{i}"
    meta = {
        "name": name,
        "namespace": f"team-{i % 25}",
        "labels": {
            "app.kubernetes.io/name": name,
            "app.kubernetes.io/managed-by": "Helm",
            "helm.sh/chart": "platform-1.4.2",
        },
    }
    if kind in ("Deployment", "StatefulSet"):
        spec: Obj = {
            "replicas": 1 + i % 3,
            "selector": {"matchLabels": {"app.kubernetes.io/name": name}},
            "template": _template(name, _pod_spec(i, gpu)),
        }
        if kind == "StatefulSet":
            spec["serviceName"] = name
        return {"apiVersion": "apps/v1", "kind": kind, "metadata": meta, "spec": spec}
    if kind == "Job":
        return {
            "apiVersion": "batch/v1",
            "kind": "Job",
            "metadata": meta,
            "spec": {
                "backoffLimit": 2,
                "parallelism": 1 + i % 2,
                "template": _template(name, _pod_spec(i, gpu, "Never")),
            },
        }
    if kind == "PyTorchJob":

        def replica(count: int) -> Obj:
            return {
                "replicas": count,
                "restartPolicy": "OnFailure",
                "template": _template(name, _pod_spec(i, True, "Never")),
            }

        return {
            "apiVersion": "kubeflow.org/v1",
            "kind": "PyTorchJob",
            "metadata": meta,
            "spec": {"pytorchReplicaSpecs": {"Master": replica(1), "Worker": replica(1 + i % 4)}},
        }
    predictor: Obj = {
        "minReplicas": 1,
        "maxReplicas": 3,
        "model": {
            "modelFormat": {"name": "huggingface"},
            "storageUri": f"s3://models/{name}",
            "resources": _container(i, gpu)["resources"],
        },
    }
    return {
        "apiVersion": "serving.kserve.io/v1beta1",
        "kind": "InferenceService",
        "metadata": meta,
        "spec": {"predictor": predictor},
    }


def write(count: int, folder: Path) -> Path:
    """`count` manifests under `folder` (rewritten when the count differs)."""
    stamp = folder / ".count"
    if stamp.exists() and stamp.read_text() == str(count):
        return folder
    if folder.exists():
        shutil.rmtree(folder)
    for i in range(count):
        obj = manifest(i)
        chart = folder / f"chart-{i // 100}" / "templates"
        chart.mkdir(parents=True, exist_ok=True)
        text = yaml.dump(obj, Dumper=yaml.CSafeDumper, sort_keys=False)
        path = chart / f"{obj['metadata']['name']}.yaml"
        path.write_text(f"---\n# Source: chart-{i // 100}/templates/{path.name}\n{text}")
    stamp.write_text(str(count))
    return folder
