//go:build tools

// Package tools pins the kubectl command in this module's dependency graph.
package tools

import _ "k8s.io/kubernetes/cmd/kubectl"
