"""SMR Workbench: Streamlit entry point (navigation, sidebar, pages)."""

from __future__ import annotations

import streamlit as st

st.set_page_config(
    page_title="SMR Workbench", page_icon=":material/health_and_safety:", layout="wide"
)

PAGES = [
    st.Page("app_pages/accueil.py", title="Accueil", icon=":material/home:", default=True),
    st.Page("app_pages/carte.py", title="Carte", icon=":material/map:"),
    st.Page("app_pages/territoires.py", title="Territoires", icon=":material/table_chart:"),
    st.Page("app_pages/campagne.py", title="Campagne", icon=":material/checklist:"),
    st.Page("app_pages/synchronisation.py", title="Synchronisation", icon=":material/sync:"),
    st.Page("app_pages/import.py", title="Import", icon=":material/upload_file:"),
]

# Each page draws the sidebar itself (ui.common.page_context), see there why.
st.navigation(PAGES).run()
