"""Carte: one indicator of one mention on the communes or départements of the region."""

from __future__ import annotations

import datetime as dt

import altair as alt
import polars as pl
import streamlit as st

from analysis.geo import geography
from analysis.indicators import access, coverage, territories
from analysis.indicators.opening import OpeningRule
from analysis.model import formats, nomenclature
from analysis.present import methods
from ui import charts, state
from ui import territory as ui
from ui.common import demo_banner, page_context, show_table

st.title("Carte")
st.caption(
    "Capacités, temps d'accès et accessibilité potentielle d'une mention SMR, par commune ou "
    "par département. Les établissements sont des points proportionnels à leur capacité."
)

ctx = page_context()
demo_banner(ctx)

#: The indicator a commune map opens on: a rate per 100,000 inhabitants reads badly there
#: (0 in every commune without an establishment, extreme values in small ones with one).
COMMUNE_INDICATOR = "temps_plus_proche"


@st.cache_data(show_spinner=False, max_entries=64)
def site_table(
    _data: dict,
    store: str,
    date: str,
    region: str,
    mention: str,
    forme: str,
    provisoires: bool = False,
):
    """Establishments offering the mention (open at the date) with their point and capacity."""
    communes = geography.load_communes(region)
    sites = access.sites_for(
        _data,
        geography.load_origins(region),
        mention,
        None if forme == coverage.ALL_FORMES else forme,
        OpeningRule(dt.date.fromisoformat(date), provisoires),
    )
    return sites.join(
        communes.select("commune_insee", pl.col("nom").alias("commune")),
        on="commune_insee",
        how="left",
    ).filter(pl.col("lat").is_not_null())


data, store_key, date_key = ui.cached_tables(ctx)

c1, c2, c3, c4 = st.columns([4, 2, 3, 2])
by_departement = ui.commune_map_by_departement(ctx.region)  # all of France: too many
level = state.select(  # drawn before the indicator, whose default depends on it
    c2.radio,
    "Niveau",
    ["commune", "departement", coverage.ORIGIN_LEVEL],
    "niveau",
    "carte_niveau",
    default="departement" if by_departement else "commune",
    format_func=lambda lv: {
        "commune": "Communes",
        "departement": "Départements",
        coverage.ORIGIN_LEVEL: "Arrondissements",
    }[lv],
    horizontal=True,
    help="« Arrondissements » : les communes, Paris, Lyon et Marseille découpées en "
    "arrondissements (origines des temps d'accès).",
)
indicator = state.select(
    c1.selectbox,
    "Indicateur",
    list(territories.MAP_INDICATORS),
    "indicateur",
    "carte_indicateur",
    default=COMMUNE_INDICATOR if level != "departement" else "taux_100k",
    format_func=lambda i: methods.note(i).label,
    help="Par commune, le temps au plus proche est affiché d'abord : un taux pour 100 000 "
    "habitants y vaut 0 dans toute commune sans établissement.",
)
with c3:
    mention = ui.mention_select("carte_mention")
with c4:
    forme = ui.forme_select("carte_forme")
map_departement = None
if by_departement and level != "departement":
    map_departement = ui.departement_select(ctx.region, "carte_departement")
provisoires = ui.opening_switch("carte_provisoires")
params = ui.access_params("carte")
costs_bytes, ages_bytes = ui.file_uploads("carte", data, ctx.region)
ui.population_panel(ctx, "carte")
pop = ui.population_choice(ctx)
setup = ui.population_setup(ctx.region, pop)
rule = ui.opening_rule(ctx, provisoires)

empty = ui.no_offer_message(data, mention, forme, rule)
if empty:
    st.info(empty)
else:
    key = ui.params_key(params)
    common = (store_key, date_key, ctx.region)
    extra = {"pop": pop, "provisoires": provisoires}
    table = ui.territory_table(
        data, *common, level, mention, forme, key, costs_bytes, ages_bytes, **extra
    )
    region_row = ui.territory_table(
        data, *common, "region", mention, forme, key, costs_bytes, ages_bytes, **extra
    ).row(0, named=True)
    note = methods.note(indicator)
    if indicator == "taux_100k" and level == "commune":
        st.info(
            "À l'échelle de la commune, le taux pour 100 000 habitants se lit mal : il vaut 0 "
            "dans toute commune sans établissement, même si l'offre est juste à côté, et "
            "s'envole dans une petite commune qui en a un. Le temps au plus proche ou "
            "l'accessibilité E2SFCA décrivent mieux la commune ; le taux se lit par département.",
            icon=":material/info:",
        )

    m = st.columns(6)
    m[0].metric("Établissements", formats.integer(region_row["etablissements"]))
    m[1].metric("Lits + places", formats.integer(region_row["lits"] + region_row["places"]))
    taux = region_row["taux_100k"]
    m[2].metric(
        "Pour 100 000 hab. (région)",
        formats.number(taux, 1),
        help=f"Dénominateur : {region_row['denominateur']}.",
    )
    tm = region_row["temps_plus_proche"]
    m[3].metric("Temps moyen au plus proche",
                formats.EMPTY if tm is None else f"{formats.number(tm, 1)} min")
    beyond = region_row["part_au_dela"]
    m[4].metric(
        f"Population à plus de {ui.fr(params.beyond_min)} min",
        formats.percent_points(beyond),
        help=f"{formats.integer(region_row['population_au_dela'])} habitants.",
    )
    m[5].metric(
        "Fermés temporairement",
        formats.integer(region_row["fermes_temporairement"]),
        help=f"{formats.integer(region_row['capacite_fermee_temporairement'])} lits et places, "
        + ("comptés dans les chiffres (case cochée)." if provisoires
           else "exclus des chiffres (case « Inclure les fermetures provisoires »)."),
    )
    st.caption(f"{rule.describe()} {setup.caption()}")
    ui.method_notes(
        [
            "etablissements",
            "capacite",
            "taux_100k",
            "temps_plus_proche",
            "part_au_dela",
            "fermes_temporairement",
        ],
        "chiffres de la région",
    )

    code_field = "departement" if level == "departement" else "commune_insee"
    shapes_of = (
        [
            f
            for f in ui.base_features(ctx.region, level)
            if geography.departement_from_insee(f["properties"]["commune_insee"]) == map_departement
        ]
        if map_departement and level == coverage.ORIGIN_LEVEL
        else ui.departement_commune_features(ctx.region, map_departement)
        if map_departement
        else ui.base_features(ctx.region, level)
    )
    if map_departement:  # only the chosen département's communes are drawn
        codes = [f["properties"]["commune_insee"] for f in shapes_of]
        table = table.filter(pl.col("territoire").is_in(codes))
    values = dict(zip(table["territoire"].to_list(), table[indicator].to_list(), strict=True))
    features = [
        {**f, "properties": {**f["properties"], "valeur": values.get(f["properties"][code_field])}}
        for f in shapes_of
    ]
    finite = table[indicator].drop_nulls()
    top = float(finite.quantile(0.95)) if finite.len() else 0.0
    top = top if top > 0 else float(finite.max() or 1.0)
    scheme = "blues" if note.higher_is_better else "orangered"
    unit_word = note.unit.split()[0].lower()
    legend_title = note.label if unit_word in note.label.lower() else f"{note.label} ({note.unit})"
    shapes = alt.Chart(alt.NamedData(name="territoires"))
    background = shapes.mark_geoshape(fill="#e6e6e6", stroke="white", strokeWidth=0.3)
    choropleth = (
        shapes.mark_geoshape(stroke="white", strokeWidth=0.3)
        .transform_filter("isValid(datum.properties.valeur)")
        .encode(
            color=alt.Color(
                "properties.valeur:Q",
                title=legend_title,
                scale=alt.Scale(scheme=scheme, domain=[0, top], clamp=True),
                legend=alt.Legend(orient="bottom", gradientLength=320, titleLimit=500),
            ),
            tooltip=[
                alt.Tooltip("properties.nom:N", title="Territoire"),
                alt.Tooltip(f"properties.{code_field}:N", title="Code"),
                alt.Tooltip(
                    "properties.valeur:Q", title=f"{note.label} ({note.unit})", format=",.1f"
                ),
            ],
        )
    )
    layers = [background, choropleth]
    sites = site_table(data, *common, mention, forme, provisoires)
    if map_departement:
        sites = sites.filter(
            pl.col("commune_insee").map_elements(geography.departement_from_insee, pl.String)
            == map_departement
        )
    if sites.height:
        points = (
            alt.Chart(
                sites.select(
                    "raison_sociale",
                    "commune",
                    "lat",
                    "lon",
                    "lits",
                    "places",
                    "capacite",
                    "localisation",
                ).to_pandas()
            )
            .mark_circle(color="#222222", opacity=0.75, stroke="white", strokeWidth=0.6)
            .encode(
                longitude="lon:Q",
                latitude="lat:Q",
                size=alt.Size(
                    "capacite:Q",
                    title="Lits + places",
                    scale=alt.Scale(range=[12, 420]),
                    legend=alt.Legend(orient="bottom"),
                ),
                tooltip=[
                    alt.Tooltip("raison_sociale:N", title="Établissement"),
                    alt.Tooltip("commune:N", title="Commune"),
                    alt.Tooltip("lits:Q", title="Lits"),
                    alt.Tooltip("places:Q", title="Places"),
                    alt.Tooltip("localisation:N", title="Position"),
                ],
            )
        )
        layers.append(points)
    chart = alt.layer(*layers).project(type="mercator").properties(height=640)
    # the GeoJSON features join the spec after Altair (see ui.territory.vega_spec)
    where = f"du département {map_departement}" if map_departement else "de la région"
    shown_level = "Communes" if level == "commune" else "Départements"
    charts.draw(
        ui.vega_spec(chart, {"territoires": features}),
        f"Carte : {legend_title}, mention {nomenclature.mention_label(mention)}, "
        f"{shown_level.lower()} {where}, instantané du {ctx.date:%d/%m/%Y}. Les valeurs et "
        "les établissements sont dans les tableaux sous la carte.",
    )
    st.caption(
        f"Légende : {legend_title} ; territoires en gris : pas de valeur (aucun établissement "
        f"accessible). Échelle de couleur plafonnée au 95ᵉ centile ({formats.number(top, 1)}). "
        "Points : établissements offrant la mention, taille proportionnelle aux lits + places."
    )
    if map_departement:
        st.caption(
            f"Communes du département {map_departement} seulement (et ses établissements) : "
            "toute la France se lit au niveau des départements."
        )
    outside = int((sites["localisation"] == "commune").sum()) if sites.height else 0
    if outside:
        st.caption(
            f"{outside} établissement(s) sans coordonnées placé(s) au centre de leur commune."
        )
    with st.expander("Tableau : valeurs de la carte et établissements"):
        show_table(
            table.select("territoire", "nom", indicator).sort(
                indicator, descending=note.higher_is_better, nulls_last=True
            ),
            "carte_valeurs",
            stem=f"carte_{indicator}_{ctx.date.isoformat()}",
            overrides={
                "nom": formats.Format(shown_level[:-1], width="medium", key=True),
                indicator: formats.Format(legend_title, formats.NUMBER, 1),
            },
        )
        if sites.height:
            show_table(
                sites.select("raison_sociale", "commune", "lits", "places", "capacite"),
                "carte_etablissements",
            )
    ui.method_note(indicator)
