"""Charts and maps with their text alternative, in French, readable by every agent.

Every page draws its charts through ``draw``: the chart gets French number and date formats,
the colour-blind-safe palette and uncut legends (``analysis.present.charts.readable_config``), a
description that Vega puts on the chart as its accessible name (``aria-label``), its marks
left out of the accessibility tree (thousands of communes would each be read aloud), and,
one click away, the table it is drawn from (RGAA 1.1 and 4.1 / WCAG 1.1.1: a text
alternative for every image that carries information).
"""

from __future__ import annotations

import hashlib
import json
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


#: Fingerprints of the chart structures already checked against the Vega-Lite schema.
_VALIDATED: set[str] = set()
_VALIDATED_MAX = 4096


def chart_dict(chart: alt.TopLevelMixin) -> dict[str, Any]:
    """``chart.to_dict()``, the schema check done once per chart structure.

    Altair checks the whole spec against the Vega-Lite schema at every call (a tenth of a
    second for a layered chart), though a rerun draws the same structure with other values.
    The spec is built unchecked (the same dict: the check only raises) and checked against
    the chart's schema when its structure (the spec without the inline datasets, which
    Altair adds after its own check; the data's name is a hash of its values) was not seen
    yet in this process."""
    spec = chart.to_dict(validate=False)
    shape = {k: v for k, v in spec.items() if k not in ("datasets", "$schema")}
    key = hashlib.sha256(
        json.dumps(shape, sort_keys=True, default=repr).encode("utf-8")
    ).hexdigest()
    if key not in _VALIDATED:
        try:
            type(chart).validate(shape)
        except Exception:
            chart.to_dict()  # the error as Altair words it
            raise
        if len(_VALIDATED) >= _VALIDATED_MAX:
            _VALIDATED.clear()
        _VALIDATED.add(key)
    return spec


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
    spec = chart_dict(chart) if isinstance(chart, alt.TopLevelMixin) else chart
    st.vega_lite_chart(spec_with(spec, description), width=width, key=key)
    if table is not None:
        with st.expander(f"Tableau : {table_label}"):
            show_table(table, overrides=overrides)
