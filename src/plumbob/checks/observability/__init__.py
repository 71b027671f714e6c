"""Observability: GPU metrics and the metrics pipeline."""
