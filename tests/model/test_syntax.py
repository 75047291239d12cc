"""One definition of phone (and e-mail) syntax: validation and the campaign agree on every cell.

Before, ``validate`` had its own clean-up and warned on cells the campaign accepted
("01 23 45 67 89 poste 12", "4521 / 01 23 45 67 89"). Both now use ``analysis.model.syntax``.
"""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.checks.campaign import checklist
from analysis.io import validate
from analysis.model import syntax
from tests.helpers import small_snapshot


def _validation_flags(phones: list[str]) -> list[bool]:
    """For each phone cell, whether validation warns about it (unit phone column)."""
    tables = small_snapshot()
    unit = tables["unites"].head(1)
    units = pl.concat(
        [unit.with_columns(pl.lit(f"UO-T{i}").alias("uo_id"), pl.lit(p).alias("telephone"))
         for i, p in enumerate(phones)]
    )
    result = validate.validate_tables({"etablissements": tables["etablissements"],
                                       "unites": units})
    flagged = set(
        result.report.filter(
            (pl.col("table") == "unites") & (pl.col("column") == "telephone")
            & pl.col("rule").str.starts_with("telephone")
        )["row"].to_list()
    )
    return [i + 1 in flagged for i in range(len(phones))]


def _campaign_invalid(phones: list[str]) -> list[bool]:
    """For each phone cell, whether the campaign's unit-phone rule says « invalide »."""
    tables = small_snapshot()
    unit = tables["unites"].head(1)
    tables["unites"] = pl.concat(
        [unit.with_columns(pl.lit(f"UO-T{i}").alias("uo_id"), pl.lit(p).alias("telephone"))
         for i, p in enumerate(phones)]
    )
    tables["offres"] = tables["offres"].head(0)
    results = checklist.evaluate(tables, dt.date(2024, 3, 1))
    by_unit = dict(
        results.filter(pl.col("regle") == "uo_telephone")
        .select("entite", "resultat").iter_rows()
    )
    return [by_unit[f"UO-T{i}"] == checklist.INVALIDE for i in range(len(phones))]


ACCEPTED = [
    "01 23 45 67 89 poste 12",  # extension after a full number
    "4521 / 01 23 45 67 89",  # an internal extension beside a full number
    "01 23 45 67 89 ; 06 12 34 56 78",
    "+33 (0)1 23 45 67 89",
    "0262 12 34 56",
]
REFUSED = ["4521", "poste 4521", "01 23 45", "+44 20 7946 0958", "123456789"]


@pytest.mark.parametrize("phone", ACCEPTED)
def test_cells_the_campaign_accepts_get_no_validation_warning(phone):
    assert _validation_flags([phone]) == [False]
    assert _campaign_invalid([phone]) == [False]


@pytest.mark.parametrize("phone", REFUSED)
def test_cells_the_campaign_refuses_get_a_validation_warning(phone):
    assert _validation_flags([phone]) == [True]
    assert _campaign_invalid([phone]) == [True]


def test_lost_zero_keeps_its_own_rule():
    tables = small_snapshot()
    units = tables["unites"].head(1).with_columns(pl.lit("1 23 45 67 89").alias("telephone"))
    report = validate.validate_tables(
        {"etablissements": tables["etablissements"], "unites": units}
    ).report
    assert report.filter(pl.col("column") == "telephone")["rule"].to_list() == [
        "telephone_zero_perdu"
    ]


digits = st.text(alphabet="0123456789", min_size=1, max_size=11)
pieces = st.sampled_from([" ", ".", "-", "", " / ", " ; ", " ou ", "(0)", "+33 ", " poste ",
                          "0033"])


@pytest.mark.slow
@settings(deadline=None, max_examples=60)
@given(st.lists(st.lists(st.tuples(pieces, digits), min_size=1, max_size=4).map(
    lambda parts: "".join(a + b for a, b in parts)), min_size=1, max_size=8, unique=True))
def test_validation_and_campaign_agree_on_random_cells(cells):
    """A second implementation would be a third definition: here the two users of the one
    definition are compared with each other on random cells."""
    cells = [c for c in cells if c.strip()]
    if not cells:
        return
    assert _validation_flags(cells) == _campaign_invalid(cells), cells


def test_one_definition_of_the_patterns():
    assert validate.PHONE_PATTERN is syntax.PHONE_PATTERN
    assert validate.EMAIL_PATTERN is syntax.EMAIL_PATTERN
    import inspect

    source = inspect.getsource(validate)
    assert "PHONE_PATTERN =" not in source and "EMAIL_PATTERN =" not in source
