#!/usr/bin/env bash
# Command-line tools the delivery tests run for real: helm and kubectl, built with Go from the
# modules pinned in tests/services/helm/ and tests/services/kubectl/ (kubectl of the same
# release as the test API server) and cached like kube.sh's binaries, in
# ${PLUMBOB_SERVICES_CACHE:-$HOME/.cache/plumbob-services}/<name>-<version>-<hash>/.
#
# `tools.sh` (start.sh runs it) writes .services/tools/<name>: a link to the built binary, or
# .services/tools/<name>.unavailable with the reason. Tests find them there and skip, naming
# the reason, when absent (and fail under CI).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
HERE="$ROOT/tests/services"
TOOLS="$ROOT/.services/tools"
CACHE="${PLUMBOB_SERVICES_CACHE:-$HOME/.cache/plumbob-services}"

HELM_VERSION=v4.3.2
KUBE_VERSION=v1.37.2
KUBECTL_LDFLAGS="-X k8s.io/component-base/version.gitVersion=$KUBE_VERSION \
-X k8s.io/component-base/version.gitMajor=1 \
-X k8s.io/component-base/version.gitMinor=$(echo "$KUBE_VERSION" | cut -d. -f2) \
-X k8s.io/client-go/pkg/version.gitVersion=$KUBE_VERSION"
HELM_LDFLAGS="-X helm.sh/helm/v4/internal/version.version=$HELM_VERSION"

say() { echo "tools: $*"; }

# build NAME MODULE_DIR PACKAGE VERSION [LDFLAGS]: links .services/tools/NAME to the cached
# binary, building it first
build() {
    local name="$1" dir="$2" pkg="$3" version="$4" ldflags="${5:-}" key out tmp started
    rm -f "$TOOLS/$name" "$TOOLS/$name.unavailable"
    if ! command -v go >/dev/null 2>&1; then
        echo "go is not installed: $name $version is built from source" > "$TOOLS/$name.unavailable"
        say "$name: go not installed" >&2
        return 0
    fi
    key="$(cat "$dir/go.mod" "$dir/go.sum" <(go env GOVERSION) <(echo "$pkg $ldflags") \
        | sha256sum | cut -c1-12)"
    out="$CACHE/$name-$version-$key/$name"
    if [[ ! -x "$out" ]]; then
        mkdir -p "$(dirname "$out")"
        tmp="$(mktemp "$out.XXXXXX")"
        started=$(date +%s)
        say "building $name $version (first time only; minutes on 2 cores)" >&2
        if ! (cd "$dir" && go build -trimpath -buildvcs=false -ldflags="-s -w $ldflags" \
                -o "$tmp" "$pkg") >"$CACHE/$name-$version-$key.log" 2>&1; then
            rm -f "$tmp"
            echo "$name $version did not build; see $CACHE/$name-$version-$key.log" \
                > "$TOOLS/$name.unavailable"
            say "build of $name failed" >&2
            tail -5 "$CACHE/$name-$version-$key.log" >&2
            return 0
        fi
        mv "$tmp" "$out"
        say "built $name in $(( $(date +%s) - started )) s: $out" >&2
    fi
    ln -s "$out" "$TOOLS/$name"
    say "$name: $out"
}

mkdir -p "$TOOLS"
build helm "$HERE/helm" helm.sh/helm/v4/cmd/helm "$HELM_VERSION" "$HELM_LDFLAGS"
build kubectl "$HERE/kubectl" k8s.io/kubernetes/cmd/kubectl "$KUBE_VERSION" "$KUBECTL_LDFLAGS"
