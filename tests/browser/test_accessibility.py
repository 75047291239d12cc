"""Every page in a real browser: accessible to all (RGAA 4, i.e. WCAG 2.1 AA) and offline.

For each page (and the Transition map of a loaded scenario) the test opens the page, opens
every expander (uploaders, method notes, the tables behind the charts), grows the window to
the page's full height so that nothing is off screen, and runs axe-core (the copy bundled by
the pinned ``axe-playwright-python``) with the WCAG 2.0 and 2.1 A and AA rules: no violation
is allowed. Meanwhile every request the browser makes is recorded: none may leave the
machine (the favicon used to come from a font server).
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from axe_playwright_python.base import AXE_SCRIPT

from tests.browser.conftest import settle_fully

pytestmark = pytest.mark.browser

AXE_OPTIONS = {
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
    "resultTypes": ["violations"],
}
#: URL path, title, and what to do before the check (None, or the scenario tab to load).
VIEWS = [
    ("", "SMR Workbench", None),
    ("carte", "Carte", None),
    ("territoires", "Territoires", None),
    ("campagne", "Campagne", None),
    ("synchronisation", "Synchronisation", None),
    ("qualite", "Qualité ROR", None),
    ("transition", "Transition", None),
    ("transition", "Transition", "scenario"),
    ("objectifs", "Objectifs (OQOS)", None),
    ("import", "Import", None),
]
_OPEN_EXPANDERS = (
    "() => { const closed = [...document.querySelectorAll("
    "'[data-testid=\"stExpander\"] details:not([open]) > summary')];"
    " closed.forEach(s => s.click()); return closed.length; }"
)
_FULL_HEIGHT = (
    "() => Math.max(document.body.scrollHeight,"
    " ...[...document.querySelectorAll('[data-testid=\"stMain\"]')].map(e => e.scrollHeight))"
)


def _local(url: str, app_url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("data", "blob", "about") or parts.hostname in (
        urlsplit(app_url).hostname, "localhost", "127.0.0.1", "::1",
    )


def _report(violations: list[dict]) -> str:
    lines = []
    for v in violations:
        lines.append(f"{v['id']} ({v['impact']}) : {v['help']}")
        for node in v["nodes"][:5]:
            lines.append(f"    {node['target']} {node['html'][:160]}")
            for check in node.get("any", []) + node.get("all", []) + node.get("none", []):
                lines.append(f"        {check['message']}")
    return "\n".join(lines)


@pytest.mark.parametrize(("path", "title", "action"), VIEWS,
                         ids=[f"{p or 'accueil'}{'-' + a if a else ''}" for p, _, a in VIEWS])
def test_page_is_accessible_and_offline(page, app_url, path, title, action):
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto(f"{app_url}/{path}")
    page.locator("h1", has_text=title).first.wait_for()
    settle_fully(page)
    if action == "scenario":
        page.get_by_role("tab", name="Scénarios").click()
        settle_fully(page)
        page.get_by_role("button", name="Charger", exact=True).click()
        page.get_by_text("Effet du scénario").first.wait_for()
        settle_fully(page)
    assert page.evaluate(_OPEN_EXPANDERS) > 0 or path == "import"
    settle_fully(page)
    height = min(int(page.evaluate(_FULL_HEIGHT)) + 40, 20_000)
    page.set_viewport_size({"width": 1400, "height": max(height, 1000)})
    settle_fully(page)

    page.evaluate(AXE_SCRIPT)
    result = page.evaluate("options => axe.run(document, options)", AXE_OPTIONS)
    assert result["violations"] == [], _report(result["violations"])

    # no English left by Streamlit's chrome: its main menu and the uploaders' hint are hidden
    assert not page.locator("[data-testid='stMainMenu']").is_visible()
    assert page.locator("[data-testid='stFileUploaderDropzoneInstructions']:visible").count() == 0

    icon = page.evaluate("() => document.querySelector('link[rel~=\"icon\"]')?.href")
    assert icon and _local(icon, app_url), icon
    outside = sorted({u for u in requests if not _local(u, app_url)})
    assert outside == [], outside


def test_axe_finds_what_it_is_asked_to_find(page, app_url):
    """The check is live: on a page where a caption is made low-contrast on purpose, axe-core
    reports it (a copy of axe that found nothing would let every page pass)."""
    page.goto(app_url)
    page.locator("h1").first.wait_for()
    settle_fully(page)
    page.evaluate(
        "() => { const p = document.querySelector("
        "'[data-testid=\"stMain\"] [data-testid=\"stCaptionContainer\"] p');"
        " p.style.setProperty('color', '#bbbbbb', 'important'); return p.innerText; }"
    )
    page.evaluate(AXE_SCRIPT)
    result = page.evaluate("options => axe.run(document, options)", AXE_OPTIONS)
    assert [v["id"] for v in result["violations"]] == ["color-contrast"]
