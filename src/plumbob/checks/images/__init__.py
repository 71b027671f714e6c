"""Image hygiene and supply-chain checks."""
