"""JUnit XML, parsed back with junitparser: a case per check and subject, failures at or
above --fail-on with the detail in the body, skipped for checks not visible."""

from __future__ import annotations

from pathlib import Path

import msgspec
from junitparser import Failure, JUnitXml, Skipped

from plumbob.render import junit
from plumbob.report.model import CheckStatus, FileRead, Inputs, Severity
from tests.unit.render.helpers import demo, scan


def cases(xml: bytes) -> list[tuple[str, object]]:
    return [(suite.name, case) for suite in JUnitXml.fromstring(xml) for case in suite]


def test_demo_parses_back_with_a_case_per_check_and_subject() -> None:
    report, rules = demo()
    xml = junit.encode(report, rules)
    parsed = cases(xml)
    subjects = {
        (f.check, f.subject.kind, f.subject.namespace, f.subject.name) for f in report.findings
    }
    failures = [c for _, c in parsed if any(isinstance(r, Failure) for r in c.result)]
    assert len(failures) == len(subjects)
    skipped = [c for _, c in parsed if any(isinstance(r, Skipped) for r in c.result)]
    not_visible = [r for r in report.checks if r.status == CheckStatus.NOT_VISIBLE]
    assert len(skipped) == len(not_visible) > 0
    assert all("not assessed: GpuMetrics" in c.result[0].message for c in skipped)
    passed = [r for r in report.checks if r.status == CheckStatus.PASSED]
    assert len(parsed) == len(subjects) + len(not_visible) + len(passed)
    untainted = next(c for c in failures if c.classname == "plumbob.gpu.gpu-node-untainted")
    body = untainted.result[0].text
    # the detail is in the body (GitLab ignores the message attribute)
    assert "where: Node ip-10-0-138-17" in body and "spec.taints" in body
    assert "How to fix:" in body and "Why it matters:" in body
    assert untainted.result[0].type == "high"
    suite = JUnitXml.fromstring(xml)
    first = next(iter(suite))
    props = {p.name: p.value for p in first.properties()}
    assert props["score"] == str(report.scores.overall) and props["coverage"].endswith("%")


def test_fail_on_makes_lower_findings_pass_with_their_output() -> None:
    report, rules = demo()
    parsed = cases(junit.encode(report, rules, Severity.HIGH))
    failed = [c for _, c in parsed if any(isinstance(r, Failure) for r in c.result)]
    assert failed and all(c.result[0].type in ("high", "critical") for c in failed)
    medium = {f.check for f in report.findings if f.severity == Severity.MEDIUM}
    passing_medium = [
        c for _, c in parsed if c.classname.rsplit(".", 1)[-1] in medium and not c.result
    ]
    assert passing_medium and all("[medium]" in (c.system_out or "") for c in passing_medium)


def test_unread_files_are_skipped_cases_first(tmp_path: Path) -> None:
    report, rules = demo()
    unread = FileRead(path="charts/bad.yaml", outcome="unread", reason="invalid YAML")
    report = msgspec.structs.replace(report, inputs=Inputs(files=2, read=1, unread=[unread]))
    xml = JUnitXml.fromstring(junit.encode(report, rules))
    first = next(iter(xml))
    assert first.name == "inputs"
    case = next(iter(first))
    assert case.name == "charts/bad.yaml" and "invalid YAML" in case.result[0].message


def test_control_characters_from_input_stay_valid_xml(tmp_path: Path) -> None:
    path = tmp_path / "app.yaml"
    path.write_text(
        'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: "bad\\u001b[31mname"}\n'
        "spec:\n  template:\n    spec:\n      containers:\n      - name: c\n"
        "        image: vllm/vllm-openai:latest\n"
        "        resources: {requests: {nvidia.com/gpu: 1}}\n"
    )
    report, rules = scan(path, cluster="ci")
    xml = junit.encode(report, rules)
    names = [c.name for _, c in cases(xml)]
    assert any("\\x1b[31m" in n for n in names)
