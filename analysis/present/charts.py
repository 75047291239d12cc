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
    references (``url(#…)``, ``href="#…"``) prefixed so that they cannot clash.

    Ids are also numbered afresh from 0 in their order in ``svg`` (``clip7``, ``clip8`` →
    ``<prefix>-clip0``, ``<prefix>-clip1``): the SVG renderer numbers them on from one chart
    to the next in a process, and the same chart must give the same page whatever was drawn
    before it.
    """
    prefix = prefix or f"g{next(_IDS)}"
    text = re.sub(r"^<\?xml[^>]*>\s*", "", svg.strip())
    renamed: dict[str, str] = {}
    counts: dict[str, int] = {}
    for old in dict.fromkeys(_ID_RE.findall(text)):
        stem = re.sub(r"\d+$", "", old)
        if stem == old:  # no number to renew
            renamed[old] = f"{prefix}-{old}"
            continue
        counts[stem] = counts.get(stem, -1) + 1
        renamed[old] = f"{prefix}-{stem}{counts[stem]}"
    if not renamed:
        return text
    pattern = re.compile(
        r'(id="|url\(#|href="#)(' + "|".join(map(re.escape, renamed)) + r')(?=[")])'
    )
    return pattern.sub(lambda m: m.group(1) + renamed[m.group(2)], text)


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


# --- readable charts: palette, French locale, small multiples ------------------------------

#: Okabe and Ito's colour-blind-safe palette (2008, « Color Universal Design »), yellow and
#: black last: yellow is faint on white and black is kept for points and text.
OKABE_ITO: tuple[str, ...] = (
    "#0072B2",  # blue
    "#E69F00",  # orange
    "#009E73",  # bluish green
    "#D55E00",  # vermillion
    "#CC79A7",  # reddish purple
    "#56B4E9",  # sky blue
    "#F0E442",  # yellow
    "#000000",  # black
)

#: French number and date formats for Vega (d3-format and d3-time-format locales): decimal
#: comma, narrow no-break space between thousands, French month names.
FR_LOCALE: dict[str, Any] = {
    "number": {
        "decimal": ",",
        "thousands": "\u202f",
        "grouping": [3],
        "currency": ["", "\u00a0€"],
        "percent": "\u202f%",
    },
    "time": {
        "dateTime": "%A %e %B %Y à %X",
        "date": "%d/%m/%Y",
        "time": "%H:%M:%S",
        "periods": ["", ""],
        "days": ["dimanche", "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi"],
        "shortDays": ["dim.", "lun.", "mar.", "mer.", "jeu.", "ven.", "sam."],
        "months": [
            "janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
            "septembre", "octobre", "novembre", "décembre",
        ],
        "shortMonths": [
            "janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.",
            "nov.", "déc.",
        ],
    },
}


def readable_config() -> dict[str, Any]:
    """Vega-Lite ``config`` shared by the app's charts: French formats, the colour-blind-safe
    palette as default category colours, legends and titles never cut (``labelLimit`` 0)."""
    return {
        "locale": FR_LOCALE,
        "range": {"category": list(OKABE_ITO)},
        "legend": {"labelLimit": 0, "titleLimit": 0},
        "header": {"labelLimit": 0, "titleLimit": 0},
        "title": {"limit": 0},
    }


def padded_domain(
    values: Sequence[float | None],
    *,
    share: float = 0.15,
    minimum: float = 1.0,
    low: float | None = None,
    high: float | None = None,
) -> list[float]:
    """A y-axis range around ``values`` that shows their differences: from the smallest to
    the largest, widened on each side by ``share`` of the spread (at least ``minimum``),
    kept within ``low`` and ``high`` when given (0 and 100 for a percentage).

    Why: with an axis from 0, rates between 96 % and 99 % are one flat line at the top.
    """
    finite = [float(v) for v in values if v is not None]
    if not finite:
        return [low if low is not None else 0.0, high if high is not None else 1.0]
    lo, hi = min(finite), max(finite)
    pad = max((hi - lo) * share, minimum)
    lo, hi = lo - pad, hi + pad
    if low is not None:
        lo = max(lo, low)
    if high is not None:
        hi = min(hi, high)
    return [lo, hi]


def _wrap(text: str, width: int) -> list[str]:
    import textwrap

    return textwrap.wrap(text, width) or [text]


def campaign_progress(
    history: Any,
    rules: Any,
    levels: Mapping[str, str],
    *,
    width: int = 460,
    height: int = 160,
) -> alt.VConcatChart:
    """Campaign progress as small multiples: one panel per level (établissement, unité du ROR,
    unité ViaTrajectoire) stacked on the same time axis, one line per control point in the
    colour-blind-safe palette, the legend beside each panel with full labels; a click on a
    legend entry highlights its line.

    ``history``: polars frame ``date``, ``regle``, ``conformes``, ``total``, ``taux`` (0–1);
    ``rules``: ``regle``, ``niveau``, ``libelle``; ``levels``: level code → French label, in
    panel order. Why: twelve lines on one chart overlap until none can be followed.
    """
    import polars as pl

    data = history.join(rules.select("regle", "niveau", "libelle"), on="regle").with_columns(
        (pl.col("taux") * 100).alias("pourcentage")
    )
    panels = []
    for level, label in levels.items():
        part = data.filter(pl.col("niveau") == level)
        if part.height == 0:
            continue
        names = [
            n for n in rules.filter(pl.col("niveau") == level)["libelle"].to_list()
            if n in set(part["libelle"].to_list())
        ]
        pick = alt.selection_point(name=f"point_{level}", fields=["libelle"], bind="legend")
        panels.append(
            alt.Chart(part.to_pandas(), title=alt.TitleParams(label, anchor="start"))
            .mark_line(point=True, strokeWidth=2)
            .encode(
                x=alt.X("date:T", title=None, axis=alt.Axis(format="%d/%m/%Y", labelAngle=0)),
                y=alt.Y(
                    "pourcentage:Q",
                    title="Conformes (%)",
                    scale=alt.Scale(domain=[0, 100]),
                ),
                color=alt.Color(
                    "libelle:N",
                    title=None,
                    sort=names,
                    scale=alt.Scale(domain=names, range=list(OKABE_ITO[: len(names)])),
                    legend=alt.Legend(orient="right", labelLimit=0),
                ),
                opacity=alt.condition(pick, alt.value(1.0), alt.value(0.15)),
                tooltip=[
                    alt.Tooltip("date:T", title="Instantané", format="%d/%m/%Y"),
                    alt.Tooltip("libelle:N", title="Point de contrôle"),
                    alt.Tooltip("conformes:Q", title="Conformes", format=",d"),
                    alt.Tooltip("total:Q", title="Entités", format=",d"),
                    alt.Tooltip("pourcentage:Q", title="Taux (%)", format=",.1f"),
                ],
            )
            .add_params(pick)
            .properties(width=width, height=height)
        )
    return alt.vconcat(*panels, spacing=16).resolve_scale(color="independent")


def requirement_trends(
    history: Any,
    labels: Mapping[str, str],
    *,
    measure: str = "taux",
    columns: int = 3,
    width: int = 240,
    height: int = 110,
) -> alt.ConcatChart:
    """Quality requirements over time, one small panel per requirement (code and label as its
    title, wrapped, never cut), each with its own y-range (``padded_domain``) so that a move
    from 97 % to 99 % shows.

    ``history``: polars frame ``date``, ``exigence``, ``perimetre``, ``ecarts``, ``taux``
    (0–1); ``labels``: code → label, in panel order; ``measure``: ``taux`` (drawn in %) or
    ``ecarts``. Why: eight lines piled near 100 % on one axis cannot be told apart.
    """
    import polars as pl

    data = history.with_columns((pl.col("taux") * 100).alias("pourcentage"))
    field, title = ("pourcentage", "%") if measure == "taux" else ("ecarts", "écarts")
    panels = []
    for code, label in labels.items():
        part = data.filter(pl.col("exigence") == code)
        if part.height == 0:
            continue
        domain = (
            padded_domain(part[field].to_list(), low=0.0, high=100.0)
            if measure == "taux"
            else padded_domain(part[field].to_list(), low=0.0)
        )
        panels.append(
            alt.Chart(
                part.to_pandas(),
                title=alt.TitleParams(_wrap(f"{code} – {label}", 40), anchor="start", fontSize=12),
            )
            .mark_line(point=True, color=OKABE_ITO[0], strokeWidth=2)
            .encode(
                x=alt.X("date:T", title=None, axis=alt.Axis(format="%d/%m", labelAngle=0)),
                y=alt.Y(
                    f"{field}:Q", title=title, scale=alt.Scale(domain=domain, nice=False, zero=False)
                ),
                tooltip=[
                    alt.Tooltip("date:T", title="Instantané", format="%d/%m/%Y"),
                    alt.Tooltip("exigence:N", title="Exigence"),
                    alt.Tooltip("pourcentage:Q", title="Taux (%)", format=",.1f"),
                    alt.Tooltip("ecarts:Q", title="Écarts", format=",d"),
                    alt.Tooltip("perimetre:Q", title="Périmètre", format=",d"),
                ],
            )
            .properties(width=width, height=height)
        )
    return alt.concat(*panels, columns=columns, spacing=28)
