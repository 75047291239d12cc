"""Département of a commune (INSEE code) or of an establishment (FINESS number).

- An INSEE commune code has 5 characters; its département is the first two (``75056`` →
  ``75``, Corsica ``2A004`` → ``2A``), or the first three overseas (``97302`` → ``973``,
  ``98611`` → ``986``).
- A FINESS number starts with the département on two characters; overseas ones use a letter
  (``9A`` Guadeloupe … ``9F`` Mayotte, ``9J`` Wallis-et-Futuna), Corsica kept ``20`` on
  numbers given before 1976.
"""

from __future__ import annotations

import re

import polars as pl

#: FINESS overseas département prefixes → INSEE département codes.
FINESS_OVERSEAS: dict[str, str] = {
    "9A": "971",  # Guadeloupe (with Saint-Barthélemy 977 and Saint-Martin 978)
    "9B": "972",  # Martinique
    "9C": "973",  # Guyane
    "9D": "974",  # La Réunion
    "9E": "975",  # Saint-Pierre-et-Miquelon [inferred]
    "9F": "976",  # Mayotte
    "9J": "986",  # Wallis-et-Futuna
}
#: First two characters of the INSEE codes whose département takes three.
OVERSEAS_HEADS = ("97", "98")

_INSEE_RE = re.compile(r"^(\d{5}|2[AB]\d{3})$")


def departement_of_commune(code: str) -> str:
    """Département of an INSEE commune code as given (no check): ``97302`` → ``973``,
    ``2A004`` → ``2A``, ``75056`` → ``75``."""
    return code[:3] if code[:2] in OVERSEAS_HEADS else code[:2]


def departement_from_insee(code: str) -> str:
    """Département code of an INSEE commune code: "75056"→"75", "2A004"→"2A", "97302"→"973".

    A 4-digit code (leading zero lost in a spreadsheet) is read as its 5-digit form; anything
    else that is not a commune code raises ``ValueError`` (French message).
    """
    text = str(code).strip().upper()
    if text.isdigit() and len(text) == 4:
        text = text.zfill(5)
    if not _INSEE_RE.match(text):
        raise ValueError(f"Code commune INSEE invalide : {code!r} (5 caractères attendus).")
    return departement_of_commune(text)


def departement_expr(commune_insee: str = "commune_insee", finess: str = "finess_eg") -> pl.Expr:
    """Département of an establishment as an expression: from its commune (97x/98x on 3
    characters), else from the first characters of its FINESS number (``9A`` → ``971``)."""
    com = pl.col(commune_insee)
    from_commune = (
        pl.when(com.str.slice(0, 2).is_in(list(OVERSEAS_HEADS)))
        .then(com.str.slice(0, 3))
        .otherwise(com.str.slice(0, 2))
    )
    return pl.coalesce(from_commune, finess_departement_expr(finess))


def finess_departement_expr(finess: str = "finess_eg") -> pl.Expr:
    """Département written at the start of a FINESS number, overseas letters turned into
    INSEE codes (``9C…`` → ``973``, ``75…`` → ``75``)."""
    return pl.col(finess).str.slice(0, 2).replace(FINESS_OVERSEAS)
