#!/usr/bin/env bash
# Kyverno for the policy tests: `kyverno.sh start` fetches the Kyverno Go module (the version
# below) through the Go module proxy, once (Go's module cache keeps it), records the folder of
# its CRDs, and builds the Kyverno CLI from the module pinned in tests/services/kyverno-cli/
# (cached outside the work tree like kube.sh's binaries: minutes the first time, then none).
# The tests create the CRDs in the test API server (tests/services/kube.sh) and apply the
# ClusterPolicies `plumbob policy export --format kyverno` writes, so the server validates them
# against Kyverno's own schema, and run `kyverno apply` with them. Nothing is committed: the
# CRD files are megabytes.
#
#   .services/kyverno/crds.dir       the module's config/crds/kyverno folder
#   .services/kyverno/cli            the path of the built `kyverno` command
#   .services/kyverno/unavailable    instead: why not (no Go, the module could not be fetched)
#   .services/kyverno/cli-unavailable  why the CLI could not be built
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
OUT="$ROOT/.services/kyverno"
CACHE="${PLUMBOB_SERVICES_CACHE:-$HOME/.cache/plumbob-services}"
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
    build_cli
}

# The Kyverno CLI, built once per module pin and Go version (the key), as kube.sh builds
build_cli() {
    local mod="$ROOT/tests/services/kyverno-cli" key out tmp started
    rm -f "$OUT/cli" "$OUT/cli-unavailable"
    key="$(cat "$mod/go.mod" "$mod/go.sum" <(go env GOVERSION) | sha256sum | cut -c1-12)"
    out="$CACHE/kyverno-cli-$KYVERNO_VERSION-$key/kyverno"
    if [[ ! -x "$out" ]]; then
        mkdir -p "$(dirname "$out")"
        tmp="$(mktemp "$out.XXXXXX")"
        started=$(date +%s)
        echo "kyverno: building the Kyverno CLI $KYVERNO_VERSION (first time only; long on 2 cores)"
        if ! (cd "$mod" && go build -trimpath -buildvcs=false -ldflags="-s -w" -o "$tmp" \
            github.com/kyverno/kyverno/cmd/cli/kubectl-kyverno) \
            >"$CACHE/kyverno-cli-$KYVERNO_VERSION-$key.log" 2>&1; then
            rm -f "$tmp"
            echo "build failed; see $CACHE/kyverno-cli-$KYVERNO_VERSION-$key.log" \
                > "$OUT/cli-unavailable"
            echo "kyverno: CLI not available: $(cat "$OUT/cli-unavailable")" >&2
            return 0
        fi
        mv "$tmp" "$out"
        echo "kyverno: built the CLI in $(( $(date +%s) - started )) s"
    fi
    echo "$out" > "$OUT/cli"
    echo "kyverno: CLI $out"
}

case "${1:-start}" in
    start) start ;;
    stop) rm -rf "$OUT" ;;
    *) echo "usage: kyverno.sh start|stop" >&2; exit 2 ;;
esac
