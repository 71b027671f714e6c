"""Autoscaler parsing shared by the scaling checks and the conformance pre-check."""

from __future__ import annotations

from typing import Any

import pytest

from plumbob import engine
from plumbob.checks.registry import Registry
from plumbob.checks.scaling.autoscalers import (
    cluster_autoscaler_evidence,
    hpa_metrics,
    keda_metrics,
    kserve_scaler,
    node_autoscaled,
    scalers_of,
)
from plumbob.config import Config
from plumbob.model.objects import GenericObject
from plumbob.report.model import CheckStatus
from tests.conftest import decode, make_container, make_deployment, make_node, snapshot_of


def generic(data: dict[str, Any]) -> GenericObject:
    obj = decode(data)
    assert isinstance(obj, GenericObject)
    return obj


def hpa(api_version: str = "autoscaling/v2", **spec: Any) -> GenericObject:
    return generic(
        {
            "apiVersion": api_version,
            "kind": "HorizontalPodAutoscaler",
            "metadata": {"name": "h", "namespace": "ns"},
            "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "d"}, **spec},
        }
    )


@pytest.mark.parametrize(
    ("obj", "metrics", "resource_only"),
    [
        (hpa("autoscaling/v1", targetCPUUtilizationPercentage=50), ["Resource:cpu"], True),
        (hpa(), ["Resource:cpu"], True),  # v2 without metrics: CPU 80%
        (
            hpa(metrics=[{"type": "Resource", "resource": {"name": "memory"}}]),
            ["Resource:memory"],
            True,
        ),
        (
            hpa(metrics=[{"type": "ContainerResource", "containerResource": {"name": "cpu"}}]),
            ["ContainerResource:cpu"],
            True,
        ),
        (
            hpa(metrics=[{"type": "Pods", "pods": {"metric": {"name": "gpu_util"}}}]),
            ["Pods:gpu_util"],
            False,
        ),
        (
            hpa(
                metrics=[
                    {"type": "External", "external": {"metric": {"name": "queue"}}},
                    {"type": "Resource", "resource": {"name": "cpu"}},
                ]
            ),
            ["External:queue", "Resource:cpu"],
            False,
        ),
        (
            hpa("autoscaling/v2beta1", metrics=[{"type": "Pods", "pods": {"metricName": "rps"}}]),
            ["Pods:rps"],
            False,
        ),
    ],
)
def test_hpa_metrics(obj: GenericObject, metrics: list[str], resource_only: bool) -> None:
    got = hpa_metrics(obj)
    assert [str(m) for m in got] == metrics
    assert all(m.resource_only for m in got) is resource_only


def test_keda_metrics() -> None:
    so = generic(
        {
            "apiVersion": "keda.sh/v1alpha1",
            "kind": "ScaledObject",
            "metadata": {"name": "s"},
            "spec": {
                "scaleTargetRef": {"name": "d"},
                "triggers": [
                    {"type": "cpu", "metadata": {"value": "60"}},
                    {"type": "prometheus", "metadata": {"query": "sum(x)"}},
                ],
            },
        }
    )
    assert [str(m) for m in keda_metrics(so)] == ["Resource:cpu", "prometheus:sum(x)"]


def isvc(annotations: dict[str, str] | None = None, **predictor: Any) -> GenericObject:
    return generic(
        {
            "apiVersion": "serving.kserve.io/v1beta1",
            "kind": "InferenceService",
            "metadata": {"name": "m", "annotations": annotations or {}},
            "spec": {"predictor": {"model": {"modelFormat": {"name": "x"}}, **predictor}},
        }
    )


def test_kserve_modes() -> None:
    serverless = kserve_scaler(isvc())
    assert serverless is not None and serverless.kind == "Knative"
    assert not serverless.resource_only
    raw = kserve_scaler(isvc({"serving.kserve.io/deploymentMode": "RawDeployment"}))
    assert raw is not None and raw.resource_only  # HPA on cpu by default
    keda = kserve_scaler(
        isvc(
            {"serving.kserve.io/autoscalerClass": "keda"},
            autoScaling={
                "metrics": [
                    {
                        "type": "External",
                        "external": {"metric": {"backend": "prometheus", "query": "q"}},
                    }
                ]
            },
        )
    )
    assert keda is not None and not keda.resource_only
    assert kserve_scaler(isvc({"serving.kserve.io/autoscalerClass": "none"})) is None
    assert kserve_scaler(isvc(minReplicas=2, maxReplicas=2)) is None
    cpu = kserve_scaler(isvc(scaleMetric="cpu"))
    assert cpu is not None and cpu.resource_only


def test_scalers_match_namespaceless_manifests() -> None:
    dep = make_deployment("d", containers=[make_container(gpus=1)])
    dep["metadata"].pop("namespace")
    h = {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": "h", "namespace": "default"},
        "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "d"}},
    }
    snap = snapshot_of(dep, h)
    (workload,) = snap.workloads
    assert [s.kind for s in scalers_of(snap, workload)] == ["HPA"]


def test_node_autoscaler_signals() -> None:
    assert node_autoscaled({"karpenter.sh/nodepool": "gpu"}, {})
    assert node_autoscaled({"eks.amazonaws.com/compute-type": "auto"}, {})
    assert node_autoscaled({"cloud.google.com/gke-nodepool": "nap-n1-highmem-4-gpu1"}, {})
    assert node_autoscaled({}, {"cluster-autoscaler.kubernetes.io/scale-down-disabled": "true"})
    assert node_autoscaled({"cloud.google.com/gke-nodepool": "gpu-pool"}, {}) is None
    ca = make_deployment(
        "cluster-autoscaler",
        "kube-system",
        containers=[make_container(image="registry.k8s.io/autoscaling/cluster-autoscaler:v1.31.0")],
    )
    assert cluster_autoscaler_evidence(snapshot_of(ca))
    assert cluster_autoscaler_evidence(snapshot_of(make_node("n"))) is None


def test_forbidden_hpas_are_not_visible_not_a_pass() -> None:
    dep = make_deployment("llm", containers=[make_container(gpus=1)])
    snap = snapshot_of(dep, not_visible={"HorizontalPodAutoscaler": "403 Forbidden"})
    report = engine.run(
        [snap],
        Registry.discover(),
        Config(only=["gpu-inference-no-autoscaler", "gpu-hpa-cpu-only"]),
    )
    assert not report.findings
    assert {r.status for r in report.checks} == {CheckStatus.NOT_VISIBLE}
