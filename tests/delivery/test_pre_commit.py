"""The pre-commit hooks of .pre-commit-hooks.yaml, run by the real `pre-commit` in a temporary
git repository: pre-commit installs plumbob from a repository holding this tree (as it would
from GitHub), a commit of a bad manifest fails, a good one passes, other YAML is left alone."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.delivery.conftest import BAD, ROOT, package_tree

PRE_COMMIT = Path(sys.executable).with_name("pre-commit")

GOOD = BAD.replace("{requests: {nvidia.com/gpu: 1}}", "{limits: {nvidia.com/gpu: 1}}")


def git(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}  # fmt: skip
    return subprocess.run(
        ["git", *args], cwd=cwd, capture_output=True, text=True, env=env, timeout=600
    )


def hooks_repo(tmp_path: Path) -> tuple[Path, str]:
    """A git repository holding this tree's package (what a tag on GitHub would hold)."""
    repo = package_tree(tmp_path / "plumbob", ".pre-commit-hooks.yaml")
    git("init", "-q", "-b", "main", cwd=repo)
    git("add", "-A", cwd=repo)
    assert git("commit", "-qm", "plumbob", cwd=repo).returncode == 0
    return repo, git("rev-parse", "HEAD", cwd=repo).stdout.strip()


def test_the_hooks_are_what_the_docs_promise() -> None:
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    by_id = {h["id"]: h for h in hooks}
    assert set(by_id) == {"plumbob", "plumbob-new"}
    for hook in hooks:
        assert hook["language"] == "python" and hook["require_serial"] is True
        assert hook["entry"].startswith("plumbob scan --fail-on high --empty-ok")
    assert "--new-since plumbob-baseline.json" in by_id["plumbob-new"]["entry"]


@pytest.mark.slow
def test_pre_commit_blocks_a_bad_manifest_and_passes_a_good_one(tmp_path: Path) -> None:
    if not PRE_COMMIT.is_file():
        pytest.skip(f"pre-commit is not installed beside {sys.executable} (pip install pre-commit)")
    hooks, rev = hooks_repo(tmp_path)
    work = tmp_path / "work"
    work.mkdir()
    git("init", "-q", "-b", "main", cwd=work)
    (work / ".pre-commit-config.yaml").write_text(
        f"repos:\n  - repo: {hooks}\n    rev: {rev}\n    hooks:\n      - id: plumbob\n"
    )
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home")}
    env.pop("PYTHONPATH", None)  # the hook runs the plumbob pre-commit installed, nothing else
    installed = subprocess.run(
        [str(PRE_COMMIT), "install", "--install-hooks"],
        cwd=work, capture_output=True, text=True, env=env, timeout=900,
    )  # fmt: skip
    if (
        installed.returncode != 0
        and "pip" in installed.stdout + installed.stderr
        and not (os.environ.get("CI"))
    ):
        pytest.skip(f"pre-commit could not install plumbob (no package index?): {installed.stdout}")
    assert installed.returncode == 0, installed.stdout + installed.stderr

    def commit(message: str) -> subprocess.CompletedProcess[str]:
        git("add", "-A", cwd=work)
        full = {**env, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
                "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}  # fmt: skip
        return subprocess.run(
            ["git", "commit", "-m", message], cwd=work, capture_output=True, text=True,
            env=full, timeout=600,
        )  # fmt: skip

    (work / "notes.yaml").write_text("owner: platform\n")  # YAML that is no manifest
    first = commit("config only")
    assert first.returncode == 0, first.stdout + first.stderr
    (work / "deploy").mkdir()
    (work / "deploy" / "infer.yaml").write_text(BAD)
    bad = commit("a GPU request without a limit")
    said = bad.stdout + bad.stderr  # (git shows the hook's output on stderr)
    assert bad.returncode != 0, said
    assert "plumbob scan" in said and "Failed" in said
    assert "gpu-request-without-limit" in said
    assert git("log", "--oneline", cwd=work).stdout.count("\n") == 1  # not committed
    (work / "deploy" / "infer.yaml").write_text(GOOD)
    good = commit("the GPU as a limit")
    said = good.stdout + good.stderr
    assert good.returncode == 0, said
    assert "plumbob scan" in said and "Passed" in said
