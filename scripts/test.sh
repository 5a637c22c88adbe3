#!/usr/bin/env bash
# Set up everything the test suite needs in .venv (idempotent), then run it.
# Usage: scripts/test.sh [pytest args...]
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e '.[test]'
# Optional tools: when one cannot be installed, the tests that need it skip and say why.
scripts/install_lint_tools.sh || echo "test.sh: warning: lint tools not installed" >&2
scripts/install_test_tools.sh || echo "test.sh: warning: Chromium not installed" >&2
export PATH="$PWD/.venv/bin:$(go env GOPATH 2>/dev/null)/bin:$PATH"
export GOTOOLCHAIN=local
.venv/bin/ruff check .
.venv/bin/ruff format --check .
exec .venv/bin/python -m pytest "$@"
