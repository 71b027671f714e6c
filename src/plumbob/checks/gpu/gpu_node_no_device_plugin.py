"""GPU nodes no device-plugin DaemonSet covers."""

from __future__ import annotations

from collections.abc import Iterator

from plumbob.checks.registry import GPU_IDENTITY, Hit, Origin, check
from plumbob.knowledge.components import covering, device_plugin_daemonsets
from plumbob.model.snapshot import Snapshot

WHY = """
GPUs reach pods only through a device plugin running on the node (the NVIDIA device plugin, the
GPU operator's copy of it, the cloud's managed plugin, or the NVIDIA DRA driver). A GPU node
that no such DaemonSet covers, because its nodeSelector, node affinity or tolerations leave the
node out, offers no GPU once the kubelet restarts, or never did; GPU pods stay Pending and the
GPUs are paid for but unused.
"""

FIX = """
Make the device-plugin DaemonSet run on the node: tolerate the node's GPU taint and select it.

    kubectl -n kube-system patch ds nvidia-device-plugin-daemonset --type merge -p \\
      '{"spec":{"template":{"spec":{"tolerations":[{"operator":"Exists"}]}}}}'

With the GPU operator, label the node so its operands deploy there
(`kubectl label node NODE nvidia.com/gpu.deploy.device-plugin=true --overwrite`) and check
`kubectl get clusterpolicy -o yaml` for `devicePlugin.enabled: true`. Without the operator,
install the plugin: `helm install nvdp nvdp/nvidia-device-plugin -n nvidia-device-plugin
--create-namespace`.
"""


@check(
    id="gpu-node-no-device-plugin",
    category="gpu",
    severity="high",
    reads=("Node", "DaemonSet"),
    node_parts=(*GPU_IDENTITY, "taints", "unschedulable"),
    title="GPU node not covered by any device-plugin DaemonSet",
    why=WHY,
    fix=FIX,
    references=(
        "https://kubernetes.io/docs/concepts/extend-kubernetes/compute-storage-net/device-plugins/",
        "https://github.com/NVIDIA/k8s-device-plugin#deployment-via-helm",
        "https://docs.nvidia.com/datacenter/cloud-native/gpu-operator/latest/getting-started.html",
    ),
    origin=Origin(
        "https://github.com/NVIDIA/k8s-device-plugin/issues/1934",
        "On EKS GPU nodes tainted nvidia.com/gpu=true the device plugin DaemonSet silently "
        "stayed at zero desired pods, so nvidia.com/gpu was never registered and every GPU "
        "pod stayed Pending.",
    ),
)
def gpu_node_no_device_plugin(snap: Snapshot) -> Iterator[Hit]:
    daemon_sets = snap.objects("DaemonSet")
    if not snap.gpu_nodes:
        return
    plugins = device_plugin_daemonsets(snap)
    names = [f"{ds.namespace}/{ds.name}" for ds in plugins]
    for node in snap.gpu_nodes:
        if covering(snap, plugins, node):
            continue
        gpu = snap.node_gpus[node.name]
        if plugins:
            why = (
                f"none of the device-plugin DaemonSets ({', '.join(names)}) selects or tolerates it"
            )
        else:
            why = f"no device-plugin DaemonSet exists among the {len(daemon_sets)} DaemonSets seen"
        yield Hit(
            node,
            f"GPU node {node.name} is covered by no device plugin: {why}",
            evidence={
                "device_plugins": names,
                "allocatable_gpus": gpu.total_allocatable,
                "taints": [f"{t.key}={t.value or ''}:{t.effect}" for t in node.spec.taints],
                "product": gpu.product,
            },
        )
