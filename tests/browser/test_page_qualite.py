"""The Qualité ROR page in a real browser: opened from the sidebar link, table, trend chart
and drill-down drawn, screenshot saved."""

from __future__ import annotations

import pytest

from tests.browser.conftest import screenshot, wait_ready

pytestmark = pytest.mark.browser

CHART = "[data-testid='stVegaLiteChart'] canvas, [data-testid='stVegaLiteChart'] svg"


def test_quality_page_from_the_sidebar(page, app_url):
    page.goto(app_url)
    wait_ready(page)
    page.get_by_role("link", name="Qualité ROR").click()
    wait_ready(page)
    page.get_by_text("Exigences au 31/07/2023").first.wait_for()
    page.get_by_text("Suivi du peuplement SMR").first.wait_for()
    page.get_by_text("Écarts à corriger").first.wait_for()
    page.get_by_text("Synchronisation ViaTrajectoire (rapport national)").first.wait_for()
    page.wait_for_selector(CHART)
    assert "/qualite" in page.url
    assert screenshot(page, "qualite").stat().st_size > 10_000
    page.locator(CHART).first.scroll_into_view_if_needed()
    page.wait_for_timeout(500)
    assert screenshot(page, "qualite_evolution").stat().st_size > 10_000
