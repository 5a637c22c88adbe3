#!/usr/bin/env bash
# Install perfgate into .venv (idempotent) and gate example_service.
# Usage: scripts/quickstart.sh [--baseline] [perfgate check options...]
# By default it compares the working tree with the committed code (perfgate check --against HEAD),
# both measured now on this machine: a fair verdict wherever the committed baseline was measured.
# --baseline: against the committed baseline instead (a quiet machine like the one that measured
# it). An --against of your own among the options is used as given.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e .
export GOTOOLCHAIN=local
if [ "${1:-}" = --baseline ]; then
  shift
  echo "quickstart: perfgate check — this machine's measurement vs the committed baseline" \
    "(measured on another machine: a different machine can shift every handler)" >&2
  exec .venv/bin/perfgate check "$@"
fi
for arg in "$@"; do
  case "$arg" in --against | --against=*) exec .venv/bin/perfgate check "$@" ;; esac
done
echo "quickstart: perfgate check --against HEAD — your working tree vs the committed code," \
  "both built and measured now on this machine (the committed baseline's p95 is in the notes)" >&2
exec .venv/bin/perfgate check --against HEAD "$@"
