"""Home page: headline figures of the selected snapshot and the regional report to download."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import altair as alt
import polars as pl
import streamlit as st

from analysis.indicators import opening
from analysis.indicators.opening import OpeningRule
from analysis.model import formats
from analysis.present import report, summary
from ui import charts, notes
from ui.common import demo_banner, fr_axis, page_context, show_table, store_stamp, tables
from ui.progress import transient

st.title("SMR Workbench")
st.caption(
    "Offre de soins médicaux et de réadaptation (réforme SSR → SMR du 1er juin 2023) : "
    "couverture, accessibilité et campagne de mise à jour ROR / ViaTrajectoire."
)

ctx = page_context()
demo_banner(ctx)
rule = OpeningRule(ctx.date)  # the open offer, as in the report and the other pages
full = tables(ctx)
data = opening.open_tables(full, rule)
figures = summary.headline(data, ctx.manifest)

st.subheader(f"Instantané du {ctx.date:%d/%m/%Y}")
cols = st.columns(5)
cols[0].metric("Établissements SMR", formats.integer(figures["etablissements_smr"]),
               help="Entités géographiques ayant au moins une offre décrite.")
cols[1].metric("Unités", formats.integer(figures["unites"]))
cols[2].metric("Lits", formats.integer(figures["lits"]), help="Hospitalisation complète et de semaine.")
cols[3].metric("Places", formats.integer(figures["places"]), help="Hospitalisation de jour et de nuit.")
cols[4].metric("Lignes rejetées", formats.integer(figures["rejetes"]),
               help="Lignes des fichiers importés écartées par la validation.")
closed = opening.provisional_sentence(
    opening.provisional_summary(opening.provisional_offers(full, ctx.date)), rule
)
st.caption(" ".join(filter(None, [rule.describe(), closed])))
if figures["avertissements"]:
    st.caption(
        f"{formats.integer(figures['avertissements'])} avertissements de validation "
        "(lignes conservées : e-mails ou téléphones mal formés, dates illisibles…)."
    )
notes.method_notes(
    ["etablissements_smr", "unites", "lits", "places", "lignes_rejetees", "avertissements"],
    "chiffres clés",
)

st.subheader("Capacités par mention")
by_mention = summary.capacity_by_mention(data)
left, right = st.columns([1, 1])
with left:
    long = by_mention.unpivot(
        index=["mention", "libelle", "court"], on=["lits", "places"], variable_name="type",
        value_name="nombre",
    ).with_columns(pl.col("type").replace({"lits": "Lits", "places": "Places"}))
    chart = (
        alt.Chart(long.to_pandas())
        .mark_bar()
        .encode(
            y=alt.Y("court:N", sort=by_mention["court"].to_list(), title=None,
                   axis=alt.Axis(labelLimit=220)),
            x=alt.X("nombre:Q", axis=fr_axis("Lits et places"), stack=True),
            color=alt.Color("type:N", title="Capacité",
                            scale=alt.Scale(domain=["Lits", "Places"])),
            tooltip=[
                alt.Tooltip("court:N", title="Mention"),
                alt.Tooltip("type:N", title="Type"),
                alt.Tooltip("nombre:Q", title="Nombre", format=",d"),
            ],
        )
        .properties(height=360)
    )
    charts.draw(
        chart,
        f"Graphique en barres : lits et places installés par mention SMR, instantané du "
        f"{ctx.date:%d/%m/%Y}. Les mêmes nombres sont dans le tableau à droite.",
    )
with right:
    show_table(
        by_mention.select(pl.col("mention").alias("code"), pl.exclude("libelle", "court")),
        "accueil_mentions",
        stem=f"capacites_par_mention_{ctx.date.isoformat()}",
        overrides={"code": formats.Format("Code", width="small", key=True)},
    )
missing = by_mention.filter(by_mention["etablissements"] == 0)
if missing.height:
    st.info("Mentions sans aucune offre dans cet instantané : "
            + ", ".join(missing["court"].to_list()) + ".")
notes.method_note("capacite_par_mention")

# --- regional report --------------------------------------------------------------------


@st.cache_resource(show_spinner=False, max_entries=8)
def regional_report(
    store_path: str, date: str, region: str, stamp: tuple
) -> report.RegionalReport:
    """The report of the selected snapshot; ``stamp`` (snapshot dates and manifest times)
    renews it when the store changes, since the campaign progress reads every snapshot.
    Its progress shows when it is computed during a run (« Préparer le rapport »)."""
    with transient("Préparation du rapport régional") as bar:
        return report.build_report(Path(store_path), dt.date.fromisoformat(date), region,
                                   progress=bar)


st.subheader("Rapport régional")
st.caption(
    "Chiffres clés, couverture par département et mention, accessibilité (population à 30 "
    "minutes, médiane E2SFCA), avancement de la campagne et synchronisation, avec la note de "
    "méthode de chaque indicateur : les mêmes calculs que les commandes « smr coverage », "
    "« smr access », « smr campaign » et « smr sync » (commande « smr report »)."
)
key = (str(ctx.store), ctx.date.isoformat(), ctx.region, store_stamp(ctx.store))
name = f"rapport_smr_{ctx.region}_{ctx.date.isoformat()}"
r1, r2, r3 = st.columns([1, 1, 3])
prepared = st.session_state.setdefault("accueil_rapport_prepare", set())
if key not in prepared and r3.button(
    "Préparer le rapport", key="accueil_rapport_preparer",
    help="Calcule le rapport en montrant l'avancement ; sans cela il est calculé au clic sur "
    "un téléchargement.",
):
    regional_report(*key)
    prepared.add(key)
    r3.success("Rapport prêt : téléchargez-le.")
r1.download_button(
    "Rapport (Excel)",
    lambda: report.report_excel(regional_report(*key)),
    file_name=f"{name}.xlsx",
    mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    key="accueil_rapport_xlsx",
    icon=":material/table_view:", on_click="ignore",
)
r2.download_button(
    "Rapport (HTML)",
    lambda: report.report_html(regional_report(*key)).encode("utf-8"),
    file_name=f"{name}.html",
    mime="text/html",
    key="accueil_rapport_html",
    icon=":material/description:", on_click="ignore",
)
