"""The home page through Streamlit's AppTest, on the demo store."""

from __future__ import annotations

from pathlib import Path

import polars as pl
from streamlit.testing.v1 import AppTest

from analysis import store

APP = str(Path(__file__).resolve().parents[2] / "app.py")


def _metric(at: AppTest, label: str) -> str:
    for m in at.metric:
        if m.label == label:
            return m.value
    raise AssertionError(f"no metric {label!r}: {[m.label for m in at.metric]}")


def _as_int(text: str) -> int:
    return int(text.replace("\u202f", "").replace(" ", ""))


def test_home_shows_headline_figures_of_latest_snapshot(app_env):
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception, at.exception
    latest = store.read_snapshot(app_env)
    offres = latest.tables["offres"]
    # independent count: sum the offer table directly
    assert _as_int(_metric(at, "Lits")) == int(offres["lits"].fill_null(0).sum())
    assert _as_int(_metric(at, "Places")) == int(offres["places"].fill_null(0).sum())
    assert _as_int(_metric(at, "Unités")) == latest.tables["unites"].height
    with_offer = offres.join(latest.tables["unites"], on="uo_id")["finess_eg"].n_unique()
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
    offres = store.read_snapshot(app_env, first).tables["offres"]
    assert _as_int(_metric(at, "Lits")) == int(offres["lits"].fill_null(0).sum())


def test_home_with_empty_store_explains(tmp_path, monkeypatch):
    monkeypatch.setenv("SMR_STORE", str(tmp_path))
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    assert at.sidebar.error and "Aucun instantané" in at.sidebar.error[0].value
    assert at.info


def test_capacity_by_mention_matches_independent_sum(demo_store):
    snap = store.read_snapshot(demo_store)
    from analysis import summary

    table = summary.capacity_by_mention(snap.tables)
    assert table.height == 13
    joined = snap.tables["offres"].join(snap.tables["unites"], on="uo_id")
    for row in table.iter_rows(named=True):
        sub = joined.filter(pl.col("mention") == row["mention"])
        assert row["lits"] == int(sub["lits"].fill_null(0).sum())
        assert row["etablissements"] == sub["finess_eg"].n_unique()
