"""The command line where CI and shells meet it: configuration found without --config, errors
with the closest names, standard input, --version, shell completion, --only, --disable and
--namespace, case-insensitive --fail-on, a validated --target-version, and read and write
failures as one line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from plumbob import __version__

ROOT = Path(__file__).resolve().parents[2]

APP = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: infer, namespace: ml}
spec:
  template:
    spec:
      containers:
      - name: vllm
        image: vllm/vllm-openai:latest
        resources: {requests: {nvidia.com/gpu: 1}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: trainer, namespace: research}
spec:
  template:
    spec:
      containers:
      - name: torch
        image: pytorch/pytorch:latest
        resources: {requests: {nvidia.com/gpu: 1}}
"""


def run(
    *args: str, cwd: Path, stdin: str | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    full = {"CI": "1", "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "COLUMNS": "120"}
    full["PYTHONPATH"] = str(ROOT / "src")
    full.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "plumbob", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        input=stdin,
        timeout=120,
        env=full,
    )


def findings(result: subprocess.CompletedProcess[str]) -> list[tuple[str, str, str]]:
    report = json.loads(result.stdout)
    return [(f["check"], f["subject"]["namespace"], f["severity"]) for f in report["findings"]]


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    (tmp_path / "app.yaml").write_text(APP)
    return tmp_path


@pytest.mark.parametrize("name", ["plumbob.yaml", ".plumbob.yaml"])
def test_the_working_directory_config_is_found_and_named(repo: Path, name: str) -> None:
    (repo / name).write_text("severity: {gpu-image-mutable-tag: Critical}\n")
    result = run("scan", "app.yaml", "-q", "-f", "json", cwd=repo)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["config"] == {"path": name, "foundBy": f"./{name}"}
    assert ("gpu-image-mutable-tag", "ml", "critical") in findings(result)
    table = run("scan", "app.yaml", "-q", cwd=repo)
    assert f"Configuration: {name} (./{name})" in table.stdout


def test_plumbob_yaml_comes_before_the_hidden_one_and_the_environment(repo: Path) -> None:
    (repo / "plumbob.yaml").write_text("disable: [images]\n")
    (repo / ".plumbob.yaml").write_text("not: [valid]\n")
    env_file = repo / "elsewhere.yaml"
    env_file.write_text("disable: [gpu]\n")
    result = run("scan", "app.yaml", "-q", "-f", "json", cwd=repo,
                 env={"PLUMBOB_CONFIG": str(env_file)})  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["config"]["path"] == "plumbob.yaml"
    (repo / "plumbob.yaml").unlink()
    (repo / ".plumbob.yaml").unlink()
    result = run("scan", "app.yaml", "-q", "-f", "json", cwd=repo,
                 env={"PLUMBOB_CONFIG": str(env_file)})  # fmt: skip
    report = json.loads(result.stdout)
    assert report["config"] == {"path": str(env_file), "foundBy": "$PLUMBOB_CONFIG"}
    assert not {c for c, _, _ in findings(result)} & {"gpu-request-without-limit"}
    # --config wins over all of them
    given = repo / "given.yaml"
    given.write_text("only: [images]\n")
    result = run("scan", "app.yaml", "-q", "-f", "json", "--config", str(given), cwd=repo,
                 env={"PLUMBOB_CONFIG": str(env_file)})  # fmt: skip
    assert json.loads(result.stdout)["config"]["foundBy"] == "--config"
    assert {c for c, _, _ in findings(result)} == {"gpu-image-mutable-tag"}


def test_config_errors_name_the_key_the_allowed_values_and_the_closest(repo: Path) -> None:
    (repo / "plumbob.yaml").write_text(
        "severty: {}\nseverity: {gpu-image-mutable-tag: hgh}\nexemptions: [{chekc: x}]\n"
    )
    result = run("scan", "app.yaml", cwd=repo)
    assert result.returncode == 2
    line = result.stderr.strip()
    assert len(line.splitlines()) == 1 and "Traceback" not in line
    assert "unknown key 'severty'; did you mean severity?" in line
    assert "'hgh' is no severity; did you mean high? (allowed: critical, high, medium" in line
    assert "exemptions[0]: unknown key 'chekc'; did you mean check?" in line


def test_standard_input(repo: Path) -> None:
    result = run("scan", "-", "-q", "-f", "json", cwd=repo, stdin=APP)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["clusters"][0]["cluster"] == "stdin"
    assert ("gpu-request-without-limit", "ml", "high") in findings(result)


def test_version_and_completion(repo: Path) -> None:
    assert run("--version", cwd=repo).stdout.strip() == __version__
    env = {"_PLUMBOB_COMPLETE": "complete_bash", "COMP_WORDS": "plumbob scan --only gpu-node-u",
           "COMP_CWORD": "3"}  # fmt: skip
    assert run(cwd=repo, env=env).stdout.split() == ["gpu-node-untainted"]
    env.update(COMP_WORDS="plumbob scan --fail-on cr")
    assert run(cwd=repo, env=env).stdout.split() == ["critical"]
    script = subprocess.run(  # the shell is found from the parent process: bash, not exec'd
        ["bash", "-c", f"{sys.executable} -m plumbob --show-completion; exit $?"],
        capture_output=True, text=True, timeout=60,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT / "src")},
    )  # fmt: skip
    assert "_PLUMBOB_COMPLETE" in script.stdout and "complete -o" in script.stdout, script.stderr


def test_only_disable_namespace_and_fail_on_in_any_case(repo: Path) -> None:
    result = run("scan", "app.yaml", "-q", "-f", "json", "--only", "images,gpu", cwd=repo)
    checks = {c for c, _, _ in findings(result)}
    assert {"gpu-image-mutable-tag", "gpu-request-without-limit"} <= checks
    assert all(c.startswith("gpu") for c in checks)  # gpu and images only: no resilience
    assert "container-no-readiness-probe" in {
        c for c, _, _ in findings(run("scan", "app.yaml", "-q", "-f", "json", cwd=repo))
    }
    result = run("scan", "app.yaml", "-q", "-f", "json", "--disable", "images", "--disable",
                 "gpu-request-without-limit", "--namespace", "research", cwd=repo)  # fmt: skip
    found = findings(result)
    assert found and {ns for _, ns, _ in found} == {"research"}
    assert json.loads(result.stdout)["namespaces"] == ["research"]
    assert not {c for c, _, _ in found} & {"gpu-image-mutable-tag", "gpu-request-without-limit"}
    assert run("scan", "app.yaml", "-q", "--fail-on", "HIGH", cwd=repo).returncode == 1
    assert run("scan", "app.yaml", "-q", "--fail-on", "Critical", cwd=repo).returncode == 0
    bad = run("scan", "app.yaml", "--only", "gpu-node-untaint", cwd=repo)
    assert bad.returncode == 2
    assert "--only gpu-node-untaint: no such check; did you mean gpu-node-untainted" in bad.stderr


@pytest.mark.parametrize("version", ["1.99", "2.0", "1.333"])
def test_target_version_must_be_a_known_release(repo: Path, version: str) -> None:
    result = run("scan", "app.yaml", "--target-version", version, cwd=repo)
    assert result.returncode == 2
    assert f"--target-version: '{version}' is no Kubernetes release plumbob knows" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["-c", "missing.yaml"], "missing.yaml: cannot read: No such file or directory"),
        (["-c", "."], ".: cannot read: Is a directory"),
        (["--baseline", "missing.yaml"], "missing.yaml: cannot read"),
        (["--prices", "missing.yaml"], "missing.yaml: cannot read: No such file or directory"),
        (["-f", "json", "-o", "/dev/full"], "cannot write /dev/full: No space left on device"),
        (["--report-json", "nofolder/r.json"], "folder nofolder does not exist"),
        (["--new-since", "."], "--new-since .: cannot read: Is a directory"),
    ],
)
def test_read_and_write_failures_are_one_line(repo: Path, args: list[str], says: str) -> None:
    result = run("scan", "app.yaml", "-q", *args, cwd=repo)
    assert result.returncode == 2
    assert says in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
