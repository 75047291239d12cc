"""Planner-supplied parameter files: population by age and commune → establishment travel times.

Both are small CSV files a planner brings from elsewhere (INSEE age tables, a routing engine).
They are read here, checked row by row, and handed to ``coverage`` and ``access`` as Polars
frames; a file that cannot be used raises :class:`~analysis.model.errors.InputError` with one French
line naming the file, the line, the column and the reason (and how many other problems follow).

Common rules: UTF-8 (with or without BOM) or Windows-1252; separator ``,``, ``;`` or tab
(detected on the header line); header names are case-insensitive; extra columns are ignored.
Commune codes are 5-character INSEE codes (``75056``, ``2A004``); a 4-digit code whose leading
zero a spreadsheet dropped is read as its 5-digit form. Line numbers count the header as line 1.

Population by age (``--population-ages``), documented in ``docs/population_par_age.md``::

    commune_insee,moins_18,plus_75,total
    75056,390000,160000,2187526

- ``moins_18``: inhabitants under 18 (denominator of the pédiatrie mentions ME060, ME061);
- ``plus_75``: inhabitants aged 75 and over (denominator of gériatrie, ME059);
- ``total``: all inhabitants (denominator of the other mentions when the file is given).
Numbers are non-negative (decimals allowed: INSEE detailed census counts are weighted), with
``moins_18 + plus_75 <= total``. ``CODGEO`` / ``code_insee`` are accepted for the code column.

Travel times (``--costs``)::

    commune_insee,finess_eg,minutes
    77001,770000123,24.5

One row per (commune, establishment) pair that can be travelled; a pair absent from the file
is *unreachable*. ``minutes`` is a non-negative number; a pair appears once. ``finess`` is
accepted for ``finess_eg``, ``temps`` / ``duree`` for ``minutes``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from analysis.io.files import read_input
from analysis.io.loaders.canonical import decode_text, read_delimited
from analysis.model.errors import InputError
from analysis.model.text import fold_key as _fold_header

INSEE_RE = re.compile(r"^(\d{5}|2[AB]\d{3})$")
FINESS_RE = re.compile(r"^(\d{2}|2[AB])\d{7}$")

POPULATION_COLUMNS = ("commune_insee", "moins_18", "plus_75", "total")
TRAVEL_TIME_COLUMNS = ("commune_insee", "finess_eg", "minutes")

_ALIASES = {
    "codgeo": "commune_insee",
    "code_insee": "commune_insee",
    "code_commune": "commune_insee",
    "insee": "commune_insee",
    "finess": "finess_eg",
    "temps": "minutes",
    "duree": "minutes",
    "temps_min": "minutes",
}

#: A file larger than this is refused (a region-wide cost table is a few MB).
MAX_BYTES = 500 * 1024 * 1024


def _short(value: object, limit: int = 40) -> str:
    """A value or name cut for an error message (a 5 MB cell is never echoed)."""
    text = "" if value is None else str(value)
    return text if len(text) <= limit else text[:limit] + "…"


def _read_csv_strings(data: str | Path | bytes, source: object) -> pl.DataFrame:
    """A CSV file (path or bytes) as a frame of text columns with normalised header names.

    Read with the canonical loader's machinery (``loaders.canonical.read_delimited``), so
    encodings, separators, quotes and broken lines are handled and reported one way.
    """
    if isinstance(data, bytes):
        raw = data
    else:
        path = Path(data)
        raw = read_input(path, max_bytes=MAX_BYTES)
    if not raw.strip():
        raise InputError("fichier vide", source)
    df = read_delimited(raw, Path(str(source))).frame
    names = []
    for name in df.columns:
        key = name.strip().lower().replace(" ", "_").replace("-", "_")
        names.append(_ALIASES.get(key, key))
    if len(set(names)) != len(names):
        listed = ", ".join(_short(c) for c in df.columns)
        raise InputError(f"colonnes en double dans l'en-tête : {listed}", source)
    return df.rename(dict(zip(df.columns, names, strict=True)))


def _require(df: pl.DataFrame, columns: tuple[str, ...], source: object) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise InputError(
            f"colonne(s) manquante(s) : {', '.join(missing)} ; colonnes attendues : "
            f"{', '.join(columns)} (colonnes lues : {', '.join(_short(c) for c in df.columns)})",
            source,
        )
    if df.height == 0:
        raise InputError("aucune ligne de données après l'en-tête", source)


def _raise_first(problems: list[str], total: int, source: object) -> None:
    """One error line: the first problem, and how many others there are."""
    if problems:
        more = f" (et {total - 1} autre(s) erreur(s))" if total > 1 else ""
        raise InputError(problems[0] + more, source)


def _insee_expr(col: str) -> pl.Expr:
    """Cleaned INSEE code (4 digits padded to 5), or null when not a valid code."""
    text = pl.col(col).str.strip_chars().str.to_uppercase()
    text = pl.when(text.str.contains(r"^\d{4}$")).then(text.str.zfill(5)).otherwise(text)
    return pl.when(text.str.contains(INSEE_RE.pattern)).then(text).otherwise(None)


def _finess_expr(col: str) -> pl.Expr:
    """Cleaned FINESS number (8 digits padded to 9), or null when not valid."""
    text = pl.col(col).str.strip_chars().str.to_uppercase()
    text = pl.when(text.str.contains(r"^\d{8}$")).then(text.str.zfill(9)).otherwise(text)
    return pl.when(text.str.contains(FINESS_RE.pattern)).then(text).otherwise(None)


def _number_expr(col: str) -> pl.Expr:
    """A non-negative finite number written the French or English way, else null."""
    text = pl.col(col).str.replace_all(r"[\s\u202f\xa0]", "").str.replace(",", ".", literal=True)
    value = text.cast(pl.Float64, strict=False)
    return pl.when(value.is_finite() & (value >= 0)).then(value).otherwise(None)


_CODE_REASONS = {
    "commune_insee": "code commune « {v} » invalide (5 caractères INSEE attendus, ex. 75056)",
    "finess_eg": "numéro FINESS « {v} » invalide (9 caractères attendus)",
}


def _parse(df: pl.DataFrame, codes: tuple[str, ...], numeric: tuple[str, ...]) -> pl.DataFrame:
    """Parsed columns (null where invalid) beside the raw text (``_raw_<col>``) and the line."""
    cleaners = {"commune_insee": _insee_expr, "finess_eg": _finess_expr}
    return df.select(
        (pl.int_range(pl.len(), dtype=pl.Int64) + 2).alias("_line"),  # header is line 1
        *(pl.col(c).alias(f"_raw_{c}") for c in (*codes, *numeric)),
        *(cleaners[c](c).alias(c) for c in codes),
        *(_number_expr(c).alias(c) for c in numeric),
    )


def _problems(
    parsed: pl.DataFrame, codes: tuple[str, ...], numeric: tuple[str, ...], limit: int = 1
) -> tuple[list[str], int]:
    """French messages for the first invalid cells (in line order) and their total count."""
    found: list[tuple[int, str]] = []
    total = 0
    for col in (*codes, *numeric):
        bad = parsed.filter(pl.col(col).is_null())
        total += bad.height
        for line, raw in bad.select("_line", f"_raw_{col}").head(limit).iter_rows():
            reason = _CODE_REASONS.get(
                col, "valeur « {v} » invalide (nombre positif ou nul attendu)"
            )
            found.append((line, f"ligne {line}, colonne {col} : " + reason.format(v=_short(raw))))
    found.sort()
    return [m for _, m in found], total


def _source(data: str | Path | bytes, source: object | None) -> object:
    if source is not None:
        return source
    return "fichier envoyé" if isinstance(data, bytes) else data


def read_population_ages(data: str | Path | bytes, source: object | None = None) -> pl.DataFrame:
    """Population by age band per commune, checked: commune_insee, moins_18, plus_75, total.

    ``data`` is a path or the file's bytes (an upload); ``source`` names it in errors. Values
    are Float64 (inhabitants). Raises ``InputError`` (French, with the line) on any problem.
    """
    source = _source(data, source)
    codes, numeric = ("commune_insee",), ("moins_18", "plus_75", "total")
    df = _read_csv_strings(data, source)
    _require(df, POPULATION_COLUMNS, source)
    parsed = _parse(df, codes, numeric)
    problems, total = _problems(parsed, codes, numeric)
    _raise_first(problems, total, source)
    over = parsed.filter(
        pl.col("moins_18") + pl.col("plus_75") > pl.col("total") * (1 + 1e-9) + 1e-6
    )
    if over.height:
        r = over.row(0, named=True)
        _raise_first(
            [
                f"ligne {r['_line']} : moins_18 + plus_75 ({r['moins_18']:g} + {r['plus_75']:g}) "
                f"dépasse total ({r['total']:g})"
            ],
            over.height,
            source,
        )
    _check_duplicates(parsed, ["commune_insee"], "commune {0} en double", source)
    return parsed.select(*codes, *numeric)


def _check_duplicates(parsed: pl.DataFrame, key: list[str], what: str, source: object) -> None:
    """Refuse a key that appears twice, naming both lines."""
    dup = parsed.filter(pl.struct(key).is_duplicated()).sort("_line")
    if dup.height == 0:
        return
    first = dup.row(0, named=True)
    values = [first[k] for k in key]
    again = dup.filter(pl.all_horizontal(pl.col(k) == v for k, v in zip(key, values, strict=True)))[
        "_line"
    ].to_list()
    n_keys = dup.select(key).unique().height
    _raise_first(
        [f"ligne {again[1]} : {what.format(*values)} (déjà ligne {again[0]})"], n_keys, source
    )


def read_travel_times(data: str | Path | bytes, source: object | None = None) -> pl.DataFrame:
    """Commune → establishment travel times, checked: commune_insee, finess_eg, minutes.

    ``data`` is a path or the file's bytes; ``source`` names it in errors. Pairs absent from
    the table are unreachable for every indicator that uses it. Raises ``InputError``.
    """
    source = _source(data, source)
    codes, numeric = ("commune_insee", "finess_eg"), ("minutes",)
    df = _read_csv_strings(data, source)
    _require(df, TRAVEL_TIME_COLUMNS, source)
    parsed = _parse(df, codes, numeric)
    problems, total = _problems(parsed, codes, numeric)
    _raise_first(problems, total, source)
    _check_duplicates(
        parsed,
        ["commune_insee", "finess_eg"],
        "couple commune {0} → établissement {1} en double",
        source,
    )
    return parsed.select(*codes, *numeric)


# ------------------------------------------------------------- INSEE legal populations

#: Header names (folded: lower case, accents and punctuation as ``_``) of a column holding the
#: full 5-character commune code, in INSEE's files and common re-publications.
CODE_HEADERS = (
    "depcom", "codgeo", "code_insee", "commune_insee", "code_commune_insee", "insee",
    "com_arm_code", "code_geographique", "cog",
)  # fmt: skip
#: Header names of the département part when the code is split (``CODDEP`` + ``CODCOM``).
DEP_HEADERS = ("coddep", "code_departement", "dep", "departement")
#: Header names of the commune part (3 characters) or of the whole code (5 characters).
COM_HEADERS = ("codcom", "code_commune", "com_code")
#: Header names of the population municipale; ``PMUN2021``-style names also match.
POPULATION_HEADERS = ("pmun", "population_municipale", "pop_municipale", "populationmunicipale")
#: ``PMUN2021`` (base-pop-historiques) or ``P21_POP`` (census tables): the year is in the name.
_PMUN_YEAR = re.compile(r"pmun_?((?:19|20)\d{2})|p(?=\d{2}_pop)(\d{2})_pop")
_YEAR_IN_TEXT = re.compile(r"(?:populations?\s+l[ée]gales?|recensement|mill[ée]sime)\D{0,20}"
                           r"((?:19|20)\d{2})", re.IGNORECASE)
EXCEL_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".ods")


@dataclass(frozen=True)
class LegalPopulations:
    """A population file read: ``frame`` (commune_insee, population as Float64: communes and
    arrondissements as the file gives them), ``millesime`` (e.g. « populations légales
    2021 », or a sentence saying it is unknown), ``source`` (the file's name) and the columns
    read (``colonnes``: what was used as code and as population)."""

    frame: pl.DataFrame
    millesime: str
    source: str
    colonnes: tuple[str, ...]

    @property
    def year(self) -> str | None:
        """The vintage's year when known."""
        match = re.search(r"(?:19|20)\d{2}", self.millesime)
        return match.group(0) if match and "inconnu" not in self.millesime else None


def _find(headers: list[str], wanted: tuple[str, ...]) -> int | None:
    folded = [_fold_header(h) for h in headers]
    for w in wanted:
        if w in folded:
            return folded.index(w)
    return None


def _population_column(headers: list[str], given: str | None) -> tuple[int | None, str | None]:
    """Index of the population municipale column, and the year its name carries (PMUN2021)."""
    if given is not None:
        idx = _find(headers, (_fold_header(given),))
        return idx, None
    idx = _find(headers, POPULATION_HEADERS)
    if idx is not None:
        return idx, None
    years = []
    for i, h in enumerate(headers):
        m = _PMUN_YEAR.fullmatch(_fold_header(h))
        if m:
            year = m.group(1) or m.group(2)
            years.append((int(year) if len(year) == 4 else 2000 + int(year), i))
    if years:  # the latest census when a file has several (base-pop-historiques)
        year, i = max(years)
        return i, str(year)
    return None, None


def _code_columns(
    headers: list[str], given: str | None
) -> tuple[int | None, int | None]:
    """(index of the full code or of the commune part, index of the département part or
    None)."""
    if given is not None:
        return _find(headers, (_fold_header(given),)), None
    full = _find(headers, CODE_HEADERS)
    if full is not None:
        return full, None
    com = _find(headers, COM_HEADERS)
    dep = _find(headers, DEP_HEADERS)
    return com, dep


def _header_row(rows: list[list[str]], code: str | None, population: str | None) -> int | None:
    """The first row that holds a code column and a population column (titles above it)."""
    for i, row in enumerate(rows[:40]):
        headers = [str(v or "").strip() for v in row]
        c, _ = _code_columns(headers, code)
        p, _ = _population_column(headers, population)
        if c is not None and p is not None:
            return i
    return None


def _vintage(texts: list[str], year_from_header: str | None, name: str) -> str:
    """« populations légales 2021 » from the header year, a title line or the file's name."""
    if year_from_header:
        return f"populations légales {year_from_header} (fichier {name})"
    for text in texts:
        m = _YEAR_IN_TEXT.search(text)
        if m:
            return f"populations légales {m.group(1)} (fichier {name})"
    m = re.search(r"(?<!\d)((?:19|20)\d{2})(?!\d)", name)
    if m:
        return f"populations légales {m.group(1)} (d'après le nom du fichier {name})"
    return f"fichier {name} (millésime inconnu : ni titre, ni colonne, ni nom de fichier daté)"


def _sheet_rows(data: bytes, source: object) -> list[tuple[str, list[list[str]]]]:
    """Every sheet of a workbook as rows of text (blank rows dropped)."""
    try:
        sheets = pl.read_excel(
            data, sheet_id=0, has_header=False, infer_schema_length=0, raise_if_empty=False
        )
    except Exception:
        raise InputError("classeur Excel illisible ou corrompu", source) from None
    out = []
    for name, frame in sheets.items():
        rows = [
            ["" if v is None else str(v).strip() for v in row]
            for row in frame.cast(pl.String).iter_rows()
        ]
        out.append((name, [r for r in rows if any(r)]))
    return out


def _rows_of(
    data: bytes, name: str, source: object, code: str | None, population: str | None
) -> tuple[list[str], list[list[str]], list[str], str]:
    """Headers, data rows, title lines above the header and where they come from."""
    if Path(name).suffix.lower() in EXCEL_SUFFIXES:
        sheets = _sheet_rows(data, source)
        # INSEE's workbook has one sheet per level: prefer « Communes », else the first one
        # that has both columns.
        ordered = sorted(sheets, key=lambda s: 0 if _fold_header(s[0]) == "communes" else 1)
        for sheet, rows in ordered:
            i = _header_row(rows, code, population)
            if i is not None:
                titles = [" ".join(r) for r in rows[:i]]
                return rows[i], rows[i + 1 :], titles, f"feuille « {sheet} »"
        raise InputError(
            "aucune feuille ne contient une colonne de code commune et une colonne de "
            "population municipale (en-têtes attendus : DEPCOM ou CODGEO, ou CODDEP et "
            "CODCOM, et PMUN ou « Population municipale »)",
            source,
        )
    text, _ = decode_text(data, Path(name))
    lines = text.splitlines()
    skip = 0
    for i, line in enumerate(lines[:40]):
        cells = re.split(r"[;,\t]", line)
        c, _ = _code_columns([x.strip().strip('"') for x in cells], code)
        p, _ = _population_column([x.strip().strip('"') for x in cells], population)
        if c is not None and p is not None:
            skip = i
            break
    table = read_delimited(data, Path(name), skip_lines=skip).frame
    headers = list(table.columns)
    rows = [["" if v is None else str(v).strip() for v in r] for r in table.iter_rows()]
    return headers, rows, lines[:skip], "fichier texte"


def read_legal_populations(
    data: str | Path | bytes,
    source: object | None = None,
    *,
    name: str | None = None,
    code_column: str | None = None,
    population_column: str | None = None,
) -> LegalPopulations:
    """INSEE's legal populations (« populations légales ») per commune, as INSEE publishes them.

    Reads CSV (``;``, ``,`` or tab; UTF-8 or Windows-1252) or Excel. Recognised layouts, see
    ``docs/population_par_age.md``: ``DEPCOM;COM;PMUN;PCAP;PTOT`` (``Communes.csv`` of
    INSEE's archive), ``CODREG;REG;CODDEP;CODARR;CODCAN;CODCOM;COM;PMUN;PCAP;PTOT`` (code
    split in département + commune), the workbook's « Communes » sheet with its title lines
    and French headers (« Code département », « Code commune », « Population municipale »),
    and ``CODGEO`` + ``PMUN2021``-style columns. Other headers: ``code_column`` and
    ``population_column`` name them. Arrondissement rows (751xx, 6938x, 132xx) are kept.

    Returns :class:`LegalPopulations`; the vintage comes from a ``PMUN<year>`` header, a title
    line (« Populations légales 2021 ») or the file's name. Raises ``InputError`` (French,
    with the line) on a missing column, an invalid code or number, or a duplicated code.
    """
    if isinstance(data, bytes):
        raw = data
        name = name or (str(source) if source is not None else "populations.csv")
    else:
        path = Path(data)
        raw = read_input(path, max_bytes=MAX_BYTES)
        name = name or path.name
    source = _source(data, source)
    if not raw.strip():
        raise InputError("fichier vide", source)
    headers, rows, titles, where = _rows_of(raw, name, source, code_column, population_column)
    ci, di = _code_columns(headers, code_column)
    pi, year = _population_column(headers, population_column)
    if ci is None or pi is None:
        listed = ", ".join(_short(h) for h in headers)
        raise InputError(
            "colonne(s) introuvable(s) : code commune (DEPCOM, CODGEO, ou CODDEP + CODCOM) et "
            f"population municipale (PMUN, « Population municipale ») ; colonnes lues : {listed}",
            source,
        )
    width = len(headers)
    rows = [r + [""] * (width - len(r)) for r in rows]
    frame = pl.DataFrame(
        {
            "_line": list(range(len(titles) + 2, len(titles) + 2 + len(rows))),
            "_code": [r[ci] for r in rows],
            "_dep": [r[di] if di is not None else "" for r in rows],
            "_pop": [r[pi] for r in rows],
        },
        schema={"_line": pl.Int64, "_code": pl.String, "_dep": pl.String, "_pop": pl.String},
    )
    # INSEE workbooks end with notes under the table (« Source : Insee … »): no code, no number.
    frame = frame.filter(
        ~(
            (pl.col("_code").str.strip_chars() == "")
            | pl.col("_code").str.contains(r"(?i)^(source|note|champ|lecture)")
        )
        | (pl.col("_pop").str.strip_chars() != "")
    )
    dep = pl.col("_dep").str.strip_chars().str.to_uppercase()
    com = pl.col("_code").str.strip_chars().str.to_uppercase()
    com = pl.when(com.str.contains(r"^\d+\.0$")).then(com.str.replace(r"\.0$", "")).otherwise(com)
    if di is not None:
        dep = pl.when(dep.str.contains(r"^\d$")).then(dep.str.zfill(2)).otherwise(dep)
        code = (
            pl.when(com.str.len_chars() == 5)
            .then(com)
            .when(dep.str.len_chars() == 3)  # overseas: 971 + 05 → 97105, 971 + 105 → 97105
            .then(pl.when(com.str.len_chars() == 3).then(dep.str.slice(0, 2) + com)
                  .otherwise(dep + com.str.zfill(2)))
            .otherwise(dep + com.str.zfill(3))
        )
    else:
        code = com
    frame = frame.with_columns(code.alias("commune_insee"), pl.col("_pop").alias("population"))
    parsed = frame.select(
        "_line",
        pl.col("commune_insee").alias("_raw_commune_insee"),
        pl.col("population").alias("_raw_population"),
        _insee_expr("commune_insee").alias("commune_insee"),
        _number_expr("population").alias("population"),
    )
    if parsed.height == 0:
        raise InputError("aucune ligne de données après l'en-tête", source)
    problems, total = _problems(parsed, ("commune_insee",), ("population",))
    problems = [p.replace("colonne population", f"colonne {headers[pi]}") for p in problems]
    _raise_first(problems, total, source)
    _check_duplicates(parsed, ["commune_insee"], "commune {0} en double", source)
    used = (headers[ci],) if di is None else (headers[di], headers[ci])
    return LegalPopulations(
        parsed.select("commune_insee", "population"),
        _vintage(titles, year, name),
        f"{name} ({where})",
        (*used, headers[pi]),
    )
