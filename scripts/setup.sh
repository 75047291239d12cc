#!/usr/bin/env bash
# Create .venv (Python 3.11+) and install the project with pinned versions.
# Usage: bash scripts/setup.sh [test|notebooks]   (adds the test tools, or JupyterLab)
set -euo pipefail
cd "$(dirname "$0")/.."
extra=""
case "${1:-}" in
  test | notebooks) extra="[$1]" ;;
  "") ;;
  *) echo "setup.sh : option inconnue « $1 » (test ou notebooks)" >&2; exit 2 ;;
esac
PY=${PYTHON:-python3}
"$PY" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 ou plus est requis")'
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -c constraints.txt -e ".${extra}"
