"""GPU scheduling and isolation checks."""
