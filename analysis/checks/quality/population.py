"""Population follow-up of the ROR (« suivi du peuplement ») for SMR: per establishment and
per quarter, from the requirement evaluation of each snapshot (the ANS quarterly follow-up).

Across snapshots the store is read only through ``analysis.io.history.over_snapshots``
(needed columns, checksums verified once per snapshot); the computations take frames.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import polars as pl

from analysis.checks.quality.frames import _eg_finess_frame
from analysis.checks.quality.requirements import (
    A_FAIRE,
    CHAMP_SMR_LABEL,
    EN_COURS,
    ENSEMBLE,
    FINALISE,
    PEUPLEMENT,
    QualityParams,
    counts_lazy,
    evaluated,
)
from analysis.io import store
from analysis.io.history import HISTORY_BATCH, Batch, over_snapshots, stacked
from analysis.model import schema
from analysis.model.progress import Progress

# ------------------------------------------------------------------- population follow-up


def establishment_population(
    tables: Mapping[str, pl.DataFrame | pl.LazyFrame],
    as_of: dt.date,
    params: QualityParams | None = None,
) -> pl.DataFrame:
    """Population status of every target EG × champ SMR (the ANS « cible de peuplement »).

    Target: FINESS EGs open at ``as_of``, not caduc, outside département 975, of a Sanitaire
    category, holding an SMR authorisation (or, without FINESS reference, the open ROR EGs
    with one: ``perimetre_source`` = ROR). Columns: ``finess_eg``, ``raison_sociale``,
    ``departement``, ``categorie``, ``champ`` (SMR), ``dans_ror``, ``nb_unites``,
    ``nb_finalisees``, ``nb_en_cours``, ``statut_peuplement``, ``perimetre_source``.
    """
    frame = _eg_finess_frame(tables, as_of, params or QualityParams())
    return (
        frame.filter(pl.col("cible_smr"))
        .select(
            "finess_eg",
            "raison_sociale",
            "departement",
            "categorie",
            pl.lit(CHAMP_SMR_LABEL).alias("champ"),
            "dans_ror",
            "nb_unites",
            "nb_finalisees",
            "nb_en_cours",
            "statut_peuplement",
            "perimetre_source",
        )
        .sort("departement", "finess_eg")
        .collect()
    )


POPULATION_SCHEMA: dict[str, pl.DataType] = {
    "departement": pl.String(),
    "perimetre": pl.Int64(),
    FINALISE: pl.Int64(),
    EN_COURS: pl.Int64(),
    A_FAIRE: pl.Int64(),
    "taux_finalise": pl.Float64(),
}


def population_counts(population: pl.DataFrame, with_total: bool = True) -> pl.DataFrame:
    """Target EGs per status and département (``POPULATION_SCHEMA``): ``perimetre`` (the
    ANS ``NB_EG_PerimetreFiness``), ``finalise``, ``en_cours``, ``a_faire``,
    ``taux_finalise`` (finalisés ÷ périmètre, 0–1); a ``ensemble`` row with ``with_total``."""

    def counts(keys: list[str]) -> pl.LazyFrame:
        return (
            population.lazy()
            .group_by(keys or pl.lit(ENSEMBLE).alias("departement"))
            .agg(
                pl.len().cast(pl.Int64).alias("perimetre"),
                *[
                    (pl.col("statut_peuplement") == s).sum().cast(pl.Int64).alias(s)
                    for s in PEUPLEMENT
                ],
            )
        )

    parts = [counts(["departement"])]
    if with_total:
        parts.append(counts([]))
    out = (
        pl.concat(parts)
        .with_columns(
            pl.when(pl.col("perimetre") > 0)
            .then(pl.col(FINALISE) / pl.col("perimetre"))
            .alias("taux_finalise"),
            (pl.col("departement") == ENSEMBLE).alias("_t"),
        )
        .sort("_t", "departement")
        .select(list(POPULATION_SCHEMA))
        .collect()
    )
    if out.filter(pl.col("departement") == ENSEMBLE).height == 0 and with_total:
        out = pl.concat(
            [
                out,
                pl.DataFrame(
                    [
                        {
                            "departement": ENSEMBLE,
                            "perimetre": 0,
                            FINALISE: 0,
                            EN_COURS: 0,
                            A_FAIRE: 0,
                            "taux_finalise": None,
                        }
                    ],
                    schema=POPULATION_SCHEMA,
                ),
            ]
        )
    return out.cast(POPULATION_SCHEMA)  # type: ignore[arg-type]


def quarter_end(day: dt.date) -> dt.date:
    """Last day of the quarter of ``day`` (the ANS ``DT_Reference`` of a quarterly figure)."""
    month = 3 * ((day.month - 1) // 3 + 1)
    following = dt.date(day.year + (month == 12), month % 12 + 1, 1)
    return following - dt.timedelta(days=1)


def quarter_label(day: dt.date) -> str:
    """« 2023-T2 » for a day of the second quarter of 2023."""
    return f"{day.year}-T{(day.month - 1) // 3 + 1}"


#: Columns read from each table by the quality computations (nothing else is read).
COLUMNS: dict[str, tuple[str, ...]] = {
    "etablissements": (
        "finess_eg", "finess_ej", "raison_sociale", "adresse", "code_postal", "commune_insee",
        "categorie", "id_nat_struct", "date_fermeture", "type_fermeture",
    ),
    "unites": (
        "uo_id", "finess_eg", "nom", "age_min", "age_max", "telephone", "responsable_nom",
        "responsable_telephone", "responsable_email", "date_maj", "champ_activite",
        "activite_operationnelle", "date_maj_contacts", "date_fermeture", "type_fermeture",
    ),
    "offres": ("uo_id", "mention", "forme", "lits", "places"),
    "autorisations": (
        "finess_eg", "regime", "activite", "mention", "forme", "date_mise_en_oeuvre",
        "date_fin",
    ),
    "finess_etablissements": tuple(schema.TABLES["finess_etablissements"].names),
}  # fmt: skip


def read_quality_tables(
    store_path: str | Path, date: dt.date, finess: pl.DataFrame | None = None
) -> dict[str, pl.DataFrame]:
    """The tables of one snapshot reduced to ``COLUMNS``; ``finess`` replaces the snapshot's
    FINESS reference when given. Read through ``over_snapshots`` (checksums verified)."""
    (tables,) = over_snapshots(store_path, list(COLUMNS), COLUMNS, Batch.snapshot, [date])
    if finess is not None:
        tables["finess_etablissements"] = schema.conform(finess, "finess_etablissements")
    return tables


HISTORY_SCHEMA: dict[str, pl.DataType] = {
    "date": pl.Date(),
    "exigence": pl.String(),
    "perimetre": pl.Int64(),
    "conformes": pl.Int64(),
    "ecarts": pl.Int64(),
    "taux": pl.Float64(),
}


def totals_lazy(
    tables: Mapping[str, pl.DataFrame | pl.LazyFrame],
    date: dt.date,
    params: QualityParams | None = None,
) -> pl.LazyFrame:
    """One snapshot's requirement totals (``HISTORY_SCHEMA``) as a lazy plan: the
    ``ensemble`` rows of ``summary(evaluate(…), codes=evaluated(…))``, counted by the
    engine without building the per-entity results (``requirements.counts_lazy``: no
    reason, value or sorting). The perimeter is the conformes and the écarts, so the écarts
    are the perimeter less the conformes. A requirement evaluated without any entity in its
    perimeter has an empty one (zeros, ``taux`` null)."""
    codes = evaluated(tables)
    counts = counts_lazy(tables, date, params)
    return (
        pl.LazyFrame({"exigence": codes}, schema={"exigence": pl.String()})
        .join(counts, on="exigence", how="left", maintain_order="left")
        .select(
            pl.lit(date).alias("date"),
            "exigence",
            pl.col("perimetre").fill_null(0),
            pl.col("conformes").fill_null(0),
            (pl.col("perimetre") - pl.col("conformes")).fill_null(0).alias("ecarts"),
            "taux",
        )
        .cast(HISTORY_SCHEMA)  # type: ignore[arg-type]
    )


#: Snapshots whose totals are computed side by side: building a snapshot's plan (Python,
#: with a few small collects) overlaps with running another's (Polars, outside the GIL).
TOTALS_WORKERS = 2


def _totals(batch: Batch, params: QualityParams | None,
            finess: pl.DataFrame | None = None) -> pl.DataFrame:
    """``totals_lazy`` of every snapshot of a batch, in date order."""
    snapshots = batch.snapshots()
    if finess is not None:
        for tables in snapshots.values():
            tables["finess_etablissements"] = schema.conform(finess, "finess_etablissements")

    def one(item: tuple[dt.date, dict[str, pl.DataFrame]]) -> pl.DataFrame:
        return totals_lazy(item[1], item[0], params).collect()

    if len(snapshots) == 1:
        return one(next(iter(snapshots.items())))
    with ThreadPoolExecutor(TOTALS_WORKERS) as pool:
        return pl.concat(list(pool.map(one, snapshots.items())))


def history_at(
    store_path: str | Path,
    date: dt.date,
    params: QualityParams | None = None,
    finess: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """One snapshot's requirement totals (``HISTORY_SCHEMA``), for trends across snapshots;
    ``finess`` replaces the snapshot's FINESS reference when given."""
    return stacked(
        store_path, list(COLUMNS), COLUMNS, lambda b: _totals(b, params, finess), [date],
        schema=HISTORY_SCHEMA,
    )


def history(
    store_path: str | Path,
    params: QualityParams | None = None,
    dates: Sequence[dt.date] | None = None,
    batch: int = HISTORY_BATCH,
    progress: Progress | None = None,
    skipped: list[dt.date] | None = None,
) -> pl.DataFrame:
    """Requirement totals at every snapshot (``date``, ``exigence``, ``perimetre``,
    ``conformes``, ``ecarts``, ``taux``), oldest first.

    Read through ``over_snapshots``: ``batch`` snapshots at a time, only ``COLUMNS``, each
    snapshot's requirements evaluated on its own date and counted in one plan per batch.
    ``progress`` hears of each batch; a corrupted snapshot raises ``StoreError``, or is left
    out and its date appended to ``skipped`` when that is a list."""
    return stacked(
        store_path, list(COLUMNS), COLUMNS, lambda b: _totals(b, params), dates,
        schema=HISTORY_SCHEMA, batch=batch, progress=progress, skipped=skipped,
    )


POPULATION_HISTORY_SCHEMA: dict[str, pl.DataType] = {
    "trimestre": pl.String(),
    "date_reference": pl.Date(),
    "date_instantane": pl.Date(),
    "trimestre_clos": pl.Boolean(),
    **POPULATION_SCHEMA,
}


def population_at(
    store_path: str | Path, date: dt.date, params: QualityParams | None = None
) -> pl.DataFrame:
    """``population_counts`` of one snapshot (per département and ``ensemble``)."""
    (counts,) = over_snapshots(
        store_path, list(COLUMNS), COLUMNS,
        lambda b: population_counts(establishment_population(b.snapshot(), date, params)),
        [date],
    )
    return counts


def quarter_snapshots(dates: Iterable[dt.date]) -> dict[dt.date, dt.date]:
    """Quarter end → the latest snapshot of that quarter (the quarterly reference point)."""
    out: dict[dt.date, dt.date] = {}
    for day in sorted(dates):
        out[quarter_end(day)] = day
    return out


def population_history(
    store_path: str | Path,
    dates: Sequence[dt.date] | None = None,
    params: QualityParams | None = None,
    skipped: list[dt.date] | None = None,
) -> pl.DataFrame:
    """Quarterly population follow-up: for each quarter holding a snapshot, the counts of its
    latest snapshot (``POPULATION_HISTORY_SCHEMA``). ``trimestre_clos`` is False for the
    quarter of the latest snapshot when it has not ended yet at that date (figures of a
    quarter in progress). Only the quarters' snapshots are read (``over_snapshots``); a
    corrupted one raises ``StoreError``, or is left out (its date appended to ``skipped``
    when that is a list) and its quarter shows the figures of no snapshot."""
    chosen = sorted(store.list_snapshots(store_path) if dates is None else dates)
    if not chosen:
        return pl.DataFrame(schema=POPULATION_HISTORY_SCHEMA)
    latest = chosen[-1]
    quarters = quarter_snapshots(chosen)
    end_of = {day: end for end, day in quarters.items()}

    def counts(batch: Batch) -> pl.DataFrame:
        parts = []
        for day, tables in batch.snapshots().items():
            end = end_of[day]
            parts.append(
                population_counts(establishment_population(tables, day, params)).select(
                    pl.lit(quarter_label(end)).alias("trimestre"),
                    pl.lit(end).alias("date_reference"),
                    pl.lit(day).alias("date_instantane"),
                    pl.lit(end <= latest).alias("trimestre_clos"),
                    *POPULATION_SCHEMA,
                )
            )
        return pl.concat(parts).cast(POPULATION_HISTORY_SCHEMA)  # type: ignore[arg-type]

    return stacked(
        store_path, list(COLUMNS), COLUMNS, counts, list(quarters.values()),
        schema=POPULATION_HISTORY_SCHEMA, skipped=skipped,
    )
