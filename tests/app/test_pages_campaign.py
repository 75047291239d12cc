"""The Campagne and Synchronisation pages through Streamlit's AppTest, on the demo store."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from analysis.checks.campaign import checklist, forecast, history, todo
from analysis.indicators import sync
from analysis.io import store
from analysis.model import formats

APP = str(Path(__file__).resolve().parents[2] / "app.py")


def _metric(at: AppTest, label: str) -> str:
    for m in at.metric:
        if m.label == label:
            return m.value
    raise AssertionError(f"no metric {label!r}: {[m.label for m in at.metric]}")


def _as_int(text: str) -> int:
    return int(text.replace("\u202f", "").replace(" ", ""))


def _items(at: AppTest):
    """The drill-down table (the one with the current values)."""
    tables = [d.value for d in at.dataframe if "Valeur actuelle" in d.value.columns]
    assert len(tables) == 1
    return tables[0]


def _open(page: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    assert not at.exception, at.exception
    at.switch_page(page)
    at.run()
    assert not at.exception, at.exception
    return at


def test_campaign_page_renders_with_figures(app_env):
    at = _open("app_pages/campagne.py")
    latest = store.latest_snapshot(app_env)
    results = history.evaluate_snapshot(app_env, latest)
    overall = checklist.completion_overall(results)
    assert _as_int(_metric(at, "Points à traiter")) == overall["reste"]
    assert _metric(at, "Points conformes") == f"{overall['taux'] * 100:.1f}\u202f%".replace(".", ",")
    assert any("Données fictives" in w.value for w in at.warning)
    subheaders = [s.value for s in at.subheader]
    assert "Avancement par point de contrôle" in subheaders
    assert any(s.startswith("Changements depuis") for s in subheaders)
    # The progress chart is drawn (one line per rule over the snapshots).
    assert at.get("arrow_vega_lite_chart") or at.get("vega_lite_chart")
    labels = [b.proto.label for b in at.get("download_button")]
    assert any("Excel" in label for label in labels) and any("CSV" in label for label in labels)
    # Prerequisites block: the establishments that cannot do the campaign, chased first.
    assert "Prérequis : comptes et habilitations" in subheaders
    blocked = todo.blocked_establishments(results)
    assert _metric(at, "Établissements bloqués") == (
        f"{blocked.height} / {overall['etablissements']}")
    assert _as_int(_metric(at, "Conseils (facultatifs)")) == overall["conseils"]
    shown = [d.value for d in at.dataframe if "compte_ror_motif" in d.value.columns]  # « Constat ROR »
    assert len(shown) == 1 and list(shown[0]["finess_eg"]) == blocked["finess_eg"].to_list()
    # Forecast: the module's projection for the demo's last snapshots, and the late list.
    assert "Prévision : achèvement des phases de la campagne" in subheaders
    table = next(d.value for d in at.dataframe if "date_prevue_tard" in d.value.columns)
    expected = forecast.forecast_phases(
        forecast.phase_series(history.progress_history(app_env)))
    assert list(table["libelle"]) == expected["libelle"].to_list()  # « Phase »
    # phase 2 is never reached at its pace: the column holds an empty cell, shown as text
    assert table["date_prevue"][0] == formats.date(expected["date_prevue"][0])
    late = next(d.value for d in at.dataframe if "rythme_semaine" in d.value.columns)
    pace = forecast.establishment_pace(forecast.remaining_history(app_env))
    assert len(late) == forecast.late_establishments(pace).height > 0
    # Support block (Île-de-France: the guide's channels).
    assert any("01 83 76 30 31" in md.value for md in at.markdown)


def test_campaign_page_drill_down_and_contacts(app_env):
    at = _open("app_pages/campagne.py")
    ranking = checklist.establishment_ranking(history.evaluate_snapshot(app_env))
    target = ranking["finess_eg"][1]
    at.selectbox(key="campagne_etablissement").select(target).run()
    assert not at.exception
    table = _items(at)
    # obligatoire items, then the advice (conseillé) listed too
    assert len(table) == ranking["reste"][1] + ranking["conseils"][1]
    assert "[masqué]" in set(table["Valeur actuelle"].dropna())
    at.checkbox(key="campagne_contacts").check().run()
    assert not at.exception
    assert "[masqué]" not in set(_items(at)["Valeur actuelle"].dropna())


def test_campaign_page_with_a_single_snapshot(demo_store, tmp_path, monkeypatch):
    first = store.list_snapshots(demo_store)[0]
    single = tmp_path / "un_seul"
    shutil.copytree(demo_store / first.isoformat(), single / first.isoformat())
    monkeypatch.setenv("SMR_STORE", str(single))
    monkeypatch.chdir(Path(APP).parent)
    at = _open("app_pages/campagne.py")
    assert f"Instantané du {first:%d/%m/%Y}" in [s.value for s in at.subheader]
    assert not any(s.value.startswith("Changements depuis") for s in at.subheader)
    assert any("Un seul instantané" in i.value for i in at.info)


def test_sync_page_renders_with_counts(app_env):
    at = _open("app_pages/synchronisation.py")
    snap = store.read_snapshot(app_env)
    status = sync.unit_status(snap.tables, snap.date)
    counts = {s: 0 for s in sync.STATUSES}
    for s in status["statut"].to_list():
        counts[s] += 1
    for s, n in counts.items():
        assert _as_int(_metric(at, sync.STATUS_SHORT_LABELS[s])) == n
    assert any("Dernière synchronisation prise en compte" in c.value for c in at.caption)
    assert at.get("arrow_vega_lite_chart") or at.get("vega_lite_chart")


@pytest.mark.parametrize("hour", ["06:00"])
def test_sync_page_follows_the_sync_hour(app_env, hour):
    at = _open("app_pages/synchronisation.py")
    import datetime as dt

    at.time_input(key="synchro_heure").set_value(dt.time.fromisoformat(hour)).run()
    assert not at.exception
    snap = store.read_snapshot(app_env)
    status = sync.unit_status(snap.tables, snap.date, dt.time.fromisoformat(hour))
    n = int((status["statut"] == sync.EN_ATTENTE).sum())
    assert _as_int(_metric(at, sync.STATUS_SHORT_LABELS[sync.EN_ATTENTE])) == n
