"""What the delivery tests share: plumbob installed into a clean virtual environment by the
Dockerfile's own install steps, and the real tools tests/services/tools.sh built."""

from __future__ import annotations

import itertools
import os
import re
import shutil
import subprocess
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TOOLS = ROOT / ".services" / "tools"

BAD = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: infer, namespace: ml}
spec:
  template:
    spec:
      containers:
      - name: vllm
        image: vllm/vllm-openai:v0.6.3
        resources: {requests: {nvidia.com/gpu: 1}}
"""
"""A manifest the CI gates fail on: a GPU requested without a limit (high)."""


def package_tree(path: Path, *files: str) -> Path:
    """This tree's package as a tag on GitHub holds it, in `path` (created): pyproject.toml,
    README.md, src/ and the delivery `files` (action.yml, .pre-commit-hooks.yaml)."""
    path.mkdir()
    for name in ("pyproject.toml", "README.md", *files):
        shutil.copy(ROOT / name, path / name)
    shutil.copytree(ROOT / "src", path / "src", ignore=shutil.ignore_patterns("__pycache__"))
    return path


def missing(reason: str) -> None:
    """Skip naming what is missing; under CI (`CI` set) fail instead, so a broken install
    cannot pass as skipped tests."""
    if os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(reason)


def tool(name: str) -> Path:
    """A tool tests/services/tools.sh built (helm, kubectl)."""
    found = TOOLS / name
    if found.exists():
        return found
    why = TOOLS / f"{name}.unavailable"
    missing(why.read_text().strip() if why.is_file() else f"no {name}: run tests/services/tools.sh")
    raise AssertionError  # (missing() does not return)


def install_steps() -> list[str]:
    """The Dockerfile's RUN commands marked `# install step:`, in order."""
    lines = (ROOT / "Dockerfile").read_text().splitlines()
    steps = []
    for marker, line in itertools.pairwise(lines):
        if marker.startswith("# install step:"):
            assert line.startswith("RUN "), line
            steps.append(line.removeprefix("RUN "))
    return steps


@pytest.fixture(scope="session")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bin folder of a clean virtual environment (no plumbob, no dependencies) where the
    Dockerfile's install steps ran: the wheel built from a copy of this tree (`/src`) into
    `/dist`, then installed with its dependencies from the package index. (The steps' pip
    cache flag is left out, so a second run reuses downloads; what is installed is the same.)"""
    base = tmp_path_factory.mktemp("image")
    src, dist, env_dir = base / "src", base / "dist", base / "venv"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    shutil.copytree(ROOT / "src", src / "src", ignore=shutil.ignore_patterns("__pycache__"))
    venv.EnvBuilder(with_pip=True, clear=True).create(env_dir)
    python = env_dir / "bin" / "python"
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    for step in install_steps():
        command = step.replace("--no-cache-dir ", "").replace("/dist", str(dist))
        command = re.sub(r"^python ", f"{python} ", command)
        done = subprocess.run(
            ["bash", "-c", command], cwd=src, env=env, capture_output=True, text=True, timeout=900
        )
        if done.returncode != 0:
            said = done.stdout[-2000:] + done.stderr[-2000:]
            if "No matching distribution" in said or "NewConnectionError" in said:
                missing(f"the package index cannot be reached to install plumbob: {said}")
            raise AssertionError(f"{command}: exit {done.returncode}\n{said}")
    assert not dist.exists(), "the install step removes the wheel folder"
    assert (env_dir / "bin" / "plumbob").is_file()
    return env_dir / "bin"


def run_env(*paths: Path, **extra: str) -> dict[str, str]:
    """A child's environment: these folders first on PATH, no PYTHONPATH (what is installed
    runs, not this tree), CI set (no progress bars)."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PATH"] = os.pathsep.join([*map(str, paths), "/usr/bin", "/bin"])
    env["CI"] = "1"
    env.update(extra)
    return env


__all__ = ["ROOT", "install_steps", "installed", "missing", "run_env", "tool"]
