#!/usr/bin/env bash
# Install with the test dependencies, then lint, check the layers of analysis/ (import-linter,
# contract in pyproject.toml) and run the whole test suite (pytest).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh test
.venv/bin/ruff check .
.venv/bin/lint-imports --no-cache
.venv/bin/python -m pytest "$@"
