"""The mention lists of the campaign frames (``frames._sorted_lists``): the distinct
non-null mentions of each group, sorted, as a per-group unique and sort gives them."""

from __future__ import annotations

import datetime as dt

import polars as pl
from polars.testing import assert_frame_equal

from analysis.checks.campaign import frames

D1, D2 = dt.date(2024, 3, 1), dt.date(2024, 3, 2)


def test_sorted_lists_match_a_per_group_unique_and_sort():
    offers = pl.DataFrame(
        {
            "date_snapshot": [D1, D1, D1, D1, D2, D2, D2, D1],
            "uo_id": ["u1", "u1", "u1", "u2", "u1", "u1", "u3", "u4"],
            "mention": ["ME059", "ME050", "ME059", "ME051", None, "ME060", None, "ME050"],
        }
    )
    got = frames._sorted_lists(offers.lazy(), ["date_snapshot", "uo_id"], "mention", "m")
    got = got.collect().sort("date_snapshot", "uo_id")
    # worked out by hand: duplicates once, sorted, nulls left out; u3 has only a null
    want = pl.DataFrame(
        {
            "date_snapshot": [D1, D1, D1, D2],
            "uo_id": ["u1", "u2", "u4", "u1"],
            "m": [["ME050", "ME059"], ["ME051"], ["ME050"], ["ME060"]],
        }
    )
    assert_frame_equal(got, want)
    # the former per-group computation gives the same lists where a group has a mention
    former = (
        offers.group_by("date_snapshot", "uo_id")
        .agg(pl.col("mention").drop_nulls().unique().sort().alias("m"))
        .filter(pl.col("m").list.len() > 0)
        .sort("date_snapshot", "uo_id")
    )
    assert_frame_equal(got, former)


def test_a_unit_whose_offers_have_no_mention_gets_an_empty_list():
    tables = {
        "unites": pl.DataFrame({"uo_id": ["u1", "u2", "u3"], "finess_eg": ["e", "e", "e"],
                                "nom": ["a", "b", "c"]}),
        "offres": pl.DataFrame({"uo_id": ["u1", "u1", "u2"], "mention": ["ME059", "ME050", None]},
                               schema={"uo_id": pl.String, "mention": pl.String}),
    }
    from analysis.checks.campaign.rules import CampaignParams

    level = frames.level_frame("unite", tables, {"mentions"}, D1, CampaignParams())
    got = dict(level.select("uo_id", "mentions").collect().iter_rows())
    assert got == {"u1": ["ME050", "ME059"], "u2": [], "u3": []}
