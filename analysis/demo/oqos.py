"""Illustrative OQOS files for the demo stores: a fictitious zoning, targets and applications.

Written by the demo builders into ``STORE/oqos/`` (``oqos_files.save_store_file``, marked
``fictif``) after the snapshots, from the last snapshot and a random generator of its own
(``numpy.random.default_rng([seed, STREAM])``): the demo's own draws are untouched, so every
other demo value stays the same. Same seed, same bytes.

- **zoning**: each département cut in two zones at the population-weighted median of its
  communes' longitude (« Seine-et-Marne ouest (zone fictive) »); a one-commune département
  (Paris) is one zone. Real communes, invented zones.
- **targets**: per zone × mention, bounds drawn around the authorised count of the last
  snapshot so that every status and case shows: inside with slack, exactly at the minimum,
  exactly at the maximum, below the minimum, above the maximum, open bounds; polyvalent and
  gériatrie are targeted per forme (HC, HJ), the other mentions for every forme.
- **applications**: a few pending applications (and some already decided) of establishments
  of a zone for a mention they are not authorised for, and one new site without FINESS.

The files are « CSV pour Excel » as the workbench downloads them (French headers and labels,
``;``): the mapping of ``oqos_files.HEADERS`` reads them back.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import polars as pl

from analysis.geo import geography as geo
from analysis.indicators.opening import OpeningRule
from analysis.io import oqos_files
from analysis.model import nomenclature as nom
from analysis.present import export
from analysis.transition import oqos

#: Second entry of the generator's seed: a stream apart from the demo's.
STREAM = 17
#: Mentions whose targets are set per forme (HC, HJ) in the demo.
PER_FORME = ("ME050", "ME059")
FICTIVE = "zone fictive"


def demo_zoning(communes: pl.DataFrame, names: Mapping[str, str]) -> pl.DataFrame:
    """Two fictitious zones per département (west / east of the population-weighted median
    longitude), one for a one-commune département: commune_insee, zone, libelle_zone."""
    parts = []
    for dep, group in communes.sort("commune_insee").group_by("departement", maintain_order=True):
        dep = str(dep[0])
        name = names.get(dep, dep)
        if group.height == 1:
            parts.append(group.select("commune_insee").with_columns(
                pl.lit(f"Z{dep}").alias("zone"), pl.lit(f"{name} ({FICTIVE})").alias("libelle_zone")
            ))
            continue
        ordered = group.sort("x_l93", "commune_insee")
        cumulative = ordered["population"].cum_sum() / max(ordered["population"].sum(), 1)
        west = (cumulative <= 0.5).to_list()
        west[0] = True
        parts.append(ordered.select("commune_insee").with_columns(
            pl.Series("_w", west)
        ).select(
            "commune_insee",
            pl.when(pl.col("_w")).then(pl.lit(f"Z{dep}O")).otherwise(pl.lit(f"Z{dep}E"))
            .alias("zone"),
            pl.when(pl.col("_w")).then(pl.lit(f"{name} ouest ({FICTIVE})"))
            .otherwise(pl.lit(f"{name} est ({FICTIVE})")).alias("libelle_zone"),
        ))
    return pl.concat(parts).cast(oqos.ZONING_SCHEMA).sort("commune_insee")


def _bounds(rng: np.random.Generator, a: int) -> tuple[int | None, int | None]:
    """Bounds around the authorised count ``a``: each status and case has its share."""
    r = rng.random()
    if r < 0.22:
        return max(a - 1, 0), a + 1  # inside, with slack
    if r < 0.38:
        return max(a - 2, 0), a  # exactly at the maximum
    if r < 0.52:
        return a, a + 2  # exactly at the minimum
    if r < 0.66:
        return a + 1, a + 3  # below the minimum
    if r < 0.78 and a >= 1:
        return max(a - 3, 0), a - 1  # above the maximum
    if r < 0.90:
        return max(a - 1, 0), None  # no maximum
    return None, a + 1  # no minimum


def demo_targets(counts: pl.DataFrame, zones: list[str], rng: np.random.Generator) -> pl.DataFrame:
    """Targets per zone × mention (per forme for ``PER_FORME``) around ``counts``
    (``oqos.implantation_counts``)."""
    have = {
        (z, m, f): (a, d)
        for z, m, f, a, d in counts.select("zone", "mention", "forme", "autorisees", "decrites")
        .iter_rows()
    }
    rows = []
    for zone in zones:
        for mention in (m.code for m in nom.MENTIONS):
            formes = ("HC", "HJ") if mention in PER_FORME else (oqos.ALL_FORMES,)
            for forme in formes:
                a, d = have.get((zone, mention, forme), (0, 0))
                if a == 0 and d == 0:
                    if rng.random() < 0.7:
                        continue
                    low, high = (None, 1) if rng.random() < 0.5 else (1, 2)
                else:
                    low, high = _bounds(rng, a)
                rows.append({"zone": zone, "mention": mention, "forme": forme,
                             "min": low, "max": high})
    return pl.DataFrame(rows, schema=oqos.TARGET_SCHEMA, orient="row")


def demo_applications(
    status: pl.DataFrame,
    detail: pl.DataFrame,
    sites: pl.DataFrame,
    zoning: pl.DataFrame,
    day: dt.date,
    rng: np.random.Generator,
) -> pl.DataFrame:
    """Applications of establishments of a zone for a targeted mention they do not hold:
    mostly pending at ``day``, some decided before it; one new site without FINESS."""
    authorised = set(
        detail.filter(pl.col("type") == oqos.AUTORISEE)
        .select("finess_eg", "mention").iter_rows()
    )
    by_zone: dict[str, list[str]] = {}
    for finess, zone in sites.filter(pl.col("zone").is_not_null()).select(
        "finess_eg", "zone"
    ).sort("finess_eg").iter_rows():
        by_zone.setdefault(zone, []).append(finess)
    rows = []
    for r in status.iter_rows(named=True):
        if rng.random() > 0.12:
            continue
        pool = [f for f in by_zone.get(r["zone"], []) if (f, r["mention"]) not in authorised]
        if not pool:
            continue
        finess = pool[int(rng.integers(len(pool)))]
        filed = day - dt.timedelta(days=int(rng.integers(10, 160)))
        decided = None
        if rng.random() < 0.25:  # decided (refused or granted later on) before the date
            decided = filed + dt.timedelta(days=int(rng.integers(1, (day - filed).days)))
        rows.append({
            "finess_eg": finess, "commune_insee": None, "mention": r["mention"],
            "forme": None if r["forme"] == oqos.ALL_FORMES else r["forme"],
            "date_depot": filed, "date_decision": decided,
        })
    communes = zoning.sort("commune_insee")
    if communes.height and status.height:
        r = status.row(int(rng.integers(status.height)), named=True)
        in_zone = communes.filter(pl.col("zone") == r["zone"])["commune_insee"].to_list()
        if in_zone:
            rows.append({
                "finess_eg": None, "commune_insee": in_zone[int(rng.integers(len(in_zone)))],
                "mention": r["mention"],
                "forme": None if r["forme"] == oqos.ALL_FORMES else r["forme"],
                "date_depot": day - dt.timedelta(days=int(rng.integers(10, 90))),
                "date_decision": None,
            })
    frame = pl.DataFrame(rows, schema={k: v for k, v in oqos.APPLICATION_SCHEMA.items()
                                       if k != "demande_id"}, orient="row")
    ids = [f"DEM-{i:04d}" for i in range(1, frame.height + 1)]
    return frame.with_columns(pl.Series("demande_id", ids, dtype=pl.String)).select(
        list(oqos.APPLICATION_SCHEMA)
    )


def _csv(frame: pl.DataFrame) -> bytes:
    """A planner's CSV as the workbench downloads it (« CSV pour Excel »: French headers and
    labels, ``;``, dates JJ/MM/AAAA, UTF-8 with BOM), read back through ``HEADERS``."""
    return export.csv_bytes(frame, flavour=export.CSV_EXCEL)


def demo_files(
    tables: Mapping[str, pl.DataFrame],
    day: dt.date,
    region: str,
    seed: int,
    reference_dir: str | Path | None = None,
) -> dict[str, tuple[bytes, str]]:
    """The three illustrative files (kind → (bytes, file name)) for the snapshot ``tables``
    of ``day``."""
    rng = np.random.default_rng([seed, STREAM])
    communes = geo.load_communes(region, reference_dir)
    deps = geo.load_departements(region, reference_dir)
    zoning = demo_zoning(communes, dict(zip(deps["departement"], deps["nom"], strict=True)))
    lookup = oqos.zone_lookup(zoning, geo.load_arrondissements(region, reference_dir))
    rule = OpeningRule(day)
    detail = oqos.implantations(tables, rule, lookup)
    zones = sorted(zoning["zone"].unique().to_list())
    targets = demo_targets(oqos.implantation_counts(detail), zones, rng)
    result = oqos.oqos_status(tables, targets, zoning, rule, None,
                              geo.load_arrondissements(region, reference_dir))
    applications = demo_applications(result.status, detail, result.sites, zoning, day, rng)
    return {
        oqos_files.ZONING: (_csv(zoning), "zonage_fictif.csv"),
        oqos_files.TARGETS: (_csv(targets), "objectifs_oqos_fictifs.csv"),
        oqos_files.APPLICATIONS: (_csv(applications), "demandes_fictives.csv"),
    }


def write_demo_files(
    store: str | Path,
    tables: Mapping[str, pl.DataFrame],
    day: dt.date,
    region: str,
    seed: int,
    reference_dir: str | Path | None = None,
) -> list[str]:
    """Write the illustrative files as the store's OQOS setting, marked fictitious; a kind
    the planner set (not fictitious) is kept. Returns the kinds written."""
    current = oqos_files.store_info(store)
    written = []
    for kind, (data, name) in demo_files(tables, day, region, seed, reference_dir).items():
        if kind in current and not current[kind].get("fictif"):
            continue
        oqos_files.save_store_file(store, kind, data, name, fictif=True,
                                   saved_at=day.isoformat())
        written.append(kind)
    return written
