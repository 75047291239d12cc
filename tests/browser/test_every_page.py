"""Every page of the app in headless Chromium: content drawn, a filter used, a file downloaded.

One app server for the whole session (``app_url``). Each page is opened from its sidebar link;
the test checks its title and figures, changes a selectbox or radio and waits for the content
to change, downloads a file (``expect_download``), opens it and checks that no contact of
the demo store is in it, and saves a screenshot in ``artifacts/screenshots/page_*.png``.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import openpyxl
import polars as pl
import pytest

from analysis.io import store
from analysis.model.schema import CONTACT_COLUMNS
from tests.browser.conftest import SHOTS, screenshot, wait_ready
from tests.helpers import small_snapshot, write_source_dir

pytestmark = pytest.mark.browser

CHART = "[data-testid='stVegaLiteChart'] canvas, [data-testid='stVegaLiteChart'] svg"
DOWNLOADS = SHOTS.parent / "downloads"


@pytest.fixture(scope="module")
def contacts(demo_store) -> set[str]:
    """Names and e-mails of the demo store's latest snapshot (units' phones left out: the
    ``telephone`` name is shared with a non-personal column)."""
    snap = store.read_snapshot(demo_store)
    out: set[str] = set()
    for table, columns in CONTACT_COLUMNS.items():
        for column in columns:
            if column != "telephone":
                out |= {v for v in snap.tables[table][column].drop_nulls().to_list()
                        if len(v) >= 6}
    assert len(out) > 50
    return out


_RUNNING = (
    "() => { const w = document.querySelector('[data-testid=\"stStatusWidget\"]');"
    " return !!w && w.innerText.includes('Running'); }"
)


def _settle(page) -> None:
    """Wait until the app has finished its reruns: idle twice in a row, 300 ms apart (on a
    loaded machine a rerun may start a while after the click that caused it)."""
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


def _open(page, app_url: str, link: str, title: str) -> None:
    """Open the app, follow the sidebar link, wait for the page's title and its run."""
    page.goto(app_url)
    wait_ready(page)
    page.get_by_role("link", name=link, exact=True).click()
    page.locator("h1", has_text=title).first.wait_for()
    _settle(page)


def _open_select(page, label: str):
    """Open the selectbox labelled ``label`` (a combobox); its options, once listed."""
    box = page.get_by_role("combobox", name=label).first
    listbox = page.get_by_role("listbox").first
    for attempt in range(6):  # a late re-render of the page may close the list: open it again
        box.scroll_into_view_if_needed()
        box.click()
        try:
            listbox.wait_for(timeout=3000 * (attempt + 1))
            return listbox.get_by_role("option")
        except Exception:  # noqa: BLE001 - playwright's TimeoutError
            page.keyboard.press("Escape")
            _settle(page)
    raise AssertionError(f"la liste « {label} » ne s'ouvre pas")


def _choose(page, label: str, option: str) -> None:
    """Pick ``option`` in the selectbox labelled ``label``."""
    _open_select(page, label).filter(has_text=option).first.click()
    _settle(page)


def _download(page, label: str, menu: int | str | None = None) -> Path:
    """Click the download button labelled ``label``; the saved file's path. ``menu``: the
    « Télécharger » menu of a table (``ui.common.downloads``) holding it, by its rank among
    the visible menus or by its label."""
    scope = page
    if menu is not None:
        _settle(page)
        menus = page.locator("[data-testid='stPopover']:visible")
        chosen = menus.filter(has_text=menu).first if isinstance(menu, str) else menus.nth(menu)
        opener = chosen.locator("button").first
        opener.scroll_into_view_if_needed()
        opener.click()
        scope = page.locator("[data-testid='stPopoverBody']").last
    button = scope.locator("[data-testid='stDownloadButton']").filter(has_text=label).first
    for attempt in range(3):  # a click that lands during a rerun is lost: click again
        if menu is None:
            _settle(page)
        button.scroll_into_view_if_needed()
        try:
            with page.expect_download(timeout=40_000) as info:
                button.locator("button").click()
            download = info.value
            break
        except Exception:  # noqa: BLE001 - playwright's TimeoutError
            if attempt == 2:
                raise
    DOWNLOADS.mkdir(parents=True, exist_ok=True)
    path = DOWNLOADS / download.suggested_filename
    download.save_as(path)
    if menu is not None:
        page.keyboard.press("Escape")  # close the menu
    _settle(page)  # the click may rerun the page
    return path


def _text_of(path: Path) -> str:
    """The content of a downloaded CSV or Excel file, opened as a user's tool would."""
    if path.suffix == ".xlsx":
        wb = openpyxl.load_workbook(path)
        assert wb.sheetnames
        return "\n".join(str(c.value) for ws in wb for row in ws.iter_rows() for c in row)
    data = path.read_bytes()
    if path.stem.endswith("_donnees"):  # « CSV données »: comma, no BOM
        frame = pl.read_csv(io.BytesIO(data), infer_schema=False)
        assert frame.height > 0
        return frame.write_csv()
    assert data.startswith(b"\xef\xbb\xbf")  # Excel reads the accents
    frame = pl.read_csv(io.BytesIO(data), separator=";", infer_schema=False)
    assert frame.height > 0
    return frame.write_csv()


def _no_contact(text: str, contacts: set[str]) -> None:
    found = sorted(c for c in contacts if c in text)
    assert found == [], found[:5]


def _text(page, selector: str = "[data-testid='stMain']") -> str:
    return page.locator(selector).first.inner_text()


def test_accueil(page, app_url, demo_store, contacts):
    _open(page, app_url, "Accueil", "SMR Workbench")
    dates = store.list_snapshots(demo_store)
    page.get_by_text(f"Instantané du {dates[-1]:%d/%m/%Y}").first.wait_for()
    page.get_by_text("Établissements SMR").first.wait_for()
    page.wait_for_selector(CHART)
    before = _text(page)
    screenshot(page, "page_accueil")
    # filter: another snapshot in the sidebar → the figures of that date
    _choose(page, "Instantané", f"{dates[0]:%d/%m/%Y}")
    page.get_by_text(f"Instantané du {dates[0]:%d/%m/%Y}").first.wait_for()
    assert _text(page) != before
    text = _text_of(_download(page, "Rapport (Excel)"))
    assert "Rapport" in text or "rapport" in text
    _no_contact(text, contacts)


def test_carte(page, app_url):
    _open(page, app_url, "Carte", "Carte")
    page.wait_for_selector(CHART)
    legend = page.get_by_text(re.compile("^Légende :")).first
    first = legend.inner_text()
    screenshot(page, "page_carte")
    # filter: another indicator → the legend names it, and the map is drawn again
    options = _open_select(page, "Indicateur")
    assert options.count() >= 3
    options.nth(2).click()
    _settle(page)
    page.wait_for_function(
        "(old) => [...document.querySelectorAll('[data-testid=\"stCaptionContainer\"]')]"
        ".some(e => e.innerText.startsWith('Légende') && e.innerText !== old)", arg=first)
    page.wait_for_selector(CHART)
    page.get_by_text("Départements", exact=True).click()
    _settle(page)
    page.wait_for_selector(CHART)
    screenshot(page, "page_carte_departements")


def test_territoires(page, app_url, contacts):
    _open(page, app_url, "Territoires", "Territoires")
    page.locator("h3", has_text=re.compile("^Départements :")).first.wait_for()
    screenshot(page, "page_territoires")
    path = _download(page, "CSV pour Excel", menu=0)
    departements = pl.read_csv(path, separator=";", infer_schema=False)
    assert departements.height == 8 and "Code" in departements.columns
    assert departements["Pour 100 000 hab."][0].count(
        ",") == 1  # a decimal comma
    _no_contact(_text_of(path), contacts)
    data = pl.read_csv(_download(page, "CSV données", menu=0), infer_schema=False)
    assert "territoire" in data.columns and data.height == departements.height
    _choose(page, "Niveau", "EPCI")
    page.locator("h3", has_text=re.compile("^EPCIs :")).first.wait_for()
    epci = pl.read_csv(_download(page, "CSV pour Excel", menu=0), separator=";",
                       infer_schema=False)
    assert epci.height > departements.height
    text = _text_of(_download(page, "Excel (.xlsx)", menu=0))
    _no_contact(text, contacts)


def test_campagne(page, app_url, contacts):
    _open(page, app_url, "Campagne", "Campagne de mise à jour")
    page.get_by_text("Points conformes").first.wait_for()
    page.wait_for_selector(CHART)
    screenshot(page, "page_campagne")
    # filter: another establishment → its own workbook button
    second = _open_select(page, "Établissement").nth(1)
    finess = second.inner_text().split(" ")[0]
    second.click()
    _settle(page)
    page.locator("[data-testid='stDownloadButton']").filter(
        has_text=f"Classeur de {finess}").first.wait_for()
    path = _download(page, "CSV (tous les établissements)")
    frame = pl.read_csv(path, separator=";", infer_schema=False)
    assert "[masqué]" in frame["Valeur actuelle"].to_list()  # personal values masked
    _no_contact(frame.write_csv(), contacts)
    workbook = _download(page, f"Classeur de {finess}")
    assert finess in " ".join(openpyxl.load_workbook(workbook).sheetnames)
    _no_contact(_text_of(workbook), contacts)


def test_synchronisation(page, app_url, contacts):
    _open(page, app_url, "Synchronisation", "Synchronisation ROR")
    page.get_by_text("Taux synchronisé").first.wait_for()
    page.wait_for_selector(CHART)
    screenshot(page, "page_synchronisation")
    count = page.get_by_text(re.compile(r"^\d[\d\u202f ]* unités\.$")).first
    before = count.inner_text()
    _choose(page, "Département", "75")
    page.wait_for_function(
        "(old) => [...document.querySelectorAll('p')].some(e => /^\\d[\\d\\u202f ]* unités\\.$/"
        ".test(e.innerText) && e.innerText !== old)", arg=before)
    path = _download(page, "CSV données", menu="Télécharger les statuts")
    frame = pl.read_csv(path, infer_schema=False)
    assert {"uo_id", "statut"} <= set(frame.columns)
    _no_contact(frame.write_csv(), contacts)


def test_import_upload_preview_and_report(page, app_url, tmp_path):
    tables = small_snapshot()
    secret = "camille.secrete.chu-exemple.fr"  # malformed e-mail: reported with its value
    tables["etablissements"] = tables["etablissements"].with_columns(
        pl.lit(secret).alias("directeur_email")
    )
    source = write_source_dir(tables, tmp_path / "src")
    _open(page, app_url, "Import", "Import")
    # filter: the format radio changes the help text
    page.get_by_text("ROR FHIR (Bundle JSON", exact=False).first.click()
    _settle(page)
    page.get_by_text("Bundle(s) JSON renvoyés par l'API FHIR").first.wait_for()
    page.get_by_text("Tables canoniques (un fichier", exact=False).first.click()
    _settle(page)
    page.get_by_text("Un fichier par table, nommé d'après elle").first.wait_for()
    page.locator("[data-testid='stFileUploader'] input[type=file]").first.set_input_files(
        sorted(str(p) for p in source.iterdir())
    )
    _settle(page)
    page.get_by_role("button", name="Analyser les fichiers").click()
    page.get_by_text("Rapport de validation").first.wait_for()
    _settle(page)
    page.get_by_text("Lignes conservées").first.wait_for()
    screenshot(page, "page_import")
    text = _text_of(_download(page, "CSV pour Excel", menu="Télécharger le rapport"))
    assert "E-mail du directeur" in text or "directeur_email" in text
    assert "[masqué]" in text
    assert secret not in text
    assert secret not in _text(page)  # nor on screen


#: Rank of the « Télécharger » menu of the écarts table on Qualité ROR (requirements, by
#: département, population, quarters come before it).
ECARTS_MENU = 4


def test_qualite_ror(page, app_url, contacts):
    _open(page, app_url, "Qualité ROR", "Qualité ROR")
    page.get_by_text("Écarts à corriger").first.wait_for()
    screenshot(page, "page_qualite")
    menu = ECARTS_MENU
    first = _download(page, "CSV pour Excel", menu=menu)
    _open_select(page, "Exigence").nth(1).click()
    _settle(page)
    second = _download(page, "CSV pour Excel", menu=menu)
    assert second.name != first.name  # the file follows the chosen requirement
    _no_contact(_text_of(second), contacts)
    _no_contact(_text_of(_download(page, "Excel (.xlsx)", menu=menu)), contacts)


def test_transition(page, app_url, contacts):
    _open(page, app_url, "Transition", "Transition")
    page.get_by_text("Autorisées, non décrites").first.wait_for()
    screenshot(page, "page_transition")
    text = _text_of(_download(page, "CSV pour Excel", menu=0))  # the list of gaps
    _no_contact(text, contacts)
    _no_contact(_text_of(_download(page, "Excel (.xlsx)", menu=0)), contacts)


def test_objectifs_oqos(page, app_url, contacts):
    _open(page, app_url, "Objectifs (OQOS)", "Objectifs (OQOS)")
    page.get_by_text("Zones × mentions").first.wait_for()
    page.wait_for_function(
        "() => document.querySelectorAll(\"[data-testid='stVegaLiteChart'] canvas,"
        " [data-testid='stVegaLiteChart'] svg\").length >= 2")  # the matrix and the map
    screenshot(page, "page_objectifs")
    # filter: another mention → the cell below names it
    cell = page.locator("p", has_text=re.compile(r" — .+ : [▼✓▲] ")).first
    before = cell.inner_text()
    _choose(page, "Mention SMR", "Gériatrie")
    page.wait_for_function(
        "(old) => [...document.querySelectorAll('p')].some(e => / — .+ : [▼✓▲] /"
        ".test(e.innerText) && e.innerText !== old && e.innerText.includes('Gériatrie'))",
        arg=before)
    page.wait_for_selector(CHART)
    screenshot(page, "page_objectifs_geriatrie")
    path = _download(page, "CSV pour Excel", menu=0)  # the table of the targets
    frame = pl.read_csv(path, separator=";", infer_schema=False)
    assert frame.columns[:4] == ["Zone", "Libellé de la zone", "Mention", "Forme"]
    assert frame.height > 100 and "Dans la cible" in frame["Statut"].to_list()
    _no_contact(_text_of(path), contacts)
    data = pl.read_csv(_download(page, "CSV données", menu=0), infer_schema=False)
    assert data.columns[:4] == ["zone", "libelle_zone", "mention", "forme"]
    assert data.height == frame.height
    workbook = openpyxl.load_workbook(_download(page, "Excel (.xlsx)", menu=0))
    assert workbook.sheetnames == ["objectifs", "implantations", "hors zonage"]
