"""`plumbob policy export` and `plumbob policy test`: the exported policies' shape, their
parameters from the baseline, and agreement with plumbob's own findings."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from plumbob.cli import main
from plumbob.drift import load_baseline
from plumbob.drift.baseline import Baseline
from plumbob.model.workloads import WORKLOAD_KINDS
from plumbob.policy import PolicyFormat, built_in_rules, parameters
from plumbob.policy.rules import KSERVE_POD_FIELDS, WORKLOAD_RESOURCES
from plumbob.sources.demo import DemoSource, DemoSpec
from plumbob.sources.files import FileSource
from tests import policy_agreement as agreement

BASELINE = """\
apiVersion: plumbob.dev/v1
kind: Baseline
cluster:
  approved-registries: [nvcr.io, docker.io, registry.k8s.io]
  gpu-image-pinning: digest
pools:
  gpu-train:
    gpu-product: NVIDIA-H100-80GB-HBM3
    required-taints: ["nvidia.com/gpu=present:NoSchedule"]
  system:
    required-taints: ["CriticalAddonsOnly:NoSchedule"]
"""


@pytest.fixture(scope="module")
def demo_baseline(tmp_path_factory: pytest.TempPathFactory) -> Baseline:
    """The demo fleet's own baseline, as `plumbob baseline init --demo` writes it."""
    path = tmp_path_factory.mktemp("b") / "baseline.yaml"
    subprocess.run(
        [sys.executable, "-m", "plumbob", "baseline", "init", "--demo", "-o", str(path)],
        check=True,
        capture_output=True,
    )
    return load_baseline(path).baseline


def export(tmp_path: Path, *args: str) -> Path:
    out = tmp_path / "out"
    with pytest.raises(SystemExit) as done:
        main(["policy", "export", "-o", str(out), *args])
    assert done.value.code in (0, None)
    return out


def docs(path: Path) -> list[dict[str, object]]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


def test_vap_export_names_its_check_and_audits_by_default(tmp_path: Path) -> None:
    (tmp_path / "b.yaml").write_text(BASELINE)
    out = export(tmp_path, "--baseline", str(tmp_path / "b.yaml"))
    files = sorted(p.name for p in out.iterdir())
    assert "plumbob-gpu-request-without-limit.yaml" in files
    assert "plumbob-image-registry-not-approved.yaml" in files
    policy, binding = docs(out / "plumbob-gpu-request-without-limit.yaml")
    assert policy["apiVersion"] == "admissionregistration.k8s.io/v1"
    assert policy["kind"] == "ValidatingAdmissionPolicy"
    meta = policy["metadata"]
    assert meta["labels"]["plumbob.dev/check"] == "gpu-request-without-limit"  # type: ignore[index]
    assert meta["annotations"]["plumbob.dev/check"] == "gpu-request-without-limit"  # type: ignore[index]
    rules = policy["spec"]["matchConstraints"]["resourceRules"]  # type: ignore[index]
    resources = {r for rule in rules for r in rule["resources"]}
    assert {"pods", "deployments", "jobs", "cronjobs", "pytorchjobs", "rayclusters"} <= resources
    assert binding["kind"] == "ValidatingAdmissionPolicyBinding"
    assert binding["spec"]["validationActions"] == ["Audit", "Warn"]  # type: ignore[index]
    registry = docs(out / "plumbob-image-registry-not-approved.yaml")[0]
    expression = registry["spec"]["validations"][0]["expression"]  # type: ignore[index]
    assert '"nvcr.io"' in expression and '"index.docker.io"' in expression
    taints = docs(out / "plumbob-node-pool-taint-untolerated.yaml")[0]
    text = json.dumps(taints)
    assert "nvidia.com/gpu" in text and "CriticalAddonsOnly" not in text  # GPU pools only
    pinned = docs(out / "plumbob-gpu-image-mutable-tag.yaml")[0]
    assert "@sha256:" in pinned["spec"]["validations"][0]["expression"]  # type: ignore[index]


def test_deny_switch_and_kyverno_format(tmp_path: Path) -> None:
    out = export(tmp_path, "--action", "deny")
    assert docs(out / "plumbob-gpu-request-without-limit.yaml")[1]["spec"][  # type: ignore[index]
        "validationActions"
    ] == ["Deny"]
    assert not (out / "plumbob-image-registry-not-approved.yaml").exists()  # no baseline
    kyv = export(tmp_path / "k", "-f", "kyverno")
    (policy,) = docs(kyv / "plumbob-gpu-workload-host-access.yaml")
    assert policy["kind"] == "ClusterPolicy"
    assert policy["spec"]["validationFailureAction"] == "Audit"  # type: ignore[index]
    annotations = policy["metadata"]["annotations"]  # type: ignore[index]
    assert annotations["policies.kyverno.io/severity"] == "high"
    assert annotations["plumbob.dev/check"] == "gpu-workload-host-access"
    kinds = policy["spec"]["rules"][0]["match"]["any"][0]["resources"]["kinds"]  # type: ignore[index]
    assert "Pod" in kinds and "apps/v1/Deployment" in kinds
    enforce = export(tmp_path / "e", "-f", "kyverno", "--action", "deny")
    (policy,) = docs(enforce / "plumbob-gpu-workload-host-access.yaml")
    assert policy["spec"]["validationFailureAction"] == "Enforce"  # type: ignore[index]


def test_parameters_come_from_the_baseline(tmp_path: Path) -> None:
    (tmp_path / "b.yaml").write_text(BASELINE)
    params = parameters(load_baseline(tmp_path / "b.yaml").baseline)
    assert params.approved_registries == ("nvcr.io", "docker.io", "registry.k8s.io")
    assert params.gpu_taints == ((("nvidia.com/gpu", "present", "NoSchedule"),),)
    assert params.digest


def test_custom_checks_export_as_they_are(tmp_path: Path) -> None:
    checks = tmp_path / "c.yaml"
    checks.write_text(
        "checks:\n  - {id: team-label, severity: low, category: policy, title: Team label,\n"
        "     match: {kinds: [Deployment, Namespace]},\n"
        "     expression: \"has(object.metadata.labels) && 'team' in object.metadata.labels\"}\n"
    )
    out = export(tmp_path, "--custom-checks", str(checks), "--only", "team-label")
    assert [p.name for p in out.iterdir()] == ["plumbob-team-label.yaml"]
    policy = docs(out / "plumbob-team-label.yaml")[0]
    spec = policy["spec"]  # type: ignore[index]
    assert spec["validations"][0]["expression"].startswith("has(object.metadata.labels)")
    rules = spec["matchConstraints"]["resourceRules"]
    assert {(r["apiGroups"][0], r["resources"][0]) for r in rules} == {
        ("apps", "deployments"),
        ("", "namespaces"),
    }


def test_a_custom_checks_message_names_the_object_in_the_policy(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    checks = tmp_path / "c.yaml"
    checks.write_text(
        "checks:\n  - {id: team-label, severity: low, category: policy, title: Team label,\n"
        "     match: {kinds: [Deployment]}, message: '{kind} {namespace}/{name} has no team',\n"
        "     expression: \"has(object.metadata.labels) && 'team' in object.metadata.labels\"}\n"
    )
    out = export(tmp_path, "--custom-checks", str(checks), "--only", "team-label")
    policy = docs(out / "plumbob-team-label.yaml")[0]
    validation = policy["spec"]["validations"][0]  # type: ignore[index]
    assert validation["message"] == "team-label: Team label"
    assert "object.metadata.name" in validation["messageExpression"]
    manifest = tmp_path / "d.yaml"
    manifest.write_text(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: shop}\n"
        "spec:\n  selector: {matchLabels: {app: web}}\n  template:\n"
        "    metadata: {labels: {app: web}}\n"
        "    spec: {containers: [{name: w, image: nginx:1.27}]}\n"
    )
    capsys.readouterr()
    with pytest.raises(SystemExit):
        main(["policy", "test", "--policies", str(out), str(manifest), "--json"])
    (row,) = json.loads(capsys.readouterr().out)
    assert row["message"] == "team-label: Deployment shop/web has no team"


def test_policy_test_lists_what_would_be_denied(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = export(tmp_path)
    manifest = tmp_path / "pod.yaml"
    manifest.write_text(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: trainer, namespace: ml}\nspec:\n"
        "  containers:\n  - name: t\n    image: nvcr.io/nvidia/pytorch:24.05-py3\n"
        "    resources: {requests: {nvidia.com/gpu: 2}, limits: {nvidia.com/gpu: 1}}\n"
    )
    capsys.readouterr()
    with pytest.raises(SystemExit) as done:
        main(["policy", "test", "--policies", str(out), str(manifest), "--json"])
    assert done.value.code in (0, None)
    rows = json.loads(capsys.readouterr().out)
    by_check = {r["check"]: r for r in rows}
    assert set(by_check) == {
        "gpu-request-without-limit",
        "gpu-workload-no-priority-class",
        "gpu-workload-no-memory-request",
    }
    assert by_check["gpu-request-without-limit"]["name"] == "trainer"
    assert by_check["gpu-request-without-limit"]["line"] == 1


def test_policy_test_refuses_a_broken_policy(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingAdmissionPolicy\n"
        "metadata: {name: broken}\nspec:\n  validations:\n  - expression: 'object.spec &&'\n"
    )
    with pytest.raises(SystemExit) as done:
        main(["policy", "test", "--policies", str(bad), "--demo", "-q"])
    assert done.value.code == 2
    assert "ValidatingAdmissionPolicy broken: validations[0]: Syntax error" in " ".join(
        capsys.readouterr().err.split()
    )


def test_policies_agree_with_findings_on_the_demo(tmp_path: Path, demo_baseline: Baseline) -> None:
    snaps = DemoSource(DemoSpec()).load(None).snapshots
    out = agreement.export(tmp_path, demo_baseline)
    denied = agreement.by_check_denied(out, snaps)
    found = agreement.by_check_found(snaps, demo_baseline, denied.keys() | _checks())
    assert agreement.disagreements(denied, found) == []
    assert found["gpu-request-without-limit"]  # the demo plants these: compared, not empty
    assert found["gpu-image-mutable-tag"]
    assert found["env-plaintext-credential"]
    assert found["gpu-workload-no-memory-request"]


def test_policies_agree_with_findings_on_real_workloads(
    tmp_path: Path, real: Path, demo_baseline: Baseline
) -> None:
    snaps = FileSource((real / "workloads",)).load(None).snapshots
    for fmt in PolicyFormat:
        out = agreement.export(tmp_path, demo_baseline, fmt)
        denied = agreement.by_check_denied(out, snaps)
        found = agreement.by_check_found(snaps, demo_baseline, denied.keys() | _checks())
        assert agreement.disagreements(denied, found) == [], fmt
        assert len(found["gpu-workload-no-priority-class"]) >= 10


def _checks() -> set[str]:
    from plumbob.policy import built_in_rules

    return {r.check for r in built_in_rules(parameters(None))} - set(agreement.NOT_COMPARED)


@pytest.mark.parametrize("check", sorted(_checks()))
def test_policies_agree_with_each_checks_own_fixtures(
    tmp_path: Path, demo_baseline: Baseline, check: str
) -> None:
    """Every trigger and near miss written for the check: the policy denies the workloads the
    check finds there, and no other (the differences in agreement.FIXTURE_KNOWN aside)."""
    out = agreement.export(tmp_path, demo_baseline)
    files = agreement.check_fixtures(check)
    assert files
    differ = []
    for path in files:
        snaps = FileSource((path,)).load(None).snapshots
        denied = agreement.by_check_denied(out, snaps).get(check, set())
        found = agreement.by_check_found(snaps, demo_baseline, [check]).get(check, set())
        differ += [
            (path.name, s)
            for s in sorted(denied ^ found, key=str)
            if (check, path.name, s[0]) not in agreement.FIXTURE_KNOWN
        ]
    assert differ == []


def test_the_rules_match_every_workload_kind_plumbob_reads_templates_of() -> None:
    """A kind whose pod templates the checks read and the policies do not match would be a
    workload the policies wave through (KFServing's serving.kubeflow.org aside: no release
    serves it, custom-resource-version-removed reports it)."""
    matched = {(r.kind, r.group) for r in WORKLOAD_RESOURCES}
    for key in WORKLOAD_KINDS:
        kind, _, group = key.partition(".")
        assert any(k == kind and (not group or g == group) for k, g in matched), key
    assert {k for k, _ in matched} <= {k.partition(".")[0] for k in WORKLOAD_KINDS}


def test_a_kserve_component_carries_every_pod_field_a_rule_reads() -> None:
    """An InferenceService's templates are built field by field (rules.KSERVE_POD_FIELDS): a
    rule reading a pod field they lack would read it as absent on every InferenceService."""
    read: set[str] = set()
    for rule in built_in_rules(parameters(None)):
        read |= set(re.findall(r"\bt\.spec\.(\w+)", rule.expression))
    assert read
    assert read <= {"containers", *KSERVE_POD_FIELDS}, read - {"containers", *KSERVE_POD_FIELDS}
