"""The Carte page in a real browser: the choropleth is drawn (neither empty nor inverted).

AppTest cannot see the two map traps of DESIGN.md (features lost in serialisation, rings in
the wrong orientation); only pixels can. The map's blue fill must cover a fair part of the
chart, not nothing (features lost) and not everything (each polygon drawn as the rest of the
globe).
"""

from __future__ import annotations

import io

import pytest

from tests.browser.conftest import SHOTS, wait_ready

pytestmark = pytest.mark.browser

CHART = "[data-testid='stVegaLiteChart']"


def _blue_share(png: bytes) -> float:
    import numpy as np
    from PIL import Image

    rgb = np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)
    r, b = rgb[..., 0], rgb[..., 2]
    return float(((b > r + 25) & (b > 120)).mean())


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
    share = _blue_share(png)
    print(f"part bleue {level} : {share:.2f}")
    assert 0.08 < share < 0.85, share
