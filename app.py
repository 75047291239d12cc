"""SMR Workbench: Streamlit entry point (navigation, sidebar, pages)."""

from __future__ import annotations

import streamlit as st

from ui.common import sidebar

st.set_page_config(page_title="SMR Workbench", page_icon="🏥", layout="wide")

PAGES = [
    st.Page("pages/accueil.py", title="Accueil", icon="🏠", default=True),
]

nav = st.navigation(PAGES)
st.session_state["context"] = sidebar()
nav.run()
