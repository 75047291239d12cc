"""OQOS targets by zone on the national store: time to compute, as ratios to a bare scan.

Usage::

    python bench/oqos.py [--store STORE] [--repeat 5]

Without ``--store``, writes the national demo (``smr demo --region all``: 11 snapshots, the
illustrative fictitious targets, zoning and applications in ``STORE/oqos/``; needs
``data/reference/all/``, see ``scripts/build_reference.py``) in a temporary folder. One
snapshot (the latest) is measured; every measure is repeated ``--repeat`` times in this
process, medians printed, caches of the reference geography warm (as in the app):

- ``base``: bare scan of the snapshot, ``store.read_snapshot`` (every table read, checksums
  not verified), the baseline of the ratios;
- ``fichiers``: ``oqos_files.inputs_for``: targets, zoning (one line per commune of France)
  and applications read and checked;
- ``oqos_status``: counts, statuses and headroom of every target (open-at-date rule,
  authorisations, offers, applications placed in their zone), what ``smr oqos`` and the
  page compute;
- ``ecarts``: ``transition.transition_gaps`` on the open snapshot (the lists behind a cell);
- ``contours``: ``oqos.zone_shapes`` (the communes dissolved into zones, simplified): the
  page's map, computed once per zoning and cached.

Not part of the test run; prints the figures and the matrix size.
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


def _median(fn, repeat: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", type=Path, default=None, help="magasin national déjà écrit")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    from analysis.demo import national as demo_national
    from analysis.geo import geography as geo
    from analysis.indicators import opening
    from analysis.io import oqos_files, store
    from analysis.transition import oqos
    from analysis.transition.gaps import transition_gaps

    tmp = None
    path = args.store
    if path is None:
        missing = demo_national.reference_missing_message()
        if missing:
            sys.exit(missing)
        tmp = tempfile.TemporaryDirectory()
        path = Path(tmp.name) / "national"
        start = time.perf_counter()
        demo_national.build_national_demo(path)
        print(f"magasin national : {time.perf_counter() - start:.1f} s")
    date = store.latest_snapshot(path)
    region = str((store.read_manifest(path / date.isoformat()).get("extra") or {})
                 .get("region") or "all")
    print(f"charge de la machine : {os.getloadavg()[0]:.1f} ({os.cpu_count()} cœurs)")
    arrondissements = geo.load_arrondissements(region)
    communes_geo = geo.load_communes_geo(region)

    base, snap = _median(lambda: store.read_snapshot(path, date, verify=False), args.repeat)
    files, inputs = _median(lambda: oqos_files.inputs_for(region, path), args.repeat)
    rule = opening.OpeningRule(date)
    compute, result = _median(
        lambda: oqos.oqos_status(snap.tables, inputs.targets, inputs.zoning, rule,
                                 inputs.applications, arrondissements),
        args.repeat,
    )
    gaps, _ = _median(
        lambda: transition_gaps(opening.open_tables(snap.tables, rule), date),
        args.repeat,
    )
    lookup = oqos.zone_lookup(inputs.zoning, arrondissements)
    shapes, _ = _median(lambda: oqos.zone_shapes(communes_geo, lookup, 0.005),
                        max(1, args.repeat // 2))

    status = result.status
    print(f"instantané du {date:%d/%m/%Y}, région {region} : "
          f"{snap.tables['etablissements'].height} établissements, "
          f"{snap.tables['autorisations'].height} autorisations, "
          f"{snap.tables['offres'].height} offres ; {inputs.zoning['zone'].n_unique()} zones, "
          f"{status.height} objectifs ({oqos.status_totals(status)})")
    print(f"{'mesure':<14}{'médiane (s)':>12}{'÷ base':>9}")
    for name, value in (("base", base), ("fichiers", files), ("oqos_status", compute),
                        ("ecarts", gaps), ("contours", shapes)):
        print(f"{name:<14}{value:>12.3f}{value / base:>9.2f}")
    print(f"charge de la machine à la fin : {os.getloadavg()[0]:.1f}")
    if tmp is not None:
        tmp.cleanup()


if __name__ == "__main__":
    main()
