"""SMR Workbench: Streamlit entry point (navigation, sidebar, pages)."""

from __future__ import annotations

import streamlit as st

from ui import access

st.set_page_config(
    page_title="SMR Workbench", page_icon=":material/health_and_safety:", layout="wide"
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
    st.Page("app_pages/import.py", title="Import", icon=":material/upload_file:"),
]

# Each page draws the sidebar itself (ui.common.page_context), see there why. Read-only mode
# (SMR_READ_ONLY=1) leaves out the pages that write to the store.
st.navigation(access.visible_pages(PAGES)).run()
