"""The dashboard (`plumbob serve`'s application) over a real SQLite file and a real PostgreSQL
server holding a small fleet (tests/unit/server/fleet.py): pages, JSON API, OpenAPI, /metrics
parsed by the Prometheus client's own parser, hostile names, the bearer token, a store that
goes down and comes back, a read-only database role."""

from __future__ import annotations

import re
import urllib.parse
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from prometheus_client.parser import text_string_to_metric_families
from starlette.testclient import TestClient

from plumbob.server import Settings, create_app
from plumbob.store import ScanRecord, open_store
from tests.conftest import service_url
from tests.unit.server.fleet import (
    DRIFTED_NODE_DRIVER,
    FLEET,
    HOSTILE,
    RESOLVED_CHECK,
    demo_record,
    fill,
)

ALLOWED_LABELS = {"cluster", "category", "check", "severity", "pool", "attribute"}


@dataclass(frozen=True)
class Fleet:
    url: str
    ids: dict[str, list[int]]


def _new_database() -> tuple[str, str]:
    admin = service_url("postgres")
    name = f"plumbob_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base, _, _ = admin.rpartition("/")
    return f"{base}/{name}", name


def _drop_database(name: str) -> None:
    with psycopg.connect(service_url("postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def fleet(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Fleet]:
    if request.param == "sqlite":
        url = str(tmp_path_factory.mktemp("store") / "history.sqlite")
        name = None
    else:
        url, name = _new_database()
    writer = open_store(url)
    ids = fill(writer)
    writer.close()
    yield Fleet(url, ids)
    if name is not None:
        _drop_database(name)


def _client(url: str, token: str | None = None, refresh: float = 0.0) -> TestClient:
    app = create_app(lambda: open_store(url, readonly=True), Settings(where="test", token=token),
                     refresh=refresh)  # fmt: skip
    return TestClient(app)


@pytest.fixture(scope="module")
def client(fleet: Fleet) -> TestClient:
    return _client(fleet.url)


def _q(name: str) -> str:
    return urllib.parse.quote(name, safe="")


def test_fleet_page_lists_every_cluster(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200
    assert page.headers["content-security-policy"].startswith("default-src 'none'")
    rows = re.findall(r'<tr class="cluster( stale)?" data-cluster="([^"]*)"', page.text)
    assert len(rows) == len(FLEET)
    stale = {name for flag, name in rows if flag}
    escaped = "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;\\x1b[31m&amp;amp;&#34;&#39;red"
    assert stale == {escaped}
    assert "4 clusters, " in page.text and "1 stale" in page.text
    assert "$66,325" in page.text  # the demo's idle GPU cost per month
    assert page.text.count('class="chart spark"') == len(FLEET)


def test_fleet_sorts_and_filters_on_the_server(client: TestClient) -> None:
    by_name = client.get("/?sort=cluster&order=desc").text
    order = re.findall(r'data-cluster="([^"]*)"', by_name)
    assert order[:3] == ["prod-west", "prod-east", "outlier"]
    filtered = client.get("/?q=prod").text
    assert re.findall(r'data-cluster="([^"]*)"', filtered) == ["prod-east", "prod-west"]
    assert "2 of 4 clusters shown" in filtered
    stale_only = client.get("/?stale=1").text
    assert len(re.findall(r'data-cluster="', stale_only)) == 1


def test_api_clusters_matches_the_store(client: TestClient, fleet: Fleet) -> None:
    body = client.get("/api/v1/clusters").json()
    by_name = {c["cluster"]: c for c in body["clusters"]}
    assert set(by_name) == set(FLEET)
    east = by_name["prod-east"]
    record = demo_record()
    assert east["scanId"] == fleet.ids["prod-east"][-1]
    assert east["nodes"] == len(record.nodes)
    assert east["findings"] == len(record.findings) - sum(
        1 for f in record.findings if f.check == RESOLVED_CHECK
    )
    assert east["idleGpus"] == 12.0 and east["gpus"] == 152.0
    assert east["trend"] == [69, 69, 69, 69]
    assert by_name[HOSTILE]["stale"] is True and east["stale"] is False


def test_cluster_page_shows_the_report_and_its_history(client: TestClient, fleet: Fleet) -> None:
    page = client.get("/clusters/prod-east")
    assert page.status_code == 200
    text = page.text
    for section in ('id="overview"', 'id="drift"', 'id="gpus"', 'id="trends"', 'id="findings"'):
        assert section in text
    assert text.count('class="chart history"') >= 5  # four trend charts and the report's own
    for title in ("Score and coverage", "Findings by severity", "Drifted nodes", "Idle GPU cost"):
        assert title in text
    assert 'table class="matrix"' in text  # drift matrix across pools
    ids = fleet.ids["prod-east"]
    assert f'href="/diff?before={ids[-2]}&amp;after={ids[-1]}"' in text
    assert "<noscript>" in text and "gpu-request-without-limit" in text  # readable without JS
    api = client.get("/api/v1/clusters/prod-east").json()
    assert [h["scanId"] for h in api["history"]] == ids
    report = client.get("/api/v1/reports/prod-east").json()
    assert report["kind"] == "Report" and report["clusters"][0]["cluster"] == "prod-east"


def test_diff_shows_the_known_change(client: TestClient, fleet: Fleet) -> None:
    before, after = fleet.ids["prod-west"][-2:]
    page = client.get(f"/diff?before={before}&after={after}")
    assert page.status_code == 200
    resolved = page.text.split('id="diff-resolved"')[1]
    assert RESOLVED_CHECK in resolved
    assert DRIFTED_NODE_DRIVER in page.text.split('id="diff-changes"')[1]
    body = client.get(f"/api/v1/diff?before={before}&after={after}").json()
    assert body["kind"] == "Diff"
    assert {f["check"] for f in body["findingsResolved"]} == {RESOLVED_CHECK}
    assert body.get("findingsAppeared", []) == []  # empty lists are left out, as in the CLI
    assert [(c["attribute"], c["after"]) for c in body["changes"]] == [
        ("nvidia_driver", DRIFTED_NODE_DRIVER)
    ]
    same = client.get(f"/diff?before={after}&after={after}").text
    assert 'id="no-changes"' in same


def test_fleet_drift_names_the_outlier(client: TestClient) -> None:
    body = client.get("/api/v1/drift").json()
    drivers = [r for r in body["rows"] if r["attribute"] == "nvidia_driver"]
    assert drivers
    assert all(r["outliers"] == ["outlier"] for r in drivers if r["group"].startswith("gpu:"))
    page = client.get("/drift").text
    assert 'href="/clusters/outlier"' in page and DRIFTED_NODE_DRIVER in page


def test_hostile_names_are_escaped_everywhere(client: TestClient) -> None:
    pages = [
        client.get("/").text,
        client.get("/drift").text,
        client.get(f"/clusters/{_q(HOSTILE)}").text,
    ]
    for text in pages:
        assert '<script>alert("x")' not in text
        assert "\x1b" not in text
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;\\x1b[31m" in pages[0]
    # the cluster page's data block cannot close its script element either
    assert "</script>\\x1b" not in pages[2] and "\\u003c/script>" in pages[2]
    body = client.get(f"/api/v1/clusters/{_q(HOSTILE)}").json()
    assert body["cluster"] == HOSTILE
    families = list(text_string_to_metric_families(client.get("/metrics").text))
    clusters = {s.labels.get("cluster") for f in families for s in f.samples}
    assert HOSTILE in clusters  # the client library escaped it and its parser read it back


def test_metrics_parse_and_stay_bounded(client: TestClient) -> None:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    assert response.headers["content-encoding"] == "gzip"  # the client asked for it
    plain = client.get("/metrics", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers and plain.text == response.text
    families = {f.name: f for f in text_string_to_metric_families(response.text)}
    expected = {
        "plumbob_store_up",
        "plumbob_cluster_score",
        "plumbob_cluster_coverage_ratio",
        "plumbob_category_score",
        "plumbob_findings",
        "plumbob_drifted_nodes",
        "plumbob_cluster_drifted_nodes",
        "plumbob_gpus_allocatable",
        "plumbob_gpus_allocated",
        "plumbob_gpus_idle",
        "plumbob_gpu_idle_cost_per_month",
        "plumbob_last_scan_timestamp_seconds",
        "plumbob_scan_duration_seconds",
    }
    assert expected <= set(families)
    for family in families.values():
        assert family.type == "gauge" and family.documentation
        for sample in family.samples:
            assert set(sample.labels) <= ALLOWED_LABELS, sample
    value = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for f in families.values()
        for s in f.samples
    }
    assert value[("plumbob_store_up", ())] == 1.0
    assert value[("plumbob_cluster_score", (("cluster", "prod-east"),))] == 69.0
    assert value[("plumbob_cluster_coverage_ratio", (("cluster", "prod-east"),))] == 0.97
    idle = sum(s.value for s in families["plumbob_gpus_idle"].samples
               if s.labels["cluster"] == "prod-east")  # fmt: skip
    assert idle == 12.0
    assert value[("plumbob_scan_duration_seconds", (("cluster", "prod-east"),))] == 2.5
    untainted = [s for s in families["plumbob_findings"].samples
                 if s.labels["check"] == RESOLVED_CHECK]  # fmt: skip
    assert untainted == []  # resolved in every cluster's latest scan
    # one series per cluster and label set, never per node or finding
    findings = families["plumbob_findings"].samples
    assert len(findings) == len({tuple(sorted(s.labels.items())) for s in findings})
    assert len(findings) < 60 * len(FLEET)


def test_openapi_describes_the_api_and_its_answers_match(client: TestClient, fleet: Fleet) -> None:
    """Every API answer validates against the schema the OpenAPI document gives it."""
    from jsonschema import Draft202012Validator

    doc = client.get("/openapi.json").json()
    assert doc["openapi"] == "3.1.0"
    paths = doc["paths"]
    assert set(paths) == {
        "/api/v1/clusters",
        "/api/v1/clusters/{name}",
        "/api/v1/reports/{name}",
        "/api/v1/drift",
        "/api/v1/diff",
    }
    before, after = fleet.ids["prod-east"][-2:]
    asked = [
        ("/api/v1/clusters", "/api/v1/clusters", 200),
        ("/api/v1/clusters/{name}", "/api/v1/clusters/prod-east", 200),
        ("/api/v1/clusters/{name}", "/api/v1/clusters/nope", 404),
        ("/api/v1/reports/{name}", "/api/v1/reports/prod-east", 200),
        ("/api/v1/drift", "/api/v1/drift", 200),
        ("/api/v1/diff", f"/api/v1/diff?before={before}&after={after}", 200),
        ("/api/v1/diff", "/api/v1/diff?before=x&after=1", 400),
    ]
    for template, url, status in asked:
        response = client.get(url)
        assert response.status_code == status, url
        content = paths[template]["get"]["responses"][str(status)]["content"]
        schema = {**content["application/json"]["schema"], "components": doc["components"]}
        errors = list(Draft202012Validator(schema).iter_errors(response.json()))
        assert errors == [], (url, errors[:3])


def test_unknown_and_bad_requests_get_one_clear_line(client: TestClient) -> None:
    missing = client.get("/clusters/nope")
    assert missing.status_code == 404 and "no stored scan of cluster &#39;nope&#39;" in missing.text
    assert client.get("/api/v1/clusters/nope").json() == {
        "error": "no stored scan of cluster 'nope'"
    }
    bad = client.get("/api/v1/diff?before=x&after=2")
    assert bad.status_code == 400 and "before='x'" in bad.json()["error"]
    assert client.get("/api/v1/diff?before=1&after=999999").status_code == 404


def test_bearer_token_guards_everything_but_healthz(fleet: Fleet) -> None:
    guarded = _client(fleet.url, token="s3cret-token")
    for path in ("/", "/api/v1/clusters", "/metrics", "/openapi.json", "/clusters/prod-east"):
        denied = guarded.get(path)
        assert denied.status_code == 401, path
        assert "s3cret" not in denied.text
        assert guarded.get(path, headers={"Authorization": "Bearer wrong"}).status_code == 401
        ok = guarded.get(path, headers={"Authorization": "Bearer s3cret-token"})
        assert ok.status_code == 200, path
    assert guarded.get("/healthz").status_code == 200


def test_scans_stored_before_the_dashboard_show_what_they_have(tmp_path: Path) -> None:
    old = open_store(str(tmp_path / "old.sqlite"))
    base = demo_record()
    summary = {k: v for k, v in base.summary.items() if k != "rollup"}
    for when in ("2026-11-01T00:00:00Z", "2026-11-02T00:00:00Z"):
        old.save(ScanRecord(cluster="legacy", scanned_at=when, digest="d", plumbob_version="0",
                            nodes=base.nodes, findings=base.findings, summary=summary))  # fmt: skip
    old.close()
    client = _client(str(tmp_path / "old.sqlite"))
    row = client.get("/api/v1/clusters").json()["clusters"][0]
    assert row["driftedNodes"] is None and row["idleGpus"] is None and row["score"] is None
    page = client.get("/clusters/legacy")
    assert page.status_code == 200 and "stored without its report" in page.text
    assert client.get("/api/v1/reports/legacy").status_code == 404
    assert client.get("/metrics").status_code == 200


def test_server_refuses_a_store_it_would_have_to_migrate(tmp_path: Path) -> None:
    from plumbob.store import StoreError

    with pytest.raises(StoreError, match="no scan history here yet"):
        open_store(str(tmp_path / "none.sqlite"), readonly=True)


# ---------------------------------------------------------------- PostgreSQL only


@pytest.fixture
def own_database() -> Iterator[tuple[str, str]]:
    url, name = _new_database()
    writer = open_store(url)
    fill(writer, clusters=("prod-east", "outlier"), days=2)
    writer.close()
    yield url, name
    with psycopg.connect(service_url("postgres"), autocommit=True) as conn:
        conn.execute(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS true')
    _drop_database(name)


def test_store_down_gives_an_error_page_and_recovers(own_database: tuple[str, str]) -> None:
    url, name = own_database
    client = _client(url)
    assert client.get("/healthz").status_code == 200
    assert client.get("/").status_code == 200
    with psycopg.connect(service_url("postgres"), autocommit=True) as admin:
        admin.execute(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS false')
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,)
        )
    health = client.get("/healthz")
    assert health.status_code == 503 and health.text.startswith("store unavailable: ")
    page = client.get("/")
    assert page.status_code == 503
    assert "The scan store cannot be read" in page.text and "Traceback" not in page.text
    assert client.get("/api/v1/clusters").status_code == 503
    metrics = {f.name: f for f in text_string_to_metric_families(client.get("/metrics").text)}
    assert metrics["plumbob_store_up"].samples[0].value == 0.0
    with psycopg.connect(service_url("postgres"), autocommit=True) as admin:
        admin.execute(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS true')
    assert client.get("/healthz").status_code == 200
    back = client.get("/")
    assert back.status_code == 200 and 'data-cluster="prod-east"' in back.text


def test_read_only_role_serves_and_cannot_write(own_database: tuple[str, str]) -> None:
    url, name = own_database
    role = f"dash_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(url, autocommit=True) as conn:  # as in docs/dashboard.md
        conn.execute(f'CREATE ROLE "{role}" LOGIN')
        conn.execute(f'GRANT CONNECT ON DATABASE "{name}" TO "{role}"')
        conn.execute(f'GRANT USAGE ON SCHEMA public TO "{role}"')
        conn.execute(f'GRANT SELECT ON ALL TABLES IN SCHEMA public TO "{role}"')
    try:
        reader_url = re.sub(r"//[^@]+@", f"//{role}@", url)
        client = _client(reader_url)
        for path in ("/", "/clusters/prod-east", "/drift", "/metrics", "/api/v1/clusters"):
            assert client.get(path).status_code == 200, path
        reader = open_store(url, readonly=True)  # even the owner's connection refuses writes
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            reader._conn.execute("DELETE FROM scans")
        reader.close()
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f'REVOKE ALL ON ALL TABLES IN SCHEMA public FROM "{role}"')
            conn.execute(f'REVOKE ALL ON SCHEMA public FROM "{role}"')
            conn.execute(f'REVOKE ALL ON DATABASE "{name}" FROM "{role}"')
        with psycopg.connect(service_url("postgres"), autocommit=True) as conn:
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s",
                (role,),
            )
            conn.execute(f'DROP ROLE "{role}"')


def test_documented_alert_rules_load_and_fire_on_served_metrics(
    client: TestClient, tmp_path: Path
) -> None:
    """deploy/prometheus/plumbob-alerts.yaml names only metrics /metrics serves, loads in
    Prometheus' promtool, and fires on what the fleet's /metrics says (idle GPU cost) and on a
    stale scan."""
    import shutil
    import subprocess

    import yaml

    from tests.conftest import ROOT

    rules = ROOT / "deploy" / "prometheus" / "plumbob-alerts.yaml"
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("no promtool (tests/services/start.sh installs Debian's prometheus)")
    families = {f.name: f for f in text_string_to_metric_families(client.get("/metrics").text)}
    exprs = [r["expr"] for g in yaml.safe_load(rules.read_text())["groups"] for r in g["rules"]]
    assert set(re.findall(r"plumbob_\w+", " ".join(exprs))) <= set(families)

    def series(name: str, labels: dict[str, str], values: str) -> dict[str, str]:
        text = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
        return {"series": f"{name}{{{text}}}", "values": values}

    cost = [
        series(s.name, s.labels, f"{s.value}x180")
        for s in families["plumbob_gpu_idle_cost_per_month"].samples
        if s.labels["cluster"] == "prod-east"
    ]
    test = {
        "rule_files": [str(rules)],
        "evaluation_interval": "1m",
        "tests": [
            {
                "interval": "1m",
                "input_series": [
                    *cost,
                    series("plumbob_last_scan_timestamp_seconds", {"cluster": "old"}, "0x1700"),
                    series("plumbob_store_up", {}, "1x180"),
                ],
                "alert_rule_test": [
                    {
                        "eval_time": "2h",
                        "alertname": "PlumbobIdleGpuCostHigh",
                        "exp_alerts": [
                            {
                                "exp_labels": {"severity": "warning", "cluster": "prod-east"},
                                "exp_annotations": {
                                    "summary": "Idle GPUs in prod-east cost 66.32k a month",
                                    "description": "See the cluster's GPU section on the "
                                    "plumbob dashboard for the pools.",
                                },
                            }
                        ],
                    },
                    {"eval_time": "2h", "alertname": "PlumbobScanStale", "exp_alerts": []},
                    {
                        "eval_time": "27h",
                        "alertname": "PlumbobScanStale",
                        "exp_alerts": [
                            {
                                "exp_labels": {"severity": "warning", "cluster": "old"},
                                "exp_annotations": {
                                    "summary": "No plumbob scan of old for 1d 3h 0m 0s",
                                    "description": "Check the plumbob CronJob in old: its last "
                                    "scan is stale.",
                                },
                            }
                        ],
                    },
                    {"eval_time": "2h", "alertname": "PlumbobStoreDown", "exp_alerts": []},
                ],
            }
        ],
    }
    path = tmp_path / "test.yaml"
    path.write_text(yaml.safe_dump(test), encoding="utf-8")
    done = subprocess.run([promtool, "test", "rules", str(path)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
