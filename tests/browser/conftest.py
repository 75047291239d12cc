"""Start the real app on a free port and drive it in Debian's headless Chromium.

Skipped with a clear message when no ``chromium`` executable is on the PATH (``.ci/run``
installs it). Screenshots land in ``artifacts/screenshots/`` for a person to look at.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "artifacts" / "screenshots"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage",
]


#: JavaScript: every chart of the page has drawn (a canvas or an svg in each).
CHART_DRAWN = (
    "() => { const c = [...document.querySelectorAll('[data-testid=\"stVegaLiteChart\"]')];"
    " return c.length > 0 && c.every(e => e.querySelector('canvas, svg')); }"
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def chromium_path() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        pytest.skip("navigateur absent : installer le paquet Debian « chromium » "
                    "(apt-get install chromium) pour lancer les tests dans le navigateur")
    return path


@pytest.fixture(scope="session")
def app_url(demo_store, chromium_path):
    """URL of the app started with ``streamlit run`` on the session's demo store."""
    port = _free_port()
    env = {**os.environ, "SMR_STORE": str(demo_store)}
    SHOTS.mkdir(parents=True, exist_ok=True)
    log = open(ROOT / "artifacts" / "streamlit.log", "w")  # noqa: SIM115 - closed at teardown
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"),
         "--server.headless", "true", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    break
        except OSError:
            time.sleep(0.3)
        if proc.poll() is not None:
            pytest.fail("l'application s'est arrêtée au démarrage (voir artifacts/streamlit.log)")
    else:
        proc.kill()
        pytest.fail("l'application n'a pas répondu sur /_stcore/health en 60 s")
    yield url
    log.close()
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture(scope="session")
def browser(chromium_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser, app_url):
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    pg = context.new_page()
    pg.set_default_timeout(60_000)
    yield pg
    context.close()


def wait_ready(page) -> None:
    """Wait until Streamlit has finished running the script (no running indicator)."""
    page.wait_for_selector("[data-testid='stApp']")
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')"
        " || !document.querySelector('[data-testid=\"stStatusWidget\"]').innerText"
        ".includes('Running')",
        timeout=60_000,
    )
    page.wait_for_timeout(500)


def screenshot(page, name: str) -> Path:
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


_RUNNING = (
    "() => { const w = document.querySelector('[data-testid=\"stStatusWidget\"]');"
    " return !!w && w.innerText.includes('Running'); }"
)


def settle(page) -> None:
    """Wait until the app has finished its reruns: idle twice in a row, 300 ms apart (a
    rerun may start a while after the click that caused it)."""
    idle = 0
    for _ in range(200):
        page.wait_for_timeout(300)
        if page.evaluate(_RUNNING):
            idle = 0
            wait_ready(page)
        else:
            idle += 1
            if idle >= 2:
                return


def choose(page, label: str, option: str) -> None:
    """Pick ``option`` (text contained) in the selectbox labelled ``label``."""
    box = page.get_by_role("combobox", name=label).first
    listbox = page.get_by_role("listbox").first
    for attempt in range(6):  # a late re-render may close the list: open it again
        box.scroll_into_view_if_needed()
        box.click()
        try:
            listbox.wait_for(timeout=3000 * (attempt + 1))
            break
        except Exception:  # noqa: BLE001 - playwright's TimeoutError
            page.keyboard.press("Escape")
            settle(page)
    else:
        raise AssertionError(f"la liste « {label} » ne s'ouvre pas")
    listbox.get_by_role("option").filter(has_text=option).first.click()
    settle(page)


def selected(page, label: str) -> str:
    """The text a selectbox labelled ``label`` shows (its chosen option)."""
    return page.get_by_role("combobox", name=label, exact=True).first.input_value()


_SETTLED = (
    "() => { const w = document.querySelector('[data-testid=\"stStatusWidget\"]');"
    " const running = !!w && w.innerText.includes('Running');"
    " const skeleton = !!document.querySelector('[data-testid=\"stSkeleton\"]');"
    " const charts = [...document.querySelectorAll('[data-testid=\"stVegaLiteChart\"]')]"
    ".every(c => c.querySelector('canvas, svg'));"
    " const main = document.querySelector('[data-testid=\"stMain\"]');"
    " return [running || skeleton || !charts, main ? main.scrollHeight : 0]; }"
)


def settle_fully(page, timeout_ms: int = 120_000) -> None:
    """Wait until the page is finished: no script running, no placeholder, every chart drawn
    and the page height unchanged three times 400 ms apart (large charts arrive late)."""
    steady, last = 0, None
    for _ in range(timeout_ms // 400):
        page.wait_for_timeout(400)
        busy, height = page.evaluate(_SETTLED)
        steady = steady + 1 if not busy and height == last else 0
        last = height
        if steady >= 3:
            return
    raise AssertionError("la page ne se stabilise pas")
