"""plumbob against a real kube-apiserver (v1.37, built and started by tests/services/start.sh):
the demo fleet loaded into it (over whatever an earlier load left) scans as the demo file does;
the ServiceAccount of deploy/rbac.yaml sees everything but what the role withholds, and a rule
removed hides exactly its kinds with the 403 named; Secrets never come back with data (the
audit log shows what each list returned); pagination over 20,000 pods; a CRD served at two
versions; in-cluster mode.

Faults a real server does not produce on demand (410 on a continue, 429, stalls) stay with the
stand-in server, tests/integration/fake_apiserver.py.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import yaml

from plumbob.checks.kinds import capture_kinds
from plumbob.checks.registry import Registry
from plumbob.model.snapshot import Snapshot
from plumbob.sources.demo import DemoSpec, generate
from plumbob.sources.live import CaptureOptions, LiveSource
from tests.conftest import ROOT, service_dir
from tests.integration import kube_fleet
from tests.services.kubeadmin import Api, Credentials, kubeconfig

RBAC = ROOT / "deploy" / "rbac.yaml"
TEST_NAMESPACE_PREFIX = "plumbob-test-"
"""Namespaces the tests make for objects of their own; removed again."""
PAGES_NAMESPACE = TEST_NAMESPACE_PREFIX + "pages"
PODS_FOR_PAGINATION = 20_000
_PYTHONPATH = {k: v for k, v in os.environ.items() if k == "PYTHONPATH"}


@pytest.fixture(scope="module")
def kube() -> Path:
    """.services/kube of the running server (skips or, under CI, fails when there is none)."""
    return service_dir("kube", "plumbob.kubeconfig", tools=("go", "openssl"))


@pytest.fixture(scope="module")
def admin(kube: Path) -> Api:
    return Api(Credentials.admin(kube))


@pytest.fixture(scope="module")
def demo(admin: Api) -> kube_fleet.Loaded:
    """The demo fleet, loaded once. The server then holds this fleet and nothing an earlier
    load left: a server kept running between runs may hold an earlier revision of the demo,
    whose pods sat on other nodes and whose objects this one lacks (kube_fleet.load)."""
    return kube_fleet.load(admin, generate(DemoSpec()))


def plumbob(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "plumbob", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={"CI": "1", "PATH": "/usr/bin:/bin", "COLUMNS": "120", **_PYTHONPATH},
    )


def capture(kubeconfig_path: Path, **options: Any) -> Snapshot:
    source = LiveSource(
        kubeconfig=str(kubeconfig_path), options=CaptureOptions(**{"kinds": KINDS, **options})
    )
    (snap,) = source.load().snapshots
    return snap


def audit(kube: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (kube / "audit.log").read_text().splitlines() if line]


# ---------------------------------------------------------------------- the demo fleet

KINDS = capture_kinds(Registry.discover())
"""What the CLI asks a capture for."""

REFUSED = {
    ("Deployment", "team-llm-serving", "whisper-large-v3"): "422: GPU request without a limit",
    ("ReplicaSet", "team-llm-serving", "whisper-large-v3-w82xvhqxsz"): "422: the same template",
}
"""Demo objects a real API server refuses: the demo plants a GPU request without a limit
(gpu-request-without-limit), which validation rejects for extended resources ("Limit must be
set for non overcommitable resources"). Such a workload exists only in manifests, never in a
cluster; its pods (created as they were admitted) are loaded."""

VERSION_BOUND = {
    "kubelet-version-skew": "every node runs kubelet v1.31, three minors behind this v1.37 server",
    "dra-available-unused": "v1.37 serves resource.k8s.io; the demo's EKS 1.31 does not",
    "kubernetes-version-eol": "the demo's v1.31 is past end of life; this server's v1.37 is not",
}
"""Checks whose verdict follows the control plane's version, which the demo sets (v1.31.4-eks)
and this server answers for itself (v1.37.2)."""

SERVED_VERSION = {
    "custom-resource-version-removed": "the server lists custom resources at the version it "
    "serves, whatever version they were written in: the CRD copies here serve Kueue v1beta1 and "
    "v1beta2 as Kueue v0.16's do, so the demo's WorkloadPriorityClass, written in v1beta1 under "
    "a CRD the demo describes as left at v1beta1 only, is listed in v1beta2",
}
"""Checks about the API version an object was written in: a manifest keeps it, a cluster
answers with the version it serves."""


def _key(finding: dict[str, Any]) -> tuple[str, str, str, str]:
    s = finding["subject"]
    return finding["check"], s.get("kind", ""), s.get("namespace") or "", s.get("name", "")


def test_demo_fleet_loads_as_a_cluster_holds_it(demo: kube_fleet.Loaded) -> None:
    refused = {tuple(p.split(":")[0].replace("/", " ").split(" ")) for p in demo.problems}
    assert refused == set(REFUSED), demo.problems
    assert all("Limit must be set for non overcommitable resources" in p for p in demo.problems)
    assert demo.objects > 1500 and demo.statuses > 1400
    assert "pytorchjobs.kubeflow.org" in demo.crds and "clusterqueues.kueue.x-k8s.io" in demo.crds


def test_demo_fleet_scans_as_the_demo_file(
    kube: Path, demo: kube_fleet.Loaded, tmp_path: Path
) -> None:
    """`plumbob scan --kubeconfig` on the server holding the demo fleet finds what scanning the
    demo snapshot file finds; every difference is one of those documented above."""
    demo_file = tmp_path / "demo.json.gz"
    assert plumbob("demo", "-o", str(demo_file), "-q").returncode == 0
    offline, live = tmp_path / "offline.json", tmp_path / "live.json"
    result = plumbob("scan", str(demo_file), "-f", "json", "-o", str(offline), "-q")
    assert result.returncode == 0, result.stderr
    result = plumbob(
        "scan",
        "--kubeconfig",
        str(kube / "admin.kubeconfig"),
        "--cluster",
        "demo-ai-platform",
        "-f",
        "json",
        "-o",
        str(live),
    )
    assert result.returncode == 0, result.stderr
    want = Counter(map(_key, json.loads(offline.read_text())["findings"]))
    report = json.loads(live.read_text())
    got = Counter(map(_key, report["findings"]))
    missing, extra = want - got, got - want
    for check, kind, namespace, name in missing.elements():
        assert (
            check in VERSION_BOUND or check in SERVED_VERSION or (kind, namespace, name) in REFUSED
        ), f"found in the demo file only: {check} {kind} {namespace}/{name}"
    for check, kind, namespace, name in extra.elements():
        assert check in VERSION_BOUND, f"found live only: {check} {kind} {namespace}/{name}"
    assert {c for c, *_ in missing} - set(SERVED_VERSION) == {
        "kubernetes-version-eol",
        "gpu-request-without-limit",
    }
    nodes = {n for c, k, _, n in extra if c == "kubelet-version-skew" and k == "Node"}
    assert len(nodes) == 48  # every node of the fleet
    (cluster,) = report["clusters"]
    assert cluster["kubernetesVersion"] == "v1.37.2"
    # no --prometheus; ConfigMap contents are never read live (gpu-sharing-config-unsafe)
    assert [nv["reason"].split(":")[0] for nv in report["notVisible"]] == [
        "GpuMetrics",
        "ConfigMap",
    ]


def test_kinds_served_at_two_versions_are_listed_once(kube: Path, demo: kube_fleet.Loaded) -> None:
    """Kueue's CRDs serve v1beta1 and v1beta2 (storage, preferred): the demo created its
    queues through v1beta2 and its WorkloadPriorityClass through v1beta1; plumbob lists each
    object once, in the preferred version."""
    written = [o for o in generate(DemoSpec()) if o["apiVersion"].startswith("kueue.x-k8s.io/")]
    assert {o["apiVersion"] for o in written} == {
        "kueue.x-k8s.io/v1beta1",
        "kueue.x-k8s.io/v1beta2",
    }
    snap = capture(kube / "admin.kubeconfig")
    assert {"kueue.x-k8s.io/v1beta1", "kueue.x-k8s.io/v1beta2"} <= set(
        snap.discovery.group_versions if snap.discovery else ()
    )
    queues = [o for o in snap if o.api_version.startswith("kueue.x-k8s.io/")]
    assert Counter((o.kind, o.name) for o in queues) == Counter(
        (o["kind"], o["metadata"]["name"]) for o in written
    )
    assert {o.api_version for o in queues} == {"kueue.x-k8s.io/v1beta2"}


def test_a_fleet_loaded_over_an_earlier_one_replaces_it(admin: Api) -> None:
    """What the demo tests stand on when the server already holds an earlier revision of the
    fleet: a pod bound to another node is replaced (a Pod's spec cannot change), what the new
    fleet lacks is deleted (a Node despite its Karpenter finalizer, a namespace and its pod),
    and what others made or changed stays (the server's `default` namespace, a ConfigMap the
    fleet never held)."""
    manager = "plumbob-tests-fleet-replaced"  # its own: the demo fleet stays as it is
    ns, gone = TEST_NAMESPACE_PREFIX + "fleet", TEST_NAMESPACE_PREFIX + "fleet-gone"
    nodes = [f"plumbob-test-fleet-{n}.internal" for n in ("a", "b")]

    def node(name: str, **meta: Any) -> dict[str, Any]:
        labels = {"kubernetes.io/hostname": name}
        return {
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {"name": name, "labels": labels, **meta},
        }

    def namespace(name: str) -> dict[str, Any]:
        return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}

    def pod(namespace: str, name: str, node: str) -> dict[str, Any]:
        return {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": name, "namespace": namespace},
            "spec": {
                "nodeName": node,
                "containers": [{"name": "main", "image": "registry.k8s.io/pause:3.10"}],
            },
        }

    earlier = [
        namespace("default"),
        node(nodes[0], finalizers=["karpenter.sh/termination"]),
        node(nodes[1]),
        pod(ns, "moved", nodes[0]),
        pod(ns, "dropped", nodes[0]),
        pod(gone, "with-its-namespace", nodes[0]),
    ]
    later = [node(nodes[1]), pod(ns, "moved", nodes[1])]
    others = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "kept"}}
    try:
        first = kube_fleet.load(admin, earlier, manager=manager)
        assert (first.problems, first.replaced) == ([], 0)
        admin.apply({**others, "metadata": {**others["metadata"], "namespace": ns}})
        second = kube_fleet.load(admin, later, manager=manager)
        assert (second.problems, second.replaced) == ([], 1)
        assert sorted(second.pruned) == sorted(
            [
                f"pods {ns}/dropped",
                f"pods {gone}/with-its-namespace",
                f"nodes {nodes[0]}",
                f"namespaces {gone}",
            ]
        )
        pods = admin.ok("GET", f"/api/v1/namespaces/{ns}/pods")["items"]
        assert [(p["metadata"]["name"], p["spec"]["nodeName"]) for p in pods] == [
            ("moved", nodes[1])
        ]
        assert admin.request("GET", f"/api/v1/nodes/{nodes[0]}")[0] == 404
        assert admin.request("GET", f"/api/v1/namespaces/{gone}")[0] == 404
        assert admin.request("GET", "/api/v1/namespaces/default")[0] == 200
        assert admin.request("GET", f"/api/v1/namespaces/{ns}/configmaps/kept")[0] == 200
        again = kube_fleet.load(admin, later, manager=manager)
        assert (again.problems, again.replaced, again.pruned) == ([], 0, [])
    finally:
        kube_fleet.load(admin, [], manager=manager)  # everything it made
        kube_fleet.delete_namespace(admin, ns, kinds=("pods", "configmaps"))
    assert admin.count("/api/v1/nodes", fieldSelector=f"metadata.name={nodes[1]}") == 0


# ---------------------------------------------------------------------- RBAC


def test_the_service_account_sees_all_it_reads(kube: Path, demo: kube_fleet.Loaded) -> None:
    """deploy/rbac.yaml's role: everything plumbob reads is visible, and sees what cluster-admin
    sees. Secrets are neither granted nor asked for (no check reads them)."""
    snap = capture(kube / "plumbob.kubeconfig")
    assert dict(snap.not_visible) == {}
    everything = capture(kube / "admin.kubeconfig")
    seen = Counter(o.kind for o in snap)
    assert seen == Counter(o.kind for o in everything)
    assert "Secret" not in seen


def _role() -> dict[str, Any]:
    (role,) = [d for d in yaml.safe_load_all(RBAC.read_text()) if d["kind"] == "ClusterRole"]
    return role  # type: ignore[no-any-return]


@pytest.fixture
def account(admin: Api, kube: Path) -> Iterator[Any]:
    """A function making a ServiceAccount bound to the given rules; returns its kubeconfig."""
    made: list[dict[str, Any]] = []

    def make(name: str, rules: list[dict[str, Any]], folder: Path) -> Path:
        meta = {"name": name, "namespace": "plumbob"}
        objects = [
            {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": meta},
            {
                "apiVersion": "rbac.authorization.k8s.io/v1",
                "kind": "ClusterRole",
                "metadata": {"name": name},
                "rules": rules,
            },
            {
                "apiVersion": "rbac.authorization.k8s.io/v1",
                "kind": "ClusterRoleBinding",
                "metadata": {"name": name},
                "roleRef": {
                    "apiGroup": "rbac.authorization.k8s.io",
                    "kind": "ClusterRole",
                    "name": name,
                },
                "subjects": [{"kind": "ServiceAccount", "name": name, "namespace": "plumbob"}],
            },
        ]
        for obj in objects:
            admin.apply(obj)
            made.append(obj)
        token = admin.token("plumbob", name, 3600)
        server = (kube / "server.url").read_text().strip()
        return kubeconfig(server, str(kube / "ca.crt"), name, {"token": token}, folder / name)

    yield make
    for obj in reversed(made):
        admin.delete(obj)


RULES_TO_REMOVE = {
    "policy": {"PodDisruptionBudget"},
    "autoscaling": {"HorizontalPodAutoscaler"},
    "kueue.x-k8s.io": {
        "ClusterQueue",
        "LocalQueue",
        "ResourceFlavor",
        "Workload",
        "WorkloadPriorityClass",
        "AdmissionCheck",
        "Cohort",
        "Topology",
        "MultiKueueCluster",
        "MultiKueueConfig",
        "ProvisioningRequestConfig",
    },
}
"""API group of a rule of deploy/rbac.yaml -> the kinds it alone grants that this server serves
with the demo fleet loaded."""


@pytest.mark.parametrize("group", sorted(RULES_TO_REMOVE))
def test_a_rule_removed_hides_exactly_its_kinds(
    group: str, account: Any, demo: kube_fleet.Loaded, tmp_path: Path
) -> None:
    rules = [r for r in _role()["rules"] if r.get("apiGroups") != [group]]
    assert len(rules) == len(_role()["rules"]) - 1
    name = "plumbob-test-without-" + group.replace(".", "-")
    snap = capture(account(name, rules, tmp_path))
    assert set(snap.not_visible) == RULES_TO_REMOVE[group]
    for kind in RULES_TO_REMOVE[group]:
        why = snap.not_visible[kind]
        assert (
            why.startswith("403 Forbidden: ") and f'"system:serviceaccount:plumbob:{name}"' in why
        )
        assert f'in API group "{group}"' in why


# ---------------------------------------------------------------------- Secrets


def test_secrets_are_never_fetched(admin: Api, account: Any, kube: Path, tmp_path: Path) -> None:
    """No check reads Secrets, so plumbob never asks for them, even with `list` on Secrets
    granted: the audit log holds no Secret request of plumbob, and no Secret value is in any
    answer it got."""
    namespace = TEST_NAMESPACE_PREFIX + "secrets"
    admin.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}})
    secret = "c2VjcmV0LXZhbHVlLW5ldmVyLXRvLWJlLXNlZW4="
    admin.apply(
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "model-hub-token", "namespace": namespace},
            "data": {"token": secret},
        }
    )
    try:
        rules = [
            *_role()["rules"],
            {"apiGroups": [""], "resources": ["secrets"], "verbs": ["list"]},
        ]
        name = "plumbob-test-secrets"
        snap = capture(account(name, rules, tmp_path))
        assert not snap.objects("Secret")
        user = f"system:serviceaccount:plumbob:{name}"
        everything = [e for e in audit(kube) if e["user"]["username"] == user]
        assert everything, "the audit log has no request of plumbob"
        secrets = [e for e in everything if e.get("objectRef", {}).get("resource") == "secrets"]
        assert secrets == [], [e["requestURI"] for e in secrets]
        assert secret not in json.dumps(everything)  # in no answer to plumbob at all
    finally:
        kube_fleet.delete_namespace(admin, namespace, kinds=("secrets",))


def test_plumbob_only_reads(kube: Path, demo: kube_fleet.Loaded) -> None:
    """Every request the plumbob ServiceAccount made was a get or a list (no watch, no write)."""
    capture(kube / "plumbob.kubeconfig")
    verbs = Counter(
        e["verb"]
        for e in audit(kube)
        if e["user"]["username"] == "system:serviceaccount:plumbob:plumbob"
    )
    assert verbs and set(verbs) <= {"get", "list"}, verbs


# ---------------------------------------------------------------------- pagination


@pytest.fixture
def many_pods(admin: Api) -> Iterator[int]:
    admin.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": PAGES_NAMESPACE}})
    have = admin.count(f"/api/v1/namespaces/{PAGES_NAMESPACE}/pods")

    def pod(i: int) -> dict[str, Any]:
        return {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "name": f"page-{i:05d}",
                "namespace": PAGES_NAMESPACE,
                "labels": {kube_fleet.SHARD_LABEL: str(i % kube_fleet.SHARDS)},
            },
            "spec": {
                "nodeName": f"ip-10-1-{i % 200}-1.internal",
                "containers": [{"name": "main", "image": "registry.k8s.io/pause:3.10"}],
            },
        }

    def create(i: int) -> None:
        admin.ok("POST", f"/api/v1/namespaces/{PAGES_NAMESPACE}/pods", pod(i))

    if have < PODS_FOR_PAGINATION:
        admin.request("DELETE", f"/api/v1/namespaces/{PAGES_NAMESPACE}/pods")
        with ThreadPoolExecutor(max_workers=8) as pool:
            list(pool.map(create, range(PODS_FOR_PAGINATION)))
    yield PODS_FOR_PAGINATION
    kube_fleet.delete_namespace(admin, PAGES_NAMESPACE)


def test_pagination_over_20000_pods(kube: Path, many_pods: int) -> None:
    started = time.monotonic()
    snap = capture(kube / "plumbob.kubeconfig", page_size=100)
    took = time.monotonic() - started
    ours = [p for p in snap.pods if p.namespace == PAGES_NAMESPACE]
    assert len(ours) == many_pods
    assert len({p.name for p in ours}) == many_pods  # no page read twice, none skipped
    pod_lists = [
        e["requestURI"]
        for e in audit(kube)
        if e["user"]["username"] == "system:serviceaccount:plumbob:plumbob"
        and e["requestURI"].startswith("/api/v1/pods?")
        and e["stageTimestamp"] >= _stamp(started)
    ]
    total = len(snap.pods)
    assert len(pod_lists) == -(-total // 100)  # one request per page of 100
    assert sum("continue=" in uri for uri in pod_lists) == len(pod_lists) - 1
    assert took < 120


def _stamp(monotonic: float) -> str:
    """The wall-clock time (RFC 3339, as the audit log writes it) of a monotonic reading."""
    wall = time.time() - (time.monotonic() - monotonic)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(wall - 1))


# ---------------------------------------------------------------------- in-cluster


def test_in_cluster_with_the_service_account_files(
    kube: Path, demo: kube_fleet.Loaded, tmp_path: Path
) -> None:
    """What a pod has: the token and CA files, KUBERNETES_SERVICE_HOST/PORT."""
    token = yaml.safe_load((kube / "plumbob.kubeconfig").read_text())["users"][0]["user"]["token"]
    sa = tmp_path / "serviceaccount"
    sa.mkdir()
    (sa / "token").write_text(token)
    (sa / "ca.crt").write_bytes((kube / "ca.crt").read_bytes())
    port = (kube / "server.url").read_text().strip().rsplit(":", 1)[1]
    env = {"KUBERNETES_SERVICE_HOST": "127.0.0.1", "KUBERNETES_SERVICE_PORT": port}
    options = CaptureOptions(kinds=KINDS)
    source = LiveSource(in_cluster=True, service_account_dir=sa, environ=env, options=options)
    (snap,) = source.load().snapshots
    assert snap.cluster.context == "in-cluster" and snap.cluster.server_version == "v1.37.2"
    assert dict(snap.not_visible) == {}
    assert len(snap.nodes) == 48


def test_metrics_of_other_nodes_are_stated_in_the_report(
    kube: Path, demo: kube_fleet.Loaded, tmp_path: Path
) -> None:
    """The test Prometheus holds DCGM series of other nodes than the demo fleet's: GPU
    utilisation is reported not assessed, with why, in the report itself."""
    from tests.conftest import service_url

    prometheus = service_url("prometheus")
    report = tmp_path / "r.json"
    result = plumbob(
        "scan", "--kubeconfig", str(kube / "admin.kubeconfig"), "--prometheus", prometheus,
        "-f", "json", "-o", str(report),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    (blind,) = [
        nv
        for nv in json.loads(report.read_text())["notVisible"]
        if nv["reason"].startswith("GpuMetrics")
    ]
    assert blind["checks"] == ["gpu-allocated-idle", "gpu-low-utilization"]
    assert (
        f"Prometheus at {prometheus} has DCGM series, but none for the GPU nodes"
        in (blind["reason"])
    )
