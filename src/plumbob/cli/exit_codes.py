"""Process exit codes: what CI reads."""

OK = 0
"""Scan finished; no finding at or above --fail-on."""
FINDINGS = 1
"""A finding at or above --fail-on; with --new-since, a new one at or above --fail-on (default
info) (`conformance --fail-on-not-ready`: a MUST requirement not ready)."""
USAGE = 2
"""Bad usage, bad configuration, nothing readable at all, or (with --strict) an input not
read, a context not reached or a check that could not see what it reads."""
