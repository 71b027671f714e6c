"""`plumbob baseline init`: a baseline holding a fleet's majority values, to be widened by hand."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import msgspec
import yaml

from plumbob.drift.attributes import BY_ID, NodeAttributes, shape_attribute
from plumbob.drift.baseline import Baseline, ClusterIntent, PoolIntent
from plumbob.drift.components import components as detect_components
from plumbob.drift.pools import Pool, pools_of, spreads
from plumbob.model.images import parse_image
from plumbob.model.snapshot import Snapshot

_INIT_SKIPPED_LABEL_PREFIXES = (
    "feature.node.kubernetes.io/",
    "node-role.kubernetes.io/",
    "kubernetes.azure.com/",
    "node.kubernetes.io/",
    "cloud.google.com/",
    "eks.amazonaws.com/",
    "nvidia.com/",
)


_TAG_VERSION = re.compile(r"^v?(\d+(?:\.\d+)+)")


def _at_least(tag: str) -> str:
    """`>=` the version an image tag names (`v0.9.1` -> `>=0.9.1`, `3.3.9-3.6.1-ubuntu22.04` ->
    `>=3.3.9`); "*" for a tag that names none (`v1-855e096`, a digest, no tag)."""
    match = _TAG_VERSION.match(tag)
    return f">={match.group(1)}" if match else "*"


def initial_baseline(
    snapshots: Sequence[Snapshot], attrs: Mapping[str, Mapping[str, NodeAttributes]]
) -> Baseline:
    """A baseline holding today's majority values: exact versions to be widened by hand."""
    merged: dict[str, list[NodeAttributes]] = {}
    for cluster_name, by_node in attrs.items():
        for pool in pools_of(cluster_name, by_node.values()):
            merged.setdefault(pool.name, []).extend(pool.nodes)
    pools: dict[str, PoolIntent] = {}
    for name, members in sorted(merged.items()):
        pool = Pool("*", name, tuple(members))
        spread = spreads(pool)
        fields: dict[str, Any] = {}
        for attribute, attr in BY_ID.items():
            if not attr.fleet or (pool.shapes_chosen and shape_attribute(attribute)):
                continue
            s = spread.get(attribute)
            if s is None or s.majority is None or attribute == "taints":
                continue
            fields[attribute] = s.majority
        taints = spread.get("taints")
        if taints is not None and taints.majority:
            fields["required_taints"] = taints.majority.split(", ")
        labels = {
            k.removeprefix("label:"): s.majority
            for k, s in spread.items()
            if k.startswith("label:")
            and s.majority is not None
            and s.distinct == 1
            and not k.removeprefix("label:").startswith(_INIT_SKIPPED_LABEL_PREFIXES)
            and not (pool.shapes_chosen and shape_attribute(k))
        }
        if labels:
            fields["required_labels"] = dict(sorted(labels.items()))
        pools[name] = PoolIntent(**fields)
    minors = [s.server_minor for s in snapshots if s.server_minor]
    comps: dict[str, str] = {}
    registries: set[str] = set()
    for snap in snapshots:
        for comp, version in detect_components(snap).items():
            comps.setdefault(comp, _at_least(version))
        for template in snap.pod_templates:
            for container in template.spec.all_containers:
                if container.image:
                    registries.add(parse_image(container.image).registry)
    intent = ClusterIntent(
        min_kubernetes_version=".".join(map(str, min(minors))) if minors else None,
        required_components=dict(sorted(comps.items())),
        approved_registries=sorted(registries),
    )
    return Baseline(cluster=intent, pools=pools)


def dump_baseline(baseline: Baseline) -> str:
    header = (
        "# plumbob baseline: what this fleet is meant to be (docs/baseline.md).\n"
        '# Values are exact as found; widen them to globs ("6.1.*") or version ranges\n'
        '# (">=550.54, <560"), then commit this file and run `plumbob scan --baseline`.\n'
    )
    data = {
        "apiVersion": baseline.api_version,
        "kind": baseline.kind,
        **msgspec.to_builtins(baseline),
    }
    return header + yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
