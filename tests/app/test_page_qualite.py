"""The Qualité ROR page through Streamlit's AppTest, on the demo store and on a store
without FINESS reference."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import polars as pl
from streamlit.testing.v1 import AppTest

from analysis.checks.quality import requirements, vt_report
from analysis.checks.quality.population import establishment_population, population_counts
from analysis.demo import regional
from analysis.indicators import sync
from analysis.io import store, vt_report_file
from tests.helpers import small_snapshot

APP = str(Path(__file__).resolve().parents[2] / "app.py")
PAGE = "app_pages/qualite.py"


def _open() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    assert not at.exception, at.exception
    at.switch_page(PAGE)
    at.run()
    assert not at.exception, at.exception
    return at


def _metric(at: AppTest, label: str) -> str:
    for m in at.metric:
        if m.label == label:
            return m.value
    raise AssertionError(f"no metric {label!r}: {[m.label for m in at.metric]}")


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}\u202f%".replace(".", ",")


def _headed(d) -> pd.DataFrame:
    """A table's data under the headers the page shows (its column configuration)."""
    config = json.loads(d.proto.columns or "{}")
    return d.value.rename(columns={c: v["label"] for c, v in config.items() if "label" in v})


def _table(at: AppTest, column: str):
    found = [t for t in map(_headed, at.dataframe) if column in t.columns]
    assert found, [list(t.columns) for t in map(_headed, at.dataframe)]
    return found[0]


def _expected(demo_store):
    day = store.latest_snapshot(demo_store)
    data = store.read_snapshot(demo_store, day).tables
    params = requirements.QualityParams(departements=requirements.region_departements("11"))
    return day, data, requirements.evaluate(data, day, params), params


def test_page_renders_requirements_trends_population(app_env):
    at = _open()
    day, data, results, params = _expected(app_env)
    totals = requirements.summary(results).filter(pl.col("departement") == "ensemble")
    for row in totals.head(5).iter_rows(named=True):
        assert _metric(at, row["exigence"]) == _pct(row["taux"])
    shown = _table(at, "Périmètre")
    assert shown["Code"].tolist() == [r.id for r in requirements.REQUIREMENTS]
    assert shown["Écarts"].tolist() == totals["ecarts"].to_list()
    assert all(n > 0 for n in shown["Écarts"])  # the demo has écarts for every rule
    subheaders = [s.value for s in at.subheader]
    assert f"Exigences au {day:%d/%m/%Y}" in subheaders
    assert "Suivi du peuplement SMR" in subheaders
    assert at.get("arrow_vega_lite_chart") or at.get("vega_lite_chart")  # the trend chart
    population = population_counts(establishment_population(data, day, params))
    whole = population.filter(pl.col("departement") == "ensemble").row(0, named=True)
    assert _metric(at, "Finalisés").replace("\u202f", "") == str(whole["finalise"])
    quarters = _table(at, "Trimestre")
    assert quarters["Trimestre"].tolist() == ["2023-T1", "2023-T2", "2023-T3"]
    assert quarters["État"].tolist() == ["clos", "clos", "en cours"]
    assert any("Données fictives" in w.value for w in at.warning)
    assert any(e.label.startswith("Méthode : ") for e in at.expander)
    labels = [b.proto.label for b in at.get("download_button")]
    assert any("Excel" in label for label in labels) and any("CSV" in label for label in labels)


def test_page_drill_down_lists_the_entities_with_their_reason(app_env):
    at = _open()
    _, _, results, _ = _expected(app_env)
    at.selectbox(key="qualite_exigence").select("CO4").run()
    assert not at.exception
    listed = _table(at, "Motif de l'écart")
    expected = requirements.ecarts(results, "CO4")
    assert sorted(listed["Entité"]) == sorted(expected["entite"].to_list())
    assert all("catégorie" in m or "absent" in m for m in listed["Motif de l'écart"])
    dep = expected["departement"][0]
    at.selectbox(key="qualite_departement").select(dep).run()
    listed = _table(at, "Motif de l'écart")
    assert sorted(listed["Entité"]) == sorted(
        expected.filter(pl.col("departement") == dep)["entite"].to_list()
    )
    at.radio(key="qualite_mesure").set_value("Écarts").run()
    wide = _table(at, "Ensemble")
    co4 = wide[wide["Code"] == "CO4"].iloc[0]
    assert co4["Ensemble"] == expected.height


def test_page_vt_report_beside_unit_statuses(app_env):
    at = _open()
    day, data, _, params = _expected(app_env)
    report = vt_report_file.read_vt_report_frame(regional.vt_sync_report(data, day))
    rate = vt_report.vt_sync_rate(vt_report.vt_report_detail(report, data, day, params.departements))
    whole = rate.filter(pl.col("departement") == "ensemble").row(0, named=True)
    assert _metric(at, "Taux national (établissements)") == _pct(whole["taux"])
    units = sync.status_counts(sync.unit_status(data, day), data["etablissements"], "ensemble")
    assert _metric(at, "Taux des unités (atelier)") == _pct(units["taux_synchronise"][0])
    beside = _table(at, "Taux national")
    assert "Taux des unités" in beside.columns
    constats = _table(at, "Constat")
    assert len(constats) > 0 and not any(c.startswith("concordant") for c in constats["Constat"])


def test_page_without_finess_reference(tmp_path, monkeypatch):
    st_path = tmp_path / "store"
    store.write_snapshot(st_path, "2024-03-01", small_snapshot(), extra={"region": "11"})
    monkeypatch.setenv("SMR_STORE", str(st_path))
    monkeypatch.chdir(Path(APP).parent)
    at = _open()
    assert any("Non évaluées : EX1.2, EX2, ST2, CO4" in i.value for i in at.info)
    assert any("Téléversez le rapport" in i.value for i in at.info)
    shown = _table(at, "Périmètre")
    assert "EX2" not in shown["Code"].tolist() and "RE1.2" in shown["Code"].tolist()
    assert any("Un seul instantané" in i.value for i in at.info)


def test_page_says_the_reading_and_re12_scope_and_switches(app_env):
    at = _open()
    day, data, results, params = _expected(app_env)
    captions = " ".join(c.value for c in at.caption)
    assert "Lecture des vues nationales" in captions
    scope = requirements.re12_scope(data, day, params)
    assert requirements.re12_scope_text(scope) in captions
    assert f"{scope['offres']} offres, toutes SMR" in captions  # the demo holds SMR only
    at.toggle(key="qualite_lectures").set_value(True).run()
    assert not at.exception, at.exception
    former = requirements.summary(requirements.evaluate(data, day, params.with_former_readings()))
    expected = former.filter(pl.col("departement") == "ensemble")["perimetre"].to_list()
    assert _table(at, "Périmètre")["Périmètre"].tolist() == expected
    assert "Lectures de l'atelier activées" in " ".join(c.value for c in at.caption)
