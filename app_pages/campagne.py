"""Campagne: completion of the ROR / ViaTrajectoire update campaign, progress, to-do lists."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import streamlit as st

from analysis.checks.campaign import checklist, forecast, todo
from analysis.checks.campaign.changes import (
    CHANGE_LABELS,
    CORRIGE,
    ENTITE_SUPPRIMEE,
    NOUVEAU_MANQUE,
    NOUVELLE_ENTITE,
    changes_between,
    changes_by_establishment,
)
from analysis.checks.campaign.history import (
    PROGRESS_SCHEMA,
    campaign_start,
    evaluate_snapshot,
    progress_history,
    sampled_dates,
)
from analysis.io import store
from analysis.model import formats, settings
from analysis.model.errors import StoreError
from analysis.present import charts as analysis_charts
from analysis.present import todo_lists
from ui import charts, notes
from ui.common import (
    contact_toggle,
    demo_banner,
    page_context,
    show_table,
    store_stamp,
    tables,
)
from ui.progress import transient

st.title("Campagne de mise à jour ROR / ViaTrajectoire")
st.caption(
    "Qui a vérifié quoi, ce qui reste à faire, l'avancement d'un instantané à l'autre, et la "
    "liste des points à traiter à envoyer à chaque établissement."
)

ctx = page_context()
demo_banner(ctx)


#: Beyond this many snapshots the progress chart offers one point per week by default.
HISTORY_DAILY_MAX = 92


@st.cache_data(show_spinner="Évaluation des points de la campagne…", max_entries=32)
def results_for(_data: dict, store_path: str, date: str, start: str | None,
                stamp: tuple) -> pl.DataFrame:
    """Rule results of the selected snapshot (cached on plain values)."""
    params = checklist.CampaignParams(start=dt.date.fromisoformat(start) if start else None)
    return checklist.evaluate(_data, dt.date.fromisoformat(date), params)


@st.cache_data(show_spinner="Évaluation de l'instantané précédent…", max_entries=16)
def stored_results_for(store_path: str, date: str, start: str | None,
                       stamp: tuple) -> pl.DataFrame:
    """Rule results of another snapshot of the store, read with only the needed columns."""
    params = checklist.CampaignParams(start=dt.date.fromisoformat(start) if start else None)
    return evaluate_snapshot(Path(store_path), dt.date.fromisoformat(date), params)


@st.cache_data(show_spinner=False, max_entries=16)
def history_for(store_path: str, start: str | None,
                stamp: tuple) -> tuple[pl.DataFrame, list[str]]:
    """Completion of each rule at each snapshot date (lazy scans over the whole store, see
    ``progress_history``), and the snapshots left out because their files do not
    match their checksums. Cached on the snapshot dates and manifest times."""
    params = checklist.CampaignParams(start=dt.date.fromisoformat(start) if start else None)
    if not stamp:
        return pl.DataFrame(schema=PROGRESS_SCHEMA), []
    left_out: list[dt.date] = []
    with transient("Calcul de l'avancement sur tous les instantanés") as bar:
        history = progress_history(
            Path(store_path), params, dates=[dt.date.fromisoformat(d) for d, _ in stamp],
            progress=bar, skipped=left_out,
        )
    return history, [d.isoformat() for d in left_out]


@st.cache_data(show_spinner="Préparation du classeur…", max_entries=16)
def workbook_for(_results: pl.DataFrame, key: tuple, per: str, finess: str | None,
                 contacts: bool, region: str | None = None) -> bytes:
    """The to-do workbook (cached on the results' key and the options)."""
    return todo_lists.todo_excel(_results, per=per, finess=finess, show_contacts=contacts,
                               region=region)


@st.cache_data(show_spinner="Rythme de chaque établissement…", max_entries=16)
def remaining_for(store_path: str, start: str | None, stamp: tuple, window: int,
                  until: str) -> pl.DataFrame:
    """Items left per establishment and phase on the last ``window`` snapshots up to the
    selected one (``forecast.remaining_history``), cached on the store's state."""
    params = checklist.CampaignParams(start=dt.date.fromisoformat(start) if start else None)
    return forecast.remaining_history(Path(store_path), params, window,
                                      until=dt.date.fromisoformat(until))


dates = store.list_snapshots(ctx.store)
default_start = campaign_start(ctx.manifest) or dates[0]
c1, c2 = st.columns([2, 5])
start = c1.date_input(
    "Début de la campagne",
    value=default_start,
    format="DD/MM/YYYY",
    help="Une fiche mise à jour depuis cette date compte comme vérifiée, même sans changement.",
    key="campagne_debut",
)
stamp = store_stamp(ctx.store)
key = (str(ctx.store), ctx.date.isoformat(), start.isoformat(), stamp)
results = results_for(tables(ctx), *key)
labels = dict(zip(checklist.rules_frame()["regle"], checklist.rules_frame()["libelle"],
                  strict=True))

# --- headline -------------------------------------------------------------------------
overall = checklist.completion_overall(results)
by_rule = checklist.completion_by_rule(results)
rate_of = dict(zip(by_rule["regle"], by_rule["taux"], strict=True))
st.subheader(f"Instantané du {ctx.date:%d/%m/%Y}")
m = st.columns(6)
m[0].metric("Points conformes", formats.percent(overall["taux"]),
            help="Part des points obligatoires évalués (toutes règles, toutes entités) qui "
                 "sont ok ; les points conseillés ne comptent pas.")
m[1].metric("Points à traiter", formats.integer(overall["reste"]),
            help=f"{formats.integer(overall['manquants'])} manquants, "
                 f"{formats.integer(overall['invalides'])} invalides.")
m[2].metric("Établissements à jour",
            f"{formats.integer(overall['etablissements_complets'])} / "
            f"{formats.integer(overall['etablissements'])}",
            help="Établissements dont tous les points sont ok.")
m[3].metric("Établissements vérifiés", formats.percent(rate_of.get("eg_verifie")),
            help="Fiches établissement mises à jour depuis le début de la campagne.")
m[4].metric("Unités VT synchronisées", formats.percent(rate_of.get("vt_synchronise")),
            help="Part des unités ViaTrajectoire synchronisées ou en attente de la prochaine "
                 "synchronisation ; les unités du ROR absentes de ViaTrajectoire sont comptées "
                 "par le point « Unité présente dans ViaTrajectoire ».")
m[5].metric("Conseils (facultatifs)", formats.integer(overall["conseils"]),
            help="Points conseillés par le guide (surnom si nécessaire, « SSR » remplacé par "
                 "« SMR » dans le nom des unités) non faits : listés comme conseils, jamais "
                 "comptés contre l'établissement.")

notes.method_notes(
    [
        "campagne_taux_conformes",
        "campagne_points_a_traiter",
        "campagne_etablissements_a_jour",
        "campagne_taux_regle",
    ],
    "indicateurs de la campagne",
)

# --- prerequisites ----------------------------------------------------------------------
st.subheader("Prérequis : comptes et habilitations")
blocked = todo.blocked_establishments(results)
evaluated = [r for r in todo.PREREQUISITES if r in rate_of]
if not evaluated:
    st.info(
        "Cet instantané ne contient pas la table des comptes et habilitations "
        "(habilitations) : les prérequis (compte ROR Directeur ou Référent, habilitation "
        "ViaTrajectoire Référent structure ou unité) ne sont pas évalués."
    )
else:
    p1, p2, p3 = st.columns(3)
    p1.metric("Établissements bloqués", f"{formats.integer(blocked.height)} / "
              f"{formats.integer(overall['etablissements'])}",
              help="Sans compte ROR ou habilitation ViaTrajectoire valide, l'établissement ne "
                   "peut pas faire la campagne : à relancer en premier.")
    p2.metric("Comptes ROR valides", formats.percent(rate_of.get("eg_compte_ror")))
    p3.metric("Habilitations ViaTrajectoire valides", formats.percent(rate_of.get("eg_compte_vt")))
    if blocked.height:
        st.caption("Établissements à relancer en premier (les listes à envoyer les placent en "
                   "tête) ; comptes et habilitations se demandent au support (bloc « Support » "
                   "ci-dessous).")
        show_table(blocked.rename(lambda c: c.removeprefix("eg_")), "campagne_bloques",
                   stem=f"campagne_etablissements_bloques_{ctx.date.isoformat()}")
notes.method_note("campagne_prerequis")

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
    {d.isoformat() for d in sampled_dates(dates, 7, [ctx.date])}
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
    rules = checklist.rules_frame()
    progress_table = (
        history.join(rules.select("regle", "libelle"), on="regle")
        .with_columns((pl.col("taux") * 100).alias("taux"))
        .pivot(on="libelle", index="date", values="taux")
        .sort("date")
    )
    charts.draw(
        analysis_charts.campaign_progress(history, rules, checklist.LEVELS),
        "Trois petits graphiques, un par niveau (établissement, unité du ROR, unité "
        "ViaTrajectoire) : part des entités conformes à chaque point de contrôle, en "
        f"pourcentage, d'un instantané à l'autre ({history['date'].n_unique()} dates). "
        "Les valeurs sont dans le tableau sous le graphique.",
        table=progress_table,
        table_label="entités conformes (%) par instantané et point de contrôle",
        overrides={
            "date": formats.Format("Instantané", formats.DATE, width="small", key=True),
            **{
                c: formats.Format(c, formats.NUMBER, 1)  # already in %
                for c in progress_table.columns
                if c != "date"
            },
        },
        width="content",
    )
    st.caption("Cliquer un point de contrôle dans une légende le met en évidence.")
else:
    st.info("Un seul instantané dans le magasin : l'avancement s'affichera dès le suivant.")

show_table(
    by_rule.select(
        "regle", "niveau", "severite", "conformes", "manquants", "invalides", "total", "taux"
    ),
    "campagne_regles",
    stem=f"campagne_points_{ctx.date.isoformat()}",
    overrides={"regle": formats.Format("Point de contrôle", formats.CODE, width="large",
                                       key=True),
               "total": formats.Format("Entités", formats.INTEGER)},
)

# --- forecast -----------------------------------------------------------------------
st.subheader("Prévision : achèvement des phases de la campagne")
phase1, phase2 = forecast.PLAN
f1, f2, f3 = st.columns(3)
window = f1.number_input("Instantanés pour la tendance", min_value=2, max_value=60, value=5,
                         key="campagne_fenetre",
                         help="Les plus récents jusqu'à l'instantané choisi.")
deadline1 = f2.date_input(f"Échéance : {phase1.label.lower()}", value=phase1.deadline,
                          format="DD/MM/YYYY", key="campagne_echeance1")
deadline2 = f3.date_input(f"Échéance : {phase2.label.lower()}", value=phase2.deadline,
                          format="DD/MM/YYYY", key="campagne_echeance2",
                          help="Le guide ne fixe pas d'échéance à cette phase.")
plan = forecast.with_deadlines(forecast.PLAN, {phase1.id: deadline1, phase2.id: deadline2})
upto = history.filter(pl.col("date") <= ctx.date)
projected = forecast.forecast_phases(forecast.phase_series(upto, plan), plan, int(window))
show_table(
    projected.select(
        "libelle", "echeance", "taux", (pl.col("pente_semaine") * 100).alias("pente_semaine"),
        "date_prevue", "date_prevue_tot", "date_prevue_tard", "dans_les_temps",
    ),
    "campagne_prevision",
    stem=f"campagne_prevision_{ctx.date.isoformat()}",
    overrides={
        "libelle": formats.Format("Phase", width="large", key=True),
        "echeance": formats.Format("Échéance", formats.DATE, width="small"),
        "taux": formats.Format("Achevée", formats.SHARE, 1),
        "pente_semaine": formats.Format("Progression (points de % / semaine)", formats.NUMBER,
                                        2),
        "date_prevue": formats.Format("Achèvement projeté", formats.DATE, width="small"),
        "date_prevue_tot": formats.Format("Au plus tôt (90 %)", formats.DATE, width="small"),
        "date_prevue_tard": formats.Format("Au plus tard (90 %)", formats.DATE, width="small"),
        "dans_les_temps": formats.Format("Dans les temps", formats.BOOLEAN, width="small"),
    },
)
st.caption("Date vide : non atteinte au rythme actuel (ou pas assez d'instantanés).")
remaining = remaining_for(str(ctx.store), start.isoformat(), stamp, int(window),
                          ctx.date.isoformat())
late = forecast.late_establishments(forecast.establishment_pace(remaining, plan))
st.markdown(f"**Établissements qui, à leur rythme, ne finiront pas à l'échéance** "
            f"({formats.integer(late['finess_eg'].n_unique())})")
if late.height:
    labels_phase = {p.id: p.label for p in plan}
    show_table(
        late.select(
            pl.col("phase").replace_strict(labels_phase), "finess_eg", "raison_sociale",
            "departement", "reste", "rythme_semaine", "date_prevue",
        ),
        "campagne_en_retard",
        stem=f"campagne_en_retard_{ctx.date.isoformat()}",
        overrides={
            "phase": formats.Format("Phase", width="medium"),
            "reste": formats.Format("Points restants", formats.INTEGER),
            "rythme_semaine": formats.Format("Points corrigés / semaine", formats.NUMBER, 2),
            "date_prevue": formats.Format("Fin prévue à ce rythme", formats.DATE,
                                          width="small"),
        },
    )
notes.method_note("campagne_prevision")

# --- by territory / status / establishment ----------------------------------------------
st.subheader("Par département, statut et établissement")


#: Headers of the completion tables: the rule columns get their labels from the registry.
RATE_HEADERS = {
    "total": formats.Format("Points", formats.INTEGER),
    "taux": formats.Format("Taux global", formats.SHARE, 1),
    "departement": formats.Format("Département", formats.CODE, width="medium", key=True),
    "statut": formats.Format("Statut", formats.CODE, width="medium", key=True),
}
t1, t2, t3 = st.tabs(["Départements", "Statuts", "Établissements"])
with t1:
    show_table(checklist.completion_table(results, "departement"), "campagne_departements",
               stem=f"campagne_departements_{ctx.date.isoformat()}", overrides=RATE_HEADERS)
with t2:
    show_table(checklist.completion_table(results, "statut"), "campagne_statuts",
               stem=f"campagne_statuts_{ctx.date.isoformat()}", overrides=RATE_HEADERS)
with t3:
    ranking = checklist.establishment_ranking(results)
    st.caption("Classés par nombre de points restant à traiter.")
    show_table(ranking, "campagne_etablissements",
               stem=f"campagne_etablissements_{ctx.date.isoformat()}",
               overrides={"total": formats.Format("Points", formats.INTEGER)})

# --- changes since the previous snapshot -------------------------------------------------
earlier = [d for d in dates if d < ctx.date]
changes = None
if earlier:
    previous = earlier[-1]
    st.subheader(f"Changements depuis le {previous:%d/%m/%Y}")
    try:
        before = stored_results_for(str(ctx.store), previous.isoformat(), start.isoformat(),
                                    stamp)
        changes = changes_between(before, results)
    except StoreError as exc:
        st.warning(f"Instantané précédent illisible, changements non calculés : {exc}")
if changes is not None:
    summary = changes_by_establishment(changes)
    totals = {c: int(summary[c].sum()) for c in CHANGE_LABELS} if summary.height else {}
    k = st.columns(4)
    k[0].metric("Points corrigés", formats.integer(totals.get(CORRIGE, 0)))
    k[1].metric("Nouveaux manques", formats.integer(totals.get(NOUVEAU_MANQUE, 0)),
                help="Points ok à l'instantané précédent, manquants ou invalides maintenant.")
    k[2].metric("Nouvelles entités", formats.integer(totals.get(NOUVELLE_ENTITE, 0)))
    k[3].metric("Entités disparues", formats.integer(totals.get(ENTITE_SUPPRIMEE, 0)))
    if summary.height:
        show_table(summary, "campagne_changements",
                   stem=f"campagne_changements_{ctx.date.isoformat()}")
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
    items = todo.todo_frame(todo.todo_items(results, finess), show_contacts, ctx.region)
    if items.height:
        show_table(items.drop("FINESS EG", "Établissement", "Département", "Support"),
                   "campagne_points_etablissement")
    else:
        st.success("Tous les points de cet établissement sont à jour.")
    if changes is not None:
        mine = changes.filter(pl.col("finess_eg") == finess)
        if mine.height:
            st.caption("Changements depuis l'instantané précédent :")
            show_table(
                mine.select("niveau", "nom_entite", "regle", "avant", "apres", "changement"),
                "campagne_changements_etablissement",
                overrides={"avant": formats.Format("Avant", formats.CODE),
                           "apres": formats.Format("Après", formats.CODE)},
            )

# --- downloads --------------------------------------------------------------------------
st.subheader("Listes de points à traiter")
per = st.radio(
    "Une feuille par",
    options=list(todo.TODO_PER),
    format_func=lambda p: {"etablissement": "établissement", "departement": "département"}[p],
    horizontal=True,
    key="campagne_feuilles",
)
d1, d2, d3 = st.columns(3)
suffix = "_contacts" if show_contacts else ""
d1.download_button(
    "Classeur Excel (tous les établissements)",
    data=lambda: workbook_for(results, key, per, None, show_contacts, ctx.region),
    file_name=f"points_a_traiter_{ctx.date.isoformat()}_{per}{suffix}.xlsx",
    mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", on_click="ignore",
)
d2.download_button(
    "CSV (tous les établissements)",
    data=lambda: todo_lists.todo_csv(results, None, show_contacts, ctx.region),
    file_name=f"points_a_traiter_{ctx.date.isoformat()}{suffix}.csv",
    mime="text/csv", on_click="ignore",
)
if finess:
    d3.download_button(
        f"Classeur de {finess}",
        data=lambda: workbook_for(results, key, "etablissement", finess, show_contacts,
                                  ctx.region),
        file_name=f"points_a_traiter_{finess}_{ctx.date.isoformat()}{suffix}.xlsx",
        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", on_click="ignore",
    )
st.caption(
    "Contacts masqués sauf si « Afficher les contacts » est coché ; les cellules qui "
    "ressembleraient à une formule sont neutralisées. Chaque liste porte le bloc « Support » "
    "de la région (colonne et feuille) ; les établissements sans compte ou habilitation "
    "valide viennent en tête ; les points conseillés y figurent comme conseils."
)
with st.expander("Support de la campagne", expanded=settings.support_desk(ctx.region) is None):
    st.markdown("\n".join(f"- {line}" for line in settings.support_lines(ctx.region)))
