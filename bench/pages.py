"""First render and cached re-render of every page on the national store, through AppTest.

Usage::

    python bench/pages.py [--store STORE] [--days 365] [--repeat 3] [--pages carte,campagne]

Without ``--store``, writes the national demo (``smr demo --region all --days N``, needs
``data/reference/all/``: ``python scripts/build_reference.py --region all``) in a temporary
folder. For each page, in this process and with ``SMR_STORE`` set to the store:

- first render: Streamlit's caches and the reference-geography caches are emptied, then the
  page is opened (``AppTest.switch_page`` + ``run``), so the time includes reading the
  snapshot and every computation the page caches;
- re-render: ``run`` again with the same selections (what a widget change that hits the
  caches costs).

The Objectifs page keeps the zones' outlines of the store's zoning in ``STORE/oqos/contours/``
(computed, then written, at the first run on a store; read back afterwards, as a deployed
app does): run it on a copy of a store that must not be written to.

``carte:communes`` is the Carte page switched to the commune level (nationally: the
communes of one département), caches emptied just before.

The baseline measured in the same run is the home page's re-render (the cheapest page,
a floor for Streamlit's own overhead). Prints seconds and ratios, with the median of
``--repeat`` runs. Goals (issue #9): first render under 3 s, re-render under 0.5 s on the
2-core machine. The CPU columns (this process's CPU time over the render, every thread:
Streamlit's script thread and Polars' pool) vary less than the wall clock when others share
the machine. Not part of the test run.
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

PAGES = (
    "accueil",
    "carte",
    "carte:communes",
    "territoires",
    "campagne",
    "synchronisation",
    "qualite",
    "transition",
    "objectifs",
    "import",
)


def _clear_caches() -> None:
    import streamlit as st

    from analysis.geo import geography

    st.cache_data.clear()
    st.cache_resource.clear()
    geography._read_table.cache_clear()
    geography._read_geo.cache_clear()


def _page_times(page: str) -> tuple[float, float, float, float, list[str]]:
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=600)
    at.run()
    _clear_caches()
    at.switch_page(f"app_pages/{page.split(':')[0]}.py")
    if page == "carte:communes":  # the communes of one département (the first one)
        at.run()
        _clear_caches()
        at.radio(key="carte_niveau").set_value("commune")
    start, cpu = time.perf_counter(), time.process_time()
    at.run()
    first, first_cpu = time.perf_counter() - start, time.process_time() - cpu
    start, cpu = time.perf_counter(), time.process_time()
    at.run()
    again, again_cpu = time.perf_counter() - start, time.process_time() - cpu
    problems = [str(e.value)[:200] for e in at.exception]
    return first, again, first_cpu, again_cpu, problems


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", type=Path, default=None, help="magasin déjà écrit")
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--pages", default=",".join(PAGES))
    args = parser.parse_args()
    tmp = None
    store_path = args.store
    if store_path is None:
        from analysis.demo import national

        tmp = tempfile.TemporaryDirectory()
        store_path = Path(tmp.name) / "national"
        start = time.perf_counter()
        national.build_daily_demo(store_path, days=args.days)
        print(f"magasin national : {args.days} instantanés en {time.perf_counter() - start:.1f} s")
    os.environ["SMR_STORE"] = str(store_path)
    os.chdir(ROOT)
    print(f"charge de la machine : {os.getloadavg()[0]:.1f} ({os.cpu_count()} cœurs)")
    pages = [p for p in args.pages.split(",") if p]
    floor = []
    for _ in range(args.repeat):
        floor.append(_page_times("accueil")[1])
    base = statistics.median(floor)
    print(f"base : re-rendu de l'accueil {base:.2f} s")
    print(f"{'page':<16}{'1er rendu (s)':>14}{'re-rendu (s)':>14}{'1er/base':>10}{'re/base':>9}"
          f"{'1er CPU (s)':>13}{'re CPU (s)':>12}")
    for page in pages:
        firsts, agains, first_cpus, again_cpus, problems = [], [], [], [], []
        for _ in range(args.repeat):
            first, again, first_cpu, again_cpu, problems = _page_times(page)
            firsts.append(first)
            agains.append(again)
            first_cpus.append(first_cpu)
            again_cpus.append(again_cpu)
        f, a = statistics.median(firsts), statistics.median(agains)
        fc, ac = statistics.median(first_cpus), statistics.median(again_cpus)
        flag = "" if f < 3 and a < 0.5 else "  (objectif manqué)"
        print(f"{page:<16}{f:>14.2f}{a:>14.2f}{f / base:>10.1f}{a / base:>9.1f}{fc:>13.2f}"
              f"{ac:>12.2f}{flag}")
        for p in problems:
            print(f"    exception : {p}")
    print(f"charge de la machine à la fin : {os.getloadavg()[0]:.1f}")
    if tmp is not None:
        tmp.cleanup()


if __name__ == "__main__":
    main()
