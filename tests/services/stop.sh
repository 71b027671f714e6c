#!/usr/bin/env bash
# Stops every service tests/services/start.sh started (the PostgreSQL cluster, Prometheus and
# its exporter, etcd and kube-apiserver), found by what start.sh recorded under .services/,
# and removes their data folders. A service start.sh did not start is not touched.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
SERVICES="$ROOT/.services"

stop_pid() {  # stop_pid PIDFILE: TERM, then KILL after 10 s
    [[ -f "$1" ]] && kill_pid "$(head -1 "$1")"
    return 0
}

kill_pid() {
    local pid="$1"
    kill -0 "$pid" 2>/dev/null || return 0
    kill "$pid"
    for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.25; done
    kill -9 "$pid" 2>/dev/null || true
}

if [[ -f "$SERVICES/postgres.dir" ]]; then
    data="$(cat "$SERVICES/postgres.dir")"
    bin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)"
    if [[ -f "$data/db/postmaster.pid" ]]; then
        run_as=()
        [[ "$(id -u)" == 0 ]] && run_as=(runuser -u postgres --)
        "${run_as[@]}" "$bin/pg_ctl" -D "$data/db" -m fast -w stop >/dev/null 2>&1 \
            || stop_pid "$data/db/postmaster.pid"
    fi
    rm -rf "$data" "$SERVICES/postgres.dir" "$SERVICES/postgres.url"
    echo "postgres: stopped"
fi

if [[ -f "$SERVICES/prometheus.dir" ]]; then
    data="$(cat "$SERVICES/prometheus.dir")"
    stop_pid "$data/prometheus.pid"
    stop_pid "$data/exporter.pid"
    rm -rf "$data" "$SERVICES/prometheus.dir" "$SERVICES/prometheus.url"
    echo "prometheus: stopped"
fi

bash "$ROOT/tests/services/kube.sh" stop
bash "$ROOT/tests/services/kyverno.sh" stop
