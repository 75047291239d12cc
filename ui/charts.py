"""Charts and maps with their text alternative, in French, readable by every agent.

Every page draws its charts through ``draw``: the chart gets French number and date formats,
the colour-blind-safe palette and uncut legends (``analysis.present.charts.readable_config``), a
description that Vega puts on the chart as its accessible name (``aria-label``), its marks
left out of the accessibility tree (thousands of communes would each be read aloud), and,
one click away, the table it is drawn from (RGAA 1.1 and 4.1 / WCAG 1.1.1: a text
alternative for every image that carries information).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import altair as alt
import polars as pl
import streamlit as st

from analysis.model import formats
from analysis.present import charts
from ui.common import show_table

#: Keys of a Vega-Lite spec that hold views (the data, often large, is not walked).
_VIEWS = ("layer", "concat", "hconcat", "vconcat", "spec")


def _hidden_marks(view: Mapping[str, Any]) -> dict[str, Any]:
    """``view`` with ``aria: false`` on every mark: Vega then sets ``aria-hidden`` on the
    marks (``config.aria`` alone only drops their default descriptions, leaving containers
    with a role and no name, which axe-core reports)."""
    out = dict(view)
    mark = out.get("mark")
    if isinstance(mark, str):
        out["mark"] = {"type": mark, "aria": False}
    elif isinstance(mark, Mapping):
        out["mark"] = {**mark, "aria": False}
        for overlay in ("point", "line"):  # ``mark_line(point=True)`` adds a point layer
            extra = mark.get(overlay)
            if extra is True or isinstance(extra, Mapping):
                out["mark"][overlay] = {**(extra if isinstance(extra, Mapping) else {}),
                                        "aria": False}
    for key in _VIEWS:
        child = out.get(key)
        if isinstance(child, list):
            out[key] = [_hidden_marks(v) for v in child]
        elif isinstance(child, Mapping):
            out[key] = _hidden_marks(child)
    return out


def spec_with(spec: Mapping[str, Any], description: str) -> dict[str, Any]:
    """A Vega-Lite spec with the description, its marks hidden from assistive technologies
    and the shared readable settings added (settings already in the spec win)."""
    out = _hidden_marks(spec)
    out["description"] = description
    config = charts.readable_config()
    for key, value in (out.get("config") or {}).items():
        config[key] = {**config[key], **value} if isinstance(value, dict) and key in config \
            else value
    config["aria"] = False
    out["config"] = config
    return out


def draw(
    chart: alt.TopLevelMixin | Mapping[str, Any],
    description: str,
    *,
    table: pl.DataFrame | None = None,
    table_label: str = "données du graphique",
    overrides: Mapping[str, formats.Format] | None = None,
    width: str = "stretch",
    key: str | None = None,
) -> None:
    """Draw an Altair chart (or a Vega-Lite spec, for maps) with ``description`` as its
    accessible name and, under it, an expander « Tableau : <table_label> » holding ``table``
    (omit it when the same table is already shown beside the chart, and say so in the
    description), shown as every table is (``ui.common.show_table``; ``overrides`` for the
    columns the formats registry does not describe, a pivot's labels for instance)."""
    spec = chart.to_dict() if isinstance(chart, alt.TopLevelMixin) else chart
    st.vega_lite_chart(spec_with(spec, description), width=width, key=key)
    if table is not None:
        with st.expander(f"Tableau : {table_label}"):
            show_table(table, overrides=overrides)
