"""INSEE legal populations: reading INSEE's layouts, applying them, the store setting, the CLI.

The fixtures in tests/data/insee/ follow INSEE's published layouts (see their README); the
numbers in them are invented. The rate test builds a whole-region file in INSEE's
``Communes.csv`` layout from the reference populations multiplied by known factors, so every
rate must move by the inverse factor exactly.
"""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import polars as pl
import pytest

from analysis import cli
from analysis.geo import geography
from analysis.indicators import coverage, populations
from analysis.io import parameter_files, population_setting, store
from analysis.model.errors import InputError
from tests.helpers import small_snapshot

DATA = Path(__file__).parent.parent / "data" / "insee"
DAY = dt.date(2024, 3, 15)


def test_reads_insee_communes_csv():
    legal = parameter_files.read_legal_populations(DATA / "Communes.csv")
    got = dict(legal.frame.iter_rows())
    assert got["75101"] == 15917 and got["75056"] == 2133111 and got["2A004"] == 71361
    assert legal.colonnes == ("DEPCOM", "PMUN")  # population municipale, not PTOT
    assert "inconnu" in legal.millesime and legal.year is None


def test_reads_split_code_layout_in_windows_1252_with_thousands_spaces():
    legal = parameter_files.read_legal_populations(DATA / "donnees_communes.csv")
    got = dict(legal.frame.iter_rows())
    assert got == {"77001": 1140, "93066": 113942, "2A004": 71361, "97105": 9844}
    assert legal.colonnes == ("CODDEP", "CODCOM", "PMUN")


def _insee_workbook(rows: list[tuple[str, str, str, int]]) -> bytes:
    """A workbook laid out as INSEE's « ensemble » file: title lines above the header of the
    « Communes » sheet, French headers, a source note under the table, other sheets before."""
    from openpyxl import Workbook

    wb = Workbook()
    regions = wb.active
    regions.title = "Régions"
    regions.append(["Populations légales 2021"])
    regions.append(["Code région", "Nom de la région", "Population municipale"])
    regions.append(["11", "Île-de-France", 12317279])
    ws = wb.create_sheet("Communes")
    ws.append(["Recensement de la population"])
    ws.append(["Populations légales 2021 - Date de référence statistique : 1er janvier 2021"])
    ws.append(["Limites territoriales en vigueur au 1er janvier 2023"])
    ws.append([])
    ws.append(
        [
            "Code région", "Nom de la région", "Code département", "Code arrondissement",
            "Code canton", "Code commune", "Nom de la commune", "Population municipale",
            "Population comptée à part", "Population totale",
        ]
    )  # fmt: skip
    for dep, com, name, pop in rows:
        ws.append(["11", "Île-de-France", dep, "1", "01", com, name, pop, 10, pop + 10])
    ws.append([])
    ws.append(["Source : Insee, Recensement de la population 2021."])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_reads_the_insee_workbook_and_its_vintage():
    data = _insee_workbook([("77", "001", "Achères-la-Forêt", 1138), ("75", "056", "Paris", 2133111)])
    legal = parameter_files.read_legal_populations(data, "ensemble.xlsx", name="ensemble.xlsx")
    assert dict(legal.frame.iter_rows()) == {"77001": 1138, "75056": 2133111}
    assert legal.millesime.startswith("populations légales 2021")
    assert legal.year == "2021"
    assert "feuille « Communes »" in legal.source


def test_pmun_year_column_and_name_mapping():
    text = "CODGEO;LIBGEO;PMUN2020;PMUN2021\n77001;Achères;1135;1138\n"
    legal = parameter_files.read_legal_populations(text.encode(), "base.csv", name="base.csv")
    assert dict(legal.frame.iter_rows()) == {"77001": 1138}  # the latest census
    assert legal.year == "2021"
    other = "code;habitants\n77001;1138\n"
    legal = parameter_files.read_legal_populations(
        other.encode(), "x_2022.csv", name="x_2022.csv", code_column="code",
        population_column="habitants",
    )
    assert dict(legal.frame.iter_rows()) == {"77001": 1138} and legal.year == "2022"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("COM;PTOT\nParis;3\n", "colonne(s) introuvable(s)"),
        ("DEPCOM;PMUN\n7500;12\n75A01;3\n", "ligne 3, colonne commune_insee"),
        ("DEPCOM;PMUN\n75056;douze\n", "ligne 2, colonne PMUN"),
        ("DEPCOM;PMUN\n75056;1\n75056;2\n", "commune 75056 en double (déjà ligne 2)"),
        ("", "fichier vide"),
    ],
)
def test_bad_files_are_refused_in_one_french_line(text, message):
    with pytest.raises(InputError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parameter_files.read_legal_populations(text.encode(), "p.csv", name="p.csv")


def _legal(frame: pl.DataFrame, name: str = "Communes.csv") -> parameter_files.LegalPopulations:
    return parameter_files.LegalPopulations(frame, "populations légales 2021", name, ())


def test_former_communes_fold_into_the_current_one_and_arrondissements_add_up():
    origins = geography.load_origins("11")
    ref = dict(origins.select("commune_insee", "population").iter_rows())
    rows = {c: float(p) for c, p in ref.items() if not c.startswith("751")}
    rows["75056"] = 2_000_000.0  # Paris as a whole: shared among its arrondissements
    rows.pop("93066")
    rows["93066"], rows["93059"] = 110_000.0, 30_000.0  # Saint-Denis before its 2025 merger
    frame = pl.DataFrame({"commune_insee": list(rows), "population": list(rows.values())})
    out = populations.apply_legal_populations(
        origins, _legal(frame), geography.load_former_communes("11")
    )
    got = dict(out.select("commune_insee", "population").iter_rows())
    assert got["93066"] == 140_000.0
    paris = {c: p for c, p in got.items() if c.startswith("751")}
    assert len(paris) == 20 and sum(paris.values()) == pytest.approx(2_000_000.0, rel=1e-12)
    ref_paris = sum(v for c, v in ref.items() if c.startswith("751"))
    assert paris["75115"] == pytest.approx(ref["75115"] * 2_000_000 / ref_paris, rel=1e-12)


def test_a_file_missing_communes_is_refused():
    frame = pl.DataFrame({"commune_insee": ["77001"], "population": [1.0]})
    with pytest.raises(InputError, match="fichier de populations incomplet : 1265 commune"):
        populations.apply_legal_populations(geography.load_origins("11"), _legal(frame))


def _region_file(path: Path, factors: dict[str, float]) -> dict[str, float]:
    """INSEE's Communes.csv layout for the whole region, each département's reference
    population × its factor (rounded to whole inhabitants); returns the file's totals."""
    communes = geography.load_communes("11")
    lines = ["DEPCOM;COM;PMUN;PCAP;PTOT"]
    totals: dict[str, float] = {}
    for code, name, dep, pop in communes.select(
        "commune_insee", "nom", "departement", "population"
    ).iter_rows():
        value = round(pop * factors.get(dep, 1.0))
        totals[dep] = totals.get(dep, 0) + value
        lines.append(f"{code};{name};{value};0;{value}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return totals


def test_an_insee_file_changes_the_rates_by_the_expected_ratio(tmp_path, capsys):
    store.write_snapshot(tmp_path / "s", DAY, small_snapshot(), extra={"region": "11"})
    factors = {"75": 1.25, "92": 0.8, "94": 1.1}
    totals = _region_file(tmp_path / "populations_legales_2021.csv", factors)
    ref = geography.load_communes("11").group_by("departement").agg(pl.col("population").sum())
    ref = dict(ref.iter_rows())
    base, new = tmp_path / "base.parquet", tmp_path / "new.parquet"
    args = ["coverage", "--store", str(tmp_path / "s"), "--forme", "toutes"]
    assert cli.main([*args, "--out", str(base)]) == 0
    assert cli.main([*args, "--population", str(tmp_path / "populations_legales_2021.csv"),
                     "--out", str(new)]) == 0
    text = capsys.readouterr().out
    assert "Population : populations légales 2021" in text
    a, b = pl.read_parquet(base), pl.read_parquet(new)
    assert a["millesime_population"][0].startswith("populations légales 2017")
    assert b["millesime_population"][0].startswith("populations légales 2021")
    joined = a.join(b, on=["territoire", "mention"], suffix="_new").filter(
        pl.col("capacite") > 0
    )
    assert joined.height >= 4
    for row in joined.iter_rows(named=True):
        dep = row["territoire"]
        ratio = ref[dep] / totals[dep]  # the rate moves by the inverse population ratio
        assert row["taux_100k_new"] / row["taux_100k"] == pytest.approx(ratio, rel=1e-12)
        assert row["population_new"] == totals[dep]


def test_store_setting_is_used_by_default_and_can_be_cleared(tmp_path, capsys):
    path = tmp_path / "s"
    store.write_snapshot(path, DAY, small_snapshot(), extra={"region": "11"})
    file = tmp_path / "pop.csv"
    totals = _region_file(file, {"92": 2.0})
    populations.save_store_populations(path, file.read_bytes(), "pop_2021.csv", "11")
    setup = populations.setup_for("11", path)
    assert setup.origine == populations.STORE and setup.millesime.startswith("populations légales 2021")
    out = tmp_path / "c.parquet"
    assert cli.main(["coverage", "--store", str(path), "--out", str(out)]) == 0
    assert "réglage du magasin" in capsys.readouterr().out
    row = pl.read_parquet(out).filter(pl.col("territoire") == "92").row(0, named=True)
    assert row["population"] == totals["92"]
    # a bad file never replaces the setting
    with pytest.raises(InputError):
        populations.save_store_populations(path, b"DEPCOM;PMUN\n", "vide.csv")
    assert populations.setup_for("11", path).origine == populations.STORE
    assert population_setting.clear_store_populations(path)
    assert populations.setup_for("11", path).origine == populations.REFERENCE


@pytest.mark.parametrize("command", ["coverage", "access", "scenario", "report"])
def test_population_is_not_an_abbreviation_of_population_ages(command):
    # argparse accepts unique prefixes: without its own option, « --population » would have
    # silently meant « --population-ages » on the commands that have it
    parser = cli.build_parser()
    sub = parser._subparsers._group_actions[0].choices[command]  # noqa: SLF001
    dests = {a.dest for a in sub._actions}  # noqa: SLF001
    assert "population" in dests and "inclure_fermetures_provisoires" in dests
    option = next(a for a in sub._actions if "--population" in a.option_strings)  # noqa: SLF001
    assert option.dest == "population"


def test_values_for_origins_prefers_own_rows():
    origins = geography.load_origins("11")
    # Paris given both as a whole and by arrondissement: the arrondissement rows are used
    values = pl.DataFrame(
        {
            "commune_insee": ["75056", *[f"751{i:02d}" for i in range(1, 21)]],
            "population": [1.0, *[float(i) for i in range(1, 21)]],
        }
    )
    got = dict(coverage.values_for_origins(values, origins, ["population"]).iter_rows())
    assert got["75105"] == 5.0 and sum(got[f"751{i:02d}"] for i in range(1, 21)) == 210.0
