"""One node as a piece of text showed it: the parts seen, whole or in part, and the Node JSON."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from plumbob.model.objects import NODE_PARTS

Problems = list[tuple[int | None, str]]
"""Lines or blocks that could not be read, with their 1-based line where there is one."""

NODE_INFO_KEYS = {
    "Kernel Version": "kernelVersion",
    "OS Image": "osImage",
    "Container Runtime Version": "containerRuntimeVersion",
    "Kubelet Version": "kubeletVersion",
}
"""`kubectl describe node` System Info rows that are NODE_PARTS `nodeInfo`."""
SYSTEM_INFO_KEYS = {
    "Machine ID": "machineID",
    "System UUID": "systemUUID",
    "Boot ID": "bootID",
    "Operating System": "operatingSystem",
    "Architecture": "architecture",
    "Kube-Proxy Version": "kubeProxyVersion",
}
"""System Info rows that are NODE_PARTS `systemInfo` (the rest of `status.nodeInfo`)."""

_LABEL_KEY = re.compile(
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?/)?[A-Za-z0-9](?:[A-Za-z0-9._-]{0,61}[A-Za-z0-9])?"
)
"""A label or annotation key: an optional DNS-subdomain prefix and `/`, then a name of at most
63 characters (k8s.io/apimachinery validation IsQualifiedName). Bounded repetitions, no nested
quantifiers: matching is linear in the key's length."""
_LABEL_VALUE = re.compile(r"(?:[A-Za-z0-9](?:[A-Za-z0-9._-]{0,61}[A-Za-z0-9])?)?")
_EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")

_NODE_LABEL_PREFIXES = (
    "beta.kubernetes.io",
    "node.kubernetes.io",
    "node-role.kubernetes.io",
    "topology.kubernetes.io",
    "failure-domain.beta.kubernetes.io",
    "feature.node.kubernetes.io",
    "node.openshift.io",
    "nvidia.com",
    "amd.com",
    "gpu.intel.com",
    "habana.ai",
    "cloud.google.com",
    "topology.gke.io",
    "eks.amazonaws.com",
    "topology.k8s.aws",
    "karpenter.sh",
    "karpenter.k8s.aws",
    "kubernetes.azure.com",
    "k3s.io",
)
"""Label prefixes that only nodes carry: Kubernetes' well-known node labels, node feature
discovery (and its subdomains, `intel.feature.node.kubernetes.io`), GPU feature discovery and
the GPU vendors' labellers, and the cloud providers' node labels
(https://kubernetes.io/docs/reference/labels-annotations-taints/). `app.kubernetes.io` and
other workload label prefixes are not among them."""
_NODE_LABEL_KEYS = frozenset(
    {"kubernetes.io/hostname", "kubernetes.io/os", "kubernetes.io/arch", "kubernetes.io/role"}
)


def is_label_key(key: str) -> bool:
    return _LABEL_KEY.fullmatch(key) is not None


def is_label_value(value: str) -> bool:
    return _LABEL_VALUE.fullmatch(value) is not None


def node_label_domain(key: str) -> bool:
    """Whether `key` is a label only nodes carry (see _NODE_LABEL_PREFIXES)."""
    if key in _NODE_LABEL_KEYS:
        return True
    prefix, slash, _ = key.rpartition("/")
    return bool(slash) and any(
        prefix == p or prefix.endswith("." + p) for p in _NODE_LABEL_PREFIXES
    )


def split_label(text: str) -> tuple[str, str] | None:
    """`key=value` as kubectl prints a label; None when it is not one."""
    key, eq, value = text.partition("=")
    if not eq or not is_label_key(key) or not is_label_value(value):
        return None
    return key, value


def split_taint(text: str) -> dict[str, str] | None:
    """`key=value:Effect` or `key:Effect` (kubectl's taint format) as {key, value, effect}."""
    rest, colon, effect = text.rpartition(":")
    if not colon or effect not in _EFFECTS:
        return None
    key, eq, value = rest.partition("=")
    if not is_label_key(key) or (eq and not is_label_value(value)):
        return None
    taint = {"key": key, "effect": effect}
    if eq:
        taint["value"] = value
    return taint


def kubectl_time(text: str) -> str | None:
    """kubectl's describe timestamps (`Tue, 10 Dec 2019 09:33:34 +0000`, RFC 1123 with a numeric
    zone) as the RFC 3339 UTC time the API stores; None for anything else."""
    try:
        when = datetime.strptime(text.strip(), "%a, %d %b %Y %H:%M:%S %z")
    except ValueError:
        return None
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True, slots=True)
class TextNode:
    """A node read from text, in the shape `kubectl get node -o json` gives (apiVersion v1,
    kind Node, metadata, spec, status), holding only what the text showed."""

    data: dict[str, Any]
    unknown: tuple[str, ...]
    """NODE_PARTS names the text did not show in full, sorted: for a Node, `Node.unknown`."""
    line: int
    """1-based line where this node's text starts."""
    partial: tuple[str, ...] = ()
    """The parts of `unknown` the text showed some entries of (a grep excerpt, a custom-columns
    table, a section cut short): `data` holds those entries, so they are evidence of what the
    node has, never of what it lacks. Every other unknown part is empty in `data`."""


@dataclass(slots=True)
class NodeText:
    """A node being read: the values found so far and which parts the text showed."""

    line: int
    name: str = ""
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)
    taints: list[dict[str, str]] = field(default_factory=list)
    unschedulable: bool | None = None
    provider_id: str = ""
    pod_cidr: str = ""
    created: str = ""
    capacity: dict[str, str] = field(default_factory=dict)
    allocatable: dict[str, str] = field(default_factory=dict)
    node_info: dict[str, str] = field(default_factory=dict)
    conditions: list[dict[str, str]] = field(default_factory=list)
    addresses: list[dict[str, str]] = field(default_factory=list)
    seen: set[str] = field(default_factory=set)
    """NODE_PARTS shown in full."""
    partial: set[str] = field(default_factory=set)
    """NODE_PARTS shown in part (they count as unknown)."""

    def show(self, part: str, whole: bool = True) -> None:
        """Record that the text showed `part`, wholly or in part. A part once shown in part
        stays partial: one incomplete sighting is enough to make absence unprovable."""
        assert part in NODE_PARTS, part
        self.seen.add(part)
        if not whole:
            self.partial.add(part)

    def build(self, fallback: str, problems: Problems) -> TextNode:
        """The finished node. `fallback` (the file's stem) names a node whose text showed no
        name, and a problem says so."""
        name = self.name
        if not name:
            name = self.labels.get("kubernetes.io/hostname", "")
            how = "its kubernetes.io/hostname label"
            if not name:
                name, how = fallback, "the file"
            problems.append(
                (self.line, f"the text shows no node name: the node is named {name!r}, after {how}")
            )
        meta: dict[str, Any] = {"name": name}
        if self.created:
            meta["creationTimestamp"] = self.created
        if self.labels:
            meta["labels"] = dict(self.labels)
        if self.annotations:
            meta["annotations"] = dict(self.annotations)
        spec: dict[str, Any] = {}
        if self.taints:
            spec["taints"] = list(self.taints)
        if self.unschedulable is not None:
            spec["unschedulable"] = self.unschedulable
        if self.provider_id:
            spec["providerID"] = self.provider_id
        if self.pod_cidr:
            spec["podCIDR"] = self.pod_cidr
        status: dict[str, Any] = {}
        if self.capacity:
            status["capacity"] = dict(self.capacity)
        if self.allocatable:
            status["allocatable"] = dict(self.allocatable)
        if self.node_info:
            status["nodeInfo"] = dict(self.node_info)
        if self.conditions:
            status["conditions"] = list(self.conditions)
        if self.addresses:
            status["addresses"] = list(self.addresses)
        data = {"apiVersion": "v1", "kind": "Node", "metadata": meta, "spec": spec}
        data["status"] = status
        unknown = tuple(p for p in sorted(NODE_PARTS) if p not in self.seen or p in self.partial)
        partial = tuple(p for p in unknown if p in self.partial)
        return TextNode(data=data, unknown=unknown, line=self.line, partial=partial)
