"""Reading the store across snapshots: the one way histories (campaign progress, sync
status, requirement totals, population follow-up) read it.

``over_snapshots`` walks the snapshots of a store (all of them, or those of ``dates``),
oldest first, in batches. For each snapshot of a batch it reads the manifest once, checks
the schema version and the sha256 of every file it is about to read against the manifest
(``store.check_snapshot``: the check the pages apply to the snapshot they show), then builds
one lazy scan per table, of only the columns asked for, the batch's snapshots stacked with a
leading ``date_snapshot`` column. ``fn`` gets the batch and returns whatever it computes
(usually a small frame of counts); the results come back in date order.

Analyses thus take frames, never paths: the loop over snapshots, the file names and the
integrity check live here. A corrupted snapshot stops the walk with a ``StoreError`` naming
the snapshot and the file, unless the caller asks for it to be left out (``skipped``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import polars as pl

from analysis.io import store
from analysis.model.errors import StoreError
from analysis.model.progress import Progress, step

#: The column that tells the snapshots of a batch apart in its stacked frames.
SNAPSHOT_COL = "date_snapshot"
#: Snapshots read by one lazy plan (memory grows with it, the per-plan overhead shrinks).
HISTORY_BATCH = 32

T = TypeVar("T")


@dataclass(frozen=True, eq=False)
class Batch:
    """Snapshots handed to ``fn`` by ``over_snapshots``.

    ``frames`` maps each table asked for to a lazy frame of the batch's snapshots stacked,
    with a leading ``date_snapshot`` column then the columns asked for (nulls for a column
    added since a snapshot was written, no rows for a table added since). ``manifests``
    holds each snapshot's manifest.
    """

    dates: tuple[dt.date, ...]
    frames: dict[str, pl.LazyFrame]
    manifests: dict[dt.date, dict[str, Any]]

    def snapshot(self, day: dt.date | None = None) -> dict[str, pl.DataFrame]:
        """The tables of one snapshot of the batch (the only one when ``day`` is None),
        collected, without the ``date_snapshot`` column: what per-snapshot analyses take."""
        if day is None:
            if len(self.dates) != 1:
                raise ValueError("snapshot() sans date demande un lot d'un seul instantané")
            day = self.dates[0]
        chosen = {
            name: lf.filter(pl.col(SNAPSHOT_COL) == day).drop(SNAPSHOT_COL)
            for name, lf in self.frames.items()
        }
        return dict(zip(chosen, pl.collect_all(list(chosen.values())), strict=True))

    def collected(self) -> dict[str, pl.DataFrame]:
        """The stacked frames of the batch, read once (one ``collect_all``) and kept in
        memory: a plan over them reads no file and its optimisation is cheap, where a plan
        over the scans re-reads a table for each of its uses that the optimiser does not
        share."""
        names = list(self.frames)
        return dict(zip(names, pl.collect_all([self.frames[n] for n in names]), strict=True))

    def snapshots(self) -> dict[dt.date, dict[str, pl.DataFrame]]:
        """Every snapshot's tables, collected once for the whole batch then split by date
        (without the ``date_snapshot`` column; a table with no row in a snapshot is an
        empty frame of the same columns), in date order."""
        names = list(self.frames)
        collected = pl.collect_all([self.frames[n] for n in names])
        split = {
            name: frame.partition_by(SNAPSHOT_COL, as_dict=True, include_key=False)
            for name, frame in zip(names, collected, strict=True)
        }
        empty = {name: frame.drop(SNAPSHOT_COL).clear() for name, frame in zip(names, collected,
                                                                                strict=True)}
        return {
            day: {name: split[name].get((day,), empty[name]) for name in names}
            for day in self.dates
        }


def has_duplicates(frame: pl.LazyFrame, columns: Sequence[str]) -> bool:
    """Whether some rows of ``frame`` share their ``columns`` (nulls equal, as ``unique``
    compares them). Histories check a batch's stacked tables with it: hashing the key
    columns once costs less than a ``unique`` of whole rows that turns out an identity."""
    return bool(frame.select(pl.struct(list(columns)).is_duplicated().any()).collect().item())


def _columns(
    tables: Iterable[str], columns: Mapping[str, Iterable[str]] | None
) -> dict[str, list[str]]:
    """Table → columns to read, checked against the schema (``StoreError`` otherwise)."""
    names = [tables] if isinstance(tables, str) else list(dict.fromkeys(tables))
    chosen = {}
    for name in names:
        # ``read_table``'s checks: known table (report files allowed), known columns.
        cols = None if columns is None or name not in columns else list(columns[name])
        schema = store._schema_of(store._table_names([name], allow_reports=True)[0])
        wanted = list(schema) if cols is None else cols
        unknown = [c for c in wanted if c not in schema]
        if unknown:
            raise StoreError(f"Colonne(s) inconnue(s) dans {name} : {', '.join(unknown)}.")
        chosen[name] = wanted
    return chosen


def over_snapshots(
    store_path: str | Path,
    tables: Iterable[str],
    columns: Mapping[str, Iterable[str]] | None,
    fn: Callable[[Batch], T],
    dates: Sequence[dt.date] | None = None,
    *,
    batch: int = HISTORY_BATCH,
    progress: Progress | None = None,
    skipped: list[dt.date] | None = None,
) -> list[T]:
    """``fn`` applied to the snapshots of ``store_path`` (all, or those of ``dates``), oldest
    first, ``batch`` snapshots at a time; the list of its results, in date order.

    ``tables`` names the tables read, ``columns`` the columns read from each (a table it
    does not name is read whole): nothing else is read, and the scans stay lazy so that
    ``fn``'s plan reads only what it uses. Each snapshot is checked once before it is read:
    manifest, schema version, sha256 of every file of ``tables``. A snapshot that fails the
    check raises ``StoreError`` (« Instantané AAAA-MM-JJ corrompu : unites.parquet : somme
    de contrôle différente du manifeste… »), unless ``skipped`` is a list: then it is left
    out and its date appended there. A date with no snapshot raises
    ``SnapshotMissingError``. ``progress`` (``analysis.model.progress``) hears of each batch:
    snapshots done out of all.
    """
    root = Path(store_path)
    wanted = _columns(tables, columns)
    chosen = sorted(set(store.list_snapshots(root) if dates is None else dates))
    size = max(1, batch)
    results: list[T] = []
    for start in range(0, len(chosen), size):
        part = chosen[start : start + size]
        manifests = {}
        for day in part:
            path = store._snapshot_path(root, day)
            try:
                manifest = store.read_manifest(path)
                store.check_snapshot(path, list(wanted), manifest)
            except StoreError:
                if skipped is None:
                    raise
                skipped.append(day)
                continue
            manifests[day] = manifest
        good = tuple(manifests)
        if good:
            frames = {
                name: store.stack_scans(root, name, cols, good) for name, cols in wanted.items()
            }
            results.append(fn(Batch(good, frames, manifests)))
        step(progress, start + len(part), len(chosen), part[-1].isoformat())
    return results


def stacked(
    store_path: str | Path,
    tables: Iterable[str],
    columns: Mapping[str, Iterable[str]] | None,
    fn: Callable[[Batch], pl.DataFrame],
    dates: Sequence[dt.date] | None = None,
    *,
    schema: Mapping[str, pl.DataType],
    batch: int = HISTORY_BATCH,
    progress: Progress | None = None,
    skipped: list[dt.date] | None = None,
) -> pl.DataFrame:
    """``over_snapshots`` whose ``fn`` returns frames, concatenated (an empty frame of
    ``schema`` when there is no snapshot)."""
    parts = over_snapshots(
        store_path, tables, columns, fn, dates, batch=batch, progress=progress, skipped=skipped
    )
    if not parts:
        return pl.DataFrame(schema=dict(schema))
    return pl.concat(parts, how="vertical_relaxed")
