"""The check catalog: one module per check, grouped by category folder."""
