"""The Transition page in a real browser: an example scenario loads and its delta map draws.

AppTest sees the chart spec but not the pixels; here the commune choropleth of the scenario's
deltas must show coloured communes (not nothing: features lost) among the grey unchanged ones
(not a uniform fill: rings inverted draw every polygon as the rest of the globe).
"""

from __future__ import annotations

import io

import pytest

from tests.browser.conftest import SHOTS, screenshot, wait_ready

pytestmark = pytest.mark.browser

CHART = "[data-testid='stVegaLiteChart']"


def _shares(png: bytes) -> dict[str, float]:
    """Shares of blue, red and light grey pixels in a screenshot."""
    import numpy as np
    from PIL import Image

    rgb = np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    return {
        "bleu": float(((b > r + 25) & (b > 120)).mean()),
        "rouge": float(((r > b + 25) & (r > 120) & (r > g + 15)).mean()),
        "gris": float(((abs(r - g) < 6) & (abs(g - b) < 6) & (r > 215) & (r < 240)).mean()),
    }


def test_transition_loads_an_example_and_draws_the_delta_map(page, app_url):
    page.goto(app_url)
    wait_ready(page)
    page.get_by_role("link", name="Transition").click()
    wait_ready(page)
    page.get_by_text("Autorisées, non décrites").first.wait_for()
    page.get_by_role("tab", name="Scénarios").click()
    wait_ready(page)
    page.get_by_role("button", name="Charger", exact=True).click()
    wait_ready(page)
    page.wait_for_selector(f"{CHART} canvas, {CHART} svg")
    page.wait_for_timeout(1500)
    png = page.locator(CHART).first.screenshot()
    SHOTS.mkdir(parents=True, exist_ok=True)
    (SHOTS / "transition_carte.png").write_bytes(png)
    screenshot(page, "transition")
    shares = _shares(png)
    print(", ".join(f"part {k} {v:.3f}" for k, v in shares.items()))
    # the first example moves locomoteur beds from Bray-sur-Seine to Provins: a red patch
    # (loss) and a blue one (gain) in a mostly grey (unchanged) region
    assert 0.002 < shares["bleu"] < 0.3, shares
    assert 0.002 < shares["rouge"] < 0.3, shares
    assert 0.2 < shares["gris"] < 0.9, shares
