"""Campaign progress across snapshots: the checklist evaluated on each snapshot of the store
(one at a time, or lazily in batches of ``HISTORY_BATCH`` snapshots), counted per rule.

The store is read across snapshots only through ``analysis.io.history.over_snapshots``
(needed columns, checksums verified once per snapshot); the computations take frames.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path

import polars as pl

from analysis.checks.campaign.checklist import (
    RULES,
    CampaignParams,
    Rule,
    _counts,
    columns_needed,
    counts_lazy,
    evaluate,
    evaluate_lazy,
)
from analysis.io import store
from analysis.io.history import HISTORY_BATCH, Batch, over_snapshots, stacked
from analysis.model.errors import SnapshotMissingError
from analysis.model.progress import Progress

# --------------------------------------------------------------------------- progress


def campaign_start(manifest: Mapping | None) -> dt.date | None:
    """The campaign start recorded in a snapshot manifest (``extra.campagne_debut``)."""
    value = ((manifest or {}).get("extra") or {}).get("campagne_debut")
    if not value:
        return None
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def read_campaign_tables(
    store_path: str | Path,
    date: dt.date,
    params: CampaignParams | None = None,
    rules: Sequence[Rule] = RULES,
) -> dict[str, pl.DataFrame]:
    """The tables of one snapshot, reduced to the columns the rules need (read through
    ``over_snapshots``: checksums verified)."""
    cols = columns_needed(params, rules)
    (tables,) = over_snapshots(store_path, list(cols), cols, Batch.snapshot, [date])
    return tables


def evaluate_snapshot(
    store_path: str | Path,
    date: dt.date | None = None,
    params: CampaignParams | None = None,
    rules: Sequence[Rule] = RULES,
) -> pl.DataFrame:
    """``evaluate`` on one snapshot of the store (the latest when ``date`` is None).

    When ``params.start`` is None the manifest's ``extra.campagne_debut`` is used.
    """
    if date is None:
        date = store.latest_snapshot(store_path)
        if date is None:
            raise SnapshotMissingError(store_path)
    params = _with_start(store_path, date, params)
    return evaluate(read_campaign_tables(store_path, date, params, rules), date, params, rules)


def _with_start(
    store_path: str | Path, date: dt.date, params: CampaignParams | None
) -> CampaignParams:
    params = params or CampaignParams()
    if params.start is None:
        manifest = store.read_manifest(Path(store_path) / date.isoformat())
        start = campaign_start(manifest)
        if start is not None:
            params = replace(params, start=start)
    return params


PROGRESS_SCHEMA: dict[str, pl.DataType] = {
    "date": pl.Date(),
    "regle": pl.String(),
    "conformes": pl.Int64(),
    "total": pl.Int64(),
    "taux": pl.Float64(),
}


def progress_of(
    tables: Mapping[str, pl.DataFrame | pl.LazyFrame],
    date: dt.date,
    params: CampaignParams | None = None,
    rules: Sequence[Rule] = RULES,
) -> pl.DataFrame:
    """One snapshot's block of ``progress`` from its tables: ``date``, ``regle``,
    ``conformes``, ``total``, ``taux``, in rule order."""
    params = params or CampaignParams()
    order = {r.id: i for i, r in enumerate(rules)}
    return (
        _counts(evaluate_lazy(tables, date, params, rules), ["regle"])
        .select(pl.lit(date).alias("date"), "regle", "conformes", "total", "taux")
        .with_columns(pl.col("regle").replace_strict(order, return_dtype=pl.Int32).alias("_o"))
        .sort("_o")
        .drop("_o")
        .collect()
        .cast(PROGRESS_SCHEMA)  # type: ignore[arg-type]
    )


def progress_at(
    store_path: str | Path,
    date: dt.date,
    params: CampaignParams | None = None,
    rules: Sequence[Rule] = RULES,
) -> pl.DataFrame:
    """One snapshot's block of ``progress``: ``date``, ``regle``, ``conformes``, ``total``,
    ``taux``, reading only the columns the rules need (checksums verified).

    ``params.start`` is used as given (no manifest lookup), so that callers can cache one
    block per snapshot and only compute the new ones when a snapshot is added.
    """
    params = params or CampaignParams()
    return _per_snapshot(store_path, [date], params, rules)


def _per_snapshot(
    store_path: str | Path,
    dates: Sequence[dt.date],
    params: CampaignParams,
    rules: Sequence[Rule],
    skipped: list[dt.date] | None = None,
) -> pl.DataFrame:
    """``progress_of`` of each snapshot of ``dates``, read one at a time."""
    cols = columns_needed(params, rules)

    def block(batch: Batch) -> pl.DataFrame:
        return progress_of(batch.snapshot(), batch.dates[0], params, rules)

    return stacked(
        store_path, list(cols), cols, block, dates, schema=PROGRESS_SCHEMA, batch=1,
        skipped=skipped,
    )


def progress(
    store_path: str | Path,
    params: CampaignParams | None = None,
    dates: Sequence[dt.date] | None = None,
    rules: Sequence[Rule] = RULES,
) -> pl.DataFrame:
    """Completion of each rule at each snapshot date: ``date``, ``regle``, ``conformes``,
    ``total``, ``taux`` (ok share 0–1), sorted by date then rule order.

    Snapshots are read one at a time and only the columns the rules need
    (``columns_needed``), then reduced to counts: memory stays that of one snapshot, so a
    year of daily national snapshots works the same way. The campaign start is the one in
    ``params`` or else the latest manifest's ``extra.campagne_debut``, the same for every
    date so that the curves are comparable.
    """
    all_dates = store.list_snapshots(store_path)
    chosen = sorted(all_dates if dates is None else dates)
    if not chosen:
        return pl.DataFrame(schema=PROGRESS_SCHEMA)
    params = _with_start(store_path, all_dates[-1] if all_dates else chosen[-1], params)
    return _per_snapshot(store_path, chosen, params, rules)


def sampled_dates(
    dates: Sequence[dt.date], step_days: int = 7, always: Iterable[dt.date] = ()
) -> list[dt.date]:
    """A thinner history for long daily series: going back from the latest date, the
    first date at least ``step_days`` before the last one kept, plus the earliest date and
    those of ``always`` that are in ``dates``; sorted. Every date is kept when
    ``step_days`` ≤ 1. Used to draw a year of daily snapshots as weekly points."""
    chosen = sorted(set(dates))
    if step_days <= 1 or len(chosen) <= 2:
        return chosen
    kept = [chosen[-1]]
    for day in reversed(chosen[:-1]):
        if (kept[-1] - day).days >= step_days:
            kept.append(day)
    kept.append(chosen[0])
    present = set(chosen)
    return sorted(set(kept) | {d for d in always if d in present})


def progress_history_lazy(
    tables: Mapping[str, pl.LazyFrame],
    params: CampaignParams,
    rules: Sequence[Rule] = RULES,
) -> pl.LazyFrame:
    """The lazy plan of ``progress_history`` for stacked snapshots (``over_snapshots``'s
    frames, with ``date_snapshot``): the rules as expressions per snapshot, counts per
    ``date`` and ``regle``. ``params.start`` is used as given."""
    return counts_lazy(tables, None, params, rules, snapshot_col="date_snapshot").rename(
        {"date_snapshot": "date"}
    )


def _in_memory(batch: Batch) -> dict[str, pl.LazyFrame]:
    """The batch's tables read once, as lazy frames over memory (``Batch.collected``)."""
    return {name: frame.lazy() for name, frame in batch.collected().items()}


def progress_history(
    store_path: str | Path,
    params: CampaignParams | None = None,
    dates: Sequence[dt.date] | None = None,
    rules: Sequence[Rule] = RULES,
    batch: int = HISTORY_BATCH,
    progress: Progress | None = None,
    skipped: list[dt.date] | None = None,
) -> pl.DataFrame:
    """``progress`` computed with lazy scans: the same table (``date``, ``regle``,
    ``conformes``, ``total``, ``taux``, sorted by date then rule order), much faster on
    many snapshots.

    Each table is scanned over ``batch`` snapshots at a time (only the columns the rules
    need, ``over_snapshots``), the rules are evaluated as expressions within each snapshot
    and reduced to counts in the same plan; memory is that of ``batch`` snapshots' needed
    columns, never the whole history. The campaign start is chosen as in ``progress``.
    ``progress`` (the callback, ``analysis.model.progress``) hears of each batch: snapshots
    done out of all. A corrupted snapshot raises ``StoreError``, or is left out and its date
    appended to ``skipped`` when that is a list.
    """
    all_dates = store.list_snapshots(store_path)
    chosen = sorted(all_dates if dates is None else dates)
    if not chosen:
        return pl.DataFrame(schema=PROGRESS_SCHEMA)
    params = _with_start(store_path, all_dates[-1] if all_dates else chosen[-1], params)
    cols = columns_needed(params, rules)
    parts = over_snapshots(
        store_path,
        list(cols),
        cols,
        lambda b: progress_history_lazy(_in_memory(b), params, rules).collect(),
        chosen,
        batch=batch,
        progress=progress,
        skipped=skipped,
    )
    if not parts:
        return pl.DataFrame(schema=PROGRESS_SCHEMA)
    order = {r.id: i for i, r in enumerate(rules)}
    return (
        pl.concat(parts)
        .with_columns(pl.col("regle").replace_strict(order, return_dtype=pl.Int32).alias("_o"))
        .sort("date", "_o")
        .drop("_o")
        .cast(PROGRESS_SCHEMA)  # type: ignore[arg-type]
    )
