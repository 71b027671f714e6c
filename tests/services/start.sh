#!/usr/bin/env bash
# Installs and starts, on loopback, the services the test suite uses. Idempotent.
# Nothing is needed yet beyond Python packages; later services (PostgreSQL, Prometheus,
# Chromium) are added here so `make test` stays the one command.
set -euo pipefail
exit 0
