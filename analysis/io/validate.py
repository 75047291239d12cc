"""Row-level validation: raw (all-text) tables in, canonical typed tables and a report out.

Each rule is a vectorised Polars expression over a whole table, and a table goes through one
lazy plan: every rule becomes a flag column computed in a single pass, and the report is built
from the few rows that raised a flag. A row that breaks a *reject*
rule (missing required value, malformed FINESS or INSEE code, duplicate key, unresolved
reference, unreadable capacity, unknown required code) is set aside with its reasons and its
original content, so nothing is lost; a row that only breaks a *warning* rule is kept, with
the offending cell emptied where the value cannot be typed (dates, codes, coordinates,
booleans) and kept as is otherwise (e-mails, phone numbers, ages). Tables are validated in
dependency order so that references resolve against the rows actually kept.

Reasons are French (they are shown to users). The report's ``value`` column may hold
personal data (it is the user's own data, stored locally); exceptions and logs never do.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass

import polars as pl

from analysis.model.errors import InputError
from analysis.model.nomenclature import CODE_LISTS, LABELLED_CODE_LISTS
from analysis.model.progress import Progress, step
from analysis.model.schema import (
    AGE,
    BOOLEAN,
    CODE,
    DATE,
    DATETIME,
    EMAIL,
    FINESS,
    INSEE,
    INTEGER,
    LATITUDE,
    LOADER_REJECT_COLUMN,
    LONGITUDE,
    META_COLUMNS,
    NUMBER,
    PHONE,
    POSTAL,
    REJECT,
    REJECTED_SCHEMA,
    REPORT_SCHEMA,
    SOURCE_COLUMN,
    TABLES,
    WARNING,
    Column,
    Table,
    conform,
    empty,
)
from analysis.model.syntax import (  # one definition of e-mail and phone syntax (re-exported)
    EMAIL_PATTERN,
    PHONE_LOST_ZERO_PATTERN,
    PHONE_PATTERN,  # noqa: F401 - re-exported for older callers
    PHONE_SEPARATORS,
    any_valid_phone,
    is_phone,
    phone_digits,
)

# Counts per table, in the order they are shown.
COUNT_KEYS = ("lus", "conserves", "rejetes", "avertissements")

#: FINESS number: 9 characters, the first two a plausible département (01–95, 2A, 2B,
#: overseas 9A–9J, 97, 98). Validated by pattern only (the check key is unverified).
FINESS_PATTERN = r"^(?:0[1-9]|[1-8][0-9]|9[0-5]|2[AB]|9[A-J]|97|98)[0-9A-Z]{7}$"
INSEE_PATTERN = r"^(?:\d{5}|2[AB]\d{3})$"
POSTAL_PATTERN = r"^\d{5}$"

_NUMBER_PATTERN = r"^[+-]?\d+(?:[.,]\d+)?$"
_INTEGRAL_PATTERN = r"^[+-]?\d+(?:[.,]0*)?$"  # "12", "12,0", "12.00"
_INT32_MAX = 2**31 - 1

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

_ROW = "__row"


def _n(name: str) -> str:
    """Working column: the stripped text of ``name`` (null when empty)."""
    return f"__n_{name}"


def _t(name: str) -> str:
    """Working column: the typed value of ``name`` (null when it cannot be typed)."""
    return f"__t_{name}"


@dataclass(frozen=True)
class _Check:
    """One rule on one column: where it fails, why, and which value to report."""

    column: str
    rule: str
    bad: pl.Expr
    reason: pl.Expr | str
    value: pl.Expr


@dataclass(eq=False)
class ValidationResult:
    """Typed tables of kept rows, the validation report, rejected rows and counts per table.

    ``tables`` holds all canonical tables (empty when absent from the input) conforming to
    ``schema.conform``; ``report`` follows ``schema.REPORT_SCHEMA`` (rejections and warnings);
    ``rejected`` follows ``schema.REJECTED_SCHEMA``; ``counts[table]`` has ``lus``,
    ``conserves``, ``rejetes`` and ``avertissements`` with lus = conserves + rejetes.
    """

    tables: dict[str, pl.DataFrame]
    report: pl.DataFrame
    rejected: pl.DataFrame
    counts: dict[str, dict[str, int]]

    @property
    def ok(self) -> bool:
        """True when no row was rejected (warnings allowed)."""
        return self.rejected.height == 0

    @property
    def warnings(self) -> pl.DataFrame:
        """Report rows of kept rows (severity ``avertissement``)."""
        return self.report.filter(pl.col("severity") == WARNING)

    def counts_frame(self) -> pl.DataFrame:
        """Counts as a frame: one row per table, columns ``table`` and the four counts."""
        return pl.DataFrame(
            [{"table": t, **c} for t, c in self.counts.items()],
            schema={"table": pl.String, **dict.fromkeys(COUNT_KEYS, pl.Int64)},
        )


# --- value parsers (expressions over working columns) ------------------------------------


def _stripped(name: str) -> pl.Expr:
    s = pl.col(name).str.strip_chars()
    return pl.when(s.str.len_bytes() > 0).then(s)


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
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).upper()
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


def _parse_integer(s: pl.Expr) -> pl.Expr:
    """Int64 of an integral number written ``12``, ``+12``, ``12,0`` or ``12.00``; else null."""
    digits = s.str.extract(r"^[+-]?(\d{1,12})", 1)
    sign = pl.when(s.str.starts_with("-")).then(-1).otherwise(1)
    return pl.when(s.str.contains(_INTEGRAL_PATTERN)).then(
        digits.cast(pl.Int64, strict=False) * sign
    )


def _to_int32(v: pl.Expr) -> pl.Expr:
    return pl.when(v.abs() <= _INT32_MAX).then(v).cast(pl.Int32)


def _parse_float(s: pl.Expr) -> pl.Expr:
    """Float64 of a decimal number with a point or a comma; null when unreadable or infinite."""
    f = s.str.replace(",", ".", literal=True).cast(pl.Float64, strict=False)
    return pl.when(f.is_finite() & s.str.contains(r"^[+-]?(?:\d+[.,]?\d*|[.,]\d+)$")).then(f)


#: The spellings most files use (``2024-03-01``, ``2024-03-01T08:30:00``, fractions of a
#: second ignored as the general path does): read with one ``strptime`` of the very text the
#: general path would build, the general path being kept for the other cells.
_PLAIN_DATE = r"^\d{4}-\d{2}-\d{2}$"
_PLAIN_DATETIME = r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?$"
_DATETIME_FORMAT = "%Y-%m-%d %H:%M:%S"


def _datetime_of_text(s: pl.Series) -> pl.Series:
    """Datetime of ISO or French (JJ/MM/AAAA) text, optional time and UTC offset; else null.

    A time with an offset (``Z``, ``+02:00``) is converted to French local time, so that all
    stored datetimes share one clock. Years outside 1900–2100 count as unreadable. Plain ISO
    cells take a short path; the others go through ``_datetime_of_any_text``.
    """
    frame = pl.DataFrame({"s": s}).with_columns(
        date=pl.col("s").str.contains(_PLAIN_DATE),
        time=pl.col("s").str.contains(_PLAIN_DATETIME),
    )
    plain = (
        pl.when("date")
        .then(pl.col("s") + pl.lit(" 00:00:00"))
        .when("time")
        .then(pl.col("s").str.slice(0, 19).str.replace("T", " ", literal=True))
        .str.strptime(pl.Datetime("us"), _DATETIME_FORMAT, strict=False)
    )
    out = frame.select(
        value=pl.when(plain.dt.year().is_between(*_YEARS)).then(plain),
        other=pl.col("s").is_not_null() & ~pl.col("date") & ~pl.col("time"),
    )
    value, other = out.get_column("value").alias(s.name), out.get_column("other")
    if other.any():
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


def _in_france(lat: pl.Expr, lon: pl.Expr) -> pl.Expr:
    """True when (lat, lon) falls in one of ``FRANCE_BOXES``."""
    inside = [lat.is_between(a, b) & lon.is_between(c, d) for a, b, c, d in FRANCE_BOXES]
    return pl.any_horizontal(inside).fill_null(False)


def _typed(col: Column) -> pl.Expr:
    """Expression giving the canonical typed value of ``col`` (null when it cannot be typed)."""
    n = pl.col(_n(col.name))
    if col.kind == CODE and col.codes:
        source = _fold_code(n) if col.codes in LABELLED_CODE_LISTS else n.str.to_uppercase()
        return source.replace_strict(
            _code_mapping(col.codes), default=None, return_dtype=pl.String
        )
    if col.kind in (INTEGER, AGE):
        return _to_int32(_parse_integer(n))
    if col.kind == NUMBER:
        return _parse_float(n)
    if col.kind in (LATITUDE, LONGITUDE):
        lat, lon = _parse_float(pl.col(_n("latitude"))), _parse_float(pl.col(_n("longitude")))
        ok = lat.is_not_null() & lon.is_not_null() & _in_france(lat, lon)
        return pl.when(ok).then(lat if col.kind == LATITUDE else lon)
    if col.kind == DATETIME:
        return _parse_datetime(n)
    if col.kind == DATE:
        return _parse_datetime(n).dt.date()
    if col.kind == BOOLEAN:
        return n.str.to_lowercase().replace_strict(_BOOLEANS, default=None, return_dtype=pl.Boolean)
    return n


def _normalised(col: Column) -> pl.Expr:
    """Stripped text, upper-cased for identifiers whose letters are capitals (FINESS, INSEE)."""
    s = _stripped(col.name)
    return s.str.to_uppercase() if col.kind in (FINESS, INSEE) else s


# --- rules --------------------------------------------------------------------------------


def _finess_reason(n: pl.Expr) -> pl.Expr:
    return (
        pl.when(n.str.contains(r"^\d{8}$"))
        .then(
            pl.lit(
                "numéro FINESS de 8 chiffres au lieu de 9 : pour un département 01 à 09, le "
                "zéro initial a sans doute été perdu (fichier ouvert dans un tableur)"
            )
        )
        .when(n.str.len_chars() != 9)
        .then(pl.lit("un numéro FINESS compte 9 caractères (chiffres ou lettres)"))
        .when(~n.str.contains(r"^[0-9A-Z]{9}$"))
        .then(pl.lit("numéro FINESS : caractères non autorisés (chiffres et lettres seulement)"))
        .otherwise(
            pl.lit(
                "numéro FINESS : les deux premiers caractères ne sont pas un département "
                "(01–95, 2A, 2B, 9A–9J, 97, 98)"
            )
        )
    )


def _integer_checks(col: Column) -> list[_Check]:
    """Capacity counts (lits, places): a non-negative whole number, else the row is rejected."""
    n = pl.col(_n(col.name))
    value = _parse_integer(n)
    reason = (
        pl.when(~n.str.contains(_NUMBER_PATTERN))
        .then(pl.lit("n'est pas un nombre"))
        .when(~n.str.contains(_INTEGRAL_PATTERN))
        .then(pl.lit("n'est pas un nombre entier (lits et places se comptent en unités)"))
        .when(value < 0)
        .then(pl.lit("nombre négatif"))
        .otherwise(pl.lit("nombre trop grand"))
    )
    bad = n.is_not_null() & (value.is_null() | (value < 0) | (value > _INT32_MAX))
    return [_Check(col.name, "nombre_invalide", bad, reason, pl.col(col.name))]


def _reference_check(col: Column, target: str, keys: pl.Series) -> _Check:
    t = pl.col(_t(col.name))
    bad = t.is_not_null() & ~t.is_in(keys.implode())
    if col.kind == FINESS:
        bad = bad & t.str.contains(FINESS_PATTERN)  # a malformed number is reported as such
    reason = f"référence introuvable : {col.name} absent des lignes conservées de {target}"
    return _Check(col.name, "reference_introuvable", bad, reason, pl.col(col.name))


def _reject_checks(table: Table, kept: Mapping[str, pl.DataFrame]) -> list[_Check]:
    """Rules whose failure rejects the row (evaluated on every input row)."""
    checks: list[_Check] = []
    for col in table.columns:
        n, raw = pl.col(_n(col.name)), pl.col(col.name)
        if col.not_null:
            checks.append(
                _Check(
                    col.name, "valeur_manquante", n.is_null(), "valeur obligatoire manquante", raw
                )
            )
        if col.kind == FINESS and col.not_null:
            bad = n.is_not_null() & ~n.str.contains(FINESS_PATTERN)
            checks.append(_Check(col.name, "finess_format", bad, _finess_reason(n), raw))
        if col.kind == INSEE:
            bad = n.is_not_null() & ~n.str.contains(INSEE_PATTERN)
            reason = (
                pl.when(n.str.contains(r"^\d{4}$"))
                .then(
                    pl.lit(
                        "code commune INSEE de 4 chiffres : le zéro initial a sans doute été perdu"
                    )
                )
                .otherwise(
                    pl.lit("code commune INSEE invalide (5 chiffres, ou 2A/2B + 3 chiffres)")
                )
            )
            checks.append(_Check(col.name, "commune_insee_format", bad, reason, raw))
        if col.kind == INTEGER:
            checks.extend(_integer_checks(col))
        if col.kind == CODE and col.codes and col.not_null:
            bad = n.is_not_null() & pl.col(_t(col.name)).is_null()
            codes = ", ".join(CODE_LISTS[col.codes])
            checks.append(
                _Check(col.name, "code_inconnu", bad, f"code inconnu ; codes admis : {codes}", raw)
            )
    for ref in table.references:
        if ref.reject:
            keys = kept[ref.table].get_column(ref.target)
            checks.append(_reference_check(table.column(ref.column), ref.table, keys))
    return checks


#: A national number written the usual way (``0590505703``, ``05 90 50 57 03``,
#: ``05.90.50.57.03``): valid for ``syntax.any_valid_phone`` without further work.
_PLAIN_PHONE = r"^0[1-9](?:[ .]?\d{2}){4}$"


def _phone_valid_of_text(s: pl.Series) -> pl.Series:
    """``syntax.any_valid_phone`` of stripped cells, the usual spellings first
    (``_PLAIN_PHONE``); of the other cells, one without a separator holds one number
    (``syntax.is_phone``) and only the rest are split into their numbers."""
    plain = pl.DataFrame({"s": s}).select(pl.col("s").str.contains(_PLAIN_PHONE)).to_series()
    out = plain.alias(s.name)
    other = (plain.is_not_null() & ~plain).fill_null(False)
    if not other.any():
        return out
    frame = pl.DataFrame({"s": s.filter(other)})
    valid = frame.select(
        pl.when(pl.col("s").str.contains(PHONE_SEPARATORS))
        .then(any_valid_phone(pl.col("s")))
        .otherwise(is_phone(pl.col("s")))
    )
    return out.scatter(other.arg_true(), valid.to_series())


def _phone_checks(col: Column) -> list[_Check]:
    """Phone numbers: French syntax; 9 digits (a spreadsheet ate the 0) get their own rule.

    The syntax is ``analysis.model.syntax``'s, the campaign's: a cell with one valid number among
    several, or a valid number followed by an internal extension, is not flagged.
    """
    n = pl.col(_n(col.name))
    valid = n.map_batches(_phone_valid_of_text, return_dtype=pl.Boolean)
    # ``syntax.phone_lost_zero`` with the validity above (computed once)
    lost_zero = n.is_not_null() & (
        ~valid & phone_digits(n.str.strip_chars()).str.contains(PHONE_LOST_ZERO_PATTERN)
    ).fill_null(False)
    invalid = n.is_not_null() & ~valid.fill_null(False) & ~lost_zero
    return [
        _Check(
            col.name,
            "telephone_zero_perdu",
            lost_zero,
            "numéro de 9 chiffres : le zéro initial a sans doute été perdu (cellule numérique "
            "dans un tableur)",
            pl.col(col.name),
        ),
        _Check(
            col.name,
            "telephone_invalide",
            invalid,
            "numéro de téléphone français invalide (10 chiffres commençant par 0, ou +33…)",
            pl.col(col.name),
        ),
    ]


def _email_check(col: Column) -> _Check:
    n = pl.col(_n(col.name))
    bad = n.is_not_null() & ~n.str.contains(EMAIL_PATTERN)
    reason = (
        pl.when(n.str.contains(r"[;,]|\s"))
        .then(pl.lit("adresse e-mail invalide : une seule adresse attendue, sans espace"))
        .otherwise(pl.lit("adresse e-mail invalide"))
    )
    return _Check(col.name, "email_invalide", bad, reason, pl.col(col.name))


def _coordinate_checks() -> list[_Check]:
    """Coordinates: unreadable, incomplete or outside France → both emptied, with a warning."""
    nlat, nlon = pl.col(_n("latitude")), pl.col(_n("longitude"))
    lat, lon = _parse_float(nlat), _parse_float(nlon)
    cleared = " : latitude et longitude effacées"
    checks = []
    for name, n, f in (("latitude", nlat, lat), ("longitude", nlon, lon)):
        checks.append(
            _Check(
                name,
                "coordonnees_illisibles",
                n.is_not_null() & f.is_null(),
                f"{name} illisible (nombre décimal attendu){cleared}",
                pl.col(name),
            )
        )
    for name, other in (("latitude", "longitude"), ("longitude", "latitude")):
        present, absent = pl.col(_n(name)), pl.col(_n(other))
        checks.append(
            _Check(
                name,
                "coordonnees_incompletes",
                present.is_not_null() & absent.is_null(),
                f"{other} absente : {name} effacée",
                pl.col(name),
            )
        )
    outside = lat.is_not_null() & lon.is_not_null() & ~_in_france(lat, lon)
    reason = (
        pl.when(_in_france(lon, lat))
        .then(pl.lit(f"coordonnées hors de France : latitude et longitude inversées ?{cleared}"))
        .otherwise(pl.lit(f"coordonnées hors de France (WGS84 attendu){cleared}"))
    )
    value = pl.concat_str([pl.col("latitude"), pl.col("longitude")], separator=" ; ")
    checks.append(_Check("latitude", "coordonnees_hors_france", outside, reason, value))
    return checks


def _departement_check() -> _Check:
    """FINESS département (first two characters) against the commune's, metropolitan only."""
    finess, insee = pl.col(_t("finess_eg")), pl.col(_t("commune_insee"))
    fin_dep, com_dep = finess.str.slice(0, 2), insee.str.slice(0, 2)
    overseas = com_dep.is_in(["97", "98"]) & (
        fin_dep.str.contains(r"^9[A-J]$") | fin_dep.is_in(["97", "98"])
    )
    corsica = (fin_dep == "20") & com_dep.is_in(["2A", "2B"])  # numbers from before 1976
    bad = (fin_dep != com_dep) & ~overseas & ~corsica
    reason = pl.format(
        "le département du FINESS ({}) diffère de celui de la commune ({})", fin_dep, com_dep
    )
    value = pl.concat_str([pl.col("finess_eg"), pl.col("commune_insee")], separator=" ; ")
    return _Check("finess_eg", "finess_departement", bad, reason, value)


def _warning_checks(table: Table, kept: Mapping[str, pl.DataFrame]) -> list[_Check]:
    """Rules whose failure keeps the row (evaluated on kept rows only)."""
    checks: list[_Check] = []
    names = set(table.names)
    for col in table.columns:
        n, t, raw = pl.col(_n(col.name)), pl.col(_t(col.name)), pl.col(col.name)
        present = n.is_not_null()
        if col.kind == FINESS and not col.not_null:
            bad = present & ~n.str.contains(FINESS_PATTERN)
            checks.append(_Check(col.name, "finess_format", bad, _finess_reason(n), raw))
        elif col.kind == EMAIL:
            checks.append(_email_check(col))
        elif col.kind == PHONE:
            checks.extend(_phone_checks(col))
        elif col.kind == POSTAL:
            reason = (
                pl.when(n.str.contains(r"^\d{4}$"))
                .then(pl.lit("code postal de 4 chiffres : le zéro initial a sans doute été perdu"))
                .otherwise(pl.lit("code postal invalide (5 chiffres)"))
            )
            bad = present & ~n.str.contains(POSTAL_PATTERN)
            checks.append(_Check(col.name, "code_postal_format", bad, reason, raw))
        elif col.kind == AGE:
            checks.append(
                _Check(
                    col.name,
                    "age_invalide",
                    present & t.is_null(),
                    "âge illisible (nombre entier d'années attendu) : valeur effacée",
                    raw,
                )
            )
            lo, hi = AGE_BOUNDS
            checks.append(
                _Check(
                    col.name,
                    "age_hors_bornes",
                    ~t.is_between(lo, hi),
                    f"âge hors de l'intervalle {lo}–{hi} ans (valeur conservée)",
                    raw,
                )
            )
        elif col.kind in (DATE, DATETIME):
            checks.append(
                _Check(
                    col.name,
                    "date_invalide",
                    present & t.is_null(),
                    "date illisible (AAAA-MM-JJ ou JJ/MM/AAAA, heure facultative) ou hors "
                    "1900–2100 : valeur effacée",
                    raw,
                )
            )
        elif col.kind == BOOLEAN:
            checks.append(
                _Check(
                    col.name,
                    "booleen_invalide",
                    present & t.is_null(),
                    "valeur oui/non illisible (oui, non, vrai, faux, true, false, 1, 0) : "
                    "valeur effacée",
                    raw,
                )
            )
        elif col.kind == CODE and col.codes and not col.not_null:
            codes = ", ".join(CODE_LISTS[col.codes])
            checks.append(
                _Check(
                    col.name,
                    "code_inconnu",
                    present & t.is_null(),
                    f"code inconnu ; codes admis : {codes} : valeur effacée",
                    raw,
                )
            )
    if {"age_min", "age_max"} <= names:
        amin, amax = pl.col(_t("age_min")), pl.col(_t("age_max"))
        value = pl.concat_str([pl.col("age_min"), pl.col("age_max")], separator=" > ")
        checks.append(
            _Check(
                "age_min",
                "ages_incoherents",
                amin > amax,
                "âge minimum supérieur à l'âge maximum (valeurs conservées)",
                value,
            )
        )
    if {"latitude", "longitude"} <= names:
        checks.extend(_coordinate_checks())
    if table.key == ("finess_eg",) and "commune_insee" in names:
        checks.append(_departement_check())
    for ref in table.references:
        if not ref.reject:
            keys = kept[ref.table].get_column(ref.target)
            check = _reference_check(table.column(ref.column), ref.table, keys)
            checks.append(check)
    return checks


# --- evaluation ---------------------------------------------------------------------------


def _empty_report() -> pl.DataFrame:
    return pl.DataFrame(schema=REPORT_SCHEMA)


_FIRST = "__first"  # working column: first row (among rows not rejected) holding the key
_REJECTED = "__rejected"  # working column: rejected by a rule (loader's, reject rules)
_KEPT = "__kept"  # working column: neither rejected nor a later occurrence of a key


def _duplicate_check(table: Table) -> _Check:
    """Later occurrences of a key among rows not rejected (the first occurrence is kept).

    Its ``bad`` reads ``_FIRST`` and ``_REJECTED``, so it is evaluated after them.
    """
    return _Check(
        ", ".join(table.key),
        "cle_en_double",
        ~pl.col(_REJECTED) & (pl.col(_ROW) != pl.col(_FIRST)),
        pl.format("clé en double : déjà présente à la ligne {}", pl.col(_FIRST)),
        pl.concat_str([pl.col(k) for k in table.key], separator=" | "),
    )


def _loader_check(work: pl.DataFrame) -> _Check:
    """A loader sets ``_rejet`` on a row it could not make sense of (a malformed line, an offer
    whose mention is ambiguous): that reason says it best, so the row's other reasons (usually
    consequences of the same problem) are left out."""
    flag = pl.col(LOADER_REJECT_COLUMN).str.strip_chars().str.len_chars() > 0
    where = pl.col(SOURCE_COLUMN) if SOURCE_COLUMN in work.columns else pl.lit(None, pl.String)
    return _Check("(ligne)", "lecture_impossible", flag, pl.col(LOADER_REJECT_COLUMN), where)


def _report_rows(
    problems: pl.LazyFrame, checks: list[tuple[str, _Check]], table: str, severity: str
) -> pl.LazyFrame:
    """Report rows of every (row, check) whose flag column is set, in row order then in the
    order of ``checks`` (flag column, check)."""
    parts = [
        problems.filter(pl.col(flag)).select(
            pl.lit(table).alias("table"),
            pl.col(_ROW).alias("row"),
            pl.lit(ch.column).alias("column"),
            ch.value.cast(pl.String).alias("value"),
            pl.lit(ch.rule).alias("rule"),
            (pl.lit(ch.reason) if isinstance(ch.reason, str) else ch.reason).alias("reason"),
            pl.lit(severity).alias("severity"),
        )
        for flag, ch in checks
    ]
    if not parts:
        return _empty_report().lazy()
    return pl.concat(parts).cast(REPORT_SCHEMA).sort("row", maintain_order=True)


def _as_text(frame: pl.DataFrame) -> pl.DataFrame:
    """Every column as text; typed input (dates, numbers, booleans) written the way files are."""
    exprs = []
    for name, dtype in frame.schema.items():
        if dtype == pl.Datetime:
            exprs.append(pl.col(name).dt.to_string("%Y-%m-%dT%H:%M:%S"))
        elif dtype.is_nested():
            raise InputError(f"colonne « {name} » : type imbriqué non pris en charge.")
        else:
            exprs.append(pl.col(name).cast(pl.String))
    return frame.select(exprs)


@dataclass
class _TableOutcome:
    kept: pl.DataFrame
    report: pl.DataFrame
    rejected: pl.DataFrame
    counts: dict[str, int]


def _validate_table(
    table: Table, frame: pl.DataFrame, kept: Mapping[str, pl.DataFrame]
) -> _TableOutcome:
    """One table through one plan: every rule is a flag column computed in a single pass over
    the rows; the report is then built from the few rows that raised a flag.

    Order of precedence, as the rules mean it: a loader's own rejection hides the row's other
    reasons; rows rejected by a rule do not count as first occurrences of a key; warnings are
    reported on kept rows only (not rejected, not a later occurrence of a key).
    """
    text = _as_text(frame).rechunk()  # many small chunks make string kernels crawl
    missing = [c for c in table.required if c not in text.columns]
    if missing:
        raise InputError(
            f"table {table.name} : colonnes obligatoires absentes : {', '.join(missing)}."
        )
    unknown = [c for c in text.columns if c not in table.names and c not in META_COLUMNS]
    work = text.with_row_index(_ROW, offset=1).with_columns(
        pl.col(_ROW).cast(pl.Int64),
        *[pl.lit(None, pl.String).alias(c) for c in table.names if c not in text.columns],
    )
    loader = [_loader_check(work)] if LOADER_REJECT_COLUMN in work.columns else []
    rejects = _reject_checks(table, kept)
    duplicate = _duplicate_check(table)
    warnings = _warning_checks(table, kept)
    # One flag column per check, numbered: the loader's, reject rules, duplicate key, warnings.
    names = iter(f"__f{i}" for i in itertools.count())
    loader_flags = [(next(names), ch) for ch in loader]
    reject_flags = [(next(names), ch) for ch in rejects]
    dup_flag = next(names)
    warning_flags = [(next(names), ch) for ch in warnings]
    by_loader = pl.any_horizontal(pl.lit(False), *(pl.col(f) for f, _ in loader_flags))
    base = (
        work.lazy()
        .with_columns(_normalised(c).alias(_n(c.name)) for c in table.columns)
        .with_columns(_typed(c).alias(_t(c.name)) for c in table.columns)
        .with_columns(ch.bad.fill_null(False).alias(f) for f, ch in loader_flags + reject_flags)
        .with_columns(
            pl.any_horizontal(by_loader, *(pl.col(f) for f, _ in reject_flags)).alias(_REJECTED)
        )
        .with_columns(
            pl.when(~pl.col(_REJECTED)).then(pl.col(_ROW)).min()
            .over([_t(k) for k in table.key]).alias(_FIRST)
        )
        .with_columns(duplicate.bad.fill_null(False).alias(dup_flag))
        .with_columns((~pl.col(_REJECTED) & ~pl.col(dup_flag)).alias(_KEPT))
        .with_columns((ch.bad.fill_null(False) & pl.col(_KEPT)).alias(f) for f, ch in warning_flags)
        .collect()
    )

    # The report, built from the rows that raised a flag (usually few). A reject rule is
    # reported only where the loader did not speak.
    flagged = [f for f, _ in loader_flags + reject_flags + warning_flags] + [dup_flag]
    problems = (
        base.filter(pl.any_horizontal(pl.col(f) for f in flagged))
        .lazy()
        .with_columns((pl.col(f) & ~by_loader).alias(f) for f, _ in reject_flags)
    )
    reject_report, warning_report, donnees = pl.collect_all(
        [
            _report_rows(
                problems, [*loader_flags, *reject_flags, (dup_flag, duplicate)], table.name, REJECT
            ),
            _report_rows(problems, warning_flags, table.name, WARNING),
            problems.filter(pl.col(_REJECTED) | pl.col(dup_flag)).select(
                pl.col(_ROW).alias("row"),
                pl.struct(text.columns).struct.json_encode().alias("donnees"),
            ),
        ]
    )
    if unknown:
        header = pl.DataFrame(
            {
                "table": table.name,
                "row": 0,
                "column": unknown,
                "value": None,
                "rule": "colonne_inconnue",
                "reason": "colonne inconnue de la table : ignorée",
                "severity": WARNING,
            },
            schema=REPORT_SCHEMA,
        )
        warning_report = pl.concat([header, warning_report])

    rejected_frame = reject_report.join(donnees, on="row", how="left", maintain_order="left")
    typed = conform(
        base.filter(pl.col(_KEPT)).select(pl.col(_t(c)).alias(c) for c in table.names),
        table.name,
    )
    counts = {
        "lus": base.height,
        "conserves": typed.height,
        "rejetes": donnees.height,
        "avertissements": warning_report.height,
    }
    report = pl.concat([reject_report, warning_report]).sort("row", maintain_order=True)
    return _TableOutcome(typed, report, rejected_frame, counts)


def validate_tables(
    raw: Mapping[str, pl.DataFrame], progress: Progress | None = None
) -> ValidationResult:
    """Validate raw tables (text or already typed) into canonical typed tables and a report.

    ``raw`` maps canonical table names to frames (a ``loaders.RawTable`` is accepted too);
    absent tables count as empty. Tables are processed in ``schema.TABLES`` order so that a
    reference resolves against the kept rows of its target. Raises ``InputError`` for an
    unknown table name or a missing required column (then nothing can be validated).
    ``progress`` (``analysis.model.progress``) hears of each table checked.
    """
    unknown_tables = [t for t in raw if t not in TABLES]
    if unknown_tables:
        raise InputError(
            f"tables inconnues : {', '.join(unknown_tables)} ; tables possibles : "
            f"{', '.join(TABLES)}."
        )
    kept: dict[str, pl.DataFrame] = {}
    reports: list[pl.DataFrame] = []
    rejected: list[pl.DataFrame] = []
    counts: dict[str, dict[str, int]] = {}
    for name, table in TABLES.items():
        source = raw.get(name)
        if source is None:
            kept[name] = empty(name)
            counts[name] = dict.fromkeys(COUNT_KEYS, 0)
            step(progress, len(counts), len(TABLES), f"contrôle {name}")
            continue
        frame = getattr(source, "frame", source)  # RawTable or DataFrame
        outcome = _validate_table(table, frame, kept)
        kept[name] = outcome.kept
        reports.append(outcome.report)
        rejected.append(outcome.rejected)
        counts[name] = outcome.counts
        step(progress, len(counts), len(TABLES), f"contrôle {name}")
    report = pl.concat(reports) if reports else _empty_report()
    rejected_frame = (
        pl.concat(rejected).select(list(REJECTED_SCHEMA))
        if rejected
        else pl.DataFrame(schema=REJECTED_SCHEMA)
    )
    return ValidationResult(kept, report, rejected_frame, counts)


# --- root causes: rows rejected in cascade grouped under the row that caused them ---------

#: The rule of an unresolved reference: the only rule whose failure can be a consequence of
#: another row's rejection (an establishment rejected takes its units, their offers, its
#: authorisations with it).
CASCADE_RULE = "reference_introuvable"

#: Most (unresolved key × malformed key) pairs compared when looking for a probable cause;
#: past it only exact matches are used (the comparison is pure Python).
_MAX_PROBABLE_PAIRS = 200_000

_EXPLAINED = {"ligne": pl.Int64, "cause": pl.String, "cause_table": pl.String,
              "cause_row": pl.Int64}


def spreadsheet_line(row: pl.Expr) -> pl.Expr:
    """The line a spreadsheet shows for report row ``row`` (header = line 1, first row = 2).

    ``row`` counts data rows from 1 with the header excluded (blank lines skipped); the
    report's row 0 is the header itself (unknown columns).
    """
    return pl.when(row > 0).then(row + 1).otherwise(pl.lit(1, pl.Int64)).cast(pl.Int64)


def _key(expr: pl.Expr, kind: str) -> pl.Expr:
    s = expr.cast(pl.String).str.strip_chars()
    s = pl.when(s.str.len_chars() > 0).then(s)
    return s.str.to_uppercase() if kind in (FINESS, INSEE) else s


def _one_edit_apart(a: str, b: str) -> bool:
    """True when ``a`` and ``b`` differ by one typing slip: a character changed, added,
    removed, or two neighbours swapped (``75061973`` and ``750619737``)."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        return len(diff) == 1 or (
            len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]]
            and a[diff[1]] == b[diff[0]]
        )
    short, long = (a, b) if len(a) < len(b) else (b, a)
    i = next((k for k in range(len(short)) if short[k] != long[k]), len(short))
    return short[i:] == long[i + 1:]


def _parent_links(report: pl.DataFrame, rejected: pl.DataFrame) -> pl.DataFrame:
    """For each unresolved reference of the report: the rejected row it points to, if any.

    Exact first: the referenced key is the key of a rejected row of the target table (an
    establishment rejected for its commune code). Otherwise, when the target row was rejected
    *because of its key* (a FINESS mistyped), the one rejected key a single typing slip away
    is taken as the probable cause. Columns: table, row, parent_table, parent_row, probable.
    """
    schema = {"table": pl.String, "row": pl.Int64, "parent_table": pl.String,
              "parent_row": pl.Int64, "probable": pl.Boolean}
    parts = [pl.DataFrame(schema=schema)]
    for name, table in TABLES.items():
        for ref in table.references:
            problems = report.filter(
                (pl.col("table") == name) & (pl.col("rule") == CASCADE_RULE)
                & (pl.col("column") == ref.column)
            )
            if problems.height == 0:
                continue
            kind = table.column(ref.column).kind
            problems = problems.select("table", "row", _key(pl.col("value"), kind).alias("key"))
            targets = rejected.filter(pl.col("table") == ref.table)
            exact = (
                targets.select(
                    pl.col("row").alias("parent_row"),
                    _key(pl.col("donnees").str.json_path_match(f"$.{ref.target}"), kind)
                    .alias("key"),
                )
                .drop_nulls("key")
                .group_by("key")
                .agg(pl.col("parent_row").min())
            )
            linked = problems.join(exact, on="key", how="left")
            found = linked.filter(pl.col("parent_row").is_not_null())
            parts.append(
                found.select("table", "row", pl.lit(ref.table).alias("parent_table"),
                             "parent_row", pl.lit(False).alias("probable"))
            )
            missing = linked.filter(pl.col("parent_row").is_null() & pl.col("key").is_not_null())
            bad_keys = (
                targets.filter(pl.col("column") == ref.target)
                .select("row", _key(pl.col("value"), kind).alias("bad"))
                .drop_nulls("bad")
                .unique()
            )
            keys = missing.get_column("key").unique().to_list()
            if not keys or bad_keys.height == 0 or len(keys) * bad_keys.height > _MAX_PROBABLE_PAIRS:
                continue
            probable = {}
            candidates = list(bad_keys.iter_rows())
            for key in keys:
                rows = {r for r, bad in candidates if _one_edit_apart(key, bad)}
                if len(rows) == 1:
                    probable[key] = rows.pop()
            if probable:
                parts.append(
                    missing.filter(pl.col("key").is_in(list(probable)))
                    .select(
                        "table", "row", pl.lit(ref.table).alias("parent_table"),
                        pl.col("key").replace_strict(probable, return_dtype=pl.Int64)
                        .alias("parent_row"),
                        pl.lit(True).alias("probable"),
                    )
                )
    return pl.concat(parts)


def explain_rejections(report: pl.DataFrame, rejected: pl.DataFrame) -> pl.DataFrame:
    """The report with each problem tied to the root cause of its row's trouble.

    ``report`` follows ``schema.REPORT_SCHEMA`` (extra columns kept); ``rejected`` is the
    matching ``REJECTED_SCHEMA`` frame (``ValidationResult.rejected``, ``rejected.parquet``),
    whose original rows give the keys of rejected rows. A row rejected *only* because a row it
    references was rejected (or a kept row warned for it) is a consequence: ``cause_table`` and
    ``cause_row`` name the root row, followed through every level (offer → unit →
    establishment), and ``cause`` says it in French (« etablissements, ligne 18 »; « cause
    probable » when linked through a mistyped key). A row with a reason of its own is its own
    cause (nulls). ``ligne`` is the row as a spreadsheet shows it (``spreadsheet_line``).
    """
    links = _parent_links(report, rejected)
    rejects = report.filter(pl.col("severity") == REJECT)
    own = set(
        rejects.filter(pl.col("rule") != CASCADE_RULE).select("table", "row").iter_rows()
    )
    parent: dict[tuple[str, int], tuple[str, int, bool]] = {}
    for t, r, pt, pr, probable in links.iter_rows():
        if (t, r) not in own:
            parent.setdefault((t, r), (pt, pr, probable))
    rejected_rows = set(rejects.select("table", "row").iter_rows())

    def root(node: tuple[str, int]) -> tuple[str, int, bool] | None:
        """The rejected row at the top of ``node``'s chain (one that points nowhere further)."""
        probable, seen = False, set()
        while node in parent and node not in seen:
            seen.add(node)
            pt, pr, p = parent[node]
            probable, node = probable or p, (pt, pr)
        return (*node, probable) if node in rejected_rows else None

    causes = []
    for t, r in report.select("table", "row").unique().iter_rows():
        if (t, r) in own or (t, r) not in parent:
            continue
        found = root((t, r))
        if found is not None:
            causes.append((t, r, *found))
    cause = pl.DataFrame(
        causes, schema={"table": pl.String, "row": pl.Int64, "cause_table": pl.String,
                        "cause_row": pl.Int64, "probable": pl.Boolean}, orient="row",
    ).with_columns(
        cause=pl.format("{}, ligne {}", "cause_table", spreadsheet_line(pl.col("cause_row")))
        + pl.when("probable").then(pl.lit(" (cause probable)")).otherwise(pl.lit(""))
    )
    return report.drop(_EXPLAINED.keys(), strict=False).with_columns(
        ligne=spreadsheet_line(pl.col("row"))
    ).join(
        cause.select("table", "row", "cause", "cause_table", "cause_row"),
        on=["table", "row"], how="left", maintain_order="left",
    )


def by_cause(explained: pl.DataFrame) -> pl.DataFrame:
    """``explain_rejections``'s report in reading order: rejections with a cause of their own
    first (table order, then row), each followed by what it caused; then the warnings."""
    rank = {name: i for i, name in enumerate(TABLES)}
    group_table = pl.coalesce("cause_table", "table")
    group_row = pl.coalesce("cause_row", "row")
    rejected_group = (
        pl.col("cause_table").is_not_null()
        | ((pl.col("severity") == REJECT).any().over("table", "row"))
    )
    return (
        explained.with_columns(
            _warn=~rejected_group,
            _gt=group_table.replace_strict(rank, default=len(rank), return_dtype=pl.Int64),
            _gr=group_row,
            _child=pl.col("cause_table").is_not_null(),
            _t=pl.col("table").replace_strict(rank, default=len(rank), return_dtype=pl.Int64),
        )
        .sort("_warn", "_gt", "_gr", "_child", "_t", "row", maintain_order=True)
        .drop("_warn", "_gt", "_gr", "_child", "_t")
    )


def root_causes(explained: pl.DataFrame) -> pl.DataFrame:
    """One row per root cause of a rejection, with what it took with it.

    Columns: table, row, ligne, en_consequence (rows rejected because of it, all tables),
    avertissements_en_consequence (kept rows warned because of it), detail (French: « unites
    6, offres 8, autorisations 14 »), in the order of ``by_cause``.
    """
    rank = {name: i for i, name in enumerate(TABLES)}
    roots = (
        explained.filter((pl.col("severity") == REJECT) & pl.col("cause_table").is_null())
        .select("table", "row", "ligne")
        .unique(maintain_order=True)
    )
    children = (
        explained.filter(pl.col("cause_table").is_not_null())
        .group_by("cause_table", "cause_row", "table", "row")
        .agg(rejected=(pl.col("severity") == REJECT).any())
    )
    per_table = (
        children.group_by("cause_table", "cause_row", "table")
        .agg(n=pl.len(), rejected=pl.col("rejected").sum())
        .with_columns(_t=pl.col("table").replace_strict(rank, default=len(rank),
                                                         return_dtype=pl.Int64))
        .sort("_t")
    )
    summary = per_table.group_by("cause_table", "cause_row").agg(
        en_consequence=pl.col("rejected").sum().cast(pl.Int64),
        avertissements_en_consequence=(pl.col("n") - pl.col("rejected")).sum().cast(pl.Int64),
        detail=pl.format("{} {}", "table", "n").sort_by("_t").str.join(", "),
    )
    out = roots.join(
        summary.rename({"cause_table": "table", "cause_row": "row"}),
        on=["table", "row"], how="left", maintain_order="left",
    ).with_columns(
        pl.col("en_consequence", "avertissements_en_consequence").fill_null(0),
        _t=pl.col("table").replace_strict(rank, default=len(rank), return_dtype=pl.Int64),
    )
    return out.sort("_t", "row").drop("_t")


def consequence_text(rejected: int, warned: int = 0, detail: str | None = None) -> str:
    """« 19 lignes rejetées en conséquence (unites 5, offres 8) » ; empty when nothing."""
    parts = []
    if rejected:
        parts.append(f"{rejected} ligne{'s' if rejected > 1 else ''} "
                     f"rejetée{'s' if rejected > 1 else ''} en conséquence")
    if warned:
        parts.append(f"{warned} avertissement{'s' if warned > 1 else ''} en conséquence")
    if not parts:
        return ""
    return " et ".join(parts) + (f" ({detail})" if detail else "")
