"""Validation's faster computations against the plain definitions they replace: the phone
status of a cell (one pass) against ``syntax.any_valid_phone`` / ``syntax.phone_lost_zero``,
on hand-made cells."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from analysis.io import validate_rules, validate_values
from analysis.model import syntax

PHONES = [
    None,
    "0590505703",
    "05 90 50 57 03",
    "05.90.50.57.03",
    "590804611",  # the zero lost in a spreadsheet
    "5 90 80 46 11",
    "+33 1 23 45 67 89",
    "0033123456789",
    "+262 262 12 34 56",
    "01 23 45 67 89 poste 412",
    "01 23 45 67 89 / 06 12 34 56 78",
    "0123 ou 06 12 34 56 78",
    "0123",
    "abc",
    "12345678901",
    "1 23 45 67 89 ; 2",
    "0 1 2 3 4 5 6 7 8 9",
    "(0)1 23 45 67 89",
    "０１２３４５６７８９",  # full-width digits
    "123456789",  # nine digits: settled by shape
    "012345678",  # nine digits with a leading zero: by the rules
    "05 96 41 87",  # too short: settled by shape
    "05.96.41",
    "7",
    "1 23 45 67 89",  # nine digits with spaces: by the rules
    "１２３４５６７８９",  # nine full-width digits: by the rules
    "0596418",
]


def test_phone_status_matches_the_syntax_definitions() -> None:
    cells = pl.Series("p", PHONES, dtype=pl.String)
    status = validate_rules._phone_status_of_text(cells)
    expected = pl.DataFrame({"p": cells}).select(
        valid=syntax.any_valid_phone(pl.col("p")),
        lost=syntax.phone_lost_zero(pl.col("p")),
    )
    for cell, code, valid, lost in zip(
        PHONES, status.to_list(), *expected.get_columns(), strict=True
    ):
        if cell is None:
            assert code is None
        elif valid:
            assert code == validate_rules._PHONE_VALID, cell
        elif lost:
            assert code == validate_rules._PHONE_LOST_ZERO, cell
        else:
            assert code == validate_rules._PHONE_INVALID, cell
    # worked out by hand: "590804611", "5 90 80 46 11", "(0)1 23 45 67 89", "123456789" and
    # "1 23 45 67 89" lost their zero
    assert status.to_list().count(validate_rules._PHONE_LOST_ZERO) == 5


def _reference_datetimes(cells: list[str | None]) -> list:
    """The plain-ISO reading as first written: a date gets `` 00:00:00`` appended and every
    plain cell goes through one ``strptime`` of ``%Y-%m-%d %H:%M:%S``; years 1900–2100."""
    frame = pl.DataFrame({"s": cells}, schema={"s": pl.String})
    date = pl.col("s").str.contains(r"^\d{4}-\d{2}-\d{2}$")
    time = pl.col("s").str.contains(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?$")
    plain = (
        pl.when(date)
        .then(pl.col("s") + pl.lit(" 00:00:00"))
        .when(time)
        .then(pl.col("s").str.slice(0, 19).str.replace("T", " ", literal=True))
        .str.strptime(pl.Datetime("us"), "%Y-%m-%d %H:%M:%S", strict=False)
    )
    return frame.select(pl.when(plain.dt.year().is_between(1900, 2100)).then(plain)).to_series().to_list()


DATES = ["2024-03-01", "2024-02-29", "2023-02-29", "2023-13-01", "2023-00-10", "0000-01-01",
         "1899-12-31", "1900-01-01", "2100-12-31", "2101-01-01", "２０２３-０１-０１", "9999-99-99",
         None]
DATETIMES = ["2023-07-01T08:13:00.000000", "2023-07-01 08:13:00", "2023-07-01T24:00:00",
             "2023-07-01T23:59:60", "2023-02-30T10:00:00", "1899-12-31T23:59:59", None]


ONLY_DATES = ["2024-03-01", None, "1899-12-31", "2100-12-31", "2024-02-30"]
ONLY_DATETIMES = ["2023-07-01T08:13:00.000000", "2101-01-01 00:00:00", None, "1900-01-01 00:00:00"]
#: Spellings the plain path leaves to the general one (French dates, offsets, one-digit parts).
OTHERS = ["01/02/2023", "2023-07-01T08:13:00+02:00", "2023-7-1", None, "31/12/1899", "x"]


@pytest.mark.parametrize(
    "cells",
    [DATES, DATETIMES, DATES + DATETIMES, ONLY_DATES, ONLY_DATETIMES, OTHERS,
     OTHERS + ONLY_DATES, OTHERS + ONLY_DATETIMES, [None, None]],
)
def test_plain_dates_read_as_before(cells: list[str | None]) -> None:
    got = validate_values._datetime_of_text(pl.Series("d", cells, dtype=pl.String)).to_list()
    plain = _reference_datetimes(cells)
    general = validate_values._datetime_of_any_text(pl.Series("d", cells, dtype=pl.String))
    # plain spellings as first written, the others by the general reading, cell by cell
    assert got == [p if p is not None else g for p, g in zip(plain, general.to_list(), strict=True)]
    if cells is DATES:  # worked out by hand
        assert got[0] == dt.datetime(2024, 3, 1) and got[1] == dt.datetime(2024, 2, 29)
        assert got[2:6] == [None] * 4 and got[6] is None and got[7] == dt.datetime(1900, 1, 1)


def test_empty_date_column_reads_as_null_datetimes() -> None:
    got = validate_values._datetime_of_text(pl.Series("d", [None, None], dtype=pl.String))
    assert got.dtype == pl.Datetime("us") and got.to_list() == [None, None]


def test_empty_phone_column_has_no_status() -> None:
    status = validate_rules._phone_status_of_text(pl.Series("p", [None, None], dtype=pl.String))
    assert status.dtype == pl.Int8 and status.to_list() == [None, None]


def test_labelled_codes_folded_once_per_spelling_match_the_expression() -> None:
    cells = ["Référent unité", "referent_unite", "REFERENT  UNITÉ", "Référent unité", None,
             "inconnu", "Référent structure", "", "referent_unite"]
    mapping = validate_values._code_mapping("role_habilitation")
    s = pl.Series("r", cells, dtype=pl.String)
    got = validate_values._labelled_codes(mapping)(s)
    expected = pl.DataFrame({"r": s}).select(
        validate_values._fold_code(pl.col("r")).replace_strict(
            mapping, default=None, return_dtype=pl.String
        )
    ).to_series()
    assert got.to_list() == expected.to_list()
    assert got[0] == got[1] == got[2] == "referent_unite" and got[4] is None  # by hand
    empty = pl.Series("r", [None, None], dtype=pl.String)
    assert validate_values._labelled_codes(mapping)(empty).to_list() == [None, None]
