"""Read ROR and ViaTrajectoire exports (CSV or Excel) through a column-mapping file.

Exports never have our canonical column names, and each region's export differs a little.
A mapping file (YAML or TOML, documented with examples in ``docs/mappings/``) says, for each
canonical table, which files feed it (name patterns, Excel sheet, header row), which source
column fills which canonical column, how codes and labels translate (« SMR locomoteur » or
« 102 » → ``ME051``, « Hospitalisation complète » or « 28 » → ``HC``, « Oui » → true) and how
dates are written. The loader applies it and hands all-text tables to ``analysis.io.validate``:

- source columns the mapping does not use are reported (warnings), never fatal;
- a required canonical column whose source column is missing from a file is an ``InputError``
  naming the mapping entry and the file; a missing optional one is a warning;
- values the maps do not know are passed on unchanged, so validation reports them row by row.

CSV files are read with the canonical loader's machinery (encoding and separator detection,
quotes, line breaks in fields); Excel files (.xlsx, .xlsm, .xls, .ods) with fastexcel
(calamine), every cell as text.

Not read: a header spread over several rows (one header row per table, ``ligne_entete``),
password-protected workbooks, fixed-width text, JSON. A table reads one sheet per workbook
(``feuille``), so a table split over several sheets of one workbook must be split into files.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import re
import tomllib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl
import yaml

from analysis.io.files import input_files, read_input
from analysis.io.loaders.canonical import TEXT_SUFFIXES, read_delimited
from analysis.io.loaders.result import LoadResult, Notes, file_source
from analysis.model import nomenclature
from analysis.model.errors import InputError
from analysis.model.schema import BOOLEAN, SOURCE_COLUMN, TABLES
from analysis.model.text import fold as _fold

FORMAT = "mapped"
MAPPING_SUFFIXES = (".yaml", ".yml", ".toml")
EXCEL_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".ods")
DATA_SUFFIXES = TEXT_SUFFIXES + EXCEL_SUFFIXES

#: Date formats users may write in the mapping, with their strptime equivalent. Any strptime
#: format (with ``%``) is accepted too; ``EXCEL`` reads spreadsheet day numbers (45352).
DATE_ALIASES: dict[str, str] = {
    "JJ/MM/AAAA": "%d/%m/%Y",
    "JJ/MM/AAAA HH:MM": "%d/%m/%Y %H:%M",
    "JJ/MM/AAAA HH:MM:SS": "%d/%m/%Y %H:%M:%S",
    "JJ/MM/AA": "%d/%m/%y",
    "JJ-MM-AAAA": "%d-%m-%Y",
    "JJ.MM.AAAA": "%d.%m.%Y",
    "AAAA-MM-JJ": "%Y-%m-%d",
    "AAAA-MM-JJ HH:MM:SS": "%Y-%m-%d %H:%M:%S",
    "AAAAMMJJ": "%Y%m%d",
    "EXCEL": "EXCEL",
}
_EXCEL_EPOCH = dt.datetime(1899, 12, 30)

_TRUE = {"oui", "o", "x", "vrai", "true", "1", "yes", "y", "synchronise", "synchronisee"}
_FALSE = {"non", "n", "faux", "false", "0", "no", "non synchronise", "non synchronisee"}

_TABLE_KEYS = (
    "fichiers",
    "fichier",
    "feuille",
    "ligne_entete",
    "colonnes",
    "valeurs",
    "dates",
    "constantes",
    "dedoublonner",
)
_TOP_KEYS = ("nom", "description", "version", "tables")
_MAX_LISTED = 12  # names listed in a message


# --- built-in value maps -------------------------------------------------------------------


def _boolean(value: str) -> str | None:
    folded = _fold(value)
    if folded in _TRUE:
        return "true"
    if folded in _FALSE:
        return "false"
    return None


def _statut(value: str) -> str | None:
    folded = _fold(value).replace(" ", "_")
    if folded in nomenclature.CODE_LISTS["statut"]:
        return folded
    if _fold(value) in ("espic", "psph"):
        return "prive_non_lucratif"
    return nomenclature.statut_from_legal_status(value, value)


#: Built-in value maps by name, each returning the canonical code or None when unknown.
BUILTIN_MAPS: dict[str, Callable[[str], str | None]] = {
    "mention": nomenclature.find_mention,
    "forme": nomenclature.find_forme,
    "statut": _statut,
    "oui_non": _boolean,
    "champ_activite": nomenclature.find_champ,
    "type_fermeture": nomenclature.find_type_fermeture,
}


def _builtin_for(table: str, column: str) -> str | None:
    """The built-in map that applies to a canonical column by default (None: none)."""
    col = TABLES[table].column(column)
    if col.kind == BOOLEAN:
        return "oui_non"
    if col.codes in ("mention", "forme", "statut", "champ_activite", "type_fermeture"):
        return col.codes
    return None


# --- the mapping file ----------------------------------------------------------------------


@dataclass(frozen=True)
class TableMapping:
    """How one canonical table is read: files, sheet, header row, columns, values, dates."""

    table: str
    files: tuple[str, ...]
    columns: dict[str, tuple[str, ...]]  # source column → canonical column(s)
    sheet: str | None = None
    header_row: int = 1
    values: dict[str, dict[str, str]] = field(default_factory=dict)  # folded source → code
    builtins: dict[str, str] = field(default_factory=dict)  # canonical column → map name
    dates: dict[str, tuple[str, ...]] = field(default_factory=dict)
    constants: dict[str, str] = field(default_factory=dict)
    distinct: bool = False

    @property
    def entry(self) -> str:
        """Where this table sits in the mapping file, for messages."""
        return f"tables.{self.table}"

    def sources_of(self, canonical: str) -> list[str]:
        """Source columns feeding ``canonical``, in mapping order."""
        return [s for s, targets in self.columns.items() if canonical in targets]

    def matches(self, name: str) -> bool:
        """True when a file name matches one of the patterns (case ignored)."""
        lowered = name.lower()
        return any(fnmatch.fnmatchcase(lowered, p.lower()) for p in self.files)


@dataclass(frozen=True)
class Mapping:
    """A whole mapping file: its name, path and one ``TableMapping`` per canonical table."""

    name: str
    path: Path
    tables: dict[str, TableMapping]


class _StringLoader(yaml.SafeLoader):
    """YAML loader that keeps every scalar as text (« Non », « 028 », « 102 » stay strings)."""


_StringLoader.yaml_implicit_resolvers = {
    key: [(tag, rx) for tag, rx in resolvers if tag == "tag:yaml.org,2002:null"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _load_yaml(text: str) -> Any:
    return yaml.load(text, Loader=_StringLoader)  # noqa: S506 - a SafeLoader subclass


def _scalar(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | str):
        return str(value)
    return None


class _Spec:
    """Reads one part of the parsed mapping, raising errors that name the mapping entry."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def fail(self, entry: str, message: str) -> InputError:
        return InputError(f"correspondance, entrée « {entry} » : {message}", self.path)

    def text(self, value: Any, entry: str) -> str:
        text = _scalar(value)
        if text is None or not text.strip():
            raise self.fail(entry, "une valeur texte non vide est attendue.")
        return text.strip()

    def mapping(self, value: Any, entry: str) -> dict[Any, Any]:
        if not isinstance(value, dict):
            raise self.fail(entry, "une liste « clé : valeur » est attendue.")
        return value

    def texts(self, value: Any, entry: str) -> tuple[str, ...]:
        items = value if isinstance(value, list) else [value]
        out = tuple(self.text(v, entry) for v in items)
        if not out:
            raise self.fail(entry, "au moins une valeur est attendue.")
        return out

    def flag(self, value: Any, entry: str) -> bool:
        parsed = _boolean(_scalar(value) or "")
        if parsed is None:
            raise self.fail(entry, "oui ou non attendu.")
        return parsed == "true"


def _column_names(spec: _Spec, table: str, value: Any, entry: str) -> tuple[str, ...]:
    names = spec.texts(value, entry)
    known = TABLES[table].names
    for name in names:
        if name not in known:
            raise spec.fail(
                entry,
                f"colonne « {name} » inconnue de la table {table} ; colonnes possibles : "
                f"{', '.join(known)}.",
            )
    return names


def _date_formats(spec: _Spec, value: Any, entry: str) -> tuple[str, ...]:
    formats = []
    for text in spec.texts(value, entry):
        fmt = DATE_ALIASES.get(text.upper(), text)
        if fmt != "EXCEL" and "%" not in fmt:
            aliases = ", ".join(DATE_ALIASES)
            raise spec.fail(
                entry,
                f"format de date « {text} » inconnu ; formats possibles : {aliases}, "
                "ou un format strftime (%d/%m/%Y).",
            )
        formats.append(fmt)
    return tuple(formats)


def _table_mapping(spec: _Spec, table: str, raw: Any) -> TableMapping:
    entry = f"tables.{table}"
    body = spec.mapping(raw, entry)
    keys = [str(k) for k in body]
    unknown = [k for k in keys if k not in _TABLE_KEYS]
    if unknown:
        raise spec.fail(
            entry,
            f"clé(s) inconnue(s) : {', '.join(unknown)} ; clés possibles : "
            f"{', '.join(_TABLE_KEYS)}.",
        )
    files_value = body.get("fichiers", body.get("fichier"))
    if files_value is None:
        raise spec.fail(entry, "« fichiers » manque : motif du nom de fichier (ex. *offres*.csv).")
    files = spec.texts(files_value, f"{entry}.fichiers")

    columns: dict[str, tuple[str, ...]] = {}
    raw_columns = spec.mapping(body.get("colonnes"), f"{entry}.colonnes")
    for source, target in raw_columns.items():
        name = spec.text(source, f"{entry}.colonnes")
        columns[name] = _column_names(spec, table, target, f"{entry}.colonnes.{name}")
    if not columns:
        raise spec.fail(f"{entry}.colonnes", "aucune colonne n'est décrite.")

    values: dict[str, dict[str, str]] = {}
    builtins: dict[str, str] = {}
    for column, value_map in spec.mapping(body.get("valeurs") or {}, f"{entry}.valeurs").items():
        where = f"{entry}.valeurs.{column}"
        (name,) = _column_names(spec, table, column, where)
        if isinstance(value_map, dict):
            values[name] = {
                _fold(spec.text(k, where)): spec.text(v, f"{where}.{k}")
                for k, v in value_map.items()
            }
        else:
            builtin = spec.text(value_map, where)
            if builtin not in BUILTIN_MAPS:
                raise spec.fail(
                    where,
                    f"table de valeurs « {builtin} » inconnue ; tables intégrées : "
                    f"{', '.join(BUILTIN_MAPS)}, ou une liste « valeur source : code ».",
                )
            builtins[name] = builtin
    for column in TABLES[table].names:
        default = _builtin_for(table, column)
        if default and column not in builtins:
            builtins[column] = default

    dates = {}
    for column, formats in spec.mapping(body.get("dates") or {}, f"{entry}.dates").items():
        (name,) = _column_names(spec, table, column, f"{entry}.dates")
        dates[name] = _date_formats(spec, formats, f"{entry}.dates.{name}")

    constants = {}
    for column, value in spec.mapping(body.get("constantes") or {}, f"{entry}.constantes").items():
        (name,) = _column_names(spec, table, column, f"{entry}.constantes")
        constants[name] = spec.text(value, f"{entry}.constantes.{name}")

    fed = {c for targets in columns.values() for c in targets} | set(constants)
    missing = [c for c in TABLES[table].required if c not in fed]
    if missing:
        raise spec.fail(
            f"{entry}.colonnes",
            f"colonne(s) obligatoire(s) de la table {table} alimentée(s) par aucune colonne "
            f"source ni constante : {', '.join(missing)}.",
        )

    sheet = body.get("feuille")
    header = body.get("ligne_entete")
    header_row = 1
    if header is not None:
        text = spec.text(header, f"{entry}.ligne_entete")
        if not text.isdigit() or int(text) < 1:
            raise spec.fail(f"{entry}.ligne_entete", "numéro de ligne (1, 2, …) attendu.")
        header_row = int(text)
    distinct = body.get("dedoublonner")
    return TableMapping(
        table=table,
        files=files,
        columns=columns,
        sheet=None if sheet is None else spec.text(sheet, f"{entry}.feuille"),
        header_row=header_row,
        values=values,
        builtins=builtins,
        dates=dates,
        constants=constants,
        distinct=False if distinct is None else spec.flag(distinct, f"{entry}.dedoublonner"),
    )


def parse_mapping(data: dict[str, Any], path: Path) -> Mapping:
    """A ``Mapping`` from an already parsed mapping document (YAML or TOML)."""
    spec = _Spec(path)
    top = spec.mapping(data, "(document)")
    unknown = [str(k) for k in top if str(k) not in _TOP_KEYS]
    if unknown:
        raise spec.fail(
            "(document)",
            f"clé(s) inconnue(s) : {', '.join(unknown)} ; clés possibles : {', '.join(_TOP_KEYS)}.",
        )
    tables_raw = spec.mapping(top.get("tables"), "tables")
    if not tables_raw:
        raise spec.fail("tables", "aucune table n'est décrite.")
    tables = {}
    for name, body in tables_raw.items():
        table = str(name)
        if table not in TABLES:
            raise spec.fail(
                f"tables.{table}", f"table inconnue ; tables possibles : {', '.join(TABLES)}."
            )
        tables[table] = _table_mapping(spec, table, body)
    ordered = {t: tables[t] for t in TABLES if t in tables}
    name = _scalar(top.get("nom")) or path.stem
    return Mapping(name=name, path=path, tables=ordered)


def read_mapping(path: str | Path) -> Mapping:
    """Read and check a mapping file (``.yaml``, ``.yml`` or ``.toml``).

    Every scalar is kept as text (so « 028 » or « Non » are not turned into numbers or
    booleans). Raises ``InputError`` naming the file and the faulty entry.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError("fichier de correspondance introuvable.", path)
    suffix = path.suffix.lower()
    if suffix not in MAPPING_SUFFIXES:
        raise InputError(
            f"fichier de correspondance : extension {suffix or '(aucune)'} non prise en charge "
            f"({', '.join(MAPPING_SUFFIXES)} attendue).",
            path,
        )
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError("fichier de correspondance : UTF-8 attendu.", path) from None
    try:
        # _StringLoader is a SafeLoader that keeps scalars as text.
        parse = tomllib.loads if suffix == ".toml" else _load_yaml
        data = parse(text)
    except (yaml.YAMLError, tomllib.TOMLDecodeError) as exc:
        where = ""
        mark = getattr(exc, "problem_mark", None)
        if mark is not None:
            where = f" (ligne {mark.line + 1}, colonne {mark.column + 1})"
        raise InputError(f"fichier de correspondance illisible{where}.", path) from None
    return parse_mapping(data, path)


# --- reading the source files --------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class _SourceFrame:
    frame: pl.DataFrame  # header names, all text
    where: list[str]  # one location per row, for ``_source``
    details: dict[str, Any]


def _read_excel(
    path: Path, data: bytes, sheet: str | None, header_row: int, entry: str
) -> _SourceFrame:
    """One sheet of a workbook, every cell as text, blank rows dropped."""
    import fastexcel

    try:
        reader = fastexcel.read_excel(data)
        names = reader.sheet_names
    except Exception:
        raise InputError("classeur Excel illisible ou corrompu.", path) from None
    if not names:
        raise InputError("classeur sans feuille.", path)
    if sheet is None:
        chosen: str | int = 0
        label = names[0] if names else "1"
    elif sheet in names:
        chosen, label = sheet, sheet
    elif sheet.isdigit() and 1 <= int(sheet) <= len(names):
        chosen, label = int(sheet) - 1, names[int(sheet) - 1]
    else:
        raise InputError(
            f"feuille « {sheet} » absente du classeur (correspondance, entrée « {entry}."
            f"feuille ») ; feuilles du classeur : {', '.join(names)}.",
            path,
        )
    try:
        loaded = reader.load_sheet(chosen, header_row=header_row - 1, dtypes="string")
        frame = loaded.to_polars()
    except Exception:
        raise InputError(
            f"feuille « {label} » illisible (ligne d'en-tête {header_row} ?).", path
        ) from None
    frame = frame.with_columns(pl.all().cast(pl.String))
    frame.columns = [str(c).strip() for c in frame.columns]
    rows = [f"{path.name} › {label} : ligne {header_row + i + 1}" for i in range(frame.height)]
    if frame.width:
        blank = pl.all_horizontal(pl.all().str.strip_chars().fill_null("") == "")
        keep = frame.select(~blank).to_series().to_list()
        frame = frame.filter(pl.Series(keep))
        rows = [r for r, k in zip(rows, keep, strict=True) if k]
    return _SourceFrame(frame, rows, {"sheet": label, "header_row": header_row})


def _read_text(path: Path, data: bytes, header_row: int) -> _SourceFrame:
    text = read_delimited(data, path, skip_lines=header_row - 1)
    where = [f"{path.name} : ligne {header_row + i + 1}" for i in range(text.frame.height)]
    details = {"encoding": text.encoding, "separator": text.separator, "header_row": header_row}
    return _SourceFrame(text.frame, where, details)


def _read_source(path: Path, data: bytes, mapping: TableMapping) -> _SourceFrame:
    suffix = path.suffix.lower()
    if suffix in EXCEL_SUFFIXES:
        return _read_excel(path, data, mapping.sheet, mapping.header_row, mapping.entry)
    return _read_text(path, data, mapping.header_row)


# --- applying the mapping ------------------------------------------------------------------


def _resolve_columns(columns: list[str], mapping: TableMapping) -> tuple[dict[str, str], list[str]]:
    """Source name in the mapping → column in the file (exact, else case/accent-insensitive)."""
    folded: dict[str, str] = {}
    for c in columns:
        folded.setdefault(_fold(c), c)
    found, missing = {}, []
    for source in mapping.columns:
        if source in columns:
            found[source] = source
        elif _fold(source) in folded:
            found[source] = folded[_fold(source)]
        else:
            missing.append(source)
    return found, missing


_DATA_LIKE = re.compile(r"@|\d{5}")


def _header_description(columns: list[str], mapping: TableMapping) -> str:
    """The file's header for an error message, unless it looks like a row of data.

    A file without a header row (or a wrong ``ligne_entete``) has its first record taken
    as column names: listing them would echo data, contacts included, into the message.
    """
    if any(_DATA_LIKE.search(c) for c in columns):
        return (
            f"la ligne d'en-tête ressemble à une ligne de données (en-tête absent, ou ligne "
            f"d'en-tête {mapping.header_row} à corriger dans « {mapping.entry}.ligne_entete » ?)"
        )
    listed = ", ".join(columns[:_MAX_LISTED])
    more = " …" if len(columns) > _MAX_LISTED else ""
    return f"colonnes du fichier : {listed}{more}"


def _check_missing(
    missing: list[str],
    found: dict[str, str],
    mapping: TableMapping,
    file: Path,
    columns: list[str],
    notes: Notes,
) -> None:
    """Raise for a required canonical column left without source; note the others at once."""
    required = set(TABLES[mapping.table].required)
    for source in missing:
        for target in mapping.columns[source]:
            alternatives = [s for s in mapping.sources_of(target) if s in found]
            if target in required and not alternatives and target not in mapping.constants:
                raise InputError(
                    f"colonne « {source} » absente (correspondance, entrée "
                    f"« {mapping.entry}.colonnes », colonne obligatoire {target}) ; "
                    f"{_header_description(columns, mapping)}.",
                    file,
                )
    if missing:
        targets = sorted({t for source in missing for t in mapping.columns[source]})
        notes.add(
            mapping.table,
            "colonne_absente",
            f"{file.name} : {len(missing)} colonne(s) de la correspondance absente(s) du fichier "
            f"({', '.join(f'« {m} »' for m in missing)}) : {', '.join(targets)} reste(nt) "
            "vide(s) quand aucune autre colonne ne les alimente",
            column=", ".join(targets),
        )


def _translate(values: pl.Series, fn: Callable[[str], str | None]) -> pl.Series:
    """``values`` with each distinct value passed once through ``fn`` (None keeps it)."""
    distinct = [v for v in values.unique().to_list() if v is not None]
    table = {}
    for v in distinct:
        out = fn(v)
        if out is not None and out != v:
            table[v] = out
    if not table:
        return values
    return values.replace(table)


def _value_mapper(mapping: TableMapping, column: str) -> Callable[[str], str | None]:
    custom = mapping.values.get(column, {})
    builtin = BUILTIN_MAPS.get(mapping.builtins.get(column, ""))

    def mapper(value: str) -> str | None:
        folded = _fold(value)
        if folded in custom:
            return custom[folded]
        return builtin(value) if builtin is not None else None

    return mapper


def _date_parser(formats: tuple[str, ...]) -> Callable[[str], str | None]:
    def parse(value: str) -> str | None:
        text = value.strip()
        for fmt in formats:
            try:
                if fmt == "EXCEL":
                    when = _EXCEL_EPOCH + dt.timedelta(days=float(text.replace(",", ".")))
                else:
                    when = dt.datetime.strptime(text, fmt)
            except (ValueError, OverflowError):
                continue
            if when.time() == dt.time(0):
                return when.date().isoformat()
            return when.isoformat(timespec="seconds")
        return None

    return parse


def _map_frame(source: _SourceFrame, mapping: TableMapping, found: dict[str, str]) -> pl.DataFrame:
    """The canonical columns of one source frame, values and dates translated."""
    frame = source.frame
    out: dict[str, pl.Series] = {}
    for column in TABLES[mapping.table].names:
        sources = [found[s] for s in mapping.sources_of(column) if s in found]
        if not sources and column not in mapping.constants:
            continue
        if len(sources) == 1:
            series = frame.get_column(sources[0]).str.strip_chars()
        elif sources:
            series = frame.select(
                pl.concat_str(
                    [pl.col(s).str.strip_chars() for s in sources],
                    separator=" ",
                    ignore_nulls=True,
                )
            ).to_series()
        else:
            series = pl.Series(column, [None] * frame.height, dtype=pl.String)
        series = series.replace("", None)
        if column in mapping.constants:
            series = series.fill_null(mapping.constants[column])
        if column in mapping.builtins or column in mapping.values:
            series = _translate(series, _value_mapper(mapping, column))
        if column in mapping.dates:
            series = _translate(series, _date_parser(mapping.dates[column]))
        out[column] = series.alias(column)
    out[SOURCE_COLUMN] = pl.Series(SOURCE_COLUMN, source.where, dtype=pl.String)
    return pl.DataFrame(out)


def list_data_files(source: str | Path | Sequence[str | Path]) -> list[Path]:
    """The data files of ``source``: a folder's CSV / TXT / TSV / Excel files, or the files given.

    Raises ``InputError`` when a path does not exist or a folder holds no such file.
    """
    return input_files(
        source,
        lambda p: p.suffix.lower() in DATA_SUFFIXES,
        f"aucun fichier CSV, TXT, TSV ou Excel ({', '.join(DATA_SUFFIXES)}).",
    )


def load_mapped(
    source: str | Path | Sequence[str | Path], mapping: Mapping | str | Path
) -> LoadResult:
    """Read export files through a mapping into raw canonical tables (all text) with notes.

    ``source`` is a folder or a list of files; ``mapping`` a ``Mapping`` or the path of a
    mapping file. Each table's files are read, mapped and stacked; with ``dedoublonner`` the
    exact repeats (a flat one-row-per-offer export read as establishments) are merged, their
    number noted. Raises ``InputError`` when nothing matches, a file cannot be read, or a
    required column is missing.
    """
    if not isinstance(mapping, Mapping):
        mapping = read_mapping(mapping)
    files = list_data_files(source)
    notes = Notes()
    cache: dict[tuple[Path, str | None, int], _SourceFrame] = {}
    contents: dict[Path, bytes] = {}
    sources: dict[Path, dict[str, Any]] = {}
    tables: dict[str, pl.DataFrame] = {}
    matched_any: set[Path] = set()
    used: dict[tuple[Path, str | None, int], tuple[str, set[str]]] = {}

    for table, tmap in mapping.tables.items():
        parts = []
        for file in files:
            if not tmap.matches(file.name):
                continue
            matched_any.add(file)
            if file not in contents:
                contents[file] = read_input(file)
                if not contents[file].strip():
                    raise InputError("fichier vide.", file)
            key = (
                file,
                tmap.sheet if file.suffix.lower() in EXCEL_SUFFIXES else None,
                tmap.header_row,
            )
            if key not in cache:
                cache[key] = _read_source(file, contents[file], tmap)
            src = cache[key]
            columns = src.frame.columns
            found, missing = _resolve_columns(columns, tmap)
            _check_missing(missing, found, tmap, file, columns, notes)
            used.setdefault(key, (table, set()))[1].update(found.values())
            parts.append(_map_frame(src, tmap, found))
            entry = sources.setdefault(
                file, file_source(file, contents[file], FORMAT, tables=[], rows=src.frame.height)
            )
            entry["tables"].append(table)
            entry.update(src.details)
        if not parts:
            notes.add(
                table,
                "fichier_absent",
                f"aucun fichier ne correspond aux motifs {', '.join(tmap.files)} "
                f"(correspondance, entrée « {tmap.entry} ») : table non importée",
            )
            continue
        frame = pl.concat(parts, how="diagonal")
        if tmap.distinct:
            before = frame.height
            data_cols = [c for c in frame.columns if c != SOURCE_COLUMN]
            frame = frame.unique(subset=data_cols, keep="first", maintain_order=True)
            if frame.height < before:
                notes.add(
                    table,
                    "lignes_fusionnees",
                    f"{before - frame.height} ligne(s) identique(s) sur les colonnes de la table "
                    f"fusionnée(s) (dedoublonner) : {before} lues, {frame.height} gardées",
                )
        tables[table] = frame

    if not matched_any:
        patterns = "; ".join(f"{t}: {', '.join(m.files)}" for t, m in mapping.tables.items())
        names = ", ".join(f.name for f in files[:_MAX_LISTED])
        raise InputError(
            f"aucun fichier ({names}) ne correspond aux motifs de la correspondance "
            f"« {mapping.name} » ({patterns})."
        )
    for key, (table, names) in used.items():
        unused = [c for c in cache[key].frame.columns if c not in names]
        if unused:
            listed = ", ".join(unused[:_MAX_LISTED]) + (" …" if len(unused) > _MAX_LISTED else "")
            if any(_DATA_LIKE.search(c) for c in unused):  # never echo data as names
                listed = "(noms semblables à des données, non recopiés)"
            sheet = f" (feuille {cache[key].details['sheet']})" if key[1] is not None else ""
            notes.add(
                table,
                "colonne_inconnue",
                f"{key[0].name}{sheet} : {len(unused)} colonne(s) utilisée(s) par aucune table "
                f"de la correspondance, ignorée(s) : {listed}",
            )
    first = next(iter(mapping.tables))
    for file in files:
        if file not in matched_any:
            notes.add(
                first,
                "fichier_ignore",
                f"fichier « {file.name} » ignoré : aucun motif de la correspondance ne le désigne",
            )
    extra = {
        "format": FORMAT,
        "correspondance": mapping.name,
        "fichier_correspondance": mapping.path.name,
    }
    return LoadResult(FORMAT, tables, notes.frame(), list(sources.values()), extra)


def example_mappings(folder: str | Path | None = None) -> list[Path]:
    """The example mapping files shipped in ``docs/mappings/`` (sorted)."""
    base = (
        Path(folder)
        if folder is not None
        else Path(__file__).resolve().parents[3] / ("docs/mappings")
    )
    if not base.is_dir():
        return []
    return sorted(p for p in base.iterdir() if p.suffix.lower() in MAPPING_SUFFIXES)


def describe(mapping: Mapping) -> Iterable[str]:
    """One French line per table: file patterns (as Markdown code) and columns mapped."""
    for table, tmap in mapping.tables.items():
        sheet = f", feuille {tmap.sheet}" if tmap.sheet else ""
        files = ", ".join(f"`{f}`" for f in tmap.files)
        yield f"{table} ← {files}{sheet} : {len(tmap.columns)} colonne(s) source"
