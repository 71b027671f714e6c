"""SARIF 2.1.0: valid against the schema, results at the field's line and column on real
manifests, pseudo-URIs where there is no file, fingerprints, GitHub's result limit."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from plumbob.render import sarif
from plumbob.render.locate import pseudo_uri
from tests.unit.render.helpers import demo, scan

SCHEMA = json.loads(
    (Path(__file__).parents[2] / "fixtures" / "sarif" / "sarif-schema-2.1.0.json").read_text()
)


def validate(document: dict[str, object]) -> None:
    jsonschema.validate(document, SCHEMA)


def test_demo_without_files_keeps_every_finding_at_a_pseudo_uri() -> None:
    report, rules = demo()
    doc = json.loads(sarif.encode(report, rules))
    validate(doc)
    run = doc["runs"][0]
    results = run["results"]
    assert len(results) == len(report.findings) > 20  # none dropped for lack of a file
    for result, finding in zip(results, report.findings, strict=True):
        location = result["locations"][0]
        uri = location["physicalLocation"]["artifactLocation"]["uri"]
        assert uri == pseudo_uri(finding.cluster, finding.subject)
        assert uri.startswith("k8s/demo-ai-platform/")
        assert location["logicalLocations"][0]["name"] == finding.subject.name
        assert result["partialFingerprints"] == {sarif.FINGERPRINT_KEY: finding.fingerprint}
        assert run["tool"]["driver"]["rules"][result["ruleIndex"]]["id"] == finding.check
    assert run["automationDetails"]["id"].startswith("plumbob/demo-ai-platform/")
    assert run["properties"]["coverage"] == report.scores.coverage
    assert report.scores.capped_by is not None  # the demo plants high findings
    assert run["properties"]["scoreCappedBy"] == report.scores.capped_by.value
    notes = run["invocations"][0]["toolExecutionNotifications"]
    assert any("gpu-allocated-idle" in n["message"]["text"] for n in notes)


def test_rules_carry_check_metadata() -> None:
    report, rules = demo()
    doc = sarif.document(report, rules)
    by_id = {r["id"]: r for r in doc["runs"][0]["tool"]["driver"]["rules"]}
    rule = by_id["gpu-node-untainted"]
    assert rule["name"] == "GpuNodeUntainted"
    assert rule["shortDescription"]["text"] == rules["gpu-node-untainted"].title
    assert rule["fullDescription"]["text"] == rules["gpu-node-untainted"].why
    assert rules["gpu-node-untainted"].fix in rule["help"]["markdown"]
    assert rule["defaultConfiguration"]["level"] == "error"
    assert 7.0 <= float(rule["properties"]["security-severity"]) < 9.0  # GitHub's "high"
    assert "gpu" in rule["properties"]["tags"]
    drift = by_id["drift:nvidia_driver"]
    assert drift["help"]["text"] and drift["name"] == "DriftNvidiaDriver"
    assert len(by_id) == len(doc["runs"][0]["tool"]["driver"]["rules"])


def test_results_are_cut_at_the_limit_and_the_cut_is_said() -> None:
    report, rules = demo()
    doc = sarif.document(report, rules, max_results=5)
    validate(doc)
    run = doc["runs"][0]
    assert len(run["results"]) == 5
    assert all(r["level"] == "error" for r in run["results"])  # the highest severities stay
    cut = run["properties"]["truncated"]
    assert cut["omitted"] == len(report.findings) - 5
    assert sum(cut["omittedBySeverity"].values()) == cut["omitted"]
    assert sarif.MAX_RESULTS == 25_000


@pytest.mark.parametrize(
    ("fixture", "check", "field"),
    [
        ("workloads/hf-gke-tgi-deployment.yaml", "gpu-request-without-limit", "resources"),
        ("workloads/hf-gke-tgi-deployment.yaml", "gpu-image-mutable-tag", "image"),
        ("nodes/akash-k3s-node1-8gpu-no-gfd.json", "gpu-node-untainted", '"spec"'),
    ],
)
def test_real_manifests_point_at_the_field(
    real: Path, monkeypatch: pytest.MonkeyPatch, fixture: str, check: str, field: str
) -> None:
    monkeypatch.chdir(real)
    report, rules = scan(Path(fixture))
    doc = json.loads(sarif.encode(report, rules))
    validate(doc)
    results = [r for r in doc["runs"][0]["results"] if r["ruleId"] == check]
    assert results, f"{check} not found in {fixture}"
    for result in results:
        physical = result["locations"][0]["physicalLocation"]
        assert physical["artifactLocation"] == {"uri": fixture, "uriBaseId": sarif.ROOT}
        region = physical["region"]
        text = (real / fixture).read_text().splitlines()[region["startLine"] - 1]
        assert text[region["startColumn"] - 1 :].startswith(field), (text, region)
        located = result["properties"]["locatedAt"]
        assert located and result["properties"]["fieldPath"].startswith(located)


def test_every_real_manifest_result_has_line_and_column(
    real: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(real)
    files = sorted(p.relative_to(real) for p in (real / "workloads").glob("*.yaml"))
    report, rules = scan(*files)
    doc = sarif.document(report, rules)
    validate(doc)
    in_files = [
        r
        for r in doc["runs"][0]["results"]
        if "uriBaseId" in r["locations"][0]["physicalLocation"]["artifactLocation"]
    ]
    assert len(in_files) > 50
    for r in in_files:
        region = r["locations"][0]["physicalLocation"]["region"]
        assert region["startLine"] >= 1 and region["startColumn"] >= 1, r


def test_fingerprints_survive_reformatting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    compact = (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: infer, namespace: ml}\n"
        "spec:\n  template:\n    spec:\n      containers:\n      - name: vllm\n"
        "        image: vllm/vllm-openai:latest\n"
        "        resources: {requests: {nvidia.com/gpu: 1}}\n"
    )
    spread = (
        "# reformatted: comments, key order and indentation changed\n\n"
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n    namespace: ml\n    name: infer\n"
        "spec:\n    template:\n        spec:\n            containers:\n"
        "                - name: vllm\n"
        "                  resources:\n                      requests:\n"
        "                          nvidia.com/gpu: 1\n"
        "                  image: vllm/vllm-openai:latest\n"
    )
    path = tmp_path / "app.yaml"

    def results(text: str) -> dict[str, tuple[str, int]]:
        path.write_text(text)
        report, rules = scan(path, cluster="ci")
        out = {}
        for r in sarif.document(report, rules)["runs"][0]["results"]:
            line = r["locations"][0]["physicalLocation"]["region"]["startLine"]
            out[r["ruleId"]] = (r["partialFingerprints"][sarif.FINGERPRINT_KEY], line)
        return out

    before, after = results(compact), results(spread)
    assert before.keys() == after.keys() and "gpu-request-without-limit" in before
    for check in before:
        assert before[check][0] == after[check][0]
    assert before["gpu-request-without-limit"][1] != after["gpu-request-without-limit"][1]
