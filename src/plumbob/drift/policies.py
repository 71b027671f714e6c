"""Admission policies per cluster, for cross-cluster drift: the same policy (engine kind,
namespace, name) enforced in some clusters and missing, or only auditing, in others.

Policies come from `plumbob.model.policies.admission_policies` (Kyverno policies, Gatekeeper
constraints, ValidatingAdmissionPolicies with their bindings), as the policy checks read them.
"""

from __future__ import annotations

from dataclasses import dataclass

from plumbob.model.policies import admission_policies
from plumbob.model.snapshot import Snapshot

ENFORCE = "enforce"
AUDIT = "audit"


@dataclass(frozen=True, slots=True)
class ClusterPolicies:
    """The admission policies of one snapshot and whether it can show one is absent."""

    states: dict[str, str]
    """Policy id (`<Kind>/<name>` or `<Kind>/<namespace>/<name>`) -> "enforce" or "audit"."""
    live: bool
    """The snapshot has API discovery (a live capture), so it listed every policy kind the
    server serves; a folder of manifests or a cluster-info dump may simply not carry them."""
    hidden: frozenset[str]
    """Policy kinds the capture could not list (RBAC, errors): no verdict on those."""

    def can_show_absence(self, policy: str) -> bool:
        return self.live and policy.partition("/")[0] not in self.hidden


def policy_id(kind: str, namespace: str | None, name: str) -> str:
    return f"{kind}/{namespace}/{name}" if namespace else f"{kind}/{name}"


def cluster_policies(snap: Snapshot) -> ClusterPolicies:
    states: dict[str, str] = {}
    for policy in admission_policies(snap):
        obj = policy.obj
        if obj.kind == "ConstraintTemplate":  # a template enforces nothing until constrained
            continue
        states[policy_id(obj.kind, obj.namespace, obj.name)] = (
            ENFORCE if policy.enforcing else AUDIT
        )
    return ClusterPolicies(
        states=states,
        live=snap.discovery is not None,
        hidden=frozenset(snap.not_visible),
    )
