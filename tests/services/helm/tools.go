//go:build tools

// Builds helm from helm.sh/helm/v4 at a pinned release: tests/services/helm.sh runs
// `go build -o ... helm.sh/helm/v4/cmd/helm` here.
package tools

import _ "helm.sh/helm/v4/cmd/helm"
