"""Every indicator the app shows has a method note: walk every page registered in ``app.py``
through AppTest on the demo store and check the ids each page declared through ``ui.notes``.

A page added to ``app.py`` is walked without any change here; a page that shows indicators
only after an interaction gets a driver in ``DRIVERS``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from analysis.present import methods
from ui.notes import SHOWN_KEY

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "app.py")
FHIR_EXAMPLE = ROOT / "tests" / "data" / "ror-fhir-bundle.json"


def registered_pages() -> list[str]:
    """The page files of ``app.py`` (``st.Page("app_pages/x.py", …)``), in order."""
    text = (ROOT / "app.py").read_text(encoding="utf-8")
    return re.findall(r"st\.Page\(\s*[\"'](app_pages/[^\"']+\.py)[\"']", text)


def _import_preview(at: AppTest) -> None:
    """The Import page shows its report (and indicators) once files are analysed."""
    at.radio(key="import_format").set_value("fhir").run()
    uploaders = at.get("file_uploader")
    assert len(uploaders) == 1
    uploaders[0].upload(FHIR_EXAMPLE.name, FHIR_EXAMPLE.read_bytes(), "application/json").run()
    at.button(key="import_analyse").click().run()
    assert any(m.label == "Lignes lues" for m in at.metric), [e.value for e in at.error]


#: Interactions a page needs before it shows its indicators.
DRIVERS: dict[str, Callable[[AppTest], None]] = {"app_pages/import.py": _import_preview}


def _shown(at: AppTest, page: str) -> list[str]:
    record = at.session_state.get(SHOWN_KEY, {})
    return list(record.get(Path(page).stem, []))


def test_pages_are_found():
    pages = registered_pages()
    for page in (
        "app_pages/accueil.py",
        "app_pages/carte.py",
        "app_pages/territoires.py",
        "app_pages/campagne.py",
        "app_pages/synchronisation.py",
        "app_pages/import.py",
        "app_pages/objectifs.py",
    ):
        assert page in pages


@pytest.mark.parametrize("page", registered_pages())
def test_every_indicator_shown_has_a_note(app_env, page):
    at = AppTest.from_file(APP, default_timeout=120).run()
    assert not at.exception, at.exception
    at.switch_page(page).run()
    assert not at.exception, at.exception
    if page in DRIVERS:
        DRIVERS[page](at)
        assert not at.exception, at.exception
    shown = _shown(at, page)
    assert shown, (
        f"{page} ne déclare aucun indicateur : afficher la note de chaque indicateur avec "
        "ui.notes.method_note / method_notes"
    )
    missing = [i for i in shown if i not in methods.NOTES]
    assert not missing, (
        f"{page} : indicateurs sans note de méthode dans analysis/present/methods.py : {missing}"
    )
    # each declared note is on the page, in an expander « Méthode : … »
    assert any(e.label.startswith("Méthode : ") for e in at.expander)
    texts = " ".join(m.value for m in at.markdown)
    for i in shown:
        assert methods.NOTES[i].note[:60] in texts, (page, i)


def test_a_page_showing_an_unknown_indicator_is_caught(app_env, tmp_path, monkeypatch):
    """The record names an id without a note (what the walk above fails on), and the page
    says so instead of breaking."""
    pages = tmp_path / "app_pages"
    pages.mkdir()
    (pages / "essai.py").write_text(
        "from ui import notes\nnotes.method_notes(['lits', 'indicateur_sans_note'], 'essai')\n",
        encoding="utf-8",
    )
    monkeypatch.syspath_prepend(str(ROOT))
    at = AppTest.from_file(str(pages / "essai.py"), default_timeout=60).run()
    assert not at.exception, at.exception
    assert at.session_state[SHOWN_KEY]["essai"] == ["lits", "indicateur_sans_note"]
    assert any("indicateur_sans_note" in w.value for w in at.warning)
