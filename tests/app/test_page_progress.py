"""Long work in the app shows its progress only while it runs: the report prepared on demand,
the histories of Campagne and Synchronisation (AppTest on the demo store)."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parents[2] / "app.py")


def test_the_report_can_be_prepared_with_its_progress(app_env):
    at = AppTest.from_file(APP, default_timeout=120).run()
    assert not at.exception, at.exception
    at.button(key="accueil_rapport_preparer").click().run()
    assert not at.exception, at.exception
    assert any(s.value == "Rapport prêt : téléchargez-le." for s in at.success)
    assert not at.get("progress")  # the bar is gone once the work is done
    at.run()
    assert not [b for b in at.button if b.key == "accueil_rapport_preparer"]  # ready: no button


def test_history_pages_leave_no_bar_behind(app_env):
    for page in ("app_pages/campagne.py", "app_pages/synchronisation.py"):
        at = AppTest.from_file(APP, default_timeout=120).run()
        at.switch_page(page).run()
        assert not at.exception, (page, at.exception)
        assert not at.get("progress"), page
