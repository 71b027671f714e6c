"""plumbob: audit Kubernetes clusters for AI-workload readiness and infrastructure drift."""

__version__ = "0.1.0"
__all__ = ["__version__"]
