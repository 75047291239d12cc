"""Text folding: one way to compare what people type with the labels and names we know.

Two forms, for two uses:

- :func:`fold` for matching words (labels, states, column names written by hand): lower case,
  accents removed, every apostrophe written as ``'``, hyphens read as spaces, single spaces.
  « Soins médicaux et de réadaptation », « soins medicaux  et de READAPTATION » and
  « Soins-médicaux… » fold alike; « Mise à jour de l’offre » and « de l'offre » too.
- :func:`fold_key` for keys (headers read from a spreadsheet, file-name parts): ASCII letters
  and digits only, anything else as one ``_``: « Population municipale (2021) » →
  ``population_municipale_2021``.

French numbers are written by :mod:`analysis.model.formats`.
"""

from __future__ import annotations

import re
import unicodedata

#: Apostrophes people and files write, all read as the straight one (``'``).
APOSTROPHES = "’‘ʼ`"
_APOSTROPHE_TABLE = str.maketrans(dict.fromkeys(APOSTROPHES, "'") | {"-": " "})


def strip_accents(text: str) -> str:
    """``text`` without its accents and other combining marks (NFKD decomposition):
    « Réadaptation » → « Readaptation », « ﬁ » → « fi »; « œ » stays « œ »."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def fold(text: object) -> str:
    """Lower-case, accent-free, single-spaced words for tolerant matching: apostrophes
    (``’ ‘ ʼ` ``) as ``'``, hyphens as spaces. ``None`` folds to ``""``.

    >>> fold("  Onco-Hématologie ")
    'onco hematologie'
    >>> fold("Mise à jour de l’offre")
    "mise a jour de l'offre"
    """
    if text is None:
        return ""
    plain = strip_accents(str(text)).lower().translate(_APOSTROPHE_TABLE)
    return " ".join(plain.split())


def fold_key(text: object) -> str:
    """A header or a word as a key: ASCII lower case, accents removed, any run of other
    characters as one ``_``, none at either end. ``None`` folds to ``""``.

    >>> fold_key("Population municipale (2021)")
    'population_municipale_2021'
    """
    plain = unicodedata.normalize("NFKD", str(text or "")).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "_", plain.lower()).strip("_")
