"""National ROR quality requirements for SMR: evaluation of ``REQUIREMENTS`` on a snapshot by
the check engine, and the national weekly aggregates (per requirement × département), écarts
and écarts per establishment.

The requirement table and the decisions on its semantics are in ``rules``, the frames of its
levels in ``frames``, the parameters and the former readings of the workbench in
``readings``; this module also gives their names to the callers that import them from here.
The population follow-up over quarters is in ``population``, the ViaTrajectoire sync report
in ``vt_report``, the reading of a FINESS reference file in ``analysis.io.finess_reference``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence

import polars as pl

from analysis.checks import engine
from analysis.checks.engine import Check
from analysis.checks.quality.frames import (
    A_FAIRE,
    AUTORISATION,
    AUTORISE,
    CADUC,
    CHAMP_SMR_LABEL,
    DEPARTEMENT_INCONNU,
    EG_FINESS,
    EG_ROR,
    EN_COURS,
    ENSEMBLE,
    FERME_DEF,
    FERME_PRO,
    FINALISE,
    FLAGS,
    LEVEL_FRAMES,
    LEVELS,
    NON_RAPPROCHE,
    OUVERT,
    PEUPLEMENT,
    PEUPLEMENT_LABELS,
    UNITE,
    eg_population_status,
    has_finess_reference,
    re12_scope,
    re12_scope_text,
    re12_threshold,
    region_departements,
    rounded_percent,
    smr_authorisation_expr,
    unit_flags,
)
from analysis.checks.quality.readings import (
    READING_BY_SWITCH,
    READINGS,
    QualityParams,
    Reading,
)
from analysis.checks.quality.rules import (
    CONFORME,
    ECART,
    NEEDS_FINESS,
    NON_APPLICABLE,
    REQUIREMENT_BY_CODE,
    REQUIREMENTS,
    STATUT_LABELS,
    STATUTS,
    VOCABULARY,
    requirements_frame,
)

__all__ = [
    "A_FAIRE",
    "AUTORISATION",
    "AUTORISE",
    "CADUC",
    "CHAMP_SMR_LABEL",
    "CONFORME",
    "DEPARTEMENT_INCONNU",
    "ECART",
    "EG_FINESS",
    "EG_ROR",
    "EN_COURS",
    "ENSEMBLE",
    "FERME_DEF",
    "FERME_PRO",
    "FINALISE",
    "FLAGS",
    "LEVELS",
    "NON_APPLICABLE",
    "NON_RAPPROCHE",
    "OUVERT",
    "PEUPLEMENT",
    "PEUPLEMENT_LABELS",
    "READINGS",
    "READING_BY_SWITCH",
    "REQUIREMENTS",
    "REQUIREMENT_BY_CODE",
    "RESULTS_SCHEMA",
    "STATUTS",
    "STATUT_LABELS",
    "SUMMARY_SCHEMA",
    "UNITE",
    "VOCABULARY",
    "QualityParams",
    "Reading",
    "counts_lazy",
    "ecarts",
    "ecarts_by_establishment",
    "eg_population_status",
    "evaluate",
    "evaluate_lazy",
    "evaluated",
    "has_finess_reference",
    "re12_scope",
    "re12_scope_text",
    "re12_threshold",
    "region_departements",
    "requirements_frame",
    "rounded_percent",
    "skipped",
    "smr_authorisation_expr",
    "summary",
    "unit_flags",
]


def skipped(
    tables: Mapping[str, pl.DataFrame | pl.LazyFrame],
    requirements: Sequence[Check] = REQUIREMENTS,
) -> dict[str, str]:
    """Requirements that cannot be evaluated on ``tables``, with the French reason."""
    if has_finess_reference(tables):
        return {}
    return {
        r.id: "référentiel FINESS absent de l'instantané (option --finess ou fichier FINESS)"
        for r in requirements
        if NEEDS_FINESS[0] in r.needs
    }


RESULTS_SCHEMA: dict[str, pl.DataType] = {
    "exigence": pl.String(),
    "niveau": pl.String(),
    "entite": pl.String(),
    "nom_entite": pl.String(),
    "finess_eg": pl.String(),
    "departement": pl.String(),
    "statut": pl.String(),
    "motif": pl.String(),
    "valeur": pl.String(),
}


def _frames(
    tables: Mapping[str, pl.DataFrame | pl.LazyFrame], as_of: dt.date, params: QualityParams
) -> Callable[[str], pl.LazyFrame]:
    """The engine's level → frame function on ``tables`` (``frames.LEVEL_FRAMES``)."""
    limit = re12_threshold(as_of, params.re12_window_years)

    def frame(level: str) -> pl.LazyFrame:
        return LEVEL_FRAMES[level](tables, as_of, params).with_columns(
            pl.lit(limit).alias("_limite_re12"), pl.lit(as_of).alias("_date_instantane")
        )

    return frame


def evaluate_lazy(
    tables: Mapping[str, pl.DataFrame | pl.LazyFrame],
    as_of: dt.date,
    params: QualityParams | None = None,
    requirements: Sequence[Check] = REQUIREMENTS,
) -> pl.LazyFrame:
    """Lazy ``evaluate`` (same columns, not sorted): the engine's evaluation, one plan per
    level."""
    params = params or QualityParams()
    missing = skipped(tables, requirements)
    chosen = [r for r in requirements if r.id not in missing]
    long = engine.evaluate_lazy(
        _frames(tables, as_of, params),
        chosen,
        params,
        VOCABULARY,
        LEVELS,
        carry=["finess_eg", "departement"],
    )
    return long.select(list(RESULTS_SCHEMA))


def counts_lazy(
    tables: Mapping[str, pl.DataFrame | pl.LazyFrame],
    as_of: dt.date,
    params: QualityParams | None = None,
    requirements: Sequence[Check] = REQUIREMENTS,
) -> pl.LazyFrame:
    """Per requirement evaluated on ``tables``: ``exigence``, ``conformes``, ``perimetre``,
    ``taux``, as the ``ensemble`` rows of ``summary(evaluate(…))`` give them, without building
    the per-entity results (``engine.counts_lazy``). Requirements with an empty perimeter
    are left out."""
    params = params or QualityParams()
    missing = skipped(tables, requirements)
    chosen = [r for r in requirements if r.id not in missing]
    return engine.counts_lazy(_frames(tables, as_of, params), chosen, params, VOCABULARY, LEVELS)


def evaluate(
    tables: Mapping[str, pl.DataFrame | pl.LazyFrame],
    as_of: dt.date,
    params: QualityParams | None = None,
    requirements: Sequence[Check] = REQUIREMENTS,
) -> pl.DataFrame:
    """Status of every entity for every requirement of a snapshot (one row per pair).

    ``as_of`` is the snapshot date (the load date of the national views). Columns
    (``RESULTS_SCHEMA``): ``exigence``, ``niveau``, ``entite`` (FINESS, uo_id or « FINESS
    mention »), ``nom_entite``, ``finess_eg``, ``departement``, ``statut`` (conforme / ecart /
    non_applicable), ``motif`` (French reason of an écart or of the exclusion), ``valeur``
    (the values compared). Requirements that need the FINESS reference are left out when the
    tables have none (see ``skipped``). Sorted by requirement order, département, entity.
    """
    order = {r.id: i for i, r in enumerate(requirements)}
    return (
        evaluate_lazy(tables, as_of, params, requirements)
        .with_columns(pl.col("exigence").replace_strict(order, return_dtype=pl.Int32).alias("_o"))
        .sort("_o", "departement", "entite", nulls_last=True)
        .drop("_o")
        .collect()
        .cast(RESULTS_SCHEMA)  # type: ignore[arg-type]
    )


SUMMARY_SCHEMA: dict[str, pl.DataType] = {
    "exigence": pl.String(),
    "libelle": pl.String(),
    "departement": pl.String(),
    "perimetre": pl.Int64(),
    "conformes": pl.Int64(),
    "ecarts": pl.Int64(),
    "non_applicables": pl.Int64(),
    "taux": pl.Float64(),
}


def _counts(frame: pl.LazyFrame, keys: list[str]) -> pl.LazyFrame:
    """Conformes, écarts, non applicables, périmètre and rate per ``keys`` (the engine's)."""
    return engine.counts(frame, keys, VOCABULARY)


def evaluated(
    tables: Mapping[str, pl.DataFrame | pl.LazyFrame],
    requirements: Sequence[Check] = REQUIREMENTS,
) -> list[str]:
    """Codes of the requirements ``evaluate`` computes on ``tables`` (not ``skipped``)."""
    missing = skipped(tables, requirements)
    return [r.id for r in requirements if r.id not in missing]


def summary(
    results: pl.DataFrame,
    with_total: bool = True,
    requirements: Sequence[Check] = REQUIREMENTS,
    codes: Sequence[str] | None = None,
) -> pl.DataFrame:
    """The weekly-table aggregate: one row per requirement × département.

    Columns (``SUMMARY_SCHEMA``): ``exigence``, ``libelle``, ``departement``, ``perimetre``
    (entities in scope: conforme + écart), ``conformes``, ``ecarts``, ``non_applicables``,
    ``taux`` (conformes ÷ périmètre, 0–1, null when the perimeter is empty). With
    ``with_total``, each requirement also has a row ``departement = "ensemble"``. ``codes``
    lists the requirements evaluated (``evaluated``): one without any entity still gets an
    empty ``ensemble`` row, so that it shows as evaluated with an empty perimeter.
    """
    lazy = results.lazy()
    present = set(results["exigence"].unique().to_list())
    empty_codes = [c for c in (codes or []) if c not in present]
    if empty_codes and with_total:
        lazy = pl.concat(
            [
                lazy,
                pl.DataFrame(
                    {
                        "exigence": empty_codes,
                        "departement": [ENSEMBLE] * len(empty_codes),
                        "statut": [None] * len(empty_codes),
                    },
                    schema={"exigence": pl.String, "departement": pl.String, "statut": pl.String},
                ).lazy(),
            ],
            how="diagonal",
        )
    parts = [
        _counts(lazy.filter(~pl.col("exigence").is_in(empty_codes)), ["exigence", "departement"])
    ]
    if with_total:
        parts.append(
            _counts(lazy, ["exigence"]).with_columns(pl.lit(ENSEMBLE).alias("departement"))
        )
    labels = {r.id: r.label for r in requirements}
    order = {r.id: i for i, r in enumerate(requirements)}
    out = (
        pl.concat(
            [p.select(list(SUMMARY_SCHEMA.keys() - {"libelle"})) for p in parts], how="diagonal"
        )
        .with_columns(
            pl.col("exigence").replace_strict(labels, default=None).alias("libelle"),
            pl.col("exigence").replace_strict(order, default=len(order)).alias("_o"),
            (pl.col("departement") == ENSEMBLE).alias("_t"),
        )
        .sort("_o", "_t", "departement")
        .select(list(SUMMARY_SCHEMA))
        .collect()
    )
    return out.cast(SUMMARY_SCHEMA)  # type: ignore[arg-type]


def ecarts(
    results: pl.DataFrame,
    exigence: str | None = None,
    departement: str | None = None,
    requirements: Sequence[Check] = REQUIREMENTS,
) -> pl.DataFrame:
    """The entities in écart (optionally of one requirement and one département), with the
    requirement's label and the action expected: ``exigence``, ``libelle``, ``departement``,
    ``finess_eg``, ``entite``, ``nom_entite``, ``motif``, ``valeur``, ``aide``."""
    out = results.filter(pl.col("statut") == ECART)
    if exigence is not None:
        out = out.filter(pl.col("exigence") == exigence)
    if departement is not None and departement != ENSEMBLE:
        out = out.filter(pl.col("departement") == departement)
    meta = requirements_frame(requirements).select("exigence", "libelle", "aide")
    return out.join(meta, on="exigence", how="left").select(
        "exigence",
        "libelle",
        "departement",
        "finess_eg",
        "entite",
        "nom_entite",
        "motif",
        "valeur",
        "aide",
    )


def ecarts_by_establishment(
    results: pl.DataFrame,
    etablissements: pl.DataFrame | None = None,
    requirements: Sequence[Check] = REQUIREMENTS,
) -> pl.DataFrame:
    """Écarts per establishment (FINESS EG), one column per requirement, most first.

    Columns: ``finess_eg``, ``raison_sociale`` (from ``etablissements`` when given, else the
    entity's name for EG-level requirements), ``departement``, ``ecarts`` (all requirements)
    and one count per requirement code that has écarts. Unit and authorisation écarts count
    for their establishment.
    """
    found = results.filter(pl.col("statut") == ECART)
    codes = [r.id for r in requirements if r.id in set(found["exigence"].to_list())]
    names = (
        found.filter(pl.col("niveau").is_in([EG_ROR, EG_FINESS]))
        .select("finess_eg", pl.col("nom_entite").alias("_nom"))
        .unique("finess_eg", keep="first")
    )
    out = (
        found.group_by("finess_eg")
        .agg(
            pl.col("departement").first(),
            pl.len().cast(pl.Int64).alias("ecarts"),
            *[(pl.col("exigence") == c).sum().cast(pl.Int64).alias(c) for c in codes],
        )
        .join(names, on="finess_eg", how="left")
    )
    if etablissements is not None:
        info = etablissements.select("finess_eg", pl.col("raison_sociale").alias("_rs")).unique(
            "finess_eg", keep="first"
        )
        out = out.join(info, on="finess_eg", how="left").with_columns(
            pl.coalesce("_rs", "_nom").alias("_nom")
        )
    return out.select(
        "finess_eg", pl.col("_nom").alias("raison_sociale"), "departement", "ecarts", *codes
    ).sort(["ecarts", "finess_eg"], descending=[True, False])



