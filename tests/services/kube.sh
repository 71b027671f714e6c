#!/usr/bin/env bash
# A real Kubernetes API server for the tests: `kube.sh start` builds (once, cached) and starts
# etcd, kube-apiserver and kube-controller-manager on 127.0.0.1; `kube.sh stop` stops what
# `start` started.
#
# Binaries are built with Go from the modules pinned in tests/services/etcd/ and
# tests/services/kube-apiserver/ and cached outside the work tree, in
# ${PLUMBOB_SERVICES_CACHE:-$HOME/.cache/plumbob-services}/<name>-<version>-<hash>/, the hash
# covering the module files and the Go version: a second start takes seconds.
#
# What start writes under .services/kube/:
#   admin.kubeconfig     cluster-admin (client certificate in group system:masters)
#   plumbob.kubeconfig   the ServiceAccount plumbob/plumbob, bound to deploy/rbac.yaml's role
#   ca.crt, server.url   the CA that signed the serving certificate, https://127.0.0.1:PORT
#   audit.log            the audit log (Secrets at RequestResponse: what a list returned)
#   dir                  the data folder (etcd data, pid files, logs, keys)
#   unavailable          instead of all the above: why no server could be started
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
HERE="$ROOT/tests/services"
KUBE="${PLUMBOB_KUBE_DIR:-$ROOT/.services/kube}"  # the benchmark runs one of its own
CACHE="${PLUMBOB_SERVICES_CACHE:-$HOME/.cache/plumbob-services}"
PY="${PLUMBOB_PYTHON:-$ROOT/.venv/bin/python}"
[[ -x "$PY" ]] || PY=python3

ETCD_VERSION=v3.6.16
KUBE_VERSION=v1.37.2

# The server stands in for a cluster's stored state: no scheduler, no nodes, no webhook backends,
# and one controller, kube-controller-manager's ValidatingAdmissionPolicy status controller: it
# type-checks each policy against the schemas of the kinds it matches and writes what it found
# to the policy's status, as a cluster's does (tests/integration/test_policy_apiserver.py). Admission plugins that rewrite or refuse an object on the grounds of
# other objects or of controllers that do not run here are off, so an object is stored as the
# fixture wrote it (as a cluster's objects already are after their admission). Kept:
# NamespaceLifecycle, NodeRestriction, ValidatingAdmissionPolicy and the built-in validation,
# and LimitRanger: it changes only Pods in a namespace that holds a LimitRange, which no fleet
# the tests load has, and the policy tests show a Pod given a LimitRange's default memory
# before the policies judge it (tests/integration/test_policy_apiserver.py).
DISABLED_ADMISSION=(
    ServiceAccount DefaultStorageClass DefaultTolerationSeconds Priority
    ResourceQuota RuntimeClass PodSecurity TaintNodesByCondition MutatingAdmissionWebhook
    ValidatingAdmissionWebhook DefaultIngressClass StorageObjectInUseProtection
    PersistentVolumeClaimResize MutatingAdmissionPolicy PodTopologyLabels PodGroupProtection
    NodeDeclaredFeatureValidator
)
# what /version answers (a build outside the Kubernetes release tooling gets v0.0.0 otherwise)
KUBE_LDFLAGS="-X k8s.io/component-base/version.gitVersion=$KUBE_VERSION \
-X k8s.io/component-base/version.gitMajor=$(echo "${KUBE_VERSION#v}" | cut -d. -f1) \
-X k8s.io/component-base/version.gitMinor=$(echo "$KUBE_VERSION" | cut -d. -f2) \
-X k8s.io/component-base/version.gitTreeState=clean"

say() { echo "kube: $*"; }

unavailable() {
    mkdir -p "$KUBE"
    echo "$*" > "$KUBE/unavailable"
    say "not started: $*" >&2
}

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

alive() { [[ -f "$1" ]] && kill -0 "$(cat "$1")" 2>/dev/null; }

# build NAME MODULE_DIR PACKAGE VERSION [LDFLAGS]: prints the cached binary's path, building
# it first
build() {
    local name="$1" dir="$2" pkg="$3" version="$4" ldflags="${5:-}" key out tmp started
    key="$(cat "$dir/go.mod" "$dir/go.sum" <(go env GOVERSION) <(echo "$ldflags") \
        | sha256sum | cut -c1-12)"
    out="$CACHE/$name-$version-$key/$name"
    if [[ -x "$out" ]]; then
        echo "$out"
        return 0
    fi
    mkdir -p "$(dirname "$out")"
    tmp="$(mktemp "$out.XXXXXX")"
    started=$(date +%s)
    say "building $name $version (first time only; several minutes on 2 cores)" >&2
    if ! (cd "$dir" && go build -trimpath -buildvcs=false -ldflags="-s -w $ldflags" -o "$tmp" "$pkg") \
        >"$CACHE/$name-$version-$key.log" 2>&1; then
        rm -f "$tmp"
        say "build of $name failed; see $CACHE/$name-$version-$key.log" >&2
        tail -5 "$CACHE/$name-$version-$key.log" >&2
        return 1
    fi
    mv "$tmp" "$out"
    say "built $name in $(( $(date +%s) - started )) s: $out" >&2
    echo "$out"
}

pki() {
    local d="$1"
    openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=plumbob-test-ca" \
        -keyout "$d/ca.key" -out "$d/ca.crt" 2>/dev/null
    issue "$d" server "/CN=kube-apiserver" \
        "subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc
extendedKeyUsage=serverAuth"
    issue "$d" admin "/O=system:masters/CN=plumbob-test-admin" "extendedKeyUsage=clientAuth"
    openssl genrsa -out "$d/sa.key" 2048 2>/dev/null
    openssl rsa -in "$d/sa.key" -pubout -out "$d/sa.pub" 2>/dev/null
}

# issue DIR NAME SUBJECT EXTENSIONS: a key and a certificate signed by DIR/ca
issue() {
    local d="$1" name="$2" subject="$3" ext="$4"
    openssl req -newkey rsa:2048 -nodes -subj "$subject" -keyout "$d/$name.key" \
        -out "$d/$name.csr" 2>/dev/null
    printf '%s\n' "$ext" > "$d/$name.ext"
    openssl x509 -req -in "$d/$name.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" -CAcreateserial \
        -days 30 -extfile "$d/$name.ext" -out "$d/$name.crt" 2>/dev/null
}

audit_policy() {
    cat > "$1" <<'YAML'
apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: ["RequestReceived"]
rules:
  # what a Secret request returned, so tests can prove no Secret data was ever sent
  - level: RequestResponse
    resources: [{group: "", resources: ["secrets"]}]
  - level: Metadata
YAML
}

start() {
    mkdir -p "$KUBE"
    if [[ -f "$KUBE/dir" ]]; then
        local old
        old="$(cat "$KUBE/dir")"
        if alive "$old/etcd.pid" && alive "$old/kube-apiserver.pid" \
            && alive "$old/kube-controller-manager.pid" && [[ -f "$KUBE/plumbob.kubeconfig" ]]; then
            say "running ($(cat "$KUBE/server.url"))"
            return 0
        fi
        stop  # a half-dead server from an earlier run: stop what is left of it
    fi
    mkdir -p "$KUBE"  # stop removes it
    rm -rf "${KUBE:?}"/*
    if ! command -v go >/dev/null 2>&1; then
        unavailable "go not installed: the API server is built from source with Go (install Go 1.26+)"
        return 0
    fi
    if ! command -v openssl >/dev/null 2>&1; then
        unavailable "openssl not installed: it makes the server's certificates"
        return 0
    fi
    local started etcd apiserver controllers data etcd_port peer_port port url
    started=$(date +%s.%N)
    etcd="$(build etcd "$HERE/etcd" go.etcd.io/etcd/server/v3 "$ETCD_VERSION")" \
        || { unavailable "etcd $ETCD_VERSION did not build (see $CACHE)"; return 0; }
    apiserver="$(build kube-apiserver "$HERE/kube-apiserver" \
        k8s.io/kubernetes/cmd/kube-apiserver "$KUBE_VERSION" "$KUBE_LDFLAGS")" \
        || { unavailable "kube-apiserver $KUBE_VERSION did not build (see $CACHE)"; return 0; }
    controllers="$(build kube-controller-manager "$HERE/kube-apiserver" \
        k8s.io/kubernetes/cmd/kube-controller-manager "$KUBE_VERSION" "$KUBE_LDFLAGS")" \
        || { unavailable "kube-controller-manager $KUBE_VERSION did not build (see $CACHE)"; \
            return 0; }
    data="$(mktemp -d /tmp/plumbob-kube.XXXXXX)"
    echo "$data" > "$KUBE/dir"
    pki "$data"
    audit_policy "$data/audit-policy.yaml"

    etcd_port="$(free_port)"
    peer_port="$(free_port)"
    nohup "$etcd" --name plumbob-test --data-dir "$data/etcd" \
        --listen-client-urls "http://127.0.0.1:$etcd_port" \
        --advertise-client-urls "http://127.0.0.1:$etcd_port" \
        --listen-peer-urls "http://127.0.0.1:$peer_port" \
        --initial-advertise-peer-urls "http://127.0.0.1:$peer_port" \
        --initial-cluster "plumbob-test=http://127.0.0.1:$peer_port" \
        --unsafe-no-fsync --quota-backend-bytes=4294967296 --log-level=warn \
        >"$data/etcd.log" 2>&1 &
    echo $! > "$data/etcd.pid"

    port="$(free_port)"
    url="https://127.0.0.1:$port"
    nohup "$apiserver" \
        --etcd-servers="http://127.0.0.1:$etcd_port" \
        --bind-address=127.0.0.1 --advertise-address=127.0.0.1 --secure-port="$port" \
        --tls-cert-file="$data/server.crt" --tls-private-key-file="$data/server.key" \
        --client-ca-file="$data/ca.crt" \
        --service-account-issuer=https://kubernetes.default.svc \
        --service-account-key-file="$data/sa.pub" \
        --service-account-signing-key-file="$data/sa.key" \
        --authorization-mode=RBAC \
        --audit-log-path="$data/audit.log" --audit-policy-file="$data/audit-policy.yaml" \
        --audit-log-maxsize=0 \
        --service-cluster-ip-range=10.96.0.0/12 --endpoint-reconciler-type=none \
        --allow-privileged=true \
        --disable-admission-plugins="$(IFS=,; echo "${DISABLED_ADMISSION[*]}")" \
        --profiling=false \
        >"$data/kube-apiserver.log" 2>&1 &
    echo $! > "$data/kube-apiserver.pid"

    local ready=""
    for _ in $(seq 1 240); do
        if curl -sf --cacert "$data/ca.crt" --cert "$data/admin.crt" --key "$data/admin.key" \
            "$url/readyz" >/dev/null 2>&1; then
            ready=1
            break
        fi
        if ! alive "$data/kube-apiserver.pid" || ! alive "$data/etcd.pid"; then
            break
        fi
        sleep 0.25
    done
    if [[ -z "$ready" ]]; then
        tail -5 "$data/kube-apiserver.log" "$data/etcd.log" >&2 || true
        stop
        mkdir -p "$KUBE"
        unavailable "kube-apiserver did not become ready; logs were in $data"
        return 0
    fi
    cp "$data/ca.crt" "$KUBE/ca.crt"
    echo "$url" > "$KUBE/server.url"
    ln -sf "$data/audit.log" "$KUBE/audit.log"
    "$PY" "$HERE/kube_setup.py" --server "$url" --pki "$data" --out "$KUBE" \
        --rbac "$ROOT/deploy/rbac.yaml" \
        || { stop; mkdir -p "$KUBE"; unavailable "the ServiceAccount set-up failed"; return 0; }
    nohup "$controllers" --kubeconfig "$KUBE/admin.kubeconfig" \
        --authentication-kubeconfig "$KUBE/admin.kubeconfig" \
        --authorization-kubeconfig "$KUBE/admin.kubeconfig" \
        --controllers=validatingadmissionpolicy-status-controller \
        --leader-elect=false --secure-port=0 --use-service-account-credentials=false \
        >"$data/kube-controller-manager.log" 2>&1 &
    echo $! > "$data/kube-controller-manager.pid"
    echo "$data" > "$KUBE/dir"
    say "started $url (kube-apiserver and kube-controller-manager $KUBE_VERSION, etcd" \
        "$ETCD_VERSION, data $data) in" \
        "$(python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.1f}')" \
            "$started" "$(date +%s.%N)") s"
}

stop() {
    [[ -f "$KUBE/dir" ]] || return 0
    local data pid
    data="$(cat "$KUBE/dir")"
    for name in kube-controller-manager kube-apiserver etcd; do
        if alive "$data/$name.pid"; then
            pid="$(cat "$data/$name.pid")"
            kill "$pid"
            for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
            kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
        fi
    done
    rm -rf "$KUBE" "$data"
    say "stopped"
}

case "${1:-start}" in
    start) start ;;
    stop) stop ;;
    *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
