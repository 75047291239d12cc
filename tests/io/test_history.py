"""Lazy history over a store (issue #9): campaign progress and sync counts computed with one
lazy plan per batch of snapshots must equal the per-snapshot computations."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from analysis.checks.campaign import checklist
from analysis.checks.campaign.history import (
    PROGRESS_SCHEMA,
    counts_lazy,
    progress,
    progress_history,
    read_campaign_tables,
    sampled_dates,
)
from analysis.demo import national, regional
from analysis.indicators import sync
from analysis.io import store

pytestmark = pytest.mark.slow  # histories over demo and daily stores


@pytest.fixture(scope="module")
def daily_store(tmp_path_factory) -> Path:
    """40 daily snapshots of the Île-de-France demo (outages, sessions, openings)."""
    path = tmp_path_factory.mktemp("daily")
    national.build_daily_demo(path, days=40, region="11")
    return path


@pytest.mark.parametrize("batch", [1, 4, 64])
def test_lazy_progress_equals_per_snapshot_progress(demo_store, batch):
    eager = progress(demo_store)
    lazy = progress_history(demo_store, batch=batch)
    assert lazy.height == eager.height > 0
    assert_frame_equal(lazy, eager)


def test_lazy_progress_on_a_daily_series(daily_store):
    params = checklist.CampaignParams(start=dt.date(2023, 3, 20), sync_time=dt.time(9, 30))
    assert_frame_equal(
        progress_history(daily_store, params, batch=16),
        progress(daily_store, params),
    )


def test_lazy_progress_of_chosen_dates_and_empty_store(demo_store, tmp_path):
    chosen = regional.SNAPSHOT_DATES[2:5]
    lazy = progress_history(demo_store, dates=chosen)
    assert lazy["date"].unique().sort().to_list() == list(chosen)
    assert_frame_equal(lazy, progress(demo_store, dates=chosen))
    empty = progress_history(tmp_path)
    assert empty.height == 0 and empty.schema == pl.Schema(PROGRESS_SCHEMA)


def test_evaluate_lazy_over_stacked_snapshots_matches_each_snapshot(demo_store):
    params = checklist.CampaignParams(start=regional.CAMPAIGN_START)
    days = regional.SNAPSHOT_DATES[5:8]
    tables = {
        t: store.scan_table(demo_store, t, cols, days)
        for t, cols in checklist.columns_needed(params).items()
    }
    stacked = checklist.evaluate_lazy(tables, None, params, snapshot_col="date_snapshot").collect()
    keys = ["niveau", "regle", "entite"]
    for day in days:
        one = checklist.evaluate(read_campaign_tables(demo_store, day, params), day, params)
        mine = stacked.filter(pl.col("date_snapshot") == day).drop("date_snapshot")
        assert_frame_equal(mine.sort(keys), one.sort(keys))


def test_counts_lazy_equals_counting_the_results(demo_store):
    snap = store.read_snapshot(demo_store)
    params = checklist.CampaignParams(start=regional.CAMPAIGN_START)
    results = checklist.evaluate(snap.tables, snap.date, params)
    # an independent count: per rule, rows whose result is ok, over all its rows
    expected = (
        results.group_by("regle")
        .agg((pl.col("resultat") == "ok").sum().cast(pl.Int64).alias("conformes"),
             pl.len().cast(pl.Int64).alias("total"))
        .with_columns((pl.col("conformes") / pl.col("total")).alias("taux"))
        .sort("regle")
    )
    got = counts_lazy(snap.tables, snap.date, params).collect().sort("regle")
    assert_frame_equal(got, expected)


@pytest.mark.parametrize("hour", [dt.time(0, 0), dt.time(6, 15), dt.time(18, 0), dt.time(23, 59)])
def test_last_sync_expression_matches_last_sync(hour):
    days = [dt.date(2023, 3, 1), dt.date(2024, 2, 29), dt.date(2023, 12, 31)]
    got = pl.select(sync.last_sync_expr(pl.lit(pl.Series(days)), hour)).to_series().to_list()
    assert got == [sync.last_sync(d, hour) for d in days]


@pytest.mark.parametrize("by_departement", [False, True])
def test_sync_history_equals_counts_per_snapshot(daily_store, by_departement):
    hour = dt.time(8, 0)
    history = sync.status_history(daily_store, hour, by_departement=by_departement, batch=7)
    days = store.list_snapshots(daily_store)
    assert history["date"].n_unique() == len(days)
    by = "departement" if by_departement else "ensemble"
    for day in days[::9]:
        tables = store.read_snapshot(daily_store, day).tables
        status = sync.unit_status(tables, day, hour)
        expected = sync.status_counts(status, tables["etablissements"], by=by)
        mine = history.filter(pl.col("date") == day).drop("date")
        if not by_departement:
            expected = expected.drop("ensemble")
        assert_frame_equal(mine, expected.select(mine.columns))


def test_sampled_dates_hand_worked():
    days = [dt.date(2024, 1, 1) + dt.timedelta(days=i) for i in range(20)]
    # back from 20/01 by 7 days: 20, 13, 06; plus the first (01) and the one asked for (10)
    assert [d.day for d in sampled_dates(days, 7, [dt.date(2024, 1, 10)])] == [
        1, 6, 10, 13, 20,
    ]
    assert sampled_dates(days, 1) == days
    irregular = [dt.date(2024, 1, 1), dt.date(2024, 1, 3), dt.date(2024, 1, 20)]
    assert sampled_dates(irregular, 7) == [dt.date(2024, 1, 1), dt.date(2024, 1, 3),
                                                    dt.date(2024, 1, 20)]
    assert sampled_dates(irregular, 7, [dt.date(2030, 1, 1)]) == irregular


def test_scan_table_reads_only_the_chosen_dates(demo_store):
    chosen = [regional.SNAPSHOT_DATES[0], regional.SNAPSHOT_DATES[-1]]
    frame = store.scan_table(demo_store, "unites", ["uo_id"], chosen).collect()
    assert frame["date_snapshot"].unique().sort().to_list() == chosen
    assert frame.columns == ["date_snapshot", "uo_id"]


def test_has_duplicates_compares_nulls_as_unique_does():
    from analysis.io.history import has_duplicates

    day = dt.date(2024, 3, 4)
    frame = pl.LazyFrame(
        {"date_snapshot": [day, day, day], "uo_id": ["A", "B", None], "nom": ["x", "y", "z"]}
    )
    assert not has_duplicates(frame, ["date_snapshot", "uo_id"])
    other_day = pl.LazyFrame(  # the same key on another snapshot is no duplicate
        {"date_snapshot": [day, day + dt.timedelta(1)], "uo_id": ["A", "A"], "nom": ["x", "x"]}
    )
    assert not has_duplicates(other_day, ["date_snapshot", "uo_id"])
    twice_null = pl.concat([frame, frame.filter(pl.col("uo_id").is_null())])
    assert has_duplicates(twice_null, ["date_snapshot", "uo_id"])
    assert twice_null.unique(["date_snapshot", "uo_id"]).collect().height == 3
    assert not has_duplicates(frame.clear(), ["date_snapshot", "uo_id"])


def test_lazy_progress_with_repeated_keys_in_one_snapshot(tmp_path):
    # Units, VT units and establishments listed twice in one snapshot (the first row counts):
    # the stacked history keeps the first row of each key as each snapshot alone does.
    from tests.helpers import small_snapshot

    tables = small_snapshot()
    store.write_snapshot(tmp_path, dt.date(2024, 3, 4), tables)
    repeated = dict(tables)
    for name, changed in (("unites", "nom"), ("vt_unites", "nom"),
                          ("etablissements", "raison_sociale")):
        first = tables[name].head(1).with_columns(pl.lit("Autre nom").alias(changed))
        repeated[name] = pl.concat([tables[name], first])
    store.write_snapshot(tmp_path, dt.date(2024, 3, 5), repeated)
    params = checklist.CampaignParams(start=dt.date(2024, 1, 1))
    lazy = progress_history(tmp_path, params)
    assert lazy["date"].n_unique() == 2
    assert_frame_equal(lazy, progress(tmp_path, params))
    assert_frame_equal(
        sync.status_history(tmp_path),
        pl.concat([
            sync.status_counts(sync.unit_status(read_campaign_tables(tmp_path, day, params),
                                                day), by="ensemble")
            .select(pl.lit(day).alias("date"), *sync.STATUSES, "total", "taux_synchronise")
            for day in (dt.date(2024, 3, 4), dt.date(2024, 3, 5))
        ]).cast(sync.HISTORY_SCHEMA),
    )
