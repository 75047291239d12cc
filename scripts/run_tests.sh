#!/usr/bin/env bash
# Install with the test dependencies, then lint, check the layers of analysis/ (import-linter,
# contract in pyproject.toml) and run the whole test suite (pytest).
# Usage: bash scripts/run_tests.sh [pytest options]
#   bash scripts/run_tests.sh -q                                   whole suite (about 8 min)
#   bash scripts/run_tests.sh -m "not slow and not browser" -q     fast lane (under a minute)
#   bash scripts/run_tests.sh -q tests/golden                      smr outputs unchanged (20 s)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh test
.venv/bin/ruff check .
.venv/bin/lint-imports --no-cache
.venv/bin/python -m pytest "$@"
