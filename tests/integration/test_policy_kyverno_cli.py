"""The exported policies under the Kyverno CLI (`kyverno apply`, v1.19.1, built from its Go
module by tests/services/kyverno.sh): what Kyverno's own engine fails, object by object and
policy by policy, is what `plumbob policy test` denies, for the Kyverno ClusterPolicies and for
the ValidatingAdmissionPolicies (which the CLI evaluates too), over the demo fleet (its workloads
and the pods no controller owns), the shared real workloads and every check's own trigger and
near-miss fixtures."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from plumbob.drift.baseline import Baseline
from plumbob.policy import Action, PolicyFormat, built_in_rules, parameters, write
from plumbob.policy.evaluate import denials, load_policies
from plumbob.sources.demo import DemoSpec, generate
from tests import policy_agreement as agreement
from tests.conftest import REAL, decode, service_dir
from tests.integration.test_policy_apiserver import baseline as baseline  # the fixture
from tests.integration.test_policy_apiserver import (
    custom_crds,
    fixture_objects,
    matched,
    real_objects,
    unique,
)

Key = tuple[str, str, str, str]
"""(policy, kind, namespace, name)."""


@pytest.fixture(scope="module")
def kyverno() -> Path:
    folder = service_dir("kyverno", "cli", tools=("go",))
    return Path((folder / "cli").read_text().strip())


def objects_of(fleet: str) -> list[dict[str, Any]]:
    if fleet == "demo":
        # the demo's workloads and its pods that no controller owns: the owned pods repeat
        # their templates, and each costs the CLI as much as a workload (minutes in all)
        return [
            o
            for o in matched(list(generate(DemoSpec())))
            if o["kind"] != "Pod" or not o["metadata"].get("ownerReferences")
        ]
    if fleet == "real workloads":
        if not REAL.is_dir():
            pytest.skip(f"real fixtures not found at {REAL} (set PLUMBOB_REAL_FIXTURES)")
        return matched(real_objects(REAL))
    return fixture_objects()


def kyverno_fails(cli: Path, policies: Path, resources: Path, crds: Path | None) -> set[Key]:
    # one file of every CRD: kyverno v1.19.1 keeps only the last of several --crd-paths
    with_crds = ["--crd-paths", str(crds)] if crds else []
    run = subprocess.run(
        [
            str(cli),
            "apply",
            str(policies),
            "--resource",
            str(resources),
            *with_crds,
            "-p",
            "--output-format",
            "json",
            "--remove-color",
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    start = run.stdout.find("{")
    assert start >= 0, run.stderr[-2000:]
    report = json.loads(run.stdout[start:])
    # "error": an expression failed on the object (a fixture's predictor whose containers are
    # a number), which the API server denies under failurePolicy Fail and `policy test` too; a
    # policy Kyverno could not compile errs on every object and differs from `policy test`
    return {
        (r["policy"], res["kind"], res.get("namespace") or "default", res["name"])
        for r in report.get("results", [])
        if r["result"] in ("fail", "error")
        for res in r["resources"]
    }


def plumbob_denies(policies: Path, objects: list[dict[str, Any]]) -> set[Key]:
    loaded = load_policies([policies])
    return {
        (d.policy, d.subject.kind, d.subject.namespace or "default", d.subject.name)
        for d in denials(loaded.policies, [decode(o) for o in objects])
    }


@pytest.mark.parametrize("fmt", list(PolicyFormat))
@pytest.mark.parametrize("fleet", ["demo", "real workloads", "check fixtures"])
def test_kyverno_cli_fails_what_policy_test_denies(
    kyverno: Path, baseline: Baseline, tmp_path: Path, fleet: str, fmt: PolicyFormat
) -> None:
    objects = unique(objects_of(fleet))
    resources = tmp_path / "resources.yaml"
    resources.write_text(yaml.safe_dump_all(objects, sort_keys=False))
    policies = tmp_path / "policies"
    write(built_in_rules(parameters(baseline)), fmt, Action.DENY, policies)
    crds = None
    if made := custom_crds(objects):
        crds = tmp_path / "crds.yaml"
        crds.write_text(yaml.safe_dump_all(made))
    by_kyverno = kyverno_fails(kyverno, policies, resources, crds) - agreement.ENGINE_KNOWN.keys()
    by_plumbob = plumbob_denies(policies, objects) - agreement.ENGINE_KNOWN.keys()
    assert by_kyverno == by_plumbob, (
        sorted(by_kyverno - by_plumbob)[:10],
        sorted(by_plumbob - by_kyverno)[:10],
    )
    assert by_plumbob or fleet != "demo"
    print(f"{fleet} ({fmt.value}): {len(objects)} objects, {len(by_kyverno)} failures agree")
