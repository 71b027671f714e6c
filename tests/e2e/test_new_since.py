"""`scan --new-since`: the CI gate fails only on findings an earlier report did not have, matched
by the semantic fingerprint, which survives a moved file, reordered documents and containers,
and a reworded message."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import msgspec
import pytest

from plumbob.findings import mark_new
from plumbob.report.model import Finding, Report, Subject

ROOT = Path(__file__).resolve().parents[2]

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: infer, namespace: ml}
spec:
  template:
    spec:
      containers:
      - name: sidecar
        image: busybox:latest
      - name: vllm
        image: vllm/vllm-openai:latest
        resources: {requests: {nvidia.com/gpu: 1}}
"""
SERVICE = """\
apiVersion: v1
kind: Service
metadata: {name: infer, namespace: ml}
spec: {selector: {app: infer}, ports: [{port: 80}]}
"""
# the same Deployment, containers in the other order and keys reformatted
DEPLOYMENT_REORDERED = """\
kind: Deployment
apiVersion: apps/v1
metadata:
  namespace: ml
  name: infer
spec:
  template:
    spec:
      containers:
        - name: vllm
          resources: {requests: {nvidia.com/gpu: 1}}
          image: vllm/vllm-openai:latest
        - name: sidecar
          image: busybox:latest
"""


def plumbob(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {"CI": "1", "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "COLUMNS": "120"}
    env["PYTHONPATH"] = str(ROOT / "src")
    env["HOME"] = str(cwd)  # the default store lives under the data directory
    return subprocess.run(
        [sys.executable, "-m", "plumbob", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
        env=env,
    )


def scan_json(tmp_path: Path, *args: str) -> tuple[int, dict[str, object], str]:
    out = tmp_path / f"report-{len(list(tmp_path.glob('report-*')))}.json"
    result = plumbob("scan", *args, "-q", "--output", f"json={out}", cwd=tmp_path)
    report = json.loads(out.read_text()) if out.is_file() else {}
    return result.returncode, report, result.stderr


@pytest.fixture
def earlier(tmp_path: Path) -> Path:
    (tmp_path / "k8s").mkdir()
    (tmp_path / "k8s" / "app.yaml").write_text(DEPLOYMENT + "---\n" + SERVICE)
    code, report, err = scan_json(tmp_path, "k8s")
    assert code == 0, err
    assert len(report["findings"]) >= 4  # type: ignore[arg-type]
    path = tmp_path / "earlier.json"
    path.write_text(json.dumps(report))
    return path


def test_a_moved_file_with_reordered_documents_and_containers_is_nothing_new(
    tmp_path: Path, earlier: Path
) -> None:
    (tmp_path / "deploy" / "apps").mkdir(parents=True)
    (tmp_path / "deploy" / "apps" / "inference.yaml").write_text(
        "# moved, reordered\n" + SERVICE + "---\n" + DEPLOYMENT_REORDERED
    )
    code, report, err = scan_json(
        tmp_path, "deploy", "--new-since", str(earlier), "--fail-on", "info"
    )
    assert code == 0, err
    before = json.loads(earlier.read_text())
    findings = report["findings"]
    assert isinstance(findings, list)
    assert [f["new"] for f in findings] == [False] * len(before["findings"])
    assert {f["fingerprint"] for f in findings} != {f["fingerprint"] for f in before["findings"]}
    # (the cluster took the folder's name: fingerprints differ, the findings still match)
    assert report["newSince"] == {
        "source": str(earlier),
        "generatedAt": before["generatedAt"],
        "new": 0,
        "existing": len(findings),
        "resolved": 0,
    }


def test_in_the_same_place_fingerprints_survive_reordering(tmp_path: Path, earlier: Path) -> None:
    (tmp_path / "k8s" / "app.yaml").write_text(SERVICE + "---\n" + DEPLOYMENT_REORDERED)
    code, report, err = scan_json(tmp_path, "k8s")
    assert code == 0, err
    before = json.loads(earlier.read_text())
    assert sorted(f["fingerprint"] for f in report["findings"]) == sorted(  # type: ignore[union-attr]
        f["fingerprint"] for f in before["findings"]
    )


def test_a_new_finding_fails_the_gate_and_is_marked(tmp_path: Path, earlier: Path) -> None:
    third = DEPLOYMENT.replace("name: infer,", "name: trainer,")
    (tmp_path / "k8s" / "more.yaml").write_text(third)
    code, report, err = scan_json(tmp_path, "k8s", "--new-since", str(earlier), "--fail-on", "high")
    assert code == 1, err
    findings = report["findings"]
    assert isinstance(findings, list)
    new = {(f["subject"]["name"], f["check"]) for f in findings if f["new"]}
    assert new and {name for name, _ in new} == {"trainer"}
    assert all(f["new"] is False for f in findings if f["subject"]["name"] == "infer")
    # the gate counts new findings only: at critical there are none, so it passes
    code, _, err = scan_json(tmp_path, "k8s", "--new-since", str(earlier), "--fail-on", "critical")
    assert code == 0, err
    # without --fail-on, --new-since fails on any new finding
    code, _, err = scan_json(tmp_path, "k8s", "--new-since", str(earlier))
    assert code == 1, err


def test_the_other_formats_mark_new_findings(tmp_path: Path, earlier: Path) -> None:
    (tmp_path / "k8s" / "more.yaml").write_text(DEPLOYMENT.replace("name: infer,", "name: t2,"))
    sarif, md = tmp_path / "out.sarif", tmp_path / "out.md"
    junit, html = tmp_path / "out.xml", tmp_path / "out.html"
    result = plumbob(
        "scan", "k8s", "--new-since", str(earlier), "--output", f"sarif={sarif}",
        "--output", f"markdown={md}", "--output", f"junit={junit}", "--output", f"html={html}",
        "--format", "table", cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 1, result.stderr
    states = {
        (r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"], r["baselineState"])
        for r in json.loads(sarif.read_text())["runs"][0]["results"]
    }
    assert ("k8s/more.yaml", "new") in states and ("k8s/app.yaml", "unchanged") in states
    assert ("k8s/app.yaml", "new") not in states
    assert "**new**" in md.read_text() and "New since" in md.read_text()
    assert " NEW " in result.stdout and "New since" in result.stdout
    assert "[new]" in junit.read_text() and "[existing]" in junit.read_text()
    page = html.read_text()
    data = json.loads(page.split('id="plumbob-data">')[1].split("</script>")[0])
    marks = {(row[5], row[11]) for row in data["rows"]}  # (name, new)
    assert ("t2", 1) in marks and ("infer", 0) in marks and ("t2", 0) not in marks


def test_store_cluster_compares_with_the_last_stored_scan(tmp_path: Path) -> None:
    (tmp_path / "k8s").mkdir()
    (tmp_path / "k8s" / "app.yaml").write_text(DEPLOYMENT)
    db = tmp_path / "history.db"
    store = f"sqlite:///{db}"
    code, first, err = scan_json(tmp_path, "k8s", "--cluster", "prod", "--store", store)
    assert code == 0, err
    (tmp_path / "k8s" / "more.yaml").write_text(DEPLOYMENT.replace("name: infer,", "name: t3,"))
    code, report, err = scan_json(
        tmp_path, "k8s", "--cluster", "prod", "--store", store, "--new-since", "store:prod"
    )
    assert code == 1, err
    since = report["newSince"]
    assert isinstance(since, dict) and since["source"] == "store:prod"
    assert since["existing"] == len(first["findings"])  # type: ignore[arg-type]
    assert since["new"] > 0
    # store: alone, for a cluster never stored: nothing earlier, every finding new
    code, report, err = scan_json(tmp_path, "k8s", "--cluster", "fresh", "--store", store,
                                  "--new-since", "store:")  # fmt: skip
    assert code == 1, err
    assert report["newSince"]["existing"] == 0 < report["newSince"]["new"]  # type: ignore[index]
    # the scan just recorded is now the last one: nothing new against it
    code, report, err = scan_json(tmp_path, "k8s", "--cluster", "prod", "--store", store,
                                  "--new-since", "store:")  # fmt: skip
    assert code == 0, err
    assert report["newSince"]["new"] == 0  # type: ignore[index]


@pytest.mark.parametrize(
    ("given", "says"),
    [
        ("missing.json", "--new-since missing.json: cannot read: No such file or directory"),
        ("bad.json", "--new-since bad.json: not a plumbob JSON report"),
        ("store:nowhere", "no stored scan of cluster 'nowhere'"),
    ],
)
def test_an_unusable_earlier_report_is_one_line(tmp_path: Path, given: str, says: str) -> None:
    (tmp_path / "bad.json").write_text('{"kind": "Snapshot"')
    (tmp_path / "a.yaml").write_text(DEPLOYMENT)
    plumbob("scan", "a.yaml", "-q", "--store", "sqlite:///h.db", cwd=tmp_path)
    result = plumbob(
        "scan", "a.yaml", "--store", "sqlite:///h.db", "--new-since", given, cwd=tmp_path
    )
    assert result.returncode == 2
    assert says in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def _finding(name: str, message: str, cluster: str = "c", path: str | None = None) -> Finding:
    return Finding(
        check="gpu-image-mutable-tag",
        severity="medium",  # type: ignore[arg-type]
        category="images",
        title="t",
        cluster=cluster,
        subject=Subject(kind="Deployment", name=name, namespace="ml", file="a.yaml", path=path),
        message=message,
        fingerprint="",
        evidence={"container": "vllm"},
    )


def test_a_reworded_message_and_an_old_alias_are_the_same_finding() -> None:
    before = [
        msgspec.structs.replace(_finding("infer", "old wording"), check="old-id"),
        _finding("gone", "resolved since"),
    ]
    now = Report(
        findings=[
            _finding("infer", "new wording", path="spec.template.spec.containers[3].image"),
            _finding("other", "x"),
        ]
    )
    moved = msgspec.structs.replace(
        before[0].subject, path="spec.template.spec.containers[0].image", file="b.yaml", line=9
    )
    before[0] = msgspec.structs.replace(before[0], subject=moved)
    marked = mark_new(now, before, source="x", canonical={"old-id": "gpu-image-mutable-tag"})
    assert [f.new for f in marked.findings] == [False, True]
    assert marked.new_since is not None
    assert (marked.new_since.new, marked.new_since.existing, marked.new_since.resolved) == (1, 1, 1)


def test_clusters_both_reports_name_are_matched_apart() -> None:
    before = [_finding("infer", "m", cluster="a")]
    now = Report(findings=[_finding("infer", "m", cluster="a"), _finding("infer", "m", "b")])
    marked = mark_new(now, before, source="x")
    assert [f.new for f in marked.findings] == [False, True]
