"""SMR Workbench: Streamlit entry point (navigation, sidebar, pages)."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from ui import access

# A local favicon: a Material icon here would be fetched from a font server on every page,
# and the app must work without network (nothing leaves the machine).
FAVICON = Path(__file__).resolve().parent / "static" / "favicon.png"
st.set_page_config(page_title="SMR Workbench", page_icon=str(FAVICON), layout="wide")
# Two corrections of Streamlit's own layout, for every page:
# - metric labels wrap instead of being cut with « … » in narrow columns (« Population à
#   plus de 30 min »): the label says what the figure is;
# - the uploaders' English hint (« 200MB per file • CSV ») is hidden: each uploader has its
#   French caption with the formats and the limit in Mo (ui.common.upload_hint);
# - Streamlit's main menu (English, nothing a planner needs) is hidden; the toolbar keeps
#   the running indicator and its Stop button (.streamlit/config.toml, toolbarMode).
st.html(
    "<style>[data-testid='stMetricLabel'] * {white-space: normal !important; "
    "overflow: visible !important; text-overflow: clip !important;}"
    "[data-testid='stFileUploaderDropzoneInstructions'], [data-testid='stMainMenu'] "
    "{display: none !important;}</style>"
)
# Login first (when configured, see docs/securite.md): no page runs for a visitor.
access.gate()

PAGES = [
    st.Page("app_pages/accueil.py", title="Accueil", icon=":material/home:", default=True),
    st.Page("app_pages/carte.py", title="Carte", icon=":material/map:"),
    st.Page("app_pages/territoires.py", title="Territoires", icon=":material/table_chart:"),
    st.Page("app_pages/campagne.py", title="Campagne", icon=":material/checklist:"),
    st.Page("app_pages/synchronisation.py", title="Synchronisation", icon=":material/sync:"),
    st.Page("app_pages/qualite.py", title="Qualité ROR", icon=":material/fact_check:"),
    st.Page("app_pages/transition.py", title="Transition", icon=":material/swap_horiz:"),
    st.Page("app_pages/objectifs.py", title="Objectifs (OQOS)", icon=":material/flag:"),
    st.Page("app_pages/import.py", title="Import", icon=":material/upload_file:"),
]

# Each page draws the sidebar itself (ui.common.page_context), see there why. Read-only mode
# (SMR_READ_ONLY=1) leaves out the pages that write to the store.
st.navigation(access.visible_pages(PAGES)).run()
