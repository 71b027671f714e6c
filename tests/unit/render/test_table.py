"""The terminal report as a new user reads it, at 80 and 160 columns: where each finding is,
a fix on each check's first finding, the checks not assessed by name, a headline that cannot
contradict the findings, and nothing cut to `gpu-tra…`."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest

from plumbob.render import table
from plumbob.report.model import Severity
from tests.unit.render.helpers import demo, idle_cost, scan, severity_counts


def render(width: int, report: object = None, rules: object = None) -> str:
    if report is None:
        report, rules = demo()
    out = io.StringIO()
    table.render(report, out, width=width, rules=rules)  # type: ignore[arg-type]
    return out.getvalue()


@pytest.mark.parametrize("width", [80, 160])
def test_nothing_is_cut_and_lines_fit(width: int) -> None:
    text = render(width)
    assert all(len(line) <= width for line in text.splitlines())
    # (a workload's role evidence quotes its command shortened, in backquotes: `tritonserver …`)
    assert not re.search(r"\w…(?!`)", text), re.search(r".{20}\w….{5}", text)
    flat = " ".join(text.split())
    report, _ = demo()
    for name in ("demo-ai-platform", "gpu-train-h100", "inference-l4", "v1.31.4-eks-2d5f260"):
        assert name in flat
    for f in report.findings[:10]:
        assert f.subject.name in text.replace("\n", "").replace("│", "").replace(" ", "") or (
            f.subject.name in flat
        )


@pytest.mark.parametrize("width", [80, 160])
def test_headline_shows_severities_cap_and_idle_cost(width: int) -> None:
    flat = " ".join(render(width).split())
    report, _ = demo()
    scores = report.scores
    assert scores.capped_by is not None and scores.capped_by.rank >= Severity.HIGH.rank
    score = f"Score {scores.overall}/100"
    cap = f"(capped by {scores.capped_by.value} findings; {scores.uncapped} uncapped)"
    assert f"{score} {cap}" in flat
    assert f"coverage {scores.coverage}%" in flat
    assert f"Findings: {severity_counts(report)}" in flat
    idle, gpus, money = idle_cost(report)
    assert f"idle GPUs: {idle} of {gpus} ≈ {money}/month" in flat
    assert flat.index("Not assessed:") < flat.index(score)


def test_not_assessed_checks_are_named() -> None:
    flat = " ".join(render(80).split())
    assert "(2 checks: gpu-allocated-idle, gpu-low-utilization)" in flat


@pytest.mark.parametrize("width", [80, 160])
def test_each_finding_says_where_and_each_check_how_to_fix(width: int) -> None:
    text = render(width)
    flat = " ".join(text.replace("│", " ").split())
    assert "Deployment team-llm-serving/whisper-large-v3 · spec.template.spec.containers" in flat
    assert "Node ip-10-0-138-17.us-west-2.compute.internal · spec.taints" in flat
    assert "demo:demo-ai-platform" not in flat  # the demo's origin is no place to look
    report, _ = demo()
    shown_checks = {f.check for f in report.findings}
    assert flat.count("fix: ") == len(shown_checks)
    assert "fix: Taint GPU nodes" in flat and "(plumbob explain gpu-node-untainted)" in flat


def test_manifest_findings_give_file_line_and_column(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "app.yaml").write_text(
        "# serving\n---\napiVersion: apps/v1\nkind: Deployment\n"
        "metadata: {name: infer, namespace: ml}\n"
        "spec:\n  template:\n    spec:\n      containers:\n      - name: vllm\n"
        "        image: vllm/vllm-openai:latest\n"
        "        resources: {requests: {nvidia.com/gpu: 1}}\n"
    )
    report, rules = scan(Path("app.yaml"), cluster="ci")
    flat = " ".join(render(80, report, rules).replace("│", " ").split())
    # the field's own line and column, not the document's first line (3)
    where = "Deployment ml/infer · spec.template.spec.containers[0].resources · app.yaml:12:9"
    assert where in flat


def test_drift_stays_legible() -> None:
    narrow = render(80)
    assert "outlier nodes: ip-10-0-138-17.us-west-2.compute.internal" in " ".join(
        narrow.replace("│", " ").split()
    )
    assert "driver: 2 (majority 550.127.05)" in narrow
    wide = render(160)
    assert "outlier nodes" in wide and "driver" in wide and "gpu-train-h100 (GPU)" in wide
