"""The campaign's to-do lists as files to send: an Excel workbook (one sheet per establishment
or département, and the « Support » sheet) or one CSV, contacts masked by default. The frames
come from ``analysis.checks.campaign`` (``todo_sheets``, ``todo_frame``)."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from analysis.checks.campaign.todo import TODO_PER, todo_frame, todo_items, todo_sheets
from analysis.io.files import write_atomic
from analysis.model.errors import InputError
from analysis.present import export


def todo_excel(
    results: pl.DataFrame,
    per: str = "etablissement",
    finess: str | None = None,
    show_contacts: bool = False,
    region: str | None = None,
) -> bytes:
    """The to-do workbook (xlsx bytes): see ``todo_sheets``; contacts masked by default."""
    return export.excel_bytes(
        todo_sheets(results, per, finess, show_contacts, region=region), show_contacts
    )


def todo_csv(
    results: pl.DataFrame,
    finess: str | None = None,
    show_contacts: bool = False,
    region: str | None = None,
) -> bytes:
    """The to-do list as one CSV (all establishments, or one): contacts masked by default;
    the « Support » column carries the region's support block on every row."""
    return export.csv_bytes(
        todo_frame(todo_items(results, finess), show_contacts, region), show_contacts
    )


def write_todo(
    results: pl.DataFrame,
    path: str | Path,
    per: str = "etablissement",
    finess: str | None = None,
    show_contacts: bool = False,
    region: str | None = None,
) -> Path:
    """Write the to-do list to ``path`` (.xlsx: one sheet per establishment or département,
    and the « Support » sheet; .csv: one table with the « Support » column), atomically;
    returns the path."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        data = todo_excel(results, per, finess, show_contacts, region)
    elif suffix == ".csv":
        if per not in TODO_PER:
            raise InputError(
                f"découpage inconnu « {per} » ; choix possibles : {', '.join(TODO_PER)}"
            )
        data = todo_csv(results, finess, show_contacts, region)
    else:
        raise InputError(
            f"format non pris en charge « {suffix or '(aucune extension)'} » pour la liste de "
            "points à traiter ; extensions possibles : .xlsx, .csv",
            path,
        )
    if not path.parent.exists():
        raise InputError("le dossier de sortie n'existe pas", path.parent)
    return write_atomic(path, data)
