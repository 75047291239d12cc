"""The home page through Streamlit's AppTest, on the demo store."""

from __future__ import annotations

from pathlib import Path

import polars as pl
from streamlit.testing.v1 import AppTest

from analysis.io import store

APP = str(Path(__file__).resolve().parents[2] / "app.py")


def _metric(at: AppTest, label: str) -> str:
    for m in at.metric:
        if m.label == label:
            return m.value
    raise AssertionError(f"no metric {label!r}: {[m.label for m in at.metric]}")


def _as_int(text: str) -> int:
    return int(text.replace("\u202f", "").replace(" ", ""))


def _open_units(snap) -> pl.DataFrame:
    t, day = snap.tables, snap.date

    def closed(frame, key):
        return {
            k for k, d in frame.select(key, "date_fermeture").rows() if d is not None and d <= day
        }

    gone = closed(t["etablissements"], "finess_eg") | closed(t["finess_etablissements"], "finess_eg")
    return t["unites"].filter(
        ~pl.col("finess_eg").is_in(list(gone))
        & ~pl.col("uo_id").is_in(list(closed(t["unites"], "uo_id")))
    )


def test_home_shows_headline_figures_of_latest_snapshot(app_env):
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception, at.exception
    latest = store.read_snapshot(app_env)
    # independent count on the open offer: establishments and units with a closure dated on or
    # before the snapshot (ROR or FINESS, any type) are left out, then sum the offer table
    units = _open_units(latest)
    offres = latest.tables["offres"].filter(pl.col("uo_id").is_in(units["uo_id"].to_list()))
    assert _as_int(_metric(at, "Lits")) == int(offres["lits"].fill_null(0).sum())
    assert _as_int(_metric(at, "Places")) == int(offres["places"].fill_null(0).sum())
    assert _as_int(_metric(at, "Unités")) == units.height
    assert any("Fermés temporairement" in c.value for c in at.caption)
    with_offer = offres.join(units, on="uo_id")["finess_eg"].n_unique()
    assert _as_int(_metric(at, "Établissements SMR")) == with_offer
    assert any("Données fictives" in w.value for w in at.warning)
    assert any(f"{latest.date:%d/%m/%Y}" in s.value for s in at.subheader)


def test_home_follows_the_selected_snapshot(app_env):
    at = AppTest.from_file(APP, default_timeout=60).run()
    dates = store.list_snapshots(app_env)
    first = dates[0]
    box = at.sidebar.selectbox(key="snapshot")
    assert box.options[-1] == f"{first:%d/%m/%Y}"  # latest first, oldest last
    box.select_index(len(dates) - 1).run()
    assert not at.exception
    snap = store.read_snapshot(app_env, first)
    units = _open_units(snap)
    offres = snap.tables["offres"].filter(pl.col("uo_id").is_in(units["uo_id"].to_list()))
    assert _as_int(_metric(at, "Lits")) == int(offres["lits"].fill_null(0).sum())


def test_home_with_empty_store_explains(tmp_path, monkeypatch):
    monkeypatch.setenv("SMR_STORE", str(tmp_path))
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    assert at.sidebar.error and "Aucun instantané" in at.sidebar.error[0].value
    assert at.info


def test_capacity_by_mention_matches_independent_sum(demo_store):
    snap = store.read_snapshot(demo_store)
    from analysis.present import summary

    table = summary.capacity_by_mention(snap.tables)
    assert table.height == 13
    joined = snap.tables["offres"].join(snap.tables["unites"], on="uo_id")
    for row in table.iter_rows(named=True):
        sub = joined.filter(pl.col("mention") == row["mention"])
        assert row["lits"] == int(sub["lits"].fill_null(0).sum())
        assert row["etablissements"] == sub["finess_eg"].n_unique()
