"""Options of the image checks: size threshold, approved registries from plumbob.yaml, the
baseline or the cluster's own policies."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.conftest import decode, make_container, make_deployment, make_node, snapshot_of

from plumbob import engine
from plumbob.checks.images.image_registry_not_approved import APPROVED_REGISTRIES
from plumbob.checks.registry import Registry
from plumbob.config import Config, check_options
from plumbob.drift.baseline import parse_baseline
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


BASELINE = """\
apiVersion: plumbob.dev/v1
kind: Baseline
cluster:
  approved-registries: [registry.example.com, docker.io/vllm]
"""


def test_baseline_registries_are_used_when_plumbob_yaml_sets_none() -> None:
    """Precedence of the list: plumbob.yaml option > baseline > the cluster's own policies."""
    snap = snapshot_of(
        make_deployment(containers=[make_container(image="quay.io/x/y:1")]),
        make_deployment("llm", containers=[make_container(image="vllm/vllm-openai:v0.6")]),
    )
    check = "image-registry-not-approved"
    baseline = parse_baseline(BASELINE).baseline

    def found(config: Config, **kw: Any) -> list[str]:
        report = engine.run([snap], REGISTRY, config, **kw)
        return sorted(f.evidence["image"] for f in report.findings if f.check == check)

    only = Config(only=[check])
    assert found(only) == []  # no list anywhere: nothing to judge against
    assert found(only, baseline=baseline) == ["quay.io/x/y:1"]
    yaml_list = Config(only=[check], options={check: {"approved-registries": ["quay.io"]}})
    assert found(yaml_list, baseline=baseline) == ["vllm/vllm-openai:v0.6"]
    # the same values reach a scan that resolved its options first, as the CLI does
    options = check_options(only, REGISTRY, baseline=baseline)
    assert found(only, options=options) == ["quay.io/x/y:1"]
    assert options.value(check, APPROVED_REGISTRIES) == ("registry.example.com", "docker.io/vllm")


def test_an_empty_baseline_list_sets_nothing() -> None:
    empty = parse_baseline("cluster: {approved-registries: []}\n").baseline
    options = check_options(Config(), REGISTRY, baseline=empty)
    assert options.value("image-registry-not-approved", APPROVED_REGISTRIES) is None


def test_the_option_says_where_its_value_comes_from() -> None:
    check = REGISTRY.get("image-registry-not-approved")
    assert check is not None
    option = check.options["approved-registries"]
    assert option.from_baseline == "cluster.approved-registries"
    assert "baseline's `cluster.approved-registries`" in option.describe()
    assert "plumbob scan --baseline FILE" in check.fix


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
