"""Drift: nodes that differ from their pool, clusters that differ from their baseline, from
each other and from earlier scans. `DriftAnalysis` is what the engine runs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import msgspec

from plumbob.drift.attributes import ATTRIBUTES, NodeAttributes, snapshot_attributes
from plumbob.drift.baseline import BaselineError, LoadedBaseline, load_baseline
from plumbob.drift.components import components, components_visible
from plumbob.drift.cross import cross_cluster, policy_drift
from plumbob.drift.deviations import evaluate
from plumbob.drift.findings import IGNORE_ANNOTATION, ConfigLike, FindingMaker
from plumbob.drift.fleet import control_plane_version, fleet_drift
from plumbob.drift.policies import ClusterPolicies, cluster_policies
from plumbob.drift.section import DriftSection
from plumbob.model.snapshot import Snapshot
from plumbob.report.model import Finding

SECTION = "drift"
"""Key of the drift section in `Report.sections`."""


def _ignored(snap: Snapshot) -> dict[tuple[str, str], frozenset[str]]:
    out: dict[tuple[str, str], frozenset[str]] = {}
    for node in snap.nodes:
        value = node.annotations.get(IGNORE_ANNOTATION)
        if value:
            out[(snap.cluster.name, node.name)] = frozenset(v.strip() for v in value.split(","))
    return out


@dataclass(frozen=True, slots=True)
class DriftAnalysis:
    """Fleet drift in every snapshot, baseline deviations when a baseline is given, and
    cross-cluster drift when several snapshots are read at once."""

    pool_label: str | None = None
    baseline: LoadedBaseline | None = None

    def attributes(self, snapshots: Sequence[Snapshot]) -> dict[str, dict[str, NodeAttributes]]:
        return {s.cluster.name: snapshot_attributes(s, self.pool_label) for s in snapshots}

    def __call__(
        self, snapshots: Sequence[Snapshot], config: ConfigLike | None = None
    ) -> tuple[list[Finding], dict[str, Any]]:
        findings: list[Finding] = []
        section = DriftSection(baseline=self.baseline.path if self.baseline else None)
        per_cluster: dict[str, dict[str, NodeAttributes]] = {}
        comps: dict[str, dict[str, str]] = {}
        visible: dict[str, bool] = {}
        policies: dict[str, ClusterPolicies] = {}
        ignored: dict[tuple[str, str], frozenset[str]] = {}
        for snap in snapshots:
            ignored.update(_ignored(snap))
        maker = FindingMaker(config, ignored)
        deviations = 0
        for snap in snapshots:
            cluster = snap.cluster.name
            attrs = snapshot_attributes(snap, self.pool_label)
            per_cluster[cluster] = attrs
            labels = {n.name: set(n.labels) for n in snap.nodes}
            server = control_plane_version(snap.cluster.server_version, attrs, labels)
            made, rows = fleet_drift(cluster, attrs, server, maker)
            findings.extend(made)
            section.pools.extend(rows)
            if self.baseline is not None:
                found = evaluate(self.baseline, snap, attrs, maker)
                deviations += len(found)
                findings.extend(found)
            if len(snapshots) > 1:
                comps[cluster] = components(snap)
                visible[cluster] = components_visible(snap)
                policies[cluster] = cluster_policies(snap)
        if len(per_cluster) > 1:
            made, cross, comp_rows = cross_cluster(per_cluster, comps, maker, visible)
            findings.extend(made)
            section.cross.extend(cross)
            section.components.extend(comp_rows)
            made, policy_rows = policy_drift(policies, maker)
            findings.extend(made)
            section.policies.extend(policy_rows)
        present = {key for row in section.pools for key in row.cells}
        columns = [a.id for a in ATTRIBUTES if a.id in present]
        columns.extend(sorted(k for k in present if k not in columns))
        section = msgspec.structs.replace(section, columns=columns, baseline_deviations=deviations)
        return findings, msgspec.to_builtins(section)


__all__ = [
    "SECTION",
    "BaselineError",
    "DriftAnalysis",
    "DriftSection",
    "LoadedBaseline",
    "NodeAttributes",
    "load_baseline",
    "snapshot_attributes",
]
