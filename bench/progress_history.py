"""Campaign progress and sync history over a year of daily national snapshots, lazily.

Usage::

    python bench/progress_history.py [--store STORE] [--days 365] [--repeat 3]

Without ``--store``, writes the national demo (``smr demo --region all --days N``; needs
``data/reference/all/``, see ``scripts/build_reference.py``) in a temporary folder. Each
measurement runs in its own Python process (time of the call, and the process's peak
resident memory from ``resource.getrusage(RUSAGE_SELF).ru_maxrss``, minus nothing: the
interpreter and libraries count too), repeated ``--repeat`` times, medians printed:

- ``base campagne``: bare lazy scan of exactly the columns the campaign rules read
  (``checklist.columns_needed``), every snapshot, ``store.scan_table(...).collect()`` table
  by table;
- ``history.progress_history``: lazy scans by batches of snapshots, rules as expressions
  per snapshot, counts (what the Campagne page and ``smr campaign`` use);
- ``history.progress``: the per-snapshot reference (one snapshot read and evaluated at a
  time); its result must equal the lazy one (checked here too);
- ``base synchro`` / ``sync.status_history``: the same for the ROR ↔ ViaTrajectoire status
  counts (columns ``sync.COLUMNS``);
- ``base qualité`` / ``population.history``: the same for the quality requirement totals
  (columns ``population.COLUMNS``) at the weekly dates the Qualité page draws
  (``history.sampled_dates``), the base scanning those dates only; ``population.history_at``
  one snapshot at a time is how the page computed it before.

Every history reads through ``analysis.io.history.over_snapshots``, which also verifies
each snapshot's checksums (the bare scans do not). ``--kinds`` picks some measurements
(the one-at-a-time reference is the slowest).

Goals (issue #9): history at most 3 × the bare scan, peak memory under 2 GiB. Not part of
the test run.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

KINDS = (
    "base_campagne", "lazy_campagne", "eager_campagne", "base_synchro", "lazy_synchro",
    "base_qualite", "lazy_qualite", "eager_qualite",
)
LABELS = {
    "base_campagne": "base campagne (scan nu)",
    "lazy_campagne": "history.progress_history",
    "eager_campagne": "history.progress (un à un)",
    "base_synchro": "base synchro (scan nu)",
    "lazy_synchro": "sync.status_history",
    "base_qualite": "base qualité (scan nu, hebdo)",
    "lazy_qualite": "population.history (hebdo)",
    "eager_qualite": "population.history_at un à un",
}


def _child(kind: str, store_path: Path, out: Path | None) -> None:
    """One measurement in this process; prints a JSON line."""
    from analysis.checks.campaign import checklist, history
    from analysis.checks.quality import population
    from analysis.demo import regional
    from analysis.indicators import sync
    from analysis.io import store

    params = checklist.CampaignParams(start=regional.CAMPAIGN_START)
    start = time.perf_counter()
    rows = 0
    if kind == "base_campagne":
        for table, cols in checklist.columns_needed(params).items():
            rows += store.scan_table(store_path, table, cols).collect().height
    elif kind == "lazy_campagne":
        result = history.progress_history(store_path, params)
        rows = result.height
    elif kind == "eager_campagne":
        result = history.progress(store_path, params)
        rows = result.height
    elif kind == "base_synchro":
        for table, cols in sync.COLUMNS.items():
            rows += store.scan_table(store_path, table, cols).collect().height
    elif kind == "lazy_synchro":
        result = sync.status_history(store_path)
        rows = result.height
    elif kind in ("base_qualite", "lazy_qualite", "eager_qualite"):
        all_dates = store.list_snapshots(store_path)
        weekly = history.sampled_dates(all_dates, 7, [all_dates[-1]])
        if kind == "base_qualite":
            for table, cols in population.COLUMNS.items():
                rows += store.scan_table(store_path, table, cols, weekly).collect().height
        elif kind == "lazy_qualite":
            rows = population.history(store_path, dates=weekly).height
        else:  # what the Qualité page did before: one snapshot read and evaluated at a time
            rows = sum(population.history_at(store_path, day).height for day in weekly)
    seconds = time.perf_counter() - start
    if out is not None and kind in ("lazy_campagne", "eager_campagne"):
        result.write_parquet(out)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "peak_mb": peak_mb, "rows": rows}))


def _measure(kind: str, store_path: Path, out: Path | None = None) -> dict:
    cmd = [sys.executable, __file__, "--child", kind, "--store", str(store_path)]
    if out is not None:
        cmd += ["--out", str(out)]
    done = subprocess.run(cmd, check=True, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", type=Path, default=None)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--kinds", default=",".join(KINDS), help="mesures, séparées par des virgules")
    parser.add_argument("--child", choices=KINDS, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args.child, args.store, args.out)
        return
    tmp = tempfile.TemporaryDirectory()
    store_path = args.store
    if store_path is None:
        from analysis.demo import national

        store_path = Path(tmp.name) / "national"
        start = time.perf_counter()
        national.build_daily_demo(store_path, days=args.days)
        print(f"magasin national : {args.days} instantanés en {time.perf_counter() - start:.1f} s")
    from analysis.io import store

    dates = store.list_snapshots(store_path)
    print(f"{len(dates)} instantanés ({dates[0]} → {dates[-1]}), machine : {os.cpu_count()} "
          f"cœurs, charge {os.getloadavg()[0]:.1f}")
    kinds = [k for k in KINDS if k in args.kinds.split(",")]
    runs: dict[str, list[dict]] = {k: [] for k in kinds}
    for _ in range(args.repeat):  # interleaved, so that load changes hit every kind alike
        for kind in kinds:
            runs[kind].append(_measure(kind, store_path))
    med = {
        k: (statistics.median(r["seconds"] for r in v), max(r["peak_mb"] for r in v))
        for k, v in runs.items()
    }
    print(f"{'mesure':<32}{'s (médiane)':>12}{'mémoire max (Mo)':>18}")
    for kind in kinds:
        print(f"{LABELS[kind]:<32}{med[kind][0]:>12.2f}{med[kind][1]:>18.0f}")

    def ratio(label: str, num: str, den: str) -> None:
        if num in med and den in med:
            print(f"{label:<9}: {LABELS[num]} / {LABELS[den]}  {med[num][0] / med[den][0]:.1f}")

    ratio("campagne", "lazy_campagne", "base_campagne")
    ratio("campagne", "eager_campagne", "lazy_campagne")
    ratio("synchro", "lazy_synchro", "base_synchro")
    ratio("qualité", "lazy_qualite", "base_qualite")
    ratio("qualité", "eager_qualite", "lazy_qualite")
    if not {"lazy_campagne", "eager_campagne"} <= set(kinds):
        print(f"charge à la fin {os.getloadavg()[0]:.1f}")
        tmp.cleanup()
        return
    lazy, eager = Path(tmp.name) / "lazy.parquet", Path(tmp.name) / "eager.parquet"
    _measure("lazy_campagne", store_path, lazy)
    _measure("eager_campagne", store_path, eager)
    import polars as pl
    from polars.testing import assert_frame_equal

    assert_frame_equal(pl.read_parquet(lazy), pl.read_parquet(eager))
    print("résultats identiques (progress_history == progress)")
    print(f"charge à la fin {os.getloadavg()[0]:.1f}")
    tmp.cleanup()


if __name__ == "__main__":
    main()
