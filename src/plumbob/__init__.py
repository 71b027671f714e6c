"""plumbob: audit Kubernetes clusters for AI-workload readiness and infrastructure drift."""

import time as _time

__version__ = "0.1.0"
__all__ = ["__version__"]

IMPORTED_AT = _time.perf_counter()
"""When plumbob's first module was imported (`scan --timings` counts start-up from here)."""
