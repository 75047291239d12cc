"""What a format loader hands to validation: raw text tables, the loader's notes, its sources.

Every loader other than ``canonical`` (column mapping, FINESS, FHIR) returns a ``LoadResult``:
tables keyed by canonical table name with every value as text (plus the metadata columns
``schema.SOURCE_COLUMN`` and ``schema.LOADER_REJECT_COLUMN`` where useful), the loader's own
remarks as report rows (unknown columns, codes it could not read, derived values), and one
manifest entry per input file. ``analysis.io.importing`` then validates the tables and merges the
notes into the validation report, so the user sees one report.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from analysis.model.schema import REPORT_SCHEMA, TABLES, WARNING

#: Row number of a note about a whole table or file rather than one row.
TABLE_LEVEL_ROW = 0


@dataclass(eq=False)
class Notes:
    """Collects a loader's remarks as report rows (severity ``avertissement``).

    ``row`` follows validation's numbering: the 1-based position of the row in the raw table
    handed to validation, or 0 for a remark about a whole table or file.
    """

    rows: list[dict[str, Any]] = field(default_factory=list)

    def add(
        self,
        table: str,
        rule: str,
        reason: str,
        row: int = TABLE_LEVEL_ROW,
        column: str = "",
        value: str | None = None,
    ) -> None:
        """Record one remark (French ``reason``) about ``table`` (a canonical table name)."""
        if table not in TABLES:
            raise ValueError(f"unknown table {table!r}")
        self.rows.append(
            {
                "table": table,
                "row": row,
                "column": column,
                "value": value,
                "rule": rule,
                "reason": reason,
                "severity": WARNING,
            }
        )

    def frame(self) -> pl.DataFrame:
        """The remarks in ``schema.REPORT_SCHEMA``."""
        return pl.DataFrame(self.rows, schema=REPORT_SCHEMA, orient="row")


@dataclass(eq=False)
class LoadResult:
    """Raw tables of one import, the loader's notes, the input files and free metadata.

    ``tables`` maps canonical names to all-text frames (absent tables are simply missing);
    ``notes`` follows ``schema.REPORT_SCHEMA``; ``sources`` are manifest entries (file name,
    sha256, format…); ``extra`` goes to the manifest's ``extra`` (filters, extraction date).
    """

    format: str
    tables: dict[str, pl.DataFrame]
    notes: pl.DataFrame
    sources: list[dict[str, Any]]
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def rows(self) -> int:
        """Total number of rows handed to validation, all tables together."""
        return sum(frame.height for frame in self.tables.values())


def file_source(path: Path, data: bytes, fmt: str, **details: Any) -> dict[str, Any]:
    """A manifest entry for one input file (name only, never the full path)."""
    return {
        "file": path.name,
        "format": fmt,
        "sha256": hashlib.sha256(data).hexdigest(),
        **details,
    }


def text_frame(rows: list[dict[str, Any]], columns: list[str]) -> pl.DataFrame:
    """An all-text frame with ``columns`` from row dicts (missing keys are null)."""
    schema = dict.fromkeys(columns, pl.String)
    data = [{c: (None if r.get(c) is None else str(r[c])) for c in columns} for r in rows]
    return pl.DataFrame(data, schema=schema, orient="row")
