"""The ViaTrajectoire sync report that VT sends to the ANS, read from its file (CSV or Excel)
into ``VT_REPORT_SCHEMA``; ``analysis.checks.quality.vt_report`` matches it with the FINESS
reference and computes the national synchronisation rate from the frame.

Text files go through the canonical loader's machinery (the encodings and separators of the
other loaders); workbooks through fastexcel.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from analysis.io.files import read_input
from analysis.io.loaders import canonical
from analysis.model.errors import InputError
from analysis.model.text import fold as _fold_header

#: Columns of the ViaTrajectoire sync report (ROR_QUALITY.md §5) → our names.
VT_REPORT_COLUMNS: dict[str, str] = {
    "Finess": "finess",
    "NomEtablissement": "nom_etablissement",
    "CodeRegion": "code_region",
    "Domaine": "domaine",
    "EtatVT": "etat_vt",
    "EtatSynchronisationROR": "etat_synchronisation_ror",
    "DateSynchronisation": "date_synchronisation",
}
VT_REQUIRED = ("Finess", "EtatSynchronisationROR")
VT_REPORT_SCHEMA: dict[str, pl.DataType] = {
    "ligne": pl.Int64(),
    "finess": pl.String(),
    "nom_etablissement": pl.String(),
    "code_region": pl.String(),
    "domaine": pl.String(),
    "etat_vt": pl.String(),
    "etat_synchronisation_ror": pl.String(),
    "date_synchronisation": pl.Datetime("us"),
}


@dataclass(eq=False)
class VtReport:
    """The ViaTrajectoire sync report as read: rows, remarks (French) and the file's details."""

    frame: pl.DataFrame
    notes: list[str]
    source: dict[str, Any]


def _read_vt_excel(path: Path, data: bytes) -> pl.DataFrame:
    import fastexcel

    try:
        reader = fastexcel.read_excel(data)
        sheet = reader.load_sheet(0, dtypes="string")
        frame = sheet.to_polars()
    except Exception:
        raise InputError("classeur Excel illisible ou corrompu.", path) from None
    frame = frame.with_columns(pl.all().cast(pl.String))
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame


_VT_DATE_FORMATS = (
    "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d", "%d/%m/%Y %H:%M:%S",
    "%d/%m/%Y %H:%M", "%d/%m/%Y",
)  # fmt: skip


def _vt_datetime(column: pl.Expr) -> pl.Expr:
    """Datetime of ISO, French or Excel-serial text (null when unreadable)."""
    text = column.str.strip_chars().str.replace(r"(\d{2}:\d{2}:\d{2})\.\d+$", "$1")
    parsed = [text.str.strptime(pl.Datetime("us"), f, strict=False) for f in _VT_DATE_FORMATS]
    serial = text.cast(pl.Float64, strict=False)
    excel = pl.when(serial.is_between(20000, 80000)).then(
        pl.lit(dt.datetime(1899, 12, 30)) + pl.duration(microseconds=(serial * 86_400e6).round())
    )
    return pl.coalesce(*parsed, excel)


def _vt_table(frame: pl.DataFrame, path: Path | None) -> tuple[pl.DataFrame, list[str]]:
    """The report's rows in ``VT_REPORT_SCHEMA`` and the remarks (French) on the way."""
    wanted = {_fold_header(k).replace(" ", ""): k for k in VT_REPORT_COLUMNS}
    found: dict[str, str] = {}
    for col in frame.columns:
        key = _fold_header(col).replace(" ", "").replace("_", "")
        if key in wanted and wanted[key] not in found:
            found[wanted[key]] = col
    missing = [c for c in VT_REQUIRED if c not in found]
    if missing:
        listed = ", ".join(frame.columns[:10])
        raise InputError(
            f"rapport de synchronisation ViaTrajectoire : colonne(s) {', '.join(missing)} "
            f"absente(s) ; colonnes du fichier : {listed}.",
            path,
        )
    notes = [
        f"colonne {c} absente du fichier : laissée vide"
        for c in VT_REPORT_COLUMNS
        if c not in found
    ]
    out = frame.with_row_index("ligne", offset=1).select(
        pl.col("ligne").cast(pl.Int64),
        *[
            (
                pl.col(found[c]).cast(pl.String).str.strip_chars()
                if c in found
                else pl.lit(None, pl.String)
            ).alias(name)
            for c, name in VT_REPORT_COLUMNS.items()
        ],
    )
    restored = out.filter(pl.col("finess").str.contains(r"^\d{8}$")).height
    if restored:
        notes.append(
            f"{restored} numéro(s) FINESS de 8 chiffres complété(s) d'un zéro initial "
            "(perdu dans un tableur)"
        )
    out = out.with_columns(
        pl.when(pl.col("finess").str.contains(r"^\d{8}$"))
        .then(pl.lit("0") + pl.col("finess"))
        .otherwise(pl.col("finess").str.to_uppercase())
        .alias("finess"),
        pl.when(pl.col("domaine") == "4")
        .then(pl.lit("Handicap"))
        .otherwise(pl.col("domaine"))
        .alias("domaine"),
        _vt_datetime(pl.col("date_synchronisation")).alias("date_synchronisation"),
    ).filter(pl.col("finess").is_not_null() & (pl.col("finess") != ""))
    unreadable = frame.height - out.height
    if unreadable:
        notes.append(f"{unreadable} ligne(s) sans numéro FINESS ignorée(s)")
    return out.cast(VT_REPORT_SCHEMA), notes  # type: ignore[arg-type]


def read_vt_report_frame(frame: pl.DataFrame) -> pl.DataFrame:
    """A report already in memory (national column names, values as text) in
    ``VT_REPORT_SCHEMA``, normalised like ``read_vt_report``."""
    return _vt_table(frame.with_columns(pl.all().cast(pl.String)), None)[0]


def read_vt_report(path: str | Path) -> VtReport:
    """Read the sync report ViaTrajectoire gives the national agency (CSV or Excel).

    Columns are found by name without regard to case, accents or spaces; ``Finess`` and
    ``EtatSynchronisationROR`` are required, the others may be missing (noted). Text files go
    through the canonical loader (UTF-8 with or without BOM, Windows-1252; ``;``, ``,`` or
    tab). A FINESS number that lost its leading zero in a spreadsheet (8 digits) gets it back
    (noted); ``Domaine`` « 4 » reads « Handicap »; ``DateSynchronisation`` is read from ISO,
    French (JJ/MM/AAAA [HH:MM]) or Excel-serial values. Raises ``InputError`` naming the
    file when it cannot be read.
    """
    path = Path(path)
    data = read_input(path)
    if not data.strip():
        raise InputError("fichier vide.", path)
    source: dict[str, Any] = {"file": path.name}
    if path.suffix.lower() in (".xlsx", ".xlsm", ".xls", ".ods"):
        frame = _read_vt_excel(path, data)
    else:
        text = canonical.read_delimited(data, path)
        frame = text.frame
        source.update(encoding=text.encoding, separator=text.separator)
    out, notes = _vt_table(frame, path)
    source["rows"] = out.height
    return VtReport(out, notes, source)
