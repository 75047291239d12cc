#!/usr/bin/env bash
# Install, build the demo store if absent, and start the app on http://localhost:8501
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
if [ -z "$(ls -d data/demo/????-??-?? 2>/dev/null)" ]; then
  .venv/bin/smr demo --out data/demo
fi
exec .venv/bin/streamlit run app.py --server.headless true "$@"
