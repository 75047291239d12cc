"""The *Carte* and *Territoires* pages through Streamlit's AppTest.

Every mention at both map levels renders without error; the drawn values are checked against
an independent recount of the snapshot; a store where a mention has no establishment shows an
explanation instead of failing.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from analysis.geo import geography
from analysis.indicators import territories
from analysis.io import store
from analysis.model import nomenclature
from analysis.present import methods

APP = str(Path(__file__).resolve().parents[2] / "app.py")
CODES = [m.code for m in nomenclature.MENTIONS]
ABSENT = "ME057"  # brûlés, removed from the store of the last test


def _open(page: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120).run()
    assert not at.exception, at.exception
    at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


def _chart_spec(at: AppTest) -> dict:
    charts = at.get("vega_lite_chart")
    assert len(charts) == 1
    return json.loads(charts[0].proto.spec)


def _closed(tables: dict[str, pl.DataFrame], day) -> tuple[set[str], set[str]]:
    """Establishments and units closed on or before ``day`` (ROR or FINESS, any type): the
    pages count the open offer only by default."""

    def dated(frame, key):
        return {
            k for k, d in frame.select(key, "date_fermeture").rows() if d is not None and d <= day
        }

    egs = dated(tables["etablissements"], "finess_eg")
    if "finess_etablissements" in tables:
        egs |= dated(tables["finess_etablissements"], "finess_eg")
    return egs, dated(tables["unites"], "uo_id")


def _recount_rates(tables: dict[str, pl.DataFrame], mention: str, day=None) -> dict[str, float]:
    """Beds + places per 100,000 per département, counted with plain Python (the offer open
    on ``day`` when given)."""
    closed_eg, closed_uo = _closed(tables, day) if day is not None else (set(), set())
    communes = geography.load_communes("11")
    dep = dict(zip(communes["commune_insee"], communes["departement"], strict=True))
    pop: dict[str, int] = defaultdict(int)
    for d, p in zip(communes["departement"], communes["population"], strict=True):
        pop[d] += p
    etab_dep = {}
    for f, c in tables["etablissements"].select("finess_eg", "commune_insee").rows():
        c = "75056" if c.startswith("751") else c
        if c in dep:
            etab_dep[f] = dep[c]
    uo = dict(tables["unites"].select("uo_id", "finess_eg").rows())
    cap: dict[str, int] = defaultdict(int)
    for row in tables["offres"].filter(pl.col("mention") == mention).iter_rows(named=True):
        f = uo.get(row["uo_id"])
        if f in closed_eg or row["uo_id"] in closed_uo:
            continue
        if f in etab_dep:
            cap[etab_dep[f]] += (row["lits"] or 0) + (row["places"] or 0)
    return {d: cap[d] / pop[d] * 1e5 for d in pop}


def test_carte_renders_every_mention_at_both_levels(app_env):
    at = _open("app_pages/carte.py")
    latest = store.read_snapshot(app_env)
    n_communes = geography.load_communes("11").height
    for level in ("departement", "commune"):
        at.radio(key="carte_niveau").set_value(level)
        for code in CODES:
            at.selectbox(key="carte_mention").set_value(code).run()
            assert not at.exception, (level, code, at.exception)
            spec = _chart_spec(at)
            features = spec["datasets"]["territoires"]
            assert len(features) == (8 if level == "departement" else n_communes)
            assert all(f["type"] == "Feature" and f["geometry"] for f in features)
            if level == "departement":
                expected = _recount_rates(latest.tables, code, latest.date)
                drawn = {
                    f["properties"]["departement"]: f["properties"]["valeur"] for f in features
                }
                assert drawn == pytest.approx(expected, rel=1e-9)
            # the legend says the unit (a commune map opens on the time to the nearest,
            # a département map on the rate), the method note is shown
            unit = "100 000" if level == "departement" else "minutes"
            assert unit in json.dumps(spec["layer"][1]["encoding"]["color"]["title"])
            assert any("Méthode" in e.label for e in at.expander)


def test_carte_every_indicator_has_a_note_and_draws(app_env):
    at = _open("app_pages/carte.py")
    at.radio(key="carte_niveau").set_value("departement").run()
    for indicator in territories.MAP_INDICATORS:
        at.selectbox(key="carte_indicateur").set_value(indicator).run()
        assert not at.exception, (indicator, at.exception)
        note = methods.note(indicator)
        assert any(e.label == f"Méthode : {note.label}" for e in at.expander)
        assert any(note.note[:40] in m.value for m in at.markdown)
        features = _chart_spec(at)["datasets"]["territoires"]
        assert any(f["properties"]["valeur"] is not None for f in features)


def test_carte_parameters_change_the_result(app_env):
    at = _open("app_pages/carte.py")
    at.radio(key="carte_niveau").set_value("departement").run()  # opens on the rate
    at.selectbox(key="carte_indicateur").set_value("temps_plus_proche").run()
    before = {
        f["properties"]["departement"]: f["properties"]["valeur"]
        for f in _chart_spec(at)["datasets"]["territoires"]
    }
    at.number_input(key="carte_speed").set_value(80.0).run()
    assert not at.exception
    after = {
        f["properties"]["departement"]: f["properties"]["valeur"]
        for f in _chart_spec(at)["datasets"]["territoires"]
    }
    assert after == pytest.approx({d: v / 2 for d, v in before.items()}, rel=1e-9)


def test_territoires_tables_levels_and_portrait(app_env):
    at = _open("app_pages/territoires.py")
    latest = store.read_snapshot(app_env)
    table = at.dataframe[0].value
    expected = _recount_rates(latest.tables, "ME050", latest.date)
    got = dict(zip(table["territoire"], table["taux_100k"], strict=True))
    assert got == pytest.approx(expected, rel=1e-9)
    assert len(at.get("download_button")) >= 4
    for level in ("commune", "epci", "region", "departement"):
        at.selectbox(key="terr_niveau").set_value(level)
        for code in ("ME050", "ME059", "ME061"):
            at.selectbox(key="terr_mention").set_value(code).run()
            assert not at.exception, (level, code, at.exception)
    # portrait of Paris: one row per mention
    at.selectbox(key="terr_portrait").set_value("75").run()
    portrait = at.dataframe[-1].value
    assert list(portrait["mention"]) == CODES


@pytest.fixture(scope="module")
def store_without_mention(demo_store, tmp_path_factory) -> Path:
    """The latest demo snapshot with every offer of one mention removed."""
    snap = store.read_snapshot(demo_store)
    tables = dict(snap.tables)
    tables["offres"] = tables["offres"].filter(pl.col("mention") != ABSENT)
    path = tmp_path_factory.mktemp("store_sans_mention")
    store.write_snapshot(path, snap.date, tables, extra={"region": "11", "demo": True})
    return path


def test_pages_explain_a_mention_without_establishment(store_without_mention, monkeypatch):
    monkeypatch.setenv("SMR_STORE", str(store_without_mention))
    for page, prefix in (("app_pages/carte.py", "carte"), ("app_pages/territoires.py", "terr")):
        at = _open(page)
        at.selectbox(key=f"{prefix}_mention").set_value(ABSENT).run()
        assert not at.exception, (page, at.exception)
        assert any("Aucun établissement n'offre la mention" in i.value for i in at.info)
        if prefix == "carte":
            assert not at.get("vega_lite_chart")
            at.radio(key="carte_niveau").set_value("commune").run()
            assert not at.exception


IDENTIFIERS = {
    "territoire",
    "nom",
    "mention",
    "libelle",
    "population",
    "denominateur",
    "unites",
    "lits",
    "places",
    "population_au_dela",
    "finess_plus_proche",
    "nom_plus_proche",
}


@pytest.mark.parametrize("level", ["commune", "departement"])
def test_every_indicator_column_has_a_method_note(demo_store, level):
    snap = store.read_snapshot(demo_store)
    table = territories.territory_indicators(snap.tables, geography.load_communes("11"), level, "ME050")
    for column in set(table.columns) - IDENTIFIERS:
        note = methods.note(column)  # KeyError if an indicator has no note
        assert note.note and note.unit and note.label


def test_carte_uploaded_files_replace_the_model_or_are_refused(app_env):
    snap = store.read_snapshot(app_env)
    communes = geography.load_communes("11")
    offers = snap.tables["offres"].join(snap.tables["unites"], on="uo_id")
    finess = offers.filter(pl.col("mention") == "ME050")["finess_eg"].sort()[0]
    table = "commune_insee,finess_eg,minutes\n" + "".join(
        f"{c},{finess},10\n" for c in communes["commune_insee"]
    )
    at = _open("app_pages/carte.py")
    at.radio(key="carte_niveau").set_value("departement").run()  # opens on the rate
    at.selectbox(key="carte_indicateur").set_value("temps_plus_proche").run()
    at.get("file_uploader")[0].upload("temps.csv", table.encode(), "text/csv").run()
    assert not at.exception, at.exception
    values = [f["properties"]["valeur"] for f in _chart_spec(at)["datasets"]["territoires"]]
    assert values == pytest.approx([10.0] * 8)
    assert any("le modèle à vol d'oiseau n'est plus utilisé" in c.value for c in at.caption)
    # a bad file: one French error, ignored, the model is back
    at.get("file_uploader")[0].clear()
    at.get("file_uploader")[0].upload("temps.csv", b"commune_insee,minutes\n75056,3\n").run()
    assert not at.exception, at.exception
    assert any("colonne(s) manquante(s) : finess_eg" in e.value for e in at.error)
    values = [f["properties"]["valeur"] for f in _chart_spec(at)["datasets"]["territoires"]]
    assert values != pytest.approx([10.0] * 8)
    # a population file that misses communes: refused, the page still draws
    at.get("file_uploader")[1].upload(
        "ages.csv", b"commune_insee,moins_18,plus_75,total\n75056,1,1,10\n"
    ).run()
    assert not at.exception, at.exception
    assert any("incomplet" in e.value for e in at.error)
    assert len(at.get("vega_lite_chart")) == 1
