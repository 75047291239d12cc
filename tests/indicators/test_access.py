"""Distances, travel times, nearest site, thresholds and 2SFCA / E2SFCA.

Checked against hand-worked cases, brute-force re-computations, a haversine cross-check of the
Lambert-93 distances, analytical cases (huge / tiny catchment) and the reference
implementation of the PySAL ``access`` package, used as an oracle on the same inputs.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import polars as pl
import pytest
from access import Access, weights

from analysis import cli
from analysis.geo import geography
from analysis.indicators import access
from analysis.io import parameter_files, store
from analysis.model.errors import InputError
from tests.helpers import ETABLISSEMENTS, small_snapshot

REL = 1e-9
# PySAL access calls set_index(inplace=True), deprecated by pandas: not our code
pytestmark = pytest.mark.filterwarnings("ignore:The inplace keyword")


def haversine_km(lat1, lon1, lat2, lon2) -> float:
    r = 6371.0088
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(math.sqrt(a))


def random_layout(seed: int, n_origins: int = 80, n_sites: int = 20, side_km: float = 60.0):
    """Origins (communes) and sites on a square in metres, positive populations and supply."""
    rng = np.random.default_rng(seed)
    ox, oy = rng.uniform(0, side_km * 1000, (2, n_origins)) + np.array([[600_000], [6_800_000]])
    sx, sy = rng.uniform(0, side_km * 1000, (2, n_sites)) + np.array([[600_000], [6_800_000]])
    origins = pl.DataFrame(
        {
            "commune_insee": [f"{77000 + i:05d}" for i in range(n_origins)],
            "x_l93": ox,
            "y_l93": oy,
            "population": rng.integers(50, 20_000, n_origins).astype(float),
        }
    )
    sites = pl.DataFrame(
        {
            "finess_eg": [f"77{i:07d}" for i in range(n_sites)],
            "x_l93": sx,
            "y_l93": sy,
            "capacite": rng.integers(5, 120, n_sites),
        }
    )
    return origins, sites


def full_cost_table(origins: pl.DataFrame, sites: pl.DataFrame, model: access.TravelModel):
    """Every origin × site pair with its time, by brute force (numpy broadcasting)."""
    ox, oy = origins["x_l93"].to_numpy(), origins["y_l93"].to_numpy()
    sx, sy = sites["x_l93"].to_numpy(), sites["y_l93"].to_numpy()
    km = np.hypot(ox[:, None] - sx[None, :], oy[:, None] - sy[None, :]) / 1000
    minutes = km * model.detour_factor / model.speed_kmh * 60
    o = np.repeat(origins["commune_insee"].to_numpy(), len(sites))
    s = np.tile(sites["finess_eg"].to_numpy(), len(origins))
    return pd.DataFrame({"origin": o, "dest": s, "cost": minutes.ravel()})


def pysal_scores(origins, sites, cost_df, method, catchment=None, zones=access.DEFAULT_ZONES):
    """Accessibility from PySAL ``access`` (per inhabitant; NaN where nothing is reached)."""
    a = Access(
        demand_df=origins.select("commune_insee", "population").to_pandas(),
        demand_index="commune_insee",
        demand_value="population",
        supply_df=sites.select("finess_eg", pl.col("capacite").cast(pl.Float64)).to_pandas(),
        supply_index="finess_eg",
        supply_value="capacite",
        cost_df=cost_df,
        cost_origin="origin",
        cost_dest="dest",
        cost_name="cost",
    )
    if method == "2sfca":
        out = a.two_stage_fca(name="m", max_cost=catchment)
    else:
        out = a.enhanced_two_stage_fca(name="m", weight_fn=weights.step_fn(dict(zones)))
    return out["m_capacite"].reindex(origins["commune_insee"].to_list()).to_numpy()


def assert_matches_pysal(ours: pl.DataFrame, theirs: np.ndarray) -> None:
    mine = ours["acces"].to_numpy() / access.PER
    reached = ~np.isnan(theirs)
    assert reached.sum() > 5  # the case is not trivial
    rel = np.abs(mine[reached] - theirs[reached]) / np.maximum(np.abs(theirs[reached]), 1e-300)
    assert rel.max() < REL, rel.max()
    # PySAL leaves unreached communes missing; we give them 0 (documented)
    assert np.all(mine[~reached] == 0)


# ------------------------------------------------------------------------ travel model


def test_travel_model_formula_and_defaults():
    m = access.TravelModel()
    assert (m.speed_kmh, m.detour_factor) == (40.0, 1.3)
    # 15 km as the crow flies × 1.3 = 19.5 km of road at 40 km/h = 29.25 minutes
    assert m.minutes(15.0) == pytest.approx(29.25)
    assert m.km_within(29.25) == pytest.approx(15.0)
    assert access.TravelModel(60, 1.0).minutes(np.array([0.0, 30.0])).tolist() == [0.0, 30.0]
    with pytest.raises(InputError, match="vitesse invalide"):
        access.TravelModel(0)
    with pytest.raises(InputError, match="coefficient de détour invalide"):
        access.TravelModel(40, 0.9)


def test_lambert93_distances_agree_with_haversine():
    communes = geography.load_communes("11").sample(60, seed=3)
    rows = communes.select("lat_point", "lon_point", "x_l93", "y_l93").rows()
    for (la1, lo1, x1, y1), (la2, lo2, x2, y2) in zip(rows[:-1], rows[1:], strict=True):
        km = access.straight_km(x1, y1, x2, y2)
        assert km == pytest.approx(haversine_km(la1, lo1, la2, lo2), rel=0.005)
    # establishments: their own coordinates through geography.to_l93
    pts = access.site_points(small_snapshot()["etablissements"], communes)
    a, b = pts.row(0, named=True), pts.row(2, named=True)
    assert a["localisation"] == "coordonnees"
    la1, lo1 = ETABLISSEMENTS[a["finess_eg"]][1:]
    la2, lo2 = ETABLISSEMENTS[b["finess_eg"]][1:]
    km = access.straight_km(a["x_l93"], a["y_l93"], b["x_l93"], b["y_l93"])
    assert km == pytest.approx(haversine_km(la1, lo1, la2, lo2), rel=0.005)


def test_establishments_without_coordinates_use_their_commune_point():
    communes = geography.load_communes("11")
    etabs = small_snapshot()["etablissements"].with_columns(
        pl.when(pl.col("finess_eg") == "940000039")
        .then(None)
        .otherwise(pl.col("latitude"))
        .alias("latitude"),
        pl.when(pl.col("finess_eg") == "750000011")
        .then(pl.lit("75116"))
        .otherwise(pl.col("commune_insee"))
        .alias("commune_insee"),
    )
    pts = access.site_points(etabs, communes)
    creteil = pts.filter(pl.col("finess_eg") == "940000039").row(0, named=True)
    ref = communes.filter(pl.col("commune_insee") == "94028").row(0, named=True)
    assert creteil["localisation"] == "commune"
    assert (creteil["x_l93"], creteil["y_l93"]) == (ref["x_l93"], ref["y_l93"])
    paris = pts.filter(pl.col("finess_eg") == "750000011").row(0, named=True)
    assert paris["commune_insee"] == "75056" and paris["localisation"] == "coordonnees"


# --------------------------------------------------------------------------- nearest


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_nearest_matches_a_brute_force_double_loop(seed):
    origins, sites = random_layout(seed, 40, 9)
    got = access.nearest_site(origins, sites)
    model = access.TravelModel()
    for i, (ox, oy) in enumerate(origins.select("x_l93", "y_l93").rows()):
        best, best_km = None, math.inf
        for f, sx, sy in sites.select("finess_eg", "x_l93", "y_l93").rows():
            km = math.hypot(ox - sx, oy - sy) / 1000
            if km < best_km:
                best, best_km = f, km
        row = got.row(i, named=True)
        assert row["finess_eg"] == best
        assert row["km"] == pytest.approx(best_km, rel=1e-12)
        assert row["minutes"] == pytest.approx(float(model.minutes(best_km)), rel=1e-12)


def test_nearest_with_a_cost_table_replaces_the_model():
    origins = pl.DataFrame(
        {
            "commune_insee": ["75056", "77001", "77002"],
            "x_l93": [0.0, 0.0, 0.0],
            "y_l93": [0.0, 1000.0, 2000.0],
        }
    )
    sites = pl.DataFrame(
        {
            "finess_eg": ["750000011", "770000010", "770000028"],
            "x_l93": [0.0, 3000.0, None],
            "y_l93": [0.0, 4000.0, None],
        }
    )
    costs = pl.DataFrame(
        {
            "commune_insee": ["75101", "75102", "77001", "77001", "77001", "99999"],
            "finess_eg": [
                "770000010",
                "770000010",
                "750000011",
                "770000010",
                "770000028",
                "750000011",
            ],
            "minutes": [20.0, 30.0, 12.0, 12.0, 5.0, 1.0],
        }
    )
    got = {
        r["commune_insee"]: r
        for r in access.nearest_site(origins, sites, costs=costs).iter_rows(named=True)
    }
    # Paris: arrondissement rows averaged ((20 + 30) / 2), the model's 0-km site is ignored
    assert got["75056"]["finess_eg"] == "770000010" and got["75056"]["minutes"] == 25.0
    assert got["75056"]["km"] == pytest.approx(5.0)  # straight line still reported
    # 77001: the quickest in the table, even without coordinates (km then unknown)
    assert got["77001"]["finess_eg"] == "770000028" and got["77001"]["km"] is None
    # 77002: absent from the table → unreachable
    assert got["77002"]["finess_eg"] is None and got["77002"]["minutes"] is None
    tie = costs.filter(pl.col("finess_eg") != "770000028")
    got = access.nearest_site(origins, sites, costs=tie).row(1, named=True)
    assert got["finess_eg"] == "750000011"  # equal times: lowest FINESS


def test_nearest_by_mention_on_the_small_snapshot():
    communes = geography.load_communes("11")
    near = access.nearest_by_mention(small_snapshot(), communes, ["ME051", "ME057"])
    assert near.height == 2 * communes.height
    boulogne = near.filter((pl.col("commune_insee") == "92012") & (pl.col("mention") == "ME051"))
    row = boulogne.row(0, named=True)
    assert row["finess_eg"] == "920000025" and row["raison_sociale"].startswith("Clinique")
    ref = communes.filter(pl.col("commune_insee") == "92012").row(0, named=True)
    km = haversine_km(ref["lat_point"], ref["lon_point"], 48.8353, 2.2410)
    assert row["km"] == pytest.approx(km, rel=0.005, abs=0.02)
    assert near.filter(pl.col("mention") == "ME057")["minutes"].null_count() == communes.height


# ------------------------------------------------------------------------ thresholds


def test_population_within_thresholds_hand_worked():
    communes = pl.DataFrame(
        {
            "commune_insee": ["A", "B", "C", "D"],
            "departement": ["1", "1", "1", "2"],
            "epci": ["e", "e", "e", "f"],
            "epci_nom": ["E", "E", "E", "F"],
            "population": [1000, 3000, 6000, 500],
        }
    )
    nearest = pl.DataFrame(
        {
            "commune_insee": ["A", "B", "C", "D"],
            "mention": ["ME050"] * 4,
            "finess_eg": ["x", "y", "y", None],
            "minutes": [10.0, 15.0, 50.0, None],
            "km": [5.0, 7.0, 25.0, None],
        }
    )
    out = access.population_within(nearest, communes, "departement", (15, 30))
    one = out.filter(pl.col("territoire") == "1").row(0, named=True)
    # ≤ 15 min (bound inclusive): A and B = 4000 of 10000
    assert one["population_15min"] == 4000 and one["part_15min"] == pytest.approx(40.0)
    assert one["part_30min"] == pytest.approx(40.0)
    assert one["temps_moyen"] == pytest.approx((1000 * 10 + 3000 * 15 + 6000 * 50) / 10000)
    two = out.filter(pl.col("territoire") == "2").row(0, named=True)
    assert two["population_sans_acces"] == 500 and two["part_30min"] == 0.0
    assert two["temps_moyen"] is None
    beyond = access.communes_beyond(
        nearest, communes.with_columns(pl.col("commune_insee").alias("nom")), 15
    )
    assert beyond["commune_insee"].to_list() == ["C", "D"]  # most populated first


# ------------------------------------------------------------------ weights and FCA


def test_step_weights_match_pysal_step_function():
    fn = weights.step_fn(dict(access.DEFAULT_ZONES))
    times = np.array([0, 5, 10, 10.0001, 20, 20.5, 30, 30.0001, 45])
    ours = access.step_weights(times, access.DEFAULT_ZONES)
    assert ours.tolist() == [fn(t) for t in times]
    assert ours.tolist() == [1, 1, 1, 0.68, 0.68, 0.22, 0.22, 0, 0]
    assert access.scaled_zones(access.DEFAULT_ZONES, 60) == ((20, 1.0), (40, 0.68), (60, 0.22))
    with pytest.raises(InputError, match="bornes des zones"):
        access.validate_zones([(20, 1.0), (10, 0.5)])


def test_two_step_scores_hand_worked():
    # PySAL-style two communes, one site: E2SFCA weights 1 and 0.68
    scores, ratio = access.two_step_scores(
        np.array([0, 1]),
        np.array([0, 0]),
        np.array([1.0, 0.68]),
        np.array([10.0, 30.0]),
        np.array([4.0]),
    )
    assert ratio[0] == pytest.approx(4 / 30.4)
    assert scores.tolist() == pytest.approx([4 / 30.4, 0.68 * 4 / 30.4])
    # a site reached by no inhabitant serves nobody (no division by zero)
    scores, ratio = access.two_step_scores(
        np.array([0]), np.array([0]), np.array([1.0]), np.array([0.0]), np.array([5.0, 3.0])
    )
    assert ratio.tolist() == [0.0, 0.0] and scores.tolist() == [0.0]


@pytest.mark.parametrize("seed", [11, 12, 13, 14])
@pytest.mark.parametrize("catchment", [10.0, 30.0, 60.0])
def test_2sfca_matches_pysal(seed, catchment):
    origins, sites = random_layout(seed)
    model = access.TravelModel()
    ours = access.floating_catchment(origins, sites, "2sfca", catchment)
    theirs = pysal_scores(
        origins, sites, full_cost_table(origins, sites, model), "2sfca", catchment
    )
    assert_matches_pysal(ours, theirs)


@pytest.mark.parametrize("seed", [21, 22, 23, 24])
@pytest.mark.parametrize("detour", [1.0, 1.3])
def test_e2sfca_matches_pysal(seed, detour):
    origins, sites = random_layout(seed)
    model = access.TravelModel(40, detour)
    ours = access.floating_catchment(origins, sites, "e2sfca", model=model)
    theirs = pysal_scores(origins, sites, full_cost_table(origins, sites, model), "e2sfca")
    assert_matches_pysal(ours, theirs)
    # a 60-minute catchment rescales the zones: the same as PySAL's 20 / 40 / 60 steps
    ours = access.floating_catchment(origins, sites, "e2sfca", 60, model=model)
    zones = access.scaled_zones(access.DEFAULT_ZONES, 60)
    theirs = pysal_scores(
        origins, sites, full_cost_table(origins, sites, model), "e2sfca", zones=zones
    )
    assert_matches_pysal(ours, theirs)


@pytest.mark.parametrize("method", ["2sfca", "e2sfca"])
def test_fca_with_a_cost_table_matches_pysal_on_the_same_table(method):
    origins, sites = random_layout(31)
    rng = np.random.default_rng(5)
    full = full_cost_table(origins, sites, access.TravelModel())
    table = full.sample(frac=0.5, random_state=7).copy()  # absent pairs: unreachable
    table["cost"] = rng.uniform(0, 45, len(table))
    costs = pl.DataFrame(
        {
            "commune_insee": table["origin"].to_list(),
            "finess_eg": table["dest"].to_list(),
            "minutes": table["cost"].to_numpy(),
        }
    )
    ours = access.floating_catchment(origins, sites, method, costs=costs)
    theirs = pysal_scores(origins, sites, table, method, access.DEFAULT_CATCHMENT_MIN)
    assert_matches_pysal(ours, theirs)


@pytest.mark.parametrize("method", ["2sfca", "e2sfca"])
def test_very_large_catchment_gives_total_supply_over_total_demand(method):
    origins, sites = random_layout(41)
    ours = access.floating_catchment(origins, sites, method, 100_000.0)
    expected = sites["capacite"].sum() / origins["population"].sum() * access.PER
    assert np.allclose(ours["acces"].to_numpy(), expected, rtol=1e-12)


def test_tiny_catchment_makes_each_site_serve_only_its_own_commune():
    origins, _ = random_layout(51, 30, 0)
    hosts = [0, 4, 9, 17]
    sites = pl.DataFrame(
        {
            "finess_eg": [f"77{i:07d}" for i in range(len(hosts))],
            "x_l93": origins["x_l93"].to_numpy()[hosts],
            "y_l93": origins["y_l93"].to_numpy()[hosts],
            "capacite": [10, 20, 30, 40],
        }
    )
    for method in ("2sfca", "e2sfca"):
        ours = access.floating_catchment(origins, sites, method, 0.001)["acces"].to_numpy()
        pop = origins["population"].to_numpy()
        expected = np.zeros(origins.height)
        expected[hosts] = np.array([10, 20, 30, 40]) / pop[hosts] * access.PER
        assert np.allclose(ours, expected, rtol=1e-12)


def test_fca_conserves_supply_and_reports_sites_reached():
    origins, sites = random_layout(61)
    out = access.floating_catchment(origins, sites, "e2sfca")
    # Σ_i P_i A_i = Σ_j S_j over sites that reach at least one inhabitant
    pairs = access.pairs_within(origins, sites, 30.0)
    served = np.unique(pairs.site)
    total = (out["acces"] * out["population"]).sum() / access.PER
    assert total == pytest.approx(sites["capacite"].to_numpy()[served].sum(), rel=1e-12)
    counts = np.bincount(pairs.origin, minlength=origins.height)
    assert out["sites_atteints"].to_list() == counts.tolist()


def test_weighted_median():
    assert access.weighted_median(np.array([1.0, 2.0, 3.0]), np.array([1, 1, 10])) == 3.0
    assert access.weighted_median(np.array([5.0, 1.0, 2.0]), np.array([1, 1, 1])) == 2.0
    assert access.weighted_median(np.array([1.0, 9.0]), np.array([0, 0])) is None


def test_accessibility_of_a_mention_with_age_file_and_cost_table(tmp_path):
    communes = geography.load_communes("11")
    t = small_snapshot()
    acc = access.accessibility(t, communes, "ME051", "2sfca", catchment_min=1000)
    total = communes["population"].sum()
    assert np.allclose(acc["acces"].to_numpy(), 40 / total * 1e5)
    assert np.allclose(acc["ratio_mediane"].to_numpy(), 1.0)
    # cost table: only two communes reach the pediatric site, at 10 and 25 minutes
    costs = pl.DataFrame(
        {
            "commune_insee": ["94028", "94080"],
            "finess_eg": ["940000039", "940000039"],
            "minutes": [10.0, 25.0],
        }
    )
    ages = communes.select(
        "commune_insee",
        (pl.col("population") * 0.2).alias("moins_18"),
        (pl.col("population") * 0.1).alias("plus_75"),
        pl.col("population").alias("total"),
    )
    acc = access.accessibility(t, communes, "ME060", "e2sfca", costs=costs, population_ages=ages)
    kids = dict(zip(ages["commune_insee"], ages["moins_18"], strict=True))
    r = 12 / (kids["94028"] * 1.0 + kids["94080"] * 0.22)
    got = dict(zip(acc["commune_insee"], acc["acces"], strict=True))
    assert got["94028"] == pytest.approx(r * 1e5, rel=1e-12)
    assert got["94080"] == pytest.approx(0.22 * r * 1e5, rel=1e-12)
    assert sum(v > 0 for v in got.values()) == 2
    assert set(acc["denominateur"]) == {"population de moins de 18 ans"}
    assert acc["ratio_mediane"].null_count() == acc.height  # median is 0: no ratio


# ------------------------------------------------------------------ bad cost files


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("commune_insee,finess_eg\n75056,750000011\n", "colonne(s) manquante(s) : minutes"),
        (
            "commune_insee,finess_eg,minutes\n75056,750000011,dix\n",
            "ligne 2, colonne minutes : valeur « dix » invalide",
        ),
        ("commune_insee,finess_eg,minutes\n75056,750000011,-4\n", "nombre positif ou nul"),
        (
            "commune_insee,finess_eg,minutes\n75056,75000001,4\n75056,7500X0011,4\n",
            "ligne 3, colonne finess_eg : numéro FINESS « 7500X0011 » invalide",
        ),
        (
            "commune_insee,finess_eg,minutes\n75056,750000011,4\n75056,750000011,5\n",
            "ligne 3 : couple commune 75056 → établissement 750000011 en double (déjà ligne 2)",
        ),
        ("commune_insee,finess_eg,minutes\n", "aucune ligne de données"),
        (
            "commune_insee;finess_eg;minutes\n75056;750000011;4;9\n",
            "n'ont pas le nombre de champs de l'en-tête (3) : ligne 2 (4 champs)",
        ),
    ],
)
def test_bad_cost_files_get_clear_french_errors(tmp_path, content, expected):
    path = tmp_path / "temps.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(InputError) as err:
        parameter_files.read_travel_times(path)
    assert expected in str(err.value) and str(path) in str(err.value)


def test_cost_file_accepted_forms(tmp_path):
    path = tmp_path / "temps.csv"
    path.write_text("CODGEO;FINESS;Temps\n75056;750000011;12,5\n1001;10000001;3\n")
    df = parameter_files.read_travel_times(path)
    assert df.rows() == [("75056", "750000011", 12.5), ("01001", "010000001", 3.0)]


# ------------------------------------------------------------------ the smr command


@pytest.fixture
def small_store(tmp_path):
    path = tmp_path / "store"
    store.write_snapshot(path, "2024-02-01", small_snapshot(), extra={"region": "11"})
    t = small_snapshot()
    t["offres"] = t["offres"].filter(pl.col("mention") != "ME060")
    store.write_snapshot(path, "2024-03-01", t, extra={"region": "11"})
    return path


def _read_csv(path) -> pl.DataFrame:
    return pl.read_csv(
        path,
        schema_overrides={
            "commune_insee": pl.String, "finess_eg": pl.String, "code_commune": pl.String
        },
    )


def test_cli_access_nearest_end_to_end(small_store, tmp_path, capsys):
    out = tmp_path / "plus_proche.csv"
    code = cli.main(
        [
            "access",
            "--store",
            str(small_store),
            "--mention",
            "locomoteur",
            "--method",
            "nearest",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    assert "Accessibilité écrite" in capsys.readouterr().out
    df = _read_csv(out)
    communes = geography.load_communes("11")
    # one row per origin: the communes, Paris replaced by its 20 arrondissements
    assert df.height == communes.height - 1 + 20
    assert df.filter(pl.col("code_commune") == "75056")["commune_insee"].to_list() == [
        f"751{i:02d}" for i in range(1, 21)
    ]
    # the documented columns first, then the origin's commune and the population vintage
    assert df.columns == [
        "commune_insee",
        "nom",
        "mention",
        "finess_eg",
        "raison_sociale",
        "minutes",
        "km",
        "code_commune",
        "millesime_population",
    ]
    row = df.filter(pl.col("commune_insee") == "92012").row(0, named=True)
    assert row["finess_eg"] == "920000025"
    assert row["minutes"] == pytest.approx(row["km"] * 1.3 / 40 * 60, rel=1e-9)
    # --speed / --detour change the model
    cli.main(
        [
            "access",
            "--store",
            str(small_store),
            "--mention",
            "ME051",
            "--method",
            "nearest",
            "--speed",
            "60",
            "--detour",
            "1",
            "--out",
            str(out),
        ]
    )
    row = _read_csv(out).filter(pl.col("commune_insee") == "92012").row(0, named=True)
    assert row["minutes"] == pytest.approx(row["km"], rel=1e-9)


def test_cli_access_fca_end_to_end(small_store, tmp_path):
    out = tmp_path / "acces.parquet"
    code = cli.main(
        [
            "access",
            "--store",
            str(small_store),
            "--mention",
            "ME051",
            "--method",
            "2sfca",
            "--catchment",
            "100000",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    df = pl.read_parquet(out)
    assert {"commune_insee", "acces"} <= set(df.columns)
    total = geography.load_communes("11")["population"].sum()
    assert np.allclose(df["acces"].to_numpy(), 40 / total * 1e5)
    # the older snapshot still has the pediatric unit; the latest does not
    code = cli.main(
        [
            "access",
            "--store",
            str(small_store),
            "--snapshot",
            "2024-02-01",
            "--mention",
            "ME060",
            "--out",
            str(out),
        ]
    )
    assert code == 0 and pl.read_parquet(out)["acces"].max() > 0
    assert (
        cli.main(["access", "--store", str(small_store), "--mention", "ME060", "--out", str(out)])
        == 0
    )
    assert pl.read_parquet(out)["acces"].max() == 0


def test_cli_access_with_a_cost_table(small_store, tmp_path):
    costs = tmp_path / "temps.csv"
    costs.write_text("commune_insee,finess_eg,minutes\n92012,920000025,7\n75056,920000025,40\n")
    out = tmp_path / "n.csv"
    code = cli.main(
        [
            "access",
            "--store",
            str(small_store),
            "--mention",
            "ME051",
            "--method",
            "nearest",
            "--costs",
            str(costs),
            "--out",
            str(out),
        ]
    )
    assert code == 0
    df = _read_csv(out)
    got = {r["commune_insee"]: r["minutes"] for r in df.iter_rows(named=True)}
    # the row keyed by Paris applies to each of its 20 arrondissements (the origins)
    assert got["92012"] == 7.0
    assert all(got[f"751{i:02d}"] == 40.0 for i in range(1, 21)) and "75056" not in got
    assert df["minutes"].null_count() == df.height - 21  # absent pairs: unreachable


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--mention", "ME999"], 2, "mention inconnue"),
        (["--mention", "ME050", "--speed", "-3"], 2, "vitesse invalide"),
        (["--mention", "ME050", "--method", "3sfca"], 2, "ligne de commande invalide"),
        (["--mention", "ME050", "--snapshot", "2020-01-01"], 3, "Aucun instantané du 2020-01-01"),
        (["--mention", "ME050", "--costs", "COSTS"], 2, "colonne(s) manquante(s)"),
        (["--mention", "ME050", "--out-ext", ".txt"], 2, "format de sortie non pris en charge"),
        (["--mention", "ME050", "--region", "99"], 2, "Géographie de référence absente"),
    ],
)
def test_cli_access_errors_are_one_french_line(small_store, tmp_path, capsys, args, code, message):
    bad = tmp_path / "bad.csv"
    bad.write_text("commune_insee,minutes\n75056,3\n")
    out = tmp_path / "x.csv"
    if "--out-ext" in args:
        out = tmp_path / "x.txt"
        args = args[:-2]
    args = [str(bad) if a == "COSTS" else a for a in args]
    got = cli.main(["access", "--store", str(small_store), *args, "--out", str(out)])
    err = capsys.readouterr().err
    assert got == code
    assert message in err and err.count("\n") == 1 and "Traceback" not in err


def test_cli_access_missing_store_is_exit_3(tmp_path, capsys):
    code = cli.main(
        [
            "access",
            "--store",
            str(tmp_path / "rien"),
            "--mention",
            "ME050",
            "--out",
            str(tmp_path / "x.csv"),
        ]
    )
    assert code == 3 and "Aucun instantané" in capsys.readouterr().err


def test_cli_access_refuses_a_cost_table_for_another_region(small_store, tmp_path, capsys):
    costs = tmp_path / "marseille.csv"
    costs.write_text("commune_insee,finess_eg,minutes\n13055,130000019,7\n")
    code = cli.main(
        [
            "access",
            "--store",
            str(small_store),
            "--mention",
            "ME050",
            "--method",
            "nearest",
            "--costs",
            str(costs),
            "--out",
            str(tmp_path / "n.csv"),
        ]
    )
    err = capsys.readouterr().err
    assert code == 2 and "ne concerne aucune commune de la région 11" in err
