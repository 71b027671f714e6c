"""Shared test builders and the location of the real fixtures."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from plumbob.model.objects import Object, Origin
from plumbob.model.snapshot import ClusterInfo, Snapshot
from plumbob.sources.decode import ObjectDecoder

ROOT = Path(__file__).resolve().parents[1]
REAL = Path(os.environ.get("PLUMBOB_REAL_FIXTURES", ROOT.parent / "shared" / "fixtures" / "real"))


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden", action="store_true", help="rewrite golden files from the current output"
    )


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-golden"))


@pytest.fixture
def real() -> Path:
    """The shared real-fixture folder; tests using it skip when it is absent."""
    if not REAL.is_dir():
        pytest.skip(f"real fixtures not found at {REAL} (set PLUMBOB_REAL_FIXTURES)")
    return REAL


def service_url(name: str) -> str:
    """The URL of a test service that tests/services/start.sh (run by `make test`) started on
    loopback. Without it a local run skips, naming the script; under CI (`CI` set) the test
    fails instead, so a broken service install cannot pass as skipped tests."""
    url_file = ROOT / ".services" / f"{name}.url"
    if url_file.is_file():
        return url_file.read_text().strip()
    reason = f"no test {name}: {url_file} is absent (run tests/services/start.sh)"
    if os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(reason)


def service_dir(name: str, ready: str, tools: tuple[str, ...] = (), root: Path = ROOT) -> Path:
    """The folder of a test service that tests/services/start.sh started (`ready` names the
    file it writes last). Without it a local run skips with the reason start.sh recorded
    (`unavailable`: a missing tool, a failed build), or naming the first of `tools` (commands
    the service is built or run with) that is not installed; under CI (`CI` set) the test
    fails instead, so a broken service cannot pass as skipped tests."""
    folder = root / ".services" / name
    if (folder / ready).is_file():
        return folder
    why = folder / "unavailable"
    missing = [t for t in tools if shutil.which(t) is None]
    if why.is_file():
        reason = f"no test {name} service: {why.read_text().strip()}"
    elif missing:
        reason = f"no test {name} service: {missing[0]} is not installed"
    else:
        reason = f"no test {name} service: {folder / ready} is absent (run tests/services/start.sh)"
    if os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(reason)


CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
"""Headless Chromium with nothing of its own reaching for the network (a closed network refuses
its background connections)."""


def chromium() -> Path:
    """Debian's chromium, which tests/services/start.sh installs; skip without it locally, fail
    under CI."""
    if CHROMIUM.exists():
        return CHROMIUM
    reason = f"no {CHROMIUM} (run tests/services/start.sh: apt-get install chromium)"
    if os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(reason)


def decode(data: dict[str, Any]) -> Object:
    decoder = ObjectDecoder()
    obj = decoder.from_data(data, Origin(file="test"))
    assert obj is not None, decoder.diagnostics
    return obj


def make_node(
    name: str = "node-1",
    *,
    gpus: int = 0,
    labels: dict[str, str] | None = None,
    taints: list[dict[str, str]] | None = None,
    kernel: str = "6.1.0",
    product: str | None = None,
) -> dict[str, Any]:
    all_labels = {"kubernetes.io/hostname": name, **(labels or {})}
    if product:
        all_labels["nvidia.com/gpu.product"] = product
    resources: dict[str, Any] = {"cpu": "16", "memory": "64Gi", "pods": "110"}
    if gpus:
        resources["nvidia.com/gpu"] = str(gpus)
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": name, "labels": all_labels},
        "spec": {"taints": taints or []},
        "status": {
            "capacity": resources,
            "allocatable": resources,
            "nodeInfo": {
                "kernelVersion": kernel,
                "kubeletVersion": "v1.31.4",
                "containerRuntimeVersion": "containerd://1.7.23",
                "osImage": "Ubuntu 22.04",
                "architecture": "amd64",
            },
        },
    }


def make_container(
    name: str = "main", image: str = "nginx:1.27", *, gpus: int = 0, gpu_limit: int | None = None
) -> dict[str, Any]:
    resources: dict[str, Any] = {}
    if gpus:
        resources["requests"] = {"nvidia.com/gpu": gpus}
        limit = gpus if gpu_limit is None else gpu_limit
        if limit:
            resources["limits"] = {"nvidia.com/gpu": limit}
    return {"name": name, "image": image, "resources": resources}


def make_pod(
    name: str = "pod-1",
    namespace: str = "default",
    *,
    node: str | None = None,
    containers: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    spec: dict[str, Any] = {"containers": containers or [make_container()]}
    if node:
        spec["nodeName"] = node
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace},
        "spec": spec,
        "status": {"phase": "Running"},
    }


def make_deployment(
    name: str = "web",
    namespace: str = "default",
    *,
    replicas: int = 1,
    containers: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": containers or [make_container()]},
            },
        },
    }


def snapshot_of(*objects: dict[str, Any], cluster: str = "test", **kwargs: Any) -> Snapshot:
    return Snapshot(
        cluster=ClusterInfo(name=cluster), objects=[decode(o) for o in objects], **kwargs
    )
