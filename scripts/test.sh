#!/usr/bin/env bash
# Install everything (app + test tools + chromium) and run the whole test suite.
#   bash scripts/test.sh               # all tests, slow and browser ones included
#   bash scripts/test.sh -m "not slow" # extra arguments go to pytest
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh --dev
.venv/bin/python -m ruff check .
# Tests that failed get one more run: browser and subprocess tests on a loaded 2-core machine can
# miss a timeout once; a real failure fails twice and fails the command.
.venv/bin/python -m pytest -q "$@" || .venv/bin/python -m pytest -q --lf --lfnf=none "$@"
