"""The *Objectifs (OQOS)* page through Streamlit's AppTest on the demo store.

The figures shown must be those of ``analysis.transition.oqos`` for the selected snapshot; files uploaded
on the page replace the store's for the session and can become its setting; a bad file gives
a French error and leaves the page on the store's files; a store without targets says what to
give; the Transition page shows the zone statuses before and after a scenario.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from analysis.geo import geography as geo
from analysis.indicators.opening import OpeningRule
from analysis.io import oqos_files, store
from analysis.transition import oqos

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "app.py")
PAGE = "app_pages/objectifs.py"


def _open() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=180).run()
    assert not at.exception, at.exception
    at.switch_page(PAGE).run()
    assert not at.exception, at.exception
    return at


def _metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def _table(at: AppTest, *columns: str):
    for df in at.dataframe:
        if set(columns) <= set(df.value.columns):
            return df.value
    raise AssertionError(f"aucun tableau avec les colonnes {columns}")


def _upload(at: AppTest, rank: int, name: str, data: bytes) -> None:
    at.get("file_uploader")[rank].upload(name, data, "text/csv").run()
    assert not at.exception, at.exception


@pytest.fixture
def copy_env(demo_store, tmp_path, monkeypatch) -> Path:
    """A copy of the demo store (the page may write its OQOS setting)."""
    copy = tmp_path / "magasin"
    shutil.copytree(demo_store, copy)
    monkeypatch.setenv("SMR_STORE", str(copy))
    monkeypatch.chdir(ROOT)
    return copy


def test_figures_matrix_map_and_lists_are_those_of_the_analysis(app_env):
    at = _open()
    assert [t.value for t in at.title] == ["Objectifs (OQOS)"]
    assert any("Fichiers fictifs** (objectifs (cibles), zonage, demandes" in w.value
               for w in at.warning)  # the illustration says so
    snap = store.read_snapshot(app_env)
    inputs = oqos_files.inputs_for("11", app_env)
    result = oqos.oqos_status(snap.tables, inputs.targets, inputs.zoning, OpeningRule(snap.date),
                              inputs.applications, geo.load_arrondissements("11"))
    totals = oqos.status_totals(result.status)
    metrics = _metrics(at)
    assert metrics["Objectifs"] == str(result.status.height)
    for code, label in oqos.STATUSES.items():
        assert metrics[f"{oqos.SYMBOLS[code]} {label}"] == str(totals[code])
    shown = _table(at, "zone", "statut", "libelle_marge")
    assert shown["autorisees"].tolist() == result.status["autorisees"].to_list()
    # two charts: the matrix (one text per target) and the map (GeoJSON values, clockwise)
    charts = [json.loads(c.proto.spec) for c in at.get("vega_lite_chart")]
    assert len(charts) == 2
    matrix = charts[0]
    assert "description" in matrix and "▼ sous le minimum" in matrix["description"]
    layers = matrix["layer"]
    assert [layer["mark"]["type"] for layer in layers] == ["rect", "text"]
    assert layers[1]["encoding"]["text"]["field"] == "texte"  # colour is not the only carrier
    zones = charts[1]["datasets"]["zones"]
    assert {f["properties"]["zone"] for f in zones} == set(inputs.zoning["zone"])
    assert any(e.label.startswith("Méthode : Implantations face aux objectifs") for e in at.expander)
    note = next(e for e in at.expander if e.label.startswith("Méthode : Implantations"))
    assert "15 zones \\(réglage du magasin" in note.markdown[0].value  # escaped
    assert f"le {snap.date:%d/%m/%Y}" in note.markdown[0].value
    # the lists behind the chosen cell follow the zone chosen
    sites = _table(at, "autorisee", "decrite", "demandee")
    zone = at.selectbox(key="oqos_zone")
    other = [z for z in zone.options if z != zone.value]
    zone.set_value(other[-1].split("(")[-1].rstrip(")")).run()
    assert not at.exception, at.exception
    assert _table(at, "autorisee", "decrite", "demandee").shape != sites.shape or \
        _table(at, "autorisee", "decrite").values.tolist() != sites.values.tolist()


def test_uploaded_files_replace_the_stores_and_become_its_setting(copy_env):
    at = _open()
    _upload(at, 1, "zonage.csv", "Code commune;Zone;Libellé\n75056;P;Paris (essai)\n".encode())
    targets = "zone;mention;forme;min;max\nP;ME050;toutes;1;2\nP;ME059;HC;;30\n"
    _upload(at, 0, "objectifs.csv", targets.encode())
    assert not at.error, [e.value for e in at.error]
    assert _metrics(at)["Objectifs"] == "2"
    fictitious = [w.value for w in at.warning if "Fichiers fictifs" in w.value]
    assert fictitious == ["**Fichiers fictifs** (demandes d'autorisation) : illustration de la "
                          "démonstration, sans rapport avec un schéma régional de santé réel."]
    at.button(key="oqos_enregistrer").click().run()
    assert not at.exception, at.exception
    info = oqos_files.store_info(copy_env)
    assert info["cibles"]["nom_origine"] == "objectifs.csv" and not info["cibles"]["fictif"]
    assert info["zonage"]["nom_origine"] == "zonage.csv"
    assert info["demandes"]["fictif"]  # not uploaded: the demo's stays


def test_a_bad_file_is_refused_and_the_page_keeps_the_stores(app_env):
    at = _open()
    before = _metrics(at)["Objectifs"]
    _upload(at, 0, "objectifs.csv", b"zone;mention;min;max\nZ75;ME050;3;1\n")
    errors = [e.value for e in at.error]
    assert any("minimum 3 supérieur au maximum 1" in e and "ignoré" in e for e in errors)
    assert _metrics(at)["Objectifs"] == before


def test_a_crafted_name_or_label_stays_text(copy_env):
    """A zone label or a file name is the planner's text: Markdown around it must not turn it
    into a link or an image fetched from elsewhere."""
    at = _open()
    crafted = "![x](http://exemple.invalid/x.png)"
    _upload(at, 1, f"{crafted}.csv", f"commune_insee;zone;libelle_zone\n75056;P;{crafted}\n"
            .encode())
    _upload(at, 0, "o.csv", b"zone;mention;min;max\nP;ME050;1;2\n")
    assert not at.error, [e.value for e in at.error]
    texts = [e.value for e in (*at.markdown, *at.caption)]
    assert any("\\!\\[x\\]" in t for t in texts)  # shown, escaped
    assert not [t for t in texts if "](http" in t]


def test_a_store_without_targets_says_what_to_give(copy_env):
    oqos_files.clear_store_file(copy_env, "cibles")
    at = _open()
    assert any("Aucun objectif pour ce magasin" in i.value for i in at.info)
    assert not at.get("vega_lite_chart")


def test_read_only_offers_no_saving(app_env, monkeypatch):
    monkeypatch.setenv("SMR_READ_ONLY", "1")
    at = _open()
    labels = [b.label for b in at.button]
    assert "Utiliser par défaut pour ce magasin" not in labels


def test_transition_scenario_shows_zone_statuses_before_and_after(app_env):
    at = AppTest.from_file(APP, default_timeout=180).run()
    at.switch_page("app_pages/transition.py").run()
    at.selectbox(key="transition_source").set_value(("exemple",
                                                     "pediatrie_grande_couronne.yaml"))
    at.button(key="transition_load").click().run()
    assert not at.exception, at.exception
    assert any("statut des zones avant et après" in m.value for m in at.markdown)
    compared = _table(at, "statut_avant", "statut_apres", "autorisees_avant")
    assert len(compared) >= 1
    assert (compared["autorisees_apres"] != compared["autorisees_avant"]).all()


def test_map_outlines_are_kept_beside_the_store_and_read_back_unchanged(copy_env):
    """The zones' outlines are dissolved once per zoning and kept in ``STORE/oqos/contours``:
    a later start (caches emptied) reads them back and draws exactly the same map, whose
    zones are those of the dissolve computed here."""
    import streamlit as st

    def zones_drawn() -> list:
        at = _open()
        return json.loads(at.get("vega_lite_chart")[1].proto.spec)["datasets"]["zones"]

    st.cache_resource.clear()
    first = zones_drawn()
    kept = list((copy_env / "oqos" / "contours").glob("*.geojson"))
    assert len(kept) == 1
    st.cache_resource.clear()
    assert zones_drawn() == first
    inputs = oqos_files.inputs_for("11", copy_env)
    shapes = oqos.zone_shapes(geo.load_communes_geo("11"), oqos.zone_lookup(inputs.zoning))
    fresh = geo.geojson_features(shapes, ["zone", "libelle_zone", "lon", "lat"])
    assert [f["geometry"] for f in first] == [f["geometry"] for f in fresh]
    assert [f["properties"]["libelle_zone"] for f in first] == \
        [f["properties"]["libelle_zone"] for f in fresh]
