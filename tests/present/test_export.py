"""Exports: contacts masked by default, spreadsheet formulas neutralised."""

import datetime as dt
import io

import polars as pl
import pytest
from openpyxl import load_workbook

from analysis.model import privacy
from analysis.model.errors import InputError
from analysis.present import export


@pytest.fixture
def frame():
    return pl.DataFrame(
        {
            "finess_eg": ["750000001", "920000002"],
            "directeur_nom": ["Jeanne Martin", None],
            "directeur_email": ["j.martin@example.fr", ""],
            "note": ["=HYPERLINK(\"http://x\")", "ok"],
            "lits": [-3, 12],
        }
    )


def test_contacts_masked_unless_asked(frame):
    masked = privacy.mask_contacts(frame)
    assert masked["directeur_nom"].to_list() == [privacy.MASK, None]
    assert masked["directeur_email"].to_list() == [privacy.MASK, ""]
    assert masked["finess_eg"].to_list() == frame["finess_eg"].to_list()
    shown = export.prepare(frame, show_contacts=True)
    assert shown["directeur_nom"][0] == "Jeanne Martin"


@pytest.mark.parametrize("cell", ["=1+1", "+33 1 23", "-2+3", "@SUM(A1)", "\tx", "\r=1"])
def test_formula_cells_prefixed(cell):
    out = export.neutralise_formulas(pl.DataFrame({"a": [cell, "texte"]}))
    assert out["a"].to_list() == ["'" + cell, "texte"]


def test_numbers_are_left_alone(frame):
    out = export.neutralise_formulas(frame)
    assert out["lits"].to_list() == [-3, 12]


def test_csv_bytes(frame):
    data = export.csv_bytes(frame)
    assert data.startswith(b"\xef\xbb\xbf")
    text = data.decode("utf-8-sig")
    assert "Jeanne" not in text and "j.martin" not in text
    assert "'=HYPERLINK" in text
    back = pl.read_csv(io.BytesIO(data), separator=";", infer_schema=False)
    assert back["FINESS EG"].to_list() == ["750000001", "920000002"]
    assert back["Lits"].to_list() == ["-3", "12"]  # a number to Excel, not a formula
    data = export.csv_bytes(frame, flavour=export.CSV_DONNEES)
    assert not data.startswith(b"\xef\xbb\xbf")
    back = pl.read_csv(io.BytesIO(data), infer_schema=False)
    assert back.columns == frame.columns
    assert back["directeur_nom"].to_list() == [privacy.MASK, None]
    assert back["note"][0].startswith("'=")


def test_excel_bytes(frame):
    data = export.excel_bytes({"Établissements": frame, "Autre/feuille:1": frame})
    wb = load_workbook(io.BytesIO(data))
    assert wb.sheetnames == ["Établissements", "Autre_feuille_1"]
    ws = wb["Établissements"]
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0] == ("FINESS EG", "Directeur", "E-mail du directeur", "Note", "Lits")
    assert rows[1][1] == privacy.MASK
    assert rows[1][3].startswith("'=")
    assert rows[1][4] == -3


def test_write_table_by_extension(tmp_path, frame):
    for suffix in (".csv", ".xlsx", ".parquet"):
        path = export.write_table(frame, tmp_path / f"out{suffix}")
        assert path.exists() and path.stat().st_size > 0
    back = pl.read_parquet(tmp_path / "out.parquet")
    assert back["directeur_nom"].to_list() == [privacy.MASK, None]
    with pytest.raises(InputError, match="format de sortie"):
        export.write_table(frame, tmp_path / "out.txt")
    assert not list(tmp_path.glob("*.partial"))


# --- the two CSV flavours and the Excel formats (issue 15) ---------------------------------


@pytest.fixture
def indicators_frame():
    """A table with every kind of column the workbench hands out (values worked by hand)."""
    return pl.DataFrame(
        {
            "departement": ["75", "93", "ensemble"],
            "mention": ["ME060", "ME050", "ME059"],
            "statut": ["synchronise", "absent_vt", None],
            "population": [2187526.0, 1655422.0, None],
            "lits": [876, 1234567, 0],
            "taux_100k": [41.91950175677912, 7.05, None],
            "taux": [0.83849, 1.0, None],
            "part_30min": [99.94, 12.3456, None],
            "date": [dt.date(2023, 7, 31), dt.date(2023, 3, 1), None],
            "date_synchronisation": [
                dt.datetime(2023, 7, 30, 18, 0), None, dt.datetime(2023, 7, 29, 18, 0)
            ],
            "note": ["=1+1", "-2+3", "ordinaire"],
        }
    )


def _parse_fr(text: str | None) -> float | None:
    """A French number as Excel reads it: decimal comma, no grouping."""
    return None if text in (None, "") else float(text.replace(",", "."))


def test_csv_pour_excel_reads_back_as_csv_donnees(indicators_frame):
    """« CSV pour Excel » parsed with ``;`` and a decimal comma gives the values of « CSV
    données » to the displayed rounding (rates as percentages)."""
    excel_bytes = export.csv_bytes(indicators_frame, flavour=export.CSV_EXCEL)
    data_bytes = export.csv_bytes(indicators_frame, flavour=export.CSV_DONNEES)
    assert excel_bytes.startswith(b"\xef\xbb\xbf") and not data_bytes.startswith(b"\xef")
    excel = pl.read_csv(io.BytesIO(excel_bytes), separator=";", infer_schema=False)
    data = pl.read_csv(io.BytesIO(data_bytes), separator=",", infer_schema=False)
    assert data.columns == indicators_frame.columns  # codes, as documented
    assert excel.columns == [
        "Département", "Mention", "Statut", "Population", "Lits", "Pour 100 000 hab.",
        "Taux (%)", "Part ≤ 30 min (%)", "Date", "Dernière synchronisation", "Note",
    ]
    # numbers: hand-worked roundings of the full-precision values
    pairs = {
        "Population": ("population", 1, 0.5),
        "Lits": ("lits", 1, 0.5),
        "Pour 100 000 hab.": ("taux_100k", 1, 0.05),
        "Taux (%)": ("taux", 100, 0.05),
        "Part ≤ 30 min (%)": ("part_30min", 1, 0.05),
    }
    for french, (code, scale, tolerance) in pairs.items():
        for shown, full in zip(excel[french].to_list(), data[code].to_list(), strict=True):
            if full is None:
                assert shown is None
                continue
            assert abs(_parse_fr(shown) - float(full) * scale) <= tolerance + 1e-9, french
    assert excel["Pour 100 000 hab."].to_list() == ["41,9", "7,0", None]  # 7.05 is 7.0499… in binary
    assert excel["Taux (%)"].to_list() == ["83,8", "100,0", None]
    assert excel["Lits"].to_list() == ["876", "1234567", "0"]  # no separator: a number
    assert data["taux"].to_list() == ["0.83849", "1.0", None]  # full precision
    # dates: JJ/MM/AAAA against ISO
    assert excel["Date"].to_list() == ["31/07/2023", "01/03/2023", None]
    assert data["date"].to_list() == ["2023-07-31", "2023-03-01", None]
    assert excel["Dernière synchronisation"].to_list() == [
        "30/07/2023 18:00", None, "29/07/2023 18:00"
    ]
    assert data["date_synchronisation"][0].startswith("2023-07-30T18:00")
    # codes against labels
    assert data["departement"].to_list() == ["75", "93", "ensemble"]
    assert excel["Département"].to_list() == ["Paris (75)", "Seine-Saint-Denis (93)", "Ensemble"]
    assert excel["Mention"].to_list() == ["Pédiatrie (≥ 4 ans)", "Polyvalent", "Gériatrie"]
    assert excel["Statut"].to_list() == ["Synchronisée", "Absente de ViaTrajectoire", None]
    # formulas neutralised in both flavours
    for frame in (excel, data):
        assert frame[frame.columns[-1]].to_list()[:2] == ["'=1+1", "'-2+3"]


def test_excel_export_has_percent_date_and_number_formats(indicators_frame):
    wb = load_workbook(io.BytesIO(export.excel_bytes({"indicateurs": indicators_frame})))
    ws = wb["indicateurs"]
    header = [c.value for c in ws[1]]
    col = {name: i for i, name in enumerate(header)}
    row = ws[2]
    assert header[0] == "Département" and row[col["Département"]].value == "Paris (75)"
    taux = row[col["Taux"]]
    assert taux.value == pytest.approx(0.83849) and taux.number_format == "0.0%"
    part = row[col["Part ≤ 30 min"]]  # a 0–100 value becomes a fraction with a % format
    assert part.value == pytest.approx(0.9994) and part.number_format == "0.0%"
    day = row[col["Date"]]
    assert day.value.date() == dt.date(2023, 7, 31) and day.number_format == "dd/mm/yyyy"
    stamp = row[col["Dernière synchronisation"]]
    assert stamp.value == dt.datetime(2023, 7, 30, 18, 0)
    assert stamp.number_format == "dd/mm/yyyy hh:mm"
    assert row[col["Population"]].number_format == "#,##0"
    assert row[col["Pour 100 000 hab."]].number_format == "#,##0.0"
    assert row[col["Note"]].value == "'=1+1"
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref == "A1:K4"
    assert ws[4][col["Taux"]].value is None  # empty stays empty
    assert ws.column_dimensions["A"].width >= len("Seine-Saint-Denis (93)")


def test_command_line_workbook_keeps_documented_columns(tmp_path, indicators_frame):
    path = export.write_table(indicators_frame, tmp_path / "out.xlsx")
    ws = load_workbook(path).active
    assert [c.value for c in ws[1]] == indicators_frame.columns
    assert ws[2][6].number_format == "0.0%" and ws[2][2].value == "synchronise"
    csv = export.write_table(indicators_frame, tmp_path / "out.csv")
    assert pl.read_csv(csv, infer_schema=False).columns == indicators_frame.columns
    csv = export.write_table(indicators_frame, tmp_path / "excel.csv", csv_excel=True)
    assert pl.read_csv(csv, separator=";", infer_schema=False).columns[0] == "Département"


def test_unknown_csv_flavour_is_refused(indicators_frame):
    with pytest.raises(InputError, match="format CSV inconnu"):
        export.csv_bytes(indicators_frame, flavour="tsv")


def test_smr_writes_donnees_by_default_and_excel_on_request(demo_store, tmp_path, capsys):
    """``smr coverage`` writes the documented columns (« CSV données »); ``--csv-excel``
    gives the same figures for French Excel, rounded as displayed."""
    from analysis import cli

    data_path, excel_path = tmp_path / "donnees.csv", tmp_path / "excel.csv"
    base = ["coverage", "--store", str(demo_store), "--level", "departement", "--forme", "toutes"]
    assert cli.main([*base, "--out", str(data_path)]) == 0
    assert cli.main([*base, "--csv-excel", "--out", str(excel_path)]) == 0
    capsys.readouterr()
    raw = data_path.read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf") and raw.split(b"\n")[0].count(b";") == 0
    data = pl.read_csv(data_path, schema_overrides={"territoire": pl.String})
    assert {"territoire", "mention", "lits", "places", "taux_100k"} <= set(data.columns)
    excel = pl.read_csv(excel_path, separator=";", infer_schema=False)
    assert excel.height == data.height
    assert excel["Mention"][0] == "Polyvalent" and data["mention"][0] == "ME050"
    for shown, full in zip(excel["Pour 100 000 hab."], data["taux_100k"], strict=True):
        assert shown is None if full is None else abs(_parse_fr(shown) - full) <= 0.05 + 1e-9
    assert excel["Lits"].cast(pl.Int64).to_list() == data["lits"].to_list()
