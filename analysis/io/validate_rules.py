"""Rules of validation: each rule of a table as a ``RowCheck`` (where it fails, why, which
value to report), over the working columns of ``analysis.io.validate_values``.

Reject rules are evaluated on every input row; warning rules on kept rows only
(``analysis.io.validate`` decides which rows are kept). Reasons are French.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass

import polars as pl

from analysis.io.validate_values import (
    AGE_BOUNDS,
    FINESS_PATTERN,
    INSEE_PATTERN,
    INT32_MAX,
    INTEGRAL_PATTERN,
    NUMBER_PATTERN,
    POSTAL_PATTERN,
    in_france,
    parse_integer,
    parsed_column,
    text_column,
    typed_column,
)
from analysis.model.nomenclature import CODE_LISTS
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
    PHONE,
    POSTAL,
    Column,
    Table,
)
from analysis.model.syntax import (
    EMAIL_PATTERN,
    PHONE_LOST_ZERO_PATTERN,
    PHONE_SEPARATORS,
    any_valid_phone,
    is_phone,
    phone_digits,
)


@dataclass(frozen=True)
class RowCheck:
    """One rule on one column: where it fails, why, and which value to report."""

    column: str
    rule: str
    bad: pl.Expr
    reason: pl.Expr | str
    value: pl.Expr


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


def _integer_checks(col: Column) -> list[RowCheck]:
    """Capacity counts (lits, places): a non-negative whole number, else the row is rejected."""
    n = pl.col(text_column(col.name))
    value = parse_integer(n)
    reason = (
        pl.when(~n.str.contains(NUMBER_PATTERN))
        .then(pl.lit("n'est pas un nombre"))
        .when(~n.str.contains(INTEGRAL_PATTERN))
        .then(pl.lit("n'est pas un nombre entier (lits et places se comptent en unités)"))
        .when(value < 0)
        .then(pl.lit("nombre négatif"))
        .otherwise(pl.lit("nombre trop grand"))
    )
    bad = n.is_not_null() & (value.is_null() | (value < 0) | (value > INT32_MAX))
    return [RowCheck(col.name, "nombre_invalide", bad, reason, pl.col(col.name))]


def _reference_check(col: Column, target: str, keys: pl.Series) -> RowCheck:
    t = pl.col(typed_column(col.name))
    bad = t.is_not_null() & ~t.is_in(keys.implode())
    if col.kind == FINESS:
        bad = bad & t.str.contains(FINESS_PATTERN)  # a malformed number is reported as such
    reason = f"référence introuvable : {col.name} absent des lignes conservées de {target}"
    return RowCheck(col.name, "reference_introuvable", bad, reason, pl.col(col.name))


def reject_checks(table: Table, kept: Mapping[str, pl.DataFrame]) -> list[RowCheck]:
    """Rules whose failure rejects the row (evaluated on every input row)."""
    checks = list(_column_reject_checks(table))
    for ref in table.references:
        if ref.reject:
            keys = kept[ref.table].get_column(ref.target)
            checks.append(_reference_check(table.column(ref.column), ref.table, keys))
    return checks


@functools.cache
def _column_reject_checks(table: Table) -> tuple[RowCheck, ...]:
    """``reject_checks`` but the references (they read the kept rows): built once per table,
    as they do not depend on the data."""
    checks: list[RowCheck] = []
    for col in table.columns:
        n, raw = pl.col(text_column(col.name)), pl.col(col.name)
        if col.not_null:
            checks.append(
                RowCheck(
                    col.name, "valeur_manquante", n.is_null(), "valeur obligatoire manquante", raw
                )
            )
        if col.kind == FINESS and col.not_null:
            bad = n.is_not_null() & ~n.str.contains(FINESS_PATTERN)
            checks.append(RowCheck(col.name, "finess_format", bad, _finess_reason(n), raw))
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
            checks.append(RowCheck(col.name, "commune_insee_format", bad, reason, raw))
        if col.kind == INTEGER:
            checks.extend(_integer_checks(col))
        if col.kind == CODE and col.codes and col.not_null:
            bad = n.is_not_null() & pl.col(typed_column(col.name)).is_null()
            codes = ", ".join(CODE_LISTS[col.codes])
            checks.append(
                RowCheck(col.name, "code_inconnu", bad, f"code inconnu ; codes admis : {codes}", raw)
            )
    return tuple(checks)


#: A national number written the usual way (``0590505703``, ``05 90 50 57 03``,
#: ``05.90.50.57.03``): valid for ``syntax.any_valid_phone`` without further work.
_PLAIN_PHONE = r"^0[1-9](?:[ .]?\d{2}){4}$"


#: Phone status codes of ``_phone_status_of_text`` (null for an empty cell).
_PHONE_VALID, _PHONE_LOST_ZERO, _PHONE_INVALID = 0, 1, 2


def _phone_status_of_text(s: pl.Series) -> pl.Series:
    """Status of stripped phone cells: valid (``syntax.any_valid_phone``), a number that lost
    its leading zero (``syntax.phone_lost_zero``: nine digits once the noise is removed), or
    invalid; null for a null cell.

    The usual spellings (``_PLAIN_PHONE``) are valid at once, two other shapes are settled
    by their shape, and only the remaining cells go through the rules
    (``_phone_status_by_rule``).
    """
    if s.null_count() == s.len():
        return s.cast(pl.Int8)  # an empty column
    plain = s.str.contains(_PLAIN_PHONE)
    status = (~plain).cast(pl.Int8) * _PHONE_INVALID  # plain: valid; null stays null
    other = (~plain).fill_null(False)
    if not other.any():
        return status.alias(s.name)
    # Two spellings of the unusual cells are settled by their shape: nine digits (a lost zero:
    # no valid number has nine digits) and at most eight digits with spaces or dots (too short
    # to be a number, not nine digits); the general rule decides the others.
    where = other.arg_true()
    cells = s.gather(where)
    codes = pl.DataFrame({"s": cells}).select(
        pl.when(pl.col("s").str.contains(_NINE_DIGITS))
        .then(pl.lit(_PHONE_LOST_ZERO, pl.Int8))
        .when(pl.col("s").str.contains(_SHORT_NUMBER))
        .then(pl.lit(_PHONE_INVALID, pl.Int8))
    ).to_series()
    rest = codes.is_null()
    if rest.any():
        codes = codes.scatter(rest.arg_true(), _phone_status_by_rule(cells.filter(rest)))
    return status.scatter(where, codes).alias(s.name)


#: Shapes of phone cells whose status needs no rule (ASCII digits, spaces and dots only).
_NINE_DIGITS = r"^[1-9][0-9]{8}$"
_SHORT_NUMBER = r"^[0-9](?:[ .]?[0-9]){0,7}$"


def _phone_status_by_rule(cells: pl.Series) -> pl.Series:
    """``_phone_status_of_text`` of non-null cells by the syntax rules: a cell without a
    separator holds one number (``syntax.is_phone``), the others are split into their numbers
    (``syntax.any_valid_phone``); the zero test in the same pass."""
    cell = pl.col("s")
    valid = (
        pl.when(cell.str.contains(PHONE_SEPARATORS))
        .then(any_valid_phone(cell))
        .otherwise(is_phone(cell))
    )
    lost = phone_digits(cell.str.strip_chars()).str.contains(PHONE_LOST_ZERO_PATTERN)
    return pl.DataFrame({"s": cells}).select(
        pl.when(valid)
        .then(pl.lit(_PHONE_VALID, pl.Int8))
        .when(lost)
        .then(pl.lit(_PHONE_LOST_ZERO, pl.Int8))
        .otherwise(pl.lit(_PHONE_INVALID, pl.Int8))
    ).to_series()


def phone_status_column(name: str) -> str:
    """Working column: the phone status of ``name`` (``_phone_status_of_text``)."""
    return f"__p_{name}"


@functools.cache
def rule_inputs(table: Table) -> list[pl.Expr]:
    """Working columns the rules read besides the text and typed values, each computed once
    per table (a Python function over a column is not shared between expressions): the
    phone status of phone columns."""
    return [
        pl.col(text_column(c.name))
        .map_batches(_phone_status_of_text, return_dtype=pl.Int8)
        .alias(phone_status_column(c.name))
        for c in table.columns
        if c.kind == PHONE
    ]


def _phone_checks(col: Column) -> list[RowCheck]:
    """Phone numbers: French syntax; 9 digits (a spreadsheet ate the 0) get their own rule.

    The syntax is ``analysis.model.syntax``'s, the campaign's: a cell with one valid number among
    several, or a valid number followed by an internal extension, is not flagged. Reads the
    working column of ``rule_inputs``.
    """
    status = pl.col(phone_status_column(col.name))
    lost_zero = (status == _PHONE_LOST_ZERO).fill_null(False)
    invalid = (status == _PHONE_INVALID).fill_null(False)
    return [
        RowCheck(
            col.name,
            "telephone_zero_perdu",
            lost_zero,
            "numéro de 9 chiffres : le zéro initial a sans doute été perdu (cellule numérique "
            "dans un tableur)",
            pl.col(col.name),
        ),
        RowCheck(
            col.name,
            "telephone_invalide",
            invalid,
            "numéro de téléphone français invalide (10 chiffres commençant par 0, ou +33…)",
            pl.col(col.name),
        ),
    ]


def _email_check(col: Column) -> RowCheck:
    n = pl.col(text_column(col.name))
    bad = n.is_not_null() & ~n.str.contains(EMAIL_PATTERN)
    reason = (
        pl.when(n.str.contains(r"[;,]|\s"))
        .then(pl.lit("adresse e-mail invalide : une seule adresse attendue, sans espace"))
        .otherwise(pl.lit("adresse e-mail invalide"))
    )
    return RowCheck(col.name, "email_invalide", bad, reason, pl.col(col.name))


def _coordinate_checks() -> list[RowCheck]:
    """Coordinates: unreadable, incomplete or outside France → both emptied, with a warning."""
    nlat, nlon = pl.col(text_column("latitude")), pl.col(text_column("longitude"))
    lat, lon = pl.col(parsed_column("latitude")), pl.col(parsed_column("longitude"))
    cleared = " : latitude et longitude effacées"
    checks = []
    for name, n, f in (("latitude", nlat, lat), ("longitude", nlon, lon)):
        checks.append(
            RowCheck(
                name,
                "coordonnees_illisibles",
                n.is_not_null() & f.is_null(),
                f"{name} illisible (nombre décimal attendu){cleared}",
                pl.col(name),
            )
        )
    for name, other in (("latitude", "longitude"), ("longitude", "latitude")):
        present, absent = pl.col(text_column(name)), pl.col(text_column(other))
        checks.append(
            RowCheck(
                name,
                "coordonnees_incompletes",
                present.is_not_null() & absent.is_null(),
                f"{other} absente : {name} effacée",
                pl.col(name),
            )
        )
    outside = lat.is_not_null() & lon.is_not_null() & ~in_france(lat, lon)
    reason = (
        pl.when(in_france(lon, lat))
        .then(pl.lit(f"coordonnées hors de France : latitude et longitude inversées ?{cleared}"))
        .otherwise(pl.lit(f"coordonnées hors de France (WGS84 attendu){cleared}"))
    )
    value = pl.concat_str([pl.col("latitude"), pl.col("longitude")], separator=" ; ")
    checks.append(RowCheck("latitude", "coordonnees_hors_france", outside, reason, value))
    return checks


def _departement_check() -> RowCheck:
    """FINESS département (first two characters) against the commune's, metropolitan only."""
    finess, insee = pl.col(typed_column("finess_eg")), pl.col(typed_column("commune_insee"))
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
    return RowCheck("finess_eg", "finess_departement", bad, reason, value)


def warning_checks(table: Table, kept: Mapping[str, pl.DataFrame]) -> list[RowCheck]:
    """Rules whose failure keeps the row (evaluated on kept rows only)."""
    checks = list(_column_warning_checks(table))
    for ref in table.references:
        if not ref.reject:
            keys = kept[ref.table].get_column(ref.target)
            check = _reference_check(table.column(ref.column), ref.table, keys)
            checks.append(check)
    return checks


@functools.cache
def _column_warning_checks(table: Table) -> tuple[RowCheck, ...]:
    """``warning_checks`` but the references: built once per table."""
    checks: list[RowCheck] = []
    names = set(table.names)
    for col in table.columns:
        n, t, raw = pl.col(text_column(col.name)), pl.col(typed_column(col.name)), pl.col(col.name)
        present = n.is_not_null()
        if col.kind == FINESS and not col.not_null:
            bad = present & ~n.str.contains(FINESS_PATTERN)
            checks.append(RowCheck(col.name, "finess_format", bad, _finess_reason(n), raw))
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
            checks.append(RowCheck(col.name, "code_postal_format", bad, reason, raw))
        elif col.kind == AGE:
            checks.append(
                RowCheck(
                    col.name,
                    "age_invalide",
                    present & t.is_null(),
                    "âge illisible (nombre entier d'années attendu) : valeur effacée",
                    raw,
                )
            )
            lo, hi = AGE_BOUNDS
            checks.append(
                RowCheck(
                    col.name,
                    "age_hors_bornes",
                    ~t.is_between(lo, hi),
                    f"âge hors de l'intervalle {lo}–{hi} ans (valeur conservée)",
                    raw,
                )
            )
        elif col.kind in (DATE, DATETIME):
            checks.append(
                RowCheck(
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
                RowCheck(
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
                RowCheck(
                    col.name,
                    "code_inconnu",
                    present & t.is_null(),
                    f"code inconnu ; codes admis : {codes} : valeur effacée",
                    raw,
                )
            )
    if {"age_min", "age_max"} <= names:
        amin, amax = pl.col(typed_column("age_min")), pl.col(typed_column("age_max"))
        value = pl.concat_str([pl.col("age_min"), pl.col("age_max")], separator=" > ")
        checks.append(
            RowCheck(
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
    return tuple(checks)

