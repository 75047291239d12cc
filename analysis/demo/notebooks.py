"""What the analyst notebooks share: which snapshot store to open.

The notebooks in ``notebooks/`` run the same ``analysis`` code as the app. They open the store
named by the environment variable ``SMR_STORE`` (as the app does) and, when it is not set or
holds no snapshot, build the fictitious demo store in a temporary folder, so that a notebook
runs anywhere, including in the test suite (``tests/demo/test_notebooks.py``).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from analysis.demo import regional
from analysis.io import store

ENV = "SMR_STORE"


def store_path(env: str = ENV, *, verbose: bool = True) -> Path:
    """The store named by ``env`` if it holds snapshots, else a demo store built in a new
    temporary folder (about a second). Prints which one, in French, when ``verbose``."""
    named = os.environ.get(env, "").strip()
    if named and store.list_snapshots(named):
        path = Path(named).expanduser()
        if verbose:
            print(f"Magasin {path} (variable {env}).")
        return path
    path = Path(tempfile.mkdtemp(prefix="smr_demo_"))
    regional.build_demo(path)
    if verbose:
        reason = f"{env} désigne un dossier sans instantané" if named else f"{env} non définie"
        print(f"Magasin de démonstration (données fictives) construit dans {path} ({reason}).")
    return path
