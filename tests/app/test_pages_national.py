"""Pages at national scale (issue #9): maps of a large region drawn one département at a
time, and long daily series drawn as weekly points. The all-France reference is not
committed, so a large region is simulated by lowering the commune threshold on Île-de-France
(1,266 communes)."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from analysis.checks.campaign import history
from analysis.demo import national
from analysis.geo import geography
from analysis.io import store
from ui import territory

APP = str(Path(__file__).resolve().parents[2] / "app.py")


def _open(page: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120).run()
    assert not at.exception, at.exception
    at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


def _features(at: AppTest) -> list[dict]:
    charts = at.get("vega_lite_chart")
    assert len(charts) == 1
    return json.loads(charts[0].proto.spec)["datasets"]["territoires"]


def test_large_region_map_shows_departements_then_one_departement(app_env, monkeypatch):
    monkeypatch.setattr(territory, "COMMUNE_MAP_MAX", 1000)
    at = _open("app_pages/carte.py")
    assert at.radio(key="carte_niveau").value == "departement"
    assert len(_features(at)) == 8
    assert not [s for s in at.selectbox if s.key == "carte_departement"]
    at.radio(key="carte_niveau").set_value("commune").run()
    assert not at.exception, at.exception
    deps = at.selectbox(key="carte_departement")
    assert deps.options[0].endswith("(75)") and len(deps.options) == 8
    communes = geography.load_communes("11")
    for code in ("75", "91"):
        deps.set_value(code).run()
        features = _features(at)
        expected = set(communes.filter(pl.col("departement") == code)["commune_insee"])
        assert {f["properties"]["commune_insee"] for f in features} == expected
        assert any(f["properties"]["valeur"] is not None for f in features)
        assert any("seulement" in c.value for c in at.caption)


def test_small_region_map_keeps_every_commune(app_env):
    at = _open("app_pages/carte.py")
    assert at.radio(key="carte_niveau").value == "commune"
    assert len(_features(at)) == geography.load_communes("11").height


@pytest.fixture(scope="module")
def long_series(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("long")
    national.build_daily_demo(path, days=100, region="11")
    return path


def test_long_series_progress_is_weekly_and_exact(long_series, monkeypatch):
    monkeypatch.setenv("SMR_STORE", str(long_series))
    monkeypatch.chdir(Path(APP).parent)
    at = _open("app_pages/campagne.py")
    resolution = at.radio(key="campagne_resolution")
    assert resolution.value == "semaine"
    days = store.list_snapshots(long_series)
    weekly = history.sampled_dates(days, 7, [days[-1]])
    assert len(weekly) == 16  # 100 days: 15 weeks back from the last day, plus the first
    expected = history.progress(long_series, dates=weekly)
    chart = at.get("arrow_vega_lite_chart") or at.get("vega_lite_chart")
    assert chart
    resolution.set_value("tous").run()
    assert not at.exception, at.exception
    # the weekly points are the daily history at those dates
    full = history.progress_history(long_series)
    assert full.filter(pl.col("date").is_in(weekly)).equals(expected)
    sync_page = _open("app_pages/synchronisation.py")
    assert "Évolution" in [s.value for s in sync_page.subheader]
    assert any("un point par semaine" in c.value for c in sync_page.caption)
