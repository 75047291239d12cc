"""Capacity, rates and presence by territory: hand-worked cases and a second implementation."""

from __future__ import annotations

from collections import defaultdict

import polars as pl
import pytest

from analysis import cli
from analysis.geo import geography
from analysis.indicators import coverage
from analysis.io import parameter_files, store
from analysis.model import nomenclature
from analysis.model.errors import InputError
from tests.helpers import small_snapshot

N_MENTIONS = len(nomenclature.MENTIONS)


def tiny_communes() -> pl.DataFrame:
    """Four communes with round populations (coordinates unused by coverage)."""
    return pl.DataFrame(
        {
            "commune_insee": ["75056", "92012", "94028", "94080"],
            "nom": ["Paris", "Boulogne-Billancourt", "Créteil", "Vincennes"],
            "departement": ["75", "92", "94", "94"],
            "region": ["11", "11", "11", "11"],
            "epci": ["200054781", "200054781", "200057941", None],
            "epci_nom": ["Métropole du Grand Paris", "Métropole du Grand Paris", "GPSEA", None],
            "population": [2_000_000, 100_000, 90_000, 10_000],
            "x_l93": [650_000.0, 643_000.0, 663_000.0, 658_000.0],
            "y_l93": [6_862_000.0, 6_859_000.0, 6_851_000.0, 6_860_000.0],
            "lat_point": [48.86, 48.83, 48.78, 48.85],
            "lon_point": [2.32, 2.24, 2.46, 2.44],
        }
    )


def _row(df: pl.DataFrame, **keys: str) -> dict:
    sub = df.filter(pl.all_horizontal(pl.col(k) == v for k, v in keys.items()))
    assert sub.height == 1, (keys, sub)
    return sub.row(0, named=True)


# ------------------------------------------------------------------ hand-worked rates


def test_rates_by_departement_hand_worked():
    t = small_snapshot()
    cap = coverage.capacity_by_territory(t, tiny_communes(), "departement", forme="toutes")
    # 3 départements × 13 mentions, every one present even without capacity
    assert cap.height == 3 * N_MENTIONS
    paris = _row(cap, territoire="75", mention="ME050")
    # 30 beds (HC) + 10 places (HJ) for 2,000,000 inhabitants → 2.0 per 100,000
    assert (paris["etablissements"], paris["unites"], paris["lits"], paris["places"]) == (
        1,
        1,
        30,
        10,
    )
    assert paris["taux_100k"] == pytest.approx(2.0)
    assert _row(cap, territoire="75", mention="ME059")["taux_100k"] == pytest.approx(2.0)
    # Boulogne: 25 + 15 for 100,000 → 40.0
    assert _row(cap, territoire="92", mention="ME051")["taux_100k"] == pytest.approx(40.0)
    # Créteil's 12 pediatric beds over the 94's 100,000 inhabitants → 12.0
    assert _row(cap, territoire="94", mention="ME060")["taux_100k"] == pytest.approx(12.0)
    gap = _row(cap, territoire="94", mention="ME050")
    assert (gap["etablissements"], gap["lits"], gap["taux_100k"]) == (0, 0, 0.0)
    assert gap["population"] == 100_000
    assert set(cap["denominateur"]) == {"population totale"}


def test_forme_rows_and_aggregate_count_establishments_once():
    cap = coverage.capacity_by_territory(small_snapshot(), tiny_communes(), "departement")
    assert set(cap["forme"]) == {"toutes", "HC", "HJ"}
    hc = _row(cap, territoire="75", mention="ME050", forme="HC")
    hj = _row(cap, territoire="75", mention="ME050", forme="HJ")
    total = _row(cap, territoire="75", mention="ME050", forme="toutes")
    assert hc["taux_100k"] == pytest.approx(1.5)
    assert hj["taux_100k"] == pytest.approx(0.5)
    assert hc["etablissements"] == hj["etablissements"] == total["etablissements"] == 1
    one = coverage.capacity_by_territory(
        small_snapshot(), tiny_communes(), "departement", mentions=["ME051"], forme="HJ"
    )
    assert one.height == 3 and set(one["forme"]) == {"HJ"}
    assert _row(one, territoire="92")["places"] == 15


def test_other_levels_and_communes_outside_any_epci():
    t = small_snapshot()
    communes = tiny_communes()
    epci = coverage.capacity_by_territory(t, communes, "epci", mentions=["ME050"], forme="toutes")
    assert set(epci["territoire"]) == {"200054781", "200057941", coverage.NO_EPCI}
    mgp = _row(epci, territoire="200054781")
    assert mgp["population"] == 2_100_000
    assert mgp["taux_100k"] == pytest.approx(40 / 2_100_000 * 100_000)
    assert _row(epci, territoire=coverage.NO_EPCI)["nom"].startswith("Sans EPCI")
    region = coverage.capacity_by_territory(
        t, communes, "region", forme="toutes", region_names={"11": "Île-de-France"}
    )
    assert region.height == N_MENTIONS
    r = _row(region, mention="ME051")
    assert r["nom"] == "Île-de-France" and r["taux_100k"] == pytest.approx(40 / 2_200_000 * 1e5)
    com = coverage.capacity_by_territory(t, communes, "commune", forme="toutes")
    assert com.height == 4 * N_MENTIONS
    assert _row(com, territoire="94080", mention="ME060")["lits"] == 0


def test_arrondissement_codes_map_to_the_commune_and_outsiders_are_listed():
    t = small_snapshot()
    etabs = t["etablissements"].with_columns(
        pl.when(pl.col("finess_eg") == "750000011")
        .then(pl.lit("75116"))
        .when(pl.col("finess_eg") == "920000025")
        .then(pl.lit("69123"))  # Lyon: outside the region
        .otherwise(pl.col("commune_insee"))
        .alias("commune_insee")
    )
    t = {**t, "etablissements": etabs}
    cap = coverage.capacity_by_territory(t, tiny_communes(), "commune", forme="toutes")
    assert _row(cap, territoire="75056", mention="ME050")["lits"] == 30
    assert cap.filter(pl.col("mention") == "ME051")["lits"].sum() == 0
    outside = coverage.unmapped_establishments(t, tiny_communes())
    assert outside["finess_eg"].to_list() == ["920000025"]
    code = pl.DataFrame({"c": ["75101", "75120", "75121", "69381", "13216", "13217", "2A004"]})
    mapped = code.select(coverage.commune_code(pl.col("c")).alias("c"))["c"].to_list()
    assert mapped == ["75056", "75056", "75121", "69123", "13055", "13217", "2A004"]


def test_unknown_level_is_a_french_error():
    with pytest.raises(InputError, match="niveau de territoire inconnu"):
        coverage.capacity_by_territory(small_snapshot(), tiny_communes(), "canton")


# ------------------------------------------------------------------ age denominators


def _ages_csv(tmp_path, rows: list[str]) -> pl.DataFrame:
    path = tmp_path / "ages.csv"
    path.write_text("commune_insee;moins_18;plus_75;total\n" + "\n".join(rows) + "\n")
    return parameter_files.read_population_ages(path)


def test_age_specific_denominators(tmp_path):
    ages = _ages_csv(
        tmp_path,
        [
            "75101;100000;100000;1000000",  # arrondissements summed into Paris
            "75102;300000;100000;1000000",
            "92012;20000;10000;100000",
            "94028;20000;9000;90000",
            "94080;5000;1000;10000",
        ],
    )
    cap = coverage.capacity_by_territory(
        small_snapshot(), tiny_communes(), "departement", forme="toutes", population_ages=ages
    )
    ger = _row(cap, territoire="75", mention="ME059")
    assert ger["population"] == 200_000 and ger["denominateur"] == "population de 75 ans et plus"
    assert ger["taux_100k"] == pytest.approx(40 / 200_000 * 1e5)
    ped = _row(cap, territoire="94", mention="ME060")
    assert ped["population"] == 25_000 and ped["taux_100k"] == pytest.approx(48.0)
    assert _row(cap, territoire="94", mention="ME061")["denominateur"].endswith("18 ans")
    poly = _row(cap, territoire="75", mention="ME050")
    assert poly["population"] == 2_000_000 and poly["denominateur"] == "population totale"


def test_age_file_must_cover_every_commune(tmp_path):
    ages = _ages_csv(tmp_path, ["75056;1;1;10", "92012;1;1;10"])
    with pytest.raises(InputError, match=r"2 commune\(s\) de la région absente\(s\) \(94028"):
        coverage.capacity_by_territory(
            small_snapshot(), tiny_communes(), "departement", population_ages=ages
        )


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("commune_insee,moins_18,plus_75\n75056,1,2\n", "colonne(s) manquante(s) : total"),
        (
            "commune_insee,moins_18,plus_75,total\n75056,abc,2,10\n",
            "ligne 2, colonne moins_18 : valeur « abc » invalide",
        ),
        (
            "commune_insee,moins_18,plus_75,total\n75056,1,2,10\n7505X,1,2,10\n",
            "ligne 3, colonne commune_insee : code commune « 7505X » invalide",
        ),
        ("commune_insee,moins_18,plus_75,total\n75056,-1,2,10\n", "nombre positif ou nul"),
        (
            "commune_insee,moins_18,plus_75,total\n75056,8,3,10\n",
            "ligne 2 : moins_18 + plus_75 (8 + 3) dépasse total (10)",
        ),
        (
            "commune_insee,moins_18,plus_75,total\n75056,1,2,10\n75056,1,2,10\n",
            "ligne 3 : commune 75056 en double (déjà ligne 2)",
        ),
        ("commune_insee,moins_18,plus_75,total\n", "aucune ligne de données"),
        ("", "fichier vide"),
        ("commune_insee,moins_18,plus_75,total\n75056,x,y,z\n", "(et 2 autre(s) erreur(s))"),
    ],
)
def test_bad_population_files_get_clear_french_errors(tmp_path, content, expected):
    path = tmp_path / "population.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(InputError) as err:
        parameter_files.read_population_ages(path)
    assert expected in str(err.value)
    assert str(path) in str(err.value)  # the file is named


def test_population_file_formats(tmp_path):
    missing = tmp_path / "absent.csv"
    with pytest.raises(InputError, match="fichier introuvable"):
        parameter_files.read_population_ages(missing)
    binary = tmp_path / "pop.csv"
    binary.write_bytes(b"PK\x03\x04\x00\x00binary")
    with pytest.raises(InputError, match="pas un fichier texte"):
        parameter_files.read_population_ages(binary)
    # Windows-1252, semicolons, French decimals, CODGEO header, 4-digit code
    latin = tmp_path / "latin.csv"
    latin.write_bytes(
        "CODGEO;moins_18;plus_75;total;libellé\n1001;1,5;2;10;Abergement\n".encode("cp1252")
    )
    df = parameter_files.read_population_ages(latin)
    assert df.row(0) == ("01001", 1.5, 2.0, 10.0)


# ------------------------------------------------------------------ presence matrix


def test_presence_matrix_counts_establishments_per_mention():
    m = coverage.presence_matrix(small_snapshot(), tiny_communes(), "departement")
    assert m.columns[:3] == ["territoire", "nom", "mentions_presentes"]
    assert m.columns[3:] == [x.code for x in nomenclature.MENTIONS]
    paris = _row(m, territoire="75")
    assert (paris["ME050"], paris["ME059"], paris["ME051"], paris["mentions_presentes"]) == (
        1,
        1,
        0,
        2,
    )
    assert _row(m, territoire="94")["ME060"] == 1
    hj = coverage.presence_matrix(small_snapshot(), tiny_communes(), "departement", forme="HJ")
    assert _row(hj, territoire="75")["ME059"] == 0 and _row(hj, territoire="92")["ME051"] == 1


# ------------------------------------------------- second implementation on the demo


def test_demo_rates_match_a_plain_python_recount(demo_store):
    snap = store.read_snapshot(demo_store)
    communes = geography.load_communes("11")
    cap = coverage.capacity_by_territory(snap.tables, communes, "departement", forme="toutes")

    dep_of_commune = dict(zip(communes["commune_insee"], communes["departement"], strict=True))
    pop = defaultdict(int)
    for c, p in zip(communes["departement"], communes["population"], strict=True):
        pop[c] += p
    etab_dep = {}
    for f, c in zip(
        snap.tables["etablissements"]["finess_eg"],
        snap.tables["etablissements"]["commune_insee"],
        strict=True,
    ):
        c = "75056" if c.startswith("751") else c
        if c in dep_of_commune:
            etab_dep[f] = dep_of_commune[c]
    uo_etab = dict(
        zip(snap.tables["unites"]["uo_id"], snap.tables["unites"]["finess_eg"], strict=True)
    )
    capacity = defaultdict(int)
    etabs = defaultdict(set)
    for row in snap.tables["offres"].iter_rows(named=True):
        f = uo_etab.get(row["uo_id"])
        if f not in etab_dep:
            continue
        key = (etab_dep[f], row["mention"])
        capacity[key] += (row["lits"] or 0) + (row["places"] or 0)
        etabs[key].add(f)
    assert cap.height == 8 * N_MENTIONS
    for r in cap.iter_rows(named=True):
        key = (r["territoire"], r["mention"])
        assert r["capacite"] == capacity[key]
        assert r["etablissements"] == len(etabs[key])
        assert r["taux_100k"] == pytest.approx(capacity[key] / pop[r["territoire"]] * 1e5)


# ------------------------------------------------------------------ the smr command


@pytest.fixture
def small_store(tmp_path):
    path = tmp_path / "store"
    store.write_snapshot(path, "2024-03-01", small_snapshot(), extra={"region": "11"})
    return path


def test_cli_coverage_end_to_end(small_store, tmp_path, capsys):
    out = tmp_path / "couverture.csv"
    code = cli.main(
        ["coverage", "--store", str(small_store), "--level", "departement", "--out", str(out)]
    )
    assert code == 0
    assert "Couverture écrite" in capsys.readouterr().out
    df = pl.read_csv(out, schema_overrides={"territoire": pl.String})
    assert {
        "territoire",
        "mention",
        "forme",
        "etablissements",
        "lits",
        "places",
        "population",
        "taux_100k",
    } <= set(df.columns)
    deps = geography.load_departements("11")
    pop75 = deps.filter(pl.col("departement") == "75")["population"][0]
    paris = df.filter(
        (pl.col("territoire") == "75")
        & (pl.col("mention") == "ME050")
        & (pl.col("forme") == "toutes")
    ).row(0, named=True)
    assert paris["nom"] == "Paris"
    assert paris["taux_100k"] == pytest.approx(40 / pop75 * 1e5)
    assert df.filter(pl.col("forme") == "toutes").height == 8 * N_MENTIONS


def test_cli_coverage_filters_ages_and_formats(small_store, tmp_path):
    communes = geography.load_communes("11")
    ages = tmp_path / "ages.csv"
    ages.write_text(
        "commune_insee,moins_18,plus_75,total\n"
        + "".join(
            f"{c},{p // 5},{p // 10},{p}\n"
            for c, p in communes.select("commune_insee", "population").rows()
        )
    )
    out = tmp_path / "c.xlsx"
    code = cli.main(
        [
            "coverage",
            "--store",
            str(small_store),
            "--level",
            "region",
            "--mention",
            "Gériatrie",
            "--forme",
            "HC",
            "--population-ages",
            str(ages),
            "--out",
            str(out),
        ]
    )
    assert code == 0
    df = pl.read_excel(out)
    assert df.height == 1
    row = df.row(0, named=True)
    plus75 = sum(p // 10 for p in communes["population"])
    assert (row["mention"], row["forme"], row["lits"]) == ("ME059", "HC", 40)
    assert row["taux_100k"] == pytest.approx(40 / plus75 * 1e5)
    out = tmp_path / "c.parquet"
    assert (
        cli.main(
            [
                "coverage",
                "--store",
                str(small_store),
                "--level",
                "commune",
                "--forme",
                "toutes",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    assert pl.read_parquet(out).height == communes.height * N_MENTIONS


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--level", "canton"], 2, "ligne de commande invalide"),
        (["--mention", "cardiologie"], 2, "mention inconnue"),
        (["--forme", "XX"], 2, "forme inconnue"),
        (["--population-ages", "MISSING"], 2, "fichier introuvable"),
        (["--snapshot", "2023-13-01"], 2, "date invalide"),
        (["--snapshot", "2023-01-01"], 3, "Aucun instantané du 2023-01-01"),
    ],
)
def test_cli_coverage_errors(small_store, tmp_path, capsys, args, code, message):
    args = [str(tmp_path / "absent.csv") if a == "MISSING" else a for a in args]
    got = cli.main(
        ["coverage", "--store", str(small_store), *args, "--out", str(tmp_path / "x.csv")]
    )
    err = capsys.readouterr().err
    assert got == code and message in err and "Traceback" not in err
