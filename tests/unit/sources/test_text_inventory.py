"""Text inventories: kubectl describe/get output, label maps and grep excerpts read into nodes,
other outputs refused with a reason, everything else left alone."""

from __future__ import annotations

import json
import time
from pathlib import Path

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from plumbob.model.objects import NODE_PARTS, Node, Origin
from plumbob.sources.decode import ObjectDecoder
from plumbob.sources.text_command import command_at
from plumbob.sources.text_inventory import (
    NotInventory,
    TextInventory,
    TextNode,
    label_map_node,
    read_text,
    stem,
)
from tests.conftest import ROOT

FIXTURES = ROOT / "tests" / "fixtures" / "text_inventory"
ALL_PARTS = tuple(sorted(NODE_PARTS))


def read(name: str) -> TextInventory:
    result = read_text((FIXTURES / name).read_text(encoding="utf-8"), name)
    assert isinstance(result, TextInventory), result
    return result


def refused(name: str) -> str:
    result = read_text((FIXTURES / name).read_text(encoding="utf-8"), name)
    assert isinstance(result, NotInventory), result
    assert "\n" not in result.reason
    return result.reason


def only(inventory: TextInventory) -> TextNode:
    assert len(inventory.nodes) == 1, inventory.nodes
    return inventory.nodes[0]


def known(node: TextNode) -> tuple[str, ...]:
    return tuple(p for p in ALL_PARTS if p not in node.unknown)


def as_node(node: TextNode, file: str = "test") -> Node:
    """The Node the text showed, as the file source makes it: decoded without a diagnostic,
    with the parts the text did not show as its `unknown`."""
    decoder = ObjectDecoder()
    obj = decoder.from_data(node.data, Origin(file=file, line=node.line))
    assert decoder.diagnostics == []
    assert isinstance(obj, Node)
    return msgspec.structs.replace(obj, unknown=node.unknown)


# ------------------------------------------------------------------ kubectl describe node


def test_describe_gpu_node_cut_in_its_annotations() -> None:
    inv = read("hami-314-describe-node-a100-k3s.txt")
    node = only(inv)
    assert inv.form == "kubectl describe node"
    meta = node.data["metadata"]
    assert meta["name"] == "416a100"
    assert meta["labels"] == {
        "beta.kubernetes.io/arch": "amd64",
        "beta.kubernetes.io/instance-type": "k3s",
        "beta.kubernetes.io/os": "linux",
        "gpu": "on",
        "k3s.io/hostname": "416a100",
        "k3s.io/internal-ip": "192.168.2.145",
        "kubernetes.io/arch": "amd64",
        "kubernetes.io/hostname": "416a100",
        "kubernetes.io/os": "linux",
        "node-role.kubernetes.io/master": "true",
        "node.kubernetes.io/instance-type": "k3s",
    }
    assert meta["annotations"] == {
        "flannel.alpha.coreos.com/backend-data": '{"VtepMAC":"a2:0a:a5:6d:d7:7e"}',
        "flannel.alpha.coreos.com/backend-type": "vxlan",
        "flannel.alpha.coreos.com/kube-subnet-manager": "true",
        "flannel.alpha.coreos.com/public-ip": "192.168.2.145",
        "hami.io/mutex.lock": "2024-05-13T13:04:17Z",
        "hami.io/node-handshake": "Requesting_2024.05.20 11:44:46",
        "k3s.io/node-args": '["server","--docker"]',
    }
    # labels closed by the Annotations header; annotations shortened by kubectl and cut off
    assert known(node) == ("labels",)
    assert node.partial == ("annotations",)
    assert (
        21,
        "annotation hami.io/node-nvidia-register was shortened by kubectl: its value is not known",
    ) in inv.problems
    assert node.line == 2


def test_describe_of_a_whole_gpu_node_with_its_events() -> None:
    inv = read("hokunpark98-describe-node-rtx3090-events.txt")
    node = only(inv)
    assert inv.form == "kubectl describe node"
    meta, spec, status = node.data["metadata"], node.data["spec"], node.data["status"]
    assert meta["name"] == "dnclab3"
    assert meta["creationTimestamp"] == "2023-07-30T12:33:06Z"
    assert len(meta["labels"]) == 79
    assert meta["labels"]["nvidia.com/gpu.product"] == "NVIDIA-GeForce-RTX-3090"
    assert meta["annotations"]["nfd.node.kubernetes.io/extended-resources"] == ""
    assert "nfd.node.kubernetes.io/feature-labels" not in meta["annotations"]  # shortened
    assert spec == {"unschedulable": False, "podCIDR": "172.16.1.0/24"}
    assert status["capacity"]["nvidia.com/gpu"] == "1"
    assert status["allocatable"]["ephemeral-storage"] == "441519308889"
    assert status["conditions"][-1] == {"type": "Ready", "status": "True", "reason": "KubeletReady"}
    assert status["nodeInfo"] == {
        "machineID": "ddcba600321d41f987badfea046ac3e1",
        "systemUUID": "3eecca3d-83ab-85dd-2cfd-3c7c3f526a78",
        "bootID": "03e94a78-46fe-4d69-84f3-05173e821b1b",
        "kernelVersion": "5.4.0-150-generic",
        "osImage": "Ubuntu 18.04.6 LTS",
        "operatingSystem": "linux",
        "architecture": "amd64",
        "containerRuntimeVersion": "containerd://1.6.21",
        "kubeletVersion": "v1.24.15",
        "kubeProxyVersion": "v1.24.15",
    }
    assert status["addresses"] == [
        {"type": "InternalIP", "address": "192.168.0.4"},
        {"type": "Hostname", "address": "dnclab3"},
    ]
    assert node.unknown == ("annotations", "images")
    assert node.partial == ("annotations",)
    assert inv.problems == [
        (
            84,
            "annotation nfd.node.kubernetes.io/feature-labels was shortened by kubectl: its "
            "value is not known",
        )
    ]
    assert as_node(node).knows("labels", "taints", "capacity", "nodeInfo", "providerID")


def test_describe_leaves_out_an_annotation_kubectl_shortened() -> None:
    node = only(read("k3s-8575-describe-node-worker0.txt"))
    annotations = node.data["metadata"]["annotations"]
    assert "k3s.io/node-env" not in annotations
    assert annotations["k3s.io/node-args"] == '["agent"]'
    assert annotations["flannel.alpha.coreos.com/backend-data"] == (
        '{"VNI":1,"VtepMAC":"7e:17:3f:a5:6c:93"}'
    )
    assert annotations["node.alpha.kubernetes.io/ttl"] == "0"
    assert node.data["metadata"]["labels"]["node.kubernetes.io/instance-type"] == "k3s"
    assert known(node) == ("labels",)


def test_describe_with_sections_a_person_left_out() -> None:
    inv = read("hami-477-describe-node-trimmed-sections.txt")
    node = only(inv)
    assert node.data["metadata"] == {"name": "gpu-000-001"}
    assert node.data["status"]["capacity"] == {
        "cpu": "128",
        "ephemeral-storage": "13119414984Ki",
        "hugepages-1Gi": "0",
        "hugepages-2Mi": "0",
        "memory": "1055950504Ki",
        "nvidia.com/gpu": "80",
        "pods": "110",
    }
    assert node.data["status"]["allocatable"]["nvidia.com/gpu"] == "70"
    assert node.data["status"]["allocatable"]["cpu"] == "124"
    assert known(node) == ("allocatable", "capacity")
    assert node.partial == ()
    assert inv.problems == []  # the Allocated resources table is skipped without a word


def test_describe_elisions_make_a_section_partial() -> None:
    node = only(read("bacchus-sgs-describe-node-bentley-elided.txt"))
    assert node.data["metadata"]["name"] == "bentley"
    assert node.data["status"]["allocatable"]["nvidia.com/gpu"] == "8"
    assert "capacity" not in node.data["status"]
    assert known(node) == ()
    assert node.partial == ("allocatable",)


def test_describe_in_kubectl_1_9_format() -> None:
    """Annotations printed `key=value`, Taints before CreationTimestamp, no Unschedulable."""
    node = only(read("kops-4296-describe-node-kubectl-1.9-format.txt"))
    meta = node.data["metadata"]
    assert meta["name"] == "ip-10-164-56-190.ec2.internal"
    assert meta["creationTimestamp"] == "2018-01-18T17:46:34Z"
    assert meta["annotations"] == {
        "kubernetes-ec2-srcdst-controller.ottoyiu.com/srcdst-check-disabled": "true",
        "node.alpha.kubernetes.io/ttl": "0",
        "volumes.kubernetes.io/controller-managed-attach-detach": "true",
    }
    assert meta["labels"]["node-role.kubernetes.io/node"] == ""
    assert meta["labels"]["company.io/reserved-for"] == "app"
    assert "taints" not in node.data["spec"]
    assert known(node) == ("annotations", "labels", "taints")
    assert node.partial == ("conditions",)  # cut after the Conditions header


def test_describe_after_a_root_prompt_in_backquotes() -> None:
    node = only(read("gpu-operator-209-describe-nodes-prompt-nfd-labels.txt"))
    assert node.data["metadata"]["name"] == "jupyter-training-3-0-gpu-worke-r3my7owtqqja-node-0"
    labels = node.data["metadata"]["labels"]
    assert len(labels) == 16
    assert labels["feature.node.kubernetes.io/cpu-cpuid.AVX512VNNI"] == "true"
    assert node.partial == ("labels",)


def test_describe_fragment_from_capacity_on() -> None:
    inv = read("k8s-device-plugin-285-describe-node-from-capacity.txt")
    node = only(inv)
    name = "k8s-device-plugin-285-describe-node-from-capacity"
    assert inv.form == "kubectl describe node (fragment)"
    assert node.data["metadata"]["name"] == name
    assert (2, f"the text shows no node name: the node is named {name!r}, after the file") in (
        inv.problems
    )
    assert node.data["status"]["nodeInfo"] == {
        "machineID": "bba0be70c47c400ea3cf7733f1c0b4c1",
        "systemUUID": "f1abc282-dcc9-4142-ab97-71c9cedf0565",
        "bootID": "de5bc434-e0c5-4990-8186-586d4755134a",
        "kernelVersion": "5.11.0-43-generic",
        "osImage": "Ubuntu 20.04.2 LTS",
        "operatingSystem": "linux",
        "architecture": "amd64",
        "containerRuntimeVersion": "docker://20.10.8",
        "kubeletVersion": "v1.22.3",
        "kubeProxyVersion": "v1.22.3",
    }
    assert "nvidia.com/gpu" not in node.data["status"]["capacity"]
    assert node.data["spec"] == {"podCIDR": "10.244.0.0/24"}
    # PodCIDRs followed straight by the pods: the node has no providerID
    assert known(node) == ("allocatable", "capacity", "nodeInfo", "providerID", "systemInfo")


def test_describe_fragment_cut_mid_conditions_with_one_space_rows() -> None:
    inv = read("k8s-device-plugin-165-describe-node-mid-conditions.txt")
    node = only(inv)
    assert node.data["status"]["capacity"] == {
        "cpu": "4",
        "ephemeral-storage": "960317832Ki",
        "hugepages-2Mi": "0",
        "memory": "16408544Ki",
        "nvidia.com/gpu": "1",
        "pods": "110",
    }
    assert node.data["status"]["addresses"] == [
        {"type": "InternalIP", "address": "140.124.44.9"},
        {"type": "Hostname", "address": "k8s-node1"},
    ]
    assert known(node) == ("capacity",)
    assert node.partial == ("allocatable",)
    assert (2, "lines 2-6: rows whose section header is not shown (cut or elided); skipped") in (
        inv.problems
    )


def test_describe_with_a_placeholder_name_and_commented_quantities() -> None:
    inv = read("volcano-colocation-describe-node-placeholder-comments.txt")
    node = only(inv)
    assert node.data["metadata"]["name"] == "volcano-colocation-describe-node-placeholder-comments"
    assert node.data["status"]["allocatable"]["kubernetes.io/batch-cpu"] == "7937"
    assert any("quantity ignored" in message for _, message in inv.problems)


_CONDITIONS_HEADER = (
    "  Type             Status  LastHeartbeatTime                 LastTransitionTime"
    "                Reason                       Message\n"
    "  ----             ------  -----------------                 ------------------"
    "                ------                       -------\n"
)
_CONDITION = (
    "  {:<16} {:<7} Wed, 11 Dec 2019 10:00:00 +0000   Tue, 10 Dec 2019 09:33:34 +0000   {:<28} {}\n"
)
DESCRIBE_TWO = (
    """\
Name:               gpu-a
Roles:              <none>
Labels:             kubernetes.io/hostname=gpu-a
                    nvidia.com/gpu.product=NVIDIA-A100-SXM4-80GB
Annotations:        node.alpha.kubernetes.io/ttl: 0
CreationTimestamp:  Tue, 10 Dec 2019 09:33:34 +0100
Taints:             nvidia.com/gpu=present:NoSchedule
                    dedicated:NoExecute
Unschedulable:      true
Conditions:
"""
    + _CONDITIONS_HEADER
    + _CONDITION.format(
        "MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory"
    )
    + _CONDITION.format("Ready", "True", "KubeletReady", "kubelet is posting ready status")
    + """\
Addresses:
  InternalIP:  10.0.0.1
Capacity:
  nvidia.com/gpu:  8
Allocatable:
  nvidia.com/gpu:  8
System Info:
  Kernel Version:             5.15.0-1019-aws
  OS Image:                   Ubuntu 22.04.1 LTS
  Container Runtime Version:  containerd://1.6.8
  Kubelet Version:            v1.25.4
ProviderID:                   aws:///us-east-1a/i-0abc
Non-terminated Pods:          (0 in total)
  Namespace                   Name    CPU Requests  CPU Limits  Memory Requests  Memory Limits  Age
  ---------                   ----    ------------  ----------  ---------------  -------------  ---
Allocated resources:
  (Total limits may be over 100 percent, i.e., overcommitted.)
  Resource           Requests  Limits
  --------           --------  ------
  nvidia.com/gpu     0         0
Events:              <none>


Name:               cpu-b
Roles:              control-plane,master
Labels:             <none>
Annotations:        <none>
CreationTimestamp:  Tue, 10 Dec 2019 09:33:34 +0000
Taints:             <none>
Unschedulable:      false
"""
)


def test_describe_of_several_nodes_each_block_its_own_node() -> None:
    """Layout as kubectl prints it (blank lines between nodes, Events last), CRLF and tabs."""
    text = DESCRIBE_TWO.replace("\n", "\r\n").replace("Roles:              ", "Roles:\t\t    ")
    inv = read_text("$ kubectl describe nodes\r\n" + text, "nodes.txt")
    assert isinstance(inv, TextInventory)
    first, second = inv.nodes
    assert first.data["metadata"]["name"] == "gpu-a"
    assert first.data["metadata"]["creationTimestamp"] == "2019-12-10T08:33:34Z"
    assert first.data["spec"] == {
        "taints": [
            {"key": "nvidia.com/gpu", "value": "present", "effect": "NoSchedule"},
            {"key": "dedicated", "effect": "NoExecute"},
        ],
        "unschedulable": True,
        "providerID": "aws:///us-east-1a/i-0abc",
    }
    assert first.data["status"]["conditions"] == [
        {"type": "MemoryPressure", "status": "False", "reason": "KubeletHasSufficientMemory"},
        {"type": "Ready", "status": "True", "reason": "KubeletReady"},
    ]
    assert first.unknown == ("images",)
    assert first.partial == ()
    assert second.data["metadata"] == {
        "name": "cpu-b",
        "creationTimestamp": "2019-12-10T09:33:34Z",
    }
    assert known(second) == ("annotations", "labels", "taints", "unschedulable")
    assert second.data["spec"] == {"unschedulable": False}
    assert as_node(first).knows("taints", "capacity")
    assert not as_node(second).knows("capacity")  # with Node.unknown set from the TextNode
    assert inv.problems == []


def test_describe_excerpt_named_by_its_command_line() -> None:
    """`kubectl describe node virt01 | egrep ...` in the shared fixtures: labels, partial."""
    text = (
        'kubectl describe node virt01 |egrep "gpu.count|gpu.product"\n'
        "                    nvidia.com/gpu.count=1\n"
        "                    nvidia.com/gpu.product=Tesla-P40-SHARED\n"
    )
    node = only(result := read_text(text, "virt01.txt"))  # type: ignore[arg-type]
    assert isinstance(result, TextInventory)
    assert result.form == "kubectl describe node (egrep excerpt)"
    assert node.data["metadata"] == {
        "name": "virt01",
        "labels": {"nvidia.com/gpu.count": "1", "nvidia.com/gpu.product": "Tesla-P40-SHARED"},
    }
    assert node.unknown == ALL_PARTS
    assert node.partial == ("labels",)


def test_egrep_excerpt_keeps_rows_under_their_kept_headers() -> None:
    inv = read("nvidia-docs-oc-describe-node-egrep-mig.txt")
    node = only(inv)
    assert inv.form == "oc describe node (egrep excerpt)"
    assert node.data["metadata"] == {"name": "myworker.redhat.com"}
    assert node.data["status"] == {
        "capacity": {"nvidia.com/gpu": "8"},
        "allocatable": {"nvidia.com/gpu": "8"},
    }
    assert node.partial == ("allocatable", "capacity")


def test_excerpt_rows_seen_twice_under_one_header_are_not_kept() -> None:
    text = (
        "$ kubectl describe node g1 | egrep 'Capacity|gpu'\n"
        "Capacity:\n"
        "  nvidia.com/gpu:     8\n"
        "  nvidia.com/gpu:     7\n"
    )
    inv = read_text(text, "g1.txt")
    assert isinstance(inv, TextInventory)
    assert "capacity" not in only(inv).data["status"]
    assert any("shows twice under Capacity" in m for _, m in inv.problems)


# ------------------------------------------------------------------ kubectl get nodes


def test_get_nodes_wide_with_labels() -> None:
    inv = read("akash-community-608-get-nodes-wide-show-labels.txt")
    assert inv.form == "kubectl get nodes -o wide --show-labels"
    node1, node10 = inv.nodes
    assert node1.data == {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": "node1",
            "labels": {
                "AMD": "true",
                "NVIDIA-GTX-1660-TI": "true",
                "akash.network": "true",
                "beta.kubernetes.io/arch": "amd64",
                "beta.kubernetes.io/os": "linux",
                "kubernetes.io/arch": "amd64",
                "kubernetes.io/hostname": "node1",
                "kubernetes.io/os": "linux",
                "node-role.kubernetes.io/control-plane": "",
                "node.kubernetes.io/exclude-from-external-load-balancers": "",
            },
        },
        "spec": {"unschedulable": False},
        "status": {
            "nodeInfo": {
                "kubeletVersion": "v1.27.7",
                "osImage": "Ubuntu 22.04.4 LTS",
                "kernelVersion": "5.15.0-94-generic",
                "containerRuntimeVersion": "containerd://1.7.5",
            },
            "conditions": [{"type": "Ready", "status": "True"}],
            "addresses": [{"type": "InternalIP", "address": "10.8.102.131"}],
        },
    }
    assert known(node1) == ("conditions", "labels", "nodeInfo", "unschedulable")
    assert node10.data["metadata"]["labels"]["allow-nvdp"] == "true"
    assert node10.data["status"]["nodeInfo"]["kernelVersion"] == "5.15.0-100-generic"


def test_get_nodes_with_labels_but_not_wide_knows_only_the_kubelet() -> None:
    inv = read("k8s-device-plugin-607-get-nodes-show-labels.txt")
    assert inv.form == "kubectl get nodes --show-labels"
    node = inv.nodes[0]
    assert node.data["status"]["nodeInfo"] == {"kubeletVersion": "v1.28.6"}
    assert known(node) == ("conditions", "labels", "unschedulable")
    assert node.partial == ("nodeInfo",)


def test_get_nodes_wide_from_kubectl_1_8_without_internal_ip() -> None:
    inv = read("kubernetes-57010-get-no-wide-kubectl-1.8.txt")
    assert [n.data["metadata"]["name"] for n in inv.nodes] == [
        "uy02-07",
        "uy05-13",
        "uy08-07",
        "uy08-08",
    ]
    info = inv.nodes[1].data["status"]["nodeInfo"]
    assert info == {
        "kubeletVersion": "v1.8.4",
        "osImage": "Debian GNU/Linux 9 (stretch)",
        "kernelVersion": "4.9.0-4-amd64",
        "containerRuntimeVersion": "docker://Unknown",
    }
    assert "addresses" not in inv.nodes[1].data["status"]  # EXTERNAL-IP <none>


def test_get_nodes_wide_columns_by_position_when_two_cells_hold_spaces() -> None:
    node = only(read("hami-website-k3s-get-nodes-wide.txt"))
    assert node.data["status"]["nodeInfo"]["kernelVersion"] == "6.8.0-1063-gcp (amd64)"
    assert node.data["status"]["nodeInfo"]["osImage"] == "Ubuntu 22.04.5 LTS"


def test_get_nodes_without_a_command_line() -> None:
    inv = read("k3s-10534-get-nodes-wide.txt")
    assert inv.form == "kubectl get nodes -o wide"
    node = only(inv)
    assert node.data["status"]["addresses"] == [
        {"type": "InternalIP", "address": "10.64.4.86"},
        {"type": "ExternalIP", "address": "184.105.5.117"},
    ]


def test_get_nodes_with_columns_a_document_removed() -> None:
    inv = read("hami-website-vllm-get-nodes-wide-edited-columns.txt")
    assert len(inv.nodes) == 3
    node = inv.nodes[0]
    assert node.data["status"]["nodeInfo"] == {
        "kubeletVersion": "v1.36.1-aliyun.1",
        "osImage": "Alibaba Cloud Linux 3.2104 U13.1 (OpenAnolis Edition)",
        "containerRuntimeVersion": "containerd://1.6.28",
    }
    assert node.partial == ("nodeInfo",)


def test_get_nodes_label_columns_and_selector_give_some_labels() -> None:
    node = only(read("ai-on-eks-get-node-label-column.txt"))
    assert node.data["metadata"]["labels"] == {
        "type": "karpenter",
        "node.kubernetes.io/instance-type": "g5.2xlarge",
    }
    assert node.partial == ("labels", "nodeInfo")


def test_get_nodes_two_tables_after_two_commands() -> None:
    inv = read("bacchus-sgs-get-node-selector.txt")
    labels = {n.data["metadata"]["name"]: n.data["metadata"]["labels"] for n in inv.nodes}
    key = "node-restriction.kubernetes.io/nodegroup"
    assert labels == {
        "ferrari": {key: "undergraduate"},
        "ford": {key: "undergraduate"},
        "bentley": {key: "graduate"},
    }


@pytest.mark.parametrize(
    ("status", "ready", "unschedulable"),
    [
        ("Ready", "True", False),
        ("NotReady", "False", False),
        ("Ready,SchedulingDisabled", "True", True),
        ("NotReady,SchedulingDisabled", "False", True),
        ("Unknown", None, False),
    ],
)
def test_get_nodes_status_column(status: str, ready: str | None, unschedulable: bool) -> None:
    text = (
        "NAME    STATUS                        ROLES                  AGE   VERSION\n"
        f"gpu-1   {status:<29} control-plane,master   12d   v1.29.3\n"
    )
    node = only(inv := read_text(text, "n.txt"))  # type: ignore[arg-type]
    assert isinstance(inv, TextInventory)
    conditions = [{"type": "Ready", "status": ready}] if ready else []
    assert node.data["status"].get("conditions", []) == conditions
    assert node.data["spec"] == {"unschedulable": unschedulable}
    assert as_node(node).ready is (None if ready is None else ready == "True")


def test_grep_kept_rows_of_a_node_table_without_its_header() -> None:
    text = (
        "$ kubectl get nodes -o wide | grep gpu\n"
        "gpu-1   Ready   <none>   3d   v1.30.2   10.0.0.7   <none>   Ubuntu 22.04.4 LTS"
        "   5.15.0-105-generic   containerd://1.7.12\n"
    )
    node = only(inv := read_text(text, "n.txt"))  # type: ignore[arg-type]
    assert isinstance(inv, TextInventory)
    assert node.data["status"]["nodeInfo"]["osImage"] == "Ubuntu 22.04.4 LTS"
    assert node.data["status"]["nodeInfo"]["containerRuntimeVersion"] == "containerd://1.7.12"


# ------------------------------------------------------------------ custom columns, label maps


def test_custom_columns_with_a_quoted_spec_and_label_columns() -> None:
    inv = read("hami-website-vllm-custom-columns.txt")
    assert inv.form == "kubectl get nodes -o custom-columns"
    node = inv.nodes[0]
    assert node.data["metadata"] == {
        "name": "cn-hangzhou.10.10.1.73",
        "labels": {"gpu": "on", "aliyun.accelerator/xpu_type": "nvidia"},
    }
    assert node.data["status"] == {"allocatable": {"nvidia.com/gpu": "10"}}
    assert node.partial == ("allocatable", "labels")


def test_custom_columns_whole_fields_are_known() -> None:
    text = (
        "$ kubectl get nodes -o custom-columns=NAME:.metadata.name,"
        "PROVIDER:.spec.providerID,CORDONED:.spec.unschedulable,TAINTS:.spec.taints\n"
        "NAME   PROVIDER            CORDONED   TAINTS\n"
        "a      aws:///x/i-1        true       <none>\n"
        "b      <none>              <none>     <none>\n"
    )
    inv = read_text(text, "c.txt")
    assert isinstance(inv, TextInventory)
    a, b = inv.nodes
    assert a.data["spec"] == {"unschedulable": True, "providerID": "aws:///x/i-1"}
    assert b.data["spec"] == {"unschedulable": False}
    assert known(b) == ("providerID", "unschedulable")
    assert (2, "column(s) TAINTS not read") in inv.problems


def test_custom_columns_with_lower_case_headers_in_braces() -> None:
    text = (
        "$ kubectl get node -o custom-columns=Num:'{.status.capacity.nvidia\\.com/gpu}',"
        "Name:'{.metadata.name}'\n"
        "Num    Name\n"
        "8      gpu-a\n"
        "<none> cpu-b\n"
    )
    inv = read_text(text, "c.txt")
    assert isinstance(inv, TextInventory)
    gpu, cpu = inv.nodes
    assert gpu.data["metadata"] == {"name": "gpu-a"}
    assert gpu.data["status"] == {"capacity": {"nvidia.com/gpu": "8"}}
    assert cpu.data["status"] == {}
    assert cpu.partial == ()  # a <none> cell shows nothing, not even a partial capacity


def test_custom_columns_without_the_command_line_are_refused() -> None:
    text = "NAME    GPUS   PRODUCT\ngpu-1   8      NVIDIA-H100-80GB-HBM3\n"
    result = read_text(text, "t.txt")
    assert isinstance(result, NotInventory)
    assert "custom-columns" in result.reason


def test_label_map_after_a_jq_filter_that_selects_is_partial() -> None:
    inv = read("nvidia-docs-get-node-jq-labels-filtered.txt")
    node = only(inv)
    assert inv.form == "node label map"
    assert node.data["metadata"]["labels"]["nvidia.com/gpu.product"] == "A100-SXM4-40GB"
    assert len(node.data["metadata"]["labels"]) == 13
    assert node.partial == ("labels",)


def test_label_map_of_a_whole_node_after_jq_metadata_labels() -> None:
    text = (
        "$ kubectl get node gpu-7 -o json | jq .metadata.labels\n"
        '{\n  "kubernetes.io/hostname": "gpu-7",\n  "nvidia.com/gpu.count": "8"\n}\n'
    )
    inv = read_text(text, "x.txt")
    assert isinstance(inv, TextInventory)
    node = only(inv)
    assert node.data["metadata"]["name"] == "gpu-7"
    assert known(node) == ("labels",)
    assert inv.problems == []


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("dir/gpu-3.labels.json", "gpu-3"),
        ("ip-10-0-1-2.ec2.internal.txt", "ip-10-0-1-2.ec2.internal"),
        ("nodes.describe.txt.gz", "nodes"),
        (".txt", ".txt"),
    ],
)
def test_file_stems_name_nodes(name: str, expected: str) -> None:
    assert stem(name) == expected


def test_whole_nodes_after_a_command_line_are_read_whole() -> None:
    text = (
        "$ kubectl get node gpu-1 -o yaml\n"
        "apiVersion: v1\nkind: Node\nmetadata:\n  name: gpu-1\n  labels:\n"
        '    kubernetes.io/hostname: gpu-1\nstatus:\n  capacity:\n    nvidia.com/gpu: "8"\n'
    )
    inv = read_text(text, "n.txt")
    assert isinstance(inv, TextInventory)
    node = only(inv)
    assert node.unknown == ()
    assert as_node(node).status.capacity == {"nvidia.com/gpu": "8"}
    pods = "$ kubectl get pods -o json\n" + json.dumps(
        {"apiVersion": "v1", "kind": "List", "items": [{"kind": "Pod", "metadata": {}}]}
    )
    result = read_text(pods, "p.txt")
    assert isinstance(result, NotInventory)
    assert "`kubectl get pods`" in result.reason


def test_label_map_node_names() -> None:
    by_hostname = label_map_node({"kubernetes.io/hostname": "n1", "gpu": "on"}, "x.json")
    assert by_hostname is not None
    assert by_hostname.nodes[0].data["metadata"]["name"] == "n1"
    assert by_hostname.problems == [
        (
            1,
            "the text shows no node name: the node is named 'n1', after its "
            "kubernetes.io/hostname label",
        )
    ]
    by_file = label_map_node({"nvidia.com/gpu.count": "1"}, "dir/gpu-3.labels.json", line=4)
    assert by_file is not None
    node = by_file.nodes[0]
    assert node.data["metadata"] == {"name": "gpu-3", "labels": {"nvidia.com/gpu.count": "1"}}
    assert node.unknown == tuple(p for p in ALL_PARTS if p != "labels")
    assert node.line == 4


@pytest.mark.parametrize(
    "data",
    [
        {"app.kubernetes.io/name": "web", "pod-template-hash": "5c5b57cf9c"},  # a pod's labels
        {"nvidia.com/gpu.count": {"nested": "map"}},
        {"image": {"repository": "nvcr.io/nvidia/tritonserver"}},  # a values file
        {"not a key": "x", "kubernetes.io/os": "linux"},
        ["kubernetes.io/os=linux"],
        {},
        None,
    ],
)
def test_label_map_node_refuses_other_mappings(data: object) -> None:
    assert label_map_node(data, "x.json") is None


def test_real_shared_label_maps(real: Path) -> None:
    for path in sorted((real / "nodes").glob("*.labels.json")):
        inv = label_map_node(json.loads(path.read_text()), path.name)
        assert inv is not None, path.name
        assert known(only(inv)) == ("labels",)
        as_node(only(inv), path.name)


# ------------------------------------------------------------------ refused, and not recognised


@pytest.mark.parametrize(
    ("name", "says"),
    [
        ("k8s-device-plugin-33-describe-pods-indented.txt", "`kubectl describe pod`"),
        ("k8s-device-plugin-72-get-and-describe-pod.txt", "`kubectl get pods`"),
        ("aicr-describe-hpa.txt", "`kubectl describe horizontalpodautoscalers`"),
        ("fabric8io-1822-kubectl-top-nodes.txt", "kubectl top"),
        ("gpu-operator-2168-node-events-table.txt", "kubectl get events"),
        ("k8s-device-plugin-71-nvidia-smi.txt", "nvidia-smi"),
        ("rhoai-gitops-8-oc-describe-node-egrep-several.txt", "without the nodes' Name: lines"),
        ("nvidia-docs-oc-describe-node-egrep-several.txt", "without the nodes' Name: lines"),
        ("longpt233-describe-node-grep-timeslicing.txt", "cannot be told apart by node"),
        ("geti-1501-describe-nodes-grep-and-pods.txt", "(and 2 more block(s) not read)"),
    ],
)
def test_refused_with_a_reason(name: str, says: str) -> None:
    reason = refused(name)
    assert says in reason
    assert "read" in reason  # every reason says what would be read instead


@pytest.mark.parametrize(
    ("text", "says"),
    [
        (
            "# HELP DCGM_FI_DEV_GPU_UTIL GPU utilization (in %).\n"
            "# TYPE DCGM_FI_DEV_GPU_UTIL gauge\n"
            'DCGM_FI_DEV_GPU_UTIL{gpu="0",Hostname="gpu-1"} 87\n',
            "Prometheus",
        ),
        ("$ kubectl get nodes -o jsonpath='{.items[*].metadata.name}'\ngpu-1 gpu-2\n", "jsonpath"),
        (
            "$ kubectl get nodes --show-labels | tr ',' '\\n'\nkubernetes.io/os=linux\n",
            "rewritten by `tr`",
        ),
        ("$ kubectl logs -n kube-system nvidia-device-plugin-x\nLoading NVML\n", "kubectl logs"),
        ("$ helm list -A\nNAME   NAMESPACE\ngpu-operator   gpu-operator\n", "`helm`"),
        ("$ kubectl get nodes\nNo resources found\n", "kubectl found no nodes"),
        (
            "$ kubectl get nodes -o json | jq '.items[] | {name: .metadata.name}'\n"
            '{\n  "name": "gpu-1"\n}\n',
            "reshaped by jq",
        ),
        (
            '$ kubectl get node gpu-1 -o yaml | grep nvidia\n    nvidia.com/gpu: "1"\n',
            "lost their parent keys",
        ),
    ],
)
def test_other_outputs_refused(text: str, says: str) -> None:
    result = read_text(text, "x.txt")
    assert isinstance(result, NotInventory), result
    assert says in result.reason


def test_refused_blocks_beside_nodes_become_problems() -> None:
    inv = read("longpt233-session-nodes-pods-events.txt")
    assert inv.form == "kubectl get nodes -o wide"
    assert [n.data["metadata"]["name"] for n in inv.nodes] == ["hello", "vupc"]
    refusals = [
        line
        for line, message in inv.problems
        if "not nodes" in message or "`kubectl logs`" in message
    ]
    assert refusals == [7, 21, 48, 142, 149]


README_WITH_OUTPUT = (FIXTURES / "bacchus-sgs-query-nodes.md").name


@pytest.mark.parametrize(
    "text",
    [
        (FIXTURES / README_WITH_OUTPUT).read_text(),
        (ROOT / "README.md").read_text(),
        "apiVersion: v1\nkind: Node\nmetadata:\n  name: gpu-1\n  labels:\n"
        '    kubernetes.io/hostname: gpu-1\nstatus:\n  capacity:\n    nvidia.com/gpu: "8"\n',
        "driver:\n  enabled: false\ndevicePlugin:\n  config:\n    name: time-slicing-config\n"
        "dcgmExporter:\n  serviceMonitor:\n    enabled: true\n",
        "Name: my-release\nNamespace: default\nreplicas: 2\n",
        "2020/01/10 15:01:53 Loading NVML\n2020/01/10 15:01:53 Fetching devices.\n"
        "2020/01/10 15:01:53 Starting FS watcher.\n2020/01/10 15:01:53 Starting OS watcher.\n"
        "2020/01/10 15:01:53 Starting GRPC server\n",
        "I0624 22:58:05.486593       1 health.go:159] Processing event"
        " {Device:{Handle:0x7f7597647848} EventType:8 EventData:109}\n"
        "I0624 22:58:05.486697       1 health.go:185] XidCriticalError:"
        " Xid=79 on Device=GPU-adb24b25; marking device as unhealthy.\n",
        "",
        "\n\n   \n",
        "Then run kubectl get nodes to see the nodes.\nNAME is the first column.\n",
        "\x00\x01binary",
    ],
)
def test_not_recognised(text: str) -> None:
    assert read_text(text, "x.txt") is None


def test_real_manifests_and_values_are_not_inventories(real: Path) -> None:
    paths = sorted((real / "workloads").glob("*.yaml"))
    assert paths
    for path in paths:
        assert read_text(path.read_text(encoding="utf-8"), path.name) is None, path.name


def test_real_shared_texts_read_or_refused(real: Path) -> None:
    """Every text in the shared real node fixtures ends read or refused, never unrecognised."""
    outcomes = {}
    for path in sorted((real / "nodes").glob("*.txt")):
        result = read_text(path.read_text(encoding="utf-8"), path.name)
        assert result is not None, path.name
        outcomes[path.name] = result
    homelab = outcomes["homelab-nforceroh-virt01-tesla-p40-timeslice.labels.txt"]
    assert isinstance(homelab, TextInventory)
    node = only(homelab)
    assert node.data["metadata"]["name"] == "virt01"
    assert node.data["metadata"]["labels"]["nvidia.com/gpu.replicas"] == "8"
    assert node.partial == ("labels",)
    for name in ("hpe-ocp44-worker03-t4-gfd-labels.txt", "hpe-ocp44-worker03-t4-nfd-labels.txt"):
        hpe = outcomes[name]
        assert isinstance(hpe, NotInventory)
        assert "oc get node worker03 -o yaml" in hpe.reason
    eks = outcomes["nvidia-aicr-eks-p5-gpu-nodes-custom-columns.txt"]
    assert isinstance(eks, TextInventory)
    assert eks.nodes[0].data["metadata"]["labels"] == {
        "nvidia.com/gpu.present": "true",
        "node.kubernetes.io/instance-type": "p5.48xlarge",
        "nvidia.com/gpu.count": "8",
        "nvidia.com/gpu.product": "NVIDIA-H100-80GB-HBM3",
        "nodeGroup": "gpu-worker",
        "topology.kubernetes.io/zone": "us-east-1e",
    }
    gke = outcomes["nvidia-aicr-gke-a3mega-gpu-nodes-custom-columns.txt"]
    assert isinstance(gke, TextInventory)
    assert gke.nodes[1].data["status"] == {"capacity": {"nvidia.com/gpu": "8"}}
    volcano = outcomes["volcano-docs-gce-node-gpu-number-capacity.txt"]
    assert isinstance(volcano, TextInventory)
    node = only(volcano)
    assert node.data["status"]["allocatable"]["volcano.sh/gpu-number"] == "1"
    assert node.partial == ("allocatable",)
    assert "capacity" not in node.data["status"]  # its rows came without their header
    for result in outcomes.values():
        if isinstance(result, TextInventory):
            for text_node in result.nodes:
                as_node(text_node)


# ------------------------------------------------------------------ every node decodes


def fixture_texts() -> list[Path]:
    return sorted(p for p in FIXTURES.iterdir() if p.suffix in (".txt", ".md"))


@pytest.mark.parametrize("path", fixture_texts(), ids=lambda p: p.name)
def test_every_fixture_node_decodes_to_a_node(path: Path) -> None:
    result = read_text(path.read_text(encoding="utf-8"), path.name)
    if not isinstance(result, TextInventory):
        return
    for node in result.nodes:
        obj = as_node(node, path.name)
        assert obj.name == node.data["metadata"]["name"]
        assert node.unknown == tuple(sorted(node.unknown))
        assert set(node.partial) <= set(node.unknown) <= set(NODE_PARTS)
        for line, message in result.problems:
            assert line is None or line >= 1
            assert "\n" not in message


def test_every_fixture_is_described_in_sources() -> None:
    sources = (FIXTURES / "SOURCES.md").read_text()
    for path in FIXTURES.iterdir():
        if path.name != "SOURCES.md":
            assert f"`{path.name}`" in sources, path.name


# ------------------------------------------------------------------ prompts


@pytest.mark.parametrize(
    ("line", "program", "verb", "resource", "names"),
    [
        ("$ kubectl describe node gpu-1", "kubectl", "describe", "nodes", ("gpu-1",)),
        ("root@m:~# kubectl describe no/gpu-1", "kubectl", "describe", "nodes", ("gpu-1",)),
        ("[root@k8s-master yaml]# kubectl get nodes -o wide", "kubectl", "get", "nodes", ()),
        ("\u279c  k8s git:(master) \u2717 kubectl get no", "kubectl", "get", "nodes", ()),
        ("PS C:\\Users\\me> kubectl get nodes", "kubectl", "get", "nodes", ()),
        ("> oc get node worker03 -o yaml", "oc", "get", "nodes", ("worker03",)),
        ("1. kubectl describe node 416a100", "kubectl", "describe", "nodes", ("416a100",)),
        ("$ sudo microk8s kubectl get nodes", "microk8s", "get", "nodes", ()),
        ("user@host:~$ nvidia-smi", "nvidia-smi", "", "", ()),
        ("kubectl describe node $NODE # a placeholder", "kubectl", "describe", "nodes", ()),
    ],
)
def test_prompt_lines(
    line: str, program: str, verb: str, resource: str, names: tuple[str, ...]
) -> None:
    command = command_at(line, 1)
    assert command is not None
    assert (command.program, command.verb, command.resource, command.names) == (
        program,
        verb,
        resource,
        names,
    )


@pytest.mark.parametrize(
    "line",
    [
        "Then run kubectl get nodes to see them",
        "| `kubectl get nodes` | lists nodes |",
        "# Events on node (upgrade-related):",
        "Name:               kubectl-1",
        "kubectl.kubernetes.io/last-applied-configuration: {}",
    ],
)
def test_not_prompt_lines(line: str) -> None:
    assert command_at(line, 1) is None


# ------------------------------------------------------------------ hostile input


_PIECES = st.sampled_from(
    [
        *sorted({line for p in fixture_texts() for line in p.read_text().splitlines()}),
        *("Name:", "Capacity:", "  x: 1", "...", "```", "$ kubectl get nodes", "NAME  STATUS"),
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(_PIECES, st.text(max_size=80)), max_size=40))
def test_arbitrary_text_never_raises(pieces: list[str]) -> None:
    result = read_text("\n".join(pieces), "fuzz.txt")
    assert result is None or isinstance(result, NotInventory | TextInventory)
    if isinstance(result, TextInventory):
        for node in result.nodes:
            as_node(node)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=2000))
def test_arbitrary_characters_never_raise(text: str) -> None:
    read_text(text, "fuzz.txt")


@pytest.mark.parametrize(
    "text",
    [
        "Name:" + " " * 200_000 + "x",
        "a" * 400_000 + ":",
        "  nvidia.com/" + "a." * 100_000 + "=x:NoSchedule",
        "NAME" + "  X" * 50_000 + "\n" + "a  " * 50_000,
        "$ kubectl " + "-o " * 50_000,
        "Labels:             " + "k=v\n                    " * 50_000,
    ],
)
def test_hostile_lines_are_read_in_bounded_time(text: str) -> None:
    start = time.perf_counter()
    read_text(text, "big.txt")
    assert time.perf_counter() - start < 10


def test_a_resource_row_that_is_no_quantity_is_skipped_not_decoded() -> None:
    """Found by the fuzz: a toleration pasted under Allocatable became a 'not a quantity'
    warning at decode time; the reader names the row and leaves it out."""
    text = (
        "Name:               gpu-1\n"
        "Allocatable:\n"
        "  cpu:                8\n"
        "  node.kubernetes.io/disk-pressure:NoSchedule op=Exists\n"
        "  nvidia.com/gpu:     1\n"
    )
    found = read_text(text, "gpu-1.txt")
    assert isinstance(found, TextInventory)
    (node,) = found.nodes
    assert node.data["status"]["allocatable"] == {"cpu": "8", "nvidia.com/gpu": "1"}
    assert any("not a quantity" in message for _, message in found.problems)
    decoder = ObjectDecoder()
    decoder.from_data(node.data, Origin(file="gpu-1.txt", line=node.line))
    assert decoder.diagnostics == []
