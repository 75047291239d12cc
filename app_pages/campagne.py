"""Campagne: completion of the ROR / ViaTrajectoire update campaign, progress, to-do lists."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import streamlit as st

from analysis import campaign, store
from analysis import charts as analysis_charts
from analysis.errors import StoreError
from ui import charts, notes
from ui.common import contact_toggle, demo_banner, fmt_int, page_context, tables

st.title("Campagne de mise à jour ROR / ViaTrajectoire")
st.caption(
    "Qui a vérifié quoi, ce qui reste à faire, l'avancement d'un instantané à l'autre, et la "
    "liste des points à traiter à envoyer à chaque établissement."
)

ctx = page_context()
demo_banner(ctx)


#: Beyond this many snapshots the progress chart offers one point per week by default.
HISTORY_DAILY_MAX = 92


def _stamp(store_path: Path) -> tuple[tuple[str, float], ...]:
    """Snapshot dates with their manifest times: the history cache key."""
    return tuple(
        (d.isoformat(), (store_path / d.isoformat() / "manifest.json").stat().st_mtime)
        for d in store.list_snapshots(store_path)
    )


@st.cache_data(show_spinner="Évaluation des points de la campagne…", max_entries=32)
def results_for(_data: dict, store_path: str, date: str, start: str | None,
                stamp: tuple) -> pl.DataFrame:
    """Rule results of the selected snapshot (cached on plain values)."""
    params = campaign.CampaignParams(start=dt.date.fromisoformat(start) if start else None)
    return campaign.evaluate(_data, dt.date.fromisoformat(date), params)


@st.cache_data(show_spinner="Évaluation de l'instantané précédent…", max_entries=16)
def stored_results_for(store_path: str, date: str, start: str | None,
                       stamp: tuple) -> pl.DataFrame:
    """Rule results of another snapshot of the store, read with only the needed columns."""
    params = campaign.CampaignParams(start=dt.date.fromisoformat(start) if start else None)
    return campaign.evaluate_snapshot(Path(store_path), dt.date.fromisoformat(date), params)


@st.cache_data(show_spinner=False, max_entries=4096)
def verified(store_path: str, date: str, mtime: float) -> bool:
    """True when the snapshot's files match their checksums (cached per snapshot version)."""
    return not store.verify_snapshot(Path(store_path) / date)


@st.cache_data(show_spinner="Calcul de l'avancement sur tous les instantanés…", max_entries=16)
def history_for(store_path: str, start: str | None,
                stamp: tuple) -> tuple[pl.DataFrame, list[str]]:
    """Completion of each rule at each snapshot date (lazy scans over the whole store, see
    ``campaign.progress_history``), and the snapshots left out because their files do not
    match their checksums. Cached on the snapshot dates and manifest times."""
    good = [day for day, mtime in stamp if verified(store_path, day, mtime)]
    skipped = [day for day, _ in stamp if day not in set(good)]
    params = campaign.CampaignParams(start=dt.date.fromisoformat(start) if start else None)
    history = campaign.progress_history(
        Path(store_path), params, dates=[dt.date.fromisoformat(d) for d in good]
    ) if good else pl.DataFrame(schema=campaign.PROGRESS_SCHEMA)
    return history, skipped


@st.cache_data(show_spinner="Préparation du classeur…", max_entries=16)
def workbook_for(_results: pl.DataFrame, key: tuple, per: str, finess: str | None,
                 contacts: bool) -> bytes:
    """The to-do workbook (cached on the results' key and the options)."""
    return campaign.todo_excel(_results, per=per, finess=finess, show_contacts=contacts)


def pct(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.1f} %".replace(".", ",")


dates = store.list_snapshots(ctx.store)
default_start = campaign.campaign_start(ctx.manifest) or dates[0]
c1, c2 = st.columns([2, 5])
start = c1.date_input(
    "Début de la campagne",
    value=default_start,
    format="DD/MM/YYYY",
    help="Une fiche mise à jour depuis cette date compte comme vérifiée, même sans changement.",
    key="campagne_debut",
)
stamp = _stamp(ctx.store)
key = (str(ctx.store), ctx.date.isoformat(), start.isoformat(), stamp)
results = results_for(tables(ctx), *key)
labels = dict(zip(campaign.rules_frame()["regle"], campaign.rules_frame()["libelle"],
                  strict=True))

# --- headline -------------------------------------------------------------------------
overall = campaign.completion_overall(results)
by_rule = campaign.completion_by_rule(results)
rate_of = dict(zip(by_rule["regle"], by_rule["taux"], strict=True))
st.subheader(f"Instantané du {ctx.date:%d/%m/%Y}")
m = st.columns(5)
m[0].metric("Points conformes", pct(overall["taux"]),
            help="Part des points évalués (toutes règles, toutes entités) qui sont ok.")
m[1].metric("Points à traiter", fmt_int(overall["reste"]),
            help=f"{fmt_int(overall['manquants'])} manquants, "
                 f"{fmt_int(overall['invalides'])} invalides.")
m[2].metric("Établissements à jour",
            f"{fmt_int(overall['etablissements_complets'])} / "
            f"{fmt_int(overall['etablissements'])}",
            help="Établissements dont tous les points sont ok.")
m[3].metric("Établissements vérifiés", pct(rate_of.get("eg_verifie")),
            help="Fiches établissement mises à jour depuis le début de la campagne.")
m[4].metric("Unités VT synchronisées", pct(rate_of.get("vt_synchronise")),
            help="Part des unités ViaTrajectoire synchronisées ou en attente de la prochaine "
                 "synchronisation ; les unités du ROR absentes de ViaTrajectoire sont comptées "
                 "par le point « Unité présente dans ViaTrajectoire ».")

notes.method_notes(
    [
        "campagne_taux_conformes",
        "campagne_points_a_traiter",
        "campagne_etablissements_a_jour",
        "campagne_taux_regle",
    ],
    "indicateurs de la campagne",
)

# --- progress -------------------------------------------------------------------------
st.subheader("Avancement par point de contrôle")
resolution = "tous"
if len(stamp) > HISTORY_DAILY_MAX:
    resolution = st.radio(
        "Points de l'avancement",
        options=["semaine", "tous"],
        format_func=lambda r: {"semaine": "un par semaine", "tous": "tous les instantanés"}[r],
        horizontal=True,
        key="campagne_resolution",
        help=f"{len(stamp)} instantanés : un point par semaine (et celui choisi) se calcule "
        "bien plus vite ; chaque point est exact pour sa date.",
    )
shown_dates = (
    {d.isoformat() for d in campaign.sampled_dates(dates, 7, [ctx.date])}
    if resolution == "semaine"
    else {d for d, _ in stamp}
)
history, skipped = history_for(
    str(ctx.store), start.isoformat(), tuple(s for s in stamp if s[0] in shown_dates)
)
if skipped:
    st.warning(
        "Instantané(s) illisible(s) ou corrompu(s), laissé(s) hors de l'avancement : "
        + ", ".join(dt.date.fromisoformat(d).strftime("%d/%m/%Y") for d in skipped)
        + " (« smr validate » en donne le détail)."
    )
if history["date"].n_unique() > 1:
    rules = campaign.rules_frame()
    progress_table = (
        history.join(rules.select("regle", "libelle"), on="regle")
        .with_columns((pl.col("taux") * 100).alias("taux"))
        .pivot(on="libelle", index="date", values="taux")
        .sort("date")
    )
    charts.draw(
        analysis_charts.campaign_progress(history, rules, campaign.LEVELS),
        "Trois petits graphiques, un par niveau (établissement, unité du ROR, unité "
        "ViaTrajectoire) : part des entités conformes à chaque point de contrôle, en "
        f"pourcentage, d'un instantané à l'autre ({history['date'].n_unique()} dates). "
        "Les valeurs sont dans le tableau sous le graphique.",
        table=progress_table,
        table_label="entités conformes (%) par instantané et point de contrôle",
        column_config={
            "date": st.column_config.DateColumn("Instantané", format="DD/MM/YYYY"),
            **{
                c: st.column_config.NumberColumn(c, format="%.1f")
                for c in progress_table.columns
                if c != "date"
            },
        },
        width="content",
    )
    st.caption("Cliquer un point de contrôle dans une légende le met en évidence.")
else:
    st.info("Un seul instantané dans le magasin : l'avancement s'affichera dès le suivant.")

st.dataframe(
    by_rule.select(
        pl.col("libelle").alias("Point de contrôle"),
        pl.col("niveau").replace_strict(campaign.LEVELS).alias("Niveau"),
        pl.col("conformes").alias("Conformes"),
        pl.col("manquants").alias("Manquants"),
        pl.col("invalides").alias("Invalides"),
        pl.col("total").alias("Entités"),
        (pl.col("taux") * 100).alias("Taux (%)"),
    ),
    hide_index=True,
    width="stretch",
    column_config={"Taux (%)": st.column_config.NumberColumn(format="%.1f")},
)

# --- by territory / status / establishment ----------------------------------------------
st.subheader("Par département, statut et établissement")


def rate_table(by: str) -> pl.DataFrame:
    table = campaign.completion_table(results, by)
    rule_cols = [c for c in table.columns if c in labels]
    return table.with_columns(
        (pl.col("taux") * 100).alias("taux"), *[(pl.col(c) * 100) for c in rule_cols]
    ).rename({"total": "points", "reste": "à traiter", "taux": "taux global (%)",
              **{c: labels[c] for c in rule_cols}})


percent_config = {
    name: st.column_config.NumberColumn(format="%.0f")
    for name in ["taux global (%)", *labels.values()]
}
t1, t2, t3 = st.tabs(["Départements", "Statuts", "Établissements"])
with t1:
    st.dataframe(rate_table("departement"), hide_index=True, width="stretch",
                 column_config=percent_config)
with t2:
    st.dataframe(
        rate_table("statut").with_columns(
            pl.col("statut").replace({"public": "Public", "prive_non_lucratif":
                                      "Privé non lucratif", "prive_lucratif": "Privé lucratif"})
        ),
        hide_index=True, width="stretch", column_config=percent_config,
    )
with t3:
    ranking = campaign.establishment_ranking(results)
    st.caption("Classés par nombre de points restant à traiter.")
    st.dataframe(
        ranking.with_columns((pl.col("taux") * 100).alias("taux")).rename(
            {"taux": "taux (%)", "reste": "à traiter", "total": "points"}
        ),
        hide_index=True,
        width="stretch",
        column_config={"taux (%)": st.column_config.NumberColumn(format="%.0f")},
    )

# --- changes since the previous snapshot -------------------------------------------------
earlier = [d for d in dates if d < ctx.date]
changes = None
if earlier:
    previous = earlier[-1]
    st.subheader(f"Changements depuis le {previous:%d/%m/%Y}")
    try:
        before = stored_results_for(str(ctx.store), previous.isoformat(), start.isoformat(),
                                    stamp)
        changes = campaign.changes_between(before, results)
    except StoreError as exc:
        st.warning(f"Instantané précédent illisible, changements non calculés : {exc}")
if changes is not None:
    summary = campaign.changes_by_establishment(changes)
    totals = {c: int(summary[c].sum()) for c in campaign.CHANGE_LABELS} if summary.height else {}
    k = st.columns(4)
    k[0].metric("Points corrigés", fmt_int(totals.get(campaign.CORRIGE, 0)))
    k[1].metric("Nouveaux manques", fmt_int(totals.get(campaign.NOUVEAU_MANQUE, 0)),
                help="Points ok à l'instantané précédent, manquants ou invalides maintenant.")
    k[2].metric("Nouvelles entités", fmt_int(totals.get(campaign.NOUVELLE_ENTITE, 0)))
    k[3].metric("Entités disparues", fmt_int(totals.get(campaign.ENTITE_SUPPRIMEE, 0)))
    if summary.height:
        st.dataframe(summary.rename(campaign.CHANGE_LABELS), hide_index=True, width="stretch")
    notes.method_note("campagne_changements")

# --- drill-down -------------------------------------------------------------------------
st.subheader("Détail d'un établissement")
show_contacts = contact_toggle(
    "Afficher les contacts (noms, e-mails, téléphones)",
    help="Données personnelles : masquées par défaut, à l'écran comme dans les fichiers.",
    key="campagne_contacts",
)
names = dict(zip(ranking["finess_eg"], ranking["raison_sociale"], strict=True))
left = dict(zip(ranking["finess_eg"], ranking["reste"], strict=True))
finess = st.selectbox(
    "Établissement",
    options=ranking["finess_eg"].to_list(),
    format_func=lambda f: f"{f} – {names.get(f) or ''} ({left.get(f, 0)} à traiter)",
    key="campagne_etablissement",
)
if finess:
    items = campaign.todo_frame(campaign.todo_items(results, finess), show_contacts)
    if items.height:
        st.dataframe(items.drop("FINESS EG", "Établissement", "Département"),
                     hide_index=True, width="stretch")
    else:
        st.success("Tous les points de cet établissement sont à jour.")
    if changes is not None:
        mine = changes.filter(pl.col("finess_eg") == finess)
        if mine.height:
            st.caption("Changements depuis l'instantané précédent :")
            st.dataframe(
                mine.select(
                    pl.col("niveau").replace_strict(campaign.LEVELS).alias("Niveau"),
                    pl.col("nom_entite").alias("Nom"),
                    pl.col("regle").replace_strict(labels, default=None).alias("Point"),
                    pl.col("avant").alias("Avant"),
                    pl.col("apres").alias("Après"),
                    pl.col("changement").replace_strict(campaign.CHANGE_LABELS)
                    .alias("Changement"),
                ),
                hide_index=True,
                width="stretch",
            )

# --- downloads --------------------------------------------------------------------------
st.subheader("Listes de points à traiter")
per = st.radio(
    "Une feuille par",
    options=list(campaign.TODO_PER),
    format_func=lambda p: {"etablissement": "établissement", "departement": "département"}[p],
    horizontal=True,
    key="campagne_feuilles",
)
d1, d2, d3 = st.columns(3)
suffix = "_contacts" if show_contacts else ""
d1.download_button(
    "Classeur Excel (tous les établissements)",
    data=lambda: workbook_for(results, key, per, None, show_contacts),
    file_name=f"points_a_traiter_{ctx.date.isoformat()}_{per}{suffix}.xlsx",
    mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", on_click="ignore",
)
d2.download_button(
    "CSV (tous les établissements)",
    data=lambda: campaign.todo_csv(results, None, show_contacts),
    file_name=f"points_a_traiter_{ctx.date.isoformat()}{suffix}.csv",
    mime="text/csv", on_click="ignore",
)
if finess:
    d3.download_button(
        f"Classeur de {finess}",
        data=lambda: workbook_for(results, key, "etablissement", finess, show_contacts),
        file_name=f"points_a_traiter_{finess}_{ctx.date.isoformat()}{suffix}.xlsx",
        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", on_click="ignore",
    )
st.caption(
    "Contacts masqués sauf si « Afficher les contacts » est coché ; les cellules qui "
    "ressembleraient à une formule sont neutralisées."
)
