"""Planner-supplied parameter files: population by age and commune → establishment travel times.

Both are small CSV files a planner brings from elsewhere (INSEE age tables, a routing engine).
They are read here, checked row by row, and handed to ``coverage`` and ``access`` as Polars
frames; a file that cannot be used raises :class:`~analysis.errors.InputError` with one French
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
from pathlib import Path

import polars as pl

from analysis.errors import InputError
from analysis.loaders.canonical import read_delimited

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
        if not path.is_file():
            raise InputError("fichier introuvable", path)
        if path.stat().st_size > MAX_BYTES:
            raise InputError("fichier trop volumineux (plus de 500 Mo)", path)
        raw = path.read_bytes()
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
