#!/usr/bin/env bash
# Installs and starts, on loopback, the services the test suite uses. Idempotent: a service
# already running is left as it is. Each records what it started under .services/ (a data
# folder holding its pid files); tests/services/stop.sh stops exactly those, nothing else.
set -euo pipefail
# ---------------------------------------------------------------- PostgreSQL (store tests)
# A throw-away cluster on 127.0.0.1 (free port, trust auth, data under /tmp), run as the
# unprivileged `postgres` user when this script runs as root. Tests read the URL from
# .services/postgres.url and skip, naming this script, when the file is absent.
start_postgres() {
    local root services url_file bin port data run_as
    root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
    services="$root/.services"
    url_file="$services/postgres.url"
    mkdir -p "$services"
    if [[ -f "$url_file" && -f "$services/postgres.dir" ]]; then
        data="$(cat "$services/postgres.dir")"
        if [[ -f "$data/db/postmaster.pid" ]] && kill -0 "$(head -1 "$data/db/postmaster.pid")" 2>/dev/null; then
            echo "postgres: running ($(cat "$url_file"))"
            return 0
        fi
    fi
    rm -f "$url_file"
    bin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)"
    if [[ -z "$bin" || ! -x "$bin/initdb" ]]; then
        if [[ "$(id -u)" != 0 ]]; then
            echo "postgres: not installed and not root; install Debian's postgresql package" >&2
            return 0
        fi
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
        bin="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)"
    fi
    port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
    data="$(mktemp -d /tmp/plumbob-pg.XXXXXX)"
    run_as=()
    if [[ "$(id -u)" == 0 ]]; then
        id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
        chown postgres "$data"
        run_as=(runuser -u postgres --)
    fi
    "${run_as[@]}" "$bin/initdb" -D "$data/db" -U plumbob --auth=trust -E UTF8 >/dev/null
    "${run_as[@]}" "$bin/pg_ctl" -D "$data/db" -l "$data/log" -w \
        -o "-h 127.0.0.1 -p $port -k $data -c fsync=off -c max_connections=50" start >/dev/null
    "${run_as[@]}" "$bin/createdb" -h 127.0.0.1 -p "$port" -U plumbob plumbob_test
    echo "$data" > "$services/postgres.dir"
    echo "postgresql://plumbob@127.0.0.1:$port/plumbob_test" > "$url_file"
    echo "postgres: started ($(cat "$url_file"), data $data)"
}
start_postgres

# ---------------------------------------------------------------- Prometheus (GPU metrics tests)
# Debian's prometheus on 127.0.0.1 (free port, own config and data dir under /tmp), scraping
# every second a local `python3 -m http.server` that serves dcgm-exporter exposition text (the
# real H100 sample from the shared fixtures plus generated series, tests/services/
# dcgm_exposition.py). No systemd. Tests read .services/prometheus.url and skip when absent.
start_prometheus() {
    local root services url_file data port exporter_port real
    root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
    services="$root/.services"
    url_file="$services/prometheus.url"
    mkdir -p "$services"
    if [[ -f "$url_file" && -f "$services/prometheus.dir" ]]; then
        data="$(cat "$services/prometheus.dir")"
        if kill -0 "$(cat "$data/prometheus.pid" 2>/dev/null || echo 0)" 2>/dev/null \
            && kill -0 "$(cat "$data/exporter.pid" 2>/dev/null || echo 0)" 2>/dev/null; then
            echo "prometheus: running ($(cat "$url_file"))"
            return 0
        fi
    fi
    rm -f "$url_file"
    if ! command -v prometheus >/dev/null 2>&1; then
        if [[ "$(id -u)" != 0 ]]; then
            echo "prometheus: not installed and not root; install Debian's prometheus package" >&2
            return 0
        fi
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
            --no-install-recommends prometheus >/dev/null
    fi
    free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
    data="$(mktemp -d /tmp/plumbob-prom.XXXXXX)"
    real="${PLUMBOB_REAL_FIXTURES:-$root/../shared/fixtures/real}/metrics/nvidia-aicr-eks-h100-dcgm-exporter-sample.prom"
    python3 "$root/tests/services/dcgm_exposition.py" "$data/exporter/metrics" "$real"
    exporter_port="$(free_port)"
    nohup python3 -m http.server "$exporter_port" --bind 127.0.0.1 --directory "$data/exporter" \
        >"$data/exporter.log" 2>&1 &
    echo $! > "$data/exporter.pid"
    cat > "$data/prometheus.yml" <<YAML
global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: nvidia-dcgm-exporter
    static_configs:
      - targets: ["127.0.0.1:$exporter_port"]
YAML
    port="$(free_port)"
    nohup prometheus --config.file="$data/prometheus.yml" --storage.tsdb.path="$data/tsdb" \
        --web.listen-address="127.0.0.1:$port" --storage.tsdb.retention.time=1d \
        >"$data/prometheus.log" 2>&1 &
    echo $! > "$data/prometheus.pid"
    echo "$data" > "$services/prometheus.dir"
    # ready when the first scrape of the exporter is stored
    for _ in $(seq 1 60); do
        if python3 - "$port" <<'PY' 2>/dev/null; then
import json, sys, urllib.request
url = f"http://127.0.0.1:{sys.argv[1]}/api/v1/query?query=DCGM_FI_DEV_GPU_UTIL"
sys.exit(0 if json.load(urllib.request.urlopen(url, timeout=2))["data"]["result"] else 1)
PY
            echo "http://127.0.0.1:$port" > "$url_file"
            echo "prometheus: started ($(cat "$url_file"), data $data)"
            return 0
        fi
        sleep 0.5
    done
    echo "prometheus: did not become ready; see $data/prometheus.log" >&2
}
start_prometheus

# ---------------------------------------------------------------- Kubernetes API server
# kube-apiserver and etcd built from source with Go (tests/services/kube.sh), started on
# 127.0.0.1 with their own CA, RBAC and an audit log. Tests read .services/kube/ and skip,
# naming the missing tool, when it could not be built (fail under CI).
bash "$(dirname "${BASH_SOURCE[0]}")/kube.sh" start

# ---------------------------------------------------------------- Kyverno CRDs (policy tests)
# The CRDs of the Kyverno Go module, fetched through the Go module proxy (tests/services/kyverno.sh).
bash "$(dirname "${BASH_SOURCE[0]}")/kyverno.sh" start

# ---------------------------------------------------------------- Chromium (HTML report tests)
# Debian's chromium, driven headless by Playwright's Python package (never `playwright install`,
# which downloads a browser of its own). Tests find /usr/bin/chromium and skip without it,
# except under CI, where they fail.
install_chromium() {
    if command -v chromium >/dev/null 2>&1; then
        echo "chromium: installed ($(command -v chromium))"
        return 0
    fi
    if [[ "$(id -u)" != 0 ]]; then
        echo "chromium: not installed and not root; install Debian's chromium package" >&2
        return 0
    fi
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
    echo "chromium: installed ($(command -v chromium))"
}
install_chromium

exit 0
