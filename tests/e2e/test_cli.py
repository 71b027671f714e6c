"""The command line as users and CI meet it: formats, exit codes, errors without tracebacks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import make_container, make_deployment, make_node

HERE = Path(__file__).parent


def plumbob(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "plumbob", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
        env={"CI": "1", "PATH": "/usr/bin:/bin", "COLUMNS": "120"},
    )


@pytest.fixture
def manifests(tmp_path: Path) -> Path:
    (tmp_path / "nodes.json").write_text(
        json.dumps({"apiVersion": "v1", "kind": "List", "items": [make_node("gpu-1", gpus=8)]})
    )
    (tmp_path / "app.yaml").write_text(
        json.dumps(
            make_deployment(
                "infer", "ml", containers=[make_container(image="vllm/vllm-openai:v1", gpus=1)]
            )
        )
    )
    return tmp_path


def test_scan_json_report(manifests: Path, tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    result = plumbob("scan", str(manifests), "--format", "json", "-o", str(out))
    assert result.returncode == 0, result.stderr
    report = json.loads(out.read_text())
    assert report["apiVersion"] == "plumbob.dev/v1" and report["kind"] == "Report"
    checks = {f["check"] for f in report["findings"]}
    assert "gpu-node-untainted" in checks
    # No ResourceQuota in the files: whether the namespace has one is not visible, not a finding.
    assert "gpu-namespace-without-quota" not in checks
    quota = [nv for nv in report["notVisible"] if "gpu-namespace-without-quota" in nv["checks"]]
    assert quota and quota[0]["reason"] == "no ResourceQuota objects in the input"
    assert report["inputs"]["files"] == report["inputs"]["read"] == 2
    untainted = next(f for f in report["findings"] if f["check"] == "gpu-node-untainted")
    assert untainted["subject"]["file"].endswith("nodes.json")
    assert 0 <= report["scores"]["overall"] <= 100
    assert report["clusters"][0]["gpusAllocatable"] == 8


@pytest.mark.parametrize(("threshold", "code"), [("high", 1), ("critical", 0), ("info", 1)])
def test_fail_on(manifests: Path, threshold: str, code: int) -> None:
    result = plumbob("scan", str(manifests), "--fail-on", threshold, "--quiet")
    assert result.returncode == code, result.stderr


def test_table_report(manifests: Path) -> None:
    result = plumbob("scan", str(manifests))
    assert result.returncode == 0
    assert "gpu-node-untainted" in result.stdout and "Score" in result.stdout


def test_nothing_readable_exits_2(tmp_path: Path) -> None:
    (tmp_path / "bad.json").write_text("{not json")
    result = plumbob("scan", str(tmp_path))
    assert result.returncode == 2
    assert "nothing readable" in result.stderr and "Traceback" not in result.stderr


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    assert plumbob("scan").returncode == 2
    assert plumbob("scan", str(tmp_path), "--fail-on", "severe").returncode == 2
    result = plumbob("explain", "gpu-node-untaint")
    assert result.returncode == 2 and "did you mean gpu-node-untainted" in result.stderr


def test_bad_config_names_the_key(manifests: Path, tmp_path: Path) -> None:
    cfg = tmp_path / "plumbob.yaml"
    cfg.write_text("severity:\n  gpu-node-untainted: huge\n")
    result = plumbob("scan", str(manifests), "--config", str(cfg))
    assert result.returncode == 2
    assert "severity" in result.stderr and "Traceback" not in result.stderr
    cfg.write_text("exemptoins: []\n")
    result = plumbob("scan", str(manifests), "--config", str(cfg))
    assert result.returncode == 2 and "exemptoins" in result.stderr


def test_config_severity_and_exemption(manifests: Path, tmp_path: Path) -> None:
    cfg = tmp_path / "plumbob.yaml"
    cfg.write_text(
        "severity: {gpu-node-untainted: critical}\n"
        "exemptions: [{check: gpu-namespace-without-quota, namespace: ml}]\n"
    )
    out = tmp_path / "r.json"
    result = plumbob(
        "scan",
        str(manifests),
        "-c",
        str(cfg),
        "-f",
        "json",
        "-o",
        str(out),
        "--fail-on",
        "critical",
    )
    assert result.returncode == 1
    findings = json.loads(out.read_text())["findings"]
    sev = {f["check"]: f["severity"] for f in findings}
    assert sev["gpu-node-untainted"] == "critical"
    assert "gpu-namespace-without-quota" not in sev


def test_ignore_annotation(tmp_path: Path) -> None:
    node = make_node("gpu-1", gpus=8)
    node["metadata"]["annotations"] = {"plumbob.dev/ignore": "gpu-node-untainted"}
    (tmp_path / "n.json").write_text(json.dumps(node))
    result = plumbob("scan", str(tmp_path), "-f", "json")
    assert not [
        f for f in json.loads(result.stdout)["findings"] if f["check"] == "gpu-node-untainted"
    ]


def test_checks_and_explain() -> None:
    listed = plumbob("checks", "--json")
    assert listed.returncode == 0
    ids = {c["id"]: c for c in json.loads(listed.stdout)}
    assert "gpu-node-untainted" in ids
    threshold = ids["image-large-gpu"]["options"]["threshold-gb"]
    assert (threshold["type"], threshold["default"], threshold["defaultText"]) == (
        "a number",
        10.0,
        "10",
    )
    assert threshold["help"].startswith("Image size, in GB") and threshold["flag"] is None
    assert ids["gpu-idle"]["options"]["prices"]["flag"] == "--prices"
    assert ids["gpu-node-untainted"]["options"] == {}
    explained = plumbob("explain", "gpu-node-untainted")
    assert explained.returncode == 0
    assert "Why it matters" in explained.stdout and "kubectl taint" in explained.stdout
    assert "Options" not in explained.stdout  # it takes none
    explained = plumbob("explain", "image-large-gpu")
    assert "threshold-gb (a number; default 10): Image size, in GB" in explained.stdout


def test_bad_input_does_not_hide_the_rest(manifests: Path) -> None:
    (manifests / "broken.yaml").write_text("kind: [\n")
    result = plumbob("scan", str(manifests), "-f", "json")
    assert result.returncode == 0
    report = json.loads(result.stdout)
    assert any(d["path"].endswith("broken.yaml") for d in report["diagnostics"])
    assert report["findings"]
    assert "broken.yaml" in result.stderr


def test_two_snapshots_with_one_name_stay_apart(tmp_path: Path) -> None:
    first, second = tmp_path / "a.json", tmp_path / "b.json"
    for path, seed in ((first, 1), (second, 2)):
        done = plumbob("demo", "-o", str(path), "--nodes", "6", "--pods", "20", "--seed", str(seed))
        assert done.returncode == 0, done.stderr
    done = plumbob("scan", str(first), str(second), "--format", "json", "--quiet")
    report = json.loads(done.stdout)
    names = [c["cluster"] for c in report["clusters"]]
    assert names == ["demo-ai-platform", "demo-ai-platform (2)"], names
    [warning] = [d for d in report["diagnostics"] if "both named" in d["message"]]
    assert "a.json" in warning["message"] and "b.json" in warning["message"]
    assert {f["cluster"] for f in report["findings"]} == set(names)


def test_bad_store_fails_before_the_scan(manifests: Path) -> None:
    done = plumbob("scan", "--demo", "--store", "postgresql://plumbob@127.0.0.1:1/none")
    assert done.returncode == 2
    assert "cannot connect" in done.stderr and "Findings" not in done.stdout


def test_store_without_url_means_the_default_store(tmp_path: Path) -> None:
    from plumbob.cli import _bare_store

    assert _bare_store(["scan", "a.json", "--store"]) == ["scan", "a.json", "--store", "default"]
    assert _bare_store(["scan", "--store", "--demo"]) == ["scan", "--store", "default", "--demo"]
    assert _bare_store(["scan", "--store", "x.db"]) == ["scan", "--store", "x.db"]
    env = {"CI": "1", "PATH": "/usr/bin:/bin", "XDG_DATA_HOME": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-m", "plumbob", "scan", "--demo", "-q", "-f", "json", "--store"],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "plumbob" / "history.sqlite").is_file()
    # what the scan recorded was written before its process ended: the next one reads it
    shown = subprocess.run(
        [sys.executable, "-m", "plumbob", "history", "--store"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**env, "COLUMNS": "200"},
    )
    assert shown.returncode == 0, shown.stderr
    assert "demo-ai-platform" in shown.stdout


def test_version_falls_back_to_the_newest_kubelet(manifests: Path) -> None:
    done = plumbob("scan", str(manifests), "--format", "json", "--quiet")
    [cluster] = json.loads(done.stdout)["clusters"]
    assert cluster["kubernetesVersion"] == "v1.31.4"
    assert cluster["kubernetesVersionSource"] == "newest kubelet"
    table = plumbob("scan", str(manifests), "--quiet")
    assert "v1.31.4 (kubelet)" in table.stdout


def test_the_process_ends_with_its_output_whole(tmp_path: Path) -> None:
    """The command leaves without freeing what it built (cli._leave): its status, what it
    printed and what it wrote are all there."""
    out = tmp_path / "report.json"
    done = plumbob("scan", "--demo", "--format", "json", "-q", "-o", str(out), "--fail-on", "high")
    assert done.returncode == 1, done.stderr
    written = json.loads(out.read_text())
    assert written["findings"]
    shown = plumbob("scan", "--demo", "--format", "json", "-q")
    assert shown.returncode == 0
    assert len(json.loads(shown.stdout)["findings"]) == len(written["findings"])
    wrong = plumbob("scan", "--no-such-option")
    assert wrong.returncode == 2 and "no-such-option" in wrong.stderr


def test_timings_name_the_slowest_checks_on_stderr(manifests: Path, tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    plain = plumbob("scan", str(manifests), "--format", "json", "-q", "-o", str(out))
    assert "Slowest checks" not in plain.stderr
    result = plumbob("scan", str(manifests), "--format", "json", "-q", "--timings", "-o", str(out))
    assert result.returncode == 0, result.stderr
    phases_text, _, checks_text = result.stderr.partition("Slowest checks and analyses")
    assert checks_text, result.stderr
    phases = {
        line.rsplit(None, 1)[0].strip(): float(line.split()[-1])
        for line in phases_text.splitlines()[2:]
        if line.strip()
    }
    assert list(phases) == [
        "start-up (imports, options)",
        "reading inputs",
        "checks and analyses",
        "writing the report",
    ]
    assert all(seconds >= 0 for seconds in phases.values())
    rows = [line.split() for line in checks_text.splitlines()[2:] if line.strip()]
    assert len(rows) == 16 and rows[-1][0] == "all"  # the slowest 15 and the sum
    assert float(rows[-1][-1]) <= phases["checks and analyses"]
    seconds = [float(row[-1]) for row in rows]
    assert seconds[:-1] == sorted(seconds[:-1], reverse=True) and seconds[-1] >= seconds[0]
    assert json.loads(out.read_text())["kind"] == "Report"  # the report itself is unchanged


def test_a_config_naming_no_check_is_a_usage_error(manifests: Path, tmp_path: Path) -> None:
    """A misspelt id would otherwise disable, exempt or re-grade nothing, and say nothing."""
    cfg = tmp_path / "plumbob.yaml"
    cfg.write_text(
        "disable: [gpu-node-untaineted]\n"
        "severity: {drift:kernel: low, gpu: high}\n"  # a drift id and a category are names
        "exemptions: [{check: '*', name: x}, {check: no-such-check}]\n"
    )
    result = plumbob("scan", str(manifests), "--config", str(cfg))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 2
    assert "disable: gpu-node-untaineted: no such check" in lines[0]
    assert "did you mean gpu-node-untainted" in lines[0]
    assert "exemptions[1].check: no-such-check: no such check" in lines[1]


def test_the_baseline_gives_the_approved_registries(manifests: Path, tmp_path: Path) -> None:
    """`--baseline` reaches image-registry-not-approved; plumbob.yaml's list goes over it."""
    (tmp_path / "baseline.yaml").write_text("cluster:\n  approved-registries: [nvcr.io]\n")
    check = "image-registry-not-approved"

    def images(*extra: str) -> list[str]:
        out = plumbob("scan", str(manifests), "--format", "json", *extra, cwd=tmp_path)
        assert out.returncode == 0, out.stderr
        findings = json.loads(out.stdout)["findings"]
        return [f["evidence"]["image"] for f in findings if f["check"] == check]

    assert images() == []
    assert images("--baseline", "baseline.yaml") == ["vllm/vllm-openai:v1"]
    (tmp_path / "plumbob.yaml").write_text(
        f"options:\n  {check}:\n    approved-registries: [docker.io/vllm]\n"
    )
    assert images("--baseline", "baseline.yaml", "--config", "plumbob.yaml") == []
