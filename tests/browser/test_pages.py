"""The app in a real browser: each page draws its title, figures and charts."""

from __future__ import annotations

import pytest

from tests.browser.conftest import screenshot, wait_ready

pytestmark = pytest.mark.browser


def test_home_page_draws_figures_and_chart(page, app_url):
    page.goto(app_url)
    wait_ready(page)
    page.get_by_text("SMR Workbench").first.wait_for()
    page.get_by_text("Données fictives").first.wait_for()
    page.get_by_text("Lits", exact=True).first.wait_for()
    # the capacity chart is drawn by Vega: a canvas or svg inside the chart element
    page.wait_for_selector("[data-testid='stVegaLiteChart'] canvas, "
                           "[data-testid='stVegaLiteChart'] svg")
    shot = screenshot(page, "accueil")
    assert shot.stat().st_size > 10_000
