"""One import, whatever the format: read → validate → preview → (on confirmation) snapshot.

The page *Import* and ``smr import`` / ``smr validate`` share this module, so that what a user
previews in the app is exactly what the command would store. ``preview`` reads and validates
without writing anything (uploads are staged in a temporary folder that is removed once read);
``save`` writes the previewed tables as a snapshot, refusing to replace an existing one unless
asked. The loader's own notes (unknown columns, derived mentions, filters…) are merged into
the validation report as warnings, so there is one report to read and to store.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from analysis.io import store
from analysis.io.loaders.canonical import read_source_dir
from analysis.io.loaders.result import LoadResult, Notes
from analysis.io.validate import (
    COUNT_KEYS,
    ValidationResult,
    by_cause,
    explain_rejections,
    root_causes,
    validate_tables,
)
from analysis.model import formats, settings
from analysis.model.errors import InputError, SmrError, SnapshotExistsError
from analysis.model.privacy import mask_report_values
from analysis.model.progress import Progress
from analysis.model.schema import REJECT, REPORT_SCHEMA, SOURCE_COLUMN, TABLES, WARNING

#: Formats and their French names (the CLI's ``--format`` values are the keys).
FORMATS: dict[str, str] = {
    "canonical": "Tables canoniques (un fichier par table : etablissements.csv, …)",
    "mapped": "Export ROR ou ViaTrajectoire (CSV ou Excel) avec une correspondance de colonnes",
    "finess": "FINESS open data (extraction etalab CSV, flux JSON « Activités »)",
    "fhir": "ROR FHIR (Bundle JSON, dossier de pages de résultats, NDJSON de l'extraction "
    "$export)",
}
#: Rows the app accepts in one import (all tables together). The command line has no limit;
#: ``SMR_MAX_IMPORT_ROWS`` overrides it (see ``analysis.model.settings``).
DEFAULT_MAX_ROWS = settings.DEFAULT_MAX_IMPORT_ROWS

_SAFE_NAME = re.compile(r"[^A-Za-z0-9._ ()\-À-ÿ]")


def max_rows() -> int:
    """The app-level row limit (``settings.max_import_rows``: ``SMR_MAX_IMPORT_ROWS``)."""
    return settings.max_import_rows()


def check_upload_sizes(files: Iterable[tuple[str, int]], max_bytes: int) -> None:
    """Raise ``InputError`` naming the first uploaded file larger than ``max_bytes``.

    ``files`` are ``(name, size in bytes)`` pairs; the app's limit is
    ``settings.max_upload_bytes()`` (``SMR_MAX_UPLOAD_MB``).
    """
    for name, size in files:
        if size > max_bytes:
            raise InputError(
                f"fichier trop volumineux pour l'application : {size / 2**20:.1f} Mo (limite "
                f"{max_bytes / 2**20:.0f} Mo) ; utilisez la commande « smr import »".replace(
                    ".", ","
                ),
                _safe_name(name),
            )


@dataclass(frozen=True)
class ImportOptions:
    """How to read the input: format, mapping file, FINESS filters, row limit (None: none)."""

    format: str = "canonical"
    mapping: Path | None = None
    region: str | None = None
    departements: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    row_limit: int | None = None

    def check(self) -> None:
        """Raise ``InputError`` for an unknown format or a mapped import without mapping."""
        if self.format not in FORMATS:
            raise InputError(
                f"format inconnu « {self.format} » ; formats possibles : {', '.join(FORMATS)}."
            )
        if self.format == "mapped" and self.mapping is None:
            raise InputError(
                "le format « mapped » demande un fichier de correspondance (--mapping FICHIER ; "
                "exemples dans docs/mappings/)."
            )
        if self.mapping is not None and self.format != "mapped":
            raise InputError("--mapping (correspondance) ne sert qu'au format « mapped ».")
        finess_only = self.region or self.departements or self.categories
        if finess_only and self.format != "finess":
            raise InputError(
                "les filtres région, département et catégorie ne s'appliquent qu'au format "
                "« finess »."
            )


def _canonical(source: Path | Sequence[Path]) -> LoadResult:
    if not isinstance(source, str | Path):
        folders = {Path(p).parent for p in source}
        if len(folders) != 1:
            raise InputError("format canonique : les fichiers doivent être dans un même dossier.")
        source = folders.pop()
    raw = read_source_dir(source)
    tables = {name: t.frame for name, t in raw.items()}
    notes = Notes()  # unknown columns are reported by validation itself
    # The default format is not named in the manifest (snapshots have never said it).
    return LoadResult("canonical", tables, notes.frame(), [t.source() for t in raw.values()], {})


def load(source: str | Path | Sequence[str | Path], options: ImportOptions) -> LoadResult:
    """Read ``source`` (a folder, a file or a list of files) in the format of ``options``.

    Raises ``InputError`` when the input cannot be read, or holds more rows than
    ``options.row_limit``.
    """
    options.check()
    src: Path | list[Path] = (
        Path(source) if isinstance(source, str | Path) else [Path(p) for p in source]
    )
    if options.format == "canonical":
        result = _canonical(src)
    elif options.format == "mapped":
        from analysis.io.loaders.mapped import load_mapped

        assert options.mapping is not None
        result = load_mapped(src, options.mapping)
    elif options.format == "finess":
        from analysis.io.loaders.finess import load_finess

        result = load_finess(src, options.region, options.departements, options.categories)
    else:
        from analysis.io.loaders.fhir import load_fhir

        result = load_fhir(src)
    if options.row_limit is not None and result.rows > options.row_limit:
        raise InputError(
            f"import trop volumineux pour l'application : {formats.integer(result.rows)} "
            f"lignes (limite {formats.integer(options.row_limit)}) ; filtrez les données ou "
            "utilisez la commande « smr import », qui n'a pas de limite."
        )
    return result


@dataclass(eq=False)
class ImportPreview:
    """What an import would store: validated tables, one merged report, counts, sources.

    ``report`` follows ``schema.REPORT_SCHEMA`` plus ``source`` (where the row came from);
    ``counts[table]`` has ``lus``, ``conserves``, ``rejetes``, ``avertissements`` (the loader's
    notes included).
    """

    loaded: LoadResult
    validation: ValidationResult
    report: pl.DataFrame
    counts: dict[str, dict[str, int]]
    options: ImportOptions = field(default_factory=ImportOptions)

    @property
    def ok(self) -> bool:
        """True when no row was rejected."""
        return self.validation.ok

    @property
    def rejected_rows(self) -> int:
        return sum(c["rejetes"] for c in self.counts.values())

    def counts_frame(self) -> pl.DataFrame:
        """One row per table that received rows, with the four counts (French table labels)."""
        rows = [
            {"table": name, "libelle": TABLES[name].label, **c}
            for name, c in self.counts.items()
            if c["lus"] or c["avertissements"] or name in self.loaded.tables
        ]
        schema = {"table": pl.String, "libelle": pl.String, **dict.fromkeys(COUNT_KEYS, pl.Int64)}
        return pl.DataFrame(rows, schema=schema, orient="row")

    def table_report(self, table: str) -> pl.DataFrame:
        """Report rows of one table, rejections first."""
        return self.report.filter(pl.col("table") == table).sort(
            "severity", "row", descending=[True, False], maintain_order=True
        )


def _locations(loaded: LoadResult) -> pl.DataFrame:
    """(table, row, source) of every raw row that carries a source location."""
    parts = []
    for name, frame in loaded.tables.items():
        if SOURCE_COLUMN in frame.columns:
            parts.append(
                frame.select(
                    pl.lit(name).alias("table"),
                    pl.int_range(1, pl.len() + 1, dtype=pl.Int64).alias("row"),
                    pl.col(SOURCE_COLUMN).cast(pl.String).alias("source"),
                )
            )
    if not parts:
        return pl.DataFrame(schema={"table": pl.String, "row": pl.Int64, "source": pl.String})
    return pl.concat(parts)


def _order(report: pl.DataFrame) -> pl.DataFrame:
    rank = {name: i for i, name in enumerate(TABLES)}
    return (
        report.with_columns(
            pl.col("table")
            .replace_strict(rank, default=len(rank), return_dtype=pl.Int64)
            .alias("_t")
        )
        .sort("_t", "row", maintain_order=True)
        .drop("_t")
    )


def check(
    loaded: LoadResult, options: ImportOptions | None = None, progress: Progress | None = None
) -> ImportPreview:
    """Validate loaded tables and merge the loader's notes into one report (nothing written).

    ``progress`` (``analysis.model.progress``) hears of each table checked."""
    validation = validate_tables(loaded.tables, progress)
    notes = loaded.notes.cast(REPORT_SCHEMA)
    merged = _order(pl.concat([validation.report, notes]))
    located = merged.join(
        _locations(loaded), on=["table", "row"], how="left", maintain_order="left"
    )
    counts = {name: dict(c) for name, c in validation.counts.items()}
    for name, n in notes.group_by("table").len().iter_rows():
        counts.setdefault(name, dict.fromkeys(COUNT_KEYS, 0))["avertissements"] += n
    return ImportPreview(loaded, validation, located, counts, options or ImportOptions())


def preview(
    source: str | Path | Sequence[str | Path],
    options: ImportOptions | None = None,
    progress: Progress | None = None,
) -> ImportPreview:
    """Read and validate ``source``; nothing is written. See ``load`` for the errors raised;
    ``check`` for ``progress``."""
    options = options or ImportOptions()
    return check(load(source, options), options, progress)


def save(
    result: ImportPreview,
    store_path: str | Path,
    date: dt.date | str,
    replace: bool = False,
    extra: dict[str, Any] | None = None,
) -> Path:
    """Write a previewed import as the snapshot of ``date``; return the snapshot folder.

    Rejected rows and warnings (the loader's notes included) are stored with the tables.
    Raises ``StoreError`` when the snapshot exists and ``replace`` is false.
    """
    warnings = result.report.filter(pl.col("severity") == WARNING).select(list(REPORT_SCHEMA))
    meta = {**result.loaded.extra, **(extra or {})}
    return store.write_snapshot(
        store_path,
        date,
        result.validation.tables,
        result.validation.rejected,
        warnings,
        sources=result.loaded.sources,
        replace=replace,
        extra=meta,
    )


@dataclass(eq=False)
class ImportResult:
    """Outcome of ``import_source``: where the snapshot went, counts and validation report."""

    date: dt.date
    path: Path
    counts: dict[str, dict[str, int]]
    report: pl.DataFrame
    sources: list[dict[str, Any]]

    @property
    def rejected_rows(self) -> int:
        """Rows set aside, all tables together."""
        return sum(c["rejetes"] for c in self.counts.values())


def import_source(
    source: str | Path | Sequence[str | Path],
    store_path: str | Path,
    date: dt.date | str,
    replace: bool = False,
    extra: dict[str, Any] | None = None,
    progress: Progress | None = None,
    options: ImportOptions | None = None,
) -> ImportResult:
    """Read ``source``, validate it and write it as the snapshot of ``date``: ``preview`` then
    ``save``, for scripts and tests (``smr import`` and the page *Import* take the same two
    steps with their output in between).

    Raises ``StoreError`` before reading anything when the snapshot exists and ``replace`` is
    false, ``InputError`` when the input cannot be read; rows that fail validation are not
    errors: they are in the result's report and in ``rejected.parquet``.
    """
    ensure_writable(store_path, date, replace)
    result = preview(source, options, progress)
    path = save(result, store_path, date, replace=replace, extra=extra)
    return ImportResult(
        store.snapshot_date(date), path, result.counts, result.report, result.loaded.sources
    )


def ensure_writable(store_path: str | Path, date: dt.date | str, replace: bool) -> None:
    """Raise ``StoreError`` before any reading when the snapshot exists and ``replace`` is false."""
    day = store.snapshot_date(date)
    if snapshot_exists(store_path, day) and not replace:
        raise SnapshotExistsError(store_path, day)


def snapshot_exists(store_path: str | Path, date: dt.date | str) -> bool:
    """True when ``store_path`` already holds a snapshot for ``date``."""
    day = store.snapshot_date(date)
    return (Path(store_path) / day.isoformat() / store.MANIFEST).is_file()


def _safe_name(name: str) -> str:
    """A file name without folders or odd characters (uploads name files, not paths)."""
    base = Path(name.replace("\\", "/")).name.strip() or "fichier"
    base = _SAFE_NAME.sub("_", base)
    return base.lstrip(".") or "fichier"


def stage_files(files: Iterable[tuple[str, bytes]], folder: str | Path) -> list[Path]:
    """Write uploaded ``(name, content)`` pairs into ``folder`` and return their paths.

    Names are reduced to a plain file name (no folder part, no leading dot); a repeated name
    gets a numbered suffix. Raises ``InputError`` when nothing was given.
    """
    folder = Path(folder)
    paths: list[Path] = []
    used: set[str] = set()
    for name, content in files:
        safe = _safe_name(name)
        stem, suffix = Path(safe).stem, Path(safe).suffix
        candidate, n = safe, 2
        while candidate.lower() in used:
            candidate, n = f"{stem} ({n}){suffix}", n + 1
        used.add(candidate.lower())
        path = folder / candidate
        path.write_bytes(content)
        paths.append(path)
    if not paths:
        raise InputError("aucun fichier à importer.")
    return paths


def preview_uploads(
    files: Iterable[tuple[str, bytes]],
    options: ImportOptions,
    mapping: tuple[str, bytes] | None = None,
    local: str | Path | None = None,
    max_bytes: int | None = None,
    progress: Progress | None = None,
) -> ImportPreview:
    """Preview uploaded files (or a local path), staged in a temporary folder removed once read.

    ``files`` are uploaded ``(name, content)`` pairs; when there are none, ``local`` (a file or
    folder of this machine) is read instead. ``mapping`` is an uploaded mapping file; otherwise
    ``options.mapping`` (a path) is used. ``max_bytes`` refuses larger uploads (the app passes
    ``settings.max_upload_bytes()``). Nothing is written outside the temporary folder.
    """
    files = list(files)
    if max_bytes is not None:
        check_upload_sizes(
            [(n, len(c)) for n, c in files] + ([(mapping[0], len(mapping[1]))] if mapping else []),
            max_bytes,
        )
    with tempfile.TemporaryDirectory(prefix="smr-import-") as tmp:
        base = Path(tmp)
        given: dict[Path, str] = {}  # staged file → the name the user gave it
        if mapping is not None:
            map_dir = base / "correspondance"
            map_dir.mkdir()
            (map_path,) = stage_files([mapping], map_dir)
            given[map_path] = _given_name(mapping[0])
            options = dataclasses.replace(options, mapping=map_path)
        if files:
            data_dir = base / "donnees"
            data_dir.mkdir()
            paths = stage_files(files, data_dir)
            given.update({p: _given_name(n) for p, (n, _) in zip(paths, files, strict=True)})
            source: Path | list[Path] = data_dir if options.format == "canonical" else paths
        elif local is not None:
            source = Path(local).expanduser()
        else:
            raise InputError("aucun fichier à importer.")
        try:
            loaded = load(source, options)
            return _with_given_names(check(loaded, options, progress), given)
        except SmrError as exc:
            raise _without_staging(exc, base, given) from None


def _given_name(name: str) -> str:
    """An uploaded file's name as the user gave it (browsers send no folder; strip any)."""
    return Path(name.replace("\\", "/")).name or "fichier"


def _without_staging(exc: SmrError, base: Path, given: dict[Path, str]) -> SmrError:
    """``exc`` with the temporary staging paths replaced by the names the user gave."""
    text = str(exc.args[0]) if exc.args else str(exc)
    for staged, name in sorted(given.items(), key=lambda kv: -len(str(kv[0]))):
        text = text.replace(str(staged), name)
    text = text.replace(str(base / "donnees"), "fichiers téléversés")
    text = text.replace(str(base / "correspondance"), "correspondance téléversée")
    text = text.replace(str(base), "fichiers téléversés")
    exc.args = (text, *exc.args[1:])
    if isinstance(exc, InputError) and isinstance(exc.path, Path):
        exc.path = given.get(exc.path, exc.path.name)
    return exc


def _with_given_names(result: ImportPreview, given: dict[Path, str]) -> ImportPreview:
    """The preview with staged file names (made safe, numbered) back to the given ones."""
    renamed = {p.name: n for p, n in given.items() if p.name != n}
    if not renamed or "source" not in result.report.columns:
        return result
    source = pl.col("source")
    for staged, name in renamed.items():
        source = source.str.replace(staged, name, literal=True)
    result.report = result.report.with_columns(source.alias("source"))
    return result


def explained_report(result: ImportPreview) -> pl.DataFrame:
    """The report in reading order: root causes first, each followed by the rows rejected (or
    warned) in cascade because of it, then the warnings; with the spreadsheet line (``ligne``,
    header = line 1) and, for a consequence, its ``cause`` (``validate.explain_rejections``).
    ``source`` is filled for every row read from a named file (« etablissements.csv, ligne 18 »).
    """
    explained = explain_rejections(result.report, result.validation.rejected)
    files = {s["table"]: s["file"] for s in result.loaded.sources
             if s.get("table") and s.get("file")}
    if files:
        file = pl.col("table").replace_strict(files, default=None, return_dtype=pl.String)
        located = pl.format("{}, ligne {}", file, pl.col("ligne"))
        source = pl.coalesce("source", located) if "source" in explained.columns else located
        explained = explained.with_columns(source.alias("source"))
    return by_cause(explained)


def cause_summary(result: ImportPreview, show_contacts: bool = False) -> pl.DataFrame:
    """One row per root cause of a rejection, with what it took with it.

    Columns: table, row, ligne (spreadsheet line), source (where the format locates rows,
    else null), probleme (« colonne « valeur » : motif », several joined by « ; »; contact
    values masked unless asked), en_consequence, avertissements_en_consequence, detail
    (``validate.root_causes``).
    """
    explained = mask_report_values(explained_report(result), show_contacts)
    roots = root_causes(explained)
    value = pl.when(pl.col("value").is_not_null()).then(
        pl.format(" « {} »", pl.col("value"))
    ).otherwise(pl.lit(""))
    source = pl.col("source") if "source" in explained.columns else pl.lit(None, pl.String)
    problems = (
        explained.filter(pl.col("cause").is_null() & (pl.col("severity") == REJECT))
        .group_by("table", "row", maintain_order=True)
        .agg(
            source.first().alias("source"),
            pl.format("{}{} : {}", "column", value, "reason").str.join(" ; ").alias("probleme"),
        )
    )
    return roots.join(problems, on=["table", "row"], how="left", maintain_order="left").select(
        "table", "row", "ligne", "source", "probleme", "en_consequence",
        "avertissements_en_consequence", "detail",
    )


def report_for_download(result: ImportPreview, show_contacts: bool = False) -> pl.DataFrame:
    """The report as users download it: causes first, spreadsheet lines, values of contact
    columns masked unless asked.

    ``analysis.present.export.csv_bytes`` masks contact *columns*; in a report the contact is a
    *value* whose ``column`` names a contact column, so it is masked here.
    """
    report = explained_report(result).select(
        "table", "ligne", "source", "column", "value", "rule", "reason", "severity", "cause"
    )
    return mask_report_values(report, show_contacts)
