"""Campaign progress history: time per snapshot and the ratio to just reading the snapshots.

Usage::

    python bench/campaign_progress.py [--repeat N] [--scale K] [--days D]

Builds the demo store in a temporary folder, then, with ``--scale`` / ``--days``, a synthetic
larger store: every table of the demo's last snapshot copied ``K`` times (identifiers
suffixed, so K× the establishments, units and VT units; ``K = 10`` is about the national
size) written as ``D`` daily snapshots. Times, in the same process (median of ``--repeat``):

- baseline: ``store.read_snapshot`` of every snapshot, all tables, nothing computed;
- ours: ``history.progress`` (needed columns only, one snapshot at a time, reduced to
  counts per rule);
- naive: ``read_snapshot`` then ``checklist.evaluate`` for every snapshot.

Prints seconds, milliseconds per snapshot and the ratios ours / baseline, naive / ours.
Not part of the test run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import tempfile
import time
from pathlib import Path

import polars as pl

from analysis.checks.campaign import checklist, history
from analysis.demo import regional
from analysis.io import store
from analysis.model import schema

ID_COLUMNS = {"finess_eg", "finess_ej", "uo_id", "vt_id", "guichet_id", "autorisation_id"}


def _timed(fn, repeat: int) -> float:
    runs = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - t0)
    return statistics.median(runs)


def _scaled(tables: dict[str, pl.DataFrame], k: int) -> dict[str, pl.DataFrame]:
    """``k`` copies of every table with identifiers made unique per copy."""
    out = {}
    for name, df in tables.items():
        ids = [c for c in df.columns if c in ID_COLUMNS]
        parts = []
        for i in range(k):
            parts.append(df.with_columns(
                (pl.col(c).str.slice(0, 2) + pl.lit(f"{i:02d}") + pl.col(c).str.slice(4))
                if c.startswith("finess") else pl.col(c) + pl.lit(f"-{i}")
                for c in ids
            ))
        out[name] = schema.conform(pl.concat(parts), name)
    return out


def _run(root: Path, repeat: int, label: str) -> None:
    dates = store.list_snapshots(root)
    baseline = _timed(lambda: [store.read_snapshot(root, d) for d in dates], repeat)
    ours = _timed(lambda: history.progress(root), repeat)
    params = checklist.CampaignParams(start=regional.CAMPAIGN_START)
    naive = _timed(
        lambda: [checklist.evaluate(store.read_snapshot(root, d).tables, d, params)
                 for d in dates],
        repeat,
    )
    n = len(dates)
    print(f"{label} : {n} instantanés")
    print(f"  lecture seule (base)     {baseline:7.2f} s  {baseline / n * 1000:7.1f} ms/instantané")
    print(f"  history.progress (nous) {ours:7.2f} s  {ours / n * 1000:7.1f} ms/instantané"
          f"  nous/base {ours / baseline:5.2f}")
    print(f"  lecture + evaluate naïf  {naive:7.2f} s  {naive / n * 1000:7.1f} ms/instantané"
          f"  naïf/nous {naive / ours:5.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--scale", type=int, default=0, help="copies of the demo (0: skip)")
    parser.add_argument("--days", type=int, default=30, help="daily snapshots when scaled")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "demo"
        regional.build_demo(root)
        _run(root, args.repeat, "Démo Île-de-France")
        if args.scale:
            big = Path(tmp) / "big"
            last = store.read_snapshot(root)
            tables = _scaled(last.tables, args.scale)
            start = dt.date(2023, 1, 1)
            for i in range(args.days):
                store.write_snapshot(big, start + dt.timedelta(days=i), tables,
                                     extra={"campagne_debut": "2023-01-01"})
            eg = tables["etablissements"].height
            units = tables["unites"].height
            _run(big, 1, f"Synthétique ×{args.scale} ({eg} établissements, {units} unités)")


if __name__ == "__main__":
    main()
