"""Remove the outputs and execution counts of notebooks before committing them.

Usage: .venv/bin/python scripts/clear_notebooks.py [notebooks/*.ipynb]   (default: all of them)
The test suite fails on a committed notebook with outputs (tests/demo/test_notebooks.py).
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent


def clear(path: Path) -> bool:
    """Clear ``path`` in place; returns True when something was removed."""
    nb = nbformat.read(path, as_version=4)
    changed = False
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        if cell.outputs or cell.execution_count is not None:
            cell.outputs, cell.execution_count = [], None
            changed = True
        if cell.metadata.pop("execution", None) is not None:
            changed = True
    if changed:
        nbformat.write(nb, path)
    return changed


def main(argv: list[str]) -> int:
    paths = [Path(a) for a in argv] or sorted((ROOT / "notebooks").glob("*.ipynb"))
    for path in paths:
        print(f"{path} : {'sorties effacées' if clear(path) else 'déjà propre'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
