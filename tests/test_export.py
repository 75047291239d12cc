"""Exports: contacts masked by default, spreadsheet formulas neutralised."""

import io

import polars as pl
import pytest
from openpyxl import load_workbook

from analysis import export
from analysis.errors import InputError


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
    masked = export.mask_contacts(frame)
    assert masked["directeur_nom"].to_list() == [export.MASK, None]
    assert masked["directeur_email"].to_list() == [export.MASK, ""]
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
    assert back["finess_eg"].to_list() == ["750000001", "920000002"]


def test_excel_bytes(frame):
    data = export.excel_bytes({"Établissements": frame, "Autre/feuille:1": frame})
    wb = load_workbook(io.BytesIO(data))
    assert wb.sheetnames == ["Établissements", "Autre_feuille_1"]
    ws = wb["Établissements"]
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0] == tuple(frame.columns)
    assert rows[1][1] == export.MASK
    assert rows[1][3].startswith("'=")
    assert rows[1][4] == -3


def test_write_table_by_extension(tmp_path, frame):
    for suffix in (".csv", ".xlsx", ".parquet"):
        path = export.write_table(frame, tmp_path / f"out{suffix}")
        assert path.exists() and path.stat().st_size > 0
    back = pl.read_parquet(tmp_path / "out.parquet")
    assert back["directeur_nom"].to_list() == [export.MASK, None]
    with pytest.raises(InputError, match="format de sortie"):
        export.write_table(frame, tmp_path / "out.txt")
    assert not list(tmp_path.glob("*.partial"))
