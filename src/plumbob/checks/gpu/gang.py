"""What the gang-scheduling checks share: which gang schedulers the cluster runs, which ones a
workload's pods ask for, and how the verdict about a workload no gang scheduler admits is said."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from plumbob.knowledge.components import (
    GANG_SCHEDULERS,
    Installed,
    gang_targets,
    installed,
    inventory_visible,
)
from plumbob.model.gpu import pod_uses_gpu
from plumbob.model.snapshot import Snapshot
from plumbob.model.workloads import PodTemplate

NAMES = {
    "kueue": "Kueue",
    "volcano": "Volcano",
    "scheduler-plugins": "scheduler-plugins",
    "kai-scheduler": "KAI Scheduler",
}
"""Gang schedulers by component id, as the messages name them."""


@dataclass(frozen=True, slots=True)
class Gangs:
    """The cluster's side: the components present, the gang schedulers among them, and whether
    the input shows the cluster's add-ons at all (manifests alone do not)."""

    present: Mapping[str, Installed]
    installed: list[str]
    visible: bool

    @classmethod
    def of(cls, snap: Snapshot) -> Gangs:
        present = installed(snap)
        return cls(present, [g for g in GANG_SCHEDULERS if g in present], inventory_visible(snap))


def gpu_pod_templates(templates: Iterable[PodTemplate]) -> list[PodTemplate]:
    return [t for t in templates if pod_uses_gpu(t.spec, t.metadata.annotations)]


def targets_of(templates: Iterable[PodTemplate]) -> set[str]:
    """The gang schedulers the workload's pods ask for (queue labels, schedulerName, pod groups)."""
    targets: set[str] = set()
    for template in templates:
        targets |= gang_targets(template)
    return targets


def not_admitted(asked: Sequence[str], gangs: Gangs, queue_label: str) -> str:
    """The end of the message for a workload that no installed gang scheduler admits."""
    if asked:
        return f"and asks for {', '.join(NAMES[a] for a in asked)}, which is not installed"
    if gangs.installed:
        return (
            f"but is not admitted through {' or '.join(NAMES[g] for g in gangs.installed)}: "
            f"no {queue_label} label, gang schedulerName or pod-group label"
        )
    if gangs.visible:
        return "and no gang scheduler (Kueue, Volcano, scheduler-plugins, KAI) is installed"
    return "and targets no gang scheduler (no queue label, schedulerName or pod group)"
