"""Fleet drift inside one snapshot: per pool and attribute, the majority value and every node
that differs from it; pools without a majority are reported as split."""

from __future__ import annotations

from collections.abc import Mapping

from plumbob.drift.attributes import (
    BY_ID,
    LABEL_PREFIX,
    AttributeContext,
    NodeAttributes,
    attribute_title,
    shape_attribute,
)
from plumbob.drift.findings import drift_finding, node_subject, pool_subject
from plumbob.drift.pools import Pool, Spread, pools_of, spreads
from plumbob.drift.versions import version_key
from plumbob.findings import FindingPolicy
from plumbob.model.nodes import UNKNOWN_POOL
from plumbob.report.model import Finding, Severity
from plumbob.report.sections import Cell, PoolRow
from plumbob.report.text import clipped

ABSENT = "(absent)"
CONTROL_PLANE_LABELS = ("node-role.kubernetes.io/control-plane", "node-role.kubernetes.io/master")


def check_id(attribute: str) -> str:
    """Finding id of a fleet difference: `drift:<attribute>`, labels all as `drift:label`."""
    return "drift:label" if attribute.startswith(LABEL_PREFIX) else f"drift:{attribute}"


def compared(attribute: str) -> bool:
    found = BY_ID.get(attribute)
    return found.fleet if found is not None else attribute.startswith(LABEL_PREFIX)


def severity_of(
    attribute: str, pool: Pool, value: str | None, majority: str | None, server_version: str | None
) -> str:
    found = BY_ID.get(attribute)
    if found is None:
        return "low"
    return found.severity(
        AttributeContext(
            gpu_pool=pool.gpu, value=value, majority=majority, server_version=server_version
        )
    )


def control_plane_version(
    server_version: str | None, attrs: Mapping[str, NodeAttributes], labels: Mapping[str, set[str]]
) -> str | None:
    """The API server version, or else the newest kubelet on a control-plane node."""
    if server_version:
        return server_version
    kubelets = [
        a.kubelet
        for name, a in attrs.items()
        if a.kubelet and labels.get(name, set()) & set(CONTROL_PLANE_LABELS)
    ]
    return max(kubelets, key=lambda v: version_key(v) or (), default=None)


def _label(value: str | None) -> str:
    """A value as messages and tables show it: `(absent)`, `""` for an empty label value."""
    if value is None:
        return ABSENT
    return clipped(value) if value else '""'


def _cell(spread: Spread) -> Cell:
    """The cell of the drift table; values kept to `report.text.MAX_TEXT` characters."""
    majority = None if spread.majority is None else clipped(spread.majority)
    if spread.distinct < 2:
        return Cell(distinct=1, majority=majority)
    outliers = [
        n
        for v, nodes in spread.by_value.items()
        if spread.split or v != spread.majority
        for n in nodes
    ]
    return Cell(
        distinct=spread.distinct,
        majority=majority,
        split=spread.split,
        outliers=sorted(outliers),
        values={_label(v): len(nodes) for v, nodes in spread.by_value.items()},
    )


def fleet_drift(
    cluster: str,
    attrs: Mapping[str, NodeAttributes],
    server_version: str | None,
    policy: FindingPolicy,
) -> tuple[list[Finding], list[PoolRow]]:
    """Findings for every node that differs from its pool's majority, one per split pool and
    attribute, and one table row per pool."""
    findings: list[Finding] = []
    rows: list[PoolRow] = []
    for pool in pools_of(cluster, attrs.values()):
        cells: dict[str, Cell] = {}
        total = len(pool.nodes)
        if pool.name == UNKNOWN_POOL:  # nodes read from text without labels: not compared
            rows.append(
                PoolRow(
                    cluster=cluster,
                    pool=pool.name,
                    nodes=total,
                    not_compared="their labels were not shown, so their pools are unknown",
                )
            )
            continue
        pool_spreads = spreads(pool)
        driver = pool_spreads.get("nvidia_driver")
        # GFD's CUDA version is the one the driver supports: a node whose driver differs
        # is reported once, for its driver, with the CUDA version as evidence.
        driver_outliers = frozenset(_cell(driver).outliers) if driver is not None else frozenset()
        for attribute, spread in pool_spreads.items():
            if not compared(attribute) or (pool.shapes_chosen and shape_attribute(attribute)):
                if not attribute.startswith(LABEL_PREFIX):
                    cells[attribute] = _cell(spread)
                continue
            cell = _cell(spread)
            if cell.distinct > 1 or not attribute.startswith(LABEL_PREFIX):
                cells[attribute] = cell
            if cell.distinct < 2:
                continue
            skip = driver_outliers if attribute == "cuda" else frozenset()
            findings.extend(
                _findings(
                    cluster,
                    pool,
                    attribute,
                    spread,
                    total,
                    server_version,
                    policy,
                    skip,
                    pool_spreads.get("cuda"),
                )
            )
        rows.append(
            PoolRow(cluster=cluster, pool=pool.name, nodes=total, gpu=pool.gpu, cells=cells)
        )
    return findings, rows


def _findings(
    cluster: str,
    pool: Pool,
    attribute: str,
    spread: Spread,
    total: int,
    server_version: str | None,
    policy: FindingPolicy,
    skip: frozenset[str] = frozenset(),
    cuda: Spread | None = None,
) -> list[Finding]:
    check = check_id(attribute)
    title = attribute_title(attribute)
    out: list[Finding] = []
    if spread.split:
        levels = [severity_of(attribute, pool, v, None, server_version) for v in spread.by_value]
        level = max(levels, key=lambda s: Severity(s).rank)
        shares = ", ".join(f"{_label(v)} ({len(n)})" for v, n in spread.by_value.items())
        made = drift_finding(
            policy,
            check=check,
            severity=level,
            cluster=cluster,
            subject=pool_subject(pool.name, attribute),
            message=f"pool {pool.name} is split on {title}: {shares}; no value is held by "
            f"more than half of its {total} nodes",
            evidence={
                "pool": pool.name,
                "attribute": attribute,
                "split": True,
                "values": {_label(v): list(n) for v, n in spread.by_value.items()},
            },
        )
        if made is not None:
            out.append(made)
        return out
    majority = spread.majority
    held = len(spread.by_value[majority])
    for value, nodes in spread.by_value.items():
        if value == majority:
            continue
        level = severity_of(attribute, pool, value, majority, server_version)
        for node in nodes:
            if node in skip:
                continue
            evidence: dict[str, object] = {
                "pool": pool.name,
                "attribute": attribute,
                "value": value,
                "majority": majority,
                "majorityNodes": held,
                "poolNodes": total,
            }
            if attribute == "nvidia_driver" and cuda is not None:
                evidence["cuda"] = next((v for v, ns in cuda.by_value.items() if node in ns), None)
                evidence["majorityCuda"] = cuda.majority
            made = drift_finding(
                policy,
                check=check,
                severity=level,
                cluster=cluster,
                subject=node_subject(node, attribute),
                message=f"{node}: {title} {_label(value)} differs from pool {pool.name} "
                f"({_label(majority)} on {held} of {total} nodes)",
                evidence=evidence,
            )
            if made is not None:
                out.append(made)
    return out
