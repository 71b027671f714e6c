"""The demo fleet generator: determinism, counts, scaling, realism and the planted defects."""

from __future__ import annotations

import json
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from plumbob.sources.demo import SERVER_VERSION, DemoSpec, Planted, api_groups, generate, planted

Obj = dict[str, Any]
SMALL = DemoSpec(nodes=24, pods=400, seed=3)
KNOWLEDGE = Path(__file__).resolve().parents[3] / "src" / "plumbob" / "knowledge"


def _objects(spec: DemoSpec) -> list[Obj]:
    return list(generate(spec))


@pytest.fixture(scope="module")
def default() -> list[Obj]:
    return _objects(DemoSpec())


def _index(objects: list[Obj]) -> dict[tuple[str, str | None, str], Obj]:
    return {(o["kind"], o["metadata"].get("namespace"), o["metadata"]["name"]): o for o in objects}


def _containers(spec: Obj) -> Iterator[Obj]:
    yield from spec.get("initContainers", [])
    yield from spec["containers"]


def _gpus(spec: Obj, field: str = "requests") -> int:
    return sum(
        int(c.get("resources", {}).get(field, {}).get("nvidia.com/gpu", 0))
        for c in spec["containers"]
    )


def _templates(obj: Obj) -> Iterator[Obj]:
    """Pod specs of a workload object, whatever its kind."""
    spec = obj.get("spec", {})
    if obj["kind"] in ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"):
        yield spec["template"]["spec"]
    elif obj["kind"] == "PyTorchJob":
        for replica in spec["pytorchReplicaSpecs"].values():
            yield replica["template"]["spec"]
    elif obj["kind"] == "JobSet":
        for job in spec["replicatedJobs"]:
            yield job["template"]["spec"]["template"]["spec"]


# ----------------------------------------------------------------------------- determinism


def test_same_spec_gives_byte_identical_output() -> None:
    def dump() -> str:
        return "\n".join(json.dumps(o) for o in generate(SMALL))

    assert dump() == dump()


def test_seed_changes_details_not_workload_names() -> None:
    a, b = _objects(SMALL), _objects(DemoSpec(nodes=24, pods=400, seed=4))
    assert json.dumps(a) != json.dumps(b)
    names = {(o["kind"], o["metadata"]["name"]) for o in a if o["kind"] == "Deployment"}
    assert "llama3-8b-chat" in {n for _, n in names}
    assert {n for k, n in names if k == "Deployment"} & {
        o["metadata"]["name"] for o in b if o["kind"] == "Deployment"
    } >= {"llama3-8b-chat", "mistral-7b-tgi", "resnet50-triton", "sdxl-turbo"}


def test_generate_is_lazy_and_validates_eagerly() -> None:
    stream = generate(DemoSpec(nodes=5000, pods=150_000))
    first = next(iter(stream))
    assert first["kind"] == "Node"
    with pytest.raises(ValueError, match="nodes"):
        generate(DemoSpec(nodes=2))
    with pytest.raises(ValueError, match="nodes"):
        generate(DemoSpec(nodes=1_000_000))


def test_emitted_objects_share_no_mutable_parts() -> None:
    seen: dict[int, int] = {}

    def walk(value: Any, owner: int) -> None:
        if isinstance(value, dict | list):
            assert seen.setdefault(id(value), owner) == owner, "object shared between two items"
            for item in value.values() if isinstance(value, dict) else value:
                walk(item, owner)

    objects = _objects(SMALL)
    for number, obj in enumerate(objects):
        walk(obj, number)
    objects[0]["metadata"]["labels"].clear()
    assert next(iter(generate(SMALL)))["metadata"]["labels"]


# ----------------------------------------------------------------------------- counts, order


@pytest.mark.parametrize(("nodes", "pods"), [(48, 900), (24, 400), (200, 5000), (97, 2500)])
def test_node_and_pod_totals_are_exact(nodes: int, pods: int) -> None:
    kinds = Counter(o["kind"] for o in generate(DemoSpec(nodes=nodes, pods=pods)))
    assert kinds["Node"] == nodes
    assert kinds["Pod"] == pods


@pytest.mark.parametrize("nodes", [3, 4, 7, 12])
def test_tiny_clusters_raise_pods_to_the_minimum(nodes: int) -> None:
    objects = _objects(DemoSpec(nodes=nodes, pods=0))
    pods = [o for o in objects if o["kind"] == "Pod"]
    assert sum(o["kind"] == "Node" for o in objects) == nodes
    daemonset_pods = [p for p in pods if p["metadata"]["ownerReferences"][0]["kind"] == "DaemonSet"]
    assert len(daemonset_pods) >= 6 * nodes
    pending = [p for p in pods if p["status"]["phase"] == "Pending"]
    assert all("nodeName" not in p["spec"] for p in pending)
    assert all(_gpus(p["spec"]) for p in pending), "only GPU pods wait for capacity"


def test_larger_counts_add_workloads_and_replicas() -> None:
    def shape(spec: DemoSpec) -> tuple[int, int]:
        deployments = [o for o in generate(spec) if o["kind"] == "Deployment"]
        return len(deployments), max(d["spec"]["replicas"] for d in deployments)

    small, large = shape(DemoSpec(nodes=24, pods=400)), shape(DemoSpec(nodes=400, pods=12_000))
    assert large[0] > small[0] and large[1] > small[1]


def test_stream_order_nodes_cluster_scoped_namespaced_pods(default: list[Obj]) -> None:
    phase = []
    for obj in default:
        if obj["kind"] == "Node":
            phase.append(0)
        elif obj["kind"] == "Pod":
            phase.append(3)
        else:
            phase.append(2 if "namespace" in obj["metadata"] else 1)
    assert phase == sorted(phase)
    assert set(phase) == {0, 1, 2, 3}


def test_pools_scale_by_share() -> None:
    nodes = [o for o in generate(DemoSpec(nodes=1000, pods=20_000)) if o["kind"] == "Node"]
    pools = Counter(
        o["metadata"]["labels"].get("eks.amazonaws.com/nodegroup")
        or o["metadata"]["labels"]["karpenter.sh/nodepool"]
        for o in nodes
    )
    assert pools == {
        "system": 400,
        "gpu-train-h100": 250,
        "inference-l4": 269,
        "inference-l4-batch": 1,  # the idle L4 node, made by its own NodePool (planted)
        "gpu-infer-a10g": 80,
    }


@pytest.mark.slow
def test_large_fleet_streams_in_bounded_time() -> None:
    start = time.perf_counter()
    kinds: Counter[str] = Counter()
    for obj in generate(DemoSpec(nodes=5000, pods=150_000)):
        kinds[obj["kind"]] += 1
    elapsed = time.perf_counter() - start
    assert kinds["Node"] == 5000 and kinds["Pod"] == 150_000
    assert elapsed < 60, f"5000 nodes / 150000 pods took {elapsed:.1f}s"


# ----------------------------------------------------------------------------- realism


def test_objects_look_like_kubectl_output(default: list[Obj]) -> None:
    for obj in default:
        assert list(obj) == sorted(obj)
        meta = obj["metadata"]
        assert list(meta) == sorted(meta)
        assert (
            meta["uid"]
            and meta["resourceVersion"]
            and meta["creationTimestamp"] < ("2026-11-30T08:00:01Z")
        )
        assert "managedFields" not in meta
    assert len({o["metadata"]["uid"] for o in default}) == len(default)


def test_every_api_version_is_served(default: list[Obj]) -> None:
    groups = set(api_groups())
    assert {o["apiVersion"] for o in default} <= groups
    for wanted in (
        "apps/v1",
        "batch/v1",
        "kubeflow.org/v1",
        "jobset.x-k8s.io/v1alpha2",
        "kueue.x-k8s.io/v1beta2",
        "kueue.x-k8s.io/v1beta1",
        "velero.io/v1",
        "serving.kserve.io/v1beta1",
        "keda.sh/v1alpha1",
        "nvidia.com/v1",
        "karpenter.sh/v1",
    ):
        assert wanted in groups
    # EKS 1.31 serves DRA only as an alpha API behind a gate that stays off.
    assert not any(g.startswith("resource.k8s.io/") for g in groups)
    assert SERVER_VERSION.startswith("v1.31.")


def test_owner_references_resolve(default: list[Obj]) -> None:
    by_uid = {o["metadata"]["uid"]: o for o in default}
    for obj in default:
        for ref in obj["metadata"].get("ownerReferences", []):
            owner = by_uid[ref["uid"]]
            assert (owner["kind"], owner["metadata"]["name"]) == (ref["kind"], ref["name"])
            assert owner["apiVersion"] == ref["apiVersion"] and ref["controller"] is True
    chains = Counter(
        by_uid[
            by_uid[p["metadata"]["ownerReferences"][0]["uid"]]["metadata"]["ownerReferences"][0][
                "uid"
            ]
        ]["kind"]
        for p in default
        if p["kind"] == "Pod" and p["metadata"]["ownerReferences"][0]["kind"] == "ReplicaSet"
    )
    assert chains["Deployment"] > 0 and set(chains) == {"Deployment"}


def test_pods_run_on_the_right_pool_within_gpu_capacity(default: list[Obj]) -> None:
    nodes = {o["metadata"]["name"]: o for o in default if o["kind"] == "Node"}
    used: Counter[str] = Counter()
    unschedulable = {
        p.name
        for p in planted(DemoSpec())
        if p.check in ("gpu-node-selector-unmatched", "gpu-workload-unschedulable")
    }
    for pod in (o for o in default if o["kind"] == "Pod"):
        spec = pod["spec"]
        if "nodeName" not in spec:  # only the planted pods no node can take
            assert pod["status"]["phase"] == "Pending"
            assert any(pod["metadata"]["name"].startswith(f"{w}-") for w in unschedulable)
            continue
        node = nodes[spec["nodeName"]]
        labels = node["metadata"]["labels"]
        for key, value in spec.get("nodeSelector", {}).items():
            assert labels.get(key) == value
        gpus = _gpus(spec)
        if gpus:
            assert "nvidia.com/gpu.present" in labels
        elif pod["metadata"]["ownerReferences"][0]["kind"] != "DaemonSet":
            assert labels.get("eks.amazonaws.com/nodegroup") == "system"
        used[spec["nodeName"]] += gpus
        assert pod["status"]["phase"] == "Running"
    for name, count in used.items():
        assert count <= int(nodes[name]["status"]["allocatable"].get("nvidia.com/gpu", 0))


def test_gfd_labels_follow_the_knowledge_tables(default: list[Obj]) -> None:
    compat = yaml.safe_load((KNOWLEDGE / "cuda_driver_compat.yaml").read_text())
    gfd = yaml.safe_load((KNOWLEDGE / "gfd_labels.yaml").read_text())
    known = {row["name"] for row in gfd["labels"] if "name" in row}
    minimum = defaultdict(list)
    for row in compat["toolkit_driver_versions"]:
        major_minor = ".".join(row["version"].split(".")[:2])
        minimum[major_minor].append(tuple(int(p) for p in row["linux_x86_64_min"].split(".")))

    def version(text: str) -> tuple[int, ...]:
        return tuple(int(p) for p in text.split("."))

    gpu_nodes = [
        o
        for o in default
        if o["kind"] == "Node" and "nvidia.com/gpu.present" in (o["metadata"]["labels"])
    ]
    assert gpu_nodes
    for node in gpu_nodes:
        labels = node["metadata"]["labels"]
        nvidia = {k for k in labels if k.startswith("nvidia.com/")}
        assert {k for k in nvidia if not k.startswith("nvidia.com/gpu.deploy.")} <= known
        driver = version(labels["nvidia.com/cuda.driver-version.full"])
        cuda = labels["nvidia.com/cuda.runtime-version.full"]
        assert min(minimum[cuda]) <= driver, "driver too old for the CUDA it claims"
        newer = f"{cuda.split('.')[0]}.{int(cuda.split('.')[1]) + 1}"
        assert not minimum[newer] or driver < min(minimum[newer])
        shares = int(labels["nvidia.com/gpu.count"]) * int(labels["nvidia.com/gpu.replicas"])
        assert shares == int(node["status"]["capacity"]["nvidia.com/gpu"])


def test_gpu_workloads_other_than_planted_are_clean(default: list[Obj]) -> None:
    planted_names = {p.name for p in planted(DemoSpec())}
    checked = 0
    for obj in default:
        if obj["kind"] not in ("Deployment", "StatefulSet", "PyTorchJob", "JobSet"):
            continue
        for spec in _templates(obj):
            if not _gpus(spec) or obj["metadata"]["name"] in planted_names:
                continue
            checked += 1
            assert _gpus(spec) == _gpus(spec, "limits")
            assert spec.get("priorityClassName")
            for container in spec["containers"]:
                tail = container["image"].rsplit("/", 1)[-1]
                assert ":" in tail and not tail.endswith(":latest")
                assert container.get("imagePullPolicy", "IfNotPresent") == "IfNotPresent"
    assert checked >= 10


# ----------------------------------------------------------------------------- planted


def _assert_planted(item: Planted, objects: list[Obj], spec: DemoSpec) -> None:
    index = _index(objects)
    if item.kind == "Cluster":
        assert item.name == spec.cluster
        return
    assert (item.kind, item.namespace, item.name) in index, item
    obj = index[(item.kind, item.namespace, item.name)]
    labels = obj["metadata"].get("labels", {})
    pods = [o for o in objects if o["kind"] == "Pod"]
    check = item.check
    if check == "gpu-node-untainted":
        assert "taints" not in obj["spec"] and "nvidia.com/gpu.present" in labels
    elif check == "drift:taints":
        assert "taints" not in obj["spec"]
    elif check == "drift:kernel":
        assert obj["status"]["nodeInfo"]["kernelVersion"] == "6.1.115-126.197.amzn2023.x86_64"
    elif check == "drift:nvidia_driver":
        assert labels["nvidia.com/cuda.driver-version.full"] == "535.216.01"
        assert labels["nvidia.com/cuda.runtime-version.full"] == "12.2"
    elif check == "drift:container_runtime":
        assert obj["status"]["nodeInfo"]["containerRuntimeVersion"] in (
            "containerd://1.7.22",
            "docker://25.0.5",
        )
    elif check in (
        "gpu-shared-advertised-as-whole",
        "drift:gpu_product",
        "drift:sharing_strategy",
        "drift:sharing_replicas",
        "drift:label",
    ):
        assert labels["nvidia.com/gpu.product"].endswith("-SHARED")
        assert labels["nvidia.com/gpu.sharing-strategy"] == "time-slicing"
        assert labels["nvidia.com/device-plugin.config"] == "l4-shared"
        replicas = int(labels["nvidia.com/gpu.replicas"])
        assert replicas > 1
        assert int(obj["status"]["allocatable"]["nvidia.com/gpu"]) == replicas * int(
            labels["nvidia.com/gpu.count"]
        )
    elif check == "gpu-sharing-on-inference":
        (spec,) = _templates(obj)
        assert spec["nodeSelector"]["nvidia.com/device-plugin.config"] == "l4-shared"
        mine = [p for p in pods if p["metadata"]["name"].startswith(item.name + "-")]
        nodes = {p["spec"]["nodeName"] for p in mine}
        (node,) = nodes
        shared = index[("Node", None, node)]
        assert len(mine) == int(shared["status"]["allocatable"]["nvidia.com/gpu"])
    elif check == "gpu-serving-no-gang-scheduler":
        lwt = obj["spec"]["leaderWorkerTemplate"]
        assert lwt["size"] > 1 and "kueue.x-k8s.io/queue-name" not in labels
        assert _gpus(lwt["leaderTemplate"]["spec"]) and _gpus(lwt["workerTemplate"]["spec"])
        group = [p for p in pods if p["metadata"]["name"].startswith(item.name + "-0")]
        assert len(group) == lwt["size"]
    elif check == "node-docker-runtime":
        info = obj["status"]["nodeInfo"]
        assert info["containerRuntimeVersion"].startswith("docker://")
        assert info["kubeletVersion"].startswith("v1.31.")
    elif check == "node-pool-taint-untolerated":
        taints = {(t["key"], t.get("value")) for t in obj["spec"]["taints"]}
        assert ("acme.ai/workload", "batch") in taints
        assert labels["karpenter.sh/nodepool"] == "inference-l4-batch"
        others = [
            o
            for o in objects
            if o["kind"] == "Node"
            and o["metadata"]["labels"].get("karpenter.sh/nodepool") == "inference-l4-batch"
        ]
        assert others == [obj]
        for o in objects:
            if o["kind"] in ("Deployment", "StatefulSet", "PyTorchJob", "JobSet"):
                for spec in _templates(o):
                    assert not any(
                        t.get("key") == "acme.ai/workload" for t in spec.get("tolerations", [])
                    )
        assert not [
            p
            for p in pods
            if p["spec"].get("nodeName") == item.name
            and p["metadata"]["ownerReferences"][0]["kind"] != "DaemonSet"
        ]
    elif check == "custom-resource-version-removed":
        assert obj["apiVersion"] == "kueue.x-k8s.io/v1beta1"
        kueue = [o for o in objects if o["apiVersion"].startswith("kueue.x-k8s.io/")]
        assert {o["apiVersion"] for o in kueue if o is not obj} == {"kueue.x-k8s.io/v1beta2"}
        # the kind is served in one version only, as a live capture would read it
        assert not [o for o in kueue if o["kind"] == obj["kind"] and o is not obj]
    elif check == "env-plaintext-credential":
        (spec,) = _templates(obj)
        env = {e["name"]: e for e in spec["containers"][0]["env"]}
        assert env["HF_TOKEN"]["value"].startswith("hf_")
    elif check == "gpu-workload-host-access":
        (spec,) = _templates(obj)
        assert spec["containers"][0]["securityContext"]["capabilities"]["add"] == ["SYS_ADMIN"]
    elif check == "gpu-serving-no-shm-volume":
        (spec,) = _templates(obj)
        args = spec["containers"][0]["args"]
        assert args[args.index("--tensor-parallel-size") + 1] == "2" and _gpus(spec) == 2
        assert not any(v.get("emptyDir", {}).get("medium") == "Memory" for v in spec["volumes"])
    elif check == "training-checkpoint-path-ephemeral":
        for spec in _templates(obj):
            (ctr,) = spec["containers"]
            out = ctr["args"][ctr["args"].index("--output-dir") + 1]
            mounts = {m["mountPath"]: m["name"] for m in ctr["volumeMounts"]}
            volumes = {v["name"]: v for v in spec["volumes"]}
            assert "persistentVolumeClaim" in volumes[mounts["/checkpoints"]]
            assert out.startswith("/scratch/") and "emptyDir" in volumes[mounts["/scratch"]]
    elif check in ("gpu-node-selector-unmatched", "gpu-workload-unschedulable"):
        (spec,) = _templates(obj)
        mine = [p for p in pods if p["metadata"]["name"].startswith(item.name + "-")]
        assert mine and all(p["status"]["phase"] == "Pending" for p in mine)
        if check == "gpu-node-selector-unmatched":
            (key,) = spec["nodeSelector"]
            assert not any(key in o["metadata"]["labels"] for o in objects if o["kind"] == "Node")
        else:
            assert "tolerations" not in spec and _gpus(spec)
    elif check == "gpu-idle":
        assert not [p for p in pods if p["spec"].get("nodeName") == item.name and _gpus(p["spec"])]
    elif check == "gpu-node-no-dcgm-exporter":
        assert labels["nvidia.com/gpu.deploy.dcgm-exporter"] == "false"
        assert not [
            p
            for p in pods
            if p["spec"].get("nodeName") == item.name
            and p["metadata"]["name"].startswith("nvidia-dcgm-exporter-")
        ]
    elif check == "gpu-namespace-without-quota":
        quotas = [o for o in objects if o["kind"] == "ResourceQuota"]
        assert not any(
            "requests.nvidia.com/gpu" in q["spec"]["hard"]
            for q in quotas
            if q["metadata"]["namespace"] == item.name
        )
        assert any("requests.nvidia.com/gpu" in q["spec"]["hard"] for q in quotas)
    elif check == "gpu-request-without-limit":
        (spec,) = _templates(obj)
        assert _gpus(spec) == 1 and _gpus(spec, "limits") == 0
    elif check == "gpu-image-mutable-tag":
        (spec,) = _templates(obj)
        tail = spec["containers"][0]["image"].rsplit("/", 1)[-1]
        assert tail.endswith(":latest") or ":" not in tail
    elif check == "gpu-hpa-cpu-only":
        assert [m["resource"]["name"] for m in obj["spec"]["metrics"]] == ["cpu"]
        target = index[("Deployment", item.namespace, obj["spec"]["scaleTargetRef"]["name"])]
        assert _gpus(target["spec"]["template"]["spec"])
    elif check == "image-large-pull-always":
        (spec,) = _templates(obj)
        assert spec["containers"][0]["imagePullPolicy"] == "Always"
    elif check == "training-no-checkpoint-volume":
        for spec in _templates(obj):
            assert all("emptyDir" in v for v in spec["volumes"])
    elif check == "training-job-no-backoff-limit":
        assert "backoffLimit" not in obj["spec"]["runPolicy"]
        specs = obj["spec"]["pytorchReplicaSpecs"].values()
        assert {s["restartPolicy"] for s in specs} == {"OnFailure"}
        other = index[("PyTorchJob", "team-research-training", "llama3-70b-sft")]
        assert other["spec"]["runPolicy"]["backoffLimit"] > 0
    elif check == "gpu-workload-no-memory-request":
        for spec in _templates(obj):
            (ctr,) = spec["containers"]
            assert ctr["resources"]["limits"]["nvidia.com/gpu"] == "8"
            assert "memory" not in ctr["resources"]["requests"]
            assert "memory" not in ctr["resources"]["limits"]
    elif check == "gpu-serving-model-not-cached":
        for spec in _templates(obj):
            (ctr,) = spec["containers"]
            assert ctr["args"][ctr["args"].index("--model-id") + 1] == "google/gemma-2-2b-it"
            assert "/data" not in {m["mountPath"] for m in ctr["volumeMounts"]}
            assert not {e["name"] for e in ctr["env"]} & {"HF_HOME", "HF_HUB_OFFLINE"}
    elif check == "gpu-inference-no-pdb":
        assert obj["spec"]["replicas"] > 1
        selector = obj["spec"]["selector"]["matchLabels"]
        assert not [
            o
            for o in objects
            if o["kind"] == "PodDisruptionBudget"
            and o["spec"]["selector"]["matchLabels"] == selector
        ]
    elif check == "gpu-training-no-gang-scheduler":
        assert "kueue.x-k8s.io/queue-name" not in labels
        assert obj["spec"]["pytorchReplicaSpecs"]["Worker"]["replicas"] >= 1
        other = index[("PyTorchJob", item.namespace, "llama3-70b-sft")]
        assert other["metadata"]["labels"]["kueue.x-k8s.io/queue-name"]
    elif check == "gpu-workload-no-priority-class":
        (spec,) = _templates(obj)
        assert "priorityClassName" not in spec and _gpus(spec)
    elif check == "cuda-driver-mismatch":
        (spec,) = _templates(obj)
        assert spec["containers"][0]["image"].startswith("nvidia/cuda:12.4.1-")
        (pod,) = [p for p in pods if p["metadata"]["name"] == f"{item.name}-0"]
        node = index[("Node", None, pod["spec"]["nodeName"])]
        assert node["metadata"]["labels"]["nvidia.com/cuda.driver-version.full"] == "535.216.01"
        state = pod["status"]["containerStatuses"][0]["state"]
        assert state["waiting"]["reason"] == "CrashLoopBackOff"
    else:
        pytest.fail(f"no assertion for planted check {check}")


@pytest.mark.parametrize(("nodes", "pods"), [(48, 900), (12, 100), (200, 5000), (3, 0)])
def test_planted_defects_exist_in_the_objects(nodes: int, pods: int) -> None:
    spec = DemoSpec(nodes=nodes, pods=pods)
    objects = _objects(spec)
    items = planted(spec)
    for item in items:
        _assert_planted(item, objects, spec)
    assert len(items) == len(set(items))


def test_default_demo_plants_every_defect_kind() -> None:
    checks = Counter(p.check for p in planted(DemoSpec()))
    assert checks["drift:container_runtime"] >= 1
    assert checks["gpu-idle"] == 2
    assert checks["gpu-image-mutable-tag"] == 2
    for check in (
        "gpu-node-untainted",
        "gpu-request-without-limit",
        "gpu-namespace-without-quota",
        "drift:kernel",
        "drift:nvidia_driver",
        "gpu-hpa-cpu-only",
        "image-large-pull-always",
        "training-no-checkpoint-volume",
        "gpu-inference-no-pdb",
        "gpu-training-no-gang-scheduler",
        "gpu-workload-no-priority-class",
        "gpu-node-no-dcgm-exporter",
        "cuda-driver-mismatch",
        "custom-resource-version-removed",
        "env-plaintext-credential",
        "gpu-node-selector-unmatched",
        "gpu-serving-no-shm-volume",
        "gpu-workload-host-access",
        "gpu-workload-unschedulable",
        "node-docker-runtime",
        "node-pool-taint-untolerated",
        "training-checkpoint-path-ephemeral",
        "training-job-no-backoff-limit",
        "gpu-workload-no-memory-request",
        "gpu-serving-model-not-cached",
        "gpu-serving-no-gang-scheduler",
        "gpu-shared-advertised-as-whole",
        "gpu-sharing-on-inference",
    ):
        assert checks[check] >= 1, check


def test_planted_workload_names_do_not_depend_on_size() -> None:
    def workloads(spec: DemoSpec) -> set[tuple[str, str | None, str]]:
        return {(p.check, p.namespace, p.name) for p in planted(spec) if p.kind != "Node"}

    assert workloads(DemoSpec()) == workloads(DemoSpec(nodes=5000, pods=150_000, seed=1))


# ----------------------------------------------------------------------------- managedFields


def test_managed_fields_mode_adds_what_the_api_server_stores() -> None:
    spec = DemoSpec(nodes=12, pods=200, managed_fields=True)
    objects = _objects(spec)
    plain = _objects(DemoSpec(nodes=12, pods=200))
    assert len(objects) == len(plain)
    for obj in objects:
        meta = obj["metadata"]
        assert list(meta) == sorted(meta)
        assert meta["managedFields"][0]["fieldsType"] == "FieldsV1"
        if "status" in obj and obj["kind"] != "Namespace":
            assert meta["managedFields"][-1]["subresource"] == "status"
    key = "kubectl.kubernetes.io/last-applied-configuration"
    applied = [o for o in objects if key in o["metadata"].get("annotations", {})]
    assert applied
    text = applied[0]["metadata"]["annotations"][key]
    assert json.loads(text)["metadata"]["name"] == applied[0]["metadata"]["name"]


def test_managed_fields_shortcut_for_pods_matches_the_full_derivation() -> None:
    from plumbob.sources.demo.generator import _with_managed_fields

    spec = DemoSpec(nodes=24, pods=400)
    fast = [json.dumps(o) for o in generate(DemoSpec(nodes=24, pods=400, managed_fields=True))]
    full = [json.dumps(_with_managed_fields(o)) for o in generate(spec)]
    assert fast == full


# ----------------------------------------------------------------------------- docs


_DOCS = Path(__file__).resolve().parents[3] / "docs" / "demo.md"

# The checks added with the catalog's real-incident work: each can show on a live cluster and
# so has a planted defect, except the one whose input a live capture does not read.
_CATALOG_CHECKS = (
    "custom-resource-version-removed",
    "env-plaintext-credential",
    "gpu-node-selector-unmatched",
    "gpu-serving-no-gang-scheduler",
    "gpu-serving-no-shm-volume",
    "gpu-shared-advertised-as-whole",
    "gpu-workload-host-access",
    "gpu-workload-unschedulable",
    "node-docker-runtime",
    "node-pool-taint-untolerated",
    "training-checkpoint-path-ephemeral",
    "training-job-no-backoff-limit",
)
_NOT_LIVE = {
    "gpu-sharing-config-unsafe": "reads ConfigMap contents; a live capture lists ConfigMaps as "
    "metadata only",
}


def test_every_catalog_check_has_a_planted_defect() -> None:
    from plumbob.checks.registry import Registry
    from plumbob.sources.live import METADATA_ONLY

    registry = Registry.discover()
    planted_checks = {p.check for p in planted(DemoSpec())}
    for check in (*_CATALOG_CHECKS, *_NOT_LIVE):
        assert check in registry, check
    assert set(_CATALOG_CHECKS) <= planted_checks, set(_CATALOG_CHECKS) - planted_checks
    assert not set(_NOT_LIVE) & planted_checks
    assert ("", "ConfigMap") in METADATA_ONLY  # the reason the exemption gives still holds
    assert registry.get("gpu-sharing-config-unsafe").reads == ("ConfigMap",)  # type: ignore[union-attr]


def test_demo_md_lists_every_planted_defect() -> None:
    """docs/demo.md's table names each planted check id and subject."""
    text = _DOCS.read_text()
    table = text[text.index("## Planted defects") : text.index("## Kept clean on purpose")]
    for item in planted(DemoSpec()):
        assert f"`{item.check}`" in table, item.check
        if item.kind not in ("Node", "Cluster"):
            subject = f"{item.namespace}/{item.name}" if item.namespace else item.name
            assert subject in table, (item.check, subject)
