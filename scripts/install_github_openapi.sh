#!/usr/bin/env bash
# Put GitHub's OpenAPI description (npm package @octokit/openapi, pinned) where the GitHub API
# stand-in's contract checks look first: tests/ghserver/.openapi/ (git-ignored). Idempotent.
# Only the one file needed (generated/api.github.com.json, ~13 MB) is kept from the tarball.
#
# Without it the tests validate against the vendored extract tests/ghserver/openapi_fragment.json
# instead; with it they also check that the extract still matches the real description.
set -euo pipefail
cd "$(dirname "$0")/.."

VERSION="23.0.2"  # keep in step with PINNED_VERSION in tests/ghserver/contract.py
DEST="tests/ghserver/.openapi"

if [ -f "$DEST/package.json" ] && grep -q "\"version\": \"$VERSION\"" "$DEST/package.json" \
  && [ -f "$DEST/api.github.com.json" ]; then
  exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
  echo "install_github_openapi: npm not found; tests use the vendored fragment" >&2
  exit 1
fi
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "@octokit/openapi@$VERSION" >/dev/null)
tar -xzf "$tmp"/octokit-openapi-"$VERSION".tgz -C "$tmp" \
  package/generated/api.github.com.json package/package.json
mkdir -p "$DEST"
mv "$tmp/package/generated/api.github.com.json" "$tmp/package/package.json" "$DEST/"
echo "install_github_openapi: @octokit/openapi@$VERSION -> $DEST" >&2
