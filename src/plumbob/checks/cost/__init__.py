"""Cost: idle and fragmented GPUs, priced per month."""
