"""Snapshot store on disk: one folder per dated snapshot, written atomically.

Layout (see DESIGN.md)::

    <store>/<YYYY-MM-DD>/
        etablissements.parquet … vt_guichets.parquet   the six canonical tables (always all six)
        rejected.parquet                               rejected input rows (REJECTED_SCHEMA)
        warnings.parquet                               warnings on kept rows (REPORT_SCHEMA)
        manifest.json                                  sources, checksums, counts, schema version

A snapshot is written in a hidden ``.tmp-<date>-<random>`` folder inside the store, flushed to
disk, then renamed into place, so a reader never sees half a snapshot and a failed write
leaves the store as it was. An existing snapshot is only replaced when asked to: it is first
renamed ``.tmp-old-<date>-<random>``, the new one renamed into place, then the old copy
removed. Parquet files are written with fixed options so that the same input gives
byte-identical files (importing the same export twice gives the same checksums).

Writers take an exclusive lock on the store folder (``flock`` on the folder itself, no lock
file; released by the kernel when a process dies, even by SIGKILL) from the creation of
their temporary folder to the final rename. So two imports of different dates in two
processes write one after the other, and whoever holds the lock knows that any ``.tmp-*``
folder left in the store belongs to a dead writer: it is removed, and a ``.tmp-old-<date>``
copy whose ``<date>`` folder is missing (a writer killed between its two renames) is put
back, so a snapshot is never lost. ``list_snapshots`` ignores all such folders.

Paths are built only from the store folder, validated dates and canonical table names; a
snapshot folder that is a symbolic link leading outside the store is neither listed nor read.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import re
import secrets
import shutil
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from analysis.geo import geography
from analysis.model.errors import SnapshotExistsError, SnapshotMissingError, StoreError
from analysis.model.schema import (
    LATER_TABLES,
    REJECTED_SCHEMA,
    REPORT_SCHEMA,
    SCHEMA_VERSION,
    TABLES,
    WARNING,
    conform,
    empty,
)

log = logging.getLogger(__name__)

MANIFEST = "manifest.json"
REJECTED = "rejected"
WARNINGS = "warnings"
#: Frames stored beside the canonical tables, with their schemas.
REPORT_FILES: dict[str, dict[str, pl.DataType]] = {
    REJECTED: REJECTED_SCHEMA,
    WARNINGS: REPORT_SCHEMA,
}
TMP_PREFIX = ".tmp-"
OLD_PREFIX = f"{TMP_PREFIX}old-"
#: How long a writer waits for another one to finish before giving up, in seconds.
LOCK_TIMEOUT_S = 300.0
#: Fixed Parquet options: same frame → same bytes (Polars writes no timestamp).
PARQUET_OPTIONS: dict[str, Any] = {
    "compression": "zstd",
    "compression_level": 3,
    "statistics": True,
    "row_group_size": 512 * 1024,
}

_DATE_PATTERN = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_OLD_PATTERN = re.compile(r"^\.tmp-old-(\d{4}-\d{2}-\d{2})-[0-9a-f]+$")
#: Without ``flock`` (Windows), leftovers younger than this may belong to a live writer.
_TMP_MAX_AGE_S = 60.0

#: The steps of ``write_snapshot`` in order; ``_checkpoint`` is called after each one.
WRITE_STEPS: tuple[str, ...] = (
    "checked",
    "locked",
    "temporary_created",
    *(f"written:{name}" for name in (*TABLES, REJECTED, WARNINGS)),
    "manifest_written",
    "flushed",
    "old_set_aside",
    "renamed",
    "old_removed",
    "store_flushed",
)


def _checkpoint(step: str) -> None:
    """Fault-injection point called after each step of ``WRITE_STEPS`` (does nothing).

    Tests replace it to interrupt a write at every step and check that the store stays
    readable, with no partial snapshot.
    """


@dataclass(eq=False)
class Snapshot:
    """A snapshot read from the store: its date, folder, manifest and canonical tables."""

    date: dt.date
    path: Path
    manifest: dict[str, Any]
    tables: dict[str, pl.DataFrame]


def snapshot_date(value: dt.date | str) -> dt.date:
    """The snapshot date of ``value`` (a date or ``YYYY-MM-DD`` text); ``StoreError`` otherwise.

    Dates name store folders, so nothing but a real calendar date is accepted.
    """
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value).strip()
    if _DATE_PATTERN.match(text):
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            pass
    shown = text if len(text) <= 40 else text[:40] + "…"
    raise StoreError(
        f"Date d'instantané invalide « {shown} » : une date réelle AAAA-MM-JJ est attendue."
    )


def _table_names(names: Iterable[str] | None, allow_reports: bool = False) -> list[str]:
    allowed = list(TABLES) + (list(REPORT_FILES) if allow_reports else [])
    if isinstance(names, str):
        names = [names]
    chosen = list(names) if names is not None else list(TABLES)
    unknown = [n for n in chosen if n not in allowed]
    if unknown:
        raise StoreError(
            f"Table(s) inconnue(s) : {', '.join(unknown)} ; tables possibles : {', '.join(allowed)}."
        )
    return chosen


def _schema_of(name: str) -> dict[str, pl.DataType]:
    return REPORT_FILES[name] if name in REPORT_FILES else TABLES[name].polars_schema


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _fsync_file(path: Path) -> None:
    with path.open("rb") as fh:
        os.fsync(fh.fileno())


def _fsync_dir(path: Path) -> None:
    """Flush a folder's entries (new files, renames); a no-op where folders cannot be opened."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _write_parquet(frame: pl.DataFrame, path: Path) -> str:
    """Write ``frame`` with the fixed options, flush it to disk, return its sha256."""
    frame.write_parquet(path, **PARQUET_OPTIONS)
    _fsync_file(path)
    return _sha256(path)


def _conform_exact(frame: pl.DataFrame, name: str) -> pl.DataFrame:
    """Frame in the canonical layout of ``name``; refuses a cast that would lose values."""
    schema = _schema_of(name)
    if name in TABLES:
        out = conform(frame, name)
    else:
        out = frame.select(
            pl.col(c).cast(t, strict=False) if c in frame.columns else pl.lit(None, t).alias(c)
            for c, t in schema.items()
        )
    lost = [
        c
        for c in schema
        if c in frame.columns and out.get_column(c).null_count() > frame.get_column(c).null_count()
    ]
    if lost:
        raise StoreError(
            f"Table {name} : valeurs non conformes au type attendu dans {', '.join(lost)} ; "
            "validez les données avant de les enregistrer."
        )
    return out


def _sources(sources: Mapping[str, Any] | Iterable[Any] | None) -> list[dict[str, Any]]:
    """Manifest entries for the source files (``RawTable`` objects or plain dicts)."""
    if sources is None:
        return []
    items = sources.values() if isinstance(sources, Mapping) else sources
    return [dict(s.source()) if hasattr(s, "source") else dict(s) for s in items]


def _manifest(
    day: dt.date,
    frames: dict[str, pl.DataFrame],
    checksums: dict[str, str],
    sources: list[dict[str, Any]],
    extra: Mapping[str, Any] | None,
) -> dict[str, Any]:
    rejected, warnings = frames[REJECTED], frames[WARNINGS]
    tables = {}
    for name in TABLES:
        n_rejected = rejected.filter(pl.col("table") == name).get_column("row").n_unique()
        kept = frames[name].height
        tables[name] = {
            "file": f"{name}.parquet",
            "lus": kept + n_rejected,
            "conserves": kept,
            "rejetes": n_rejected,
            "avertissements": warnings.filter(pl.col("table") == name).height,
            "sha256": checksums[name],
        }
    return {
        "schema_version": SCHEMA_VERSION,
        "date": day.isoformat(),
        "created_at": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
        "sources": sources,
        "tables": tables,
        **{
            name: {
                "file": f"{name}.parquet",
                "rows": frames[name].height,
                "sha256": checksums[name],
            }
            for name in REPORT_FILES
        },
        "extra": dict(extra or {}),
    }


@contextmanager
def _store_lock(store: Path, timeout_s: float | None = None) -> Iterator[bool]:
    """Hold the store's writer lock (exclusive ``flock`` on the folder); yields True.

    Yields False where ``flock`` does not exist (the age rule of ``cleanup_temporary`` then
    protects live writers). Waits up to ``timeout_s`` seconds (``LOCK_TIMEOUT_S`` when None)
    for another writer, then raises ``StoreError``; ``timeout_s=0`` raises at once.
    """
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield False
        return
    fd = os.open(store, os.O_RDONLY)
    try:
        deadline = time.monotonic() + (LOCK_TIMEOUT_S if timeout_s is None else timeout_s)
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise StoreError(
                        f"Le magasin {store} est occupé par une autre écriture ; réessayez "
                        "quand elle sera terminée."
                    ) from None
                time.sleep(0.05)
        yield True
    finally:
        os.close(fd)  # closing the descriptor releases the lock


def _remove_entry(entry: Path) -> None:
    """Remove a leftover folder; a symbolic link is unlinked, its target never touched."""
    if entry.is_symlink():
        entry.unlink(missing_ok=True)
    else:
        shutil.rmtree(entry, ignore_errors=True)


def _cleanup_locked(store: Path, older_than_s: float) -> list[Path]:
    """Leftovers of dead writers: put back orphaned old copies, remove the rest."""
    limit = time.time() - older_than_s
    removed = []
    for entry in sorted(store.iterdir()):
        if not entry.name.startswith(TMP_PREFIX):
            continue
        try:
            if older_than_s > 0 and entry.lstat().st_mtime >= limit:
                continue
        except FileNotFoundError:
            continue
        old = _OLD_PATTERN.match(entry.name)
        if old and not entry.is_symlink() and entry.is_dir():
            target = store / old.group(1)
            if not target.exists() and not target.is_symlink():
                os.rename(entry, target)  # a writer died between its two renames
                log.warning("Instantané %s rétabli après une écriture interrompue", target.name)
                continue
        if entry.is_symlink() or entry.is_dir():
            _remove_entry(entry)
            removed.append(entry)
    return removed


def write_snapshot(
    store: str | Path,
    date: dt.date | str,
    tables: Mapping[str, pl.DataFrame],
    rejected: pl.DataFrame | None = None,
    warnings: pl.DataFrame | None = None,
    sources: Mapping[str, Any] | Iterable[Any] | None = None,
    replace: bool = False,
    extra: Mapping[str, Any] | None = None,
) -> Path:
    """Write a snapshot atomically to ``<store>/<date>/`` and return that folder.

    ``tables`` maps canonical table names to typed frames (absent tables are written empty);
    ``rejected`` and ``warnings`` are the validation report parts (only ``avertissement`` rows
    of ``warnings`` are kept); ``sources`` describes the input files (``RawTable`` objects or
    dicts); ``extra`` is free metadata for the manifest (e.g. ``{"demo": True}``). Refuses to
    replace an existing snapshot unless ``replace=True``; then the old folder is removed only
    once the new one is in place.
    """
    store = Path(store)
    day = snapshot_date(date)
    final = store / day.isoformat()
    if final.exists() and not replace:
        raise SnapshotExistsError(store, day)
    unknown = [t for t in tables if t not in TABLES]
    if unknown:
        raise StoreError(f"Table(s) inconnue(s) : {', '.join(unknown)}.")

    frames = {
        name: _conform_exact(tables[name], name) if name in tables else empty(name)
        for name in TABLES
    }
    frames[REJECTED] = (
        _conform_exact(rejected, REJECTED)
        if rejected is not None
        else pl.DataFrame(schema=REJECTED_SCHEMA)
    )
    report = _conform_exact(warnings, WARNINGS) if warnings is not None else None
    frames[WARNINGS] = (
        report.filter(pl.col("severity") == WARNING)
        if report is not None
        else pl.DataFrame(schema=REPORT_SCHEMA)
    )

    _checkpoint("checked")
    store.mkdir(parents=True, exist_ok=True)
    with _store_lock(store) as locked:
        # Holding the lock, every .tmp-* folder belongs to a dead writer.
        _cleanup_locked(store, 0.0 if locked else _TMP_MAX_AGE_S)
        _checkpoint("locked")
        if final.exists() and not replace:
            raise SnapshotExistsError(store, day)
        tmp = store / f"{TMP_PREFIX}{day.isoformat()}-{secrets.token_hex(6)}"
        tmp.mkdir()
        try:
            _checkpoint("temporary_created")
            checksums = {}
            for name, frame in frames.items():
                checksums[name] = _write_parquet(frame, tmp / f"{name}.parquet")
                _checkpoint(f"written:{name}")
            manifest = _manifest(day, frames, checksums, _sources(sources), extra)
            manifest_path = tmp / MANIFEST
            manifest_path.write_text(
                json.dumps(manifest, ensure_ascii=False, indent=2, default=str) + "\n",
                encoding="utf-8",
            )
            _checkpoint("manifest_written")
            _fsync_file(manifest_path)
            _fsync_dir(tmp)
            _checkpoint("flushed")
            _move_into_place(tmp, final, replace)
            _fsync_dir(store)
            _checkpoint("store_flushed")
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    log.info("Instantané %s écrit dans %s", day.isoformat(), store)
    return final


def _move_into_place(tmp: Path, final: Path, replace: bool) -> None:
    """Rename ``tmp`` to ``final``; an existing ``final`` is set aside first and removed after.

    Interrupted by an exception, the old snapshot is renamed back; interrupted by the death
    of the process between the two renames, the next writer puts it back (``_cleanup_locked``).
    """
    if not final.exists() and not final.is_symlink():
        _checkpoint("old_set_aside")
        try:
            os.rename(tmp, final)
        except OSError as exc:
            raise StoreError(
                f"Impossible de mettre l'instantané {final.name} en place ({exc.strerror})."
            ) from None
        _checkpoint("renamed")
        _checkpoint("old_removed")
        return
    if not replace:
        raise SnapshotExistsError(final.parent, snapshot_date(final.name))
    old = final.parent / f"{OLD_PREFIX}{final.name}-{secrets.token_hex(6)}"
    os.rename(final, old)
    try:
        _checkpoint("old_set_aside")
        os.rename(tmp, final)
    except BaseException:
        os.rename(old, final)
        raise
    _checkpoint("renamed")
    _remove_entry(old)
    _checkpoint("old_removed")


def list_snapshots(store: str | Path) -> list[dt.date]:
    """Dates of the complete snapshots in ``store``, oldest first.

    Temporary folders and anything that is not a ``YYYY-MM-DD`` folder with a manifest are
    ignored; a missing store has no snapshot.
    """
    store = Path(store)
    if not store.is_dir():
        return []
    try:
        real = store.resolve()
    except OSError:
        real = None
    dates = []
    for entry in store.iterdir():
        if not _DATE_PATTERN.match(entry.name) or not (entry / MANIFEST).is_file():
            continue
        # A folder of the store (not a link) named by a date stays inside it: only links
        # need resolving (``_inside``), which costs a few system calls per snapshot.
        if real is None or (entry.is_symlink() and not _inside(store, entry)):
            continue
        try:
            dates.append(dt.date.fromisoformat(entry.name))
        except ValueError:
            continue
    return sorted(dates)


def latest_snapshot(store: str | Path) -> dt.date | None:
    """Date of the most recent snapshot, or ``None`` when the store has none."""
    dates = list_snapshots(store)
    return dates[-1] if dates else None


def read_manifest(path: str | Path) -> dict[str, Any]:
    """The manifest of a snapshot folder (or of the ``manifest.json`` file itself)."""
    path = Path(path)
    file = path / MANIFEST if path.is_dir() else path
    try:
        manifest = json.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        if not path.exists() and _DATE_PATTERN.match(path.name):  # no such snapshot at all
            raise SnapshotMissingError(path.parent, path.name) from None
        raise StoreError(f"Manifeste absent : {file}.") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        raise StoreError(f"Manifeste illisible : {file}.") from None
    if not isinstance(manifest, dict):
        raise StoreError(f"Manifeste illisible : {file}.")
    return manifest


def manifest_region(manifest: Mapping[str, Any], given: str | None = None) -> str:
    """The region a snapshot is analysed for: ``given`` (``--region``, a selector), else the
    one recorded at import (``extra.region`` of the manifest), else the default region (11)."""
    recorded = (manifest.get("extra") or {}).get("region")
    return str(given or recorded or geography.DEFAULT_REGION)


def _inside(store: Path, entry: Path) -> bool:
    """True when ``entry`` (symbolic links followed) stays inside ``store``."""
    try:
        return entry.resolve().is_relative_to(store.resolve())
    except OSError:
        return False


def _snapshot_path(store: str | Path, date: dt.date | str) -> Path:
    day = snapshot_date(date)
    path = Path(store) / day.isoformat()
    if not (path / MANIFEST).is_file():
        raise SnapshotMissingError(store, day)
    if not _inside(Path(store), path):
        raise StoreError(
            f"L'instantané du {day.isoformat()} est un lien vers un dossier hors du magasin : "
            "refusé."
        )
    return path


def _check_version(manifest: Mapping[str, Any], path: Path) -> None:
    version = manifest.get("schema_version")
    if not isinstance(version, int) or version > SCHEMA_VERSION:
        raise StoreError(
            f"L'instantané {path.name} a été écrit avec une version de schéma ({version}) que "
            f"cette version de l'outil ne sait pas lire (version {SCHEMA_VERSION})."
        )


def verify_snapshot(
    path: str | Path,
    tables: Iterable[str] | None = None,
    manifest: Mapping[str, Any] | None = None,
) -> list[str]:
    """Problems found in a snapshot folder (empty list when sound), in French.

    Checks that the manifest is readable, that every table and report file it lists exists
    and that each file's sha256 matches the manifest. ``tables`` limits the files checked
    to those named (canonical tables or report files); ``manifest`` is the snapshot's
    manifest when the caller has already read it.
    """
    path = Path(path)
    if manifest is None:
        try:
            manifest = read_manifest(path)
        except StoreError as exc:
            return [str(exc)]
    problems = []
    try:
        _check_version(manifest, path)
    except StoreError as exc:
        problems.append(str(exc))
    entries = dict(manifest.get("tables") or {})
    entries.update({name: manifest.get(name) for name in REPORT_FILES})
    names = list(TABLES) + list(REPORT_FILES) if tables is None else _table_names(tables, True)
    for name in names:
        entry = entries.get(name)
        file = path / f"{name}.parquet"
        if _written_before(name, manifest, file):
            continue  # a table added since the snapshot was written: read as empty
        if not isinstance(entry, dict) or "sha256" not in entry:
            problems.append(f"{name}.parquet : absent du manifeste.")
        elif not file.is_file():
            problems.append(f"{name}.parquet : fichier absent.")
        elif _sha256(file) != entry["sha256"]:
            problems.append(
                f"{name}.parquet : somme de contrôle différente du manifeste "
                "(fichier modifié ou corrompu)."
            )
    return problems


def check_snapshot(
    path: str | Path,
    tables: Iterable[str] | None = None,
    manifest: Mapping[str, Any] | None = None,
) -> None:
    """``verify_snapshot``, raising a ``StoreError`` that names the snapshot and the
    corrupted file(s) when a problem is found."""
    problems = verify_snapshot(path, tables, manifest)
    if problems:
        raise StoreError(f"Instantané {Path(path).name} corrompu : " + " ".join(problems))


def _written_before(name: str, manifest: Mapping[str, Any], file: Path) -> bool:
    """True when table ``name`` was added to the schema after this snapshot was written
    (``schema.LATER_TABLES``): neither its file nor its manifest entry exists."""
    return (
        name in LATER_TABLES
        and name not in (manifest.get("tables") or {})
        and not file.exists()
    )


def _read_parquet(path: Path, name: str, columns: list[str] | None = None) -> pl.DataFrame:
    """A stored frame in its canonical layout (columns added since it was written are null;
    a table added since, ``schema.LATER_TABLES``, is empty)."""
    file = path / f"{name}.parquet"
    schema = _schema_of(name)
    wanted = columns if columns is not None else list(schema)
    if name in LATER_TABLES and not file.exists():
        try:
            manifest = read_manifest(path)
        except StoreError:
            manifest = {}
        if _written_before(name, manifest, file):
            return pl.DataFrame(schema={c: schema[c] for c in wanted})
    try:
        available = pl.read_parquet_schema(file)
        frame = pl.read_parquet(file, columns=[c for c in wanted if c in available])
    except FileNotFoundError:
        raise StoreError(f"Fichier absent de l'instantané : {file}.") from None
    except Exception:
        raise StoreError(f"Fichier illisible ou corrompu : {file}.") from None
    return frame.select(
        pl.col(c).cast(schema[c], strict=False)
        if c in frame.columns
        else pl.lit(None, schema[c]).alias(c)
        for c in wanted
    )


def read_snapshot(
    store: str | Path,
    date: dt.date | str | None = None,
    tables: Iterable[str] | None = None,
    verify: bool = False,
) -> Snapshot:
    """Read a snapshot (the latest when ``date`` is None), all tables or those named.

    With ``verify=True`` every file's checksum is compared with the manifest first and a
    ``StoreError`` names the corrupted file(s).
    """
    if date is None:
        date = latest_snapshot(store)
        if date is None:
            raise SnapshotMissingError(store)
    path = _snapshot_path(store, date)
    manifest = read_manifest(path)
    _check_version(manifest, path)
    if verify:
        check_snapshot(path, manifest=manifest)
    names = _table_names(tables)
    frames = {name: _read_parquet(path, name) for name in names}
    return Snapshot(snapshot_date(date), path, manifest, frames)


def read_table(
    store: str | Path,
    date: dt.date | str,
    table: str,
    columns: Iterable[str] | None = None,
) -> pl.DataFrame:
    """One table of one snapshot (``rejected`` and ``warnings`` accepted too), optionally
    only some columns."""
    (name,) = _table_names([table], allow_reports=True)
    cols = None
    if columns is not None:
        cols = list(columns)
        unknown = [c for c in cols if c not in _schema_of(name)]
        if unknown:
            raise StoreError(f"Colonne(s) inconnue(s) dans {name} : {', '.join(unknown)}.")
    return _read_parquet(_snapshot_path(store, date), name, cols)


def scan_table(
    store: str | Path,
    table: str,
    columns: Iterable[str] | None = None,
    dates: Iterable[dt.date] | None = None,
) -> pl.LazyFrame:
    """One table over every snapshot (or those of ``dates``), lazily, with a leading
    ``date_snapshot`` column.

    Used for progress across snapshots (campaign history). Older snapshots that lack a column
    added since give nulls. Only the listed columns are read from each file.
    """
    (name,) = _table_names([table], allow_reports=True)
    schema = _schema_of(name)
    cols = list(columns) if columns is not None else list(schema)
    unknown = [c for c in cols if c not in schema]
    if unknown:
        raise StoreError(f"Colonne(s) inconnue(s) dans {name} : {', '.join(unknown)}.")
    wanted = None if dates is None else set(dates)
    days = [d for d in list_snapshots(store) if wanted is None or d in wanted]
    return stack_scans(Path(store), name, cols, days)


def stack_scans(
    store: Path, name: str, cols: list[str], days: Iterable[dt.date]
) -> pl.LazyFrame:
    """Table ``name`` (``cols`` only, checked by the caller) of the snapshots of ``days``,
    lazily, stacked with a leading ``date_snapshot`` column (``scan_table`` without the
    listing of the store). A snapshot written before a table or a column existed gives no
    rows or nulls."""
    schema = _schema_of(name)
    parts = []
    for day in days:
        file = store / day.isoformat() / f"{name}.parquet"
        if name in LATER_TABLES and not file.exists():
            continue  # snapshot written before the table existed: no rows
        lazy = pl.scan_parquet(file)
        available = lazy.collect_schema().names()
        parts.append(
            lazy.select(
                pl.lit(day, pl.Date).alias("date_snapshot"),
                *[
                    pl.col(c).cast(schema[c], strict=False)
                    if c in available
                    else pl.lit(None, schema[c]).alias(c)
                    for c in cols
                ],
            )
        )
    if not parts:
        return pl.LazyFrame(schema={"date_snapshot": pl.Date, **{c: schema[c] for c in cols}})
    return pl.concat(parts, how="vertical")


def cleanup_temporary(store: str | Path, older_than_s: float = 0.0) -> list[Path]:
    """Remove the leftovers of interrupted writes; return the folders removed.

    Takes the writer lock without waiting: while another process writes, nothing is touched
    (its temporary folder is live) and the list is empty. Holding the lock, every ``.tmp-*``
    folder older than ``older_than_s`` seconds is a leftover: an old copy set aside by a
    replacement whose snapshot folder is missing is put back, the others are removed
    (symbolic links are unlinked, never followed). Without ``flock`` only folders older
    than a minute are removed.
    """
    store = Path(store)
    if not store.is_dir():
        return []
    try:
        with _store_lock(store, timeout_s=0) as locked:
            return _cleanup_locked(store, older_than_s if locked else _TMP_MAX_AGE_S)
    except StoreError:
        return []
