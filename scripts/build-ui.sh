#!/usr/bin/env bash
# Builds the console (ui/) into internal/console/dist, where go:embed finds it.
# npm packages are installed from package-lock.json only when it changed;
# `build-ui.sh deps` installs them only (scripts/test.sh, beside go vet).
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f ui/package.json ] || exit 0
cd ui
if [ ! -f node_modules/.installed ] || [ package-lock.json -nt node_modules/.installed ]; then
  npm ci --no-audit --no-fund
  touch node_modules/.installed
fi
if [ "${1:-}" = deps ]; then exit 0; fi
npm run build
