"""Validation's faster computations against the plain definitions they replace: the phone
status of a cell (one pass) against ``syntax.any_valid_phone`` / ``syntax.phone_lost_zero``,
on hand-made cells."""

from __future__ import annotations

import polars as pl

from analysis.io import validate_rules
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
    # worked out by hand: "590804611", "5 90 80 46 11" and "(0)1 23 45 67 89" lost their zero
    assert status.to_list().count(validate_rules._PHONE_LOST_ZERO) == 3
