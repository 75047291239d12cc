"""The Carte page in a real browser: the choropleth is drawn (neither empty nor inverted).

AppTest cannot see the two map traps of DESIGN.md (features lost in serialisation, rings in
the wrong orientation); only pixels can. The map's coloured fill (blues for a rate, orange to
red for a time: a commune map opens on the time to the nearest) must cover a fair part of
the chart, not nothing (features lost) and not everything (each polygon drawn as the rest of
the globe).
"""

from __future__ import annotations

import io

import pytest

from tests.browser.conftest import SHOTS, wait_ready

pytestmark = pytest.mark.browser

CHART = "[data-testid='stVegaLiteChart']"


def _coloured_share(png: bytes) -> float:
    """Share of saturated pixels (a blue or an orange-red fill; not white, grey or black)."""
    import numpy as np
    from PIL import Image

    rgb = np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)
    r, b = rgb[..., 0], rgb[..., 2]
    blue = (b > r + 25) & (b > 120)
    warm = (r > b + 40) & (r > 150)
    return float((blue | warm).mean())


@pytest.mark.parametrize("level", ["Communes", "Départements"])
def test_carte_draws_the_choropleth(page, app_url, level):
    page.goto(app_url)
    wait_ready(page)
    page.get_by_role("link", name="Carte").click()
    wait_ready(page)
    page.get_by_text(level, exact=True).click()
    wait_ready(page)
    page.wait_for_selector(f"{CHART} canvas, {CHART} svg")
    page.wait_for_timeout(1500)
    png = page.locator(CHART).first.screenshot()
    SHOTS.mkdir(parents=True, exist_ok=True)
    (SHOTS / f"carte_{level.lower()}.png").write_bytes(png)
    share = _coloured_share(png)
    print(f"part colorée {level} : {share:.2f}")
    assert 0.08 < share < 0.85, share
