"""Who may use the app and what they may do: login gate, read-only navigation, contacts.

``app.py`` calls ``gate()`` before the navigation runs (so no page runs for a visitor who
must log in) and passes its pages through ``visible_pages``. The decisions themselves are
pure functions of ``analysis.model.settings`` (tested without Streamlit); this module only reads
Streamlit's secrets and ``st.user`` and draws the login screen.

Login uses Streamlit's OpenID Connect support (``st.login``, ``st.user``, ``st.logout``),
configured by an ``[auth]`` section in ``.streamlit/secrets.toml`` and needing the
``Authlib`` package (``pip install -e .[auth]``): see ``docs/securite.md``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import streamlit as st

from analysis.model import settings

#: Pages that write to the store: left out of the navigation in read-only mode.
WRITING_PAGES = frozenset({"import"})


def auth_configured() -> bool:
    """True when ``.streamlit/secrets.toml`` (or the test harness) has an ``[auth]`` section."""
    try:
        return "auth" in st.secrets
    except Exception:  # noqa: BLE001 - no secrets file, or an unreadable one: no auth
        return False


def _logged_in() -> bool:
    try:
        return bool(st.user.get("is_logged_in", False))
    except Exception:  # noqa: BLE001 - st.user unavailable outside a session
        return False


def gate() -> None:
    """Stop the script with a login screen unless this session may see the pages.

    When login is required and the user is logged in, the sidebar shows who they are and
    a logout button.
    """
    configured = auth_configured()
    decision = settings.access(configured, _logged_in())
    if decision.allowed:
        if settings.login_needed(configured):
            who = st.user.get("name") or st.user.get("email") or "utilisateur connecté"
            st.sidebar.caption(f"Connecté : {who}")
            if st.sidebar.button("Se déconnecter", key="logout"):
                st.logout()
        return
    st.title("SMR Workbench")
    st.caption("Accès réservé : les données comportent des contacts de personnels.")
    if decision.show_login:
        st.info(decision.reason)
        if st.button("Se connecter", key="login", type="primary"):
            st.login()
    else:
        st.error(decision.reason)
    st.stop()


def visible_pages(pages: Sequence[Any]) -> list[Any]:
    """The pages of the navigation: without the writing pages in read-only mode."""
    if not settings.read_only():
        return list(pages)
    return [p for p in pages if getattr(p, "url_path", None) not in WRITING_PAGES]


def local_paths_allowed() -> bool:
    """Whether this app may read server paths typed by the user (``SMR_ALLOW_LOCAL_PATHS``)."""
    return settings.allow_local_paths(auth_configured())
