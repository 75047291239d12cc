"""SMR Workbench: Streamlit entry point (navigation, sidebar, pages)."""

from __future__ import annotations

import streamlit as st

st.set_page_config(
    page_title="SMR Workbench", page_icon=":material/health_and_safety:", layout="wide"
)

PAGES = [
    st.Page("pages/accueil.py", title="Accueil", icon=":material/home:", default=True),
    st.Page("pages/carte.py", title="Carte", icon=":material/map:"),
    st.Page("pages/territoires.py", title="Territoires", icon=":material/table_chart:"),
    st.Page("pages/campagne.py", title="Campagne", icon=":material/checklist:"),
    st.Page("pages/synchronisation.py", title="Synchronisation", icon=":material/sync:"),
    st.Page("pages/import.py", title="Import", icon="📥"),
]

# Each page draws the sidebar itself (ui.common.page_context), see there why.
st.navigation(PAGES).run()
