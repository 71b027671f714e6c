"""Process exit codes: what CI reads."""

OK = 0
"""Scan finished; no finding at or above --fail-on."""
FINDINGS = 1
"""A finding at or above --fail-on."""
USAGE = 2
"""Bad usage, bad configuration, or nothing readable at all."""
