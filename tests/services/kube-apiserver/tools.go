//go:build tools

// Package tools pins the kube-apiserver command, and kube-controller-manager (run with only
// the ValidatingAdmissionPolicy status controller), in this module's dependency graph.
package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
)
