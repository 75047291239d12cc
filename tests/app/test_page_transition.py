"""The *Transition* page through Streamlit's AppTest on the demo store.

The gap figures and the scenario effect shown must be those of ``analysis.transition`` for the
selected snapshot; a scenario loads from an example, from an uploaded file (AppTest supports
file uploads in this Streamlit version) and from the store's ``scenarios/`` folder; the editor
adds, removes and saves changes; bad files give a French error and leave the page usable.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from analysis.geo import geography
from analysis.indicators import opening, territories
from analysis.io import store
from analysis.transition import comparison, correspondence, scenarios
from analysis.transition.gaps import GAP_SHORT_LABELS, ROR_TEAM_GAPS, transition_gaps

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "app.py")
EXAMPLES = ROOT / "docs" / "scenarios"
PEDIATRIE = ("exemple", "pediatrie_grande_couronne.yaml")


def _open() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120).run()
    assert not at.exception, at.exception
    at.switch_page("app_pages/transition.py").run()
    assert not at.exception, at.exception
    return at


def _metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def _number(text: str) -> int:
    return int(text.replace("\u202f", ""))


def _chart_spec(at: AppTest) -> dict:
    charts = at.get("vega_lite_chart")
    assert len(charts) == 1
    return json.loads(charts[0].proto.spec)


def _table(at: AppTest, *columns: str):
    """The first table shown with all these columns (pandas frame)."""
    for df in at.dataframe:
        if set(columns) <= set(df.value.columns):
            return df.value
    raise AssertionError(f"aucun tableau avec les colonnes {columns}")


def _load(at: AppTest, source: tuple[str, str]) -> None:
    at.selectbox(key="transition_source").set_value(source)
    at.button(key="transition_load").click().run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]


def test_gap_figures_counts_and_filters(app_env):
    at = _open()
    snap = store.read_snapshot(app_env)
    # the page lists the gaps of the offer open at the snapshot date (analysis.indicators.opening)
    gaps = transition_gaps(
        opening.open_tables(snap.tables, opening.OpeningRule(snap.date)), snap.date
    )
    metrics = _metrics(at)
    for ecart, label in GAP_SHORT_LABELS.items():
        assert _number(metrics[label]) == (gaps["ecart"] == ecart).sum()
    by_dep = _table(at, "departement", "total")
    assert list(by_dep["departement"]) == sorted(geography.load_departements("11")["departement"])
    assert by_dep["total"].sum() == gaps.height
    assert "Méthode : Écarts de la transition SSR → SMR" in [e.label for e in at.expander]
    listed = _table(at, "libelle_ecart", "detail")
    # The automatic migration (ROR team) is shown apart from the establishments' list.
    team = gaps.filter(pl.col("ecart").is_in(list(ROR_TEAM_GAPS)))
    assert len(listed) == gaps.height - team.height
    assert team.height > 0
    apart = [df.value for df in at.dataframe
             if list(df.value.columns) == ["finess_eg", "raison_sociale", "departement",
                                           "mention", "detail"]]
    assert len(apart) == 1 and len(apart[0]) == team.height
    at.multiselect(key="transition_f_ecart").set_value(["ssr_sans_decision_smr"]).run()
    at.multiselect(key="transition_f_dep").set_value(["77"]).run()
    listed = _table(at, "libelle_ecart", "detail")
    expected = gaps.filter(
        (pl.col("ecart") == "ssr_sans_decision_smr") & (pl.col("departement") == "77")
    )
    assert len(listed) == expected.height > 0
    assert set(listed["finess_eg"]) == set(expected["finess_eg"])
    finess = expected["finess_eg"][0]
    at.text_input(key="transition_f_texte").set_value(finess).run()
    assert set(_table(at, "libelle_ecart", "detail")["finess_eg"]) == {finess}


def test_loading_an_example_shows_who_gains_access(app_env):
    at = _open()
    assert any("Ajoutez un changement" in i.value for i in at.info)
    _load(at, PEDIATRIE)
    scenario = scenarios.read_scenario(EXAMPLES / PEDIATRIE[1])
    assert at.text_input(key="transition_nom").value == scenario.nom
    snap = store.read_snapshot(app_env)
    communes = geography.load_origins("11")  # Paris as its 20 arrondissements
    cmp = comparison.compare_scenario(
        snap.tables, scenario, communes, "ME060", opening=opening.OpeningRule(snap.date)
    )
    metrics = _metrics(at)
    assert _number(metrics["Gagnent l'accès (≤ 30 min)"]) == round(
        cmp.region["population_gagnant"]
    )
    assert _number(metrics["Perdent l'accès (≤ 30 min)"]) == 0
    assert _number(metrics["Communes modifiées"]) == cmp.changed_communes().height
    spec = _chart_spec(at)
    features = spec["datasets"]["communes"]
    assert len(features) == communes.height
    drawn = {f["properties"]["commune_insee"]: f["properties"]["valeur"] for f in features}
    expected = dict(cmp.communes.select("commune_insee", "delta_acces_e2sfca").iter_rows())
    assert drawn == pytest.approx(expected)
    at.radio(key="transition_carte").set_value("evolution").run()
    drawn = {
        f["properties"]["commune_insee"]: f["properties"]["valeur"]
        for f in _chart_spec(at)["datasets"]["communes"]
    }
    assert {c for c, v in drawn.items() if v == "gagne"} == set(
        cmp.communes.filter(pl.col("evolution") == "gagne")["commune_insee"]
    )
    labels = [e.label for e in at.expander]
    assert "Méthode : effet du scénario" in labels
    # the communes that gain access, listed
    changes = next(  # not the map's table of every changed commune (its text alternative)
        df.value for df in at.dataframe
        if {"evolution", "population"} <= set(df.value.columns)
        and "delta_acces_e2sfca" not in df.value.columns
    )
    assert set(changes["evolution"]) == {"gagne"}
    assert changes["population"].sum() == cmp.region["population_gagnant"]
    # the parameters of the Carte page apply: a larger threshold, fewer gainers
    at.number_input(key="transition_beyond").set_value(45.0).run()
    wider = comparison.compare_scenario(
        snap.tables,
        scenario,
        communes,
        "ME060",
        params=territories.AccessParams(beyond_min=45.0),
    )
    assert _number(_metrics(at)["Gagnent l'accès (≤ 45 min)"]) == round(
        wider.region["population_gagnant"]
    )


def test_uploaded_scenario_files_load_or_are_refused(app_env):
    at = _open()
    text = (EXAMPLES / "locomoteur_sud_seine_et_marne.json").read_bytes()
    at.file_uploader(key="transition_upload").upload("choix.json", text, "application/json").run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    assert at.text_input(key="transition_nom").value.startswith("Recomposition du locomoteur")
    assert len(_table(at, "evolution", "population")) > 0  # communes losing access
    # a bad file: one French message, the loaded scenario stays
    bad = b"nom: essai\nchangements:\n  - {action: retirer_mention, finess_eg: '123456789',"
    bad += b" mention: ME051}\n"
    at.file_uploader(key="transition_upload").clear()
    at.file_uploader(key="transition_upload").upload("faux.yaml", bad, "application/x-yaml").run()
    assert not at.exception, at.exception
    assert any("FINESS inconnu « 123456789 »" in e.value for e in at.error)
    assert at.text_input(key="transition_nom").value.startswith("Recomposition du locomoteur")


def test_editor_adds_removes_saves_and_reloads(tmp_path, monkeypatch, demo_store):
    copy = tmp_path / "store"
    shutil.copytree(demo_store, copy)
    monkeypatch.setenv("SMR_STORE", str(copy))
    monkeypatch.chdir(ROOT)
    at = _open()
    at.selectbox(key="transition_action").set_value("nouveau_site").run()
    at.selectbox(key="transition_change_mention").set_value("ME057").run()
    at.selectbox(key="transition_commune").set_value("77379").run()
    at.number_input(key="transition_lits").set_value(24).run()
    at.button(key="transition_add").click().run()
    assert not at.exception, at.exception
    at.selectbox(key="transition_action").set_value("retirer_mention").run()
    at.selectbox(key="transition_change_mention").set_value("ME057").run()
    holder = at.selectbox(key="transition_finess").options[0]
    at.button(key="transition_add").click().run()
    assert not at.error, [e.value for e in at.error]
    changes = _table(at, "numero", "description")
    assert "nouveau site à Provins" in changes["description"][0]
    assert "retrait de la mention Brûlés" in changes["description"][1]
    assert holder.split(" (")[0] in changes["description"][1]
    at.text_input(key="transition_nom").set_value("Brûlés à Provins").run()
    at.button(key="transition_save").click().run()
    saved = copy / "scenarios" / "brules_a_provins.yaml"
    assert saved.is_file()
    scenario = scenarios.read_scenario(saved)
    assert [c.action for c in scenario.changements] == ["nouveau_site", "retirer_mention"]
    assert scenario.changements[0].lits == 24 and scenario.changements[0].commune_insee == "77379"
    # saving again without « Remplacer » is refused in French
    at.button(key="transition_save").click().run()
    assert any("existe déjà" in e.value for e in at.error)
    # remove the first change
    at.multiselect(key="transition_retirer").set_value([1]).run()
    at.button(key="transition_remove").click().run()
    assert len(_table(at, "numero", "description")) == 1
    # a new session finds the saved scenario in the store and loads it
    again = _open()
    _load(again, ("magasin", "brules_a_provins.yaml"))
    assert again.text_input(key="transition_nom").value == "Brûlés à Provins"
    assert again.selectbox(key="transition_mention").value == "ME057"
    assert _number(_metrics(again)["Communes modifiées"]) > 0


def test_a_user_mapping_changes_the_gaps(app_env):
    at = _open()
    table = b"activite,modalite,mentions\n50,*,ME050\n"
    at.file_uploader(key="transition_mapping_file").upload("table.csv", table, "text/csv").run()
    assert not at.exception, at.exception
    snap = store.read_snapshot(app_env)
    rules = correspondence.read_mapping(table, "table.csv")
    gaps = transition_gaps(snap.tables, snap.date, rules)
    unknown = (gaps["ecart"] == "correspondance_inconnue").sum()
    assert unknown > 0
    assert _number(_metrics(at)["Hors table de correspondance"]) == unknown
    at.file_uploader(key="transition_mapping_file").clear()
    at.file_uploader(key="transition_mapping_file").upload(
        "table.csv", b"activite,modalite,mentions\n50,*,ME999\n", "text/csv"
    ).run()
    assert any("mention inconnue « ME999 »" in e.value for e in at.error)
    assert _number(_metrics(at)["Hors table de correspondance"]) == 0
