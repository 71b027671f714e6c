"""The cluster's Kubernetes version as the compat checks read it (not a check module)."""

from __future__ import annotations

from dataclasses import dataclass

from plumbob.knowledge.kubernetes import Minor, parse_minor_text
from plumbob.model.snapshot import Snapshot


@dataclass(frozen=True, slots=True)
class ClusterVersion:
    minor: Minor
    version: str
    basis: str
    """'server' (the API server's version) or 'newest kubelet' (no server version known)."""


def control_plane(snap: Snapshot) -> ClusterVersion | None:
    """The control-plane version: the server's, else the newest kubelet's (a kubelet is never
    newer than a control plane inside the skew policy)."""
    minor = parse_minor_text(snap.cluster.server_version)
    if minor is not None and snap.cluster.server_version:
        return ClusterVersion(minor, snap.cluster.server_version, "server")
    best: tuple[Minor, str] | None = None
    for node in snap.nodes:
        text = node.status.node_info.kubelet_version
        kubelet = parse_minor_text(text)
        if kubelet is not None and (best is None or kubelet > best[0]):
            best = (kubelet, text)
    if best is None:
        return None
    return ClusterVersion(best[0], best[1], "newest kubelet")
