"""Static charts for the regional report and the notebooks: Altair specs rendered to SVG.

The report must open without network, so its charts cannot be Vega-Lite specs drawn by
vega-embed in the browser. ``to_svg`` renders a spec to an SVG string with ``vl-convert``
(a self-contained wheel that embeds the Vega renderer), with French number and date formats,
and with external data forbidden. ``inline_svg`` makes the ids of one SVG unique so that
several charts can live in one HTML page (Vega names its clip paths ``clip1``, ``clip2``… in
every file, and a page resolves ``url(#clip1)`` to the first one it meets).

Maps follow the two rules of DESIGN.md: features are plain GeoJSON values (fields read as
``properties.<name>``) and rings are clockwise (the reference geography already is).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping, Sequence
from typing import Any

import altair as alt

LOCALE = "fr-FR"
_IDS = itertools.count(1)


def to_svg(chart: alt.TopLevelMixin | Mapping[str, Any]) -> str:
    """The SVG text of an Altair chart (or a Vega-Lite spec), French formats, no network."""
    import vl_convert

    spec = chart.to_dict() if hasattr(chart, "to_dict") else dict(chart)
    return vl_convert.vegalite_to_svg(
        spec, format_locale=LOCALE, time_format_locale=LOCALE, allowed_base_urls=[]
    )


_ID_RE = re.compile(r'\bid="([^"]+)"')


def inline_svg(svg: str, prefix: str | None = None) -> str:
    """``svg`` ready to be inlined in an HTML page: XML prolog dropped, every ``id`` and its
    references (``url(#…)``, ``href="#…"``) prefixed so that they cannot clash."""
    prefix = prefix or f"g{next(_IDS)}"
    text = re.sub(r"^<\?xml[^>]*>\s*", "", svg.strip())
    ids = set(_ID_RE.findall(text))
    for old in sorted(ids, key=len, reverse=True):
        new = f"{prefix}-{old}"
        text = text.replace(f'id="{old}"', f'id="{new}"')
        text = text.replace(f"url(#{old})", f"url(#{new})")
        text = text.replace(f'href="#{old}"', f'href="#{new}"')
    return text


def choropleth(
    features: Sequence[Mapping[str, Any]],
    values: Mapping[str, float | None],
    code_field: str,
    title: str,
    *,
    scheme: str = "blues",
    width: int = 520,
    height: int = 420,
) -> alt.LayerChart:
    """A map of ``values`` (territory code → value) on GeoJSON ``features`` whose property
    ``code_field`` holds the code; territories without a value are grey.

    Why: the same map in notebooks (static SVG) and reports, without GeoPandas plotting.
    """
    shapes = [
        {**f, "properties": {**f["properties"], "valeur": values.get(f["properties"][code_field])}}
        for f in features
    ]
    data = alt.Data(values=shapes)
    base = alt.Chart(data).mark_geoshape(fill="#e6e6e6", stroke="white", strokeWidth=0.3)
    layer = (
        alt.Chart(data)
        .mark_geoshape(stroke="white", strokeWidth=0.3)
        .transform_filter("isValid(datum.properties.valeur)")
        .encode(
            color=alt.Color(
                "properties.valeur:Q",
                title=title,
                scale=alt.Scale(scheme=scheme),
                legend=alt.Legend(orient="bottom", gradientLength=300, titleLimit=500),
            ),
            tooltip=[
                alt.Tooltip("properties.nom:N", title="Territoire"),
                alt.Tooltip("properties.valeur:Q", title=title, format=",.1f"),
            ],
        )
    )
    return alt.layer(base, layer).project(type="mercator").properties(width=width, height=height)
