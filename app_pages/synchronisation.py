"""Synchronisation: ROR ↔ ViaTrajectoire status per unit, by département, units to look at."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import altair as alt
import polars as pl
import streamlit as st

from analysis.checks.campaign import history
from analysis.indicators import sync
from analysis.io import store
from analysis.model import formats, privacy
from analysis.present import charts as analysis_charts
from ui import charts, notes
from ui.common import (
    contacts_hidden,
    demo_banner,
    departement_picker,
    downloads,
    manifest_time,
    page_context,
    show_table,
    tables,
)
from ui.progress import transient

#: The unit total of the status tables (« total » alone would not say of what).
UNIT_TOTAL = {"total": formats.Format("Unités", formats.INTEGER)}

st.title("Synchronisation ROR ↔ ViaTrajectoire")
st.caption(
    "Rattachement des unités ViaTrajectoire aux unités du ROR, synchronisation quotidienne et "
    "écarts de valeurs entre les deux répertoires."
)

ctx = page_context()
demo_banner(ctx)

STATUS_ORDER = list(sync.STATUSES)
#: Okabe-Ito colours (analysis.present.charts), told apart with any colour vision: blues for the
#: units that are fine, warm colours for those to look at.
STATUS_COLORS = [analysis_charts.OKABE_ITO[i] for i in (0, 5, 3, 1, 4)]


@st.cache_data(show_spinner="Comparaison ROR ↔ ViaTrajectoire…", max_entries=32)
def status_for(_data: dict, store_path: str, date: str, hour: str) -> pl.DataFrame:
    """Sync status of every unit with its establishment (cached on plain values)."""
    status = sync.unit_status(_data, dt.date.fromisoformat(date), dt.time.fromisoformat(hour))
    return sync.with_establishment(status.lazy(), _data["etablissements"]).collect()


@st.cache_data(show_spinner=False, max_entries=32)
def differences_for(_data: dict, store_path: str, date: str) -> pl.DataFrame:
    """Field-level differences of linked units (cached on plain values)."""
    return sync.field_differences(_data)


data = tables(ctx)
hour = st.columns([2, 5])[0].time_input(
    "Heure de la synchronisation quotidienne ROR → ViaTrajectoire",
    value=sync.DEFAULT_SYNC_TIME,
    step=dt.timedelta(minutes=30),
    help="Une modification faite dans le ROR après la dernière synchronisation est « en "
         "attente » : ViaTrajectoire ne peut pas encore l'avoir.",
    key="synchro_heure",
)
status = status_for(data, str(ctx.store), ctx.date.isoformat(), hour.isoformat())
date_key = ctx.date.isoformat()
last = sync.last_sync(ctx.date, hour)

st.subheader(f"Instantané du {ctx.date:%d/%m/%Y}")
st.caption(f"Dernière synchronisation prise en compte : {last:%d/%m/%Y à %H:%M}.")
overall = sync.status_counts(status, data["etablissements"], by="ensemble").row(0, named=True)
cols = st.columns(6)
cols[0].metric("Taux synchronisé",
               formats.percent(overall["taux_synchronise"]),
               help="(Synchronisées + en attente) ÷ toutes les unités.")
for col, s in zip(cols[1:], STATUS_ORDER, strict=True):
    col.metric(sync.STATUS_SHORT_LABELS[s], formats.integer(overall[s]), help=sync.STATUS_LABELS[s])
late_units = int(status["synchro_en_retard"].sum())
if late_units:
    st.caption(
        f"Dont {formats.integer(late_units)} désynchronisée(s) pour **synchronisation en retard** : "
        "modifiée(s) dans le ROR avant la dernière synchronisation, mais la date de "
        "synchronisation que ViaTrajectoire donne pour l'unité est plus ancienne (les deux "
        "dates sont dans le motif)."
    )

notes.method_notes(["sync_taux_synchronise", "sync_statuts"], "statuts de synchronisation")


@st.cache_data(show_spinner=False, max_entries=16)
def history_for(store_path: str, hour: str, dates: tuple[str, ...],
                mtimes: tuple[float, ...]) -> tuple[pl.DataFrame, list[dt.date]]:
    """Units per status at each date (lazy scans, ``sync.status_history``), and the
    snapshots left out because their files do not match their checksums; cached on the
    dates, their manifest times and the sync hour."""
    left_out: list[dt.date] = []
    with transient("Synchronisation sur tous les instantanés") as bar:
        trend = sync.status_history(
            Path(store_path), dt.time.fromisoformat(hour),
            [dt.date.fromisoformat(d) for d in dates], progress=bar, skipped=left_out,
        )
    return trend, left_out


snapshot_dates = store.list_snapshots(ctx.store)
if len(snapshot_dates) > 1:
    st.subheader("Évolution")
    shown_dates = snapshot_dates
    if len(snapshot_dates) > 92:  # a year of daily snapshots: one point a week
        shown_dates = history.sampled_dates(snapshot_dates, 7, [ctx.date])
        st.caption(f"{len(snapshot_dates)} instantanés : un point par semaine (exact à sa date).")
    keys = tuple(d.isoformat() for d in shown_dates)
    mtimes = tuple(manifest_time(ctx.store, d) for d in keys)
    trend, left_out = history_for(str(ctx.store), hour.isoformat(), keys, mtimes)
    if left_out:
        st.warning(
            "Instantané(s) illisible(s) ou corrompu(s), laissé(s) hors de l'évolution : "
            + ", ".join(d.strftime("%d/%m/%Y") for d in left_out)
            + " (« smr validate » en donne le détail)."
        )
    trend_long = trend.unpivot(index="date", on=STATUS_ORDER, variable_name="statut",
                               value_name="unites").with_columns(
        pl.col("statut").replace_strict(sync.STATUS_LABELS).alias("libelle")
    )
    trend_chart = (
        alt.Chart(trend_long.to_pandas())
        .mark_line()
        .encode(
            x=alt.X("date:T", title="Instantané", axis=alt.Axis(format="%d/%m/%Y")),
            y=alt.Y("unites:Q", title="Unités"),
            color=alt.Color(
                "libelle:N", title="Statut",
                scale=alt.Scale(domain=[sync.STATUS_LABELS[s] for s in STATUS_ORDER],
                                range=STATUS_COLORS),
            ),
            tooltip=[
                alt.Tooltip("date:T", title="Instantané", format="%d/%m/%Y"),
                alt.Tooltip("libelle:N", title="Statut"),
                alt.Tooltip("unites:Q", title="Unités"),
            ],
        )
        .properties(height=260)
    )
    charts.draw(
        trend_chart,
        "Courbes : nombre d'unités dans chaque statut de synchronisation, d'un instantané à "
        f"l'autre ({len(keys)} dates). Les valeurs sont dans le tableau sous le graphique.",
        table=trend.sort("date"),
        table_label="unités par statut et par instantané",
        overrides={
            "date": formats.Format("Instantané", formats.DATE, width="small", key=True),
            **UNIT_TOTAL,
            **{s: formats.Format(sync.STATUS_LABELS[s], formats.INTEGER) for s in sync.STATUSES},
        },
    )

# --- by département ---------------------------------------------------------------------
st.subheader("Par département")
by_dep = sync.status_counts(status, data["etablissements"], by="departement")
long = by_dep.unpivot(index="departement", on=STATUS_ORDER, variable_name="statut",
                      value_name="unites").with_columns(
    pl.col("statut").replace_strict(sync.STATUS_LABELS).alias("libelle"),
    pl.col("statut").replace_strict({s: i for i, s in enumerate(STATUS_ORDER)}).alias("ordre"),
)
chart = (
    alt.Chart(long.to_pandas())
    .mark_bar()
    .encode(
        y=alt.Y("departement:N", title="Département"),
        x=alt.X("unites:Q", title="Unités", stack=True),
        color=alt.Color(
            "libelle:N", title="Statut",
            scale=alt.Scale(domain=[sync.STATUS_LABELS[s] for s in STATUS_ORDER],
                            range=STATUS_COLORS),
        ),
        order=alt.Order("ordre:Q"),
        tooltip=[
            alt.Tooltip("departement:N", title="Département"),
            alt.Tooltip("libelle:N", title="Statut"),
            alt.Tooltip("unites:Q", title="Unités"),
        ],
    )
    .properties(height=max(160, 32 * by_dep.height))
)
charts.draw(
    chart,
    "Barres empilées : unités de chaque département par statut de synchronisation, instantané "
    f"du {ctx.date:%d/%m/%Y}. Les mêmes nombres sont dans le tableau sous le graphique.",
)
show_table(by_dep, "synchro_departements", stem=f"synchronisation_departements_{date_key}",
           overrides=UNIT_TOTAL)

with st.expander("Par établissement"):
    by_eg = sync.status_counts(status, data["etablissements"], by="finess_eg")
    problems = pl.col(sync.DESYNCHRONISE) + pl.col(sync.ABSENT_VT) + pl.col(sync.ABSENT_ROR)
    show_table(
        by_eg.with_columns(problems.alias("a_regarder"))
        .sort(["a_regarder", "finess_eg"], descending=[True, False]),
        "synchro_etablissements",
        stem=f"synchronisation_etablissements_{date_key}",
        overrides=UNIT_TOTAL,
    )

# --- units to look at -------------------------------------------------------------------
st.subheader("Unités à regarder")
chosen = st.multiselect(
    "Statuts",
    options=STATUS_ORDER,
    default=[sync.DESYNCHRONISE, sync.ABSENT_VT, sync.ABSENT_ROR],
    format_func=lambda s: sync.STATUS_LABELS[s],
    key="synchro_statuts",
    placeholder="Choisir un ou plusieurs statuts",
)
dep = departement_picker(st.selectbox, status["departement"].unique().to_list(),
                         "synchro_departement")
selected = status.filter(pl.col("statut").is_in(chosen))
if dep is not None:
    selected = selected.filter(pl.col("departement") == dep)
st.caption(f"{formats.integer(selected.height)} unités.")
show_table(
    selected.select(
        "departement", "finess_eg", "raison_sociale", "uo_id", "vt_id",
        pl.coalesce("nom_ror", "nom_vt").alias("nom"), "statut", "motif", "date_maj_ror",
        "date_synchronisation",
    ),
    "synchro_unites",
    overrides={"nom": formats.Format("Nom de l'unité", width="medium"),
               "date_synchronisation": formats.Format("Dernière synchro VT", formats.DATETIME,
                                                      width="small")},
)

diffs = differences_for(data, str(ctx.store), ctx.date.isoformat())
shown = diffs.join(selected.select("vt_id"), on="vt_id", how="semi")
if contacts_hidden():  # a compared field may be a phone number: never shown then
    shown = privacy.mask_report_values(
        shown.rename({"champ": "column", "valeur_ror": "value"})
    ).rename({"column": "champ", "value": "valeur_ror"})
    shown = privacy.mask_report_values(
        shown.rename({"champ": "column", "valeur_vt": "value"})
    ).rename({"column": "champ", "value": "valeur_vt"})
st.markdown("**Écarts de valeurs** (unités rattachées de la sélection)")
if shown.height:
    labels = {f.champ: f.label for f in sync.COMPARED_FIELDS}
    show_table(
        shown.with_columns(pl.col("champ").replace_strict(labels)),
        "synchro_ecarts",
        stem=f"synchronisation_ecarts_{date_key}",
        overrides={"valeur_ror": formats.Format("Valeur ROR", width="medium"),
                   "valeur_vt": formats.Format("Valeur VT", width="medium")},
    )
else:
    st.caption("Aucun écart de valeur pour la sélection.")
notes.method_note("sync_ecarts")

downloads(
    st,
    lambda: status.select(
        "uo_id", "vt_id", "finess_eg", "raison_sociale", "departement", "statut", "motif",
        "ecarts", "nom_ror", "nom_vt", "date_maj_ror", "date_synchronisation",
    ),
    f"synchronisation_{date_key}",
    "synchro_statuts_fichiers",
    label="Télécharger les statuts de toutes les unités",
)
