#!/usr/bin/env bash
# Install perfgate into .venv (idempotent) and gate example_service against its baseline.
# Usage: scripts/quickstart.sh [perfgate check options...]
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e .
export GOTOOLCHAIN=local
exec .venv/bin/perfgate check "$@"
