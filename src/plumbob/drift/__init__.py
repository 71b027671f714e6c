"""Drift: nodes that differ from their pool, clusters that differ from their baseline, from
each other and from earlier scans. `DriftAnalysis` is what the engine runs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import msgspec

from plumbob.drift.assessed import baseline_assessed, cross_assessed, fleet_assessed
from plumbob.drift.attributes import ATTRIBUTES, NodeAttributes, snapshot_attributes
from plumbob.drift.baseline import BaselineError, LoadedBaseline, load_baseline
from plumbob.drift.components import components, components_visible
from plumbob.drift.cross import cross_cluster, policy_drift
from plumbob.drift.deviations import evaluate
from plumbob.drift.fleet import control_plane_version, fleet_drift
from plumbob.drift.policies import ClusterPolicies, cluster_policies
from plumbob.findings import AnalysisResult, Assessed, FindingPolicy
from plumbob.model.snapshot import Snapshot
from plumbob.report.model import Finding
from plumbob.report.sections import DriftSection, Sections

SECTION = "drift"
"""Key of the drift section in `Report.sections`."""


@dataclass(frozen=True, slots=True)
class DriftAnalysis:
    """Fleet drift in every snapshot, baseline deviations when a baseline is given, and
    cross-cluster drift when several snapshots are read at once."""

    pool_label: str | None = None
    baseline: LoadedBaseline | None = None

    def attributes(self, snapshots: Sequence[Snapshot]) -> dict[str, dict[str, NodeAttributes]]:
        return {s.cluster.name: snapshot_attributes(s, self.pool_label) for s in snapshots}

    def __call__(
        self, snapshots: Sequence[Snapshot], policy: FindingPolicy | None = None
    ) -> tuple[list[Finding], dict[str, Any]]:
        """Findings and the section as plain data, under `policy` (none: every finding kept):
        what the report holds, for callers outside a scan."""
        policy = policy or FindingPolicy()
        result = self.analyse(snapshots, policy.for_scan(snapshots))
        drift = result.sections.drift
        return result.findings, msgspec.to_builtins(drift) if drift is not None else {}

    def analyse(self, snapshots: Sequence[Snapshot], policy: FindingPolicy) -> AnalysisResult:
        """The engine's analysis: findings made by the policy, what was compared (one check
        run per drift id and cluster: nodes for fleet and baseline node rules, the cluster for
        cluster rules) and the drift section."""
        findings: list[Finding] = []
        assessed: list[Assessed] = []
        section = DriftSection(baseline=self.baseline.path if self.baseline else None)
        per_cluster: dict[str, dict[str, NodeAttributes]] = {}
        comps: dict[str, dict[str, str]] = {}
        visible: dict[str, bool] = {}
        policies: dict[str, ClusterPolicies] = {}
        deviations = 0
        for snap in snapshots:
            cluster = snap.cluster.name
            attrs = snapshot_attributes(snap, self.pool_label)
            per_cluster[cluster] = attrs
            labels = {n.name: set(n.labels) for n in snap.nodes}
            server = control_plane_version(snap.cluster.server_version, attrs, labels)
            made, rows = fleet_drift(cluster, attrs, server, policy)
            findings.extend(made)
            section.pools.extend(rows)
            assessed.extend(fleet_assessed(cluster, rows))
            if self.baseline is not None:
                found = evaluate(self.baseline, snap, attrs, policy)
                deviations += len(found)
                findings.extend(found)
                assessed.extend(baseline_assessed(self.baseline, snap, attrs))
            if len(snapshots) > 1:
                comps[cluster] = components(snap)
                visible[cluster] = components_visible(snap)
                policies[cluster] = cluster_policies(snap)
        if len(per_cluster) > 1:
            made, cross, comp_rows = cross_cluster(per_cluster, comps, policy, visible)
            findings.extend(made)
            section.cross.extend(cross)
            section.components.extend(comp_rows)
            made, policy_rows = policy_drift(policies, policy)
            findings.extend(made)
            section.policies.extend(policy_rows)
            assessed.extend(cross_assessed(per_cluster, findings))
        present = {key for row in section.pools for key in row.cells}
        columns = [a.id for a in ATTRIBUTES if a.id in present]
        columns.extend(sorted(k for k in present if k not in columns))
        section = msgspec.structs.replace(section, columns=columns, baseline_deviations=deviations)
        return AnalysisResult(findings, assessed, Sections(drift=section))


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
