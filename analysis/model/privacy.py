"""Personal data: which columns hold it, and how it is masked before anything is shown or
written out.

Contacts (names, e-mails, phone numbers of staff, see ``schema.Column.contact``) are replaced
by ``MASK`` unless the caller explicitly asks for them; in a validation report, where the
contact is the ``value`` of a row whose ``column`` is a contact column, ``mask_report_values``
does the same. Files are written by ``analysis.present.export``, which applies these.
"""

from __future__ import annotations

import polars as pl

from analysis.model import schema
from analysis.model.syntax import redact

MASK = "[masqué]"

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
