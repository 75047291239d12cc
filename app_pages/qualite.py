"""Qualité ROR: national requirements for SMR, population follow-up, ViaTrajectoire report."""

from __future__ import annotations

import datetime as dt
import hashlib
import tempfile
from pathlib import Path

import polars as pl
import streamlit as st

from analysis import campaign, export, importing, quality, store, sync
from analysis import charts as analysis_charts
from analysis.errors import SmrError
from ui import charts, notes, state
from ui.common import (
    csv_download,
    demo_banner,
    excel_download,
    fmt_int,
    page_context,
    tables,
    upload_hint,
)

st.title("Qualité ROR")
st.caption(
    "Les exigences qualité que l'équipe nationale du ROR calcule chaque semaine, le suivi du "
    "peuplement SMR et le taux de synchronisation ViaTrajectoire, par département et par "
    "établissement, avec la liste des écarts à corriger."
)

ctx = page_context()
demo_banner(ctx)
data = tables(ctx)
departements = quality.region_departements(ctx.region)
params = quality.QualityParams(departements=departements)
labels = dict(
    zip(
        quality.requirements_frame()["exigence"],
        quality.requirements_frame()["libelle"],
        strict=True,
    )
)


def pct(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.1f} %".replace(".", ",")


def _stage(files: list) -> tuple[Path, list[Path]]:
    """Uploaded files written to a temporary folder (the readers take paths)."""
    folder = Path(tempfile.mkdtemp(prefix="smr-qualite-"))
    return folder, importing.stage_files(((f.name, f.getvalue()) for f in files), folder)


@st.cache_data(show_spinner="Lecture du référentiel FINESS…", max_entries=4)
def finess_from_upload(key: str, _files: list) -> tuple[pl.DataFrame, int]:
    """The FINESS reference of the uploaded files and its number of rejected rows."""
    _, paths = _stage(_files)
    frame, report = quality.read_finess_reference(paths[0] if len(paths) == 1 else paths)
    return frame, report.filter(pl.col("severity") == "rejet")["row"].n_unique()


@st.cache_data(show_spinner="Lecture du rapport ViaTrajectoire…", max_entries=4)
def vt_from_upload(key: str, _file) -> tuple[pl.DataFrame, list[str]]:
    _, (path,) = _stage([_file])
    report = quality.read_vt_report(path)
    return report.frame, report.notes


@st.cache_data(show_spinner="Évaluation des exigences…", max_entries=16)
def results_for(
    _data: dict, store_path: str, date: str, region: str, finess_key: str, stamp: float
) -> pl.DataFrame:
    """Requirement results of the selected snapshot (cached on plain values)."""
    return quality.evaluate(_data, dt.date.fromisoformat(date), params)


@st.cache_data(show_spinner=False, max_entries=4096)
def totals_for(store_path: str, date: str, region: str, mtime: float) -> pl.DataFrame:
    """One snapshot's requirement totals, cached on its own (adding a snapshot computes one)."""
    return quality.history_at(Path(store_path), dt.date.fromisoformat(date), params)


@st.cache_data(show_spinner="Suivi trimestriel du peuplement…", max_entries=16)
def population_history_for(store_path: str, region: str, stamp: tuple) -> pl.DataFrame:
    return quality.population_history(Path(store_path), params=params)


def _stamp(store_path: Path) -> tuple[tuple[str, float], ...]:
    return tuple(
        (d.isoformat(), (store_path / d.isoformat() / "manifest.json").stat().st_mtime)
        for d in store.list_snapshots(store_path)
    )


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
        f"Référentiel FINESS téléversé : {fmt_int(reference.height)} établissements"
        + (f", {rejected} ligne(s) rejetée(s)." if rejected else ".")
    )

stamp = _stamp(ctx.store)
results = results_for(
    data,
    str(ctx.store),
    ctx.date.isoformat(),
    ctx.region,
    finess_key,
    dict(stamp).get(ctx.date.isoformat(), 0.0),
)
codes = quality.evaluated(data)
table = quality.summary(results, codes=codes)
totals = table.filter(pl.col("departement") == quality.ENSEMBLE)
missing = quality.skipped(data)

# --- requirements -----------------------------------------------------------------------
st.subheader(f"Exigences au {ctx.date:%d/%m/%Y}")
by_code = {r["exigence"]: r for r in totals.iter_rows(named=True)}
cols = st.columns(min(5, max(1, len(codes))))
for i, code in enumerate(codes[:5]):
    row = by_code[code]
    cols[i].metric(
        code,
        pct(row["taux"]),
        help=f"{labels[code]} : {fmt_int(row['ecarts'])} écart(s) sur un périmètre "
        f"de {fmt_int(row['perimetre'])}.",
    )
if missing:
    st.info(
        "Non évaluées : "
        + ", ".join(missing)
        + " — "
        + next(iter(missing.values()))
        + ". Téléversez un référentiel FINESS ci-dessus."
    )
national = {r.code: r.national for r in quality.REQUIREMENTS}
st.dataframe(
    totals.select(
        pl.col("exigence").alias("Code"),
        pl.col("libelle").alias("Exigence"),
        pl.col("exigence")
        .replace_strict({c: "nationale" if n else "locale" for c, n in national.items()})
        .alias("Règle"),
        pl.col("perimetre").alias("Périmètre"),
        pl.col("ecarts").alias("Écarts"),
        pl.col("non_applicables").alias("Non applicables"),
        (pl.col("taux") * 100).alias("Taux (%)"),
    ),
    hide_index=True,
    width="stretch",
    column_config={"Taux (%)": st.column_config.NumberColumn(format="%.1f")},
)
notes.method_notes(codes, "exigences qualité")

# --- by département -----------------------------------------------------------------------
st.subheader("Par département")
measure = st.radio(
    "Valeur", ["Taux (%)", "Écarts", "Périmètre"], horizontal=True, key="qualite_mesure"
)
column = {"Taux (%)": "taux", "Écarts": "ecarts", "Périmètre": "perimetre"}[measure]
wide = (
    table.with_columns((pl.col("taux") * 100).alias("taux"))
    .pivot(on="departement", index=["exigence", "libelle"], values=column)
    .rename({"exigence": "Code", "libelle": "Exigence"})
)
st.dataframe(
    wide,
    hide_index=True,
    width="stretch",
    column_config={
        c: st.column_config.NumberColumn(format="%.1f" if column == "taux" else "%d")
        for c in wide.columns
        if c not in ("Code", "Exigence")
    },
)

# --- trends -----------------------------------------------------------------------------
st.subheader("Évolution d'un instantané à l'autre")
trend_stamp = stamp
if len(stamp) > 92:  # a year of daily snapshots: one point a week, exact at its date (#9)
    weekly = campaign.sampled_dates([dt.date.fromisoformat(d) for d, _ in stamp], 7, [ctx.date])
    trend_stamp = tuple(s for s in stamp if dt.date.fromisoformat(s[0]) in set(weekly))
    st.caption(f"{len(stamp)} instantanés : un point par semaine.")
history = (
    pl.concat([totals_for(str(ctx.store), day, ctx.region, mtime) for day, mtime in trend_stamp])
    if stamp
    else pl.DataFrame(schema=quality.HISTORY_SCHEMA)
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
        column_config={
            "date": st.column_config.DateColumn("Instantané", format="DD/MM/YYYY"),
            **{
                c: st.column_config.NumberColumn(
                    c, help=labels.get(c), format="%.1f" if measure == "taux" else "%d"
                )
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
population = quality.establishment_population(data, ctx.date, params)
counts = quality.population_counts(population)
overall = counts.filter(pl.col("departement") == quality.ENSEMBLE).row(0, named=True)
m = st.columns(4)
m[0].metric("Établissements du périmètre", fmt_int(overall["perimetre"]))
m[1].metric(
    "Finalisés",
    fmt_int(overall[quality.FINALISE]),
    help=f"Taux de finalisation {pct(overall['taux_finalise'])}.",
)
m[2].metric("En cours", fmt_int(overall[quality.EN_COURS]))
m[3].metric("À faire", fmt_int(overall[quality.A_FAIRE]))
if population.height and population["perimetre_source"][0] == "ROR":
    st.caption(
        "Sans référentiel FINESS, le périmètre est celui des établissements ouverts du "
        "ROR titulaires d'une autorisation SMR."
    )
st.dataframe(
    counts.rename(
        {"departement": "Département", "perimetre": "Périmètre", **quality.PEUPLEMENT_LABELS}
    )
    .with_columns((pl.col("taux_finalise") * 100).alias("taux_finalise"))
    .rename({"taux_finalise": "Finalisés (%)"}),
    hide_index=True,
    width="stretch",
    column_config={"Finalisés (%)": st.column_config.NumberColumn(format="%.1f")},
)
flags = quality.unit_flags(data, ctx.date)
missing_flags = pl.DataFrame(
    {
        "Indicateur": list(quality.FLAGS.values()),
        "Offres où il manque": [int((flags[f] == 0).sum()) for f in quality.FLAGS],
    }
)
left, right = st.columns(2)
with left:
    st.caption(
        f"Offres SMR décrites : {fmt_int(flags.height)}, dont "
        f"{fmt_int(int((flags['statut_peuplement'] == quality.FINALISE).sum()))} "
        "finalisées."
    )
    st.dataframe(missing_flags, hide_index=True, width="stretch")
with right:
    quarterly = population_history_for(str(ctx.store), ctx.region, stamp)
    shown_q = quarterly.filter(pl.col("departement") == quality.ENSEMBLE).select(
        pl.col("trimestre").alias("Trimestre"),
        pl.col("date_instantane").alias("Instantané"),
        pl.when(pl.col("trimestre_clos"))
        .then(pl.lit("clos"))
        .otherwise(pl.lit("en cours"))
        .alias("État"),
        pl.col("perimetre").alias("Périmètre"),
        pl.col(quality.FINALISE).alias("Finalisés"),
        pl.col(quality.EN_COURS).alias("En cours"),
        pl.col(quality.A_FAIRE).alias("À faire"),
        (pl.col("taux_finalise") * 100).alias("Finalisés (%)"),
    )
    st.caption("Suivi trimestriel (dernier instantané de chaque trimestre).")
    st.dataframe(
        shown_q,
        hide_index=True,
        width="stretch",
        column_config={"Finalisés (%)": st.column_config.NumberColumn(format="%.1f")},
    )
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
deps = sorted(d for d in results["departement"].unique().to_list() if d is not None)
dep = state.select(
    c2.selectbox, "Département", ["(tous)", *deps], "departement", "qualite_departement",
    none_option="(tous)",
)
selected = quality.ecarts(results, chosen, None if dep == "(tous)" else dep)
st.caption(f"{fmt_int(selected.height)} entité(s) en écart.")
if chosen in labels:
    st.markdown(f"**Action attendue** : {quality.REQUIREMENT_BY_CODE[chosen].help}")
st.dataframe(
    selected.select(
        pl.col("departement").alias("Dép."),
        pl.col("finess_eg").alias("FINESS EG"),
        pl.col("entite").alias("Entité"),
        pl.col("nom_entite").alias("Nom"),
        pl.col("motif").alias("Motif de l'écart"),
        pl.col("valeur").alias("Valeurs"),
    ),
    hide_index=True,
    width="stretch",
)
with st.expander("Non applicables (hors périmètre)"):
    outside = results.filter(
        (pl.col("exigence") == chosen) & (pl.col("statut") == quality.NON_APPLICABLE)
    )
    if dep != "(tous)":
        outside = outside.filter(pl.col("departement") == dep)
    st.dataframe(
        outside.select(
            pl.col("departement").alias("Dép."),
            pl.col("entite").alias("Entité"),
            pl.col("nom_entite").alias("Nom"),
            pl.col("motif").alias("Raison"),
        ),
        hide_index=True,
        width="stretch",
    )
with st.expander("Écarts par établissement (toutes exigences)"):
    st.dataframe(
        quality.ecarts_by_establishment(results, data["etablissements"]).rename(
            {
                "finess_eg": "FINESS EG",
                "raison_sociale": "Établissement",
                "departement": "Dép.",
                "ecarts": "Écarts",
            }
        ),
        hide_index=True,
        width="stretch",
    )
all_ecarts = quality.ecarts(results)
d1, d2 = st.columns(2)
csv_download(d1, "Écarts de l'exigence (CSV)", selected,
             f"ecarts_{chosen}_{ctx.date.isoformat()}.csv")
excel_download(d2, "Tableau et tous les écarts (Excel)",
               {"exigences": table, "ecarts": all_ecarts},
               f"qualite_ror_{ctx.date.isoformat()}.xlsx")

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
    from analysis import demo

    report = quality.read_vt_report_frame(demo.vt_sync_report(data, ctx.date, ctx.region))
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
    detail = quality.vt_report_detail(report, data, ctx.date, departements)
    rate = quality.vt_sync_rate(detail)
    status = sync.unit_status(data, ctx.date)
    ours = sync.status_counts(status, data["etablissements"], by="departement")
    whole = rate.filter(pl.col("departement") == quality.ENSEMBLE)
    v = st.columns(3)
    v[0].metric(
        "Taux national (établissements)",
        pct(whole["taux"][0] if whole.height else None),
        help="« Mise à jour de l'offre active » ÷ établissements suivis du rapport.",
    )
    v[1].metric("Établissements suivis", fmt_int(whole["perimetre_vt"][0] if whole.height else 0))
    v[2].metric(
        "Taux des unités (atelier)",
        pct(
            sync.status_counts(status, data["etablissements"], by="ensemble")["taux_synchronise"][0]
        ),
        help="(Synchronisées + en attente) ÷ unités, page Synchronisation.",
    )
    beside = (
        rate.filter(pl.col("departement") != quality.ENSEMBLE)
        .join(
            ours.select("departement", "total", "taux_synchronise"),
            on="departement",
            how="full",
            coalesce=True,
        )
        .select(
            pl.col("departement").alias("Département"),
            pl.col("perimetre_vt").alias("Établissements suivis"),
            pl.col("synchronises").alias("Synchronisés"),
            (pl.col("taux") * 100).alias("Taux national (%)"),
            pl.col("total").alias("Unités"),
            (pl.col("taux_synchronise") * 100).alias("Taux des unités (%)"),
        )
        .sort("Département")
    )
    st.dataframe(
        beside,
        hide_index=True,
        width="stretch",
        column_config={
            c: st.column_config.NumberColumn(format="%.1f")
            for c in ("Taux national (%)", "Taux des unités (%)")
        },
    )
    comparison = quality.vt_comparison(detail, status, data["etablissements"])
    constats = sorted(comparison["constat"].unique().to_list())
    wanted = [c for c in constats if not c.startswith("concordant")]
    picked = st.multiselect(
        "Constats", options=constats, default=wanted, key="qualite_constats",
        placeholder="Choisir un ou plusieurs constats",
    )
    st.dataframe(
        comparison.filter(pl.col("constat").is_in(picked)).select(
            pl.col("departement").alias("Dép."),
            pl.col("finess_eg").alias("FINESS EG"),
            pl.col("raison_sociale").alias("Établissement"),
            pl.col("etat_synchronisation_ror").alias("État ViaTrajectoire"),
            pl.col("date_synchronisation").alias("Synchronisation"),
            *[pl.col(s).alias(sync.STATUS_SHORT_LABELS[s]) for s in sync.STATUSES],
            pl.col("constat").alias("Constat"),
        ),
        hide_index=True,
        width="stretch",
    )
    excluded = detail.filter(~pl.col("suivi"))
    if excluded.height:
        with st.expander(f"Lignes du rapport hors du taux national ({excluded.height})"):
            st.dataframe(
                excluded.select(
                    pl.col("finess").alias("Finess"),
                    pl.col("nom_etablissement").alias("Nom"),
                    pl.col("domaine").alias("Domaine"),
                    pl.col("motif_exclusion").alias("Motif"),
                ),
                hide_index=True,
                width="stretch",
            )
    st.download_button(
        "Comparaison par établissement (CSV)",
        data=export.csv_bytes(comparison),
        file_name=f"synchro_vt_{ctx.date.isoformat()}.csv",
        mime="text/csv", on_click="ignore",
    )
    notes.method_notes(
        ["synchro_vt_taux", "synchro_vt_concordance"], "synchronisation ViaTrajectoire"
    )
