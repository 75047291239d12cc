"""Objectifs (OQOS): implantations authorised, described and requested per zone, against the
regional health plan's bounds."""

from __future__ import annotations

import altair as alt
import polars as pl
import streamlit as st

from analysis.io import oqos_files
from analysis.model import formats
from analysis.transition import oqos
from ui import charts, state
from ui import oqos as ui_oqos
from ui import territory as ui
from ui.common import demo_banner, page_context, show_table

st.title("Objectifs (OQOS)")
st.caption(
    "Par zone d'implantation, mention et forme : les implantations autorisées, décrites dans "
    "le ROR et demandées, face aux bornes du schéma régional de santé (objectifs quantifiés "
    "de l'offre de soins)."
)

ctx = page_context()
demo_banner(ctx)
data, store_key, date_key = ui.cached_tables(ctx)
ui_oqos.files_panel(ctx)
inputs = ui_oqos.inputs(ctx)
if inputs is None:
    st.info(
        "Aucun objectif pour ce magasin : téléversez le fichier des objectifs (zone, mention, "
        "forme, min, max) dans « Fichiers » ci-dessus, avec votre zonage (sinon les "
        "départements de la région). Format : docs/oqos.md."
    )
    st.stop()
if inputs.fictif:
    kinds = ", ".join(oqos_files.KINDS[k] for k in oqos_files.KINDS if k in inputs.fictif)
    st.warning(
        f"**Fichiers fictifs** ({kinds}) : illustration de la démonstration, sans rapport "
        "avec un schéma régional de santé réel.",
        icon="⚠️",
    )

provisoires = ui.opening_switch("oqos_provisoires")
rule = ui.opening_rule(ctx, provisoires)
result = ui_oqos.result(ctx, data, inputs, provisoires)
status = result.status
st.caption(f"{rule.describe()} {ui_oqos.md(inputs.caption())}")
for line in (*inputs.notes, *result.notes):
    st.caption(f"Remarque : {ui_oqos.md(line)}.")

totals = oqos.status_totals(status)
m = st.columns(5)
m[0].metric("Objectifs", formats.integer(status.height))
for col, code in zip(m[1:4], oqos.STATUSES, strict=True):
    col.metric(f"{oqos.SYMBOLS[code]} {oqos.STATUSES[code]}", formats.integer(totals[code]))
pending = result.detail.filter(pl.col("type") == oqos.DEMANDEE)["site"].n_unique()
m[4].metric(
    "Demandes en attente",
    formats.integer(pending) if result.applications_known else formats.EMPTY,
    help="Sites ayant une demande d'autorisation déposée et non décidée à la date."
    + ("" if result.applications_known else " Aucun fichier de demandes : inconnu."),
)
ui_oqos.method_note(inputs, ctx.date)

# ------------------------------------------------------------------------------- matrix
st.subheader("Zones × mentions")
columns = oqos.target_columns(status)
cells = oqos.matrix(status, columns)
zones = oqos.zone_labels(inputs.zoning)
drawn = set(cells["libelle_zone"].to_list())
zone_order = [z for z in zones["libelle_zone"].to_list() if z in drawn]
column_order = [oqos.column_label(m_, f) for m_, f in columns]
legend = "{" + ", ".join(
    f"'{code}': '{oqos.SYMBOLS[code]} {label}'" for code, label in oqos.STATUSES.items()
) + "}"
base = alt.Chart(cells.to_pandas()).encode(
    x=alt.X("colonne:N", sort=column_order, title=None,
            axis=alt.Axis(orient="top", labelAngle=-45, labelLimit=220, labelOverlap=False)),
    y=alt.Y("libelle_zone:N", sort=zone_order, title=None,
            axis=alt.Axis(labelLimit=320, labelOverlap=False)),
)
rect = base.mark_rect(stroke="white", strokeWidth=1.5).encode(
    color=alt.Color(
        "statut:N",
        title="Statut",
        scale=alt.Scale(domain=list(oqos.STATUSES), range=list(oqos.STATUS_COLORS.values())),
        legend=alt.Legend(orient="bottom", labelExpr=f"{legend}[datum.label]"),
    ),
    tooltip=[
        alt.Tooltip("libelle_zone:N", title="Zone"),
        alt.Tooltip("colonne:N", title="Mention"),
        alt.Tooltip("autorisees:Q", title="Autorisées"),
        alt.Tooltip("decrites:Q", title="Décrites (ROR)"),
        alt.Tooltip("min:Q", title="Minimum"),
        alt.Tooltip("max:Q", title="Maximum"),
        alt.Tooltip("libelle_marge:N", title="Marge"),
    ],
)
text = base.mark_text(fontSize=12, color="#111111").encode(text="texte:N")
# the height holds the rows (28 px each), the slanted mention labels above and the legend
chart = (rect + text).properties(height=28 * len(zone_order) + 200)
charts.draw(
    chart,
    f"Matrice des objectifs : {len(zone_order)} zones en lignes, {len(columns)} mentions (et "
    f"formes) en colonnes ; chaque case donne le nombre d'implantations autorisées et un "
    f"signe de statut (▼ sous le minimum : {totals[oqos.SOUS]}, ✓ dans la cible : "
    f"{totals[oqos.DANS]}, ▲ au-dessus du maximum : {totals[oqos.AU_DESSUS]}) ; cases vides : "
    "pas d'objectif. Le détail est dans le tableau des objectifs.",
    table=oqos.with_marge_text(status),
    table_label="objectifs de la matrice",
)
st.caption(
    "Chaque case : implantations autorisées et signe du statut — ▼ sous le minimum, ✓ dans "
    "la cible, ▲ au-dessus du maximum ; case vide : pas d'objectif pour cette zone et cette "
    "mention. Une colonne « · HC » ou « · HJ » porte un objectif par forme."
)

st.subheader("Tableau des objectifs")
show_table(
    oqos.with_marge_text(status),
    "oqos_objectifs",
    stem=f"objectifs_oqos_{ctx.date.isoformat()}",
    sheets=lambda: {"objectifs": result.status, "implantations": result.detail,
                    "hors zonage": result.outside},
    height=420,
)

# -------------------------------------------------------------------------------- map
st.subheader("Carte des zones pour une mention")
mentions = list(dict.fromkeys(m_ for m_, _ in columns))
c1, c2 = st.columns(2)
with c1:
    mention = state.select(st.selectbox, "Mention SMR", mentions, "mention", "oqos_mention",
                           format_func=formats.mention_choice)
formes = [f for m_, f in columns if m_ == mention]
with c2:
    forme = state.select(
        st.selectbox, "Forme de l'objectif", formes, "forme", "oqos_forme",
        format_func=lambda f: f"{oqos.FORME_LABELS[f]} ({f})" if f != oqos.ALL_FORMES
        else oqos.FORME_LABELS[f],
    )
values = oqos.map_values(status, mention, forme)
by_zone = {r["zone"]: r for r in values.iter_rows(named=True)}
features = []
for f in ui_oqos.zone_features(ctx.region, inputs, ctx.store):
    r = by_zone.get(f["properties"]["zone"])
    features.append({**f, "properties": {
        **f["properties"],
        "statut": r["statut"] if r else None,
        "texte": r["texte"] if r else "",
        "marge": r["libelle_marge"] if r else "pas d'objectif",
    }})
shapes = alt.Chart(alt.NamedData(name="zones"))
layers = [
    shapes.mark_geoshape(fill="#e6e6e6", stroke="white", strokeWidth=0.8),
    shapes.mark_geoshape(stroke="white", strokeWidth=0.8)
    .transform_filter("isValid(datum.properties.statut)")
    .encode(
        color=alt.Color(
            "properties.statut:N",
            title="Statut",
            scale=alt.Scale(domain=list(oqos.STATUSES),
                            range=list(oqos.STATUS_COLORS.values())),
            legend=alt.Legend(orient="bottom", labelExpr=f"{legend}[datum.label]"),
        ),
        tooltip=[
            alt.Tooltip("properties.libelle_zone:N", title="Zone"),
            alt.Tooltip("properties.texte:N", title="Autorisées"),
            alt.Tooltip("properties.marge:N", title="Marge"),
        ],
    ),
    shapes.mark_text(fontSize=12, color="#111111", fontWeight="bold")
    .transform_filter("isValid(datum.properties.statut)")
    .encode(longitude="properties.lon:Q", latitude="properties.lat:Q",
            text="properties.texte:N"),
]
chart = alt.layer(*layers).project(type="mercator").properties(height=560)
charts.draw(
    ui.vega_spec(chart, {"zones": features}),
    f"Carte des {len(features)} zones pour la mention {formats.mention(mention)}, forme "
    f"{oqos.FORME_LABELS[forme].lower()} : chaque zone porte le nombre d'implantations "
    "autorisées et le signe de son statut ; en gris, pas d'objectif. Les valeurs sont dans "
    "le tableau sous la carte.",
    table=values.select("zone", "libelle_zone", "mention", "forme", "autorisees", "decrites",
                        "demandees", "min", "max", "statut", "libelle_marge"),
    table_label="valeurs de la carte",
)
st.caption(
    f"Légende : couleur et signe du statut (▼ sous le minimum, ✓ dans la cible, ▲ au-dessus "
    f"du maximum), nombre d'implantations autorisées ; zones grises : pas d'objectif. "
    f"{ui_oqos.md(inputs.zoning_caption())}"
)

# ------------------------------------------------------------------- sites behind a cell
st.subheader("Sites derrière une case")
targeted = values["zone"].to_list()
labels = dict(zones.select("zone", "libelle_zone").iter_rows())
if not targeted:
    st.info("Aucun objectif pour cette mention et cette forme.")
    st.stop()
zone = st.selectbox("Zone", targeted, format_func=lambda z: f"{labels.get(z, z)} ({z})",
                    key="oqos_zone")
row = by_zone[zone]
st.markdown(
    f"**{ui_oqos.md(labels.get(zone, zone))} — {formats.mention(mention)}, "
    f"{oqos.FORME_LABELS[forme].lower()}** : {oqos.SYMBOLS[row['statut']]} "
    f"{oqos.STATUSES[row['statut']].lower()}, {row['autorisees']} autorisée(s), "
    f"{row['decrites']} décrite(s) ; {row['libelle_marge']}."
)
sites = oqos.cell_sites(result, zone, mention, forme)
show_table(sites, "oqos_sites", stem=f"oqos_sites_{zone}_{mention}_{forme}")
gaps = ui_oqos.gaps_for(data, store_key, date_key, provisoires)
listed = oqos.cell_gaps(gaps, result.sites, zone, mention)
st.markdown(
    f"**Écarts de la transition** pour cette zone et cette mention ({formats.integer(listed.height)}) : "
    "autorisées non décrites, décrites non autorisées, autorisations SSR sans décision SMR "
    "(toutes formes ; repris de la page Transition)."
)
if listed.height:
    show_table(
        listed.select("finess_eg", "raison_sociale", "mention", "ecart", "detail"),
        "oqos_ecarts",
        stem=f"oqos_ecarts_{zone}_{mention}",
    )
outside = result.outside
if outside.height:
    st.markdown(f"**Hors zonage** ({formats.integer(outside.height)} établissement(s), non comptés)")
    show_table(outside.select("finess_eg", "raison_sociale", "commune_insee"), "oqos_hors_zonage")
st.caption(f"Instantané du {ctx.date:%d/%m/%Y}. {ui_oqos.md(inputs.zoning_caption())}")
