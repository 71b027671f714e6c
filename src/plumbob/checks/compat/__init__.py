"""Compatibility: CUDA vs driver, Kubernetes versions, skew and removed APIs."""
