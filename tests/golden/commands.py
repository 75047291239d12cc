"""Every ``smr`` command run on the demo store, each output reduced to a content fingerprint.

The fingerprints committed in ``fingerprints.json`` prove that a refactoring leaves the
command output unchanged: the test rebuilds the demo store, runs the same command lines and
compares. To record them again after a change made on purpose::

    .venv/bin/python tests/golden/commands.py --update

What a fingerprint covers, per kind of output:

- text files (CSV « données » and « pour Excel », HTML, JSON): their bytes, after the working
  folder's path is replaced by ``<TMP>`` and the HTML report's « produit le JJ/MM/AAAA »
  (the day it was generated, the only date of generation in any output) by a fixed text;
- Parquet files: the schema and every row (not the file bytes, which carry the writer's name);
- Excel workbooks: sheet names, then every cell's value and number format (not the zip bytes,
  which carry a creation time);
- ``manifest.json`` of a store: its content without ``created_at`` (the time of writing);
- standard output and the exit code of each command (kept as text, for readable diffs).
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import io
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FINGERPRINTS = Path(__file__).with_name("fingerprints.json")
PUBLIC = ROOT / "tests" / "data" / "public"
GENERATED = re.compile(rb"produit le \d{2}/\d{2}/\d{4}")

#: (name, argv) run in this order; ``{w}`` is the working folder, ``{root}`` the repository,
#: ``{s}`` the demo store. Outputs are the files each command writes under ``{w}/out``.
COMMANDS: list[tuple[str, list[str]]] = [
    ("demo", ["demo", "--out", "{s}"]),
    ("snapshots", ["snapshots", "--store", "{s}"]),
    ("validate_snapshot", ["validate", "{s}/2023-07-31", "--report", "{w}/out/validate.csv"]),
    ("validate_finess", ["validate", "{public}/finess/etalab-cs1100507-stock-20200204-0420.csv",
                         "--format", "finess", "--region", "11",
                         "--report", "{w}/out/validate_finess.xlsx"]),
    ("import_canonical", ["import", "{s}/2023-03-01", "--store", "{w}/imported",
                          "--date", "2023-08-01"]),
    ("import_finess", ["import", "{public}/finess/etalab-cs1100507-stock-20200204-0420.csv",
                       "--format", "finess", "--region", "11", "--store", "{w}/imported",
                       "--date", "2023-08-02"]),
    ("import_fhir", ["import", "{public}/fhir/export", "--format", "fhir",
                     "--store", "{w}/imported", "--date", "2023-08-03"]),
    ("import_refused", ["import", "{s}/2023-03-01", "--store", "{w}/imported",
                        "--date", "2023-08-01"]),
    ("coverage_departement", ["coverage", "--store", "{s}", "--level", "departement",
                              "--snapshot", "2023-05-15", "--inclure-fermetures-provisoires",
                              "--out", "{w}/out/coverage_departement.xlsx"]),
    ("coverage_commune", ["coverage", "--store", "{s}", "--level", "commune",
                          "--mention", "ME050", "--forme", "HC",
                          "--out", "{w}/out/coverage_commune.parquet"]),
    ("coverage_arrondissement", ["coverage", "--store", "{s}", "--level", "arrondissement",
                                 "--mention", "ME059",
                                 "--out", "{w}/out/coverage_arrondissement.csv"]),
    ("coverage_csv_excel", ["coverage", "--store", "{s}", "--level", "epci", "--csv-excel",
                            "--mention", "gériatrie", "--out", "{w}/out/coverage_epci.csv"]),
    ("access_nearest", ["access", "--store", "{s}", "--mention", "ME050", "--method", "nearest",
                        "--out", "{w}/out/access_nearest.csv"]),
    ("access_e2sfca", ["access", "--store", "{s}", "--mention", "ME059", "--method", "e2sfca",
                       "--out", "{w}/out/access_e2sfca.xlsx"]),
    ("access_2sfca", ["access", "--store", "{s}", "--mention", "ME051", "--method", "2sfca",
                      "--catchment", "20", "--speed", "50", "--detour", "1.2",
                      "--out", "{w}/out/access_2sfca.parquet"]),
    ("campaign", ["campaign", "--store", "{s}", "--out", "{w}/out/campaign.csv"]),
    ("campaign_forecast", ["campaign", "--store", "{s}", "--forecast", "--fenetre", "4",
                           "--out", "{w}/out/campaign_forecast.xlsx"]),
    ("campaign_csv_excel", ["campaign", "--store", "{s}", "--heure-synchro", "08:00",
                            "--start", "2023-04-01", "--csv-excel",
                            "--out", "{w}/out/campaign_excel.csv"]),
    ("sync", ["sync", "--store", "{s}", "--out", "{w}/out/sync.csv"]),
    ("sync_snapshot", ["sync", "--store", "{s}", "--snapshot", "2023-05-15",
                       "--out", "{w}/out/sync_0515.xlsx"]),
    ("todo", ["todo", "--store", "{s}", "--out", "{w}/out/todo.xlsx"]),
    ("todo_departement", ["todo", "--store", "{s}", "--par", "departement",
                          "--snapshot", "2023-06-01", "--out", "{w}/out/todo_dep.csv"]),
    ("todo_contacts", ["todo", "--store", "{s}", "--contacts", "--par", "departement",
                       "--out", "{w}/out/todo_contacts.xlsx"]),
    ("transition", ["transition", "--store", "{s}", "--out", "{w}/out/transition.csv"]),
    ("transition_xlsx", ["transition", "--store", "{s}", "--snapshot", "2023-05-15",
                         "--out", "{w}/out/transition.xlsx"]),
    ("scenario_json", ["scenario", "{root}/docs/scenarios/locomoteur_sud_seine_et_marne.json",
                       "--store", "{s}", "--mention", "ME051",
                       "--out", "{w}/out/scenario_loco.csv"]),
    ("scenario_yaml", ["scenario", "{root}/docs/scenarios/pediatrie_grande_couronne.yaml",
                       "--store", "{s}", "--mention", "ME060", "--threshold", "20",
                       "--out", "{w}/out/scenario_pedia.xlsx"]),
    ("qualite", ["qualite", "--store", "{s}", "--out", "{w}/out/qualite.csv"]),
    ("qualite_xlsx", ["qualite", "--store", "{s}", "--vt-report",
                      "{root}/docs/exemple_synchro_vt.csv", "--out", "{w}/out/qualite.xlsx"]),
    ("qualite_atelier", ["qualite", "--store", "{s}", "--lecture-atelier",
                         "--snapshot", "2023-06-15", "--out", "{w}/out/qualite_atelier.parquet"]),
    ("oqos", ["oqos", "--store", "{s}", "--out", "{w}/out/oqos.csv"]),
    ("oqos_xlsx", ["oqos", "--store", "{s}", "--snapshot", "2023-06-01",
                   "--out", "{w}/out/oqos.xlsx"]),
    ("report_html", ["report", "--store", "{s}", "--out", "{w}/out/report.html"]),
    ("report_xlsx", ["report", "--store", "{s}", "--snapshot", "2023-06-01",
                     "--out", "{w}/out/report.xlsx"]),
    ("error_missing_snapshot", ["sync", "--store", "{s}", "--snapshot", "2022-01-01",
                                "--out", "{w}/out/nothing.csv"]),
]


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _normalise(data: bytes, work: Path) -> bytes:
    return GENERATED.sub(b"produit le <DATE>", data.replace(str(work).encode(), b"<TMP>"))


def _parquet(path: Path) -> str:
    import polars as pl

    frame = pl.read_parquet(path)
    return _digest(repr(frame.schema).encode() + b"\n" + frame.write_ndjson().encode())


def _xlsx(path: Path, work: Path) -> str:
    from openpyxl import load_workbook

    book = load_workbook(path)
    parts = []
    for sheet in book.worksheets:
        parts.append(f"## {sheet.title}")
        for row in sheet.iter_rows():
            parts.append(repr([(c.value, c.number_format) for c in row]))
    return _digest(_normalise("\n".join(parts).encode(), work))


def _manifest(path: Path, work: Path) -> str:
    content = json.loads(path.read_text(encoding="utf-8"))
    content.pop("created_at", None)
    text = json.dumps(content, sort_keys=True, ensure_ascii=False).encode()
    return _digest(_normalise(text, work))


def fingerprint(path: Path, work: Path) -> str:
    """Content fingerprint of one output file (see the module docstring)."""
    if path.suffix == ".parquet":
        return _parquet(path)
    if path.suffix == ".xlsx":
        return _xlsx(path, work)
    if path.name == "manifest.json":
        return _manifest(path, work)
    return _digest(_normalise(path.read_bytes(), work))


def _changed(work: Path, seen: dict[str, tuple[int, int]]) -> list[Path]:
    """Files under ``work`` written since ``seen`` (path → size and modification time)."""
    changed = []
    for path in sorted(work.rglob("*")):
        if not path.is_file():
            continue
        stat = path.stat()
        key, mark = path.relative_to(work).as_posix(), (stat.st_size, stat.st_mtime_ns)
        if seen.get(key) != mark:
            seen[key] = mark
            changed.append(path)
    return changed


def run_all(work: Path) -> dict[str, dict]:
    """Run every command line of ``COMMANDS`` in ``work``; fingerprints of what each wrote."""
    from analysis.cli import main

    (work / "out").mkdir(parents=True, exist_ok=True)
    values = {"w": str(work), "s": str(work / "store"), "root": str(ROOT), "public": str(PUBLIC)}
    results: dict[str, dict] = {}
    seen: dict[str, tuple[int, int]] = {}
    for name, argv in COMMANDS:
        args = [a.format(**values) for a in argv]
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(args)
        written = {
            p.relative_to(work).as_posix(): fingerprint(p, work) for p in _changed(work, seen)
        }
        results[name] = {
            "argv": argv,
            "exit": code,
            "stdout": _normalise(out.getvalue().encode(), work).decode(),
            "stderr": _normalise(err.getvalue().encode(), work).decode(),
            "files": written,
        }
    return results


def main(argv: list[str] | None = None) -> int:
    """Print the differences with ``fingerprints.json``, or record it again (``--update``)."""
    import tempfile

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--update", action="store_true", help="write fingerprints.json")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        results = run_all(Path(tmp))
    if args.update:
        FINGERPRINTS.write_text(
            json.dumps(results, indent=1, ensure_ascii=False, sort_keys=True) + "\n",
            encoding="utf-8",
        )
        print(f"{len(results)} commandes, empreintes écrites dans {FINGERPRINTS}")
        return 0
    expected = json.loads(FINGERPRINTS.read_text(encoding="utf-8"))
    differ = [n for n in expected.keys() | results.keys() if expected.get(n) != results.get(n)]
    for name in sorted(differ):
        print(f"différent : {name}")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
