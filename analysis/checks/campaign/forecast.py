"""Campaign plan and deadline forecast: when will each phase be complete, who will be late.

**Plan** (``PLAN``, data). The campaign guide (campaign_guide_smr_ror_vt.txt, « Les
prochaines étapes ») has two phases: *données administratives et de contact*, from March
2023 until the reform comes into force (deadline 31 May 2023, the day before 1 June 2023),
and *offre de soins selon les autorisations*, from 1 June 2023, for which the guide sets no
end (deadline None unless given). Each phase lists the campaign rules (``checklist.RULES``
ids) it is made of; only *obligatoire* rules count (*conseillé* ones are advice). A deadline
is a parameter (``deadlines``), never a constant of the computation.

**Phase completion** (``phase_series``): at each snapshot, Σ ok items ÷ Σ items of the
phase's rules (the same counts as ``smr campaign``).

**Projection** (``linear_trend``, ``forecast_phases``): ordinary least squares of the
completion rate on time (days) over the last ``window`` snapshots; the phase is projected
complete when the fitted line reaches 100 %: t* = t_last + (1 − ŷ(t_last)) ÷ b. The
uncertainty is that of the slope b: its ``level`` (default 90 %) Student interval
b ± t(n−2) · se(b), se(b) = √(Σ residuals² ÷ (n − 2) ÷ Σ (t − t̄)²), gives the earliest
(steepest slope) and latest (flattest) completion dates; a slope bound ≤ 0 means « not
reached at that pace ». Fewer than 3 snapshots: no interval; fewer than 2: no projection.

**Establishments at their own pace** (``establishment_pace``): per establishment and
phase, the items left (obligatoire, not ok) at each of the last ``window`` snapshots; OLS
slope of that count on time; projected finish = last date + left ÷ (−slope) when the count
falls, never when it does not. Late: items left and no finish by the deadline.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl
from scipy import stats

from analysis.checks.campaign import checklist, history
from analysis.io import store
from analysis.io.history import SNAPSHOT_COL, Batch, stacked

#: Snapshots used for the trend (the most recent ones), and the interval's level.
DEFAULT_WINDOW = 5
DEFAULT_LEVEL = 0.9


@dataclass(frozen=True)
class Phase:
    """One phase of the campaign plan: its dates and the rules it is made of."""

    id: str
    label: str
    start: dt.date
    deadline: dt.date | None
    rules: tuple[str, ...]


#: The plan of the regional campaign guide. Phase 1 rules: the EG, UO and ViaTrajectoire
#: data the guide lists, with the prerequisites (accounts); phase 2: the offer.
PLAN: tuple[Phase, ...] = (
    Phase(
        "phase1",
        "Données administratives et de contact",
        dt.date(2023, 3, 1),
        dt.date(2023, 5, 31),
        (
            "eg_compte_ror",
            "eg_compte_vt",
            "eg_nom_officiel",
            "eg_adresse",
            "eg_email_alerte",
            "eg_directeur",
            "eg_verifie",
            "uo_telephone",
            "uo_responsable",
            "uo_patientele",
            "uo_verifie",
            "uo_presente_vt",
            "vt_responsable_admissions",
            "vt_habilitation_admissions",
            "vt_synchronise",
        ),
    ),
    Phase(
        "phase2",
        "Offre de soins selon les autorisations",
        dt.date(2023, 6, 1),
        None,
        ("eg_offre_autorisee",),
    ),
)


def plan_frame(plan: Sequence[Phase] = PLAN) -> pl.DataFrame:
    """The plan as a table: ``phase``, ``libelle``, ``debut``, ``echeance``, ``regles``."""
    return pl.DataFrame(
        {
            "phase": [p.id for p in plan],
            "libelle": [p.label for p in plan],
            "debut": [p.start for p in plan],
            "echeance": [p.deadline for p in plan],
            "regles": [", ".join(p.rules) for p in plan],
        },
        schema={"phase": pl.String, "libelle": pl.String, "debut": pl.Date,
                "echeance": pl.Date, "regles": pl.String},
    )


def with_deadlines(plan: Sequence[Phase], deadlines: Mapping[str, dt.date | None]) -> list[Phase]:
    """``plan`` with the deadlines of ``deadlines`` (phase id → date) replaced."""
    from dataclasses import replace

    unknown = set(deadlines) - {p.id for p in plan}
    if unknown:
        from analysis.model.errors import InputError

        raise InputError(
            f"phase inconnue : {', '.join(sorted(unknown))} ; phases : "
            + ", ".join(p.id for p in plan)
        )
    return [replace(p, deadline=deadlines.get(p.id, p.deadline)) for p in plan]


def _counted_rules(phase: Phase) -> list[str]:
    return [r for r in phase.rules
            if r in checklist.RULE_BY_ID and checklist.RULE_BY_ID[r].severity == checklist.OBLIGATOIRE]


def phase_series(progress: pl.DataFrame, plan: Sequence[Phase] = PLAN) -> pl.DataFrame:
    """Completion of each phase at each date of ``progress`` (``history.progress`` table):
    ``date``, ``phase``, ``conformes``, ``total``, ``taux`` (0–1), sorted by phase then date.
    A phase none of whose rules was evaluated at a date has no row there."""
    parts = []
    for phase in plan:
        rows = (
            progress.filter(pl.col("regle").is_in(_counted_rules(phase)))
            .group_by("date")
            .agg(pl.col("conformes").sum(), pl.col("total").sum())
            .filter(pl.col("total") > 0)
            .with_columns(pl.lit(phase.id).alias("phase"))
        )
        parts.append(rows)
    schema = {"date": pl.Date, "phase": pl.String, "conformes": pl.Int64, "total": pl.Int64,
              "taux": pl.Float64}
    if not parts:
        return pl.DataFrame(schema=schema)
    order = {p.id: i for i, p in enumerate(plan)}
    return (
        pl.concat(parts)
        .with_columns((pl.col("conformes") / pl.col("total")).alias("taux"))
        .with_columns(pl.col("phase").replace_strict(order, return_dtype=pl.Int32).alias("_o"))
        .sort("_o", "date")
        .select(list(schema))
        .cast(schema)  # type: ignore[arg-type]
    )


@dataclass(frozen=True)
class Trend:
    """Least-squares line y = intercept + slope · x and the ``level`` interval of the slope
    (``slope_low``, ``slope_high``; None with fewer than 3 points)."""

    slope: float
    intercept: float
    n: int
    se: float | None
    slope_low: float | None
    slope_high: float | None


def _ols(xs: np.ndarray, ys: np.ndarray) -> tuple[float, float, float]:
    """Least-squares slope, intercept and Σ(x − x̄)² (x not all equal)."""
    xm, ym = xs.mean(), ys.mean()
    sxx = float(((xs - xm) ** 2).sum())
    slope = float(((xs - xm) * (ys - ym)).sum() / sxx)
    return slope, float(ym - slope * xm), sxx


def linear_trend(x: Sequence[float], y: Sequence[float], level: float = DEFAULT_LEVEL) -> Trend:
    """Ordinary least squares of ``y`` on ``x`` (at least 2 distinct x) with the Student
    interval of the slope at ``level``: b ± t_{(1+level)/2}(n − 2) · se(b)."""
    xs, ys = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    n = len(xs)
    if n < 2 or np.ptp(xs) == 0:
        raise ValueError("au moins deux dates différentes sont nécessaires")
    slope, intercept, sxx = _ols(xs, ys)
    if n < 3:
        return Trend(slope, intercept, n, None, None, None)
    residuals = ys - (intercept + slope * xs)
    se = math.sqrt(float((residuals**2).sum()) / (n - 2) / sxx)
    q = float(stats.t.ppf((1 + level) / 2, n - 2))
    return Trend(slope, intercept, n, se, slope - q * se, slope + q * se)


def _reach(t_last: float, y_last: float, slope: float | None, target: float = 1.0
           ) -> float | None:
    """Days after the origin when a line through (t_last, y_last) of ``slope`` reaches
    ``target`` (None when it never does; t_last when already there)."""
    if y_last >= target:
        return t_last
    if slope is None or slope <= 0:
        return None
    return t_last + (target - y_last) / slope


def _day(origin: dt.date, days: float | None) -> dt.date | None:
    """The date ``days`` after ``origin``; None when there is none, or when a nearly flat
    trend puts it beyond the calendar (it never arrives in practice)."""
    if days is None:
        return None
    try:
        return origin + dt.timedelta(days=math.ceil(days - 1e-9))
    except OverflowError:
        return None


FORECAST_SCHEMA: dict[str, pl.DataType] = {
    "phase": pl.String(),
    "libelle": pl.String(),
    "echeance": pl.Date(),
    "date": pl.Date(),
    "taux": pl.Float64(),
    "points": pl.Int64(),
    "pente_semaine": pl.Float64(),
    "date_prevue": pl.Date(),
    "date_prevue_tot": pl.Date(),
    "date_prevue_tard": pl.Date(),
    "dans_les_temps": pl.Boolean(),
}


def forecast_phases(
    series: pl.DataFrame,
    plan: Sequence[Phase] = PLAN,
    window: int = DEFAULT_WINDOW,
    level: float = DEFAULT_LEVEL,
) -> pl.DataFrame:
    """Projected completion date of each phase from ``phase_series``: one row per phase with
    ``echeance``, the last ``date`` and ``taux``, ``points`` used, ``pente_semaine`` (rate
    gained per week, 0–1), ``date_prevue`` and its interval (``date_prevue_tot``,
    ``date_prevue_tard``; null: not reached at that pace, or no interval) and
    ``dans_les_temps`` (projected on or before the deadline; null without deadline or
    projection). Only the snapshots from the phase's start are used."""
    rows = []
    for phase in plan:
        pts = series.filter(
            (pl.col("phase") == phase.id) & (pl.col("date") >= phase.start)
        ).sort("date").tail(max(2, window))
        row: dict = {"phase": phase.id, "libelle": phase.label, "echeance": phase.deadline,
                     "date": None, "taux": None, "points": pts.height, "pente_semaine": None,
                     "date_prevue": None, "date_prevue_tot": None, "date_prevue_tard": None,
                     "dans_les_temps": None}
        if pts.height:
            row["date"], row["taux"] = pts["date"][-1], pts["taux"][-1]
        if pts.height >= 2 and pts["date"].n_unique() >= 2:
            origin = pts["date"][0]
            x = [(d - origin).days for d in pts["date"]]
            trend = linear_trend(x, pts["taux"].to_list(), level)
            t_last = float(x[-1])
            y_last = trend.intercept + trend.slope * t_last
            if pts["taux"][-1] >= 1.0:
                y_last = 1.0
            row["pente_semaine"] = trend.slope * 7
            row["date_prevue"] = _day(origin, _reach(t_last, y_last, trend.slope))
            if trend.slope_high is not None:
                row["date_prevue_tot"] = _day(origin, _reach(t_last, y_last, trend.slope_high))
                row["date_prevue_tard"] = _day(origin, _reach(t_last, y_last, trend.slope_low))
            if phase.deadline is not None:
                row["dans_les_temps"] = (
                    row["date_prevue"] is not None and row["date_prevue"] <= phase.deadline
                )
        rows.append(row)
    return pl.DataFrame(rows, schema=FORECAST_SCHEMA)


REMAINING_SCHEMA: dict[str, pl.DataType] = {
    "date": pl.Date(),
    "phase": pl.String(),
    "finess_eg": pl.String(),
    "raison_sociale": pl.String(),
    "departement": pl.String(),
    "reste": pl.Int64(),
}


def remaining_by_establishment(
    results: pl.DataFrame, day: dt.date, plan: Sequence[Phase] = PLAN
) -> pl.DataFrame:
    """Obligatoire items not ok per establishment and phase in one evaluation
    (``checklist.evaluate``): ``date``, ``phase``, ``finess_eg``, ``raison_sociale``,
    ``departement``, ``reste`` (0 for an establishment with nothing left)."""
    return (
        _remaining(results.lazy(), [], plan)
        .with_columns(pl.lit(day).alias("date"))
        .select(list(REMAINING_SCHEMA))
        .collect()
        .cast(REMAINING_SCHEMA)  # type: ignore[arg-type]
    )


def _remaining(
    results: pl.LazyFrame, keys: list[str], plan: Sequence[Phase]
) -> pl.LazyFrame:
    """``reste`` per ``keys``, establishment and phase (``phase`` column), in one pass: each
    result joined to the phases that count its rule."""
    phases = pl.LazyFrame(
        [(rule, phase.id) for phase in plan for rule in _counted_rules(phase)],
        schema={"regle": pl.String(), "phase": pl.String()},
        orient="row",
    )
    return (
        results.select(*keys, "regle", "finess_eg", "raison_sociale", "departement", "resultat")
        .join(phases, on="regle", how="inner")
        .group_by(*keys, "phase", "finess_eg", "raison_sociale", "departement")
        .agg((pl.col("resultat") != checklist.OK).sum().cast(pl.Int64).alias("reste"))
    )


def remaining_history(
    store_path: str | Path,
    params: checklist.CampaignParams | None = None,
    window: int = DEFAULT_WINDOW,
    plan: Sequence[Phase] = PLAN,
    until: dt.date | None = None,
) -> pl.DataFrame:
    """``remaining_by_establishment`` of the last ``window`` snapshots of the store (up to
    ``until``), stacked, in date order: the input of ``establishment_pace``. Read through
    ``over_snapshots`` (only the columns the rules need, checksums verified) and evaluated
    in one plan per batch of snapshots (``checklist.evaluate_lazy`` over stacked tables,
    the same results as snapshot by snapshot)."""
    dates = [d for d in store.list_snapshots(store_path) if until is None or d <= until]
    chosen = dates[-max(2, window):]
    if not chosen:
        return pl.DataFrame(schema=REMAINING_SCHEMA)
    params = history._with_start(store_path, dates[-1], params)
    cols = checklist.columns_needed(params)

    def remaining(batch: Batch) -> pl.DataFrame:
        tables = {name: frame.lazy() for name, frame in batch.collected().items()}
        results = checklist.evaluate_lazy(tables, None, params, snapshot_col=SNAPSHOT_COL)
        return (
            _remaining(results, [SNAPSHOT_COL], plan)
            .rename({SNAPSHOT_COL: "date"})
            .select(list(REMAINING_SCHEMA))
            .collect()
            .sort("date", maintain_order=True)
            .cast(REMAINING_SCHEMA)  # type: ignore[arg-type]
        )

    return stacked(store_path, list(cols), cols, remaining, chosen, schema=REMAINING_SCHEMA)


PACE_SCHEMA: dict[str, pl.DataType] = {
    "phase": pl.String(),
    "finess_eg": pl.String(),
    "raison_sociale": pl.String(),
    "departement": pl.String(),
    "reste": pl.Int64(),
    "rythme_semaine": pl.Float64(),
    "date_prevue": pl.Date(),
    "echeance": pl.Date(),
    "en_retard": pl.Boolean(),
}


def establishment_pace(
    remaining: pl.DataFrame, plan: Sequence[Phase] = PLAN
) -> pl.DataFrame:
    """Per establishment and phase: ``reste`` (items left at the last date), ``rythme_semaine``
    (items fixed per week, OLS on the dates of ``remaining``; positive = progressing),
    ``date_prevue`` (finish at that pace; null: never, or nothing left), ``echeance`` and
    ``en_retard`` (items left and no finish by the deadline; null without deadline). Sorted:
    late first, then by phase, most left."""
    deadlines = {p.id: p.deadline for p in plan}
    rows = []
    groups = (
        remaining.sort("date")
        .group_by(["phase", "finess_eg"], maintain_order=True)
        .agg("date", "reste", pl.col("raison_sociale", "departement").last())
    )
    for phase, finess, dates, left_by_date, name, departement in groups.iter_rows():
        last_date = dates[-1]
        left = int(left_by_date[-1])
        pace = None
        finish: dt.date | None = None
        if len(set(dates)) >= 2:
            origin = dates[0]
            x = np.asarray([(d - origin).days for d in dates], dtype=float)
            pace = -_ols(x, np.asarray(left_by_date, dtype=float))[0] * 7
        if left == 0:
            finish = last_date
        elif pace is not None and pace > 0:
            finish = last_date + dt.timedelta(days=math.ceil(left / pace * 7))
        deadline = deadlines.get(phase)
        late = None
        if deadline is not None:
            late = left > 0 and (finish is None or finish > deadline)
        rows.append({"phase": phase, "finess_eg": finess, "raison_sociale": name,
                     "departement": departement, "reste": left,
                     "rythme_semaine": pace, "date_prevue": finish if left else None,
                     "echeance": deadline, "en_retard": late})
    out = pl.DataFrame(rows, schema=PACE_SCHEMA)
    order = {p.id: i for i, p in enumerate(plan)}
    return (
        out.with_columns(pl.col("phase").replace_strict(order, default=99,
                                                         return_dtype=pl.Int32).alias("_o"))
        .sort(["en_retard", "_o", "reste", "finess_eg"], descending=[True, False, True, False],
              nulls_last=True)
        .drop("_o")
    )


def late_establishments(pace: pl.DataFrame) -> pl.DataFrame:
    """The establishments that, at their own pace, will not finish a phase by its deadline."""
    return pace.filter(pl.col("en_retard").fill_null(False))
