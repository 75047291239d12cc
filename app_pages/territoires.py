"""Territoires: indicator tables per level, communes without access, presence, portrait."""

from __future__ import annotations

import polars as pl
import streamlit as st

from analysis.indicators import coverage
from analysis.model import formats, nomenclature
from ui import state
from ui import territory as ui
from ui.common import demo_banner, page_context, show_table

st.title("Territoires")
st.caption(
    "Capacités, taux, temps d'accès et accessibilité par commune, EPCI, département ou région ; "
    "portrait d'un territoire toutes mentions confondues. Cliquez un en-tête pour trier."
)

ctx = page_context()
demo_banner(ctx)

data, store_key, date_key = ui.cached_tables(ctx)
c1, c2, c3 = st.columns([2, 3, 2])
level = state.select(
    c1.selectbox,
    "Niveau",
    list(coverage.LEVELS),
    "niveau",
    "terr_niveau",
    default="departement",
    format_func=lambda lv: coverage.LEVEL_LABELS[lv],
)
with c2:
    mention = ui.mention_select("terr_mention")
with c3:
    forme = ui.forme_select("terr_forme")
provisoires = ui.opening_switch("terr_provisoires")
params = ui.access_params("terr")
costs_bytes, ages_bytes = ui.file_uploads("terr", data, ctx.region)
pop = ui.population_choice(ctx)
setup = ui.population_setup(ctx.region, pop)
rule = ui.opening_rule(ctx, provisoires)
extra = {"pop": pop, "provisoires": provisoires}
key = ui.params_key(params)
common = (store_key, date_key, ctx.region)
stamp = f"{ctx.date:%Y-%m-%d}_{mention}_{level}"
st.caption(
    f"{rule.describe()} {setup.caption()} Paris, Lyon et Marseille sont mesurées depuis leurs "
    "arrondissements (niveau « Commune ou arrondissement »), qui s'additionnent exactement en "
    "la commune. Populations légales de l'Insee : page Carte."
)

# ----------------------------------------------------------------- table of territories
st.subheader(f"{coverage.LEVEL_LABELS[level]}s : {formats.mention(mention)}")
empty = ui.no_offer_message(data, mention, forme, rule)
if empty:
    st.info(empty)
else:
    table = ui.territory_table(
        data, *common, level, mention, forme, key, costs_bytes, ages_bytes, **extra
    )
    shown = table.drop("mention")
    show_table(shown, "terr_table", stem=f"territoires_{stamp}",
               sheets={"territoires": table}, height=min(420, 38 + 35 * shown.height))

    # ------------------------------------------------------- communes left without access
    st.subheader(f"Communes à plus de {ui.fr(params.beyond_min)} minutes")
    beyond = ui.beyond_table(
        data, *common, mention, forme, key, costs_bytes, ages_bytes, **extra
    )
    if beyond.height == 0:
        st.success(
            f"Toutes les communes ont un établissement à {ui.fr(params.beyond_min)} minutes ou "
            "moins."
        )
    else:
        st.caption(
            f"{formats.integer(beyond.height)} communes, {formats.integer(beyond['population'].sum())} habitants "
            "(dénominateur de la mention) ; les plus peuplées d'abord. Temps vide : aucun "
            "établissement accessible."
        )
        show_table(
            beyond.drop("mention"),
            "terr_beyond",
            stem=f"communes_au_dela_{stamp}",
            height=300,
            overrides={
                "nom": formats.Format("Commune", width="medium", key=True),
                "finess_eg": formats.Format("FINESS le plus proche", width="small"),
                "raison_sociale": formats.Format("Établissement le plus proche", width="medium"),
            },
        )
    ui.method_notes(
        ["etablissements", "unites", "lits", "places", "fermes_temporairement"],
        "établissements, unités, lits et places",
    )
    shown_indicators = [
        "taux_100k",
        "temps_plus_proche",
        "distance_plus_proche",
        "acces_e2sfca",
        "acces_2sfca",
        *(["ratio_mediane"] if level == "commune" else []),
        "part_seuil",
        "part_au_dela",
    ]
    for indicator in shown_indicators:
        ui.method_note(indicator)

# ------------------------------------------------------------------- presence matrix
st.subheader("Présence des mentions")
presence = ui.presence_table(data, *common, level, forme, provisoires)
st.caption("Nombre d'établissements offrant chaque mention ; 0 : mention absente du territoire.")
show_table(
    presence,
    "terr_presence",
    stem=f"presence_{level}_{ctx.date:%Y-%m-%d}",
    height=min(420, 38 + 35 * presence.height),
    overrides={
        "nom": formats.Format("Territoire", width="medium", key=True),
        **{
            m.code: formats.Format(m.court, formats.INTEGER, help=m.libelle)
            for m in nomenclature.MENTIONS
        },
    },
)
ui.method_note("presence")

# ----------------------------------------------------------------------- portrait
st.subheader("Portrait d'un territoire")
names = dict(zip(presence["territoire"].to_list(), presence["nom"].to_list(), strict=True))
codes = list(names)
default = codes.index("75056") if "75056" in codes else 0
chosen = st.selectbox(
    "Territoire",
    options=codes,
    index=default,
    format_func=lambda c: f"{names[c]} ({c})",
    key="terr_portrait",
)
portrait = ui.portrait_table(
    data, *common, level, chosen, forme, key, costs_bytes, ages_bytes, **extra
)
shown = portrait.drop("territoire", "nom")
portrait_stem = f"portrait_{level}_{chosen}_{ctx.date:%Y-%m-%d}"
show_table(
    shown,
    "terr_portrait_table",
    stem=portrait_stem,
    sheets=lambda: {
        "portrait": portrait, "presence": presence.filter(pl.col("territoire") == chosen)
    },
    height=38 + 35 * shown.height,
)
ui.method_notes(
    [
        "etablissements",
        "unites",
        "lits",
        "places",
        "taux_100k",
        "temps_plus_proche",
        "distance_plus_proche",
        "acces_e2sfca",
        "acces_2sfca",
        "part_seuil",
        "part_au_dela",
    ],
    "indicateurs du portrait",
)
