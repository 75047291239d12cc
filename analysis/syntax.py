"""E-mail and phone syntax as Polars expressions, shared by campaign rules and sync checks.

The patterns themselves are those of ``analysis.validate`` (one definition of what a valid
e-mail or French phone number is); this module adds the normalisation and the vectorised
helpers that analyses need: several numbers in one cell, comparison of two spellings of
the same number.
"""

from __future__ import annotations

import polars as pl

from analysis.validate import EMAIL_PATTERN, PHONE_PATTERN

__all__ = [
    "EMAIL_PATTERN",
    "PHONE_PATTERN",
    "blank",
    "is_email",
    "is_phone",
    "phone_digits",
    "phone_key",
    "phone_parts",
    "any_valid_phone",
]

#: Separators between several numbers written in one cell ("01 … ; 06 …", "01 … / 06 …").
PHONE_SEPARATORS = r"\s*(?:[;,|/]|\bou\b|\bet\b)\s*"
#: A trailing internal extension after a full number ("01 23 45 67 89 poste 412").
PHONE_EXTENSION = r"(?i)\s*(?:poste|post\.|p\.|ext\.?|extension)\s*\d{1,6}\s*$"
#: Characters ignored inside a number (the same as ``validate``): spaces, dots, dashes,
#: parentheses, and the "(0)" of "+33 (0)1 …".
_PHONE_NOISE = r"[\s.\-()]"


def blank(expr: pl.Expr) -> pl.Expr:
    """True when the text is null or only spaces (never null itself)."""
    return (expr.is_null() | (expr.cast(pl.String).str.strip_chars() == "")).fill_null(True)


def is_email(expr: pl.Expr) -> pl.Expr:
    """True when the stripped text is one syntactically valid e-mail address (null stays null)."""
    return expr.str.strip_chars().str.contains(EMAIL_PATTERN)


def phone_digits(expr: pl.Expr) -> pl.Expr:
    """One number as a bare string of digits and ``+`` ("+33 (0)1 23…" → "+33123…")."""
    return (
        expr.str.replace(PHONE_EXTENSION, "")
        .str.replace_all(r"\(0\)", "")
        .str.replace_all(_PHONE_NOISE, "")
    )


def is_phone(expr: pl.Expr) -> pl.Expr:
    """True when the text is one French number reachable from outside (not an extension)."""
    return phone_digits(expr).str.contains(PHONE_PATTERN)


def phone_parts(expr: pl.Expr) -> pl.Expr:
    """List of the numbers written in one cell, split on ``;``, ``,``, ``/``, ``ou``…"""
    return (
        expr.str.strip_chars()
        .str.replace_all(PHONE_SEPARATORS, ";")
        .str.split(";")
        .list.eval(pl.element().filter(pl.element().str.strip_chars() != ""))
    )


def any_valid_phone(expr: pl.Expr) -> pl.Expr:
    """True when at least one number of the cell is valid (null when the cell is null)."""
    return phone_parts(expr).list.eval(is_phone(pl.element())).list.any()


def phone_key(expr: pl.Expr) -> pl.Expr:
    """Comparable form of a number: national 10 digits ("+33 1 23…" → "0123…").

    Overseas numbers dialled from abroad become national too ("+262 262…" → "0262…").

    Numbers that are not valid keep their bare digits, so two identical wrong spellings
    still compare equal and two different ones differ.
    """
    d = phone_digits(expr.str.strip_chars())
    return (
        pl.when(d.str.contains(r"^(?:\+|00)(?:33|262|269|590|594|596)[1-9]\d{8}$"))
        .then(pl.lit("0") + d.str.slice(-9))
        .otherwise(d)
    )
