#!/usr/bin/env bash
# Install the system tools the test suite uses beyond Python and Go (idempotent, quiet):
#   Chromium (Debian package "chromium"), for the test that renders the HTML report headless
#            and checks the screenshot (tests/explain/test_charts_html.py).
#
# A failed install is fatal on CI (CI=true), so the rendering test cannot be skipped unnoticed
# there; elsewhere it is a warning and the test skips, saying why.
set -euo pipefail

fail() {
  echo "install_test_tools: $*" >&2
  if [ "${CI:-}" = "true" ]; then exit 1; fi
}

if command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; then
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  fail "no apt-get: install Chromium yourself to run the HTML rendering test"
  exit 0
fi
sudo=()
if [ "$(id -u)" != "0" ]; then
  if command -v sudo >/dev/null 2>&1; then
    sudo=(sudo -n)
  else
    fail "not root and no sudo: cannot install Chromium"
    exit 0
  fi
fi
export DEBIAN_FRONTEND=noninteractive
if ! { "${sudo[@]}" apt-get update -qq >/dev/null \
  && "${sudo[@]}" apt-get install -y -qq chromium >/dev/null; }; then
  fail "apt-get install chromium failed"
fi
