"""French formats of values for everything shown or handed out: numbers, rates, dates, codes.

One layer for the pages, the downloads, the regional report and the command line, so that a
figure reads the same everywhere:

- numbers: digits grouped by three with a narrow no-break space (U+202F, the French
  typographic « espace fine insécable », also CLDR's group separator for ``fr``), decimal
  comma: « 12 174 880 », « 41,9 »;
- rates: « 83,8 % » (narrow no-break space before the sign), one decimal by default;
- dates « 31/07/2023 »; a time only where it means something (« 30/07/2023 18:00 »): a
  date-time column whose values all fall at midnight is shown as dates;
- empty cells « — »;
- départements as « Paris (75) », and every mention under one short label
  (``nomenclature.Mention.court``) wherever it appears, with the legal label kept for tooltips.

Written here rather than through Babel (``format_decimal`` / ``format_percent``, ``fr_FR``):
Babel rounds ties on the decimal text (90,35 → « 90,4 », here « 90,3 » as Python's ``format``
and the downloads), writes « -0 » for small negative values, puts a no-break space (U+00A0)
rather than the narrow one before « % » by default, and costs about 7× more per cell.

``Format`` says how one column is shown (French header, kind, decimals, width); which format
each column of the workbench gets, and the labels of its codes, are in
``analysis.present.columns``. Spreadsheets get the same figures but not the same text
(« CSV pour Excel », see ``analysis.present.export``).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass
from typing import Any

#: Narrow no-break space: thousands separator and space before « % ».
NNBSP = "\u202f"
#: What an empty cell shows.
EMPTY = "—"

TEXT, CODE, INTEGER, NUMBER, SHARE, PERCENT, DATE, DATETIME, BOOLEAN = (
    "text", "code", "integer", "number", "share", "percent", "date", "datetime", "boolean",
)  # fmt: skip
#: Kinds of column: ``share`` holds 0–1 fractions shown as percentages, ``percent`` values
#: already in 0–100; ``code`` is text whose values get French labels.
KINDS = (TEXT, CODE, INTEGER, NUMBER, SHARE, PERCENT, DATE, DATETIME, BOOLEAN)
NUMERIC_KINDS = frozenset({INTEGER, NUMBER, SHARE, PERCENT})


# --------------------------------------------------------------------------- scalars


def is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def grouped(value: float, decimals: int, sep: str) -> str:
    text = f"{value:,.{decimals}f}"
    if re.fullmatch(r"-0(\.0*)?", text):  # -0,0 reads as a loss that is not there
        text = text[1:]
    return text.replace(",", "\x00").replace(".", ",").replace("\x00", sep)


def number(value: float | int | None, decimals: int = 0) -> str:
    """« 12 174 880 », « 41,9 »: grouped digits (narrow no-break space), decimal comma;
    « — » for None or NaN. ``decimals``: digits after the comma (rounded half to even on
    the binary value, as Python's ``format``)."""
    if is_missing(value):
        return EMPTY
    if isinstance(value, float) and math.isinf(value):
        return "∞" if value > 0 else "-∞"
    return grouped(value, decimals, NNBSP)


def compact(value: float | int | None) -> str:
    """A parameter as one writes it, without trailing zeros: « 1,3 », « 40 », « 0,68 »."""
    if is_missing(value):
        return EMPTY
    text = f"{value:g}"
    if "e" in text:  # very large or small: plain digits rather than an exponent
        return number(value, 0 if abs(value) >= 1 else 6)
    whole, _, frac = text.partition(".")
    return number(int(whole), 0) if whole.lstrip("-").isdigit() and not frac else (
        grouped(float(text), len(frac), NNBSP))


def integer(value: float | int | None) -> str:
    """A count: « 5 358 » (rounded to the unit); « — » for None."""
    return number(value, 0)


def percent(share: float | None, decimals: int = 1) -> str:
    """A 0–1 share as « 83,8 % »; « — » for None."""
    if is_missing(share):
        return EMPTY
    return f"{number(share * 100, decimals)}{NNBSP}%"


def percent_points(value: float | None, decimals: int = 1) -> str:
    """A value already in 0–100 as « 83,8 % »; « — » for None."""
    if is_missing(value):
        return EMPTY
    return f"{number(value, decimals)}{NNBSP}%"


def _as_datetime(value: Any) -> dt.datetime | dt.date | None:
    if is_missing(value):
        return None
    if isinstance(value, dt.datetime | dt.date):
        return value
    if hasattr(value, "to_pydatetime"):  # pandas Timestamp (NaT is caught below)
        try:
            return value.to_pydatetime()
        except ValueError:
            return None
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        try:
            return dt.datetime.fromisoformat(text)
        except ValueError:
            return None
    return None


def date(value: Any) -> str:
    """« 31/07/2023 » for a date, a date-time or an ISO text; « — » when empty."""
    d = _as_datetime(value)
    if d is None or d != d:  # NaT compares unequal to itself
        return str(value).strip() or EMPTY if isinstance(value, str) else EMPTY
    return f"{d.day:02d}/{d.month:02d}/{d.year:04d}"


def datetime(value: Any) -> str:
    """« 30/07/2023 18:00 » (a date alone when ``value`` has no time); « — » when empty."""
    d = _as_datetime(value)
    if d is None or d != d:
        return EMPTY
    if not isinstance(d, dt.datetime):
        return date(d)
    return f"{date(d)} {d.hour:02d}:{d.minute:02d}"


def boolean(value: Any) -> str:
    """« oui » / « non »; « — » when empty."""
    if is_missing(value):
        return EMPTY
    return "oui" if value else "non"


# ------------------------------------------------------------------------ code labels

#: Départements (Code officiel géographique): code → name, for « Paris (75) ».
DEPARTEMENTS: dict[str, str] = {
    "01": "Ain", "02": "Aisne", "03": "Allier", "04": "Alpes-de-Haute-Provence",
    "05": "Hautes-Alpes", "06": "Alpes-Maritimes", "07": "Ardèche", "08": "Ardennes",
    "09": "Ariège", "10": "Aube", "11": "Aude", "12": "Aveyron", "13": "Bouches-du-Rhône",
    "14": "Calvados", "15": "Cantal", "16": "Charente", "17": "Charente-Maritime", "18": "Cher",
    "19": "Corrèze", "2A": "Corse-du-Sud", "2B": "Haute-Corse", "21": "Côte-d'Or",
    "22": "Côtes-d'Armor", "23": "Creuse", "24": "Dordogne", "25": "Doubs", "26": "Drôme",
    "27": "Eure", "28": "Eure-et-Loir", "29": "Finistère", "30": "Gard", "31": "Haute-Garonne",
    "32": "Gers", "33": "Gironde", "34": "Hérault", "35": "Ille-et-Vilaine", "36": "Indre",
    "37": "Indre-et-Loire", "38": "Isère", "39": "Jura", "40": "Landes", "41": "Loir-et-Cher",
    "42": "Loire", "43": "Haute-Loire", "44": "Loire-Atlantique", "45": "Loiret", "46": "Lot",
    "47": "Lot-et-Garonne", "48": "Lozère", "49": "Maine-et-Loire", "50": "Manche",
    "51": "Marne", "52": "Haute-Marne", "53": "Mayenne", "54": "Meurthe-et-Moselle",
    "55": "Meuse", "56": "Morbihan", "57": "Moselle", "58": "Nièvre", "59": "Nord",
    "60": "Oise", "61": "Orne", "62": "Pas-de-Calais", "63": "Puy-de-Dôme",
    "64": "Pyrénées-Atlantiques", "65": "Hautes-Pyrénées", "66": "Pyrénées-Orientales",
    "67": "Bas-Rhin", "68": "Haut-Rhin", "69": "Rhône", "70": "Haute-Saône",
    "71": "Saône-et-Loire", "72": "Sarthe", "73": "Savoie", "74": "Haute-Savoie", "75": "Paris",
    "76": "Seine-Maritime", "77": "Seine-et-Marne", "78": "Yvelines", "79": "Deux-Sèvres",
    "80": "Somme", "81": "Tarn", "82": "Tarn-et-Garonne", "83": "Var", "84": "Vaucluse",
    "85": "Vendée", "86": "Vienne", "87": "Haute-Vienne", "88": "Vosges", "89": "Yonne",
    "90": "Territoire de Belfort", "91": "Essonne", "92": "Hauts-de-Seine",
    "93": "Seine-Saint-Denis", "94": "Val-de-Marne", "95": "Val-d'Oise", "971": "Guadeloupe",
    "972": "Martinique", "973": "Guyane", "974": "La Réunion", "976": "Mayotte",
}  # fmt: skip
#: Values of a département column that are not départements.
DEPARTEMENT_SPECIAL = {"ensemble": "Ensemble", "-2": "Inconnu"}


def departement(code: str | None) -> str:
    """« Paris (75) »; an unknown code stays as it is, « — » when empty."""
    if is_missing(code) or code == "":
        return EMPTY
    code = str(code)
    if code in DEPARTEMENT_SPECIAL:
        return DEPARTEMENT_SPECIAL[code]
    name = DEPARTEMENTS.get(code)
    return f"{name} ({code})" if name else code


def mention(code: str | None) -> str:
    """The one short label of a mention (``Mention.court``): « Pédiatrie (≥ 4 ans) »;
    alternatives written ``ME062|ME056`` read « Oncologie ou Onco-hématologie »."""
    from analysis.model import nomenclature

    if is_missing(code) or code == "":
        return EMPTY
    parts = [p.strip() for p in str(code).split("|")]
    return " ou ".join(
        nomenclature.MENTION_BY_CODE[p].court if p in nomenclature.MENTION_BY_CODE else p
        for p in parts
    )


def mention_choice(code: str) -> str:
    """A mention in a selector: « Pédiatrie (≥ 4 ans) (ME060) »."""
    return f"{mention(code)} ({code})"


# --------------------------------------------------------------------------- columns


@dataclass(frozen=True)
class Format:
    """How one column is shown: French header, kind of value, decimals, width, key role.

    ``key``: the column identifies the row (kept visible when a table scrolls sideways).
    ``width``: ``small`` / ``medium`` / ``large`` in the app (None: fitted to the content).
    ``help``: a tooltip for the header.
    """

    label: str
    kind: str = TEXT
    decimals: int = 0
    width: str | None = None
    key: bool = False
    help: str | None = None


def cell(value: Any, f: Format) -> str:
    """One value as shown on a page or in the report (``f``: the column's ``Format``)."""
    if is_missing(value) or (isinstance(value, str) and value == ""):
        return EMPTY
    if f.kind == INTEGER:
        return integer(value)
    if f.kind == NUMBER:
        return number(value, f.decimals)
    if f.kind == SHARE:
        return percent(value, f.decimals)
    if f.kind == PERCENT:
        return percent_points(value, f.decimals)
    if f.kind == DATE:
        return date(value)
    if f.kind == DATETIME:
        return datetime(value)
    if f.kind == BOOLEAN:
        return boolean(value)
    text = str(value)
    return text


def parse_csv_excel_number(text: str | None) -> float | None:
    """A number as « CSV pour Excel » writes it (decimal comma) read back; None when empty."""
    if text is None or text.strip() == "":
        return None
    return float(text.replace(NNBSP, "").replace(" ", "").replace(",", "."))
