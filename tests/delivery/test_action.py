"""action.yml, the composite GitHub Action, run here as GitHub would run it, as far as it can
run outside GitHub: each `run` step as a bash script, in order, in a temporary repository, with
the `${{ }}` expressions of its `env` and `if` evaluated (inputs, github.action_path,
runner.temp, steps.*.outputs, always(), hashFiles()) and $GITHUB_OUTPUT collected. The `uses`
steps (setup-python, upload-sarif) cannot run here: Python is the clean environment's, and the
SARIF the upload step would send is checked instead."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.delivery.conftest import BAD, ROOT, package_tree, run_env, tool

ACTION = ROOT / "action.yml"
EXPR = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")


class Runner:
    """Runs the action's steps; `results` holds each step's outcome."""

    def __init__(self, action_path: Path, workspace: Path, inputs: dict[str, str],
                 path: list[Path]) -> None:  # fmt: skip
        self.doc = yaml.safe_load(ACTION.read_text())
        self.action_path, self.workspace = action_path, workspace
        defaults = {k: str(v.get("default", "")) for k, v in self.doc["inputs"].items()}
        unknown = set(inputs) - set(defaults)
        assert not unknown, f"the action has no inputs {unknown}"
        self.inputs = {**defaults, **inputs}
        self.temp = workspace.parent / "runner-temp"
        self.temp.mkdir(exist_ok=True)
        self.outputs: dict[str, dict[str, str]] = {}
        self.path = path
        self.failed = False
        self.results: list[tuple[str, str]] = []
        self.uses: list[tuple[str, dict[str, str]]] = []

    def value(self, expr: str) -> Any:
        """One expression, in the small part of GitHub's language the action uses."""
        python = expr.replace("&&", " and ").replace("||", " or ")
        python = re.sub(r"\binputs\.([\w-]+)", lambda m: repr(self.inputs[m.group(1)]), python)
        python = re.sub(
            r"\bsteps\.([\w-]+)\.outputs\.([\w-]+)",
            lambda m: repr(self.outputs.get(m.group(1), {}).get(m.group(2), "")),
            python,
        )
        python = python.replace("github.action_path", repr(str(self.action_path)))
        python = python.replace("runner.temp", repr(str(self.temp)))
        allowed = {"always": lambda: True, "hashFiles": self.hash_files, "success": self.success}
        return eval(python, {"__builtins__": {}}, allowed)  # (the action's own text only)

    def hash_files(self, pattern: str) -> str:
        return "hash" if (self.workspace / pattern).is_file() else ""

    def success(self) -> bool:
        return not self.failed

    def expand(self, text: str) -> str:
        return EXPR.sub(lambda m: str(self.value(m.group(1))), text)

    def run(self) -> None:
        for step in self.doc["runs"]["steps"]:
            name = step["name"]
            condition = step.get("if", "success()")
            if not self.value(EXPR.sub(r"\1", condition)) or (
                self.failed and "always()" not in condition
            ):
                self.results.append((name, "skipped"))
                continue
            if "uses" in step:
                given = {k: self.expand(str(v)) for k, v in step.get("with", {}).items()}
                self.uses.append((step["uses"], given))
                self.results.append((name, "not run here"))
                continue
            assert step["shell"] == "bash"
            assert "${{" not in step["run"], f"{name}: expressions belong in env, not the script"
            output = self.temp / f"output-{len(self.results)}"
            output.write_text("")
            env = run_env(*self.path, HOME=str(self.temp), GITHUB_OUTPUT=str(output),
                          RUNNER_TEMP=str(self.temp))  # fmt: skip
            env.update({k: self.expand(str(v)) for k, v in step.get("env", {}).items()})
            done = subprocess.run(
                ["bash", "-e", "-o", "pipefail", "-c", step["run"]],
                cwd=self.workspace, env=env, capture_output=True, text=True, timeout=900,
            )  # fmt: skip
            if "id" in step:
                self.outputs[step["id"]] = dict(
                    line.split("=", 1) for line in output.read_text().splitlines() if "=" in line
                )
            self.results.append((name, "passed" if done.returncode == 0 else "failed"))
            self.log = getattr(self, "log", "") + done.stdout + done.stderr
            if done.returncode != 0:
                self.failed = True


@pytest.fixture
def repository(tmp_path: Path) -> Path:
    """A repository with a manifest (a GPU request without a limit) and plumbob's own chart."""
    work = tmp_path / "repo"
    (work / "k8s").mkdir(parents=True)
    (work / "k8s" / "infer.yaml").write_text(BAD)
    shutil.copytree(ROOT / "deploy" / "chart", work / "charts" / "plumbob")
    subprocess.run(["git", "init", "-q"], cwd=work, check=True)
    return work


@pytest.fixture
def action_path(tmp_path: Path) -> Path:
    """The action's checkout: what `uses: OWNER/plumbob@v0.1.0` fetches."""
    return package_tree(tmp_path / "action", "action.yml")


def test_the_action_fails_on_findings_and_leaves_sarif_for_code_scanning(
    installed: Path, repository: Path, action_path: Path
) -> None:
    helm_dir = tool("helm").parent
    helm_bin = repository.parent / "helm-bin"
    helm_bin.mkdir()
    (helm_bin / "helm").symlink_to(tool("helm"))
    assert helm_dir.exists()
    runner = Runner(action_path, repository,
                    {"paths": "k8s", "charts": "charts/plumbob", "fail-on": "high"},
                    [installed, helm_bin])  # fmt: skip
    runner.run()
    assert dict(runner.results) == {
        "Set up Python": "not run here",
        "Install plumbob": "passed",
        "Render Helm charts": "passed",
        "Scan": "passed",
        "Upload SARIF to code scanning": "not run here",
        "Fail on findings": "failed",
    }, runner.log
    assert runner.outputs["scan"] == {"exit-code": "1"}
    assert "findings at or above the threshold" in runner.log
    uses = dict(runner.uses)
    assert uses["github/codeql-action/upload-sarif@v3"]["sarif_file"] == "plumbob.sarif"
    sarif = json.loads((repository / "plumbob.sarif").read_text())
    assert sarif["version"] == "2.1.0"
    where = {
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        for r in sarif["runs"][0]["results"]
    }
    assert where == {"k8s/infer.yaml"}  # plumbob's own chart has no findings
    assert "Read 2 of 2 files" in runner.log  # the manifest and the rendered chart
    rendered = runner.temp / "plumbob-rendered" / "plumbob.yaml"
    assert "kind: CronJob" in rendered.read_text()


def test_with_new_since_the_action_passes_on_findings_already_known(
    installed: Path, repository: Path, action_path: Path
) -> None:
    earlier = repository / "main.json"
    subprocess.run(
        ["plumbob", "scan", "k8s", "-q", "--output", f"json={earlier}"],
        cwd=repository, env=run_env(installed, HOME=str(repository)), check=True, timeout=300,
    )  # fmt: skip
    runner = Runner(action_path, repository,
                    {"paths": "k8s", "new-since": "main.json", "upload-sarif": "false"},
                    [installed])  # fmt: skip
    runner.run()
    results = dict(runner.results)
    assert results["Scan"] == "passed" and results["Fail on findings"] == "skipped", runner.log
    assert results["Upload SARIF to code scanning"] == "skipped"
    assert results["Render Helm charts"] == "skipped"
    assert runner.outputs["scan"] == {"exit-code": "0"}
    assert os.path.getsize(repository / "plumbob.sarif") > 0
