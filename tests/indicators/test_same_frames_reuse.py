"""The mention-free steps reused across mentions (``analysis.model.memo.same_frames`` on the
opening rule, the establishments' territories and points, the populations) change no figure:
every territory indicator and the portrait equal those computed with nothing reused, on the
demo and on hand-made edge cases (a snapshot without the FINESS table, without any offer)."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from analysis.geo import geography as geo
from analysis.indicators import territories
from analysis.indicators.opening import OpeningRule
from analysis.io import store
from analysis.model import memo
from tests.helpers import small_snapshot

MENTIONS = ["ME050", "ME059", "ME060"]


def _both(tables, communes, level, territoire, rule):
    """(reused, fresh) results: the portrait and each mention's table, twice over."""
    def run():
        names = territories.region_names("11")
        out = [territories.territory_portrait(tables, communes, level, territoire,
                                              mentions=MENTIONS, names=names, opening=rule)]
        out += [territories.territory_indicators(tables, communes, level, m, names=names,
                                                 opening=rule) for m in MENTIONS]
        return out
    reused = run() + run()  # the second round reads what the first one kept
    with memo.bypassed():
        fresh = run()
    return reused, fresh + fresh


def _check(tables, communes, level, territoire, rule):
    reused, fresh = _both(tables, communes, level, territoire, rule)
    for a, b in zip(reused, fresh, strict=True):
        assert_frame_equal(a, b)


@pytest.mark.slow
@pytest.mark.parametrize("level", ["departement", "epci", "commune"])
def test_demo_indicators_unchanged(demo_store, level):
    snap = store.read_snapshot(demo_store)
    communes = geo.load_origins("11")
    territoire = {"departement": "75", "epci": "200054781", "commune": "75056"}[level]
    for provisional in (False, True):
        _check(snap.tables, communes, level, territoire, OpeningRule(snap.date, provisional))


def test_edge_snapshots_unchanged():
    communes = geo.load_communes("11")
    day = dt.date(2024, 3, 1)
    full = small_snapshot()
    without_finess = {k: v for k, v in full.items() if k != "finess_etablissements"}
    no_offer = {**full, "offres": full["offres"].clear()}
    for tables in (full, without_finess, no_offer):
        _check(tables, communes, "departement", "75", OpeningRule(day))
        _check(tables, communes, "departement", "75", None)


def test_equal_copies_give_equal_results():
    """Reuse is by identity: a copy of the tables is computed afresh, with the same result."""
    communes = geo.load_communes("11")
    tables = small_snapshot()
    copy = {k: v.clone() for k, v in tables.items()}
    a = territories.territory_indicators(tables, communes, "departement", "ME050")
    b = territories.territory_indicators(copy, communes.clone(), "departement", "ME050")
    assert_frame_equal(a, b)
    assert isinstance(a, pl.DataFrame)
