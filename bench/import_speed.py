"""Import speed: rows per second, and the ratio to a bare CSV parse of the same files.

Usage::

    python bench/import_speed.py [--repeat N]                # Île-de-France demo
    python bench/import_speed.py --national [--repeat N]     # a national snapshot
    python bench/import_speed.py --national --cpu            # CPU time, on a busy machine

Writes a snapshot out as CSV source files (the latest demo snapshot, or with ``--national``
the national demo on its last story date: about 1,800 establishments, 5,500 units, 10,000
authorisations, needs ``data/reference/all/``), then times, in the same process, median of
``--repeat`` runs, interleaved:

- baseline: ``polars.read_csv`` of the same files (all columns as text), no validation;
- parse + validation: ``loaders.canonical.read_source_dir`` + ``validate.validate_tables``
  (encoding detection, parse, every row checked, typed tables); goal (issue #9): at most
  3 × the bare parse;
- ``importing.import_source``: the same plus the atomic Parquet write and manifest (``smr
  import``).

Prints rows per second and the ratios to the baseline (lower is better). With ``--cpu`` the
times are the process's CPU time (every thread added up) instead of wall time: on a machine
that other work keeps busy the wall-clock ratios swing by half, the CPU ratios much less
(``POLARS_MAX_THREADS=1`` steadies them further). Not part of the test run.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import polars as pl  # noqa: E402

from analysis.demo import regional  # noqa: E402
from analysis.io import importing, store, validate  # noqa: E402
from analysis.io.loaders.canonical import read_source_dir  # noqa: E402
from analysis.model import schema  # noqa: E402


def _interleaved(fns: dict, repeat: int, clock=time.perf_counter) -> dict[str, float]:
    runs: dict[str, list[float]] = {k: [] for k in fns}
    for _ in range(repeat):
        for name, fn in fns.items():
            start = clock()
            fn()
            runs[name].append(clock() - start)
    return {k: statistics.median(v) for k, v in runs.items()}


def _tables(national: bool, tmp: Path) -> dict[str, pl.DataFrame]:
    if national:
        from analysis.demo import national as demo_national

        day = regional.SNAPSHOT_DATES[-1]
        return demo_national.region_states([day], region=demo_national.NATIONAL)[day]
    regional.build_demo(tmp / "demo")
    return store.read_snapshot(tmp / "demo").tables


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--national", action="store_true", help="instantané national")
    parser.add_argument("--cpu", action="store_true",
                        help="temps processeur du processus au lieu du temps écoulé")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        tables = _tables(args.national, tmp)
        source = tmp / "source"
        source.mkdir()
        rows = 0
        for name in schema.TABLES:
            tables[name].write_csv(source / f"{name}.csv")
            rows += tables[name].height
        files = sorted(source.glob("*.csv"))
        size = sum(f.stat().st_size for f in files) / 2**20

        def bare() -> None:
            for f in files:
                pl.read_csv(f, infer_schema=False)

        def parse_validate() -> None:
            validate.validate_tables(read_source_dir(source))

        counter = iter(range(10**6))

        def full() -> None:
            importing.import_source(source, tmp / "store", f"2024-01-{next(counter) % 28 + 1:02d}",
                                replace=True)

        load = os.getloadavg()[0]
        clock = time.process_time if args.cpu else time.perf_counter
        t = _interleaved({"bare": bare, "validate": parse_validate, "full": full}, args.repeat,
                         clock)
    label = "national" if args.national else "démo Île-de-France"
    print(f"{label} : {rows:,} lignes dans {len(files)} fichiers ({size:.1f} Mo) ; "
          f"{os.cpu_count()} cœurs, charge {load:.1f} → {os.getloadavg()[0]:.1f}"
          + (" ; temps processeur" if args.cpu else ""))
    print(f"read_csv nu               : {t['bare'] * 1000:8.1f} ms  ({rows / t['bare']:,.0f} l/s)")
    print(f"lecture + validation      : {t['validate'] * 1000:8.1f} ms  "
          f"({rows / t['validate']:,.0f} l/s)  rapport {t['validate'] / t['bare']:.1f}")
    print(f"smr import (+ écriture)   : {t['full'] * 1000:8.1f} ms  ({rows / t['full']:,.0f} l/s)"
          f"  rapport {t['full'] / t['bare']:.1f}")


if __name__ == "__main__":
    main()
