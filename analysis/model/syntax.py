"""E-mail and phone syntax as Polars expressions: the one definition used everywhere.

Validation (``analysis.io.validate``), the campaign rules and the sync checks all decide with
these expressions what a valid e-mail or French phone number is, so a cell that the
campaign accepts never gets a validation warning and the other way round. A phone cell is
valid when at least one of the numbers written in it is ("4521 / 01 23 45 67 89", or
"01 23 45 67 89 poste 12": an internal extension beside a full number is fine).
"""

from __future__ import annotations

import re

import polars as pl

__all__ = [
    "EMAIL_PATTERN",
    "PHONE_PATTERN",
    "PHONE_LOST_ZERO_PATTERN",
    "blank",
    "is_email",
    "is_phone",
    "phone_digits",
    "phone_key",
    "phone_parts",
    "any_valid_phone",
    "phone_lost_zero",
    "redact",
]

#: Pragmatic e-mail syntax: local part, @, dotted domain ending with a 2+ letter label.
EMAIL_PATTERN = (
    r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.)+[A-Za-z]{2,}$"
)
#: French phone numbers once spaces, dots, dashes and "(0)" are removed: national 10 digits,
#: or +33 / 0033 and the overseas country codes followed by 9 digits.
PHONE_PATTERN = r"^(?:0[1-9]\d{8}|(?:\+|00)(?:33|262|269|590|594|596)[1-9]\d{8})$"
#: Nine digits: a national number whose leading 0 a spreadsheet dropped.
PHONE_LOST_ZERO_PATTERN = r"^[1-9]\d{8}$"

#: Separators between several numbers written in one cell ("01 … ; 06 …", "01 … / 06 …").
PHONE_SEPARATORS = r"\s*(?:[;,|/]|\bou\b|\bet\b)\s*"
#: A trailing internal extension after a full number ("01 23 45 67 89 poste 412").
PHONE_EXTENSION = r"(?i)\s*(?:poste|post\.|p\.|ext\.?|extension)\s*\d{1,6}\s*$"
#: Characters ignored inside a number: spaces, dots, dashes, parentheses, and the "(0)" of
#: "+33 (0)1 …".
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


def phone_lost_zero(expr: pl.Expr) -> pl.Expr:
    """True when the cell holds no valid number but reads as one that lost its leading 0
    ("1 23 45 67 89": a numeric spreadsheet cell); null when the cell is null."""
    return ~any_valid_phone(expr) & phone_digits(expr.str.strip_chars()).str.contains(
        PHONE_LOST_ZERO_PATTERN
    )


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


#: The domain part of an e-mail address inside free text; the local part is found by walking
#: back from the ``@`` (a single regular expression backtracks badly on long lines).
_EMAIL_DOMAIN = re.compile(r"@[\w-]+(?:\.[\w-]+)+")
_EMAIL_LOCAL = frozenset("._!#$%&'*+/=?^`{|}~-")
#: French phone numbers inside free text (bounded length: linear time).
_PHONE_IN_TEXT = re.compile(
    r"(?<![\w+])(?:(?:\+|00)(?:33|262|269|590|594|596)[\s.\-]?(?:\(0\))?[\s.\-]?[1-9]"
    r"|0[1-9])(?:[\s.\-]?\d){8}(?!\d)"
)
REDACTED = "[masqué]"


def _redact_emails(text: str) -> str:
    parts, last = [], 0
    for match in _EMAIL_DOMAIN.finditer(text):
        start = match.start()
        while start > last and (text[start - 1].isalnum() or text[start - 1] in _EMAIL_LOCAL):
            start -= 1
        if start == match.start():
            continue  # « @x.fr » without a local part: not an address
        parts += [text[last:start], REDACTED]
        last = match.end()
    parts.append(text[last:])
    return "".join(parts)


def redact(text: str) -> str:
    """``text`` with every e-mail address and French phone number replaced by « [masqué] ».

    Applied to every error message of the project (``analysis.model.errors.SmrError``) and to the
    values of validation reports handed out, as a last line of defence: messages name files,
    rows and columns, never contacts. Linear in the length of ``text``.
    """
    if "@" in text:
        text = _redact_emails(text)
    return _PHONE_IN_TEXT.sub(REDACTED, text)
