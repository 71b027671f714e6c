"""Scaling: GPU-aware pod autoscaling and node autoscaling for GPU pools."""
