"""The policies for liveness-without-startup-probe and gpu-workload-no-memory-request: on the
checks' own fixtures, on the edges of what the checks judge (the liveness budget's defaults and
threshold, init containers, DRA claims, a memory limit alone), each verdict compared with the
check's own finding on the same manifest; and what a LimitRange changes for Pods and for pod
templates (tests/integration/test_policy_apiserver.py shows the same on the API server)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from plumbob.checks.resilience.liveness_without_startup_probe import MIN_STARTUP_SECONDS
from plumbob.policy import Action, PolicyFormat, built_in_rules, parameters, write
from plumbob.policy.rules import _liveness_rule
from plumbob.sources.files import FileSource
from tests import policy_agreement as agreement

LIVENESS = "liveness-without-startup-probe"
MEMORY = "gpu-workload-no-memory-request"


def verdicts(tmp_path: Path, check: str, manifest: str) -> tuple[set[str], set[str]]:
    """(names the exported policy denies, names the check finds) for the manifest, workload by
    workload, in both export formats alike."""
    path = tmp_path / "manifest.yaml"
    path.write_text(manifest)
    snaps = FileSource((path,)).load(None).snapshots
    found = {s[2] for s in agreement.by_check_found(snaps, None, [check]).get(check, set())}
    denied_by_format = []
    for fmt in PolicyFormat:
        out = agreement.export(tmp_path, None, fmt)
        denied_by_format.append(
            {s[2] for s in agreement.by_check_denied(out, snaps).get(check, set())}
        )
    assert denied_by_format[0] == denied_by_format[1]
    return denied_by_format[0], found


def deployment(name: str, container: str, namespace: str = "serving") -> str:
    return (
        "apiVersion: apps/v1\nkind: Deployment\n"
        f"metadata: {{name: {name}, namespace: {namespace}}}\n"
        f"spec:\n  selector: {{matchLabels: {{app: {name}}}}}\n  template:\n"
        f"    metadata: {{labels: {{app: {name}}}}}\n    spec:\n      containers:\n"
        f"      - {container}\n---\n"
    )


def pod(name: str, container: str, namespace: str = "serving") -> str:
    return (
        f"apiVersion: v1\nkind: Pod\nmetadata: {{name: {name}, namespace: {namespace}}}\n"
        f"spec:\n  containers:\n  - {container}\n---\n"
    )


GPU = "resources: {limits: {nvidia.com/gpu: 1, memory: 8Gi}}"
LIVE = "livenessProbe: {httpGet: {path: /health, port: 8000}"


def test_the_exported_threshold_is_the_checks_option_default() -> None:
    (rule,) = [r for r in built_in_rules(parameters(None)) if r.check == LIVENESS]
    assert MIN_STARTUP_SECONDS.make_default() == 600
    assert rule.expression.endswith(">= 600))")
    assert "600s" in rule.message and "600s" in rule.description


@pytest.mark.parametrize("check", [LIVENESS, MEMORY])
def test_the_checks_trigger_fixtures_are_denied_exactly(tmp_path: Path, check: str) -> None:
    """The subjects expected.yaml lists for each trigger are what the policy denies there."""
    (folder,) = {p.parent for p in agreement.check_fixtures(check)}
    expected = yaml.safe_load((folder / "expected.yaml").read_text())
    for name, subjects in expected.items():
        denied, found = verdicts(tmp_path, check, (folder / name).read_text())
        assert denied == found == {s.split("/")[2] for s in subjects}, name


def test_liveness_budget_edges_agree_with_the_check(tmp_path: Path) -> None:
    manifest = "".join(
        deployment(name, f"{{name: c, image: vllm/vllm-openai:v0.8.5, {spec}}}")
        for name, spec in {
            "defaults": f"{LIVE}}}, {GPU}",
            "one-short": f"{LIVE}, initialDelaySeconds: 569, periodSeconds: 10}}, {GPU}",
            "just-enough": f"{LIVE}, initialDelaySeconds: 570}}, {GPU}",
            "zero-means-default": f"{LIVE}, periodSeconds: 0, failureThreshold: 0, "
            f"initialDelaySeconds: 570}}, {GPU}",
            "long-period": f"{LIVE}, periodSeconds: 60, failureThreshold: 10}}, {GPU}",
            "startup-probe": f"{LIVE}}}, startupProbe: {{tcpSocket: {{port: 8000}}}}, {GPU}",
            "empty-probe": f"livenessProbe: {{}}, {GPU}",
            "cpu-only": f"{LIVE}}}, resources: {{limits: {{memory: 1Gi}}}}",
            "gpu-zero": f"{LIVE}}}, resources: {{limits: {{nvidia.com/gpu: 0}}}}",
            "mig-slice": f"{LIVE}}}, resources: {{limits: {{nvidia.com/mig-1g.10gb: 1}}}}",
            "request-only": f"{LIVE}}}, resources: {{requests: {{nvidia.com/gpu: 1}}}}",
            "dra-claim-only": f"{LIVE}}}, resources: {{claims: [{{name: gpu}}]}}",
        }.items()
    )
    denied, found = verdicts(tmp_path, LIVENESS, manifest)
    assert denied == found == {"defaults", "one-short", "empty-probe", "mig-slice", "request-only"}


def test_liveness_threshold_is_the_rules_parameter(tmp_path: Path) -> None:
    path = tmp_path / "d.yaml"
    path.write_text(
        deployment(
            "patient",
            f"{{name: c, image: vllm/vllm-openai:v0.8.5, {LIVE}, initialDelaySeconds: 570}}, "
            f"{GPU}}}",
        )
    )
    snaps = FileSource((path,)).load(None).snapshots
    for minimum, denied in ((600, set()), (601, {("Deployment", "serving", "patient")})):
        out = tmp_path / str(minimum)
        write([_liveness_rule(minimum)], PolicyFormat.VAP, Action.DENY, out)
        assert agreement.by_check_denied(out, snaps).get(LIVENESS, set()) == denied


def test_init_containers_are_not_judged_as_the_checks_do_not(tmp_path: Path) -> None:
    """A GPU sidecar (an init container with restartPolicy: Always may carry probes) is not
    read by either check: the policies leave init containers alone too."""
    manifest = (
        "apiVersion: v1\nkind: Pod\nmetadata: {name: sidecar, namespace: serving}\nspec:\n"
        "  initContainers:\n  - {name: s, image: vllm/vllm-openai:v0.8.5, restartPolicy: Always,"
        f" {LIVE}}}, resources: {{limits: {{nvidia.com/gpu: 1}}}}}}\n"
        "  containers:\n  - {name: c, image: busybox:1.36, resources: {limits: {memory: 1Gi}}}\n"
    )
    for check in (LIVENESS, MEMORY):
        denied, found = verdicts(tmp_path, check, manifest)
        assert denied == found == set(), check


def test_memory_edges_agree_with_the_check(tmp_path: Path) -> None:
    image = "image: nvcr.io/nvidia/pytorch:24.05-py3"
    manifest = "".join(
        deployment(name, f"{{name: c, {image}, resources: {resources}}}")
        for name, resources in {
            "bare": "{limits: {nvidia.com/gpu: 1}}",
            "cpu-only-requests": "{requests: {cpu: '4', nvidia.com/gpu: 1}}",
            "memory-request": "{requests: {memory: 8Gi, nvidia.com/gpu: 1}}",
            "memory-limit-alone": "{limits: {memory: 8Gi, nvidia.com/gpu: 1}}",
            "no-gpu": "{limits: {cpu: '1'}}",
            "dra-claim-only": "{claims: [{name: gpu}]}",
        }.items()
    ) + pod("bare-pod", f"{{name: c, {image}, resources: {{limits: {{nvidia.com/gpu: 1}}}}}}")
    denied, found = verdicts(tmp_path, MEMORY, manifest)
    assert denied == found == {"bare", "cpu-only-requests", "bare-pod"}


LIMIT_RANGE = """\
apiVersion: v1
kind: LimitRange
metadata: {name: defaults, namespace: research}
spec:
  limits:
  - {type: Container, defaultRequest: {memory: 16Gi}}
---
"""


def test_a_limit_range_counts_for_the_check_not_for_what_the_policy_is_given(
    tmp_path: Path,
) -> None:
    """The check honours the namespace's LimitRange; a policy cannot read it. On a cluster the
    LimitRanger admission plugin gives a Pod the default before the policy sees it (the API
    server test shows the Pod admitted), but a workload's pod template is never defaulted: the
    policy denies the Deployment, and its message says why. `policy test` is given the Pod as
    written, without the default, and denies it too (docs/guardrails.md)."""
    container = (
        "{name: c, image: nvcr.io/nvidia/pytorch:24.05-py3, "
        "resources: {limits: {nvidia.com/gpu: 1}}}"
    )
    manifest = (
        LIMIT_RANGE
        + deployment("trainer", container, namespace="research")
        + pod("notebook", container, namespace="research")
    )
    denied, found = verdicts(tmp_path, MEMORY, manifest)
    assert found == set()
    assert denied == {"trainer", "notebook"}
    (rule,) = [r for r in built_in_rules(parameters(None)) if r.check == MEMORY]
    assert "LimitRange" in rule.message and "pod template" in rule.message
