"""Check engine: time to evaluate the campaign rules and the quality requirements on one
snapshot, as a ratio to just reading that snapshot.

Usage::

    python bench/check_engine.py [--repeat N] [--scale K]

Builds the demo store in a temporary folder and takes its latest snapshot, with ``--scale``
copied ``K`` times (identifiers suffixed; ``K = 10`` is about the national size). Times, in
the same process (median of ``--repeat``):

- baseline: ``store.read_snapshot`` of the snapshot, all tables, nothing computed;
- ``checklist.evaluate`` (campaign rules, per entity) and ``checklist.counts_lazy`` (counts
  per rule without the per-entity rows);
- ``requirements.evaluate`` (quality requirements, per entity) and its ``summary``.

Prints seconds and each ratio to the baseline. Run it on two commits to compare them (the
engine's one plan per level against the former one select per requirement). Not part of the
test run.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from campaign_progress import _scaled, _timed  # noqa: E402

from analysis.checks.campaign import checklist  # noqa: E402
from analysis.checks.quality import requirements  # noqa: E402
from analysis.demo import regional  # noqa: E402
from analysis.io import store  # noqa: E402


def _run(root: Path, repeat: int, label: str) -> None:
    snap = store.read_snapshot(root)
    tables, day = snap.tables, snap.date
    params = checklist.CampaignParams(start=regional.CAMPAIGN_START)
    baseline = _timed(lambda: store.read_snapshot(root), repeat)
    timings = {
        "checklist.evaluate": _timed(lambda: checklist.evaluate(tables, day, params), repeat),
        "checklist.counts_lazy": _timed(
            lambda: checklist.counts_lazy(tables, day, params).collect(), repeat
        ),
        "requirements.evaluate": _timed(lambda: requirements.evaluate(tables, day), repeat),
        "requirements.summary": _timed(
            lambda: requirements.summary(requirements.evaluate(tables, day)), repeat
        ),
    }
    print(f"{label} : {tables['etablissements'].height} établissements, "
          f"{tables['unites'].height} unités")
    print(f"  lecture seule (base)      {baseline:7.3f} s")
    for name, seconds in timings.items():
        print(f"  {name:<24} {seconds:7.3f} s  /base {seconds / baseline:6.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--scale", type=int, default=0, help="copies of the demo (0: skip)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "demo"
        regional.build_demo(root)
        _run(root, args.repeat, "Démo Île-de-France")
        if args.scale:
            big = Path(tmp) / "big"
            last = store.read_snapshot(root)
            store.write_snapshot(big, last.date, _scaled(last.tables, args.scale),
                                 extra=last.manifest.get("extra"))
            _run(big, args.repeat, f"Synthétique ×{args.scale}")


if __name__ == "__main__":
    main()
