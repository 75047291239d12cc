"""The Campagne and Synchronisation pages in a real browser: figures and charts are drawn."""

from __future__ import annotations

import pytest

from tests.browser.conftest import screenshot, wait_ready

pytestmark = pytest.mark.browser

CHART = "[data-testid='stVegaLiteChart'] canvas, [data-testid='stVegaLiteChart'] svg"


def _open(page, app_url, title: str) -> None:
    """Start at the home page (the sidebar is built there), then follow the nav link."""
    page.goto(app_url)
    wait_ready(page)
    page.get_by_role("link", name=title).click()
    wait_ready(page)


def test_campaign_page_draws_progress_chart(page, app_url):
    _open(page, app_url, "Campagne")
    page.get_by_text("Campagne de mise à jour ROR / ViaTrajectoire").first.wait_for()
    page.get_by_text("Points conformes").first.wait_for()
    page.wait_for_selector(CHART)
    page.get_by_text("Classeur Excel (tous les établissements)").first.wait_for()
    assert screenshot(page, "campagne").stat().st_size > 10_000


def test_sync_page_draws_status_chart(page, app_url):
    _open(page, app_url, "Synchronisation")
    page.get_by_text("Synchronisation ROR ↔ ViaTrajectoire").first.wait_for()
    page.get_by_text("Taux synchronisé").first.wait_for()
    page.wait_for_selector(CHART)
    assert screenshot(page, "synchronisation").stat().st_size > 10_000
