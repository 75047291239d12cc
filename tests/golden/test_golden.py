"""Every ``smr`` command gives the same output on the demo store as when the fingerprints were
recorded (``tests/golden/commands.py``): a refactoring that changes no behaviour passes, a
changed byte in any output file, standard output or exit code fails, naming the command."""

from __future__ import annotations

import difflib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.golden import commands

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]


def _explain(name: str, expected: dict, actual: dict) -> str:
    lines = [f"{name}:"]
    for key in ("exit", "argv"):
        if expected.get(key) != actual.get(key):
            lines.append(f"  {key}: {expected.get(key)!r} -> {actual.get(key)!r}")
    for key in ("stdout", "stderr"):
        if expected.get(key) != actual.get(key):
            diff = difflib.unified_diff(
                (expected.get(key) or "").splitlines(), (actual.get(key) or "").splitlines(),
                lineterm="", n=0,
            )
            lines += [f"  {key}: {d}" for d in list(diff)[2:12]]
    old, new = expected.get("files", {}), actual.get("files", {})
    for path in sorted(old.keys() | new.keys()):
        if old.get(path) != new.get(path):
            lines.append(f"  file {path}: {old.get(path)} -> {new.get(path)}")
    return "\n".join(lines)


def test_every_command_output_is_unchanged(tmp_path):
    expected = json.loads(commands.FINGERPRINTS.read_text(encoding="utf-8"))
    # In a fresh interpreter, as the recording was made: Vega (vl-convert) numbers the
    # gradients of legends per process (``gradient_N``), so a chart drawn by an earlier test
    # of the session would shift the ids in the report's inline SVG. A plain subprocess
    # rather than a spawned worker: spawn re-runs the parent's ``__main__``, which an earlier
    # AppTest of the session may have left pointing at its own script.
    result = tmp_path / "fingerprints.json"
    run = ("import json, sys; from pathlib import Path; from tests.golden import commands; "
           "Path(sys.argv[2]).write_text(json.dumps(commands.run_all(Path(sys.argv[1]))))")
    done = subprocess.run([sys.executable, "-c", run, str(tmp_path), str(result)],
                          cwd=ROOT, env=os.environ.copy(), capture_output=True, text=True,
                          timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    actual = json.loads(result.read_text(encoding="utf-8"))
    assert [n for n, _ in commands.COMMANDS] == list(actual)
    differ = sorted(n for n in expected.keys() | actual.keys() if expected.get(n) != actual.get(n))
    assert not differ, "output changed (re-record with tests/golden/commands.py --update only " \
        "if on purpose):\n" + "\n".join(_explain(n, expected.get(n, {}), actual.get(n, {}))
                                        for n in differ)


def test_fingerprint_sees_one_changed_character(tmp_path):
    """The fingerprints are not blind: one character changed in a CSV, a cell of a workbook
    or a row of a Parquet file changes them, while the HTML report's day of generation and
    the workbook's zip timestamps do not."""
    import polars as pl
    from openpyxl import Workbook

    csv = tmp_path / "a.csv"
    csv.write_text("x,y\n1,2\n", encoding="utf-8")
    before = commands.fingerprint(csv, tmp_path)
    csv.write_text("x,y\n1,3\n", encoding="utf-8")
    assert commands.fingerprint(csv, tmp_path) != before

    html = tmp_path / "r.html"
    html.write_text("<p>produit le 01/02/2024 par SMR Workbench</p>", encoding="utf-8")
    day_one = commands.fingerprint(html, tmp_path)
    html.write_text("<p>produit le 03/04/2025 par SMR Workbench</p>", encoding="utf-8")
    assert commands.fingerprint(html, tmp_path) == day_one
    html.write_text("<p>produit le 03/04/2025 par SMR Workbench.</p>", encoding="utf-8")
    assert commands.fingerprint(html, tmp_path) != day_one

    book = tmp_path / "b.xlsx"
    for value, created in (("ME050", 2020), ("ME050", 2024), ("ME051", 2024)):
        wb = Workbook()
        wb.active["A1"] = value
        wb.properties.created = wb.properties.created.replace(year=created)
        wb.save(book)
        if created == 2020:
            first = commands.fingerprint(book, tmp_path)
        elif value == "ME050":
            assert commands.fingerprint(book, tmp_path) == first
        else:
            assert commands.fingerprint(book, tmp_path) != first

    parquet = tmp_path / "c.parquet"
    pl.DataFrame({"lits": [10, 20]}).write_parquet(parquet)
    before = commands.fingerprint(parquet, tmp_path)
    pl.DataFrame({"lits": [10, 21]}).write_parquet(parquet)
    assert commands.fingerprint(parquet, tmp_path) != before
