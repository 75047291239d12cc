"""Access, read-only mode, hidden contacts and corrupted snapshots, through Streamlit's AppTest.

Streamlit's test harness cannot run a real OpenID Connect login, but it can seed ``st.user``
(``AppTest.user``) and the secrets (``AppTest.secrets``): the gate in ``app.py`` is tested
with a logged-out and a logged-in user, with and without an ``[auth]`` section.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pandas as pd
import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from analysis.checks.campaign import checklist, history
from analysis.io import store
from analysis.model.schema import CONTACT_COLUMNS

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "app.py")
AUTH = {"auth": {"redirect_uri": "http://localhost:8501/oauth2callback",
                 "cookie_secret": "secret-de-test", "client_id": "id", "client_secret": "s",
                 "server_metadata_url": "https://auth.example.org/.well-known/openid-configuration"}}
PAGES = re.findall(r'st\.Page\("(app_pages/\w+\.py)"', (ROOT / "app.py").read_text("utf-8"))


@pytest.fixture
def clean_env(app_env, monkeypatch):
    for name in ("SMR_HIDE_CONTACTS", "SMR_READ_ONLY", "SMR_REQUIRE_LOGIN",
                 "SMR_ALLOW_LOCAL_PATHS", "SMR_MAX_UPLOAD_MB", "SMR_MAX_IMPORT_ROWS"):
        monkeypatch.delenv(name, raising=False)
    return app_env


def _app(**attrs) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=90)
    for name, value in attrs.items():
        setattr(at, name, value)
    at.run()
    assert not at.exception, at.exception
    return at


# --- login --------------------------------------------------------------------------------


def test_without_auth_the_app_opens_as_before(clean_env):
    at = _app()
    assert [t.value for t in at.title] == ["SMR Workbench"]
    assert at.metric and not [b for b in at.button if b.key == "login"]


def test_with_auth_a_logged_out_visitor_sees_only_the_login_button(clean_env):
    at = _app(secrets=AUTH, user={"is_logged_in": False})
    assert [b.label for b in at.button] == ["Se connecter"]
    assert not at.metric and not at.dataframe  # no page ran: no data shown
    assert "Connectez-vous" in at.info[0].value
    at.switch_page("app_pages/campagne.py")  # a direct link: the gate runs first
    at.run()
    assert not at.exception and not at.metric and not at.dataframe
    assert [t.value for t in at.title] == ["SMR Workbench"]


def test_with_auth_a_logged_in_user_sees_the_pages(clean_env):
    at = _app(secrets=AUTH, user={"is_logged_in": True, "name": "Agent ARS",
                                  "email": "agent@ars.example.org"})
    assert at.metric
    assert any("Connecté : Agent ARS" in c.value for c in at.sidebar.caption)
    assert [b.label for b in at.sidebar.button] == ["Se déconnecter"]
    # a shared deployment never lets the user open another folder of the server
    assert at.sidebar.text_input[0].disabled
    at.switch_page("app_pages/campagne.py")
    at.run()
    assert not at.exception and at.metric


def test_login_required_but_not_configured_refuses(clean_env, monkeypatch):
    monkeypatch.setenv("SMR_REQUIRE_LOGIN", "1")
    at = _app()
    assert not at.metric and not at.button
    assert "[auth]" in at.error[0].value


def test_login_can_be_switched_off_explicitly(clean_env, monkeypatch):
    monkeypatch.setenv("SMR_REQUIRE_LOGIN", "0")
    at = _app(secrets=AUTH, user={"is_logged_in": False})
    assert at.metric


# --- read-only mode -----------------------------------------------------------------------


def test_read_only_mode_removes_the_import_page(clean_env, monkeypatch):
    at = _app()
    at.switch_page("app_pages/import.py")  # present by default
    at.run()
    assert [t.value for t in at.title] == ["Import"]
    assert at.expander  # « … ou lire un fichier ou un dossier de ce poste »

    monkeypatch.setenv("SMR_READ_ONLY", "1")
    at = _app()
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("app_pages/import.py")
    for page in [p for p in PAGES if not p.endswith("import.py")]:
        at.switch_page(page)  # every other page is still there
    assert at.sidebar.text_input[0].disabled


def _files(folder: Path) -> dict[str, tuple[int, int]]:
    return {str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns)
            for p in folder.rglob("*")}


def test_read_only_mode_offers_no_save_and_writes_nothing(clean_env, monkeypatch, tmp_path):
    copy = tmp_path / "magasin"
    shutil.copytree(clean_env, copy)
    monkeypatch.setenv("SMR_STORE", str(copy))
    before = _files(copy)
    at = _app()  # read-write: the Transition page offers to save a scenario in the store
    at.switch_page("app_pages/transition.py")
    at.run()
    assert [b for b in at.button if b.label.startswith("Enregistrer")]

    monkeypatch.setenv("SMR_READ_ONLY", "1")
    at = _app()
    for page in [p for p in PAGES if not p.endswith("import.py")]:
        at.switch_page(page)
        at.run()
        assert not at.exception, (page, at.exception)
        saving = [b.label for b in at.button if b.label.startswith("Enregistrer")]
        assert saving == [], (page, saving)
    assert _files(copy) == before


def test_local_paths_can_be_refused_on_a_writable_app(clean_env, monkeypatch):
    monkeypatch.setenv("SMR_ALLOW_LOCAL_PATHS", "0")
    at = _app()
    at.switch_page("app_pages/import.py")
    at.run()
    assert not at.exception
    assert not [t for t in at.text_input if t.key == "import_path"]


def test_upload_limit_is_a_setting(clean_env, monkeypatch):
    monkeypatch.setenv("SMR_MAX_UPLOAD_MB", "3")
    monkeypatch.setenv("SMR_MAX_IMPORT_ROWS", "1234")
    at = _app()
    at.switch_page("app_pages/import.py")
    at.run()
    limits = " ".join(c.value for c in at.caption)
    assert "3 Mo par fichier" in limits and "1\u202f234 lignes" in limits


# --- contacts -----------------------------------------------------------------------------


def _contact_values(demo: Path) -> set[str]:
    """Contact values of the latest demo snapshot (names, e-mails, phones).

    ``telephone`` is left out: the name is shared with the units' phone, which is not
    personal data (a service's number)."""
    snap = store.read_snapshot(demo)
    cells: set[str] = set()
    for table, columns in CONTACT_COLUMNS.items():
        for column in columns:
            if column == "telephone":
                continue
            cells |= {v.strip() for v in snap.tables[table][column].drop_nulls().to_list()
                      if len(v.strip()) >= 6}
    return cells


def _shown(at: AppTest) -> str:
    """The text of every cell of every table and of every text element drawn by the page."""
    parts: list[str] = []
    for frame in [*at.dataframe, *at.table]:
        value = frame.value
        if isinstance(value, pd.DataFrame):
            for column in value.columns:
                parts += [v for v in value[column].tolist() if isinstance(v, str)]
    for kind in ("markdown", "caption", "text", "info", "warning", "error", "success", "code"):
        parts += [str(el.value) for el in getattr(at, kind)]
    parts += [f"{m.label} {m.value}" for m in at.metric]
    return "\n".join(parts)


def _found(text: str, contacts: set[str]) -> list[str]:
    """Contacts present in ``text`` (cells may prefix them: « e-mail : … »)."""
    return sorted(c for c in contacts if c in text)


@pytest.mark.parametrize("page", PAGES)
def test_hidden_contacts_never_appear_on_any_page(clean_env, monkeypatch, page):
    monkeypatch.setenv("SMR_HIDE_CONTACTS", "1")
    contacts = _contact_values(clean_env)
    assert len(contacts) > 50
    at = _app()
    at.switch_page(page)
    at.run()
    assert not at.exception, at.exception
    if page.endswith("campagne.py"):  # the establishment with personal points to treat
        ranking = checklist.establishment_ranking(history.evaluate_snapshot(clean_env))
        at.selectbox(key="campagne_etablissement").select(ranking["finess_eg"][1]).run()
        assert "[masqué]" in _shown(at)
    assert not [c for c in at.checkbox if "contact" in c.label.lower()]
    assert _found(_shown(at), contacts) == []


def test_contacts_show_only_when_asked(clean_env):
    contacts = _contact_values(clean_env)
    at = _app()
    at.switch_page("app_pages/campagne.py")
    at.run()
    ranking = checklist.establishment_ranking(history.evaluate_snapshot(clean_env))
    at.selectbox(key="campagne_etablissement").select(ranking["finess_eg"][1]).run()
    assert _found(_shown(at), contacts) == []  # masked by default
    at.checkbox(key="campagne_contacts").check().run()
    assert _found(_shown(at), contacts)  # the same scan sees them once asked for


# --- corrupted snapshot -------------------------------------------------------------------


@pytest.fixture(params=["octet_change", "fichier_remplace"])
def corrupted_store(clean_env, tmp_path, monkeypatch, request) -> tuple[Path, list]:
    """A copy of the demo store whose latest snapshot has a damaged ``etablissements`` file:
    a flipped byte (unreadable), or a valid Parquet file with other values (readable: only
    the checksum tells)."""
    copy = tmp_path / "magasin"
    shutil.copytree(clean_env, copy)
    dates = store.list_snapshots(copy)
    file = copy / dates[-1].isoformat() / "etablissements.parquet"
    if request.param == "octet_change":
        data = bytearray(file.read_bytes())
        data[len(data) // 2] ^= 0xFF
        file.write_bytes(bytes(data))
    else:
        frame = pl.read_parquet(file)
        frame.with_columns(pl.lit("Établissement falsifié").alias("raison_sociale")).write_parquet(
            file
        )
    monkeypatch.setenv("SMR_STORE", str(copy))
    return copy, dates


def test_a_corrupted_snapshot_is_reported_and_others_still_work(corrupted_store):
    _, dates = corrupted_store
    at = _app()  # the latest snapshot, corrupted, is selected by default
    assert not at.metric
    message = at.error[0].value
    assert f"{dates[-1]:%d/%m/%Y} est inutilisable" in message
    assert "etablissements.parquet" in message and "Choisissez un autre" in message
    at.sidebar.selectbox(key="snapshot").select(dates[-2]).run()
    assert not at.exception and at.metric and not at.error


def test_campaign_history_leaves_a_corrupted_snapshot_out(corrupted_store):
    _, dates = corrupted_store
    at = _app()
    at.switch_page("app_pages/campagne.py")
    at.run()
    assert "inutilisable" in at.error[0].value  # the latest, corrupted, is selected
    at.sidebar.selectbox(key="snapshot").select(dates[-2]).run()
    assert not at.exception and not at.error
    warnings = " ".join(w.value for w in at.warning)
    assert "laissé(s) hors de l'avancement" in warnings and f"{dates[-1]:%d/%m/%Y}" in warnings
    assert at.metric


@pytest.mark.parametrize("page", ["synchronisation", "qualite"])
def test_history_pages_leave_a_corrupted_snapshot_out(corrupted_store, page):
    _, dates = corrupted_store
    at = _app()
    at.switch_page(f"app_pages/{page}.py")
    at.sidebar.selectbox(key="snapshot").select(dates[-2]).run()
    assert not at.exception and not at.error
    warnings = " ".join(w.value for w in at.warning)
    assert "laissé(s) hors de l'évolution" in warnings and f"{dates[-1]:%d/%m/%Y}" in warnings


def test_the_app_puts_back_a_snapshot_left_aside_by_a_killed_write(clean_env, tmp_path,
                                                                    monkeypatch):
    copy = tmp_path / "magasin"
    shutil.copytree(clean_env, copy)
    last = store.list_snapshots(copy)[-1].isoformat()
    (copy / last).rename(copy / f"{store.OLD_PREFIX}{last}-0123456789ab")
    monkeypatch.setenv("SMR_STORE", str(copy))
    at = _app()
    assert at.sidebar.selectbox(key="snapshot").value.isoformat() == last
    assert store.verify_snapshot(copy / last) == []


def test_an_unreadable_manifest_is_reported(corrupted_store):
    copy, dates = corrupted_store
    (copy / dates[-1].isoformat() / "manifest.json").write_text("{", encoding="utf-8")
    at = _app()
    assert "Manifeste illisible" in at.error[0].value
    at.sidebar.selectbox(key="snapshot").select(dates[0]).run()
    assert not at.exception and at.metric
