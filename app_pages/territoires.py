"""Territoires: indicator tables per level, communes without access, presence, portrait."""

from __future__ import annotations

import polars as pl
import streamlit as st

from analysis import coverage, export, nomenclature
from ui import state
from ui import territory as ui
from ui.common import csv_download, demo_banner, excel_download, fmt_int, page_context

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
params = ui.access_params("terr")
costs_bytes, ages_bytes = ui.file_uploads("terr", data, ctx.region)
key = ui.params_key(params)
common = (store_key, date_key, ctx.region)
stamp = f"{ctx.date:%Y-%m-%d}_{mention}_{level}"

# ----------------------------------------------------------------- table of territories
st.subheader(f"{coverage.LEVEL_LABELS[level]}s : {nomenclature.mention_label(mention)}")
empty = ui.no_offer_message(data, mention, forme)
if empty:
    st.info(empty)
else:
    table = ui.territory_table(data, *common, level, mention, forme, key, costs_bytes, ages_bytes)
    shown = table.drop("mention")
    st.dataframe(
        shown,
        hide_index=True,
        width="stretch",
        column_config=ui.column_config(shown.columns),
        height=min(420, 38 + 35 * shown.height),
    )
    d1, d2, _ = st.columns([1, 1, 4])
    csv_download(d1, "Télécharger (CSV)", table, f"territoires_{stamp}.csv", key="terr_csv")
    excel_download(d2, "Télécharger (Excel)", {"territoires": table},
                   f"territoires_{stamp}.xlsx", key="terr_xlsx")

    # ------------------------------------------------------- communes left without access
    st.subheader(f"Communes à plus de {ui.fr(params.beyond_min)} minutes")
    beyond = ui.beyond_table(data, *common, mention, forme, key, costs_bytes, ages_bytes)
    if beyond.height == 0:
        st.success(
            f"Toutes les communes ont un établissement à {ui.fr(params.beyond_min)} minutes ou "
            "moins."
        )
    else:
        st.caption(
            f"{fmt_int(beyond.height)} communes, {fmt_int(beyond['population'].sum())} habitants "
            "(dénominateur de la mention) ; les plus peuplées d'abord. Temps vide : aucun "
            "établissement accessible."
        )
        st.dataframe(
            beyond.drop("mention"),
            hide_index=True,
            width="stretch",
            height=300,
            column_config={
                "commune_insee": st.column_config.TextColumn("Code"),
                "nom": st.column_config.TextColumn("Commune"),
                "departement": st.column_config.TextColumn("Dép."),
                "epci_nom": st.column_config.TextColumn("EPCI"),
                "population": st.column_config.NumberColumn("Population", format="localized"),
                "finess_eg": st.column_config.TextColumn("FINESS le plus proche"),
                "raison_sociale": st.column_config.TextColumn("Établissement le plus proche"),
                "minutes": st.column_config.NumberColumn("Minutes", format="%.1f"),
                "km": st.column_config.NumberColumn("km à vol d'oiseau", format="%.1f"),
            },
        )
        st.download_button(
            "Télécharger la liste (CSV)",
            lambda: export.csv_bytes(beyond),
            file_name=f"communes_au_dela_{stamp}.csv",
            mime="text/csv",
            key="terr_beyond_csv", on_click="ignore",
        )
    ui.method_notes(
        ["etablissements", "unites", "lits", "places"], "établissements, unités, lits et places"
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
presence = ui.presence_table(data, *common, level, forme)
st.caption("Nombre d'établissements offrant chaque mention ; 0 : mention absente du territoire.")
st.dataframe(
    presence,
    hide_index=True,
    width="stretch",
    height=min(420, 38 + 35 * presence.height),
    column_config={
        "territoire": st.column_config.TextColumn("Code"),
        "nom": st.column_config.TextColumn("Territoire"),
        "mentions_presentes": st.column_config.NumberColumn("Mentions présentes"),
        **{
            m.code: st.column_config.NumberColumn(m.court, help=m.libelle)
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
portrait = ui.portrait_table(data, *common, level, chosen, forme, key, costs_bytes, ages_bytes)
shown = portrait.drop("territoire", "nom")
st.dataframe(
    shown,
    hide_index=True,
    width="stretch",
    column_config=ui.column_config(shown.columns),
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
p1, p2, _ = st.columns([1, 1, 4])
portrait_stem = f"portrait_{level}_{chosen}_{ctx.date:%Y-%m-%d}"
csv_download(p1, "Portrait (CSV)", portrait, f"{portrait_stem}.csv", key="terr_portrait_csv")
excel_download(
    p2,
    "Portrait (Excel)",
    lambda: {"portrait": portrait, "presence": presence.filter(pl.col("territoire") == chosen)},
    f"{portrait_stem}.xlsx",
    key="terr_portrait_xlsx",
)
