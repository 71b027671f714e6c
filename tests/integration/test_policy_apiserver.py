"""Exported policies on the real kube-apiserver (v1.37, tests/services/kube.sh): they are
accepted as written (strict field validation, no warnings); every manifest of the demo fleet and
of the shared real workloads, submitted with server-side dry run, is denied by the server
exactly where `plumbob policy test` denies it, policy by policy, and where plumbob's own checks
find it (the differences listed in docs/guardrails.md aside). Kyverno ClusterPolicies are
applied with Kyverno's CRDs installed (tests/services/kyverno.sh), so the server validates them
against Kyverno's own schema.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
import uuid
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from plumbob.drift import load_baseline
from plumbob.drift.baseline import Baseline
from plumbob.model.objects import Object
from plumbob.model.snapshot import ClusterInfo, Snapshot
from plumbob.policy import Action, PolicyFormat, built_in_rules, parameters, write
from plumbob.policy.evaluate import denials, load_policies
from plumbob.policy.rules import WORKLOAD_RESOURCES
from plumbob.sources.demo import DemoSpec, generate
from tests import policy_agreement as agreement
from tests.conftest import REAL, decode, service_dir
from tests.integration import kube_fleet
from tests.services.kubeadmin import Api, Credentials, KubeError

NAMED = re.compile(r"ValidatingAdmissionPolicy '([^']+)'")
MATCHED_KINDS = {(r.group, r.kind) for r in WORKLOAD_RESOURCES}


@pytest.fixture(scope="module")
def kube() -> Path:
    return service_dir("kube", "plumbob.kubeconfig", tools=("go", "openssl"))


@pytest.fixture(scope="module")
def admin(kube: Path) -> Iterator[Api]:
    """The admin client. What this module adds to the shared server (CRDs, namespaces) is
    removed afterwards: a CRD's API group makes a component "present" for the other tests'
    scans of the same server."""
    api = Api(Credentials.admin(kube))
    before = _names(api, "/apis/apiextensions.k8s.io/v1/customresourcedefinitions")
    namespaces = _names(api, "/api/v1/namespaces")
    yield api
    remove_policies(api)
    for name in _names(api, "/apis/apiextensions.k8s.io/v1/customresourcedefinitions") - before:
        api.request("DELETE", f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{name}")
    for name in _names(api, "/api/v1/namespaces") - namespaces:
        kube_fleet.delete_namespace(api, name)


def _names(api: Api, path: str) -> set[str]:
    return {item["metadata"]["name"] for item in api.ok("GET", path)["items"]}


@pytest.fixture(scope="module")
def baseline(tmp_path_factory: pytest.TempPathFactory) -> Baseline:
    path = tmp_path_factory.mktemp("baseline") / "baseline.yaml"
    subprocess.run(
        [sys.executable, "-m", "plumbob", "baseline", "init", "--demo", "-o", str(path)],
        check=True,
        capture_output=True,
    )
    return load_baseline(path).baseline


def apply_strict(api: Api, doc: dict[str, Any]) -> list[str]:
    """Server-side apply refusing unknown fields; the warnings the server gave."""
    api.ok(
        "PATCH",
        api.path(doc),
        doc,
        content_type="application/apply-patch+yaml",
        query={
            "fieldManager": "plumbob-policy-tests",
            "force": "true",
            "fieldValidation": "Strict",
        },
    )
    return api.warnings()


def export_and_apply(api: Api, out: Path, baseline: Baseline, action: Action) -> list[str]:
    """Write the VAPs and bindings, apply them and read each back: every field written comes
    back as written (the server dropped or changed none, only added its defaults). Returns the
    warnings the server gave (none expected)."""
    written = write(built_in_rules(parameters(baseline)), PolicyFormat.VAP, action, out)
    warnings: list[str] = []
    for path in written:
        for doc in yaml.safe_load_all(path.read_text()):
            warnings += apply_strict(api, doc)
            stored = api.ok("GET", api.path(doc))
            assert not _changed(doc, stored), (path.name, _changed(doc, stored))
    return warnings


def _changed(sent: Any, stored: Any, where: str = "") -> list[str]:
    """Paths where `stored` lacks or differs from what `sent` holds."""
    if isinstance(sent, dict):
        if not isinstance(stored, dict):
            return [where or "."]
        return [p for k, v in sent.items() for p in _changed(v, stored.get(k), f"{where}.{k}")]
    if isinstance(sent, list):
        if not isinstance(stored, list) or len(stored) != len(sent):
            return [where]
        return [
            p
            for i, (a, b) in enumerate(zip(sent, stored, strict=True))
            for p in _changed(a, b, f"{where}[{i}]")
        ]
    return [] if sent == stored else [where]


@dataclass(slots=True)
class Verdicts:
    """What the server said about each object, by (kind, namespace, name)."""

    denied: dict[tuple[str, str, str], set[str]] = field(default_factory=dict)
    """Policies that denied (Deny) or warned (Warn) about the object."""
    refused: dict[tuple[str, str, str], str] = field(default_factory=dict)
    """Objects the server's own validation refused before any policy (left out)."""
    not_served: set[str] = field(default_factory=set)


def key(obj: dict[str, Any]) -> tuple[str, str, str]:
    meta = obj.get("metadata") or {}
    return (str(obj["kind"]), str(meta.get("namespace") or "default"), str(meta["name"]))


def dry_run_all(api: Api, objects: list[dict[str, Any]]) -> Verdicts:
    verdicts = Verdicts()

    def one(obj: dict[str, Any]) -> None:
        body = kube_fleet.for_server(obj, {})
        body.pop("status", None)
        # a name of its own: the server may hold the object already (the live-capture tests
        # load the demo fleet into it), and a dry-run create must not meet it
        meta = {k: v for k, v in body["metadata"].items() if k not in ("name", "ownerReferences")}
        body["metadata"] = {**meta, "namespace": key(obj)[1], "generateName": "plumbob-dry-"}
        try:
            path = api.path(body, collection=True)
        except KubeError:
            verdicts.not_served.add(obj["kind"])
            return
        status, doc = api.request("POST", path, body, query={"dryRun": "All"})
        message = doc.get("message", "") if isinstance(doc, dict) else str(doc)
        named = set(NAMED.findall(" ".join(api.warnings()))) | (
            set(NAMED.findall(message)) if status >= 300 else set()
        )
        if status >= 300 and not named:
            verdicts.refused[key(obj)] = message
        else:
            verdicts.denied[key(obj)] = named

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(one, objects))
    return verdicts


def local(policies: Path, objects: list[dict[str, Any]]) -> dict[tuple[str, str, str], set[str]]:
    loaded = load_policies([policies])
    decoded = [(key(o), decode(o)) for o in objects]
    out: dict[tuple[str, str, str], set[str]] = {k: set() for k, _ in decoded}
    for k, obj in decoded:
        for d in denials(loaded.policies, [obj]):
            out[k].add(d.policy)
    return out


def namespaces(api: Api, objects: list[dict[str, Any]]) -> None:
    for ns in sorted({key(o)[1] for o in objects}):
        api.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})


def matched(objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        o
        for o in objects
        if (kube_fleet.group_of(o.get("apiVersion", "")), o.get("kind")) in MATCHED_KINDS
        and (o.get("metadata") or {}).get("name")
    ]


def real_objects(real: Path) -> list[dict[str, Any]]:
    out = []
    for path in sorted((real / "workloads").glob("*.y*ml")):
        try:
            docs = list(yaml.safe_load_all(path.read_text()))
        except yaml.YAMLError:
            continue
        out.extend(d for d in docs if isinstance(d, dict) and d.get("kind"))
    return out


def fixture_objects() -> list[dict[str, Any]]:
    """The trigger and near-miss fixtures of every exported check (its objects that a policy
    matches)."""
    out = []
    for rule in built_in_rules(parameters(None)):
        for path in agreement.check_fixtures(rule.check):
            out.extend(d for d in yaml.safe_load_all(path.read_text()) if isinstance(d, dict))
    return matched(out)


def unique(objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One object per kind, namespace and name (fixtures of several checks reuse names)."""
    seen: dict[tuple[str, str, str], dict[str, Any]] = {}
    for o in objects:
        meta = o.get("metadata") or {}
        key = (o["kind"], str(meta.get("namespace") or "default"), str(meta["name"]))
        seen.setdefault(key, o)
    for o in seen.values():
        o.setdefault("metadata", {}).setdefault("namespace", "default")
        o.pop("status", None)
    return list(seen.values())


def servable(obj: dict[str, Any]) -> dict[str, Any]:
    """A fixture as the server takes it: fixtures are written for plumbob, which needs no
    selector, so an apps/v1 workload or a Job without one gets `app: <name>` on selector and
    template (nothing a policy reads; a Job's is a manual selector, kube_fleet.for_server)."""
    spec = obj.get("spec")
    if (
        obj.get("apiVersion") not in ("apps/v1", "batch/v1")
        or obj.get("kind") == "CronJob"
        or not isinstance(spec, dict)
        or spec.get("selector")
    ):
        return obj
    template = spec.get("template")
    if not isinstance(template, dict):
        return obj
    labels = {"app": str(obj["metadata"]["name"])}
    meta = template.get("metadata") or {}
    labels_there = {**(meta.get("labels") or {}), **labels}
    template = {**template, "metadata": {**meta, "labels": labels_there}}
    return {**obj, "spec": {**spec, "selector": {"matchLabels": labels}, "template": template}}


def wait_active(api: Api) -> None:
    """Until the server enforces the policies just applied (its policy source syncs within
    about a second)."""
    probe = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "plumbob-policy-probe", "namespace": "default"},
        "spec": {
            "containers": [
                {
                    "name": "c",
                    "image": "nvcr.io/nvidia/cuda:12.4.1-base-ubuntu22.04",
                    "securityContext": {"privileged": True},
                    "resources": {"limits": {"nvidia.com/gpu": 1}},
                }
            ]
        },
    }
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        _, doc = api.request(
            "POST", "/api/v1/namespaces/default/pods", probe, query={"dryRun": "All"}
        )
        said = (doc.get("message", "") if isinstance(doc, dict) else "") + " ".join(api.warnings())
        if "ValidatingAdmissionPolicy 'plumbob-" in said:  # the first to deny is named
            # The policy source picks policies and bindings up on its own schedule (about once
            # a second, more slowly on a loaded server): one enforced is not all of them yet.
            time.sleep(5)
            return
        time.sleep(0.2)
    raise AssertionError("the policies were not enforced within 30 s")


def wait_each_warns(api: Api, expected: Iterable[tuple[dict[str, Any], set[str]]]) -> None:
    """Until every policy that `policy test` expects a warning from (pairs of an object and
    the policies it warns about) warns, on the server, about one object it names (the
    audit-and-warn export). The policy source takes policies and bindings up on its own
    schedule, later on a loaded server: a fixed pause compared objects with some policies not
    yet in force. Waiting changes no verdict; the comparison follows."""
    pending: dict[str, list[dict[str, Any]]] = {}
    for obj, policies in expected:
        for policy in policies:
            pending.setdefault(policy, []).append(obj)
    deadline = time.monotonic() + 60
    while pending:
        for policy, candidates in list(pending.items()):
            verdicts = dry_run_all(api, candidates[:1])
            if policy in verdicts.denied.get(key(candidates[0]), set()):
                del pending[policy]
            elif verdicts.refused:  # the server's own validation refuses it before any policy
                candidates.pop(0)
                if not candidates:
                    del pending[policy]
        if pending:
            assert time.monotonic() < deadline, f"not in force within 60 s: {sorted(pending)}"
            time.sleep(0.5)


@pytest.fixture(scope="module")
def fleets(admin: Api) -> Iterator[dict[str, list[dict[str, Any]]]]:
    demo = matched(list(generate(DemoSpec())))
    workloads = matched(real_objects(REAL)) if REAL.is_dir() else []
    fixtures = [servable(o) for o in unique(fixture_objects())]
    for doc in custom_crds(demo + workloads + fixtures):
        admin.apply(doc)
        admin.wait_established(doc["metadata"]["name"])
    namespaces(admin, demo + workloads + fixtures)
    yield {"demo": demo, "real workloads": workloads, "check fixtures": fixtures}


BUILT_IN = ("", "apps", "batch")


def custom_crds(objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Structural CRDs for the custom kinds among `objects`: the components table's rows
    (kube_fleet.crd), with every version the objects use served."""
    custom = [o for o in objects if kube_fleet.group_of(o["apiVersion"]) not in BUILT_IN]
    known = {(r["group"], r["kind"]): r for rows in kube_fleet.crd_rows().values() for r in rows}
    out = []
    for (group, kind), versions in _versions(custom).items():
        row = known.get((group, kind))
        served = [str(v) for v in row["versions"]] if row else []
        names = [v.rstrip("*") for v in served]
        missing = [v.rstrip("*") for v in versions if v.rstrip("*") not in names]
        plural = (
            row["plural"] if row else next(r.resource for r in WORKLOAD_RESOURCES if r.kind == kind)
        )
        row = {"group": group, "kind": kind, "plural": plural}
        out.append(kube_fleet.crd({**row, "versions": served + missing if served else versions}))
    return out


def _versions(objects: list[dict[str, Any]]) -> dict[tuple[str, str], list[str]]:
    """(group, kind) -> the versions the objects use, the first marked as storage."""
    out: dict[tuple[str, str], list[str]] = {}
    for o in objects:
        group, _, version = o["apiVersion"].rpartition("/")
        seen = out.setdefault((group, o["kind"]), [])
        if version not in (v.rstrip("*") for v in seen):
            seen.append(version if seen else version + "*")
    return out


def remove_policies(api: Api) -> None:
    """Every policy and binding plumbob exported (their managed-by label)."""
    for kind in ("validatingadmissionpolicybindings", "validatingadmissionpolicies"):
        api.ok(
            "DELETE",
            f"/apis/admissionregistration.k8s.io/v1/{kind}",
            query={"labelSelector": "app.kubernetes.io/managed-by=plumbob"},
        )


@pytest.mark.parametrize("fleet", ["demo", "real workloads", "check fixtures"])
def test_server_denies_what_policy_test_and_plumbob_deny(
    admin: Api,
    baseline: Baseline,
    fleets: dict[str, list[dict[str, Any]]],
    fleet: str,
    tmp_path: Path,
) -> None:
    objects = fleets[fleet]
    if not objects:
        pytest.skip(f"real fixtures not found at {REAL} (set PLUMBOB_REAL_FIXTURES)")
    remove_policies(admin)  # whatever an earlier run or another manager left
    try:
        # deny mode, as a team enforces them: the server refuses exactly what policy test lists
        deny = tmp_path / "deny"
        assert export_and_apply(admin, deny, baseline, Action.DENY) == []
        wait_active(admin)
        server = dry_run_all(admin, objects)
        expected = local(deny, objects)
        judged = [k for k in expected if k in server.denied]
        assert not server.not_served
        assert len(judged) + len(server.refused) == len(expected)
        assert len(judged) >= 0.8 * len(expected), server.refused
        for k in judged:
            assert bool(server.denied[k]) == bool(expected[k]), (k, server.denied[k], expected[k])
            # the one the server names is listed
            assert known_aside(k, server.denied[k]) <= expected[k], k
        # the default export (Audit, Warn): a warning per failing policy, compared one by one
        warn = tmp_path / "warn"
        remove_policies(admin)  # an apply would merge [Deny] into [Audit, Warn]
        assert export_and_apply(admin, warn, baseline, Action.AUDIT) == []
        expected = local(warn, objects)
        wait_each_warns(admin, [(o, expected[key(o)]) for o in objects])
        server = dry_run_all(admin, objects)
        differ = {
            k: (server.denied[k], expected[k])
            for k in expected
            if k in server.denied
            and known_aside(k, server.denied[k]) != known_aside(k, expected[k])
        }
        assert differ == {}
        assert sum(bool(v) for v in server.denied.values()) > 0
        print(
            f"{fleet}: {len(objects)} objects, {len(server.denied)} judged by the server, "
            f"{sum(bool(v) for v in server.denied.values())} denied; refused by the server's "
            f"own validation: {len(server.refused)}"
        )
        for k, why in sorted(server.refused.items()):
            print(f"  refused by the server itself: {k}: {why[:160]}")
        if fleet == "check fixtures":
            # each fixture is a cluster of its own: the findings are compared file by file
            # (tests/unit/policy/test_export.py), not over all of them at once
            return
        # and plumbob's findings for the same checks, workload by workload
        decoded = [decode(o) for o in objects if key(o) in server.denied]
        snap = Snapshot(cluster=ClusterInfo(name=fleet), objects=decoded)
        by_key = {key_of(o): o for o in decoded}
        denied: dict[str, set[agreement.Subject]] = {}
        for k, policies in server.denied.items():
            for name in policies:
                check = name.removeprefix("plumbob-")
                denied.setdefault(check, set()).add(agreement.workload(snap, by_key[k]))
        checks = {r.check for r in built_in_rules(parameters(baseline))}
        found = agreement.by_check_found([snap], baseline, checks - set(agreement.NOT_COMPARED))
        assert agreement.disagreements(denied, found) == []
    finally:
        remove_policies(admin)


def known_aside(k: tuple[str, str, str], policies: set[str]) -> set[str]:
    """The policies named for the object `k`, those that differ on purpose left out."""
    return {p for p in policies if (p, *k) not in agreement.ENGINE_KNOWN}


def key_of(obj: Object) -> tuple[str, str, str]:
    return (obj.kind, obj.namespace or "default", obj.name)


TYPE_CHECK_PROBE = {
    "apiVersion": "admissionregistration.k8s.io/v1",
    "kind": "ValidatingAdmissionPolicy",
    "metadata": {
        "name": "plumbob-type-check-probe",
        "labels": {"app.kubernetes.io/managed-by": "plumbob"},
    },
    "spec": {
        "failurePolicy": "Fail",
        "matchConstraints": {
            "resourceRules": [
                {
                    "apiGroups": [""],
                    "apiVersions": ["v1"],
                    "operations": ["CREATE"],
                    "resources": ["pods"],
                }
            ]
        },
        "validations": [{"expression": "object.spec.noSuchField == 'x' || true"}],
    },
}
"""A policy whose validation reads a field Pods do not have: the status controller must report
it, or a clean status would prove nothing."""


def type_checked(api: Api, names: list[str]) -> dict[str, list[dict[str, Any]]]:
    """Each policy's `status.typeChecking.expressionWarnings`, once kube-controller-manager's
    status controller has checked its current generation."""
    deadline = time.monotonic() + 60
    while True:
        out = {}
        for name in names:
            doc = api.ok(
                "GET", f"/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicies/{name}"
            )
            status = doc.get("status") or {}
            if status.get("observedGeneration") == doc["metadata"]["generation"]:
                out[name] = (status.get("typeChecking") or {}).get("expressionWarnings") or []
        if len(out) == len(names):
            return out
        assert time.monotonic() < deadline, f"not type-checked within 60 s: {set(names) - set(out)}"
        time.sleep(0.5)


def test_exported_policies_type_check_against_every_kind_they_match(
    admin: Api, baseline: Baseline, fleets: dict[str, list[dict[str, Any]]], tmp_path: Path
) -> None:
    """kube-controller-manager's ValidatingAdmissionPolicy status controller checks each
    validation against the schema of every kind the policy matches (Pods, Deployments, ... and
    the custom kinds, whose CRDs the fleets fixture installed) and writes what it finds to the
    policy's status, where `kubectl get validatingadmissionpolicy -o yaml` shows it: no warning
    for any exported policy. (It checks validations, not variables: the probe below shows a
    warning for a validation, none is given for the same read in a variable; the variables'
    correctness is what the dry runs above show.)"""
    remove_policies(admin)
    try:
        out = tmp_path / "deny"
        assert export_and_apply(admin, out, baseline, Action.DENY) == []
        apply_strict(admin, TYPE_CHECK_PROBE)
        names = [
            doc["metadata"]["name"]
            for path in sorted(out.glob("*.yaml"))
            for doc in yaml.safe_load_all(path.read_text())
            if doc["kind"] == "ValidatingAdmissionPolicy"
        ]
        warnings = type_checked(admin, [*names, TYPE_CHECK_PROBE["metadata"]["name"]])
        probe = warnings.pop(TYPE_CHECK_PROBE["metadata"]["name"])
        assert probe and "undefined field 'noSuchField'" in probe[0]["warning"], probe
        assert len(warnings) == len(names) >= 10
        assert {n: w for n, w in warnings.items() if w} == {}
    finally:
        remove_policies(admin)


def test_kyverno_policies_pass_the_servers_schema_validation(
    admin: Api, kube: Path, baseline: Baseline, tmp_path: Path
) -> None:
    crds = service_dir("kyverno", "crds.dir")
    folder = Path((crds / "crds.dir").read_text().strip())
    deprecation = []
    for name in ("kyverno.io_clusterpolicies.yaml", "kyverno.io_policies.yaml"):
        for doc in yaml.safe_load_all((folder / name).read_text()):
            apply_strict(admin, doc)
            admin.wait_established(doc["metadata"]["name"])
            if doc["spec"]["names"]["kind"] == "ClusterPolicy":
                deprecation = [
                    f'299 - "{v["deprecationWarning"]}"'
                    for v in doc["spec"]["versions"]
                    if v["name"] == "v1" and v.get("deprecationWarning")
                ]
    for action in Action:
        out = tmp_path / action.value
        written = write(built_in_rules(parameters(baseline)), PolicyFormat.KYVERNO, action, out)
        for path in written:
            for doc in yaml.safe_load_all(path.read_text()):
                status, body = admin.request(
                    "POST",
                    "/apis/kyverno.io/v1/clusterpolicies",
                    doc,
                    query={"dryRun": "All", "fieldValidation": "Strict"},
                )
                assert status == 201, (path.name, body)
                # Kyverno 1.19 deprecates the whole kyverno.io/v1 version in its CRD: the one
                # warning every ClusterPolicy gets, and the only one these may get
                assert admin.warnings() == deprecation, path.name


def test_a_limit_range_default_reaches_a_pod_before_the_policy(admin: Api, tmp_path: Path) -> None:
    """gpu-workload-no-memory-request on the server: the LimitRanger admission plugin mutates
    a Pod before validating admission, so a Pod without memory is admitted in a namespace whose
    LimitRange gives a default memory request (the server stores it with the default) and
    denied in one without; a Deployment's pod template is never defaulted, so the same
    container in a Deployment is denied in both (docs/guardrails.md). `plumbob policy test`,
    given the Pod as written, denies it in both: the difference docs/guardrails.md names."""
    check = "gpu-workload-no-memory-request"
    suffix = uuid.uuid4().hex[:8]
    defaults, bare = f"plumbob-limitrange-{suffix}", f"plumbob-no-limitrange-{suffix}"
    limit_range = {
        "apiVersion": "v1",
        "kind": "LimitRange",
        "metadata": {"name": "memory-defaults", "namespace": defaults},
        "spec": {"limits": [{"type": "Container", "defaultRequest": {"memory": "16Gi"}}]},
    }
    container = {
        "name": "train",
        "image": "nvcr.io/nvidia/pytorch:24.05-py3",
        "resources": {"limits": {"nvidia.com/gpu": 1}},
    }

    def pod(namespace: str) -> dict[str, Any]:
        return {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "trainer", "namespace": namespace},
            "spec": {"containers": [container]},
        }

    def deployment(namespace: str) -> dict[str, Any]:
        labels = {"app": "trainer"}
        return {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "trainer", "namespace": namespace},
            "spec": {
                "selector": {"matchLabels": labels},
                "template": {"metadata": {"labels": labels}, "spec": {"containers": [container]}},
            },
        }

    def submit(obj: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        status, doc = admin.request(
            "POST", admin.path(obj, collection=True), obj, query={"dryRun": "All"}
        )
        assert isinstance(doc, dict), doc
        return status, doc

    remove_policies(admin)
    try:
        for namespace in (defaults, bare):
            admin.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}})
        admin.apply(limit_range)  # before any Pod there: LimitRanger caches a namespace's ranges
        out = tmp_path / "deny"
        rules = [r for r in built_in_rules(parameters(None)) if r.check == check]
        for path in write(rules, PolicyFormat.VAP, Action.DENY, out):
            for doc in yaml.safe_load_all(path.read_text()):
                assert apply_strict(admin, doc) == [], path.name
        wait_active(admin)

        status, admitted = submit(pod(defaults))
        assert status == 201, admitted
        (stored,) = admitted["spec"]["containers"]
        assert stored["resources"]["requests"]["memory"] == "16Gi"  # given by LimitRanger
        assert "LimitRanger" in admitted["metadata"]["annotations"]["kubernetes.io/limit-ranger"]

        status, denied = submit(pod(bare))
        assert status >= 400
        assert set(NAMED.findall(denied["message"])) == {f"plumbob-{check}"}

        for namespace in (defaults, bare):  # a pod template is judged as written
            status, refused = submit(deployment(namespace))
            assert status >= 400, (namespace, refused)
            assert "LimitRange" in refused["message"], refused["message"]

        loaded = load_policies([out])
        for namespace in (defaults, bare):  # policy test sees the Pod as written
            assert [d.check for d in denials(loaded.policies, [decode(pod(namespace))])] == [check]
    finally:
        remove_policies(admin)
        admin.delete(limit_range)
        for namespace in (defaults, bare):
            kube_fleet.delete_namespace(admin, namespace)


FIXTURE_CHECKS = ("liveness-without-startup-probe", "gpu-workload-no-memory-request")
"""Checks whose policies no demo or real workload decides alone (the liveness probe's budget
fires on neither; a LimitRange is in neither): their own trigger and near-miss fixtures go to
the server too."""


@pytest.mark.parametrize("check", FIXTURE_CHECKS)
def test_server_warns_on_each_checks_own_fixtures_as_the_check_finds(
    admin: Api, baseline: Baseline, tmp_path: Path, check: str
) -> None:
    """The check's fixtures, submitted with server-side dry run under the default export
    (Audit, Warn: one warning per failing policy): the workloads the server warns about for the
    check are those `plumbob policy test` lists and those the check finds, file by file (the
    differences in agreement.FIXTURE_KNOWN aside). The server applies its defaults first (a
    Deployment's probes get periodSeconds and failureThreshold); custom kinds get structural
    CRDs whose pod templates are untyped."""
    files = agreement.check_fixtures(check)
    by_file = {
        path: [
            servable(o)
            for o in matched(
                [d for d in yaml.safe_load_all(path.read_text()) if isinstance(d, dict)]
            )
        ]
        for path in files
    }
    every = [o for objects in by_file.values() for o in objects]
    for doc in custom_crds(every):
        admin.apply(doc)
        admin.wait_established(doc["metadata"]["name"])
    namespaces(admin, every)
    remove_policies(admin)
    try:
        out = tmp_path / "warn"
        assert export_and_apply(admin, out, baseline, Action.AUDIT) == []
        wait_each_warns(
            admin,
            [
                (o, verdicts[key(o)])
                for objects in by_file.values()
                for verdicts in [local(out, objects)]
                for o in objects
            ],
        )
        differ = []
        for path, objects in by_file.items():
            server = dry_run_all(admin, objects)
            assert not server.refused and not server.not_served, (path.name, server)
            expected = local(out, objects)
            assert server.denied == expected, path.name
            decoded = [decode(o) for o in objects]
            snap = Snapshot(cluster=ClusterInfo(name=path.name), objects=decoded)
            by_key = {key_of(o): o for o in decoded}
            warned = {
                agreement.workload(snap, by_key[k])
                for k, policies in server.denied.items()
                if f"plumbob-{check}" in policies
            }
            found = agreement.by_check_found([snap], baseline, [check]).get(check, set())
            differ += [
                (path.name, s)
                for s in sorted(warned ^ found, key=str)
                if (check, path.name, s[0]) not in agreement.FIXTURE_KNOWN
            ]
            if path.name.startswith("trigger-"):
                assert warned, path.name
        assert differ == []
    finally:
        remove_policies(admin)
