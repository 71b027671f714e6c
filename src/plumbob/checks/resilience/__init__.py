"""Resilience and data: disruption budgets, probes, checkpoints, shared memory, backups."""
