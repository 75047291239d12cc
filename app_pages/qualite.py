"""Qualité ROR: national requirements for SMR, population follow-up, ViaTrajectoire report."""

from __future__ import annotations

import datetime as dt
import hashlib
import tempfile
from pathlib import Path

import polars as pl
import streamlit as st

from analysis.checks.campaign.history import sampled_dates
from analysis.checks.quality import requirements, vt_report
from analysis.checks.quality.population import (
    establishment_population,
    population_counts,
    population_history,
)
from analysis.checks.quality.population import (
    history as requirement_history,
)
from analysis.indicators import sync
from analysis.io import finess_reference, importing, vt_report_file
from analysis.model import formats
from analysis.model.errors import SmrError
from analysis.present import charts as analysis_charts
from ui import charts, notes
from ui.common import (
    demo_banner,
    departement_picker,
    page_context,
    show_table,
    store_stamp,
    tables,
    upload_hint,
)
from ui.progress import transient

st.title("Qualité ROR")
st.caption(
    "Les exigences qualité que l'équipe nationale du ROR calcule chaque semaine, le suivi du "
    "peuplement SMR et le taux de synchronisation ViaTrajectoire, par département et par "
    "établissement, avec la liste des écarts à corriger."
)

ctx = page_context()
demo_banner(ctx)
data = tables(ctx)
departements = requirements.region_departements(ctx.region)
params = requirements.QualityParams(departements=departements)
former = st.toggle(
    "Lectures de l'atelier (au lieu de celles des vues nationales)",
    value=False,
    key="qualite_lectures",
    help="Par défaut, les exigences lisent les données comme les vues SQL nationales de l'ANS, "
    "valeurs vides comprises. Activé : les lectures propres à l'atelier (autorisation sans "
    "date de fin comptée, cas d'EX2 et de ST3, RE1.2 limitée aux offres SMR…), listées dans "
    "docs/ecarts_vue_nationale.md.",
)
if former:
    params = params.with_former_readings()
labels = dict(
    zip(
        requirements.requirements_frame()["exigence"],
        requirements.requirements_frame()["libelle"],
        strict=True,
    )
)


#: Headers of the requirement tables (``regle`` here is national or local, not a campaign rule).
REQUIREMENT_HEADERS = {
    "exigence": formats.Format("Code", width="small", key=True),
    "libelle": formats.Format("Exigence", width="large"),
    "regle": formats.Format("Règle", width="small"),
}


def _stage(files: list) -> tuple[Path, list[Path]]:
    """Uploaded files written to a temporary folder (the readers take paths)."""
    folder = Path(tempfile.mkdtemp(prefix="smr-qualite-"))
    return folder, importing.stage_files(((f.name, f.getvalue()) for f in files), folder)


@st.cache_data(show_spinner="Lecture du référentiel FINESS…", max_entries=4)
def finess_from_upload(key: str, _files: list) -> tuple[pl.DataFrame, int]:
    """The FINESS reference of the uploaded files and its number of rejected rows."""
    _, paths = _stage(_files)
    frame, report = finess_reference.read_finess_reference(paths[0] if len(paths) == 1 else paths)
    return frame, report.filter(pl.col("severity") == "rejet")["row"].n_unique()


@st.cache_data(show_spinner="Lecture du rapport ViaTrajectoire…", max_entries=4)
def vt_from_upload(key: str, _file) -> tuple[pl.DataFrame, list[str]]:
    _, (path,) = _stage([_file])
    report = vt_report_file.read_vt_report(path)
    return report.frame, report.notes


@st.cache_data(show_spinner="Évaluation des exigences…", max_entries=16)
def results_for(
    _data: dict, store_path: str, date: str, region: str, finess_key: str, stamp: float,
    former: bool,
) -> pl.DataFrame:
    """Requirement results of the selected snapshot (cached on plain values)."""
    return requirements.evaluate(_data, dt.date.fromisoformat(date), params)


@st.cache_data(show_spinner="Suivi du peuplement…", max_entries=16)
def population_for(
    _data: dict, store_path: str, date: str, region: str, finess_key: str, stamp: float,
    former: bool,
) -> tuple[pl.DataFrame, pl.DataFrame, str]:
    """Population status, offer flags and RE1.2 scope text of the selected snapshot (cached
    on plain values, like ``results_for``)."""
    day = dt.date.fromisoformat(date)
    scope = requirements.re12_scope_text(requirements.re12_scope(_data, day, params))
    return (establishment_population(_data, day, params),
            requirements.unit_flags(_data, day, params), scope)


@st.cache_data(show_spinner=False, max_entries=16)
def history_for(
    store_path: str, region: str, stamp: tuple, former: bool
) -> tuple[pl.DataFrame, list[dt.date]]:
    """Requirement totals at the snapshots of ``stamp`` (read in batches, ``history``), and
    the snapshots left out because their files do not match their checksums."""
    left_out: list[dt.date] = []
    with transient("Exigences sur les instantanés") as bar:
        totals = requirement_history(
            Path(store_path), params, [dt.date.fromisoformat(d) for d, _ in stamp],
            progress=bar, skipped=left_out,
        )
    return totals, left_out


@st.cache_data(show_spinner="Suivi trimestriel du peuplement…", max_entries=16)
def population_history_for(
    store_path: str, region: str, stamp: tuple, former: bool
) -> pl.DataFrame:
    return population_history(Path(store_path), params=params, skipped=[])


# --- reference files --------------------------------------------------------------------
with st.expander("Fichiers de référence (facultatif)"):
    st.caption(
        "Sans fichier, le référentiel FINESS de l'instantané est utilisé. Un fichier donné ici "
        "le remplace pour l'instantané choisi (pas pour l'évolution) : extraction FINESS etalab "
        "et, pour compter les autorisations SMR des établissements absents du ROR, flux JSON "
        "« Activités » ; ou une table finess_etablissements."
    )
    finess_files = st.file_uploader(
        "Référentiel FINESS",
        type=["csv", "txt", "json", "parquet"],
        accept_multiple_files=True,
        key="qualite_finess",
    )
    upload_hint(["csv", "txt", "json", "parquet"])
    vt_file = st.file_uploader(
        "Rapport de synchronisation ROR → ViaTrajectoire (CSV ou Excel)",
        type=["csv", "txt", "tsv", "xlsx"],
        key="qualite_vt",
        help="Colonnes Finess, NomEtablissement, CodeRegion, Domaine, EtatVT, "
        "EtatSynchronisationROR, DateSynchronisation.",
    )
    upload_hint(["csv", "txt", "tsv", "xlsx"])

finess_key = "instantane"
if finess_files:
    finess_key = hashlib.sha256(b"".join(f.getvalue() for f in finess_files)).hexdigest()
    try:
        reference, rejected = finess_from_upload(finess_key, finess_files)
    except SmrError as exc:
        st.error(f"Référentiel FINESS illisible : {exc}")
        st.stop()
    data = {**data, "finess_etablissements": reference}
    st.caption(
        f"Référentiel FINESS téléversé : {formats.integer(reference.height)} établissements"
        + (f", {rejected} ligne(s) rejetée(s)." if rejected else ".")
    )

stamp = store_stamp(ctx.store)
snapshot_key = (str(ctx.store), ctx.date.isoformat(), ctx.region, finess_key,
                dict(stamp).get(ctx.date.isoformat(), 0.0), former)
results = results_for(data, *snapshot_key)
population, flags, re12_text = population_for(data, *snapshot_key)
codes = requirements.evaluated(data)
table = requirements.summary(results, codes=codes)
totals = table.filter(pl.col("departement") == requirements.ENSEMBLE)
missing = requirements.skipped(data)

# --- requirements -----------------------------------------------------------------------
st.subheader(f"Exigences au {ctx.date:%d/%m/%Y}")
by_code = {r["exigence"]: r for r in totals.iter_rows(named=True)}
cols = st.columns(min(5, max(1, len(codes))))
for i, code in enumerate(codes[:5]):
    row = by_code[code]
    cols[i].metric(
        code,
        formats.percent(row["taux"]),
        help=f"{labels[code]} : {formats.integer(row['ecarts'])} écart(s) sur un périmètre "
        f"de {formats.integer(row['perimetre'])}.",
    )
if missing:
    st.info(
        "Non évaluées : "
        + ", ".join(missing)
        + " — "
        + next(iter(missing.values()))
        + ". Téléversez un référentiel FINESS ci-dessus."
    )
national = {r.id: r.national for r in requirements.REQUIREMENTS}
show_table(
    totals.select(
        "exigence",
        "libelle",
        pl.col("exigence")
        .replace_strict({c: "nationale" if n else "locale" for c, n in national.items()})
        .alias("regle"),
        "perimetre",
        "ecarts",
        "non_applicables",
        "taux",
    ),
    "qualite_exigences",
    stem=f"qualite_exigences_{ctx.date.isoformat()}",
    overrides=REQUIREMENT_HEADERS,
)
if "RE1.2" in codes:
    st.caption(re12_text)
st.caption(
    "Lecture des vues nationales de l'ANS (ansforge/ROR-indicateurs-BI-SQL), valeurs vides "
    "comprises." if not former else
    "Lectures de l'atelier activées (écarts à la vue nationale et réglages : "
    "docs/ecarts_vue_nationale.md)."
)
notes.method_notes(codes, "exigences qualité")

# --- by département -----------------------------------------------------------------------
st.subheader("Par département")
measure = st.radio(
    "Valeur", ["Taux (%)", "Écarts", "Périmètre"], horizontal=True, key="qualite_mesure"
)
column = {"Taux (%)": "taux", "Écarts": "ecarts", "Périmètre": "perimetre"}[measure]
wide = table.pivot(on="departement", index=["exigence", "libelle"], values=column)
kind = formats.SHARE if column == "taux" else formats.INTEGER
show_table(
    wide,
    "qualite_departements",
    stem=f"qualite_{column}_departements_{ctx.date.isoformat()}",
    overrides={
        **REQUIREMENT_HEADERS,
        **{
            c: formats.Format(formats.departement(c), kind, 1)
            for c in wide.columns
            if c not in ("exigence", "libelle")
        },
    },
)

# --- trends -----------------------------------------------------------------------------
st.subheader("Évolution d'un instantané à l'autre")
trend_stamp = stamp
if len(stamp) > 92:  # a year of daily snapshots: one point a week, exact at its date (#9)
    weekly = sampled_dates([dt.date.fromisoformat(d) for d, _ in stamp], 7, [ctx.date])
    trend_stamp = tuple(s for s in stamp if dt.date.fromisoformat(s[0]) in set(weekly))
    st.caption(f"{len(stamp)} instantanés : un point par semaine.")
history, left_out = history_for(str(ctx.store), ctx.region, trend_stamp, former)
if left_out:
    st.warning(
        "Instantané(s) illisible(s) ou corrompu(s), laissé(s) hors de l'évolution : "
        + ", ".join(d.strftime("%d/%m/%Y") for d in left_out)
        + " (« smr validate » en donne le détail)."
    )
if history["date"].n_unique() > 1:
    plotted = st.radio("Tracer", ["Taux (%)", "Écarts"], horizontal=True, key="qualite_tendance")
    measure = "taux" if plotted == "Taux (%)" else "ecarts"
    trend_labels = {c: labels[c] for c in labels if c in set(history["exigence"].to_list())}
    trend_table = (
        history.with_columns((pl.col("taux") * 100).alias("taux"))
        .pivot(on="exigence", index="date", values=measure)
        .sort("date")
    )
    charts.draw(
        analysis_charts.requirement_trends(history, trend_labels, measure=measure),
        f"Petits graphiques, un par exigence qualité : {plotted.lower()} d'un instantané à "
        f"l'autre ({history['date'].n_unique()} dates), chacun avec sa propre échelle pour "
        "montrer les écarts. Les valeurs sont dans le tableau sous les graphiques.",
        table=trend_table,
        table_label=f"{plotted.lower()} par instantané et exigence",
        overrides={
            "date": formats.Format("Instantané", formats.DATE, width="small", key=True),
            **{
                c: formats.Format(c, formats.NUMBER if measure == "taux" else formats.INTEGER,
                                  1 if measure == "taux" else 0, help=labels.get(c))
                for c in trend_table.columns
                if c != "date"
            },
        },
        width="content",
    )
    st.caption(
        "Chaque instantané avec son propre référentiel FINESS. Chaque graphique a sa propre "
        "échelle verticale : comparez les valeurs, pas les hauteurs."
    )
else:
    st.info("Un seul instantané dans le magasin : l'évolution s'affichera dès le suivant.")

# --- population follow-up ----------------------------------------------------------------
st.subheader("Suivi du peuplement SMR")
counts = population_counts(population)
overall = counts.filter(pl.col("departement") == requirements.ENSEMBLE).row(0, named=True)
m = st.columns(4)
m[0].metric("Établissements du périmètre", formats.integer(overall["perimetre"]))
m[1].metric(
    "Finalisés",
    formats.integer(overall[requirements.FINALISE]),
    help=f"Taux de finalisation {formats.percent(overall['taux_finalise'])}.",
)
m[2].metric("En cours", formats.integer(overall[requirements.EN_COURS]))
m[3].metric("À faire", formats.integer(overall[requirements.A_FAIRE]))
if population.height and population["perimetre_source"][0] == "ROR":
    st.caption(
        "Sans référentiel FINESS, le périmètre est celui des établissements ouverts du "
        "ROR titulaires d'une autorisation SMR."
    )
show_table(counts, "qualite_peuplement", stem=f"qualite_peuplement_{ctx.date.isoformat()}")
missing_flags = pl.DataFrame(
    {
        "Indicateur": list(requirements.FLAGS.values()),
        "Offres où il manque": [int((flags[f] == 0).sum()) for f in requirements.FLAGS],
    }
)
left, right = st.columns(2)
with left:
    st.caption(
        f"Offres SMR décrites : {formats.integer(flags.height)}, dont "
        f"{formats.integer(int((flags['statut_peuplement'] == requirements.FINALISE).sum()))} "
        "finalisées."
    )
    show_table(missing_flags, "qualite_indicateurs_manquants")
with right:
    quarterly = population_history_for(str(ctx.store), ctx.region, stamp, former)
    shown_q = quarterly.filter(pl.col("departement") == requirements.ENSEMBLE).select(
        "trimestre",
        "date_instantane",
        pl.when(pl.col("trimestre_clos"))
        .then(pl.lit("clos"))
        .otherwise(pl.lit("en cours"))
        .alias("etat"),
        "perimetre",
        requirements.FINALISE,
        requirements.EN_COURS,
        requirements.A_FAIRE,
        "taux_finalise",
    )
    st.caption("Suivi trimestriel (dernier instantané de chaque trimestre).")
    show_table(shown_q, "qualite_trimestres", stem="qualite_suivi_trimestriel",
               overrides={"etat": formats.Format("État", width="small")})
notes.method_notes(["peuplement_statut", "peuplement_trimestriel"], "suivi du peuplement")

# --- écarts -----------------------------------------------------------------------------
st.subheader("Écarts à corriger")
c1, c2 = st.columns(2)
with_ecarts = [c for c in codes if by_code[c]["ecarts"]]
chosen = c1.selectbox(
    "Exigence",
    options=codes,
    format_func=lambda c: f"{c} – {labels[c]}",
    index=codes.index(with_ecarts[0]) if with_ecarts else 0,
    key="qualite_exigence",
)
dep = departement_picker(c2.selectbox, results["departement"].unique().to_list(),
                         "qualite_departement")
selected = requirements.ecarts(results, chosen, dep)
st.caption(f"{formats.integer(selected.height)} entité(s) en écart.")
if chosen in labels:
    st.markdown(f"**Action attendue** : {requirements.REQUIREMENT_BY_CODE[chosen].help}")
show_table(
    selected.select("departement", "finess_eg", "entite", "nom_entite", "motif", "valeur"),
    "qualite_ecarts",
    stem=f"ecarts_{chosen}_{ctx.date.isoformat()}",
    sheets=lambda: {"exigences": table, "ecarts": requirements.ecarts(results)},
    overrides={"motif": formats.Format("Motif de l'écart", width="large"),
               "valeur": formats.Format("Valeurs", width="medium")},
)
with st.expander("Non applicables (hors périmètre)"):
    outside = results.filter(
        (pl.col("exigence") == chosen) & (pl.col("statut") == requirements.NON_APPLICABLE)
    )
    if dep is not None:
        outside = outside.filter(pl.col("departement") == dep)
    show_table(
        outside.select("departement", "entite", "nom_entite", "motif"),
        "qualite_hors_perimetre",
        overrides={"motif": formats.Format("Raison", width="large")},
    )
with st.expander("Écarts par établissement (toutes exigences)"):
    show_table(
        requirements.ecarts_by_establishment(results, data["etablissements"]),
        "qualite_ecarts_etablissements",
        stem=f"qualite_ecarts_par_etablissement_{ctx.date.isoformat()}",
    )

# --- ViaTrajectoire sync report -----------------------------------------------------------
st.subheader("Synchronisation ViaTrajectoire (rapport national)")
report, report_notes = None, []
if vt_file is not None:
    try:
        report, report_notes = vt_from_upload(
            hashlib.sha256(vt_file.getvalue()).hexdigest(), vt_file
        )
    except SmrError as exc:
        st.error(f"Rapport ViaTrajectoire illisible : {exc}")
elif ctx.is_demo:
    from analysis.demo import regional

    report = vt_report_file.read_vt_report_frame(regional.vt_sync_report(data, ctx.date, ctx.region))
    st.caption(
        "Exemple fictif de rapport, généré à partir de l'instantané de démonstration "
        "(voir docs/exemple_synchro_vt.csv)."
    )
else:
    st.info(
        "Téléversez le rapport que ViaTrajectoire transmet à l'ANS (fichiers de "
        "référence, en haut de page) pour calculer le taux national et le comparer aux "
        "statuts des unités."
    )
for line in report_notes:
    st.caption(line)
if report is not None:
    detail = vt_report.vt_report_detail(report, data, ctx.date, departements)
    rate = vt_report.vt_sync_rate(detail)
    status = sync.unit_status(data, ctx.date)
    ours = sync.status_counts(status, data["etablissements"], by="departement")
    whole = rate.filter(pl.col("departement") == requirements.ENSEMBLE)
    v = st.columns(3)
    v[0].metric(
        "Taux national (établissements)",
        formats.percent(whole["taux"][0] if whole.height else None),
        help="« Mise à jour de l'offre active » ÷ établissements suivis du rapport.",
    )
    v[1].metric("Établissements suivis", formats.integer(whole["perimetre_vt"][0] if whole.height else 0))
    v[2].metric(
        "Taux des unités (atelier)",
        formats.percent(
            sync.status_counts(status, data["etablissements"], by="ensemble")["taux_synchronise"][0]
        ),
        help="(Synchronisées + en attente) ÷ unités, page Synchronisation.",
    )
    beside = (
        rate.filter(pl.col("departement") != requirements.ENSEMBLE)
        .join(
            ours.select("departement", "total", "taux_synchronise"),
            on="departement",
            how="full",
            coalesce=True,
        )
        .select("departement", "perimetre_vt", "synchronises", "taux", "total",
                "taux_synchronise")
        .sort("departement")
    )
    show_table(
        beside,
        "qualite_vt_departements",
        stem=f"synchro_vt_departements_{ctx.date.isoformat()}",
        overrides={
            "taux": formats.Format("Taux national", formats.SHARE, 1),
            "total": formats.Format("Unités", formats.INTEGER),
            "taux_synchronise": formats.Format("Taux des unités", formats.SHARE, 1),
        },
    )
    comparison = vt_report.vt_comparison(detail, status, data["etablissements"])
    constats = sorted(comparison["constat"].unique().to_list())
    wanted = [c for c in constats if not c.startswith("concordant")]
    picked = st.multiselect(
        "Constats", options=constats, default=wanted, key="qualite_constats",
        placeholder="Choisir un ou plusieurs constats",
    )
    show_table(
        comparison.filter(pl.col("constat").is_in(picked)).select(
            "departement", "finess_eg", "raison_sociale", "etat_synchronisation_ror",
            "date_synchronisation", *sync.STATUSES, "constat",
        ),
        "qualite_vt_comparaison",
        stem=f"synchro_vt_{ctx.date.isoformat()}",
        overrides={
            "etat_synchronisation_ror": formats.Format("État ViaTrajectoire", width="medium"),
            "date_synchronisation": formats.Format("Synchronisation", formats.DATETIME),
            "constat": formats.Format("Constat", width="large"),
            **{s: formats.Format(sync.STATUS_SHORT_LABELS[s], formats.INTEGER)
               for s in sync.STATUSES},
        },
    )
    excluded = detail.filter(~pl.col("suivi"))
    if excluded.height:
        with st.expander(f"Lignes du rapport hors du taux national ({excluded.height})"):
            show_table(
                excluded.select("finess", "nom_etablissement", "domaine", "motif_exclusion"),
                "qualite_vt_exclus",
                overrides={"motif_exclusion": formats.Format("Motif", width="large")},
            )
    notes.method_notes(
        ["synchro_vt_taux", "synchro_vt_concordance"], "synchronisation ViaTrajectoire"
    )
