"""What drift compared, as check runs: one per drift id and cluster, with the number of subjects
it looked at, so that drift counts in scores and coverage as a check does (passed when nothing
differed, failed when a finding was kept) and a node left out of the comparison is not."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping

from plumbob.drift.attributes import ATTRIBUTES, NodeAttributes
from plumbob.drift.baseline import LoadedBaseline
from plumbob.drift.findings import CATEGORY
from plumbob.findings import Assessed
from plumbob.model.snapshot import Snapshot
from plumbob.report.model import Finding, Severity
from plumbob.report.sections import PoolRow

FLEET_IDS = (*(f"drift:{a.id}" for a in ATTRIBUTES if a.fleet), "drift:label")
"""Every fleet drift id: an attribute compared inside pools, and labels."""


def _assessed(check: str, cluster: str, subjects: int) -> Assessed:
    return Assessed(
        check=check,
        cluster=cluster,
        subjects=subjects,
        category=CATEGORY,
        severity=Severity.MEDIUM,
    )


def fleet_assessed(cluster: str, rows: Iterable[PoolRow]) -> Iterator[Assessed]:
    """Fleet drift compared every node of the pools it compared (not the nodes whose pool is
    unknown) on every fleet attribute."""
    nodes = sum(r.nodes for r in rows if r.not_compared is None)
    if nodes:
        for check in FLEET_IDS:
            yield _assessed(check, cluster, nodes)


def baseline_assessed(
    loaded: LoadedBaseline, snap: Snapshot, attrs: Mapping[str, NodeAttributes]
) -> Iterator[Assessed]:
    """Each baseline rule the file declares, over the subjects it applies to: the nodes of the
    pools it names, the pools themselves, the cluster, or its workloads (approved registries)."""
    cluster = snap.cluster.name
    baseline = loaded.baseline
    in_pools = [a for a in attrs.values() if a.pool in baseline.pools]
    by_attribute: dict[str, int] = {}
    for pool, attribute in loaded.specs:
        count = sum(1 for a in in_pools if a.pool == pool)
        by_attribute[attribute] = by_attribute.get(attribute, 0) + count
    for attribute, count in by_attribute.items():
        yield _assessed(f"baseline:{attribute}", cluster, count)
    intents = baseline.pools.values()
    if any(i.required_taints for i in intents):
        yield _assessed("baseline:taints", cluster, len(in_pools))
    if any(i.required_labels for i in intents):
        yield _assessed("baseline:labels", cluster, len(in_pools))
    if baseline.pools and attrs:
        yield _assessed("baseline:pool-missing", cluster, len(baseline.pools))
    if baseline.cluster.min_kubernetes_version:
        yield _assessed("baseline:kubernetes_version", cluster, 1)
    if loaded.components:
        yield _assessed("baseline:component", cluster, len(loaded.components))
    if baseline.cluster.approved_registries:
        yield _assessed("baseline:registry", cluster, len(snap.workloads))


def cross_assessed(clusters: Iterable[str], findings: Iterable[Finding]) -> Iterator[Assessed]:
    """Clusters compared with each other: each cross-cluster id any finding used, on every
    cluster compared (the cluster is the subject)."""
    ids = sorted({f.check for f in findings if f.check.startswith("cross-cluster:")})
    for cluster in clusters:
        for check in ids:
            yield _assessed(check, cluster, 1)
