"""Selections that follow the user from page to page and live in the link (``ui.state``).

Driven through AppTest on the demo store (snapshots from 01/03/2023 to 31/07/2023): a choice
made on one page is still made on the next, the query string mirrors it with the names of
issue 15, a link's values are adopted, and a link's invalid value falls back to the default
with a French notice.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from ui import state

APP = str(Path(__file__).resolve().parents[2] / "app.py")
MAY_15 = dt.date(2023, 5, 15)
LATEST = dt.date(2023, 7, 31)


def _app(**query: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params.update(query)
    at.run()
    assert not at.exception, at.exception
    return at


def _go(at: AppTest, page: str) -> AppTest:
    at.switch_page(f"app_pages/{page}.py").run()
    assert not at.exception, at.exception
    return at


def _legend(at: AppTest) -> str:
    (chart,) = at.get("vega_lite_chart")
    return json.dumps(json.loads(chart.proto.spec)["layer"][1]["encoding"]["color"]["title"])


def test_the_demo_store_has_the_dates_these_tests_use(app_env):
    from analysis.io import store

    dates = store.list_snapshots(app_env)
    assert MAY_15 in dates and dates[-1] == LATEST


def test_choices_made_on_carte_follow_to_territoires_and_campagne(app_env):
    at = _go(_app(), "carte")
    assert at.query_params["instantane"] == "2023-07-31"  # the default is in the link too
    at.sidebar.selectbox(key="snapshot").select(MAY_15).run()
    at.selectbox(key="carte_mention").set_value("ME059").run()
    assert not at.exception
    assert at.query_params["instantane"] == "2023-05-15"
    assert at.query_params["mention"] == "ME059"

    _go(at, "territoires")
    assert at.sidebar.selectbox(key="snapshot").value == MAY_15
    assert at.selectbox(key="terr_mention").value == "ME059"
    assert at.query_params["mention"] == "ME059"
    # Territoires keeps its own default level: only choices follow, not another page's default
    assert at.selectbox(key="terr_niveau").value == "departement"

    _go(at, "campagne")
    assert at.sidebar.selectbox(key="snapshot").value == MAY_15
    assert any(h.value == "Instantané du 15/05/2023" for h in at.subheader)
    assert at.query_params["mention"] == "ME059"  # not shown here, still part of the view

    _go(at, "carte")
    assert at.selectbox(key="carte_mention").value == "ME059"
    assert at.sidebar.selectbox(key="snapshot").value == MAY_15


def test_a_level_chosen_on_territoires_survives_a_page_that_cannot_show_it(app_env):
    at = _go(_app(), "territoires")
    at.selectbox(key="terr_niveau").set_value("epci").run()
    assert at.query_params["niveau"] == "epci"
    _go(at, "carte")  # the map has communes and départements only
    assert at.radio(key="carte_niveau").value == "commune"
    assert at.query_params["niveau"] == "commune"  # the link describes the map shown
    _go(at, "territoires")
    assert at.selectbox(key="terr_niveau").value == "epci"


def test_a_link_opens_carte_on_geriatrie_at_15_may(app_env):
    at = _go(_app(mention="ME059", instantane="2023-05-15"), "carte")
    assert at.sidebar.selectbox(key="snapshot").value == MAY_15
    assert at.selectbox(key="carte_mention").value == "ME059"
    assert not at.warning or all("Lien" not in w.value for w in at.warning)
    assert list(at.query_params)[:3] == ["instantane", "region", "mention"]


def test_a_link_with_every_name_reproduces_the_view(app_env):
    link = {
        "instantane": "2023-04-01", "region": "11", "mention": "ME051", "forme": "HC",
        "niveau": "departement", "indicateur": "acces_e2sfca",
    }
    at = _go(_app(**link), "carte")
    assert at.sidebar.selectbox(key="snapshot").value == dt.date(2023, 4, 1)
    assert at.sidebar.selectbox(key="region").value == "11"
    assert at.selectbox(key="carte_mention").value == "ME051"
    assert at.selectbox(key="carte_forme").value == "HC"
    assert at.radio(key="carte_niveau").value == "departement"
    assert at.selectbox(key="carte_indicateur").value == "acces_e2sfca"
    assert "E2SFCA" in _legend(at)
    assert {k: at.query_params[k] for k in link} == link


def test_invalid_values_in_a_link_fall_back_with_a_french_notice(app_env):
    # the page that receives the link (here the home page) says what it left out
    at = _app(mention="ME999", instantane="2031-01-01", niveau="canton", departement="99",
              forme="XX")
    notices = " ".join(w.value for w in at.warning)
    assert "Lien : mention « ME999 » inconnue ; valeur par défaut utilisée." in notices
    assert "instantané « 2031-01-01 » inconnu ; instantané le plus récent affiché" in notices
    assert "niveau « canton » inconnu" in notices
    assert "département « 99 » inconnu" in notices
    assert "forme de prise en charge « XX » inconnue" in notices
    assert at.sidebar.selectbox(key="snapshot").value == LATEST
    for name in ("mention", "niveau", "departement", "forme"):
        assert name not in at.query_params
    assert at.query_params["instantane"] == "2023-07-31"
    # defaults on the next page, and the notice is not repeated
    _go(at, "territoires")
    assert at.selectbox(key="terr_mention").value == "ME050"
    assert at.selectbox(key="terr_niveau").value == "departement"
    assert not any("Lien" in w.value for w in at.warning)


def test_a_departement_follows_between_synchronisation_and_qualite(app_env):
    at = _go(_app(), "synchronisation")
    at.selectbox(key="synchro_departement").set_value("93").run()
    assert at.query_params["departement"] == "93"
    _go(at, "qualite")
    assert at.selectbox(key="qualite_departement").value == "93"
    at.selectbox(key="qualite_departement").set_value("(tous)").run()
    assert "departement" not in at.query_params
    _go(at, "synchronisation")
    assert at.selectbox(key="synchro_departement").value == "(tous)"


def test_commune_map_opens_on_time_and_keeps_the_rate_with_its_caveat(app_env):
    at = _go(_app(), "carte")
    assert at.radio(key="carte_niveau").value == "commune"
    assert at.selectbox(key="carte_indicateur").value == "temps_plus_proche"
    assert "minutes" in _legend(at)
    assert not any("se lit mal" in i.value for i in at.info)
    at.selectbox(key="carte_indicateur").set_value("taux_100k").run()
    assert "100 000" in _legend(at)
    assert any("se lit mal" in i.value for i in at.info)
    at.radio(key="carte_niveau").set_value("departement").run()
    assert at.selectbox(key="carte_indicateur").value == "taux_100k"  # chosen: kept
    assert not any("se lit mal" in i.value for i in at.info)


def test_departement_map_opens_on_the_rate(app_env):
    at = _go(_app(niveau="departement"), "carte")
    assert at.selectbox(key="carte_indicateur").value == "taux_100k"
    assert "100 000" in _legend(at)


def test_a_link_cannot_put_markdown_in_the_notice(app_env):
    at = _app(mention="![x](https://example.org/x.png)", niveau="[ici](javascript:alert(1))",
              region="<b>11</b>")
    notices = [w.value for w in at.warning if w.value.startswith("Lien")]
    assert len(notices) == 3
    for text in notices:
        assert not any(sign in text for sign in ("](", "<", "://", "www.", "example.org"))
    assert "mention « ??x??https???example?org?x?png? » inconnue" in " ".join(notices)
    assert at.query_params["region"] == "11"  # the default region


@pytest.mark.parametrize(
    ("name", "text", "value"),
    [
        ("instantane", "2023-05-15", MAY_15),
        ("mention", "me059", "ME059"),
        ("departement", "2a", "2A"),
        ("departement", "971", "971"),
        ("region", "all", "all"),
        ("forme", "toutes", "toutes"),
        ("niveau", "epci", "epci"),
        ("indicateur", "acces_2sfca", "acces_2sfca"),
    ],
)
def test_link_values_are_read(name, text, value):
    assert state.PARSERS[name](text) == value


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("instantane", "15/05/2023"),
        ("instantane", "2023-5-15"),
        ("instantane", "2023-02-30"),
        ("mention", "ME049"),
        ("mention", "gériatrie"),
        ("departement", "2C"),
        ("departement", "<script>"),
        ("region", "../"),
        ("niveau", "Commune"),
        ("indicateur", "population"),
    ],
)
def test_bad_link_values_are_refused(name, text):
    with pytest.raises(ValueError):
        state.PARSERS[name](text)


def _picker_script() -> None:
    import streamlit as st

    from ui.common import departement_picker

    st.session_state["picked"] = departement_picker(
        st.selectbox, ["93", None, "75", "93", "2A"], "essai_departement")


def test_the_departement_picker_lists_the_codes_present_and_gives_none_for_all():
    at = AppTest.from_function(_picker_script, default_timeout=60).run()
    assert not at.exception, at.exception
    box = at.selectbox(key="essai_departement")
    assert box.options == ["(tous)", "Corse-du-Sud (2A)", "Paris (75)", "Seine-Saint-Denis (93)"]
    assert at.session_state["picked"] is None
    box.select("93").run()
    assert at.session_state["picked"] == "93"
    box.select("(tous)").run()
    assert at.session_state["picked"] is None
