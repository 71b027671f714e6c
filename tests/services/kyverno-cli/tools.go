//go:build tools

// Package tools pins the Kyverno CLI in this module's dependency graph.
package tools

import _ "github.com/kyverno/kyverno/cmd/cli/kubectl-kyverno"
