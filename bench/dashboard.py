"""The dashboard under load: a PostgreSQL store holding 100 clusters × 90 daily scans of the
demo fleet, `plumbob serve` over it, and 50 concurrent clients (Debian's wrk, or a bounded
Python client for a fixed number of requests) asking for the fleet page, a cluster page and
/metrics. Prints throughput and p50/p99 latency, the
first (cold) request of each, and the store's query plans.

    python bench/dashboard.py [--clusters 100] [--days 90] [--clients 50] [--seconds 10]
                              [--requests 2000]   # without wrk: the Python client's count
                              [--store postgresql://...]   # default: the test PostgreSQL

Targets (issue 20, on the 2-core machine): fleet page p99 < 250 ms, /metrics p99 < 100 ms.

The scans are made once with the real CLI (`plumbob scan --demo --store`), then copied under
other cluster names and days with PostgreSQL's COPY: 9,000 scans, 432,000 node rows and about
400,000 finding rows load in about a minute instead of the 9,000 scans it would take.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from statistics import quantiles

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.measure import PYTHON, ROOT

DEMO = "demo-ai-platform"


def _demo_scan(tmp: Path) -> dict[str, object]:
    """One demo scan as the CLI stores it: its row, nodes, findings and report."""
    import sqlite3

    path = tmp / "demo.sqlite"
    subprocess.run(
        [PYTHON, "-m", "plumbob", "scan", "--demo", "--store", str(path), "-f", "json",
         "-o", os.devnull, "--quiet"],
        check=True, env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
    )  # fmt: skip
    db = sqlite3.connect(path)
    scan = db.execute(
        "SELECT id, captured_at, digest, plumbob_version, node_count, finding_count, summary, "
        "score, coverage FROM scans"
    ).fetchone()
    return {
        "scan": scan,
        "nodes": db.execute(
            "SELECT node, pool, attributes FROM scan_nodes ORDER BY node"
        ).fetchall(),
        "findings": db.execute(
            "SELECT seq, fingerprint, check_id, severity, finding FROM scan_findings ORDER BY seq"
        ).fetchall(),
        "report": db.execute("SELECT report FROM scan_reports").fetchone()[0],
    }


def _variants(base: dict[str, object], cluster: str) -> list[dict[str, object]]:
    """Three states of one cluster the days cycle through: as scanned, one check's findings
    resolved, one node's driver moved (so histories, diffs and drift have changes)."""
    import msgspec

    from plumbob.report.model import Report
    from plumbob.store.records import rollup

    name = json.dumps(cluster)
    rename = lambda text: text.replace(json.dumps(DEMO), name)  # noqa: E731
    report = msgspec.json.decode(rename(str(base["report"])), type=Report)
    findings = [(s, fp, c, sev, rename(f)) for s, fp, c, sev, f in base["findings"]]  # type: ignore[attr-defined]
    nodes = list(base["nodes"])  # type: ignore[call-overload]
    out = []
    for variant in range(3):
        keep = findings
        rep = report
        ns = nodes
        if variant == 1:
            keep = [f for f in findings if f[2] != "gpu-node-untainted"]
            rep = msgspec.structs.replace(
                report, findings=[f for f in report.findings if f.check != "gpu-node-untainted"]
            )
        if variant == 2:
            i = next(i for i, n in enumerate(nodes) if '"nvidia_driver"' in n[2])
            attrs = json.loads(nodes[i][2])
            attrs["nvidia_driver"] = "999.99.99"
            ns = [*nodes[:i], (nodes[i][0], nodes[i][1], json.dumps(attrs)), *nodes[i + 1 :]]
        summary = json.loads(str(base["scan"][6]))  # type: ignore[index]
        summary["rollup"] = rollup(rep, 2.0)
        out.append(
            {
                "summary": json.dumps(summary),
                "findings": keep,
                "nodes": ns,
                "report": msgspec.json.encode(rep).decode(),
                "score": rep.scores.overall,
                "coverage": rep.scores.coverage,
            }
        )
    return out


def load(url: str, clusters: int, days: int) -> float:
    """Fill a fresh store at `url`; returns the seconds it took."""
    import psycopg

    from plumbob.store import open_store

    started = time.perf_counter()
    open_store(url).close()  # the schema, by the store's own migrations
    with tempfile.TemporaryDirectory() as tmp:
        base = _demo_scan(Path(tmp))
    _, captured, digest, version, node_count, _, _, _, _ = base["scan"]  # type: ignore[misc]
    today = datetime.now(UTC).replace(hour=6, minute=0, second=0, microsecond=0)
    with psycopg.connect(url) as conn, conn.cursor() as cur:
        for c in range(clusters):
            cluster = f"cluster-{c:03d}"
            variants = _variants(base, cluster)
            plan = []
            with cur.copy(
                "COPY scans (cluster, scanned_at, captured_at, digest, plumbob_version, "
                "node_count, finding_count, summary, score, coverage) FROM STDIN"
            ) as copy:
                for d in range(days):
                    v = variants[0 if d % 5 else (1 if d % 10 else 2)]
                    when = (today - timedelta(days=days - 1 - d, minutes=c)).strftime(
                        "%Y-%m-%dT%H:%M:%SZ"
                    )
                    plan.append((when, v))
                    copy.write_row((cluster, when, captured, f"{digest}-{c}-{d}", version,
                                    node_count, len(v["findings"]), v["summary"], v["score"],
                                    v["coverage"]))  # fmt: skip
            cur.execute("SELECT id, scanned_at FROM scans WHERE cluster = %s", (cluster,))
            ids = {when: i for i, when in cur.fetchall()}
            with cur.copy("COPY scan_nodes (scan_id, node, pool, attributes) FROM STDIN") as copy:
                for when, v in plan:
                    for node, pool, attrs in v["nodes"]:  # type: ignore[attr-defined]
                        copy.write_row((ids[when], node, pool, attrs))
            with cur.copy(
                "COPY scan_findings (scan_id, seq, fingerprint, check_id, severity, finding) "
                "FROM STDIN"
            ) as copy:
                for when, v in plan:
                    for row in v["findings"]:  # type: ignore[attr-defined]
                        copy.write_row((ids[when], *row))
            with cur.copy("COPY scan_reports (scan_id, report) FROM STDIN") as copy:
                for when, v in plan:
                    copy.write_row((ids[when], v["report"]))
            conn.commit()
        cur.execute("ANALYZE")
    return time.perf_counter() - started


def plans(url: str) -> list[tuple[str, str]]:
    """EXPLAIN ANALYZE of every query the dashboard's pages make."""
    import psycopg

    from plumbob.store import SqlStore

    with psycopg.connect(url) as conn:
        cluster = "cluster-000"
        (scan_id,) = conn.execute(
            "SELECT MAX(id) FROM scans WHERE cluster = %s", (cluster,)
        ).fetchone()  # type: ignore[misc]
        since = (datetime.now(UTC) - timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
        pg = lambda sql: sql.replace("?", "%s")  # noqa: E731
        newest = [r[0] for r in conn.execute(pg(SqlStore.NEWEST)).fetchall()]
        queries = [
            ("revision", pg(SqlStore.REVISION), ()),
            ("newest scan of each cluster (fleet, /metrics, drift)", pg(SqlStore.NEWEST), ()),
            (
                "those scans with their summaries",
                pg(SqlStore.BY_IDS.format(marks=", ".join("?" for _ in newest))),
                tuple(newest),
            ),
            ("trends, last 30 days (fleet)", pg(SqlStore.SINCE), (since,)),
            ("history (cluster page)", pg(SqlStore.HISTORY), (cluster, 90)),
            (
                "report (cluster page)",
                "SELECT report FROM scan_reports WHERE scan_id = %s",
                (scan_id,),
            ),
            (
                "nodes of the latest scans (fleet drift)",
                "SELECT scan_id, attributes FROM scan_nodes WHERE scan_id IN (%s, %s) "
                "ORDER BY scan_id, node",
                (scan_id, scan_id - 1),
            ),
        ]
        out = []
        for label, sql, params in queries:
            rows = conn.execute("EXPLAIN (ANALYZE, COSTS OFF) " + sql, params).fetchall()
            out.append((label, "\n".join(r[0] for r in rows)))
    return out


async def _hammer(url: str, requests: int, clients: int) -> list[float]:
    import httpx2

    latencies: list[float] = []
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(requests):
        queue.put_nowait(i)
    limits = httpx2.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx2.AsyncClient(limits=limits, timeout=60) as client:

        async def worker() -> None:
            while not queue.empty():
                queue.get_nowait()
                t = time.perf_counter()
                response = await client.get(url)
                await response.aread()
                if response.status_code != 200:
                    raise SystemExit(f"{url}: {response.status_code} {response.text[:200]}")
                latencies.append(time.perf_counter() - t)

        await asyncio.gather(*(worker() for _ in range(clients)))
    return latencies


WRK = shutil.which("wrk")
WRK_SCRIPT = Path(__file__).with_name("dashboard_wrk.lua")


def measure(base: str, path: str, requests: int, clients: int, seconds: float) -> dict[str, float]:
    """The first request (cold: the store read, the page drawn), then the load: wrk for
    `seconds` when Debian's wrk is installed (C, two threads, so the load generator takes
    little of the two cores), else the bounded Python client for `requests` requests."""
    import urllib.request

    t = time.perf_counter()
    with urllib.request.urlopen(base + path, timeout=120) as response:
        size = len(response.read())
    cold = time.perf_counter() - t
    if WRK is not None:
        done = subprocess.run(
            [WRK, "-t2", f"-c{clients}", f"-d{seconds:g}s", "-s", str(WRK_SCRIPT),
             "-H", "Accept-Encoding: gzip", base + path],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        figures = json.loads(done.stdout.strip().splitlines()[-1])
        if figures["errors"] or figures["non2xx"]:
            raise SystemExit(f"{path}: {figures}")
        return {
            "bytes": size,
            "cold_ms": cold * 1000,
            "requests": figures["requests"],
            "rps": figures["requests"] / figures["seconds"],
            "p50_ms": figures["p50_ms"],
            "p99_ms": figures["p99_ms"],
            "max_ms": figures["max_ms"],
        }
    started = time.perf_counter()
    latencies = asyncio.run(_hammer(base + path, requests, clients))
    wall = time.perf_counter() - started
    cuts = quantiles(latencies, n=100)
    return {
        "bytes": size,
        "cold_ms": cold * 1000,
        "requests": len(latencies),
        "rps": len(latencies) / wall,
        "p50_ms": cuts[49] * 1000,
        "p99_ms": cuts[98] * 1000,
        "max_ms": max(latencies) * 1000,
    }


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clusters", type=int, default=100)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=10.0, help="load per page, with wrk")
    parser.add_argument("--store", help="an empty PostgreSQL database (default: a new one on "
                        "the test server, .services/postgres.url)")  # fmt: skip
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT / "src"))
    import psycopg

    created = None
    url = args.store
    if url is None:
        admin = (ROOT / ".services" / "postgres.url").read_text().strip()
        created = f"plumbob_bench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{created}"')
        url = admin.rpartition("/")[0] + "/" + created
    try:
        seconds = load(url, args.clusters, args.days)
        with psycopg.connect(url) as conn:
            counts = conn.execute(
                "SELECT (SELECT COUNT(*) FROM scans), (SELECT COUNT(*) FROM scan_nodes), "
                "(SELECT COUNT(*) FROM scan_findings), "
                "pg_size_pretty(pg_database_size(current_database()))"
            ).fetchone()
        print(f"store: {counts[0]} scans, {counts[1]} node rows, {counts[2]} finding rows, "  # type: ignore[index]
              f"{counts[3]} on disk, loaded in {seconds:.1f} s")  # type: ignore[index]  # fmt: skip
        port = _free_port()
        server = subprocess.Popen(
            [PYTHON, "-m", "plumbob", "serve", "--store", url, "--port", str(port)],
            env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
            stderr=subprocess.PIPE,
            text=True,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(150):
                try:
                    import urllib.request

                    urllib.request.urlopen(base + "/healthz", timeout=2).read()
                    break
                except OSError:
                    time.sleep(0.2)
            tool = (f"wrk, {args.seconds:g} s per page, gzip accepted as browsers and "
                    "Prometheus do" if WRK
                    else f"Python client, {args.requests} requests per page")  # fmt: skip
            print(f"\n{args.clients} concurrent clients ({tool})")
            print(f"{'page':<24}{'bytes':>9}{'cold ms':>9}{'requests':>9}{'req/s':>8}"
                  f"{'p50 ms':>8}{'p99 ms':>8}{'max ms':>8}")  # fmt: skip
            for label, path in (
                ("fleet page /", "/"),
                ("cluster page", f"/clusters/cluster-{args.clusters // 2:03d}"),
                ("/metrics", "/metrics"),
                ("fleet drift /drift", "/drift"),
            ):
                m = measure(base, path, args.requests, args.clients, args.seconds)
                print(f"{label:<24}{m['bytes']:>9.0f}{m['cold_ms']:>9.0f}{m['requests']:>9.0f}"
                      f"{m['rps']:>8.0f}{m['p50_ms']:>8.1f}{m['p99_ms']:>8.1f}"
                      f"{m['max_ms']:>8.0f}")  # fmt: skip
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)
        print()
        for label, plan in plans(url):
            print(f"-- {label}\n{plan}\n")
    finally:
        if created is not None:
            admin = (ROOT / ".services" / "postgres.url").read_text().strip()
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE "{created}" WITH (FORCE)')


if __name__ == "__main__":
    main()
