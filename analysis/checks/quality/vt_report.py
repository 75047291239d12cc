"""The ViaTrajectoire sync report that VT sends to the ANS: matched with the FINESS reference,
and the national synchronisation rate.

The report is read from its file by ``analysis.io.vt_report_file`` (CSV with the encodings
and separators of the other loaders, or Excel) and comes here as a frame; its national rate
counts « distinct
FINESS numbers whose EtatSynchronisationROR = 'Mise à jour de l'offre active' (the only status
counted as synchronised) » over the distinct FINESS numbers of the report, after excluding
definitive closures in VT or FINESS (DEF, ERR, NDI, CHP, EML), categories whose sync is not
followed and, when a FINESS reference is given, numbers it does not know (« VT rows with no
FINESS match are dropped »). Statuses are compared without regard to case, accents or the
apostrophe's shape.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

import polars as pl

from analysis.checks.quality.frames import _closed, _table
from analysis.checks.quality.requirements import (
    DEPARTEMENT_INCONNU,
    ENSEMBLE,
    SUMMARY_SCHEMA,
    has_finess_reference,
)
from analysis.indicators import sync
from analysis.io.vt_report_file import VT_REPORT_COLUMNS
from analysis.model import insee, schema
from analysis.model import nomenclature as nom
from analysis.model.text import fold as _fold_text

# ------------------------------------------------------------------- ViaTrajectoire report

#: The only status counted as synchronised by the national indicator.
VT_SYNC_ACTIVE = "Mise à jour de l’offre active"
VT_CLOSED = "Fermeture Définitive"
#: The VT domain of SMR establishments (« Sanitaire » ↔ ROR « SMR » in the ANS view).
DOMAINE_SMR = "Sanitaire"


def vt_report_detail(
    report: pl.DataFrame,
    tables: Mapping[str, pl.DataFrame | pl.LazyFrame] | None = None,
    as_of: dt.date | None = None,
    departements: Sequence[str] = (),
) -> pl.DataFrame:
    """The report's rows with the national exclusions and the synchronised flag.

    With a FINESS reference in ``tables``: FINESS state (``etat_finess``), category,
    département from the FINESS commune; rows excluded (``suivi`` False, ``motif_exclusion``)
    for a definitive closure in VT (« Fermeture Définitive ») or FINESS (closure type DEF,
    ERR, NDI, CHP, EML), a category whose sync is not followed, a domicile category (209,
    460: separate national branch), or a number FINESS does not know. Without it, only the
    VT closure excludes, and the département comes from the FINESS number.
    ``synchronise`` is True for « Mise à jour de l'offre active » (case, accents and the
    apostrophe's shape ignored). ``departements`` keeps the rows of the région's
    départements (the national file covers every région); empty: all rows.
    """
    tables = tables or {}
    as_of = as_of or dt.date.today()
    with_ref = has_finess_reference(tables)
    active = _fold_text(VT_SYNC_ACTIVE)
    closed_vt = _fold_text(VT_CLOSED)
    folded_state = pl.col("etat_synchronisation_ror").map_elements(
        _fold_text, return_dtype=pl.String, skip_nulls=True
    )
    folded_vt = pl.col("etat_vt").map_elements(_fold_text, return_dtype=pl.String, skip_nulls=True)
    frame = report.lazy()
    if with_ref:
        ref = (
            _table(tables, "finess_etablissements")
            .unique("finess_eg", keep="first")
            .select(
                pl.col("finess_eg").alias("finess"),
                pl.lit(True).alias("_connu"),
                pl.col("categorie"),
                pl.col("commune_insee"),
                pl.col("date_ouverture"),
                pl.col("date_fermeture"),
                pl.col("type_fermeture"),
                pl.col("caduc").fill_null(False).alias("_caduc"),
            )
        )
        frame = frame.join(ref, on="finess", how="left").with_columns(
            pl.col("_connu").fill_null(False)
        )
        f_closed = _closed("date_fermeture", as_of)
        etat = (
            pl.when(~pl.col("_connu"))
            .then(pl.lit("Non identifié"))
            .when(f_closed & (pl.col("type_fermeture") == nom.FERMETURE_PROVISOIRE))
            .then(pl.lit("Fermeture provisoire"))
            .when(f_closed)
            .then(pl.lit("Fermeture définitive"))
            .when(pl.col("_caduc"))
            .then(pl.lit("Caduc"))
            .when(pl.col("date_ouverture").is_null() | (pl.col("date_ouverture") > pl.lit(as_of)))
            .then(pl.lit("Autorisé"))
            .otherwise(pl.lit("Ouvert"))
        )
        departement = insee.departement_expr("commune_insee", "finess").fill_null(
            DEPARTEMENT_INCONNU
        )
        exclusions = [
            (folded_vt == closed_vt, "fermeture définitive dans ViaTrajectoire"),
            (~pl.col("_connu"), "numéro FINESS inconnu du référentiel FINESS"),
            (
                f_closed & pl.col("type_fermeture").is_in(sorted(nom.TYPES_FERMETURE_FINESS_FIN)),
                "fermeture définitive dans FINESS",
            ),
            (
                pl.col("categorie").is_in(sorted(nom.CATEGORIES_DOMICILE)),
                "catégorie 209 ou 460 (domicile) : suivie à part au niveau national",
            ),
            (
                pl.col("categorie").is_in(sorted(nom.CATEGORIES_SYNCHRO_NON_SUIVIES)),
                "catégorie dont la synchronisation n'est pas suivie",
            ),
        ]
    else:
        frame = frame.with_columns(
            pl.lit(None, pl.String).alias("categorie"),
        )
        etat = pl.lit(None, pl.String)
        departement = (
            pl.col("finess")
            .str.slice(0, 2)
            .replace({"9A": "971", "9B": "972", "9C": "973", "9D": "974", "9E": "975", "9F": "976"})
            .fill_null(DEPARTEMENT_INCONNU)
        )
        exclusions = [(folded_vt == closed_vt, "fermeture définitive dans ViaTrajectoire")]
    reason = pl.when(exclusions[0][0].fill_null(False)).then(pl.lit(exclusions[0][1]))
    for cond, why in exclusions[1:]:
        reason = reason.when(cond.fill_null(False)).then(pl.lit(why))
    reason = reason.otherwise(pl.lit(None, pl.String))
    frame = frame.with_columns(departement.alias("departement"))
    if departements:
        frame = frame.filter(pl.col("departement").is_in(list(departements)))
    return (
        frame.with_columns(
            etat.alias("etat_finess"),
            reason.alias("motif_exclusion"),
            (folded_state == active).fill_null(False).alias("synchronise"),
        )
        .with_columns(pl.col("motif_exclusion").is_null().alias("suivi"))
        .select(
            "ligne",
            "finess",
            "nom_etablissement",
            "code_region",
            "departement",
            "domaine",
            "categorie",
            "etat_vt",
            "etat_finess",
            "etat_synchronisation_ror",
            "date_synchronisation",
            "synchronise",
            "suivi",
            "motif_exclusion",
        )
        .sort("ligne")
        .collect()
    )


VT_RATE_SCHEMA: dict[str, pl.DataType] = {
    "domaine": pl.String(),
    "departement": pl.String(),
    "perimetre_vt": pl.Int64(),
    "synchronises": pl.Int64(),
    "taux": pl.Float64(),
}


def vt_sync_rate(
    detail: pl.DataFrame, domaine: str | None = DOMAINE_SMR, with_total: bool = True
) -> pl.DataFrame:
    """The national sync rate per domain and département (``VT_RATE_SCHEMA``).

    ``perimetre_vt``: distinct FINESS numbers of the followed rows; ``synchronises``: those
    with a « Mise à jour de l'offre active » row; ``taux`` = synchronises ÷ perimetre_vt.
    ``domaine`` keeps one VT domain (« Sanitaire » for SMR; None: every domain).
    """
    rows = detail.lazy().filter(pl.col("suivi"))
    if domaine is not None:
        target = _fold_text(domaine)
        rows = rows.filter(
            pl.col("domaine").map_elements(_fold_text, return_dtype=pl.String, skip_nulls=True)
            == target
        )

    def counts(keys: list[str]) -> pl.LazyFrame:
        return rows.group_by(keys).agg(
            pl.col("finess").n_unique().cast(pl.Int64).alias("perimetre_vt"),
            pl.col("finess")
            .filter(pl.col("synchronise"))
            .n_unique()
            .cast(pl.Int64)
            .alias("synchronises"),
        )

    parts = [counts(["domaine", "departement"])]
    if with_total:
        parts.append(counts(["domaine"]).with_columns(pl.lit(ENSEMBLE).alias("departement")))
    out = (
        pl.concat(
            [p.select("domaine", "departement", "perimetre_vt", "synchronises") for p in parts]
        )
        .with_columns(
            pl.when(pl.col("perimetre_vt") > 0)
            .then(pl.col("synchronises") / pl.col("perimetre_vt"))
            .alias("taux"),
            (pl.col("departement") == ENSEMBLE).alias("_t"),
        )
        .sort("domaine", "_t", "departement", nulls_last=True)
        .drop("_t")
        .collect()
    )
    return out.cast(VT_RATE_SCHEMA)  # type: ignore[arg-type]


#: Code of the sync rate in the requirement tables of ``smr qualite``.
SYNCHRO_VT = "SYNCHRO-VT"
SYNCHRO_VT_LABEL = "Synchronisation ROR → ViaTrajectoire (indicateur national)"


def vt_rate_as_summary(rate: pl.DataFrame) -> pl.DataFrame:
    """The sync rate in the shape of ``summary`` (écarts = not synchronised), to be appended
    to the requirement table of ``smr qualite``."""
    return rate.select(
        pl.lit(SYNCHRO_VT).alias("exigence"),
        pl.lit(SYNCHRO_VT_LABEL).alias("libelle"),
        "departement",
        pl.col("perimetre_vt").alias("perimetre"),
        pl.col("synchronises").alias("conformes"),
        (pl.col("perimetre_vt") - pl.col("synchronises")).alias("ecarts"),
        pl.lit(0, pl.Int64).alias("non_applicables"),
        "taux",
    ).cast(SUMMARY_SCHEMA)  # type: ignore[arg-type]


_CONCORDANCE_SCHEMA: dict[str, pl.DataType] = {
    "finess_eg": pl.String(),
    "raison_sociale": pl.String(),
    "departement": pl.String(),
    "etat_synchronisation_ror": pl.String(),
    "date_synchronisation": pl.Datetime("us"),
    "synchronise_national": pl.Boolean(),
    "suivi": pl.Boolean(),
    **{s: pl.Int64() for s in sync.STATUSES},
    "unites": pl.Int64(),
    "taux_unites": pl.Float64(),
    "constat": pl.String(),
}


def vt_comparison(
    detail: pl.DataFrame,
    unit_status: pl.DataFrame,
    etablissements: pl.DataFrame | None = None,
    domaine: str | None = DOMAINE_SMR,
) -> pl.DataFrame:
    """The national status of each establishment beside our unit-level statuses.

    ``detail`` is ``vt_report_detail``; ``unit_status`` is ``sync.unit_status`` of the
    snapshot. One row per FINESS EG of the report (domain ``domaine``) or of our units;
    columns ``_CONCORDANCE_SCHEMA``: national status and flag, unit counts per sync status,
    ``taux_unites`` ((synchronisées + en attente) ÷ unités, as ``sync.status_counts``) and
    ``constat`` (French: concordant, or what differs).
    """
    rows = detail.lazy()
    if domaine is not None:
        target = _fold_text(domaine)
        rows = rows.filter(
            pl.col("domaine").map_elements(_fold_text, return_dtype=pl.String, skip_nulls=True)
            == target
        )
    national = (
        rows.group_by("finess")
        .agg(
            pl.col("etat_synchronisation_ror").sort_by("synchronise", descending=True).first(),
            pl.col("date_synchronisation").max(),
            pl.col("synchronise").any().alias("synchronise_national"),
            pl.col("suivi").any(),
            pl.col("nom_etablissement").first(),
            pl.col("departement").first().alias("_dep_vt"),
        )
        .rename({"finess": "finess_eg"})
    )
    units = (
        unit_status.lazy()
        .filter(pl.col("finess_eg").is_not_null())
        .group_by("finess_eg")
        .agg(
            *[(pl.col("statut") == s).sum().cast(pl.Int64).alias(s) for s in sync.STATUSES],
            pl.len().cast(pl.Int64).alias("unites"),
        )
    )
    etabs = etablissements if etablissements is not None else schema.empty("etablissements")
    info = sync.establishments_info(etabs).select(
        "finess_eg",
        pl.col("raison_sociale").alias("_rs"),
        pl.col("departement").alias("_dep"),
        pl.lit(True).alias("_dans_ror"),
    )
    problems = pl.col(sync.DESYNCHRONISE) + pl.col(sync.ABSENT_VT) + pl.col(sync.ABSENT_ROR)
    ok = pl.col(sync.SYNCHRONISE) + pl.col(sync.EN_ATTENTE)
    in_report = pl.col("synchronise_national").is_not_null()
    constat = (
        pl.when(~in_report)
        .then(pl.lit("absent du rapport ViaTrajectoire"))
        .when(~pl.col("_dans_ror"))
        .then(pl.lit("établissement absent du ROR de l'instantané"))
        .when(~pl.col("suivi"))
        .then(pl.lit("hors périmètre du taux national"))
        .when(pl.col("unites") == 0)
        .then(pl.lit("aucune unité dans l'instantané"))
        .when(pl.col("synchronise_national") & (problems == 0))
        .then(pl.lit("concordant : synchronisé"))
        .when(pl.col("synchronise_national"))
        .then(pl.format("synchronisé selon ViaTrajectoire, mais {} unité(s) à vérifier", problems))
        .when(problems > 0)
        .then(pl.format("concordant : non synchronisé ({} unité(s) en écart)", problems))
        .otherwise(pl.lit("non synchronisé selon ViaTrajectoire alors que les unités le sont"))
    )
    return (
        national.join(units, on="finess_eg", how="full", coalesce=True)
        .join(info, on="finess_eg", how="left")
        .with_columns(
            *[pl.col(s).fill_null(0) for s in sync.STATUSES],
            pl.col("unites").fill_null(0),
            pl.col("_dans_ror").fill_null(False),
        )
        .with_columns(
            pl.coalesce("_rs", "nom_etablissement").alias("raison_sociale"),
            pl.coalesce("_dep", "_dep_vt").fill_null(DEPARTEMENT_INCONNU).alias("departement"),
            pl.when(pl.col("unites") > 0).then(ok / pl.col("unites")).alias("taux_unites"),
            constat.alias("constat"),
        )
        .select(list(_CONCORDANCE_SCHEMA))
        .sort("departement", "finess_eg")
        .collect()
        .cast(_CONCORDANCE_SCHEMA)  # type: ignore[arg-type]
    )


def vt_report_from_frame(frame: pl.DataFrame) -> pl.DataFrame:
    """A report frame in the national file's column names (for writing an example file)."""
    inverse = {v: k for k, v in VT_REPORT_COLUMNS.items()}
    return frame.select([pl.col(name).alias(inverse[name]) for name in VT_REPORT_COLUMNS.values()])
