"""The dashboard: `plumbob serve` shows the store's fleet, history and drift, and /metrics."""

from plumbob.server.app import Settings, create_app

__all__ = ["Settings", "create_app"]
