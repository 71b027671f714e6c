"""JUnit XML for CI test reports (GitLab, Jenkins, Azure DevOps), written with junitparser.

One test suite per cluster, one test case per check and subject:

- a finding at or above `--fail-on` (every finding without it) is a failure whose body holds
  the detail: where (object, field path, file:line), the message, evidence, why and how to fix
  (GitLab shows the body and ignores the message attribute);
- findings below `--fail-on` pass, their messages in the case's output;
- a check that found nothing on a cluster is one passing case; a check that could not see its
  input is skipped with the reason; a check that failed with an error is an error;
- files not read are skipped cases of a suite `inputs`, so what was not seen shows first in
  the CI's test view as it does in every format.
"""

from __future__ import annotations

import io
import json
import re
from collections import defaultdict
from typing import TextIO

from junitparser import Error, Failure, JUnitXml, Skipped, TestCase, TestSuite

from plumbob.model.collector import gc_paused
from plumbob.render.locate import input_files, object_label, where
from plumbob.render.rules import Rules
from plumbob.report.model import CheckStatus, Finding, Report, Severity

_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
"""Characters XML 1.0 cannot hold (control characters from untrusted input)."""


def _text(value: str) -> str:
    return _NOT_XML.sub(lambda m: f"\\x{ord(m.group()):02x}", value)


def _body(findings: list[Finding], rules: Rules, files: frozenset[str]) -> str:
    rule = rules.get(findings[0].check)
    lines = []
    for f in findings:
        state = "" if f.new is None else "[new] " if f.new else "[existing] "
        lines.append(f"[{f.severity.value}] {state}{f.message}")
        lines.append(f"  where: {where(f, files)}")
        lines.append(f"  cluster: {f.cluster}")
        for key, value in f.evidence.items():
            shown = value if isinstance(value, str) else json.dumps(value, default=str)
            lines.append(f"  {key}: {shown}")
    if rule is not None:
        if rule.why:
            lines += ["", "Why it matters:", rule.why]
        if rule.fix:
            lines += ["", "How to fix:", rule.fix]
    lines += ["", f"plumbob explain {findings[0].check}"]
    return _text("\n".join(lines))


def _add(parent: TestSuite | JUnitXml, child: TestCase | TestSuite) -> None:
    """Append without recounting (junitparser's add_testcase recounts the whole suite at
    each case: quadratic at 35,000 findings); statistics are updated once, at the end."""
    parent.append(child)  # type: ignore[no-untyped-call]


def _case(name: str, classname: str) -> TestCase:
    return TestCase(_text(name), _text(classname), 0.0)


def document(report: Report, rules: Rules, fail_on: Severity | None = None) -> JUnitXml:
    files = input_files(report)
    threshold = fail_on or Severity.INFO
    by_run: dict[tuple[str, str], dict[tuple[str, str | None, str], list[Finding]]] = defaultdict(
        lambda: defaultdict(list)
    )
    for f in report.findings:
        s = f.subject
        by_run[(f.check, f.cluster)][(s.kind, s.namespace, s.name)].append(f)
    ordered: list[TestSuite] = []
    if report.inputs is not None and report.inputs.unread:
        inputs = TestSuite("inputs")
        for unread in report.inputs.unread:
            case = _case(unread.path, "plumbob.inputs")
            case.result = [Skipped(_text(f"not read: {unread.reason or 'unread'}"))]
            _add(inputs, case)
        ordered.append(inputs)
    suites: dict[str, TestSuite] = {}
    scores = report.scores
    for inv in report.clusters:
        suite = suites[inv.cluster] = TestSuite(_text(f"plumbob {inv.cluster}"))
        suite.add_property("cluster", _text(inv.cluster))
        suite.add_property("score", "none" if scores.overall is None else str(scores.overall))
        suite.add_property("coverage", f"{scores.coverage}%")
        if scores.capped_by is not None:
            suite.add_property("score-capped-by", scores.capped_by.value)
        ordered.append(suite)
    for run in report.checks:
        if run.cluster not in suites:
            suites[run.cluster] = TestSuite(_text(f"plumbob {run.cluster}"))
            ordered.append(suites[run.cluster])
        suite = suites[run.cluster]
        rule = rules.get(run.check)
        category = rule.category if rule else "other"
        classname = f"plumbob.{category}.{run.check}"
        title = rule.title if rule else run.check
        if run.status == CheckStatus.NOT_VISIBLE:
            case = _case(f"{run.check}: {title}", classname)
            case.result = [Skipped(_text(f"not assessed: {run.reason or 'input not visible'}"))]
            _add(suite, case)
            continue
        if run.status == CheckStatus.ERROR:
            case = _case(f"{run.check}: {title}", classname)
            case.result = [Error(_text(run.reason or "check failed"), "error")]
            _add(suite, case)
            continue
        subjects = by_run.get((run.check, run.cluster), {})
        if not subjects:
            case = _case(f"{run.check}: {title}", classname)
            if run.unseen:
                case.system_out = _text(f"{run.unseen} subjects not assessed: {run.reason}")
            _add(suite, case)
            continue
        for found in subjects.values():
            case = _case(f"{run.check}: {object_label(found[0].subject)}", classname)
            worst = max((f.severity for f in found), key=lambda s: s.rank)
            if worst.at_least(threshold):
                failure = Failure(_text(found[0].message), worst.value)
                failure.text = _body(found, rules, files)
                case.result = [failure]
            else:
                case.system_out = _body(found, rules, files)
            _add(suite, case)
    xml = JUnitXml("plumbob")
    for suite in ordered:
        suite.update_statistics()  # type: ignore[no-untyped-call]
        _add(xml, suite)
    xml.update_statistics()  # type: ignore[no-untyped-call]
    return xml


def encode(report: Report, rules: Rules, fail_on: Severity | None = None) -> bytes:
    buffer = io.BytesIO()
    with gc_paused():  # an element per case, built next to the scan's objects
        document(report, rules, fail_on).write(buffer, pretty=True)
    return buffer.getvalue()


def render(report: Report, out: TextIO, *, rules: Rules, fail_on: Severity | None = None) -> None:
    out.write(encode(report, rules, fail_on).decode("utf-8"))
