"""Paris, Lyon and Marseille arrondissements as origins: exact sums to the communes.

Access indicators are measured from each arrondissement; the commune rows (and every larger
territory) must be the population-weighted aggregate of their arrondissement rows, recomputed
here independently; the nearest establishment of each arrondissement is checked against a
brute-force second implementation.
"""

from __future__ import annotations

import numpy as np
import polars as pl
import pyproj
import pytest

from analysis.geo import geography
from analysis.indicators import access, coverage, territories
from analysis.indicators.opening import OpeningRule
from analysis.io import store
from tests.helpers import small_snapshot

PARIS = "75056"
ARRONDISSEMENTS = [f"751{i:02d}" for i in range(1, 21)]


@pytest.fixture(scope="module")
def origins() -> pl.DataFrame:
    return geography.load_origins("11")


def test_origins_replace_paris_by_its_arrondissements(origins):
    communes = geography.load_communes("11")
    assert PARIS not in origins["commune_insee"].to_list()
    paris = origins.filter(pl.col("code_commune") == PARIS)
    assert sorted(paris["commune_insee"].to_list()) == ARRONDISSEMENTS
    assert set(paris["nom_commune"]) == {"Paris"} and set(paris["departement"]) == {"75"}
    # every commune's population is the sum of its origins
    assert paris["population"].sum() == communes.filter(pl.col("commune_insee") == PARIS)[
        "population"
    ].item()
    assert origins["population"].sum() == communes["population"].sum()


def test_an_arrondissement_population_is_rescaled_to_its_commune():
    communes = pl.DataFrame(
        {
            "commune_insee": ["75056", "92012"],
            "nom": ["Paris", "Boulogne"],
            "departement": ["75", "92"],
            "region": ["11", "11"],
            "epci": ["E", "E"],
            "epci_nom": ["MGP", "MGP"],
            "population": [300, 100],
            "x_l93": [0.0, 1.0],
            "y_l93": [0.0, 1.0],
            "lat_point": [48.0, 48.0],
            "lon_point": [2.0, 2.0],
        }
    )
    arr = pl.DataFrame(
        {
            "commune_insee": ["75101", "75102"],
            "commune_parent": ["75056", "75056"],
            "nom": ["1er", "2e"],
            "departement": ["75", "75"],
            "population": [100, 50],  # older vintage: adds up to 150, not 300
            "x_l93": [0.0, 0.5],
            "y_l93": [0.0, 0.5],
            "lat_point": [48.0, 48.0],
            "lon_point": [2.0, 2.0],
        }
    )
    out = geography.origins_from(communes, arr)
    got = dict(out.select("commune_insee", "population").iter_rows())
    assert got == {"75101": 200.0, "75102": 100.0, "92012": 100.0}


def test_an_establishment_of_paris_lies_in_its_arrondissement(origins):
    # Centre SMR Paris Auteuil (48.8467 N, 2.2646 E, given as 75056) is in the 16th
    tables = small_snapshot()
    places = coverage.establishment_territories(tables["etablissements"], origins)
    got = dict(places.select("finess_eg", "commune_insee").iter_rows())
    assert got["750000011"] == "75116"
    # an arrondissement code is used as it is
    moved = tables["etablissements"].with_columns(
        pl.when(pl.col("finess_eg") == "750000011")
        .then(pl.lit("75113"))
        .otherwise(pl.col("commune_insee"))
        .alias("commune_insee")
    )
    places = coverage.establishment_territories(moved, origins)
    assert dict(places.select("finess_eg", "commune_insee").iter_rows())["750000011"] == "75113"


def test_coverage_arrondissement_level_adds_up_to_communes(origins):
    tables = small_snapshot()
    fine = coverage.capacity_by_territory(tables, origins, "arrondissement", forme="toutes")
    commune = coverage.capacity_by_territory(tables, origins, "commune", forme="toutes")
    for mention in ("ME050", "ME059"):
        arr = fine.filter(pl.col("territoire").is_in(ARRONDISSEMENTS) & (pl.col("mention") == mention))
        whole = commune.filter((pl.col("territoire") == PARIS) & (pl.col("mention") == mention))
        assert arr["lits"].sum() == whole["lits"].item() > 0
        assert arr["population"].sum() == whole["population"].item()
        assert arr.filter(pl.col("lits") > 0)["territoire"].to_list() == ["75116"]
    assert fine.filter(pl.col("territoire") == "75116")["nom"][0].startswith("Paris 16e")


def _weighted(values, weights):
    v = np.asarray(values, dtype=float)
    w = np.asarray(weights, dtype=float)
    ok = ~np.isnan(v)
    return float((v[ok] * w[ok]).sum() / w[ok].sum())


@pytest.mark.parametrize("mention", ["ME050", "ME059", "ME052"])
def test_commune_and_departement_rows_aggregate_the_arrondissements(demo_store, origins, mention):
    snap = store.read_snapshot(demo_store)
    rule = OpeningRule(snap.date)
    fine = territories.territory_indicators(
        snap.tables, origins, "arrondissement", mention, opening=rule
    )
    by = {
        level: territories.territory_indicators(
            snap.tables, origins, level, mention, opening=rule
        )
        for level in ("commune", "departement")
    }
    paris_rows = fine.filter(pl.col("territoire").is_in(ARRONDISSEMENTS))
    assert paris_rows.height == 20
    assert set(paris_rows["code_commune"]) == {PARIS}
    for level, key in (("commune", PARIS), ("departement", "75")):
        row = by[level].filter(pl.col("territoire") == key).row(0, named=True)
        w = paris_rows["population"].to_list()
        assert row["population"] == pytest.approx(sum(w), rel=1e-12)
        assert row["lits"] == paris_rows["lits"].sum()
        assert row["temps_plus_proche"] == pytest.approx(
            _weighted(paris_rows["temps_plus_proche"].to_list(), w), rel=1e-12
        )
        assert row["acces_e2sfca"] == pytest.approx(
            _weighted(paris_rows["acces_e2sfca"].to_list(), w), rel=1e-12
        )
        assert row["part_30min"] == pytest.approx(
            _weighted(paris_rows["part_30min"].to_list(), w), rel=1e-12
        )
    # a commune with a single origin keeps its own values exactly
    one = fine.filter(pl.col("territoire") == "92012").row(0, named=True)
    same = by["commune"].filter(pl.col("territoire") == "92012").row(0, named=True)
    assert same["temps_plus_proche"] == one["temps_plus_proche"]
    assert same["finess_plus_proche"] == one["finess_plus_proche"]


def test_nearest_from_each_arrondissement_matches_brute_force(demo_store, origins):
    snap = store.read_snapshot(demo_store)
    rule = OpeningRule(snap.date)
    near = access.nearest_by_mention(snap.tables, origins, ["ME059"], opening=rule)
    sites = access.sites_for(snap.tables, origins, "ME059", opening=rule)
    to_l93 = pyproj.Transformer.from_crs("EPSG:4326", "EPSG:2154", always_xy=True)
    sx, sy = to_l93.transform(sites["lon"].to_numpy(), sites["lat"].to_numpy())
    paris = origins.filter(pl.col("code_commune") == PARIS)
    got = dict(near.select("commune_insee", "minutes").iter_rows())
    for code, x, y in paris.select("commune_insee", "x_l93", "y_l93").iter_rows():
        km = np.hypot(np.asarray(sx) - x, np.asarray(sy) - y).min() / 1000
        assert got[code] == pytest.approx(km * 1.3 / 40 * 60, rel=1e-9)
