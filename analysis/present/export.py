"""Exports to CSV, Excel and Parquet: contacts masked by default, formulas neutralised.

Two protections apply to every file the workbench hands out:
- contacts (names, e-mails, phone numbers of staff) are replaced by ``privacy.MASK`` unless
  the caller explicitly asks for them (``analysis.model.privacy``);
- a text cell starting with ``=``, ``+``, ``-`` or ``@`` (or a tab / carriage return) is
  prefixed with an apostrophe in CSV and Excel, so a spreadsheet never runs it as a formula;
  categorical columns, nested values (as text) and column names are treated alike. Numbers
  written as text by « CSV pour Excel » (« -1,5 ») are formatted after this step: they are
  numbers to Excel, not formulas.

Tables go out in the French formats of ``analysis.model.formats``: Excel workbooks with French
headers, number, percent and date formats; CSV as « CSV pour Excel » or « CSV données »
(``CSV_FLAVOURS``).

Every file written by the command line or offered for download by the app goes through
this module (a test scans the code for other writers).
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from pathlib import Path

import polars as pl

from analysis.io.files import write_atomic
from analysis.model import formats
from analysis.model.errors import InputError
from analysis.model.privacy import mask_contacts
from analysis.present import columns

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
SUFFIXES = (".csv", ".xlsx", ".parquet")

def _formula_pattern() -> str:
    return "^[" + "".join("\\" + p if p in "-+" else p for p in FORMULA_PREFIXES) + "]"


def _safe_name(name: str) -> str:
    """A column name a spreadsheet will not run (same rule as the cells)."""
    return "'" + name if name.startswith(FORMULA_PREFIXES) else name


def neutralise_formulas(df: pl.DataFrame) -> pl.DataFrame:
    """Text cells (and column names) that a spreadsheet would read as a formula, prefixed
    with ``'``; categorical columns are turned into text first."""
    df = df.with_columns(
        pl.col(c).cast(pl.String) for c, t in df.schema.items() if t in (pl.Categorical, pl.Enum)
    )
    renamed = {c: _safe_name(c) for c in df.columns if _safe_name(c) != c}
    if renamed:
        df = df.rename(renamed)
    text_cols = [c for c, t in df.schema.items() if t == pl.String]
    if not text_cols:
        return df
    pattern = _formula_pattern()
    return df.with_columns(
        pl.when(pl.col(c).str.contains(pattern))
        .then(pl.lit("'") + pl.col(c))
        .otherwise(pl.col(c))
        .alias(c)
        for c in text_cols
    )


def _flatten(df: pl.DataFrame) -> pl.DataFrame:
    """Nested columns (lists, structs) and Python objects as text: CSV and Excel hold only
    scalars."""
    nested = [c for c, t in df.schema.items() if t.is_nested() or t == pl.Object]
    if not nested:
        return df
    return df.with_columns(pl.col(c).map_elements(str, return_dtype=pl.String) for c in nested)


def prepare(
    df: pl.DataFrame, show_contacts: bool = False, spreadsheet: bool = True
) -> pl.DataFrame:
    """The frame as it is written out: contacts masked unless asked, formulas neutralised."""
    out = df if show_contacts else mask_contacts(df)
    if spreadsheet:
        out = neutralise_formulas(_flatten(out))
    return out


#: The two CSV flavours: « CSV pour Excel » (``;``, decimal comma, UTF-8 with BOM, French
#: headers and labels, rounded as displayed) and « CSV données » (``,``, decimal point,
#: UTF-8, codes, full precision, ISO dates).
CSV_EXCEL, CSV_DONNEES = "excel", "donnees"
CSV_FLAVOURS: dict[str, str] = {CSV_EXCEL: "CSV pour Excel", CSV_DONNEES: "CSV données"}
BOM = b"\xef\xbb\xbf"


def csv_excel_bytes(df: pl.DataFrame, show_contacts: bool = False) -> bytes:
    """« CSV pour Excel »: ``;`` separator, decimal comma, UTF-8 with BOM (Excel reads the
    accents), French headers and labels, numbers rounded as displayed and written without
    thousands separator so that Excel reads them as numbers (``columns.excel_csv_frame``)."""
    text = columns.excel_csv_frame(prepare(df, show_contacts)).write_csv(separator=";")
    return BOM + text.encode("utf-8")


def csv_data_bytes(df: pl.DataFrame, show_contacts: bool = False) -> bytes:
    """« CSV données »: ``,`` separator, decimal point, UTF-8 without BOM, the columns as
    they are (codes, full precision, ISO dates), for programs and notebooks."""
    return prepare(df, show_contacts).write_csv(separator=",").encode("utf-8")


def csv_bytes(
    df: pl.DataFrame, show_contacts: bool = False, flavour: str = CSV_EXCEL
) -> bytes:
    """CSV of ``df`` in one of ``CSV_FLAVOURS`` (« CSV pour Excel » by default)."""
    if flavour == CSV_EXCEL:
        return csv_excel_bytes(df, show_contacts)
    if flavour == CSV_DONNEES:
        return csv_data_bytes(df, show_contacts)
    raise InputError(
        f"format CSV inconnu « {flavour} » ; choix possibles : {', '.join(CSV_FLAVOURS)}"
    )


def _number_format(f: formats.Format) -> str | None:
    """The Excel number format of a column (Excel shows it with the reader's separators)."""
    if f.kind == formats.INTEGER:
        return "#,##0"
    if f.kind == formats.NUMBER:
        return "#,##0" + ("." + "0" * f.decimals if f.decimals else "")
    if f.kind in (formats.SHARE, formats.PERCENT):
        return "0" + ("." + "0" * f.decimals if f.decimals else "") + "%"
    if f.kind == formats.DATE:
        return "dd/mm/yyyy"
    if f.kind == formats.DATETIME:
        return "dd/mm/yyyy hh:mm"
    return None


def _excel_sheet(ws, df: pl.DataFrame, french: bool) -> None:
    """Fill ``ws`` with ``df``: header row frozen, autofilter, number / percent / date
    formats, widths from the text as displayed. ``french``: French headers and labels
    (else the column names and codes as they are, with the same number formats)."""
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    out = columns.labelled(df) if french else df
    fmts = columns.specs(out)
    names = columns.headers(out.columns, out.schema) if french else {c: c for c in out.columns}
    ws.append([_safe_name(names[c]) for c in out.columns])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    percent_cols = [c for c, f in fmts.items() if f.kind == formats.PERCENT]
    values = out.with_columns(pl.col(c) / 100 for c in percent_cols) if percent_cols else out
    values = values.with_columns(
        pl.col(c).dt.date() for c, f in fmts.items()
        if f.kind == formats.DATE and isinstance(out.schema[c], pl.Datetime)
    )
    float_cols = [c for c, t in values.schema.items() if t.is_float()]
    if float_cols:  # NaN and infinities have no place in a cell: left empty
        values = values.with_columns(
            pl.when(pl.col(c).is_finite()).then(pl.col(c)).otherwise(None).alias(c)
            for c in float_cols
        )
    for row in values.iter_rows():
        ws.append(list(row))
    last_row = ws.max_row
    for i, col in enumerate(out.columns, start=1):
        letter = get_column_letter(i)
        number_format = _number_format(fmts[col])
        if number_format and last_row > 1:
            for (cell,) in ws.iter_rows(min_row=2, max_row=last_row, min_col=i, max_col=i):
                cell.number_format = number_format
        shown = [formats.cell(v, fmts[col]) for v in out[col].head(200).to_list()]
        width = max([len(str(names[col]))] + [len(v) for v in shown])
        ws.column_dimensions[letter].width = min(max(width + 2, 8), 60)
    ws.freeze_panes = "A2"
    if out.width:
        ws.auto_filter.ref = f"A1:{get_column_letter(out.width)}{max(last_row, 1)}"


def excel_bytes(
    sheets: Mapping[str, pl.DataFrame], show_contacts: bool = False, french: bool = True
) -> bytes:
    """An Excel workbook with one sheet per entry (names cut to Excel's 31 characters):
    French headers and labels (``french``), number, percent and date formats, frozen header
    row, autofilter, column widths; contacts masked unless asked, formulas neutralised."""
    from openpyxl import Workbook

    wb = Workbook()
    wb.remove(wb.active)
    used: set[str] = set()
    for name, df in sheets.items():
        ws = wb.create_sheet(_sheet_title(name, used))
        _excel_sheet(ws, prepare(df, show_contacts), french)
    if not wb.sheetnames:
        wb.create_sheet("vide")
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _sheet_title(name: str, used: set[str]) -> str:
    """A valid, unique Excel sheet title for ``name``."""
    clean = "".join("_" if ch in "[]:*?/\\" else ch for ch in name)[:31] or "feuille"
    title, n = clean, 2
    while title.lower() in used:
        suffix = f" ({n})"
        title, n = clean[: 31 - len(suffix)] + suffix, n + 1
    used.add(title.lower())
    return title


def parquet_bytes(df: pl.DataFrame, show_contacts: bool = False) -> bytes:
    """Parquet keeps types; contacts are masked the same way, formulas need no care."""
    buf = io.BytesIO()
    prepare(df, show_contacts, spreadsheet=False).write_parquet(buf)
    return buf.getvalue()


def write_table(
    df: pl.DataFrame,
    path: str | Path,
    show_contacts: bool = False,
    sheet: str = "donnees",
    csv_excel: bool = False,
) -> Path:
    """Write ``df`` to ``path``; the format follows the extension (.csv, .xlsx, .parquet).

    A CSV is « CSV données » (the columns as documented, ``,``, decimal point) unless
    ``csv_excel`` asks for « CSV pour Excel »; a workbook keeps the column names and codes
    (the documented columns) with number, percent and date formats.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        data = csv_bytes(df, show_contacts, CSV_EXCEL if csv_excel else CSV_DONNEES)
    elif suffix == ".xlsx":
        data = excel_bytes({sheet: df}, show_contacts, french=False)
    elif suffix == ".parquet":
        data = parquet_bytes(df, show_contacts)
    else:
        raise InputError(
            f"format de sortie non pris en charge « {suffix or '(aucune extension)'} » ; "
            f"extensions possibles : {', '.join(SUFFIXES)}",
            path,
        )
    if path.parent and not path.parent.exists():
        raise InputError("le dossier de sortie n'existe pas", path.parent)
    return write_atomic(path, data)
