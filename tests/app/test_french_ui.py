"""French around Streamlit's own widgets: every file uploader states its formats and its size
limit in Mo beside it (Streamlit's hint, « 200MB per file », is English and hidden by app.py);
multiselects that can be emptied have a French placeholder; the toolbar keeps no developer
entry (issue 15, item 5)."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "app.py")


def _page(page: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120).run()
    at.switch_page(f"app_pages/{page}.py").run()
    assert not at.exception, at.exception
    return at


@pytest.mark.parametrize(
    ("page", "hints"),
    [
        (
            "carte",
            ["Formats acceptés : CSV. Au plus 50 Mo par fichier."] * 2
            + ["Formats acceptés : CSV, TXT, XLSX, XLS. Au plus 50 Mo par fichier."],
        ),
        ("territoires", ["Formats acceptés : CSV. Au plus 50 Mo par fichier."] * 2),
        (
            "qualite",
            [
                "Formats acceptés : CSV, TXT, JSON, PARQUET. Au plus 50 Mo par fichier.",
                "Formats acceptés : CSV, TXT, TSV, XLSX. Au plus 50 Mo par fichier.",
            ],
        ),
        (
            "transition",
            [
                "Formats acceptés : CSV, YAML, YML, JSON. Au plus 50 Mo par fichier.",
                "Formats acceptés : YAML, YML, JSON. Au plus 50 Mo par fichier.",
            ],
        ),
        ("objectifs", ["Formats acceptés : CSV, TXT, XLSX, XLS. Au plus 50 Mo par fichier."] * 3),
    ],
)
def test_every_uploader_states_its_limit_in_french(app_env, monkeypatch, page, hints):
    monkeypatch.setenv("SMR_MAX_UPLOAD_MB", "50")  # below server.maxUploadSize (200)
    at = _page(page)
    captions = [c.value for c in at.caption if c.value.startswith("Formats acceptés")]
    assert sorted(captions) == sorted(hints)
    assert len(at.get("file_uploader")) == len(hints)


def test_the_smaller_of_the_two_limits_is_stated(app_env, monkeypatch):
    monkeypatch.setenv("SMR_MAX_UPLOAD_MB", "5000")  # above Streamlit's ceiling: 200 applies
    at = _page("carte")
    assert "Au plus 200 Mo par fichier." in [c.value.split(". ", 1)[1] for c in at.caption
                                              if c.value.startswith("Formats acceptés")]


def test_import_states_formats_and_limits(app_env, monkeypatch):
    monkeypatch.setenv("SMR_MAX_UPLOAD_MB", "50")
    at = _page("import")
    text = " ".join(c.value for c in at.caption)
    assert "Formats acceptés : CSV, TSV, TXT, PARQUET." in text
    assert "50 Mo par fichier" in text
    at.radio(key="import_format").set_value("mapped").run()
    at.selectbox(key="import_mapping_choice").set_value("(téléverser ma correspondance)").run()
    assert any(c.value == "Formats acceptés : YAML, YML, TOML. Au plus 50 Mo par fichier."
               for c in at.caption)


def test_multiselects_that_can_be_emptied_have_a_french_placeholder(app_env):
    at = _page("synchronisation")
    assert at.multiselect(key="synchro_statuts").placeholder == "Choisir un ou plusieurs statuts"
    at = _page("qualite")
    assert at.multiselect(key="qualite_constats").placeholder.startswith("Choisir")


def test_the_toolbar_has_no_developer_entry():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    # "viewer" keeps the running indicator and its Stop button, hides Deploy and the rest
    assert config["client"]["toolbarMode"] == "viewer"
    app = (ROOT / "app.py").read_text(encoding="utf-8")
    assert "[data-testid='stMainMenu']" in app and "stFileUploaderDropzoneInstructions" in app
