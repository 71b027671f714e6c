#!/usr/bin/env bash
# Kyverno's CustomResourceDefinitions for the policy tests: `kyverno.sh start` fetches the
# Kyverno Go module (the version below) through the Go module proxy, once (Go's module cache
# keeps it), and records the folder of its CRDs in .services/kyverno/crds.dir. The tests create
# those CRDs in the test API server (tests/services/kube.sh) and apply the ClusterPolicies
# `plumbob policy export --format kyverno` writes, so the server validates them against
# Kyverno's own schema. Nothing is committed: the CRD files are megabytes.
#
#   .services/kyverno/crds.dir       the module's config/crds/kyverno folder
#   .services/kyverno/unavailable    instead: why not (no Go, the module could not be fetched)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
OUT="$ROOT/.services/kyverno"
KYVERNO_MODULE=github.com/kyverno/kyverno
KYVERNO_VERSION=v1.19.1

start() {
    mkdir -p "$OUT"
    rm -f "$OUT/unavailable" "$OUT/crds.dir"
    if ! command -v go >/dev/null; then
        echo "Go is not installed: it fetches the Kyverno module" > "$OUT/unavailable"
        echo "kyverno: not available: $(cat "$OUT/unavailable")" >&2
        return 0
    fi
    local dir
    # outside any module, so that no go.mod is read or changed
    if ! dir="$(cd /tmp && GOFLAGS=-mod=mod go mod download -json "$KYVERNO_MODULE@$KYVERNO_VERSION" \
        | python3 -c 'import json,sys; print(json.load(sys.stdin)["Dir"])')"; then
        echo "go mod download $KYVERNO_MODULE@$KYVERNO_VERSION failed" > "$OUT/unavailable"
        echo "kyverno: not available: $(cat "$OUT/unavailable")" >&2
        return 0
    fi
    if [[ ! -f "$dir/config/crds/kyverno/kyverno.io_clusterpolicies.yaml" ]]; then
        echo "$dir has no config/crds/kyverno/kyverno.io_clusterpolicies.yaml" > "$OUT/unavailable"
        return 0
    fi
    echo "$dir/config/crds/kyverno" > "$OUT/crds.dir"
    echo "kyverno: CRDs of $KYVERNO_MODULE $KYVERNO_VERSION in $(cat "$OUT/crds.dir")"
}

case "${1:-start}" in
    start) start ;;
    stop) rm -rf "$OUT" ;;
    *) echo "usage: kyverno.sh start|stop" >&2; exit 2 ;;
esac
