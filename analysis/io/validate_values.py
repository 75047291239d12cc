"""Values of validation: the patterns a cell must match and the Polars expressions that type
it (``analysis.io.validate``).

Cells are read through working columns: ``text_column(name)`` holds the stripped text of a
column (null when empty), ``typed_column(name)`` its canonical typed value (null when it
cannot be typed), ``ROW`` the row number (data rows from 1, header excluded).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

import polars as pl

from analysis.model.nomenclature import CODE_LISTS, LABELLED_CODE_LISTS
from analysis.model.schema import (
    AGE,
    BOOLEAN,
    CODE,
    DATE,
    DATETIME,
    FINESS,
    INSEE,
    INTEGER,
    LATITUDE,
    LONGITUDE,
    NUMBER,
    Column,
)
from analysis.model.text import strip_accents

#: FINESS number: 9 characters, the first two a plausible département (01–95, 2A, 2B,
#: overseas 9A–9J, 97, 98). Validated by pattern only (the check key is unverified).
FINESS_PATTERN = r"^(?:0[1-9]|[1-8][0-9]|9[0-5]|2[AB]|9[A-J]|97|98)[0-9A-Z]{7}$"
INSEE_PATTERN = r"^(?:\d{5}|2[AB]\d{3})$"
POSTAL_PATTERN = r"^\d{5}$"

NUMBER_PATTERN = r"^[+-]?\d+(?:[.,]\d+)?$"
INTEGRAL_PATTERN = r"^[+-]?\d+(?:[.,]0*)?$"  # "12", "12,0", "12.00"
INT32_MAX = 2**31 - 1

_ISO_DATETIME = (
    r"^(?<y>\d{4})-(?<m>\d{1,2})-(?<d>\d{1,2})"
    r"(?:[T ](?<H>\d{1,2}):(?<M>\d{2})(?::(?<S>\d{2})(?:[.,]\d+)?)?)?"
    r"\s*(?<tz>Z|[+-]\d{2}:?\d{2})?$"
)
_FR_DATETIME = (
    r"^(?<d>\d{1,2})/(?<m>\d{1,2})/(?<y>\d{4})"
    r"(?:[ T]+(?<H>\d{1,2})[:h](?<M>\d{2})(?::(?<S>\d{2}))?)?$"
)
_LOCAL_TZ = "Europe/Paris"  # times given with an offset are stored as French local time
_YEARS = (1900, 2100)
#: The first and last instants of the years ``_YEARS`` (a comparison, cheaper than the year).
_FIRST_INSTANT = dt.datetime(_YEARS[0], 1, 1)
_LAST_INSTANT = dt.datetime(_YEARS[1], 12, 31, 23, 59, 59, 999999)

AGE_BOUNDS = (0, 120)

#: Boxes (lat_min, lat_max, lon_min, lon_max) that contain French territory with care
#: establishments: metropolitan France and Corsica, then the overseas départements and
#: collectivités (Guadeloupe, Saint-Martin / Saint-Barthélemy, Martinique, Guyane, Réunion,
#: Mayotte, Saint-Pierre-et-Miquelon).
FRANCE_BOXES: tuple[tuple[float, float, float, float], ...] = (
    (41.0, 51.5, -5.5, 10.0),
    (15.8, 16.6, -61.9, -60.9),
    (17.8, 18.2, -63.2, -62.7),
    (14.35, 14.95, -61.3, -60.75),
    (2.0, 6.0, -54.7, -51.5),
    (-21.45, -20.8, 55.15, 55.9),
    (-13.1, -12.55, 44.9, 45.35),
    (46.7, 47.2, -56.5, -56.1),
)

_BOOLEANS = {
    "true": True,
    "vrai": True,
    "oui": True,
    "1": True,
    "yes": True,
    "false": False,
    "faux": False,
    "non": False,
    "0": False,
    "no": False,
}

ROW = "__row"


def text_column(name: str) -> str:
    """Working column: the stripped text of ``name`` (null when empty)."""
    return f"__n_{name}"


def typed_column(name: str) -> str:
    """Working column: the typed value of ``name`` (null when it cannot be typed)."""
    return f"__t_{name}"


# --- value parsers (expressions over working columns) ------------------------------------


def _stripped(name: str) -> pl.Expr:
    return pl.col(name).str.strip_chars().replace("", None)  # cheaper than when / then


def _code_mapping(list_name: str) -> dict[str, str]:
    """Accepted spellings (upper case, numeric codes without their leading zero) → code."""
    mapping = {}
    for code in CODE_LISTS[list_name]:
        mapping[code.upper()] = code
        short = code.lstrip("0")
        if code.isdigit() and short and short != code:
            mapping.setdefault(short, code)
    if list_name in LABELLED_CODE_LISTS:  # labels too, folded (« Référent unité »)
        for code, label in CODE_LISTS[list_name].items():
            for spelling in (code, label):
                mapping.setdefault(_fold_code_text(spelling), code)
    return mapping


def _fold_code_text(text: str) -> str:
    """Upper case without accents, words joined by « _ » (``Référent unité`` →
    ``REFERENT_UNITE``): the folded spelling of a labelled code."""
    text = strip_accents(text).upper()
    return "_".join(re.findall(r"[A-Z0-9]+", text))


def _fold_code(s: pl.Expr) -> pl.Expr:
    """Expression form of ``_fold_code_text``."""
    return (
        s.str.normalize("NFKD")
        .str.replace_all(r"\p{M}", "")
        .str.to_uppercase()
        .str.replace_all(r"[^A-Z0-9]+", "_")
        .str.strip_chars("_")
    )


def _labelled_codes(mapping: dict[str, str]) -> Callable[[pl.Series], pl.Series]:
    """Codes of a labelled list from cells (``_fold_code`` then ``mapping``; null when
    unknown), folded once per distinct cell: such a column holds a handful of spellings."""

    def codes_of_text(s: pl.Series) -> pl.Series:
        distinct = s.unique().drop_nulls()
        if distinct.len() == 0:
            return s
        codes = distinct.to_frame("s").select(
            _fold_code(pl.col("s")).replace_strict(mapping, default=None, return_dtype=pl.String)
        )
        return s.replace_strict(distinct, codes.to_series(), default=None, return_dtype=pl.String)

    return codes_of_text


def parse_integer(s: pl.Expr) -> pl.Expr:
    """Int64 of an integral number written ``12``, ``+12``, ``12,0`` or ``12.00``; else null."""
    digits = s.str.extract(r"^[+-]?(\d{1,12})", 1)
    sign = pl.when(s.str.starts_with("-")).then(-1).otherwise(1)
    return pl.when(s.str.contains(INTEGRAL_PATTERN)).then(
        digits.cast(pl.Int64, strict=False) * sign
    )


def _to_int32(v: pl.Expr) -> pl.Expr:
    return pl.when(v.abs() <= INT32_MAX).then(v).cast(pl.Int32)


def parse_float(s: pl.Expr) -> pl.Expr:
    """Float64 of a decimal number with a point or a comma; null when unreadable or infinite."""
    f = s.str.replace(",", ".", literal=True).cast(pl.Float64, strict=False)
    return pl.when(f.is_finite() & s.str.contains(r"^[+-]?(?:\d+[.,]?\d*|[.,]\d+)$")).then(f)


#: The spellings most files use (``2024-03-01``, ``2024-03-01T08:30:00``, fractions of a
#: second ignored as the general path does): read with one ``strptime`` of the very text the
#: general path would build, the general path being kept for the other cells.
_PLAIN_DATE = r"^\d{4}-\d{2}-\d{2}$"
_PLAIN_DATETIME = r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?$"
_DATETIME_FORMAT = "%Y-%m-%d %H:%M:%S"
_DATE_FORMAT = "%Y-%m-%d"


def _datetime_of_text(s: pl.Series) -> pl.Series:
    """Datetime of ISO or French (JJ/MM/AAAA) text, optional time and UTC offset; else null.

    A time with an offset (``Z``, ``+02:00``) is converted to French local time, so that all
    stored datetimes share one clock. Years outside 1900–2100 count as unreadable. Plain ISO
    cells take a short path; the others go through ``_datetime_of_any_text``.
    """
    if s.null_count() == s.len():
        return s.cast(pl.Datetime("us"))  # an empty column (no work, nothing to read)
    frame = pl.DataFrame({"s": s}).with_columns(
        date=pl.col("s").str.contains(_PLAIN_DATE),
        time=pl.col("s").str.contains(_PLAIN_DATETIME),
    )
    # Each spelling is parsed only when some cell has it (a failed parse is not free), and
    # without picking cells when every cell has it.
    dates, times = int(frame.get_column("date").sum()), int(frame.get_column("time").sum())
    present = s.len() - s.null_count()
    as_date = pl.col("s").str.strptime(pl.Datetime("us"), _DATE_FORMAT, strict=False)
    as_time = (
        pl.col("s")
        .str.slice(0, 19)
        .str.replace("T", " ", literal=True)
        .str.strptime(pl.Datetime("us"), _DATETIME_FORMAT, strict=False)
    )
    if dates == present:
        plain = as_date
    elif times == present:
        plain = as_time
    elif dates and times:  # a plain date is read as its midnight
        plain = (
            pl.when("date")
            .then(pl.col("s") + pl.lit(" 00:00:00"))
            .when("time")
            .then(pl.col("s").str.slice(0, 19).str.replace("T", " ", literal=True))
            .str.strptime(pl.Datetime("us"), _DATETIME_FORMAT, strict=False)
        )
    elif dates:
        plain = pl.when("date").then(as_date)
    elif times:
        plain = pl.when("time").then(as_time)
    else:  # no plain spelling: a column of nulls, as long as the cells
        plain = pl.repeat(None, pl.len(), dtype=pl.Datetime("us"))
    value = frame.select(
        pl.when(plain.is_between(_FIRST_INSTANT, _LAST_INSTANT)).then(plain).alias(s.name)
    ).to_series()
    if dates + times < present:
        other = frame.select(
            pl.col("s").is_not_null() & ~pl.col("date") & ~pl.col("time")
        ).to_series()
        value = value.scatter(other.arg_true(), _datetime_of_any_text(s.filter(other)))
    return value


def _datetime_of_any_text(s: pl.Series) -> pl.Series:
    """``_datetime_of_text`` for every accepted spelling, computed in stages on a whole column
    (each regular expression runs once)."""
    frame = pl.DataFrame({"s": s}).with_columns(
        iso=pl.col("s").str.extract_groups(_ISO_DATETIME),
        fr=pl.col("s").str.extract_groups(_FR_DATETIME),
    )

    def part(name: str, default: str) -> pl.Expr:
        iso, fr = pl.col("iso").struct.field(name), pl.col("fr").struct.field(name)
        return pl.coalesce(iso, fr, pl.lit(default)).str.zfill(2)

    text = pl.concat_str(
        [
            pl.coalesce(pl.col("iso").struct.field("y"), pl.col("fr").struct.field("y")),
            pl.lit("-"),
            part("m", ""),
            pl.lit("-"),
            part("d", ""),
            pl.lit(" "),
            part("H", "0"),
            pl.lit(":"),
            part("M", "0"),
            pl.lit(":"),
            part("S", "0"),
        ]
    )
    frame = frame.select(
        naive=text.str.strptime(pl.Datetime("us"), _DATETIME_FORMAT, strict=False),
        tz=pl.col("iso").struct.field("tz"),
    )
    naive, tz = pl.col("naive"), pl.col("tz")
    digits = tz.str.replace(":", "", literal=True)
    minutes = (
        digits.str.slice(1, 2).cast(pl.Int64, strict=False) * 60
        + digits.str.slice(3, 2).cast(pl.Int64, strict=False)
    ) * pl.when(digits.str.starts_with("-")).then(-1).otherwise(1)
    minutes = pl.when(tz == "Z").then(0).otherwise(minutes)
    if frame.get_column("tz").null_count() < frame.height:
        local = (
            (naive - pl.duration(minutes=minutes))
            .dt.replace_time_zone("UTC")
            .dt.convert_time_zone(_LOCAL_TZ)
            .dt.replace_time_zone(None)
        )
        value = pl.when(tz.is_null()).then(naive).otherwise(local)
    else:
        value = naive
    out = frame.select(pl.when(naive.dt.year().is_between(*_YEARS)).then(value).alias(s.name))
    return out.to_series()


def _parse_datetime(s: pl.Expr) -> pl.Expr:
    """Expression form of ``_datetime_of_text`` (one call per column, not per row)."""
    return s.map_batches(_datetime_of_text, return_dtype=pl.Datetime("us"))


def in_france(lat: pl.Expr, lon: pl.Expr) -> pl.Expr:
    """True when (lat, lon) falls in one of ``FRANCE_BOXES``."""
    inside = [lat.is_between(a, b) & lon.is_between(c, d) for a, b, c, d in FRANCE_BOXES]
    return pl.any_horizontal(inside).fill_null(False)


def parsed_column(name: str) -> str:
    """Working column: the decimal number read from coordinate ``name`` (``parse_float``)."""
    return f"__x_{name}"


def parsed_values(columns: list[Column]) -> list[pl.Expr]:
    """Working columns several typed values and rules read, computed once from the text
    columns: the decimal numbers of latitude and longitude (``parsed_column``)."""
    return [
        parse_float(pl.col(text_column(c.name))).alias(parsed_column(c.name))
        for c in columns
        if c.kind in (LATITUDE, LONGITUDE)
    ]


def typed_value(col: Column) -> pl.Expr:
    """Expression giving the canonical typed value of ``col`` (null when it cannot be typed);
    coordinates read the working columns of ``parsed_values``."""
    n = pl.col(text_column(col.name))
    if col.kind == CODE and col.codes in LABELLED_CODE_LISTS:
        return n.map_batches(_labelled_codes(_code_mapping(col.codes)), return_dtype=pl.String)
    if col.kind == CODE and col.codes:
        return n.str.to_uppercase().replace_strict(
            _code_mapping(col.codes), default=None, return_dtype=pl.String
        )
    if col.kind in (INTEGER, AGE):
        return _to_int32(parse_integer(n))
    if col.kind == NUMBER:
        return parse_float(n)
    if col.kind in (LATITUDE, LONGITUDE):
        lat, lon = pl.col(parsed_column("latitude")), pl.col(parsed_column("longitude"))
        ok = lat.is_not_null() & lon.is_not_null() & in_france(lat, lon)
        return pl.when(ok).then(lat if col.kind == LATITUDE else lon)
    if col.kind == DATETIME:
        return _parse_datetime(n)
    if col.kind == DATE:
        return _parse_datetime(n).dt.date()
    if col.kind == BOOLEAN:
        return n.str.to_lowercase().replace_strict(_BOOLEANS, default=None, return_dtype=pl.Boolean)
    return n


def normalised_value(col: Column) -> pl.Expr:
    """Stripped text, upper-cased for identifiers whose letters are capitals (FINESS, INSEE)."""
    s = _stripped(col.name)
    return s.str.to_uppercase() if col.kind in (FINESS, INSEE) else s

