"""Method notes beside the figures they explain, and the record of which indicators a page shows.

A page calls ``method_note(id)`` (one expander « Méthode : <label> ») or ``method_notes(ids,
title)`` (one expander holding several notes) next to the figure, table or map of each
indicator it shows. Both draw the notes of ``analysis.present.methods`` and record the ids in
``st.session_state[SHOWN_KEY]`` under the page's file name: the page walk test
(``tests/app/test_method_notes.py``) reads that record and fails on an id without a note,
or on a page that declares none. An id without a note draws a visible warning rather than
breaking the page.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

import streamlit as st

from analysis.present import methods

#: Session-state key of the record: page file stem → indicator ids shown, in order.
SHOWN_KEY = "indicateurs_affiches"
PAGES_DIR = "app_pages"


def _page_name() -> str:
    """File stem of the page script running this call (``accueil``, ``carte``…)."""
    frame = sys._getframe(1)
    while frame is not None:
        path = Path(frame.f_code.co_filename)
        if path.parent.name == PAGES_DIR:
            return path.stem
        frame = frame.f_back
    return "?"


def _resolve(indicator: str) -> methods.MethodNote | None:
    try:
        return methods.note(indicator)
    except KeyError:
        return None


def record(indicators: Sequence[str]) -> list[methods.MethodNote | None]:
    """Record that the running page shows ``indicators``; returns their notes (None when an
    id has none). A resolved id is recorded under its note's id (``part_30min`` →
    ``part_seuil``), an unknown one as given, so that the walk test names it."""
    shown: dict[str, list[str]] = st.session_state.setdefault(SHOWN_KEY, {})
    ids = shown.setdefault(_page_name(), [])
    notes = []
    for indicator in indicators:
        n = _resolve(indicator)
        key = n.id if n is not None else indicator
        if key not in ids:
            ids.append(key)
        notes.append(n)
    return notes


def _missing(indicator: str) -> None:
    st.warning(f"Note de méthode manquante pour l'indicateur « {indicator} ».")


def method_note(indicator: str) -> None:
    """One expander « Méthode : <label> » with the note of ``indicator`` (and record it)."""
    (n,) = record([indicator])
    if n is None:
        _missing(indicator)
        return
    with st.expander(f"Méthode : {n.label}"):
        st.markdown(n.note)


def method_notes(indicators: Sequence[str], title: str) -> None:
    """One expander « Méthode : <title> » with the notes of several indicators shown together
    (a row of metrics, a table), each under its label (and record them)."""
    notes = record(indicators)
    with st.expander(f"Méthode : {title}"):
        for indicator, n in zip(indicators, notes, strict=True):
            if n is None:
                _missing(indicator)
                continue
            unit = "" if n.unit.lower() == n.label.lower() else f" ({n.unit})"
            st.markdown(f"##### {n.label}{unit}")
            st.markdown(n.note)
