"""The image: a Dockerfile on a slim Python base pinned by digest, a non-root user, the package
installed from the wheel built in the same build. No container engine runs here, so its install
steps run in a clean virtual environment and the result is used as the image would be."""

from __future__ import annotations

import re
import subprocess
import tomllib
from pathlib import Path

from tests.delivery.conftest import ROOT, install_steps, run_env

DIGEST = re.compile(r"^FROM python:3\.\d+-slim@sha256:[0-9a-f]{64}( AS \w+)?$")


def test_the_dockerfile_pins_its_base_and_runs_as_a_user() -> None:
    lines = (ROOT / "Dockerfile").read_text().splitlines()
    stages = [line for line in lines if line.startswith("FROM ")]
    assert len(stages) == 2 and all(DIGEST.match(s) for s in stages), stages
    assert stages[0].endswith(" AS build")
    assert "COPY --from=build /dist /dist" in lines
    users = [line for line in lines if line.startswith("USER ")]
    assert users == ["USER 65532:65532"]  # numeric: runAsNonRoot can verify it
    assert lines.index(users[0]) > max(i for i, line in enumerate(lines) if line.startswith("RUN "))
    assert 'ENTRYPOINT ["plumbob"]' in lines
    assert install_steps() == [
        "python -m pip wheel --no-cache-dir --no-deps --wheel-dir /dist .",
        "python -m pip install --no-cache-dir /dist/plumbob-*.whl && rm -rf /dist",
    ]


def test_the_installed_package_runs(installed: Path, tmp_path: Path) -> None:
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    env = run_env(installed, HOME=str(tmp_path))
    said = subprocess.run(["plumbob", "--version"], env=env, capture_output=True, text=True)
    assert said.stdout.strip() == version, said.stderr
    (tmp_path / "app.yaml").write_text(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: infer, namespace: ml}\n"
        "spec:\n  template:\n    spec:\n      containers:\n      - name: vllm\n"
        "        image: vllm/vllm-openai:v0.6.3\n"
        "        resources: {requests: {nvidia.com/gpu: 1}}\n"
    )
    scan = subprocess.run(
        ["plumbob", "scan", "app.yaml", "-q", "--fail-on", "high"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert scan.returncode == 1 and "gpu-request-without-limit" in scan.stdout, scan.stderr
    # the templates, knowledge tables and migrations travel in the wheel
    html = subprocess.run(
        ["plumbob", "scan", "app.yaml", "-q", "-o", "r.html", "--store", "sqlite:///h.db"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert html.returncode == 0, html.stderr
    assert (tmp_path / "r.html").read_text().startswith("<!doctype html>")
    plugin = subprocess.run(["kubectl-plumbob", "--help"], env=env, capture_output=True, text=True)
    assert plugin.returncode == 0 and "Usage: kubectl plumbob" in plugin.stdout, plugin.stderr
