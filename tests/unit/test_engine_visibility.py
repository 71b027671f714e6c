"""Never blind, never silent: checks assess only what the input showed.

A check whose input kind was not seen is not visible (and out of the score); a node whose source
did not show a part a check reads is not assessed by that check; coverage says how much of the
scan the score speaks for; drift never compares what a node's text left out."""

from __future__ import annotations

import io
from typing import Any

from plumbob import engine
from plumbob.checks.registry import Registry
from plumbob.config import Config
from plumbob.drift import DriftAnalysis
from plumbob.model.nodes import UNKNOWN_POOL
from plumbob.model.objects import NODE_PARTS
from plumbob.render import table
from plumbob.report.model import CheckStatus, Report
from tests.conftest import make_container, make_deployment, make_node, snapshot_of
from tests.unit.drift.helpers import pool_node

REGISTRY = Registry.discover()


def partial(node: dict[str, Any], *unknown: str) -> dict[str, Any]:
    """A node as a text inventory gives it: `unknown` parts not shown (and empty here)."""
    return {**node, "unknown": sorted(unknown)}


def run(*objects: dict[str, Any], only: list[str], **snap: Any) -> Report:
    return engine.run([snapshot_of(*objects, **snap)], REGISTRY, Config(only=only))


def runs_of(report: Report, check: str) -> list[Any]:
    return [r for r in report.checks if r.check == check]


def test_a_node_without_taints_shown_is_not_assessed_for_taints() -> None:
    nodes = [
        make_node(
            "shown-tainted", gpus=8, taints=[{"key": "nvidia.com/gpu", "effect": "NoSchedule"}]
        ),
        make_node("shown-untainted", gpus=8),
        partial(make_node("wide-1", gpus=8), "taints", "annotations", "images"),
    ]
    report = run(*nodes, only=["gpu-node-untainted"])
    assert [f.subject.name for f in report.findings] == ["shown-untainted"]
    (r,) = runs_of(report, "gpu-node-untainted")
    assert r.status == CheckStatus.FAILED and r.unseen == 1
    assert r.reason is not None and "taints not shown for 1 of 3 nodes" in r.reason
    # two of three nodes assessed: the run counts for 2/3 of a run
    assert report.scores.coverage == 66
    (nv,) = report.not_visible
    assert nv.checks == ["gpu-node-untainted"] and nv.reason.startswith("partly assessed: ")


def test_a_check_not_reading_the_unknown_part_assesses_the_node() -> None:
    # gpu-count-label-mismatch reads labels and resources, which this node shows
    node = partial(make_node("n", gpus=4, labels={"nvidia.com/gpu.count": "8"}), "taints", "images")
    report = run(node, only=["gpu-count-label-mismatch"])
    (r,) = runs_of(report, "gpu-count-label-mismatch")
    assert r.status == CheckStatus.FAILED and r.unseen == 0 and r.reason is None
    assert report.scores.coverage == 100


def test_when_no_node_shows_the_part_the_check_is_not_visible() -> None:
    nodes = [partial(make_node(f"w{i}", gpus=8), "taints") for i in range(3)]
    report = run(*nodes, only=["gpu-node-untainted"])
    (r,) = runs_of(report, "gpu-node-untainted")
    assert r.status == CheckStatus.NOT_VISIBLE and r.unseen == 3
    assert report.findings == [] and report.scores.overall is None


def test_no_node_inventory_is_said_first_and_not_scored(tmp_path: Any) -> None:
    """Manifests alone: every check that reads nodes is not visible, named before the score."""
    snap = snapshot_of(
        make_deployment("vllm", "ml", containers=[make_container(image="vllm/vllm:v0.6", gpus=1)]),
        captured=(),  # files: only the kinds they contain
    )
    report = engine.run([snap], REGISTRY)
    node_checks = {c.id for c in REGISTRY if "Node" in c.reads}
    by_reason = {nv.reason: set(nv.checks) for nv in report.not_visible}
    assert by_reason["no node inventory: the input has no Node objects"] == node_checks
    for check in node_checks:
        (r,) = runs_of(report, check)
        assert r.status == CheckStatus.NOT_VISIBLE
    assert report.scores.coverage < 60
    out = io.StringIO()
    table.render(report, out, width=200)
    text = out.getvalue()
    assert text.index("Not assessed: no node inventory") < text.index("Score ")
    assert f"coverage {report.scores.coverage}%" in text


def test_the_reason_with_most_checks_comes_first() -> None:
    snap = snapshot_of(make_deployment("web"), captured=())
    report = engine.run([snap], REGISTRY)
    counts = [len(nv.checks) for nv in report.not_visible]
    assert counts == sorted(counts, reverse=True)


def test_cluster_components_need_a_view_of_the_cluster() -> None:
    """A chart's manifests cannot show that the cluster has no metrics pipeline; a complete
    capture without one can."""
    app = make_deployment("vllm", "ml", containers=[make_container(image="vllm/vllm:v0.6", gpus=1)])
    node = make_node("g", gpus=1)
    manifests = run(app, node, only=["no-metrics-pipeline"], captured=("Deployment", "Node"))
    (r,) = runs_of(manifests, "no-metrics-pipeline")
    assert r.status == CheckStatus.NOT_VISIBLE and "add-ons" in (r.reason or "")
    complete = run(app, node, only=["no-metrics-pipeline"])  # captured=None: a full capture
    assert [f.check for f in complete.findings] == ["no-metrics-pipeline"]


def test_drift_does_not_compare_what_a_node_text_left_out() -> None:
    full = [pool_node(f"n{i}", "gpu", gpus=8, driver="550.90.07") for i in range(3)]
    # read from `kubectl get nodes -o wide --show-labels`: no taints, resources or system info;
    # its empty allocatable must not look like drift
    wide = partial(
        pool_node("n3", "gpu", gpus=8, driver="550.90.07", kernel="5.15.0"),
        "annotations",
        "taints",
        "capacity",
        "allocatable",
        "systemInfo",
        "images",
    )
    wide["status"] = {k: v for k, v in wide["status"].items() if k == "nodeInfo"}
    findings, _ = DriftAnalysis()([snapshot_of(*full, wide)])
    assert sorted((f.check, f.subject.name) for f in findings) == [("drift:kernel", "n3")]


def test_nodes_without_labels_are_not_put_in_a_pool() -> None:
    nodes = [partial(make_node(f"w{i}", kernel=f"6.{i}"), "labels", "taints") for i in range(3)]
    findings, section = DriftAnalysis()([snapshot_of(*nodes)])
    assert findings == []
    (row,) = section["pools"]
    assert row["pool"] == UNKNOWN_POOL and "labels were not shown" in row["notCompared"]


def test_every_node_part_maps_to_what_drift_reads() -> None:
    from plumbob.drift.attributes import UNKNOWN_BY_PART

    assert set(UNKNOWN_BY_PART) <= set(NODE_PARTS)


def test_a_kind_listed_in_part_is_not_visible_to_checks_reading_it(tmp_path: Any) -> None:
    """A live capture lists ConfigMaps by name and metadata only: a check reading what they hold
    (a device plugin's sharing config) is not visible, and a snapshot file keeps saying so."""
    from plumbob.sources.files import FileSource
    from plumbob.sources.snapshot_file import write_snapshot

    why = "listed in part by design"
    snap = snapshot_of(make_node("g", gpus=1), partly_listed={"ConfigMap": why})
    report = engine.run([snap], REGISTRY, engine.Config(only=["gpu-sharing-config-unsafe"]))
    (r,) = runs_of(report, "gpu-sharing-config-unsafe")
    assert r.status == CheckStatus.NOT_VISIBLE and r.reason == f"ConfigMap: {why}"
    assert "ConfigMap" not in report.clusters[0].not_visible  # not a gap in the inventory
    write_snapshot(snap, tmp_path / "s.json")
    (back,) = FileSource((tmp_path / "s.json",)).load().snapshots
    assert dict(back.partly_listed) == {"ConfigMap": why}
