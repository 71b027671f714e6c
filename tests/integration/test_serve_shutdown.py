"""Graceful shutdown, shown with a request held in flight by a real PostgreSQL lock: SIGTERM
reaches `plumbob serve` while a page waits for the store; the page still arrives whole, then the
process ends."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
import uuid

import psycopg

from plumbob.store import open_store
from tests.conftest import ROOT, service_url
from tests.integration.test_dashboard_chromium import _free_port, _wait
from tests.unit.server.fleet import fill


def test_sigterm_lets_a_request_in_flight_finish() -> None:
    admin = service_url("postgres")
    name = f"plumbob_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = admin.rpartition("/")[0] + "/" + name
    process = None
    try:
        writer = open_store(url)
        fill(writer, clusters=("prod-east",), days=2)
        writer.close()
        port = _free_port()
        process = subprocess.Popen(
            [sys.executable, "-m", "plumbob", "serve", "--store", url, "--port", str(port),
             "--refresh", "0"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
        )  # fmt: skip
        base = f"http://127.0.0.1:{port}"
        _wait(base + "/healthz", process)
        answers: list[tuple[int, bytes]] = []
        with psycopg.connect(url) as locker:
            locker.execute("LOCK TABLE scans IN ACCESS EXCLUSIVE MODE")  # held until commit

            def ask() -> None:
                with urllib.request.urlopen(base + "/clusters/prod-east", timeout=60) as r:
                    answers.append((r.status, r.read()))

            asking = threading.Thread(target=ask)
            asking.start()
            with psycopg.connect(admin, autocommit=True) as watch:
                for _ in range(200):  # until the page's query waits on the lock
                    waiting = watch.execute(
                        "SELECT count(*) FROM pg_stat_activity WHERE datname = %s "
                        "AND wait_event_type = 'Lock'",
                        (name,),
                    ).fetchone()
                    if waiting and waiting[0]:
                        break
                    time.sleep(0.05)
                else:
                    raise AssertionError("the request never reached the store")
            process.send_signal(signal.SIGTERM)
            time.sleep(0.5)
            assert process.poll() is None  # still serving the request in flight
            locker.commit()
        asking.join(timeout=30)
        assert answers and answers[0][0] == 200
        assert b"</html>" in answers[0][1] and b'id="trends"' in answers[0][1]
        code = process.wait(timeout=30)
        assert code in (0, -signal.SIGTERM), process.communicate()[1]
    finally:
        if process is not None and process.poll() is None:
            process.kill()
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
