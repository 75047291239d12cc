"""The layer contract of ``analysis/`` (``[tool.importlinter]`` in pyproject.toml, drawn in
docs/architecture.md): the code keeps it, and a forbidden import breaks it, naming the import.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # runs import-linter (scripts/run_tests.sh runs it as well)

ROOT = Path(__file__).resolve().parent.parent
LINT = Path(sys.executable).with_name("lint-imports")


def _lint(source_root: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(source_root)}
    return subprocess.run(
        [str(LINT), "--config", str(ROOT / "pyproject.toml"), "--no-cache"],
        cwd=source_root, env=env, capture_output=True, text=True, timeout=120,
    )


def _copy(tmp_path: Path) -> Path:
    for package in ("analysis", "ui"):
        shutil.copytree(ROOT / package, tmp_path / package,
                        ignore=shutil.ignore_patterns("__pycache__"))
    return tmp_path


def test_the_code_keeps_the_layer_contract():
    result = _lint(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Contracts: 2 kept, 0 broken." in result.stdout


def test_an_upward_import_breaks_the_contract(tmp_path):
    """The model (bottom layer) importing the report (presentation) is refused."""
    root = _copy(tmp_path)
    schema = root / "analysis" / "model" / "schema.py"
    schema.write_text(schema.read_text(encoding="utf-8")
                      + "\nfrom analysis.present import report  # noqa: E402, F401\n",
                      encoding="utf-8")
    result = _lint(root)
    assert result.returncode == 1, result.stdout
    assert "analysis.model is not allowed to import analysis.present" in result.stdout
    assert "analysis.model.schema -> analysis.present.report" in result.stdout


def test_siblings_do_not_import_each_other(tmp_path):
    """checks and transition sit side by side: neither may import the other."""
    root = _copy(tmp_path)
    gaps = root / "analysis" / "transition" / "gaps.py"
    gaps.write_text(gaps.read_text(encoding="utf-8")
                    + "\nfrom analysis.checks import campaign  # noqa: E402, F401\n",
                    encoding="utf-8")
    result = _lint(root)
    assert result.returncode == 1, result.stdout
    assert "analysis.transition.gaps -> analysis.checks.campaign" in result.stdout


def test_a_module_outside_every_layer_breaks_the_contract(tmp_path):
    """A new flat module in analysis/ must be given a layer (the contract is exhaustive)."""
    root = _copy(tmp_path)
    (root / "analysis" / "nouveau.py").write_text('"""A module without a layer."""\n')
    result = _lint(root)
    assert result.returncode == 1, result.stdout
    assert "analysis.nouveau" in result.stdout


def test_analysis_never_imports_streamlit(tmp_path):
    root = _copy(tmp_path)
    target = root / "analysis" / "indicators" / "coverage.py"
    target.write_text(target.read_text(encoding="utf-8")
                      + "\nimport streamlit  # noqa: E402, F401\n", encoding="utf-8")
    result = _lint(root)
    assert result.returncode == 1, result.stdout
    assert "analysis.indicators.coverage -> streamlit" in result.stdout
