"""Import speed on the demo: rows per second, and the ratio to a bare CSV parse.

Usage: python bench/import_speed.py [--repeat N]

Writes the latest demo snapshot out as CSV source files, then times, in the same process:
- baseline: ``polars.read_csv`` of the same files (all columns as text), no validation;
- ``store.import_source``: encoding detection, parse, validation, atomic Parquet write.
Prints rows per second and the ratio import / baseline (lower is better).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import polars as pl

from analysis import demo, schema, store


def _time(fn, repeat: int) -> float:
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - start)
    return statistics.median(runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        demo.build_demo(tmp / "demo")
        snap = store.read_snapshot(tmp / "demo")
        source = tmp / "source"
        source.mkdir()
        rows = 0
        for name in schema.TABLES:
            snap.tables[name].write_csv(source / f"{name}.csv")
            rows += snap.tables[name].height
        files = sorted(source.glob("*.csv"))

        def bare() -> None:
            for f in files:
                pl.read_csv(f, infer_schema=False)

        counter = iter(range(10**6))

        def full() -> None:
            store.import_source(source, tmp / "store", f"2024-01-{next(counter) % 28 + 1:02d}",
                                replace=True)

        t_bare = _time(bare, args.repeat)
        t_full = _time(full, args.repeat)
    print(f"rows: {rows} in {len(files)} files")
    print(f"bare read_csv : {t_bare * 1000:8.1f} ms  ({rows / t_bare:,.0f} rows/s)")
    print(f"smr import    : {t_full * 1000:8.1f} ms  ({rows / t_full:,.0f} rows/s)")
    print(f"ratio import / bare parse: {t_full / t_bare:.1f}")


if __name__ == "__main__":
    main()
