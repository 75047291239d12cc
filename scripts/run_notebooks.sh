#!/usr/bin/env bash
# Install with JupyterLab (extra "notebooks", pinned in constraints.txt), then open the
# notebooks in JupyterLab on http://localhost:8888. Arguments go to "jupyter lab"
# (e.g. --port 8890, --no-browser). The notebooks read the store of SMR_STORE, or build the
# demo store in a temporary folder.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh notebooks
root=()
[ "$(id -u)" = 0 ] && root=(--allow-root)  # containers often run as root; Jupyter refuses it
# Offline: no news feed, no update check, no extension catalogue (each would ask the Internet).
exec .venv/bin/jupyter lab --ServerApp.root_dir=notebooks \
  --LabApp.news_url=None \
  --LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate \
  --LabApp.extension_manager=readonly \
  "${root[@]}" "$@"
