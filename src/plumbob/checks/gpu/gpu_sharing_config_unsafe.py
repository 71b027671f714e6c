"""NVIDIA device-plugin sharing configs (time-slicing, MPS) that break isolation or accounting."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import yaml

from plumbob.checks.registry import Hit, Origin, check
from plumbob.model.gpu import is_mig_resource
from plumbob.model.objects import GenericObject, as_list, dig
from plumbob.model.snapshot import Snapshot

WHY = """
The NVIDIA device plugin shares a GPU by advertising it several times (`replicas`), with CUDA
time-slicing or MPS. Its configuration decides whether workloads and quotas can tell:

- `renameByDefault: false` (the default) advertises the shares under the GPU's own name
  (`nvidia.com/gpu`), so a pod that asks for a whole GPU gets a 1/N share of one with no
  memory isolation, a ResourceQuota of 8 `nvidia.com/gpu` admits 8 shares, and cost and
  allocation reports count shares as GPUs. `true` advertises them as `nvidia.com/gpu.shared`.
- `failRequestsGreaterThanOne: false` (the default, kept for backwards compatibility; NVIDIA
  recommends `true`) lets a pod ask for 2 shares and get them, possibly on one GPU
  (NVIDIA/k8s-device-plugin issue 491), with no more compute than one: "requesting more than
  one shared GPU does not imply that you will get guaranteed access to a proportional amount
  of compute power".
- Sharing keys written outside `sharing.timeSlicing`/`sharing.mps` (under `flags`, issue 1433)
  are ignored without a word, and MPS on MIG devices is not supported.
- A config the GPU operator or a node label selects (`devicePlugin.config.default`,
  `nvidia.com/device-plugin.config`) that the ConfigMap does not hold stops the device plugin's
  config manager ("specified config ... does not exist"): the node advertises no GPUs. A
  ConfigMap in another namespace than the operator's is not read (NVIDIA/gpu-operator issue
  412).

Time-slicing has no memory or fault isolation at all ("if one workload crashes, they all do");
these settings decide whether anyone can see that a GPU is shared.
"""

FIX = """
Advertise shares under their own name and refuse requests for more than one:

    apiVersion: v1
    kind: ConfigMap
    metadata: {name: time-slicing-config, namespace: gpu-operator}
    data:
      any: |-
        version: v1
        sharing:
          timeSlicing:
            renameByDefault: true
            failRequestsGreaterThanOne: true
            resources:
              - name: nvidia.com/gpu
                replicas: 4

Point the GPU operator at it, with a default that is one of the ConfigMap's keys:

    kubectl patch clusterpolicies.nvidia.com/cluster-policy --type merge \\
      -p '{"spec": {"devicePlugin": {"config": {"name": "time-slicing-config", "default": "any"}}}}'

Workloads that may share then ask for `nvidia.com/gpu.shared`; those that need a whole GPU
keep `nvidia.com/gpu` and run on pools without sharing (or on MIG slices).
"""

_SHARING_KEYS = ("renameByDefault", "failRequestsGreaterThanOne", "timeSlicing", "mps")
CONFIG_LABEL = "nvidia.com/device-plugin.config"


@dataclass(frozen=True, slots=True)
class PluginConfig:
    """One device-plugin config: a key of a ConfigMap's data, parsed."""

    config_map: GenericObject
    key: str
    body: Mapping[str, Any]


def _parse(text: Any) -> Mapping[str, Any] | None:
    if not isinstance(text, str) or "version" not in text:
        return None
    try:
        data = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except (yaml.YAMLError, RecursionError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("version") != "v1":
        return None
    if not any(k in data for k in ("sharing", "flags", "resources")):
        return None
    return data


def plugin_configs(snap: Snapshot) -> list[PluginConfig]:
    """Every device-plugin config in the input's ConfigMaps: data values that parse as the
    plugin's config file (`version: v1` with `sharing`, `flags` or `resources`)."""
    out: list[PluginConfig] = []
    for cm in snap.generic("ConfigMap"):
        if not isinstance(cm.data, dict):
            continue
        for key, text in cm.data.items():
            body = _parse(text)
            if body is not None:
                out.append(PluginConfig(cm, str(key), body))
    return out


def _problems(body: Mapping[str, Any]) -> list[str]:
    out: list[str] = []
    raw_flags = body.get("flags")
    flags: Mapping[str, Any] = raw_flags if isinstance(raw_flags, dict) else {}
    misplaced = [k for k in _SHARING_KEYS if k in flags or k in body]
    if misplaced:
        where = "flags" if any(k in flags for k in misplaced) else "the top level"
        out.append(
            f"{', '.join(misplaced)} under {where}, where the plugin ignores them: they belong "
            "under sharing.timeSlicing or sharing.mps"
        )
    mig_strategy = dig(flags, "migStrategy")
    for strategy in ("timeSlicing", "mps"):
        sharing = dig(body, "sharing", strategy)
        if not isinstance(sharing, dict):
            continue
        shared = [
            (str(r.get("name")), r.get("replicas"))
            for r in as_list(sharing.get("resources"))
            if isinstance(r, dict)
            and isinstance(r.get("replicas"), int)
            and not isinstance(r.get("replicas"), bool)
            and r["replicas"] > 1
        ]
        if not shared:
            continue
        what = ", ".join(f"{name} x{replicas}" for name, replicas in shared)
        label = "time-slicing" if strategy == "timeSlicing" else "MPS"
        if sharing.get("renameByDefault") is not True and not any(
            isinstance(r, dict) and r.get("rename") for r in as_list(sharing.get("resources"))
        ):
            default = "" if "renameByDefault" in sharing else " (the default)"
            out.append(
                f"{label} {what} with renameByDefault false{default}: shares are advertised as "
                f"{shared[0][0]}, so pods asking for a whole GPU get a share and quotas count "
                "shares as GPUs"
            )
        if strategy == "timeSlicing" and sharing.get("failRequestsGreaterThanOne") is not True:
            default = "" if "failRequestsGreaterThanOne" in sharing else " (the default)"
            out.append(
                f"time-slicing with failRequestsGreaterThanOne false{default}: a pod asking for "
                "2 shares gets them, possibly of one GPU, and no more compute"
            )
        mig = [name for name, _ in shared if is_mig_resource(name)]
        if strategy == "mps" and (mig or mig_strategy in ("single", "mixed")):
            out.append(
                "MPS on MIG devices"
                + (f" ({', '.join(mig)})" if mig else f" (migStrategy {mig_strategy})")
                + ", which the device plugin does not support"
            )
        elif strategy == "timeSlicing" and mig and mig_strategy in ("none", "single"):
            out.append(
                f"time-slicing of {', '.join(mig)} with migStrategy {mig_strategy}: only the "
                "mixed strategy advertises MIG resources by their profile, so nothing is shared"
            )
    return out


def _operator_config(snap: Snapshot) -> tuple[GenericObject, str, str | None] | None:
    """(ClusterPolicy, config name, default) when the GPU operator names a device-plugin
    ConfigMap."""
    for policy in snap.generic("ClusterPolicy"):
        if policy.group != "nvidia.com":
            continue
        name = dig(policy.spec, "devicePlugin", "config", "name")
        default = dig(policy.spec, "devicePlugin", "config", "default")
        if isinstance(name, str) and name:
            return policy, name, default if isinstance(default, str) and default else None
    return None


def _operator_namespace(snap: Snapshot) -> str | None:
    """The namespace the GPU operator runs in, when its Deployment is in the input."""
    for dep in snap.objects("Deployment"):
        for template in snap.templates_by_workload.get(id(dep), ()):
            if any("gpu-operator" in (c.image or "") for c in template.spec.containers):
                return dep.namespace
    return None


@check(
    id="gpu-sharing-config-unsafe",
    category="gpu",
    severity="medium",
    reads=("ConfigMap",),
    consults=("ClusterPolicy", "Node", "Deployment"),
    title="GPU sharing config hides shared GPUs or cannot be applied",
    why=WHY,
    fix=FIX,
    references=(
        "https://docs.nvidia.com/datacenter/cloud-native/gpu-operator/latest/gpu-sharing.html",
        "https://github.com/NVIDIA/k8s-device-plugin#shared-access-to-gpus",
        "https://github.com/NVIDIA/k8s-device-plugin/issues/1433",
        "https://github.com/NVIDIA/k8s-device-plugin/issues/491",
        "https://github.com/NVIDIA/gpu-operator/issues/412",
        "https://github.com/NVIDIA/k8s-device-plugin/blob/main/cmd/config-manager/main.go",
    ),
    origin=Origin(
        "https://github.com/NVIDIA/gpu-operator/issues/412",
        "The GPU operator never applied a time-slicing ConfigMap created in kube-system, "
        "and the device plugin seemed to halt.",
    ),
)
def gpu_sharing_config_unsafe(snap: Snapshot) -> Iterator[Hit]:
    configs = plugin_configs(snap)
    for config in configs:
        problems = _problems(config.body)
        if problems:
            cm = config.config_map
            yield Hit(
                cm,
                f"device-plugin config {config.key!r} in ConfigMap "
                f"{cm.namespace or 'default'}/{cm.name}: {'; '.join(problems)}",
                evidence={"config": config.key, "problems": problems},
                path=f"data.{config.key}",
            )
    yield from _selection(snap, configs)


def _selection(snap: Snapshot, configs: list[PluginConfig]) -> Iterator[Hit]:
    """The GPU operator's (and the nodes') choice of config against the ConfigMap it names."""
    named = _operator_config(snap)
    if named is None:
        return
    policy, name, default = named
    maps = [cm for cm in snap.generic("ConfigMap") if cm.name == name and cm.data is not None]
    if not maps:
        return  # not in the input: a live capture does not read ConfigMaps' contents
    operator_ns = _operator_namespace(snap)
    in_place = [cm for cm in maps if operator_ns is None or cm.namespace in (None, operator_ns)]
    if not in_place:
        elsewhere = ", ".join(sorted(f"{cm.namespace}/{cm.name}" for cm in maps))
        yield Hit(
            policy,
            f"ClusterPolicy {policy.name} names device-plugin ConfigMap {name}, which is in "
            f"{elsewhere}, not in the GPU operator's namespace {operator_ns}: the operator does "
            "not read it and the device plugin never gets its config",
            evidence={"configMap": name, "found": elsewhere, "operatorNamespace": operator_ns},
            path="spec.devicePlugin.config.name",
        )
        return
    keys = {str(k) for cm in in_place if isinstance(cm.data, dict) for k in cm.data}
    wanted: dict[str, list[str]] = {}
    if default is not None:
        wanted.setdefault(default, []).append("devicePlugin.config.default")
    for node in snap.nodes:
        label = node.labels.get(CONFIG_LABEL)
        if label:
            wanted.setdefault(label, []).append(f"node {node.name}")
    for key, who in wanted.items():
        if key in keys:
            continue
        shown = ", ".join(who[:3]) + (f" and {len(who) - 3} more" if len(who) > 3 else "")
        yield Hit(
            policy,
            f"{shown} select{'s' if len(who) == 1 else ''} device-plugin config {key!r}, which "
            f"ConfigMap {name} does not hold (it has {', '.join(sorted(keys)) or 'no keys'}): the "
            "config manager stops with 'specified config does not exist' and the node "
            "advertises no GPUs",
            evidence={"config": key, "selectedBy": who, "available": sorted(keys)},
            path="spec.devicePlugin.config.default",
        )
