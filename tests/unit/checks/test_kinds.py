"""The kinds a live capture lists come from what the checks declare: a check that reads a new
kind needs no edit anywhere else."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest

from plumbob.checks.kinds import ANALYSES_READ, UnknownKindError, capture_kinds, kind_keys
from plumbob.checks.registry import COMPONENTS, WORKLOADS, Check, Hit, Registry
from plumbob.knowledge.kinds import ANY_KIND, groups_of
from plumbob.knowledge.loader import load_table
from plumbob.model.snapshot import Snapshot

REGISTRY = Registry.discover()


def _none(snap: Snapshot) -> Iterator[Hit]:
    return iter(())


def check_reading(*reads: str, consults: tuple[str, ...] = ()) -> Check:
    base = REGISTRY.get("gpu-node-untainted")
    assert base is not None
    return dataclasses.replace(base, reads=reads, consults=consults, fn=_none)


def test_a_new_kind_a_check_declares_is_captured() -> None:
    before = capture_kinds(REGISTRY)
    assert ("coordination.k8s.io", "Lease") not in before
    after = capture_kinds([*REGISTRY, check_reading("Node", consults=("Lease",))])
    assert after - before == {("coordination.k8s.io", "Lease")}


def test_every_declared_kind_has_a_group() -> None:
    pairs = capture_kinds(REGISTRY)
    for check in REGISTRY:
        for key in kind_keys([check]) - kind_keys([]):
            assert groups_of(key), f"{check.id}: {key}"
    assert ("", "Node") in pairs and ("apps", "Deployment") in pairs


def test_a_kind_of_no_known_group_is_an_error() -> None:
    with pytest.raises(UnknownKindError, match="FrobnicatorJob"):
        capture_kinds([check_reading(WORKLOADS, consults=("FrobnicatorJob",))])


def test_kind_keys_name_their_groups() -> None:
    assert groups_of("Job") == {"batch"}
    assert groups_of("Job.batch.volcano.sh") == {"batch.volcano.sh"}
    assert groups_of("Service") == {""}
    assert groups_of("Service.serving.knative.dev") == {"serving.knative.dev"}
    assert groups_of("PodGroup") >= {"scheduling.x-k8s.io", "scheduling.run.ai"}
    pairs = capture_kinds([check_reading("Job.batch.volcano.sh", "PodGroup")])
    assert ("batch.volcano.sh", "Job") in pairs and ("scheduling.run.ai", "PodGroup") in pairs


def test_pseudo_kinds_stand_for_their_kinds() -> None:
    keys = kind_keys([check_reading(COMPONENTS)])
    assert {"Deployment", "DaemonSet", "Pod", "PyTorchJob", "APIService"} <= keys
    assert "ResourceSlice" in kind_keys([check_reading("Node")])  # a node's DRA devices
    assert WORKLOADS not in keys and COMPONENTS not in keys
    assert set(kind_keys([])) >= {"Namespace", "Node", "Pod"}  # ANALYSES_READ, expanded
    assert "Namespace" in ANALYSES_READ  # exemptions by namespace annotation


def test_report_kinds_of_components_are_listed_only_when_read() -> None:
    pairs = capture_kinds(REGISTRY)
    assert ("kueue.x-k8s.io", "ClusterQueue") in pairs  # a component CRD, listed whole
    assert ("constraints.gatekeeper.sh", ANY_KIND) in pairs
    assert not any(g == "constraints.gatekeeper.sh" and k != ANY_KIND for g, k in pairs)
    assert ("wgpolicyk8s.io", "PolicyReport") not in pairs
    assert ("wgpolicyk8s.io", "PolicyReport") in capture_kinds(
        [check_reading("Node", consults=("PolicyReport",))]
    )


def test_every_custom_kind_row_has_a_source() -> None:
    table = load_table("api_kinds")
    assert table["builtin"]["source"]
    for row in table["custom"]:
        assert row.get("source") and row.get("group") and row.get("kinds"), row
