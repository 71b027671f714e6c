"""Real node objects and machines from ../shared/fixtures/real, pooled and compared."""

from __future__ import annotations

import copy
import json
from pathlib import Path

from plumbob.drift import DriftAnalysis
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
