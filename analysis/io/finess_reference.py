"""A FINESS reference read from files given instead of the snapshot's (``smr qualite --finess``,
the Qualité ROR page's upload): the open-data extraction and activity flow, or a canonical
table, validated like an import."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import polars as pl

from analysis.io import validate
from analysis.io.loaders import canonical, finess
from analysis.model.errors import InputError


def read_finess_reference(
    source: str | Path | Sequence[str | Path],
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The FINESS reference of a file given instead of the snapshot's (``--finess``).

    ``source`` is the FINESS open-data extraction (with, optionally, the JSON activity flow:
    several files or a folder), or a canonical ``finess_etablissements`` table (CSV, Parquet).
    Returns the validated table and the validation report (rejected rows, warnings). Raises
    ``InputError`` naming the file when it cannot be read.
    """
    items = [source] if isinstance(source, str | Path) else list(source)
    paths = [Path(p) for p in items]
    if not paths:
        raise InputError("aucun fichier FINESS donné.")
    if len(paths) == 1 and paths[0].is_file() and not _looks_like_finess(paths[0]):
        raw = canonical.read_table_file(paths[0], "finess_etablissements").frame
    else:
        result = finess.load_finess(paths if len(paths) > 1 else paths[0])
        raw = result.tables.get("finess_etablissements")
        if raw is None:
            raise InputError(
                "le fichier FINESS ne contient pas l'extraction des établissements "
                "(etalab-cs1100507-stock-….csv) : le référentiel ne peut pas être construit.",
                paths[0],
            )
    checked = validate.validate_tables({"finess_etablissements": raw})
    return checked.tables["finess_etablissements"], checked.report


def _looks_like_finess(path: Path) -> bool:
    """An open-data FINESS file: JSON activity flow, or text starting ``finess;``/``structureet;``."""
    if path.suffix.lower() == ".json":
        return True
    try:
        head = path.read_bytes()[:200].decode("latin-1").lstrip("\ufeff\xef\xbb\xbf").lower()
    except OSError:
        return False
    return head.startswith(("finess;", "structureet;", '"finess";', '"structureet";'))


