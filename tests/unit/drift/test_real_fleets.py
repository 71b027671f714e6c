"""Real node objects and machines from ../shared/fixtures/real, pooled and compared."""

from __future__ import annotations

import copy
import json
from pathlib import Path

from plumbob.drift import DriftAnalysis
from plumbob.drift.attributes import snapshot_attributes
from plumbob.model.nodes import pool_of
from plumbob.sources.files import FileSource
from tests.conftest import decode, make_node, snapshot_of

OPENSHIFT = "dumps/openshift-insights-archive-sample/openshift-insights-archive-sample"


def test_openshift_machines_name_their_machine_set(real: Path) -> None:
    machines = sorted((real / OPENSHIFT / "config/machines/openshift-machine-api").glob("*.json"))
    assert machines
    for path in machines:
        machine = json.loads(path.read_text())
        name = machine["metadata"]["name"]
        labels = machine["metadata"].get("labels", {})
        node = make_node(
            "n",
            labels={"node-role.kubernetes.io/master": ""}
            if labels.get("machine.openshift.io/cluster-api-machine-role") == "master"
            else {},
        )
        node["metadata"]["annotations"] = {
            "machine.openshift.io/machine": f"openshift-machine-api/{name}"
        }
        expected = labels.get("machine.openshift.io/cluster-api-machineset")
        pool = pool_of(decode(node))
        if expected:
            assert pool == expected, name
        else:  # control-plane machines belong to no MachineSet: the role fallback
            assert pool.startswith("control-plane"), (name, pool)


def test_real_cluster_dump_pools_and_no_drift(real: Path) -> None:
    snaps = FileSource((real / "dumps" / "k8s-ha-2017-cluster-info-dump",)).load().snapshots
    findings, section = DriftAnalysis()(snaps)
    assert {(r["pool"], r["nodes"]) for r in section["pools"]} == {
        ("control-plane", 3),
        ("default", 2),
    }
    assert findings == []


def test_one_changed_real_node_is_the_only_outlier(real: Path) -> None:
    data = json.loads((real / "nodes" / "edgexr-aks-agentpool-3nodes.nodelist.json").read_text())
    items = data["items"]
    changed = copy.deepcopy(items[1])
    changed["status"]["nodeInfo"]["kernelVersion"] = "5.4.0-1051-azure"
    changed["metadata"]["labels"]["kubernetes.azure.com/node-image-version"] = (
        "AKSUbuntu-1804gen2-2021.07.03"
    )
    findings, section = DriftAnalysis()([snapshot_of(items[0], changed, items[2])])
    node = changed["metadata"]["name"]
    assert sorted((f.check, f.subject.name, f.severity) for f in findings) == [
        ("drift:kernel", node, "medium"),
        ("drift:label", node, "low"),
    ]
    (row,) = section["pools"]
    assert row["pool"] == "agentpool" and row["nodes"] == 3
    assert row["cells"]["kernel"]["majority"] == "5.4.0-1049-azure"


def test_vgpu_guest_driver_drift_on_real_node(real: Path) -> None:
    data = json.loads((real / "nodes" / "edgexr-rke2-nori-a16-vgpu.nodelist.json").read_text())
    base = data["items"][0]
    nodes = []
    for i in range(3):
        node = copy.deepcopy(base)
        node["metadata"]["name"] = f"nori-{i}"
        node["metadata"]["labels"]["kubernetes.io/hostname"] = f"nori-{i}"
        nodes.append(node)
    nodes[2]["metadata"]["labels"]["nvidia.com/vgpu.host-driver-version"] = "550.127.06"
    findings, section = DriftAnalysis()([snapshot_of(*nodes)])
    assert [(f.check, f.subject.name, f.severity) for f in findings] == [
        ("drift:vgpu_host_driver", "nori-2", "high")
    ]
    (row,) = section["pools"]
    assert row["gpu"] and row["cells"]["nvidia_driver"]["majority"] == "550.90.07"


NODES = "nodes"


def _text_labels(path: Path) -> dict[str, str]:
    """Labels from a pasted `kubectl describe node` (key=value) or `-o yaml | grep` (key: value)
    excerpt; lines that are not labels are skipped."""
    labels: dict[str, str] = {}
    for line in path.read_text().splitlines():
        text = line.strip()
        if text.startswith((">", "$", "kubectl", "nfd.node")):
            continue
        key, sep, value = text.partition("=") if "=" in text else text.partition(": ")
        if sep and "/" in key and " " not in key:
            labels[key] = value.strip().strip('"')
    return labels


def _named(data: dict, name: str) -> dict:
    node = copy.deepcopy(data)
    node["metadata"]["name"] = name
    node["metadata"]["labels"]["kubernetes.io/hostname"] = name
    return node


def test_mig_strategy_and_layout_drift_on_real_gfd_labels(real: Path) -> None:
    """Three H100 nodes on the mixed MIG strategy (NVIDIA's documented label set) and one on
    the single strategy: the odd node differs in strategy, config, layout and replicas; the
    per-profile GFD labels are one `mig_layout` attribute, not dozens of label findings."""
    mixed = json.loads((real / NODES / "nvidia-docs-h100-mig-mixed.labels.json").read_text())
    single = json.loads((real / NODES / "nvidia-docs-h100-mig-single.labels.json").read_text())
    for labels in (mixed, single):
        labels["eks.amazonaws.com/nodegroup"] = "h100"
    nodes = [make_node(f"m{i}", labels=mixed) for i in range(3)]
    nodes.append(make_node("s0", labels=single))
    findings, section = DriftAnalysis()([snapshot_of(*nodes)])
    assert sorted((f.check, f.subject.name) for f in findings if f.check != "drift:label") == [
        ("drift:mig_config", "s0"),
        ("drift:mig_layout", "s0"),
        ("drift:mig_strategy", "s0"),
        ("drift:sharing_replicas", "s0"),
    ]
    labels = [f.subject.path for f in findings if f.check == "drift:label"]
    assert labels == ["label:nvidia.com/gpu.deploy.nvsm"]  # "" on s0, "true" elsewhere
    (row,) = section["pools"]
    assert row["cells"]["mig_layout"]["majority"] == "1g.10gb:2, 2g.20gb:1, 3g.40gb:1"
    assert not any(k.startswith("label:nvidia.com/mig-") for k in row["cells"])


def test_device_plugin_missing_on_one_real_node(real: Path) -> None:
    """The same k3s node before and after the device plugin registered its 8 GPUs."""
    after = json.loads((real / NODES / "akash-k3s-node1-8gpu-no-gfd.json").read_text())
    before = json.loads((real / NODES / "akash-k3s-node1-gpu0-before-plugin.json").read_text())
    nodes = [_named(after, "node0"), _named(after, "node1"), _named(before, "node2")]
    findings, section = DriftAnalysis()([snapshot_of(*nodes)])
    assert sorted((f.check, f.subject.name, f.severity) for f in findings) == [
        ("drift:allocatable_gpu", "node2", "medium"),
        ("drift:gpu_count", "node2", "medium"),
    ]
    assert section["pools"][0]["pool"] == "control-plane/k3s"  # fallback: role + instance type


def test_legacy_gfd_labels_on_real_openshift_node(real: Path) -> None:
    """OpenShift 4.4 worker with GFD's legacy schema (cuda.driver.*, cuda.runtime.*)."""
    labels = _text_labels(real / NODES / "hpe-ocp44-worker03-t4-gfd-labels.txt")
    labels.update(_text_labels(real / NODES / "hpe-ocp44-worker03-t4-nfd-labels.txt"))
    assert labels["nvidia.com/cuda.driver.rev"] == "02"
    old = dict(labels, **{"nvidia.com/cuda.driver.minor": "64", "nvidia.com/cuda.driver.rev": "00"})
    nodes = [make_node(f"worker0{i}", gpus=1, labels=labels) for i in range(3)]
    nodes.append(make_node("worker03", gpus=1, labels=old))
    attrs = snapshot_attributes(snapshot_of(*nodes))
    assert attrs["worker00"].nvidia_driver == "450.80.02" and attrs["worker00"].cuda == "11.0"
    assert attrs["worker00"].gpu_product == "Tesla-T4"
    assert attrs["worker00"].pool == "Tesla-T4"  # fallback: no pool label, no instance type
    assert not any(
        k.startswith("feature.node.kubernetes.io/kernel-version") for k in attrs["worker00"].labels
    )
    findings, _ = DriftAnalysis()([snapshot_of(*nodes)])
    assert [(f.check, f.subject.name, f.severity, f.evidence["value"]) for f in findings] == [
        ("drift:nvidia_driver", "worker03", "high", "450.64.00")
    ]


def test_time_slicing_on_one_real_node(real: Path) -> None:
    """A Tesla P40 time-sliced 8 ways (product gets -SHARED) among unshared P40s."""
    shared = _text_labels(real / NODES / "homelab-nforceroh-virt01-tesla-p40-timeslice.labels.txt")
    assert shared["nvidia.com/gpu.replicas"] == "8"
    plain = dict(shared, **{"nvidia.com/gpu.replicas": "1", "nvidia.com/gpu.product": "Tesla-P40"})
    plain.pop("nvidia.com/device-plugin.config")
    nodes = [make_node(f"virt0{i}", gpus=1, labels=dict(plain, pool="lab")) for i in range(3)]
    nodes.append(make_node("virt01x", gpus=8, labels=dict(shared, pool="lab")))
    findings, _ = DriftAnalysis(pool_label="pool")([snapshot_of(*nodes)])
    assert sorted((f.check, f.subject.name) for f in findings) == [
        ("drift:allocatable_gpu", "virt01x"),
        ("drift:gpu_product", "virt01x"),
        ("drift:label", "virt01x"),  # nvidia.com/device-plugin.config=Tesla-P40
        ("drift:sharing_replicas", "virt01x"),
    ]


def _custom_columns(path: Path) -> list[dict[str, str]]:
    lines = [ln for ln in path.read_text().splitlines() if ln and not ln.startswith("$")]
    header = lines[0].split()
    return [dict(zip(header, ln.split(), strict=True)) for ln in lines[1:]]


def test_real_eks_and_gke_h100_pools_compared_across_clusters(real: Path) -> None:
    """NVIDIA's AICR reference clusters: EKS p5.48xlarge (GFD product label, node group in a
    custom `nodeGroup` label) and GKE a3-megagpu-8g (GKE accelerator label, GKE node pool).
    Pooled by the right labels, and one H100 model across the two clusters."""
    eks_rows = _custom_columns(real / NODES / "nvidia-aicr-eks-p5-gpu-nodes-custom-columns.txt")
    gke_rows = _custom_columns(real / NODES / "nvidia-aicr-gke-a3mega-gpu-nodes-custom-columns.txt")
    eks = [
        make_node(
            r["NAME"],
            gpus=int(r["GPUS"]),
            product=r["PRODUCT"],
            labels={
                "node.kubernetes.io/instance-type": r["INSTANCE-TYPE"],
                "nodeGroup": r["NODE-GROUP"],
                "topology.kubernetes.io/zone": r["ZONE"],
                "nvidia.com/cuda.driver-version.full": "570.133.20",
            },
        )
        for r in eks_rows
    ]
    gke = [
        make_node(
            r["NAME"],
            gpus=int(r["GPUS"]),
            labels={
                "node.kubernetes.io/instance-type": r["INSTANCE-TYPE"],
                "cloud.google.com/gke-accelerator": r["ACCELERATOR"],
                "cloud.google.com/gke-nodepool": r["NODE-POOL"],
                "nvidia.com/cuda.driver-version.full": "550.90.07",
            },
        )
        for r in gke_rows
    ]
    east, west = snapshot_of(*eks, cluster="eks"), snapshot_of(*gke, cluster="gke")
    assert {a.pool for a in snapshot_attributes(east).values()} == {
        "p5.48xlarge/NVIDIA-H100-80GB-HBM3"  # fallback: nodeGroup is no standard pool label
    }
    assert {a.pool for a in snapshot_attributes(east, "nodeGroup").values()} == {"gpu-worker"}
    assert {a.pool for a in snapshot_attributes(west).values()} == {"aicr-demo2-gpu-worker"}
    findings, section = DriftAnalysis()([east, west])
    assert not [f for f in findings if f.check.startswith("drift:")]
    cross = {(r["group"], r["attribute"]): r["values"] for r in section["cross"]}
    assert cross == {
        ("gpu:NVIDIA-H100-80GB-HBM3", "nvidia_driver"): {"eks": "570.133.20", "gke": "550.90.07"}
    }
