"""Options of the image checks: size threshold, approved registries from config or baseline."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.conftest import decode, make_container, make_deployment, make_node, snapshot_of

from plumbob import engine
from plumbob.checks.registry import Registry
from plumbob.config import Config
from plumbob.model.image_sizes import ImageSizes, effective_pull_policy
from plumbob.report.model import CheckStatus, Finding, Level
from plumbob.sources.files import FileSource

HERE = Path(__file__).parent
REGISTRY = Registry.discover()


def run(check: str, path: Path, options: dict[str, Any]) -> list[Finding]:
    loaded = FileSource((path,), cluster="t").load()
    report = engine.run(loaded.snapshots, REGISTRY, Config(only=[check], options={check: options}))
    return [f for f in report.findings if f.check == check]


def test_threshold_option_lowers_and_raises_the_bar() -> None:
    clean = HERE / "image-large-gpu" / "clean-small-or-cpu.yaml"
    trigger = HERE / "image-large-gpu" / "trigger-pytorch-20gb.yaml"
    assert not run("image-large-gpu", clean, {})
    assert run("image-large-gpu", clean, {"threshold-gb": 9})  # the 9.7 GB vLLM image
    assert not run("image-large-gpu", trigger, {"threshold-gb": 25})


def test_unusable_threshold_stops_the_check_instead_of_a_default() -> None:
    """A value the option cannot use is an error of that check in the report (the CLI refuses
    it before scanning), never a silent fall-back to the default."""
    trigger = HERE / "image-large-gpu" / "trigger-pytorch-20gb.yaml"
    loaded = FileSource((trigger,), cluster="t").load()
    config = Config(only=["image-large-gpu"], options={"image-large-gpu": {"threshold-gb": "x"}})
    report = engine.run(loaded.snapshots, REGISTRY, config)
    assert not report.findings
    [run_] = report.checks
    assert run_.status == CheckStatus.ERROR
    assert run_.reason == "options: image-large-gpu: threshold-gb: expected a number, got 'x'"
    assert [d.message for d in report.diagnostics if d.level == Level.ERROR] == [run_.reason]


def test_configured_registries_win_over_declared_ones() -> None:
    path = HERE / "image-registry-not-approved" / "clean-no-list.yaml"
    assert not run("image-registry-not-approved", path, {})
    found = run("image-registry-not-approved", path, {"approved-registries": ["nvcr.io"]})
    assert [f.subject.name for f in found] == ["llm"]
    assert found[0].evidence["list"] == "configured"
    # docker.io/vllm as a repository prefix; index.docker.io is the same registry.
    assert not run(
        "image-registry-not-approved", path, {"approved-registries": ["index.docker.io/vllm/"]}
    )
    # A prefix must end at a path boundary: docker.io/vl does not approve docker.io/vllm.
    assert run("image-registry-not-approved", path, {"approved-registries": ["docker.io/vl"]})


def test_baseline_registries_are_used_when_no_option() -> None:
    check = REGISTRY.get("image-registry-not-approved")
    assert check is not None
    snap = snapshot_of(make_deployment(containers=[make_container(image="quay.io/x/y:1")]))

    class Baseline:
        approved_registries = ("registry.example.com",)

    hits = list(check.run(snap, check.context(baseline=Baseline())))
    assert len(hits) == 1 and "quay.io" in hits[0].message
    ok = check.context({"approved-registries": ["quay.io"]}, baseline=Baseline())
    assert not list(check.run(snap, ok))
    assert not list(check.run(snap, check.context(baseline={"approved-registries": ["quay.io"]})))


def test_image_sizes_match_tags_and_digests() -> None:
    node = make_node("n1", gpus=1)
    node["status"]["images"] = [
        {
            "names": ["docker.io/library/nginx@sha256:abc", "docker.io/library/nginx:1.27"],
            "sizeBytes": 100,
        },
        {"names": ["nvcr.io/nvidia/pytorch:24.05-py3"], "sizeBytes": 2000},
    ]
    sizes = ImageSizes([decode(node)])  # type: ignore[list-item]
    assert sizes.size_of("nginx:1.27") == 100
    assert sizes.size_of("nginx@sha256:abc") == 100
    assert sizes.size_of("index.docker.io/library/nginx:1.27") == 100
    assert sizes.size_of("nginx") is None  # :latest was never pulled
    assert sizes.size_of("nvcr.io/nvidia/pytorch:24.05-py3") == 2000


def test_effective_pull_policy() -> None:
    assert effective_pull_policy("nginx", None) == "Always"
    assert effective_pull_policy("nginx:latest", None) == "Always"
    assert effective_pull_policy("nginx:1.27", None) == "IfNotPresent"
    assert effective_pull_policy("nginx@sha256:abc", None) == "IfNotPresent"
    assert effective_pull_policy("nginx:1.27", "Always") == "Always"
