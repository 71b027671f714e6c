"""The live source against a local HTTPS API server (fake_apiserver.py): auth kinds, discovery,
pagination, faults, multi-context scans, metadata-only Secrets and redaction."""

from __future__ import annotations

import base64
import dataclasses
import json
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from plumbob.checks.kinds import capture_kinds
from plumbob.checks.registry import Registry
from plumbob.model.objects import Pod, kind_key
from plumbob.report.model import DiagnosticCode
from plumbob.sources.compact import LAST_APPLIED
from plumbob.sources.interface import SourceError
from plumbob.sources.kube_client import ContextError, Target, Transport
from plumbob.sources.kube_redact import REDACTED
from plumbob.sources.live import SELECTED, CaptureOptions, LiveSource
from plumbob.sources.snapshot_file import encode_snapshot
from tests.conftest import REAL
from tests.integration.fake_apiserver import (
    FakeApiServer,
    Faults,
    Pki,
    Store,
    exec_plugin,
    kubeconfig,
    make_pki,
    select_fields,
)

WANTED = capture_kinds(Registry.discover())
"""What the CLI asks a capture for."""
FAST = CaptureOptions(
    kinds=WANTED,
    page_size=7,
    connections=3,
    timeout=5.0,
    retries=4,
    backoff=0.01,
    max_backoff=0.05,
)
WHOLE = dataclasses.replace(FAST, page_size=1000)
"""For tests that are not about pagination: one page per kind."""
SECRET_VALUE = "c3VwZXItc2VjcmV0LXZhbHVl"
CONFIG_VALUE = "hunter2-in-a-configmap"
TOKEN_VALUE = "hf_live_test_token_123456"


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


def _typed_list(path: Path) -> Iterator[dict[str, Any]]:
    """Objects of a `kubectl get -o json` / cluster-info dump list, with apiVersion/kind set."""
    data = json.loads(path.read_text())
    kind = data["kind"].removesuffix("List")
    api = {"Deployment": "apps/v1", "ReplicaSet": "apps/v1", "DaemonSet": "apps/v1"}
    for item in data["items"] or []:
        item.setdefault("kind", kind)
        item.setdefault("apiVersion", api.get(item["kind"], "v1"))
        yield item


def real_objects(real: Path) -> list[dict[str, Any]]:
    out = list(_typed_list(real / "nodes" / "edgexr-aks-agentpool-3nodes.nodelist.json"))
    dump = (
        real
        / "dumps"
        / "rke2-omen-desktop-cluster-info-dump"
        / "rke2-omen-desktop-cluster-info-dump"
    )
    for name in (
        "nodes.json",
        "*/pods.json",
        "*/deployments.json",
        "*/replicasets.json",
        "*/daemonsets.json",
        "*/services.json",
    ):
        for path in sorted(dump.glob(name)):
            out.extend(_typed_list(path))
    return out


def demo_objects() -> list[dict[str, Any]]:
    from plumbob.sources.demo import DemoSpec, generate

    return list(generate(DemoSpec(nodes=30, pods=400, cluster="demo-live")))


def _applied(obj: dict[str, Any]) -> dict[str, Any]:
    """The object as `kubectl apply` leaves it: a full copy in an annotation."""
    meta = obj["metadata"]
    meta.setdefault("annotations", {})[LAST_APPLIED] = json.dumps(obj)
    return obj


def _meta(api_version: str, kind: str, name: str, ns: str | None = None) -> dict[str, Any]:
    meta = {"name": name, **({"namespace": ns} if ns else {})}
    return {"apiVersion": api_version, "kind": kind, "metadata": meta, "spec": {}}


def extras() -> list[dict[str, Any]]:
    return [
        _applied(
            {
                "apiVersion": "v1",
                "kind": "Secret",
                "metadata": {"name": "hf-token", "namespace": "ml"},
                "data": {"token": SECRET_VALUE},
            }
        ),
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "cluster-autoscaler-status", "namespace": "kube-system"},
            "data": {"status": "Cluster-autoscaler status at 2025-01-01: Health: Healthy"},
        },
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "app-config", "namespace": "ml"},
            "data": {"DB_PASSWORD": CONFIG_VALUE},
        },
        # kinds several groups define, and groups whose kinds live in different versions
        _meta("kyverno.io/v1", "ClusterPolicy", "require-gpu-limits"),
        _meta("autoscaling.openshift.io/v1", "ClusterAutoscaler", "default"),
        _meta(
            "autoscaling.openshift.io/v1beta1", "MachineAutoscaler", "gpu", "openshift-machine-api"
        ),
        _meta("velero.io/v2alpha1", "DataUpload", "upload-1", "velero"),
        _meta("networking.k8s.io/v1", "Ingress", "llm", "serving"),
        _meta("gateway.networking.k8s.io/v1", "Gateway", "inference", "serving"),
        _applied(
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {"name": "leaky", "namespace": "ml"},
                "spec": {
                    "nodeName": "n1",
                    "containers": [
                        {
                            "name": "main",
                            "image": "vllm:v1",
                            "env": [
                                {"name": "HF_TOKEN", "value": TOKEN_VALUE},
                                {"name": "DB_URL", "value": "postgres://app:pa55word@db:5432/x"},
                                {"name": "MODEL", "value": "llama"},
                                {
                                    "name": "API_KEY",
                                    "valueFrom": {"secretKeyRef": {"name": "k", "key": "v"}},
                                },
                            ],
                        }
                    ],
                },
                "status": {"phase": "Running"},
            }
        ),
        {
            "apiVersion": "kubeflow.org/v1",
            "kind": "PyTorchJob",
            "metadata": {"name": "train", "namespace": "ml"},
            "spec": {
                "pytorchReplicaSpecs": {
                    "Worker": {
                        "template": {
                            "spec": {
                                "containers": [
                                    {
                                        "name": "pytorch",
                                        "env": [{"name": "WANDB_API_KEY", "value": TOKEN_VALUE}],
                                    },
                                ]
                            }
                        }
                    }
                }
            },
        },
    ]


@pytest.fixture(scope="module")
def store() -> Store:
    """Real objects (when the shared fixtures are present), the demo fleet and a few extras."""
    s = Store()
    if REAL.is_dir():
        s.add_all(real_objects(REAL))
    s.add_all(demo_objects())
    s.add_all(extras())
    return s


def _expected(store: Store) -> Counter[str]:
    """Objects per kind key the live source must capture from `store`."""
    wanted = WANTED
    out: Counter[str] = Counter()
    for r in store.resources.values():
        if (r.group, r.kind) not in wanted and (r.group, "*") not in wanted:
            continue
        items = r.items
        if (r.group, r.kind) in SELECTED:
            items = select_fields(items, SELECTED[r.group, r.kind])
        out[kind_key(r.group_version, r.kind)] += len(items)
    return out


def _source(kc: Path, *contexts: str, **kw: Any) -> LiveSource:
    return LiveSource(contexts=contexts, kubeconfig=str(kc), options=kw.pop("options", FAST), **kw)


def _closed_port() -> int:
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port: int = s.getsockname()[1]
    s.close()
    return port


# ---------------------------------------------------------------------- auth kinds


@pytest.fixture
def api(store: Store, pki: Pki) -> Iterator[FakeApiServer]:
    with FakeApiServer(store, pki, tokens=["good-token", OIDC_TOKEN, "exec-token"]) as server:
        yield server


def _jwt() -> str:
    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    return ".".join(
        [
            part({"alg": "RS256", "typ": "JWT"}),
            part(
                {"iss": "https://issuer.example", "sub": "plumbob", "exp": int(time.time()) + 3600}
            ),
            "c2lnbmF0dXJl",
        ]
    )


OIDC_TOKEN = _jwt()
"""Made once: the server's accepted token and the kubeconfig's must be the same string (two
calls a second apart would differ in `exp`)."""


@pytest.fixture
def kc(api: FakeApiServer, pki: Pki, tmp_path: Path) -> Path:
    server = api.url
    return kubeconfig(
        tmp_path / "kubeconfig",
        {
            "token": {"server": server, "ca": pki.ca, "user": {"token": "good-token"}},
            "cert": {
                "server": server,
                "ca": pki.ca,
                "user": {
                    "client-certificate": str(pki.client_cert),
                    "client-key": str(pki.client_key),
                },
            },
            "exec": {"server": server, "ca": pki.ca, "user": exec_plugin(tmp_path, "exec-token")},
            "oidc": {
                "server": server,
                "ca": pki.ca,
                "user": {
                    "auth-provider": {
                        "name": "oidc",
                        "config": {
                            "client-id": "plumbob",
                            "id-token": OIDC_TOKEN,
                            "idp-issuer-url": "https://issuer.example",
                        },
                    }
                },
            },
            "insecure": {"server": server, "insecure": True, "user": {"token": "good-token"}},
            "wrong-ca": {"server": server, "ca": pki.other_ca, "user": {"token": "good-token"}},
            "expired": {"server": server, "ca": pki.ca, "user": {"token": "expired-token"}},
            "down": {
                "server": f"https://127.0.0.1:{_closed_port()}",
                "ca": pki.ca,
                "user": {"token": "good-token"},
            },
        },
        current="token",
    )


@pytest.mark.parametrize(
    "context,who",
    [
        ("token", "token"),
        ("cert", "cert:plumbob-reader"),
        ("exec", "token"),
        ("oidc", "token"),
        ("insecure", "token"),
    ],
)
def test_every_auth_kind_captures_everything(
    kc: Path, api: FakeApiServer, store: Store, context: str, who: str
) -> None:
    loaded = _source(kc, context).load()
    problems = [d.message for d in loaded.diagnostics if d.level != "info"]
    if context == "insecure":  # said once, not hidden
        assert problems == [
            f"TLS certificate of {api.url} not verified: the kubeconfig sets "
            "insecure-skip-tls-verify for this cluster"
        ]
    else:
        assert problems == []
    (snap,) = loaded.snapshots
    got = Counter({k: len(v) for k, v in snap.kinds.items()})
    assert got == _expected(store)
    assert {w for _, _, w in api.log} == {who}
    assert snap.cluster.name == context and snap.cluster.context == context
    assert snap.cluster.server_version == "v1.31.4-eks-2d5f260"
    assert snap.cluster.platform == "eks"
    assert "kubeflow.org/v1" in snap.discovery.group_versions  # type: ignore[union-attr]
    assert snap.has_group("kueue.x-k8s.io")
    assert not snap.not_visible


def test_pages_follow_continue_tokens(kc: Path, api: FakeApiServer, store: Store) -> None:
    snap = _source(kc, "token").load().snapshots[0]
    pods = len(store.resources[("", "v1", "pods")].items)
    pod_requests = [p for p, _, _ in api.log if p.startswith("/api/v1/pods?")]
    assert len(pod_requests) == -(-pods // FAST.page_size)
    assert sum("continue=" in p for p in pod_requests) == len(pod_requests) - 1
    assert len(snap.pods) == pods
    names = [p.name for p in snap.pods]
    assert len(set(zip(names, [p.namespace for p in snap.pods], strict=True))) == pods


def test_real_objects_decode_to_typed_models(kc: Path, real: Path) -> None:
    snap = _source(kc, "token").load().snapshots[0]
    aks = snap.nodes_by_name["aks-agentpool-30520393-vmss000000"]
    assert aks.status.node_info.kubelet_version == "v1.18.19"
    assert aks.api_version == "v1" and aks.kind == "Node" and aks.origin is None
    assert any(isinstance(p, Pod) and p.spec.containers for p in snap.pods)


def test_in_cluster_service_account(api: FakeApiServer, pki: Pki, tmp_path: Path) -> None:
    sa = tmp_path / "serviceaccount"
    sa.mkdir()
    (sa / "token").write_text("good-token")
    (sa / "ca.crt").write_bytes(pki.ca.read_bytes())
    env = {
        "KUBERNETES_SERVICE_HOST": "127.0.0.1",
        "KUBERNETES_SERVICE_PORT": str(api.port),
        "PLUMBOB_CLUSTER_NAME": "prod-eu",
    }
    source = LiveSource(in_cluster=True, service_account_dir=sa, environ=env, options=FAST)
    (snap,) = source.load().snapshots
    assert snap.cluster.name == "prod-eu" and snap.cluster.context == "in-cluster"
    assert snap.nodes


# ---------------------------------------------------------------------- failures


def test_multi_context_scan_with_contexts_down(kc: Path) -> None:
    loaded = _source(kc, "down", "token", "expired", "wrong-ca").load()
    assert [s.cluster.name for s in loaded.snapshots] == ["token"]
    errors = {d.cluster: d.message for d in loaded.diagnostics if d.level == "error"}
    assert set(errors) == {"down", "expired", "wrong-ca"}
    failed = {d.cluster for d in loaded.diagnostics if d.code == DiagnosticCode.CONTEXT_UNREACHABLE}
    assert failed == set(errors)
    assert "context down: cannot reach https://127.0.0.1:" in errors["down"]
    assert "connection refused" in errors["down"]
    assert "context expired: credentials rejected" in errors["expired"]
    assert "401" in errors["expired"]
    assert "context wrong-ca:" in errors["wrong-ca"] and "TLS" in errors["wrong-ca"]
    assert all("\n" not in m for m in errors.values())


def test_all_contexts(kc: Path) -> None:
    loaded = LiveSource(all_contexts=True, kubeconfig=str(kc), options=WHOLE).load()
    assert sorted(s.cluster.name for s in loaded.snapshots) == [
        "cert",
        "exec",
        "insecure",
        "oidc",
        "token",
    ]


def test_cluster_name_only_for_one_context(kc: Path) -> None:
    (one,) = _source(kc, "token", cluster="prod-eu", options=WHOLE).load().snapshots
    assert one.cluster.name == "prod-eu" and one.cluster.context == "token"
    several = LiveSource(all_contexts=True, kubeconfig=str(kc), cluster="prod-eu", options=WHOLE)
    names = [s.cluster.name for s in several.load().snapshots]
    assert "prod-eu" not in names and len(set(names)) == len(names)


def test_nothing_readable_is_a_source_error(kc: Path) -> None:
    with pytest.raises(SourceError, match="context down: cannot reach"):
        _source(kc, "down").load()
    with pytest.raises(SourceError, match="no context 'nope'"):
        _source(kc, "nope").load()


def test_bad_kubeconfig_is_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "kc"
    bad.write_text("clusters: [oops")
    with pytest.raises(SourceError, match=f"kubeconfig {bad}"):
        LiveSource(kubeconfig=str(bad), options=FAST).load()


def test_forbidden_and_missing_kinds_are_not_visible(
    store: Store, pki: Pki, tmp_path: Path
) -> None:
    faults = Faults(
        forbidden={"secrets", "nodes"},
        not_found={"pytorchjobs"},
        broken_discovery={"kueue.x-k8s.io/v1beta2", "kueue.x-k8s.io/v1beta1"},
    )
    with FakeApiServer(store, pki, faults=faults) as api:
        kc = kubeconfig(
            tmp_path / "kc",
            {"t": {"server": api.url, "ca": pki.ca, "user": {"token": "good-token"}}},
        )
        loaded = _source(kc, "t").load()
    (snap,) = loaded.snapshots
    kueue = {k for g, k in WANTED if g == "kueue.x-k8s.io"}
    assert set(snap.not_visible) == {"Node", "PyTorchJob"} | kueue  # no check reads Secrets
    assert snap.not_visible["Node"].startswith("403 Forbidden: nodes is forbidden")
    assert snap.not_visible["PyTorchJob"].startswith("404 Not Found")
    assert not snap.visible("Node") and snap.visible("Pod") and snap.pods
    # its group's discovery failed: plumbob cannot tell "none" from "not served"
    assert not snap.objects("ClusterQueue") and not snap.visible("ClusterQueue")
    assert snap.not_visible["ClusterQueue"].startswith(
        "discovery of kueue.x-k8s.io/v1beta2 failed: 503"
    )
    assert any("kueue.x-k8s.io/v1beta2" in d.message for d in loaded.diagnostics)
    codes = {d.message.partition(" ")[0]: d.code for d in loaded.diagnostics}
    assert codes["Node"] == DiagnosticCode.KIND_FORBIDDEN
    assert codes["PyTorchJob"] == DiagnosticCode.KIND_UNREADABLE


def test_group_list_failure_hides_builtin_groups(store: Store, pki: Pki, tmp_path: Path) -> None:
    with FakeApiServer(store, pki, faults=Faults(broken_discovery={"apis"})) as api:
        kc = kubeconfig(
            tmp_path / "kc",
            {"t": {"server": api.url, "ca": pki.ca, "user": {"token": "good-token"}}},
        )
        loaded = _source(kc, "t").load()
    (snap,) = loaded.snapshots
    assert snap.pods and snap.nodes  # the core group needs no group list
    assert not snap.visible("Deployment") and not snap.visible("PriorityClass")
    assert snap.not_visible["Deployment"].startswith("API group discovery failed: 503")
    assert snap.visible("Pod") and snap.visible("Node")


def test_transient_faults_are_retried(store: Store, pki: Pki, tmp_path: Path) -> None:
    faults = Faults(
        throttle={"pods": 2},
        errors={"nodes": 2, "deployments": 1},
        slow={"replicasets": 1},
        slow_seconds=1.5,
        reset={"services": 1},
        gone_once={"pods"},
    )
    opts = dataclasses.replace(FAST, timeout=0.7)
    with FakeApiServer(store, pki, faults=faults) as api:
        kc = kubeconfig(
            tmp_path / "kc",
            {"t": {"server": api.url, "ca": pki.ca, "user": {"token": "good-token"}}},
        )
        loaded = _source(kc, "t", options=opts).load()
        log = [p for p, _, _ in api.log]
    (snap,) = loaded.snapshots
    assert not snap.not_visible
    assert Counter({k: len(v) for k, v in snap.kinds.items()}) == _expected(store)
    first_pages = [p for p in log if p.startswith("/api/v1/pods?") and "continue=" not in p]
    assert len(first_pages) == 2 + 1 + 1  # two 429s, the first list, the restart after 410
    assert any("410 Gone" in d.message for d in loaded.diagnostics)
    assert sum(p.startswith("/apis/apps/v1/replicasets?") for p in log) > -(
        -len(store.resources[("apps", "v1", "replicasets")].items) // 7
    )


def test_persistent_errors_end_as_not_visible(store: Store, pki: Pki, tmp_path: Path) -> None:
    faults = Faults(errors={"deployments": 100})
    opts = dataclasses.replace(
        FAST, page_size=50, retries=2, backoff=0.01, max_backoff=0.02, timeout=5
    )
    with FakeApiServer(store, pki, faults=faults) as api:
        kc = kubeconfig(
            tmp_path / "kc",
            {"t": {"server": api.url, "ca": pki.ca, "user": {"token": "good-token"}}},
        )
        loaded = _source(kc, "t", options=opts).load()
        tries = sum(p.startswith("/apis/apps/v1/deployments?") for p, _, _ in api.log)
    (snap,) = loaded.snapshots
    assert tries == 3
    assert snap.not_visible["Deployment"].startswith("500 Internal Server Error: etcdserver")
    assert snap.pods


def test_transport_timeout_per_request(store: Store, pki: Pki, tmp_path: Path) -> None:
    faults = Faults(slow={"nodes": 1}, slow_seconds=2.0)
    with FakeApiServer(store, pki, faults=faults) as api:
        kc = kubeconfig(
            tmp_path / "kc",
            {"t": {"server": api.url, "ca": pki.ca, "user": {"token": "good-token"}}},
        )
        transport = Transport(Target("t", str(kc)), timeout=0.5, retries=0)
        started = time.perf_counter()
        with pytest.raises(ConnectionError, match="timed out"):
            transport.get("/api/v1/nodes")
        assert time.perf_counter() - started < 1.5
        transport.close()


def test_unknown_context_error_names_it(kc: Path) -> None:
    with pytest.raises(ContextError, match="no context 'prod'"):
        _source(kc, "prod").targets()


# ---------------------------------------------------------------------- secrets, redaction


WITH_SECRETS = dataclasses.replace(FAST, kinds=WANTED | {("", "Secret")})
"""A capture for a check that would read Secret names."""


def test_secrets_are_not_listed_when_no_check_reads_them(kc: Path, api: FakeApiServer) -> None:
    snap = _source(kc, "token").load().snapshots[0]
    assert not any(p.startswith("/api/v1/secrets") for p, _, _ in api.log)
    assert not snap.objects("Secret") and snap.visible("Pod")


def test_secrets_are_metadata_only(kc: Path, api: FakeApiServer) -> None:
    snap = _source(kc, "token", options=WITH_SECRETS).load().snapshots[0]
    secret_gets = [(p, accept) for p, accept, _ in api.log if p.startswith("/api/v1/secrets")]
    assert secret_gets and all("as=PartialObjectMetadataList" in a for _, a in secret_gets)
    (secret,) = snap.objects("Secret")
    assert secret.name == "hf-token" and secret.kind == "Secret"
    assert SECRET_VALUE.encode() not in encode_snapshot(snap)


def test_credentials_in_env_are_redacted(kc: Path) -> None:
    snap = _source(kc, "token").load().snapshots[0]
    leaky = snap.get("Pod", "ml", "leaky")
    assert isinstance(leaky, Pod)
    env = {e.name: e for e in leaky.spec.containers[0].env}
    assert env["HF_TOKEN"].value == REDACTED
    assert env["DB_URL"].value == REDACTED
    assert env["MODEL"].value == "llama"
    assert env["API_KEY"].value_from == {"secretKeyRef": {"name": "k", "key": "v"}}
    data = encode_snapshot(snap)
    assert TOKEN_VALUE.encode() not in data and b"pa55word" not in data
    assert REDACTED.encode() in data


# ---------------------------------------------------------------------- what is listed


def test_kinds_in_several_versions_and_groups(kc: Path) -> None:
    snap = _source(kc, "token").load().snapshots[0]
    # MachineAutoscaler is served only by autoscaling.openshift.io/v1beta1, not the preferred v1
    (ma,) = snap.objects("MachineAutoscaler")
    assert ma.api_version == "autoscaling.openshift.io/v1beta1"
    assert [o.name for o in snap.objects("ClusterAutoscaler")] == ["default"]
    (upload,) = snap.objects("DataUpload")
    assert upload.api_version == "velero.io/v2alpha1"
    assert snap.objects("Schedule")
    # two groups define ClusterPolicy: both are kept
    assert sorted(o.group for o in snap.objects("ClusterPolicy")) == ["kyverno.io", "nvidia.com"]
    assert [o.name for o in snap.objects("Ingress")] == ["llm"]
    assert [o.name for o in snap.objects("Gateway")] == ["inference"]


def test_only_the_autoscaler_status_configmap_is_read(kc: Path, api: FakeApiServer) -> None:
    snap = _source(kc, "token").load().snapshots[0]
    gets = [(p, a) for p, a, _ in api.log if p.startswith("/api/v1/configmaps")]
    assert gets and all(
        "fieldSelector=metadata.name%3Dcluster-autoscaler-status" in p
        and "as=PartialObjectMetadataList" in a
        for p, a in gets
    )
    (cm,) = snap.objects("ConfigMap")
    assert (cm.namespace, cm.name) == ("kube-system", "cluster-autoscaler-status")
    data = encode_snapshot(snap)
    assert b"Health: Healthy" not in data and CONFIG_VALUE.encode() not in data


def test_last_applied_copies_are_dropped(kc: Path) -> None:
    snap = _source(kc, "token", options=WITH_SECRETS).load().snapshots[0]
    assert all(LAST_APPLIED not in o.metadata.annotations for o in snap)
    secret = snap.get("Secret", "ml", "hf-token")
    assert secret is not None and secret.metadata.annotations == {}
    data = encode_snapshot(snap)
    assert LAST_APPLIED.encode() not in data
    assert SECRET_VALUE.encode() not in data and TOKEN_VALUE.encode() not in data


def test_refused_connection_is_tried_once_more(kc: Path) -> None:
    transport = Transport(Target("down", str(kc)), retries=5, backoff=1.0)
    started = time.perf_counter()
    with pytest.raises(ConnectionError, match="connection refused"):
        transport.get("/version")
    took = time.perf_counter() - started
    assert 0.5 <= took < 1.5  # one backoff of 0.5-1 s; a second would add at least 1 s
    transport.close()


def test_untrusted_certificate_is_not_retried(kc: Path) -> None:
    transport = Transport(Target("wrong-ca", str(kc)), retries=5, backoff=1.0)
    started = time.perf_counter()
    with pytest.raises(ConnectionError, match="CERTIFICATE_VERIFY_FAILED"):
        transport.get("/version")
    assert time.perf_counter() - started < 0.9  # one backoff would be >= 0.5 s
    transport.close()


def test_big_pages_come_gzipped(kc: Path, api: FakeApiServer, store: Store) -> None:
    big = dataclasses.replace(FAST, page_size=500)
    snap = _source(kc, "token", options=big).load().snapshots[0]
    assert api.gzipped > 0
    assert Counter({k: len(v) for k, v in snap.kinds.items()}) == _expected(store)
    api.gzipped = 0
    plain = dataclasses.replace(big, compress=False)
    assert len(_source(kc, "token", options=plain).load().snapshots[0]) == len(snap)
    assert api.gzipped == 0
