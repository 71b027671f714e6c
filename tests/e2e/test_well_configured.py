"""The well-configured GPU cluster (tests/fixtures/well-configured) end to end.

Issue 4's verification: a clean, well-configured cluster produces no high or critical finding.
To keep "clean" from meaning "the checks saw nothing", the scan must show the GPU inventory and
every check running, and for every check one defect planted into the same cluster must make that
check fire (`MUTATIONS`, which has to name every registered check).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from plumbob import engine
from plumbob.checks.registry import Registry
from plumbob.cli import app
from plumbob.config import Config
from plumbob.drift.assessed import FLEET_IDS
from plumbob.model.metrics import GpuMetrics, GpuUsage
from plumbob.model.snapshot import Snapshot
from plumbob.report.model import CheckStatus, Level, Report, Severity
from tests.conftest import snapshot_of

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "well-configured"
REGISTRY = Registry.discover()
TODAY = "2026-12-01"
"""kubernetes-version-eol judges support windows on this day (1.35 is supported until 2027-02)."""
OPTIONS = {"kubernetes-version-eol": {"today": TODAY}}

ACCEPTED = {("image-large-gpu", "Deployment/ml-serving/qwen25-32b-instruct")}
"""Findings that are true on this cluster: the vLLM image is 12.4 GB (medium)."""
NEEDS_METRICS = {"gpu-allocated-idle", "gpu-low-utilization"}
"""Checks that read DCGM utilisation, which manifests cannot carry."""

H100_NODE = "ip-10-42-131-27.us-west-2.compute.internal"
L40S_NODES = (
    "ip-10-42-88-14.us-west-2.compute.internal",
    "ip-10-42-97-152.us-west-2.compute.internal",
)

Doc = dict[str, Any]


def _docs() -> list[Doc]:
    out: list[Doc] = []
    for path in sorted(FIXTURE.glob("*.yaml")):
        out += [d for d in yaml.safe_load_all(path.read_text()) if d]
    return out


DOCS = _docs()


def subject_key(check: str, kind: str, namespace: str | None, name: str) -> tuple[str, str]:
    return check, f"{kind}/{namespace or ''}/{name}"


def _key(finding: Any) -> tuple[str, str]:
    s = finding.subject
    return subject_key(finding.check, s.kind, s.namespace, s.name)


def busy_metrics(snap: Snapshot, util: float = 85.0) -> GpuMetrics:
    """DCGM utilisation as Prometheus would report it for a busy cluster: every GPU pod busy."""
    by_pod = {
        f"{p.namespace}/{p.name}": GpuUsage(
            gpus=int(
                sum(float(c.resources.limits.get("nvidia.com/gpu", 0)) for c in p.spec.containers)
            ),
            util_percent=util,
            max_util_percent=min(100.0, util + 8),
            memory_used_mib=41000.0,
        )
        for p in snap.pods
        if any("nvidia.com/gpu" in c.resources.limits for c in p.spec.containers)
    }
    return GpuMetrics(
        source="http://prometheus-operated.monitoring.svc:9090", window="24h", by_pod=by_pod
    )


# ------------------------------------------------------------------ the clean scan


@pytest.fixture(scope="module")
def cli_report(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("well-configured")
    config = tmp / "plumbob.yaml"
    config.write_text(yaml.safe_dump({"options": OPTIONS}))
    out = tmp / "report.json"
    result = CliRunner().invoke(
        app,
        [
            "scan",
            str(FIXTURE),
            "--complete",  # the folder declares the whole cluster
            "-q",
            "--config",
            str(config),
            "--fail-on",
            "high",
            "--format",
            "json",
            "--output",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output  # --fail-on high: nothing high or critical
    data: dict[str, Any] = json.loads(out.read_text())
    return data


def test_no_high_or_critical_findings(cli_report: dict[str, Any]) -> None:
    severe = [f for f in cli_report["findings"] if f["severity"] in ("critical", "high")]
    assert severe == []
    found = {
        subject_key(f["check"], s["kind"], s.get("namespace"), s["name"])
        for f in cli_report["findings"]
        for s in [f["subject"]]
    }
    assert found == ACCEPTED


def test_input_read_cleanly(cli_report: dict[str, Any]) -> None:
    assert [d for d in cli_report["diagnostics"] if d["level"] != "info"] == []
    inputs = cli_report["inputs"]
    assert inputs["files"] == inputs["read"] + 1
    (readme,) = inputs["unread"]  # named as not read, not skipped without a word
    assert readme["path"].endswith("README.md") and "documentation" in readme["reason"]
    assert cli_report["notVisible"] == [
        {
            "cluster": "well-configured",
            "reason": "GpuMetrics: no GPU utilisation metrics: scan with --prometheus URL "
            "(DCGM exporter)",
            "checks": sorted(NEEDS_METRICS),
        }
    ]


def test_gpu_inventory_seen(cli_report: dict[str, Any]) -> None:
    (inv,) = cli_report["clusters"]
    assert inv["nodes"] == 6 and inv["gpuNodes"] == 4
    assert inv["gpusAllocatable"] == 24 and inv["gpusRequested"] == 24
    assert inv["gpuModels"] == {"NVIDIA-H100-80GB-HBM3": 16, "NVIDIA-L40S": 8}
    assert inv["gpuWorkloads"] == 2 and inv["workloads"] >= 30
    pools = {p["name"]: p for p in inv["pools"]}
    assert pools["gpu-training"]["gpusRequested"] == 16
    assert pools["gpu-inference"]["gpusRequested"] == 8
    assert not inv.get("notVisible")


def test_every_check_ran(cli_report: dict[str, Any]) -> None:
    runs = {r["check"]: r for r in cli_report["checks"] if not r["check"].startswith("drift:")}
    assert set(runs) == {c.id for c in REGISTRY}
    drift = {r["check"]: r["status"] for r in cli_report["checks"] if r["check"] not in runs}
    assert set(drift) == set(FLEET_IDS) and set(drift.values()) == {"passed"}  # compared
    not_run = {c for c, r in runs.items() if r["status"] not in ("passed", "failed")}
    assert not_run == NEEDS_METRICS  # no Prometheus URL: honestly "not visible"
    passed = [c for c, r in runs.items() if r["status"] == "passed"]
    assert len(passed) == len(REGISTRY) - len(NEEDS_METRICS) - len(ACCEPTED)
    gpu = [c.id for c in REGISTRY if c.category == "gpu"]
    assert all(runs[c]["status"] == "passed" for c in gpu)


def test_cost_section_prices_every_gpu(cli_report: dict[str, Any]) -> None:
    cost = cli_report["sections"]["gpu-cost"]
    (cluster,) = cost["clusters"]
    assert cluster["gpus"] == 24 and cluster["idle"] == 0 and cost["idle_monthly_cost"] == 0
    assert {p["product"] for p in cluster["pools"]} == {"NVIDIA-H100-80GB-HBM3", "NVIDIA-L40S"}
    assert all(p["usd_per_gpu_hour"] for p in cluster["pools"])


@pytest.fixture(scope="module")
def snapshot() -> Snapshot:
    return snapshot_of(*DOCS, cluster="well-configured")


def run(snap: Snapshot, only: list[str] | None = None) -> Report:
    config = Config(only=only or [], options=OPTIONS)
    return engine.run([snap], REGISTRY, config)


def test_with_gpu_metrics_every_check_runs_and_passes(snapshot: Snapshot) -> None:
    report = run(snapshot.with_gpu_metrics(busy_metrics(snapshot)))
    statuses = {r.check: r.status for r in report.checks}
    assert all(s in (CheckStatus.PASSED, CheckStatus.FAILED) for s in statuses.values()), statuses
    assert {_key(f) for f in report.findings} == ACCEPTED
    assert not [d for d in report.diagnostics if d.level == Level.ERROR]
    assert report.worst() == Severity.MEDIUM


# ------------------------------------------------------------------ one defect per check


def find(docs: list[Doc], kind: str, name: str) -> Doc:
    for d in docs:
        if d.get("kind") == kind and d["metadata"]["name"] == name:
            return d
    raise KeyError(f"{kind}/{name} not in the fixture")


def drop(docs: list[Doc], test: Callable[[Doc], bool]) -> None:
    docs[:] = [d for d in docs if not test(d)]


def pods_of(docs: list[Doc], prefix: str) -> Iterator[Doc]:
    return (d for d in docs if d["kind"] == "Pod" and d["metadata"]["name"].startswith(prefix))


def vllm(docs: list[Doc]) -> Doc:
    """The vLLM container of the inference Deployment (and of its ReplicaSet and pods)."""
    return find(docs, "Deployment", "qwen25-32b-instruct")["spec"]["template"]["spec"][
        "containers"
    ][0]


def serving_templates(docs: list[Doc]) -> Iterator[Doc]:
    """Pod specs of the inference Deployment, its ReplicaSet and its pods, kept in step."""
    for d in docs:
        name = d["metadata"]["name"]
        if not name.startswith("qwen25-32b-instruct"):
            continue
        if d["kind"] in ("Deployment", "ReplicaSet"):
            yield d["spec"]["template"]["spec"]
        elif d["kind"] == "Pod":
            yield d["spec"]


def training_templates(docs: list[Doc]) -> Iterator[Doc]:
    job = find(docs, "PyTorchJob", "llama31-8b-sft")
    for spec in job["spec"]["pytorchReplicaSpecs"].values():
        yield spec["template"]["spec"]
    for pod in pods_of(docs, "llama31-8b-sft-"):
        yield pod["spec"]


def node(docs: list[Doc], name: str = H100_NODE) -> Doc:
    return find(docs, "Node", name)


def set_labels(docs: list[Doc], names: tuple[str, ...], labels: dict[str, str]) -> None:
    for name in names:
        node(docs, name)["metadata"]["labels"].update(labels)


def m_untainted(docs: list[Doc]) -> None:
    del node(docs)["spec"]["taints"]


def m_cpu_pod_on_gpu_node(docs: list[Doc]) -> None:
    pod = next(pods_of(docs, "coredns-"))
    pod["spec"]["nodeName"] = L40S_NODES[0]


def m_not_allocatable(docs: list[Doc]) -> None:
    status = node(docs)["status"]
    status["allocatable"]["nvidia.com/gpu"] = "0"
    status["capacity"]["nvidia.com/gpu"] = "0"


def m_no_device_plugin(docs: list[Doc]) -> None:
    drop(docs, lambda d: d["metadata"]["name"].startswith("nvidia-device-plugin-daemonset"))


def m_request_without_limit(docs: list[Doc]) -> None:
    for spec in serving_templates(docs):
        del spec["containers"][0]["resources"]["limits"]["nvidia.com/gpu"]


def m_no_quota(docs: list[Doc]) -> None:
    drop(
        docs, lambda d: d["kind"] == "ResourceQuota" and d["metadata"]["namespace"] == "ml-serving"
    )


def m_tolerates_gpu(docs: list[Doc]) -> None:
    spec = find(docs, "Deployment", "velero")["spec"]["template"]["spec"]
    spec["tolerations"] = [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]


def m_no_queue(docs: list[Doc]) -> None:
    del find(docs, "PyTorchJob", "llama31-8b-sft")["metadata"]["labels"][
        "kueue.x-k8s.io/queue-name"
    ]


def m_queue_annotation(docs: list[Doc]) -> None:
    metadata = find(docs, "PyTorchJob", "llama31-8b-sft")["metadata"]
    queue = metadata["labels"].pop("kueue.x-k8s.io/queue-name")
    metadata.setdefault("annotations", {})["kueue.x-k8s.io/queue-name"] = queue


def m_role_unknown(docs: list[Doc]) -> None:
    """The model server under an in-house image name and without its Service: nothing says it
    serves."""
    for spec in serving_templates(docs):
        spec["containers"][0]["image"] = "ghcr.io/acme-ai/llm-server:1.4.0"
    drop(docs, lambda d: d["kind"] == "Service" and d["metadata"]["name"].startswith("qwen25"))


def m_no_priority(docs: list[Doc]) -> None:
    for spec in serving_templates(docs):
        del spec["priorityClassName"]


def m_one_priority_level(docs: list[Doc]) -> None:
    drop(
        docs,
        lambda d: (
            d["kind"] in ("PriorityClass", "WorkloadPriorityClass")
            and d["metadata"]["name"] != "batch-low"
        ),
    )


def m_mig_double_count(docs: list[Doc]) -> None:
    n = node(docs)
    n["status"]["allocatable"]["nvidia.com/mig-1g.10gb"] = "7"
    n["status"]["capacity"]["nvidia.com/mig-1g.10gb"] = "7"


def m_mig_pool_mixed(docs: list[Doc]) -> None:
    set_labels(docs, (H100_NODE,), {"nvidia.com/mig.config": "all-1g.10gb"})


def m_mig_unavailable(docs: list[Doc]) -> None:
    limits = vllm(docs)["resources"]
    limits["requests"]["nvidia.com/mig-3g.40gb"] = "1"
    limits["limits"]["nvidia.com/mig-3g.40gb"] = "1"


def m_resource_name_unavailable(docs: list[Doc]) -> None:
    resources = vllm(docs)["resources"]
    for part in ("requests", "limits"):
        resources[part]["nvidia.com/gpu.shared"] = resources[part].pop("nvidia.com/gpu")


def m_count_label(docs: list[Doc]) -> None:
    set_labels(docs, (L40S_NODES[0],), {"nvidia.com/gpu.count": "8"})


def m_bypass(docs: list[Doc]) -> None:
    spec = find(docs, "Deployment", "kube-prometheus-stack-kube-state-metrics")["spec"]
    spec["template"]["spec"]["containers"][0]["env"] = [
        {"name": "NVIDIA_VISIBLE_DEVICES", "value": "all"}
    ]


def m_time_sliced(docs: list[Doc]) -> None:
    set_labels(
        docs,
        L40S_NODES,
        {"nvidia.com/gpu.sharing-strategy": "time-slicing", "nvidia.com/gpu.replicas": "4"},
    )
    for name in L40S_NODES:
        for part in ("allocatable", "capacity"):
            node(docs, name)["status"][part]["nvidia.com/gpu"] = "16"


def m_dra_served(docs: list[Doc]) -> None:
    docs.append(
        {
            "apiVersion": "resource.k8s.io/v1",
            "kind": "DeviceClass",
            "metadata": {"name": "gpu.nvidia.com"},
            "spec": {"selectors": [{"cel": {"expression": "device.driver == 'gpu.nvidia.com'"}}]},
        }
    )


def m_old_driver(docs: list[Doc]) -> None:
    old = {"full": "550.54.15", "major": "550", "minor": "54", "revision": "15"}
    labels = {f"nvidia.com/cuda.driver-version.{k}": v for k, v in old.items()}
    labels |= {"nvidia.com/cuda.driver.major": "550", "nvidia.com/cuda.driver.minor": "54"}
    labels |= {"nvidia.com/cuda.driver.rev": "15", "nvidia.com/cuda.runtime-version.full": "12.4"}
    set_labels(docs, L40S_NODES, labels)


def m_kubelet_skew(docs: list[Doc]) -> None:
    node(docs)["status"]["nodeInfo"]["kubeletVersion"] = "v1.31.13-eks-1a2b3c4"


def m_removed_api(docs: list[Doc]) -> None:
    find(docs, "PodDisruptionBudget", "qwen25-32b-instruct")["apiVersion"] = "policy/v1beta1"


def m_cpu_hpa(docs: list[Doc]) -> None:
    drop(docs, lambda d: d["kind"] in ("ScaledObject", "HorizontalPodAutoscaler"))
    docs.append(
        {
            "apiVersion": "autoscaling/v2",
            "kind": "HorizontalPodAutoscaler",
            "metadata": {"name": "qwen25-32b-instruct", "namespace": "ml-serving"},
            "spec": {
                "scaleTargetRef": {
                    "apiVersion": "apps/v1",
                    "kind": "Deployment",
                    "name": "qwen25-32b-instruct",
                },
                "minReplicas": 4,
                "maxReplicas": 8,
                "metrics": [
                    {
                        "type": "Resource",
                        "resource": {
                            "name": "cpu",
                            "target": {"type": "Utilization", "averageUtilization": 70},
                        },
                    }
                ],
            },
        }
    )


def m_no_autoscaler(docs: list[Doc]) -> None:
    drop(docs, lambda d: d["kind"] in ("ScaledObject", "HorizontalPodAutoscaler"))


def m_no_keda(docs: list[Doc]) -> None:
    drop(
        docs,
        lambda d: (
            d["kind"] == "ScaledObject"
            or d["metadata"].get("namespace") == "keda"
            or d["metadata"]["name"].startswith("keda-")
        ),
    )


def m_no_node_autoscaler(docs: list[Doc]) -> None:
    drop(
        docs,
        lambda d: (
            d["kind"] in ("NodePool", "EC2NodeClass")
            or d["metadata"]["name"].startswith("karpenter")
        ),
    )
    for d in docs:
        if d["kind"] == "Node":
            labels = d["metadata"]["labels"]
            for key in [k for k in labels if k.startswith("karpenter.")]:
                del labels[key]


def m_latest_tag(docs: list[Doc]) -> None:
    for spec in serving_templates(docs):
        spec["containers"][0]["image"] = "docker.io/vllm/vllm-openai:latest"


def m_cpu_latest_tag(docs: list[Doc]) -> None:
    spec = find(docs, "Deployment", "velero")["spec"]["template"]["spec"]
    spec["containers"][0]["image"] = "docker.io/velero/velero:latest"


def m_pull_always(docs: list[Doc]) -> None:
    vllm(docs)["imagePullPolicy"] = "Always"


def m_unapproved_registry(docs: list[Doc]) -> None:
    vllm(docs)["image"] = "ghcr.io/someone/vllm-fork:v0.11.2"


def m_no_readiness(docs: list[Doc]) -> None:
    del vllm(docs)["readinessProbe"]


def m_no_startup(docs: list[Doc]) -> None:
    del vllm(docs)["startupProbe"]


def m_no_pdb(docs: list[Doc]) -> None:
    drop(docs, lambda d: d["kind"] == "PodDisruptionBudget")


def m_no_checkpoints(docs: list[Doc]) -> None:
    for spec in training_templates(docs):
        spec["volumes"] = [v for v in spec["volumes"] if "persistentVolumeClaim" not in v]
        for c in spec["containers"]:
            c["volumeMounts"] = [m for m in c["volumeMounts"] if m["name"] != "checkpoints"]


def m_no_shm(docs: list[Doc]) -> None:
    for spec in training_templates(docs):
        spec["volumes"] = [v for v in spec["volumes"] if v["name"] != "dshm"]
        for c in spec["containers"]:
            c["volumeMounts"] = [m for m in c["volumeMounts"] if m["name"] != "dshm"]


def m_no_backup(docs: list[Doc]) -> None:
    drop(docs, lambda d: d["kind"] == "Schedule")


def m_no_policy_engine(docs: list[Doc]) -> None:
    drop(
        docs,
        lambda d: (
            d["metadata"].get("namespace") == "kyverno"
            or d["metadata"]["name"].startswith("kyverno")
            or d["apiVersion"].startswith("kyverno.io")
        ),
    )


def m_no_gpu_policy(docs: list[Doc]) -> None:
    drop(docs, lambda d: d["metadata"]["name"] == "gpu-limits-equal-requests")


def m_no_cert_manager(docs: list[Doc]) -> None:
    drop(
        docs,
        lambda d: (
            d["metadata"].get("namespace") == "cert-manager"
            or d["metadata"]["name"].startswith("cert-manager")
            or d["apiVersion"].startswith("cert-manager.io")
        ),
    )


def m_no_dcgm(docs: list[Doc]) -> None:
    drop(docs, lambda d: d["metadata"]["name"].startswith("nvidia-dcgm-exporter"))


def m_no_metrics(docs: list[Doc]) -> None:
    drop(
        docs,
        lambda d: (
            d["metadata"].get("namespace") == "monitoring"
            or d["metadata"]["name"].startswith(
                ("metrics-server", "kube-prometheus-stack", "prometheus")
            )
            or d["apiVersion"].startswith("monitoring.coreos.com")
            or d["kind"] in ("ScaledObject", "HorizontalPodAutoscaler", "APIService")
        ),
    )


def m_idle_gpus(docs: list[Doc]) -> None:
    drop(docs, lambda d: d["kind"] == "Pod" and d["metadata"]["name"] == "llama31-8b-sft-worker-0")


def m_fragmented(docs: list[Doc]) -> None:
    seen: set[str] = set()
    for pod in list(pods_of(docs, "qwen25-32b-instruct-")):
        if pod["spec"]["nodeName"] not in seen:  # one replica gone from each L40S node
            seen.add(pod["spec"]["nodeName"])
            docs.remove(pod)


def m_eol(docs: list[Doc]) -> None:
    for d in docs:
        if d["kind"] == "Node":
            d["status"]["nodeInfo"]["kubeletVersion"] = "v1.32.9-eks-1a2b3c4"


MUTATIONS: dict[str, Callable[[list[Doc]], None]] = {
    "gpu-node-untainted": m_untainted,
    "gpu-node-runs-cpu-pods": m_cpu_pod_on_gpu_node,
    "gpu-hardware-not-allocatable": m_not_allocatable,
    "gpu-node-no-device-plugin": m_no_device_plugin,
    "gpu-request-without-limit": m_request_without_limit,
    "gpu-namespace-without-quota": m_no_quota,
    "gpu-toleration-without-request": m_tolerates_gpu,
    "gpu-training-no-gang-scheduler": m_no_queue,
    "kueue-queue-annotation-ignored": m_queue_annotation,
    "gpu-workload-role-unknown": m_role_unknown,
    "gpu-workload-no-priority-class": m_no_priority,
    "cluster-no-gpu-priority-classes": m_one_priority_level,
    "mig-mixed-double-count": m_mig_double_count,
    "mig-pool-mixed-config": m_mig_pool_mixed,
    "mig-resource-unavailable": m_mig_unavailable,
    "gpu-resource-name-unavailable": m_resource_name_unavailable,
    "gpu-count-label-mismatch": m_count_label,
    "gpu-access-bypasses-device-plugin": m_bypass,
    "gpu-sharing-on-inference": m_time_sliced,
    "dra-available-unused": m_dra_served,
    "cuda-driver-mismatch": m_old_driver,
    "kubelet-version-skew": m_kubelet_skew,
    "kubernetes-version-eol": m_eol,
    "api-version-removed": m_removed_api,
    "gpu-hpa-cpu-only": m_cpu_hpa,
    "gpu-inference-no-autoscaler": m_no_autoscaler,
    "keda-absent-for-gpu-inference": m_no_keda,
    "gpu-pool-no-cluster-autoscaler": m_no_node_autoscaler,
    "gpu-image-mutable-tag": m_latest_tag,
    "image-mutable-tag": m_cpu_latest_tag,
    "image-large-pull-always": m_pull_always,
    "image-registry-not-approved": m_unapproved_registry,
    "container-no-readiness-probe": m_no_readiness,
    "liveness-without-startup-probe": m_no_startup,
    "gpu-inference-no-pdb": m_no_pdb,
    "training-no-checkpoint-volume": m_no_checkpoints,
    "training-no-shm-volume": m_no_shm,
    "gpu-data-not-backed-up": m_no_backup,
    "no-admission-policy-engine": m_no_policy_engine,
    "policy-engine-without-gpu-or-image-policy": m_no_gpu_policy,
    "cert-manager-absent-for-inference-tls": m_no_cert_manager,
    "gpu-node-no-dcgm-exporter": m_no_dcgm,
    "no-metrics-pipeline": m_no_metrics,
    "gpu-idle": m_idle_gpus,
    "gpu-fragmentation": m_fragmented,
}
"""Check id -> one defect that, planted into the well-configured cluster, makes it fire."""

METRIC_MUTATIONS: dict[str, float] = {"gpu-allocated-idle": 0.3, "gpu-low-utilization": 6.0}
"""Metric-reading checks -> GPU utilisation (%) of every GPU pod that makes them fire."""


def test_every_check_has_a_planted_defect() -> None:
    covered = set(MUTATIONS) | set(METRIC_MUTATIONS) | {c for c, _ in ACCEPTED}
    assert covered == {c.id for c in REGISTRY}


@pytest.mark.parametrize("check_id", sorted(MUTATIONS))
def test_planted_defect_is_found(snapshot: Snapshot, check_id: str) -> None:
    docs = copy.deepcopy(DOCS)
    MUTATIONS[check_id](docs)
    mutated = snapshot_of(*docs, cluster="well-configured")
    assert [f for f in run(snapshot, [check_id]).findings if f.check == check_id] == []
    found = [f for f in run(mutated, [check_id]).findings if f.check == check_id]
    assert found, f"{check_id} did not fire on its planted defect"


@pytest.mark.parametrize("check_id", sorted(METRIC_MUTATIONS))
def test_idle_gpus_are_found(snapshot: Snapshot, check_id: str) -> None:
    busy = run(snapshot.with_gpu_metrics(busy_metrics(snapshot)), [check_id])
    assert [r.status for r in busy.checks] == [CheckStatus.PASSED]
    idle = snapshot.with_gpu_metrics(busy_metrics(snapshot, METRIC_MUTATIONS[check_id]))
    found = {f.subject.name for f in run(idle, [check_id]).findings if f.check == check_id}
    assert found == {"qwen25-32b-instruct", "llama31-8b-sft"}


# ------------------------------------------------------------------ conformance and terminal


def test_conformance_product_yaml(tmp_path: Path) -> None:
    """`plumbob conformance --version 1.35 --product-yaml` on the cluster: every MUST plumbob can
    see is Implemented, the rest blank for the vendor, and the file keeps the program's rules
    (cncf/k8s-ai-conformance scripts/validate.go) except the vendor's own metadata and links."""
    out = tmp_path / "PRODUCT.yaml"
    result = CliRunner().invoke(
        app,
        ["conformance", str(FIXTURE), "--version", "1.35", "-q", "--product-yaml", str(out)],
        env={"COLUMNS": "200"},
    )
    assert result.exit_code == 0, result.output
    assert "Kubernetes AI Conformance v1.35" in result.stdout
    doc = yaml.safe_load(out.read_text())
    assert doc["metadata"]["kubernetesVersion"] == "v1.35"
    rows = {row["id"]: row for rows in doc["spec"].values() for row in rows}
    assert set(doc["spec"]) == {
        "accelerators",
        "networking",
        "schedulingOrchestration",
        "observability",
        "security",
        "operator",
    }
    implemented = {i for i, r in rows.items() if r["status"] == "Implemented"}
    assert implemented >= {
        "ai_inference",
        "gang_scheduling",
        "cluster_autoscaling",
        "pod_autoscaling",
        "accelerator_metrics",
        "ai_service_metrics",
        "secure_accelerator_access",
        "robust_controller",
        "driver_runtime_management",
    }
    musts = {i for i, r in rows.items() if r["level"] == "MUST"}
    assert musts - implemented == {"dra_support"}  # no resource.k8s.io objects in manifests
    assert rows["dra_support"]["status"] == ""  # not visible: left for the vendor
    for rid, row in rows.items():
        assert row["status"] in (
            "Implemented",
            "Not Implemented",
            "Partially Implemented",
            "N/A",
            "",
        )
        assert row["evidence"] == [], rid
        assert row["notes"].startswith("plumbob pre-check: "), rid
        if row["status"] == "Implemented":
            assert "; seen: " in row["notes"], rid
    assert "Kueue" in rows["gang_scheduling"]["notes"]
    assert rows["gang_scheduling"]["description"].startswith("The platform must allow")


def test_terminal_report_shows_gpu_cost(tmp_path: Path) -> None:
    config = tmp_path / "plumbob.yaml"
    config.write_text(yaml.safe_dump({"options": OPTIONS}))
    result = CliRunner().invoke(
        app, ["scan", str(FIXTURE), "-q", "--config", str(config)], env={"COLUMNS": "120"}
    )
    assert result.exit_code == 0, result.output
    assert "GPU cost — 0 of 24 GPUs idle ≈ $0/month" in result.stdout
    assert "H100-80GB-HBM3" in result.stdout and "L40S" in result.stdout
    assert "0 critical, 0 high, 1 medium" in result.stdout
