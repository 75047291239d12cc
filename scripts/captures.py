"""Screenshots of every page of the app, whole pages, for a person to compare two versions.

Starts ``streamlit run app.py`` from this checkout on a free local port, opens each page in
Debian's headless Chromium (Playwright, ``--no-sandbox``), waits until the script has run and
every chart is drawn, grows the window to the page's full height and saves one PNG per view:

    .venv/bin/python scripts/captures.py --out ../screens/avant
    .venv/bin/python scripts/captures.py --out ../screens/apres --store data/demo

Without ``--store`` the deterministic demo store is built in a temporary folder (a few
seconds), so two checkouts are captured on the same data. Nothing is sent off the machine.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

#: (file name, URL path and query, what to do once the page is drawn: click a text, or open
#: a tab). The pages are those of app.py.
VIEWS: list[tuple[str, str, str | None]] = [
    ("01_accueil", "", None),
    ("02_carte", "carte", None),
    ("03_carte_departements", "carte", "Départements"),
    ("04_territoires", "territoires", None),
    ("05_campagne", "campagne", None),
    ("06_synchronisation", "synchronisation", None),
    ("07_qualite", "qualite", None),
    ("08_transition", "transition", None),
    ("09_transition_scenarios", "transition", "tab:Scénarios"),
    ("10_import", "import", None),
    ("12_objectifs_oqos", "objectifs", None),
    # a link that sets the view (the app of before ignores its query string)
    ("11_carte_lien_geriatrie_taux", "carte?mention=ME059&instantane=2023-05-15"
     "&indicateur=taux_100k", None),
]

CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage",
]

_RUNNING = (
    "() => { const w = document.querySelector('[data-testid=\"stStatusWidget\"]');"
    " return !!w && w.innerText.includes('Running'); }"
)
_CHARTS_DRAWN = (
    "() => [...document.querySelectorAll('[data-testid=\"stVegaLiteChart\"]')]"
    ".every(c => c.querySelector('canvas, svg'))"
)
_FULL_HEIGHT = (
    "() => Math.max(...['stMain', 'stAppViewContainer', 'stMainBlockContainer']"
    ".map(id => document.querySelector(`[data-testid=\"${id}\"]`))"
    ".filter(Boolean).map(e => e.scrollHeight), document.body.scrollHeight)"
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _settle(page, timeout_s: float = 120) -> None:
    """Wait until the app has finished its reruns (idle three times 300 ms apart) and every
    chart has drawn."""
    deadline = time.monotonic() + timeout_s
    idle, last = 0, None
    while idle < 3 and time.monotonic() < deadline:
        page.wait_for_timeout(400)
        # idle, every chart drawn, and the page no longer growing (charts arrive late)
        now = (page.evaluate(_RUNNING), page.evaluate(_CHARTS_DRAWN), page.evaluate(_FULL_HEIGHT))
        idle = idle + 1 if (not now[0] and now[1] and now == last) else 0
        last = now
    page.wait_for_timeout(500)


def _start_app(store: Path, port: int, log: Path) -> subprocess.Popen:
    env = {**os.environ, "SMR_STORE": str(store)}
    out = log.open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"),
         "--server.headless", "true", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"],
        cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(
                f"http://127.0.0.1:{port}/_stcore/health", timeout=2
            ) as r:
                if r.status == 200:
                    return proc
        except OSError:
            time.sleep(0.3)
        if proc.poll() is not None:
            break
    proc.kill()
    raise SystemExit(f"l'application n'a pas démarré (journal : {log})")


def capture(out: Path, store: Path, width: int = 1400, only: list[str] | None = None) -> list[Path]:
    """Save one full-height PNG per view of ``VIEWS`` in ``out``; returns the files written.

    ``store`` is the snapshot store the app opens (``SMR_STORE``); ``only`` keeps the views
    whose name contains one of these words.
    """
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium:
        raise SystemExit("navigateur absent : installer le paquet Debian « chromium »")
    out.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    proc = _start_app(store, port, out / "streamlit.log")
    url = f"http://127.0.0.1:{port}"
    written: list[Path] = []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
            for name, path, action in VIEWS:
                if only and not any(word in name for word in only):
                    continue
                context = browser.new_context(viewport={"width": width, "height": 1000})
                page = context.new_page()
                page.set_default_timeout(90_000)
                page.goto(f"{url}/{path}")
                page.wait_for_selector("[data-testid='stApp'] h1")
                _settle(page)
                if action and action.startswith("tab:"):
                    page.get_by_role("tab", name=action[4:]).click()
                    _settle(page)
                elif action:
                    page.get_by_text(action, exact=True).first.click()
                    _settle(page)
                height = int(page.evaluate(_FULL_HEIGHT)) + 40
                page.set_viewport_size({"width": width, "height": min(max(height, 1000), 16000)})
                _settle(page)
                target = out / f"{name}.png"
                page.screenshot(path=str(target), full_page=True)
                written.append(target)
                print(f"{target}")
                context.close()
            browser.close()
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Captures d'écran de chaque page de l'application (pages entières).",
        allow_abbrev=False,
    )
    parser.add_argument("--out", type=Path, required=True, help="dossier des captures (PNG)")
    parser.add_argument(
        "--store", type=Path,
        help="magasin d'instantanés ouvert (défaut : démonstration construite à part)",
    )
    parser.add_argument("--width", type=int, default=1400, help="largeur de la fenêtre (px)")
    parser.add_argument("--only", nargs="*", help="seulement les vues dont le nom contient…")
    args = parser.parse_args(argv)
    if args.store is not None:
        capture(args.out, args.store.resolve(), args.width, args.only)
        return 0
    from analysis.demo import regional

    with tempfile.TemporaryDirectory(prefix="smr-captures-") as tmp:
        store = Path(tmp) / "demo"
        regional.build_demo(store)
        capture(args.out, store, args.width, args.only)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
