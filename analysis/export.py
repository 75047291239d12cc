"""Exports to CSV, Excel and Parquet: contacts masked by default, formulas neutralised.

Two protections apply to every file the workbench hands out:
- contacts (names, e-mails, phone numbers of staff, see ``schema.Column.contact``) are
  replaced by ``MASK`` unless the caller explicitly asks for them; in a validation report,
  where the contact is the ``value`` of a row whose ``column`` is a contact column,
  ``mask_report_values`` does the same;
- a text cell starting with ``=``, ``+``, ``-`` or ``@`` (or a tab / carriage return) is
  prefixed with an apostrophe in CSV and Excel, so a spreadsheet never runs it as a formula;
  categorical columns, nested values (as text) and column names are treated alike.

Every file written by the command line or offered for download by the app goes through
this module (a test scans the code for other writers).
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from pathlib import Path

import polars as pl

from analysis import schema
from analysis.errors import InputError
from analysis.syntax import redact

MASK = "[masqué]"
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
SUFFIXES = (".csv", ".xlsx", ".parquet")

#: Every column name that holds personal data, whatever the table.
CONTACT_NAMES: frozenset[str] = frozenset(
    name for names in schema.CONTACT_COLUMNS.values() for name in names
)


def mask_contacts(df: pl.DataFrame, extra: tuple[str, ...] = ()) -> pl.DataFrame:
    """``df`` with every contact column (and ``extra`` ones) replaced by ``MASK``.

    Empty cells stay empty, so a reader still sees which contacts are missing.
    """
    targets = [c for c in df.columns if c in CONTACT_NAMES or c in extra]
    if not targets:
        return df
    return df.with_columns(
        pl.when(pl.col(c).is_null() | (pl.col(c).cast(pl.String).str.strip_chars() == ""))
        .then(pl.col(c).cast(pl.String))
        .otherwise(pl.lit(MASK))
        .alias(c)
        for c in targets
    )


def mask_report_values(report: pl.DataFrame, show_contacts: bool = False) -> pl.DataFrame:
    """A validation report with the ``value`` of rows about a contact column masked.

    In a report the contact is not a column of its own: it is the ``value`` of a row whose
    ``column`` names a contact column (``directeur_email``…). Other values keep their text
    but any e-mail address or phone number in them (a contact typed in the wrong column) is
    masked too (``syntax.redact``). Nothing changes with ``show_contacts``.
    """
    if show_contacts or not {"column", "value"} <= set(report.columns):
        return report
    value = pl.col("value").cast(pl.String)
    return report.with_columns(
        pl.when(
            pl.col("column").is_in(sorted(CONTACT_NAMES))
            & value.is_not_null()
            & (value.str.strip_chars() != "")
        )
        .then(pl.lit(MASK))
        .otherwise(value.map_elements(redact, return_dtype=pl.String, skip_nulls=True))
        .alias("value")
    )


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


def csv_bytes(df: pl.DataFrame, show_contacts: bool = False) -> bytes:
    """CSV (UTF-8 with BOM so Excel reads accents, ``;`` separator as French Excel expects)."""
    text = prepare(df, show_contacts).write_csv(separator=";")
    return b"\xef\xbb\xbf" + text.encode("utf-8")


def excel_bytes(sheets: Mapping[str, pl.DataFrame], show_contacts: bool = False) -> bytes:
    """An Excel workbook with one sheet per entry (names cut to Excel's 31 characters)."""
    from openpyxl import Workbook
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    wb.remove(wb.active)
    used: set[str] = set()
    for name, df in sheets.items():
        title = _sheet_title(name, used)
        ws = wb.create_sheet(title)
        out = prepare(df, show_contacts)
        ws.append(out.columns)
        for row in out.iter_rows():
            ws.append(list(row))
        for i, col in enumerate(out.columns, start=1):
            width = max([len(str(col))] + [len(str(v)) for v in out[col].head(200).to_list()])
            ws.column_dimensions[get_column_letter(i)].width = min(max(width + 2, 8), 60)
        ws.freeze_panes = "A2"
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
    df: pl.DataFrame, path: str | Path, show_contacts: bool = False, sheet: str = "donnees"
) -> Path:
    """Write ``df`` to ``path``; the format follows the extension (.csv, .xlsx, .parquet)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        data = csv_bytes(df, show_contacts)
    elif suffix == ".xlsx":
        data = excel_bytes({sheet: df}, show_contacts)
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
    tmp = path.with_name(path.name + ".partial")
    tmp.write_bytes(data)
    tmp.replace(path)
    return path
