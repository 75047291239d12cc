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
import threading
from collections import OrderedDict
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


_VALIDATED_MAX = 4096
_SPECS_MAX = 32
_SPECS_LOCK = threading.Lock()


@st.cache_resource(show_spinner=False)
def _validated() -> set[str]:
    """Fingerprints of the chart structures already checked against the Vega-Lite schema
    (kept with Streamlit's resources: emptied with them)."""
    return set()


@st.cache_resource(show_spinner=False)
def _specs() -> OrderedDict[str, dict[str, Any]]:
    """Specs already built, by the fingerprint of the chart's content (``_feed``) and of
    Altair's active theme and data transformer: a rerun drawing the same chart reuses its
    spec (kept with Streamlit's resources: emptied with them)."""
    return OrderedDict()


class _Unkeyable(Exception):
    """A value the fingerprint does not know: the chart is built each time."""


def _feed(digest: Any, value: Any) -> None:
    """Feed ``value`` (a chart's content) into ``digest``, type by type, every part
    delimited; anything else (a selection parameter, an expression) raises ``_Unkeyable``."""
    import datetime as dt

    import pandas as pd
    from altair.utils.schemapi import SchemaBase, UndefinedType

    if isinstance(value, SchemaBase):
        digest.update(f"<{type(value).__module__}.{type(value).__qualname__}".encode())
        _feed(digest, list(value._args))
        _feed(digest, dict(value._kwds))
        digest.update(b">")
    elif isinstance(value, UndefinedType):
        digest.update(b"U;")
    elif isinstance(value, dict):
        digest.update(f"d{len(value)}(".encode())
        for k, v in value.items():
            _feed(digest, k)
            _feed(digest, v)
        digest.update(b")")
    elif isinstance(value, list | tuple):
        digest.update(f"{type(value).__name__}{len(value)}(".encode())
        for v in value:
            _feed(digest, v)
        digest.update(b")")
    elif value is None or isinstance(value, str | bool | int | float | dt.date | dt.datetime):
        text = repr(value)
        digest.update(f"{type(value).__name__}{len(text)}:{text};".encode())
    elif isinstance(value, pd.DataFrame):
        frame = f"pd{value.shape}{list(map(str, value.columns))}{list(map(str, value.dtypes))}"
        digest.update(frame.encode())
        digest.update(pd.util.hash_pandas_object(value, index=True).to_numpy().tobytes())
    elif isinstance(value, pl.DataFrame):
        digest.update(f"pl{value.shape}{list(value.schema.items())}".encode())
        digest.update(value.hash_rows(seed=0, seed_1=1, seed_2=2, seed_3=3).to_numpy()
                      .tobytes())
    else:
        raise _Unkeyable(type(value).__name__)


def _chart_key(chart: alt.TopLevelMixin) -> str | None:
    digest = hashlib.sha256(f"{alt.theme.active}|{alt.data_transformers.active}|".encode())
    try:
        _feed(digest, chart)
    except Exception:  # noqa: BLE001 - _Unkeyable, or a frame that cannot be hashed
        return None
    return digest.hexdigest()


def chart_dict(chart: alt.TopLevelMixin) -> dict[str, Any]:
    """``chart.to_dict()``, built once per chart and schema-checked once per structure.

    A rerun rebuilds the same chart object: its spec (a tenth of a second for a layered
    chart of a few thousand rows: values turned into records, the whole spec checked against
    the Vega-Lite schema) is kept under the chart's fingerprint. A new chart is built
    unchecked (the same dict: the check only raises) and checked against its schema when its
    structure (the spec without the inline datasets, which Altair adds after its own check;
    the data's name is a hash of its values) was not seen yet in this process. The caller
    gets its own top-level dict and ``datasets`` dict (the values are shared, never changed).
    """
    key, specs = _chart_key(chart), _specs()
    with _SPECS_LOCK:
        spec = specs.get(key) if key is not None else None
        if spec is not None:
            specs.move_to_end(key)
    if spec is None:
        spec = _built(chart)
        if key is not None:
            with _SPECS_LOCK:
                specs[key] = spec
                while len(specs) > _SPECS_MAX:
                    specs.popitem(last=False)
    out = dict(spec)
    if "datasets" in out:
        out["datasets"] = dict(out["datasets"])
    return out


def _built(chart: alt.TopLevelMixin) -> dict[str, Any]:
    spec = chart.to_dict(validate=False)
    shape = {k: v for k, v in spec.items() if k not in ("datasets", "$schema")}
    key = hashlib.sha256(
        json.dumps(shape, sort_keys=True, default=repr).encode("utf-8")
    ).hexdigest()
    validated = _validated()
    if key not in validated:
        try:
            type(chart).validate(shape)
        except Exception:
            chart.to_dict()  # the error as Altair words it
            raise
        with _SPECS_LOCK:
            if len(validated) >= _VALIDATED_MAX:
                validated.clear()
            validated.add(key)
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
