"""French formats for everything shown or handed out: numbers, rates, dates, codes, headers.

One layer for the pages, the downloads, the regional report and the command line, so that a
figure reads the same everywhere:

- numbers: digits grouped by three with a narrow no-break space (U+202F, the French
  typographic « espace fine insécable », also CLDR's group separator for ``fr``), decimal
  comma: « 12 174 880 », « 41,9 »;
- rates: « 83,8 % » (narrow no-break space before the sign), one decimal by default;
- dates « 31/07/2023 »; a time only where it means something (« 30/07/2023 18:00 »): a
  date-time column whose values all fall at midnight is shown as dates;
- empty cells « — »;
- codes as French labels (statuses, gap types, levels…), départements as « Paris (75) »,
  and every mention under one short label (``nomenclature.Mention.court``) wherever it
  appears, with the legal label kept for tooltips.

Spreadsheets get the same figures but not the same text: a « CSV pour Excel » cell carries
no thousands separator (Excel reads « 12174880 » and « 41,9 » as numbers in a French
setting, while a grouped number with a narrow space would stay text), rates as percentages
with « (%) » in the header, values rounded as displayed; an Excel workbook keeps full
precision and lets number formats do the rounding (see ``analysis.export``).

``spec(column)`` tells how a column is shown: its French header, its kind (``KINDS``), its
decimals, its width in the app and whether it identifies the row (kept visible). The table
``COLUMNS`` holds the columns of the workbench's outputs; canonical columns fall back on
``schema`` labels, indicators on their method note, anything else on its type.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

import polars as pl

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


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _grouped(value: float, decimals: int, sep: str) -> str:
    text = f"{value:,.{decimals}f}"
    if re.fullmatch(r"-0(\.0*)?", text):  # -0,0 reads as a loss that is not there
        text = text[1:]
    return text.replace(",", "\x00").replace(".", ",").replace("\x00", sep)


def number(value: float | int | None, decimals: int = 0) -> str:
    """« 12 174 880 », « 41,9 »: grouped digits (narrow no-break space), decimal comma;
    « — » for None or NaN. ``decimals``: digits after the comma (rounded half to even on
    the binary value, as Python's ``format``)."""
    if _missing(value):
        return EMPTY
    if isinstance(value, float) and math.isinf(value):
        return "∞" if value > 0 else "-∞"
    return _grouped(value, decimals, NNBSP)


def compact(value: float | int | None) -> str:
    """A parameter as one writes it, without trailing zeros: « 1,3 », « 40 », « 0,68 »."""
    if _missing(value):
        return EMPTY
    text = f"{value:g}"
    if "e" in text:  # very large or small: plain digits rather than an exponent
        return number(value, 0 if abs(value) >= 1 else 6)
    whole, _, frac = text.partition(".")
    return number(int(whole), 0) if whole.lstrip("-").isdigit() and not frac else (
        _grouped(float(text), len(frac), NNBSP))


def integer(value: float | int | None) -> str:
    """A count: « 5 358 » (rounded to the unit); « — » for None."""
    return number(value, 0)


def percent(share: float | None, decimals: int = 1) -> str:
    """A 0–1 share as « 83,8 % »; « — » for None."""
    if _missing(share):
        return EMPTY
    return f"{number(share * 100, decimals)}{NNBSP}%"


def percent_points(value: float | None, decimals: int = 1) -> str:
    """A value already in 0–100 as « 83,8 % »; « — » for None."""
    if _missing(value):
        return EMPTY
    return f"{number(value, decimals)}{NNBSP}%"


def _as_datetime(value: Any) -> dt.datetime | dt.date | None:
    if _missing(value):
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
    if _missing(value):
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
    if _missing(code) or code == "":
        return EMPTY
    code = str(code)
    if code in DEPARTEMENT_SPECIAL:
        return DEPARTEMENT_SPECIAL[code]
    name = DEPARTEMENTS.get(code)
    return f"{name} ({code})" if name else code


def mention(code: str | None) -> str:
    """The one short label of a mention (``Mention.court``): « Pédiatrie (≥ 4 ans) »;
    alternatives written ``ME062|ME056`` read « Oncologie ou Onco-hématologie »."""
    from analysis import nomenclature

    if _missing(code) or code == "":
        return EMPTY
    parts = [p.strip() for p in str(code).split("|")]
    return " ou ".join(
        nomenclature.MENTION_BY_CODE[p].court if p in nomenclature.MENTION_BY_CODE else p
        for p in parts
    )


def mention_choice(code: str) -> str:
    """A mention in a selector: « Pédiatrie (≥ 4 ans) (ME060) »."""
    return f"{mention(code)} ({code})"


@functools.cache
def code_labels() -> dict[str, dict[str, str]]:
    """Column → {code: French label}, gathered from the modules that define the codes.

    Read lazily: those modules import ``analysis.export``, which imports this one.
    """
    from analysis import campaign, coverage, nomenclature, oqos, quality, sync, transition

    statut = {
        **nomenclature.CODE_LISTS["statut"],
        **oqos.STATUSES,
        **sync.STATUS_LABELS,
        **quality.STATUT_LABELS,
        **quality.PEUPLEMENT_LABELS,
        **transition.MAPPING_STATUSES,
        campaign.OK: "Conforme",
        campaign.MANQUANT: "Manquant",
        campaign.INVALIDE: "Invalide",
    }
    niveau = {**campaign.LEVELS, **quality.LEVELS, **coverage.LEVEL_LABELS}
    return {
        "statut": statut,
        "statut_peuplement": dict(quality.PEUPLEMENT_LABELS),
        "etat": {campaign.OK: "Conforme", campaign.MANQUANT: "Manquant",
                 campaign.INVALIDE: "Invalide"},
        "avant": {campaign.OK: "Conforme", campaign.MANQUANT: "Manquant",
                  campaign.INVALIDE: "Invalide"},
        "apres": {campaign.OK: "Conforme", campaign.MANQUANT: "Manquant",
                  campaign.INVALIDE: "Invalide"},
        "niveau": niveau,
        "regle": dict(
            zip(campaign.rules_frame()["regle"], campaign.rules_frame()["libelle"], strict=True)
        ),
        "changement": dict(campaign.CHANGE_LABELS),
        "ecart": {k: v[0] for k, v in transition.GAP_TYPES.items()},
        "correspondance": dict(transition.MAPPING_STATUSES),
        "evolution": dict(transition.EVOLUTIONS),
        "action": dict(transition.ACTIONS),
        "forme": {f.code: f.libelle for f in nomenclature.FORMES},
        "discipline": dict(nomenclature.CODE_LISTS["discipline"]),
        "regime": {"SSR": "SSR", "SMR": "SMR"},
        "severity": {"rejet": "Rejet", "avertissement": "Avertissement"},
        "severite": dict(campaign.SEVERITIES),
        "compte_ror": {campaign.OK: "Valide", campaign.MANQUANT: "Manquant",
                       campaign.INVALIDE: "Expiré"},
        "compte_vt": {campaign.OK: "Valide", campaign.MANQUANT: "Manquante",
                      campaign.INVALIDE: "Expirée"},
        "statut_avant": dict(oqos.STATUSES),
        "statut_apres": dict(oqos.STATUSES),
    }


@functools.cache
def _count_headers() -> dict[str, str]:
    """Headers of columns named after a code (one column per status, gap type, mention…)."""
    from analysis import campaign, nomenclature, quality, sync, transition

    return {
        **{m.code: m.court for m in nomenclature.MENTIONS},
        **sync.STATUS_LABELS,
        **transition.GAP_SHORT_LABELS,
        **quality.PEUPLEMENT_LABELS,
        **campaign.CHANGE_LABELS,
    }


@functools.cache
def _rule_labels() -> dict[str, str]:
    from analysis import campaign

    rules = campaign.rules_frame()
    return dict(zip(rules["regle"], rules["libelle"], strict=True))


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


def _f(label: str, kind: str = TEXT, decimals: int = 0, width: str | None = None,
       key: bool = False, help: str | None = None) -> Format:
    return Format(label, kind, decimals, width, key, help)


#: The columns of the workbench's outputs (canonical columns fall back on ``schema``).
COLUMNS: dict[str, Format] = {
    # identifiers and names
    "territoire": _f("Code", width="small", key=True),
    "nom": _f("Nom", width="medium", key=True),
    "commune_insee": _f("Commune (INSEE)", width="small", key=True),
    "commune": _f("Commune", width="medium"),
    "departement": _f("Département", CODE, width="medium"),
    "region": _f("Région", width="small"),
    "epci": _f("EPCI (SIREN)", width="small"),
    "epci_nom": _f("EPCI", width="medium"),
    "finess_eg": _f("FINESS EG", width="small", key=True),
    "finess_ej": _f("FINESS EJ", width="small"),
    "finess": _f("FINESS", width="small", key=True),
    "raison_sociale": _f("Établissement", width="medium", key=True),
    "nom_etablissement": _f("Établissement", width="medium"),
    "uo_id": _f("UO (ROR)", width="small"),
    "vt_id": _f("Unité VT", width="small"),
    "nom_ror": _f("Nom (ROR)", width="medium"),
    "nom_vt": _f("Nom (ViaTrajectoire)", width="medium"),
    "nom_entite": _f("Nom", width="medium"),
    "entite": _f("Entité", width="small"),
    "mention": _f("Mention", CODE, width="medium"),
    "mentions": _f("Mentions", CODE, width="medium"),
    "forme": _f("Forme", CODE, width="medium"),
    "libelle": _f("Libellé", width="large"),
    "statut": _f("Statut", CODE, width="medium"),
    "niveau": _f("Niveau", CODE, width="small"),
    "regle": _f("Point de contrôle", CODE, width="large"),
    "severite": _f("Type", CODE, width="small"),
    "compte_ror": _f("Compte ROR", CODE, width="small"),
    "compte_ror_motif": _f("Constat ROR", width="large"),
    "compte_vt": _f("Habilitation VT", CODE, width="small"),
    "compte_vt_motif": _f("Constat ViaTrajectoire", width="large"),
    "exigence": _f("Exigence", width="small", key=True),
    "changement": _f("Changement", CODE, width="medium"),
    "ecart": _f("Écart", CODE, width="large"),
    "libelle_ecart": _f("Écart", width="large"),
    "correspondance": _f("Correspondance", CODE, width="medium"),
    "evolution": _f("Évolution", CODE, width="small"),
    "libelle_evolution": _f("Évolution", width="small"),
    "action": _f("Action", CODE, width="large"),
    "motif": _f("Motif", width="large"),
    "detail": _f("Détail", width="large"),
    "remarque": _f("Remarque", width="large"),
    "denominateur": _f("Dénominateur", width="medium"),
    "trimestre": _f("Trimestre", width="small"),
    # capacities and counts
    "population": _f("Population", INTEGER),
    "etablissements": _f("Établissements", INTEGER),
    "etablissements_complets": _f("Établissements à jour", INTEGER),
    "unites": _f("Unités", INTEGER),
    "lits": _f("Lits", INTEGER),
    "places": _f("Places", INTEGER),
    "capacite": _f("Lits + places", INTEGER),
    "mentions_presentes": _f("Mentions présentes", INTEGER),
    "conformes": _f("Conformes", INTEGER),
    "manquants": _f("Manquants", INTEGER),
    "invalides": _f("Invalides", INTEGER),
    "reste": _f("À traiter", INTEGER),
    "points": _f("Points", INTEGER),
    "total": _f("Total", INTEGER),
    "perimetre": _f("Périmètre", INTEGER),
    "ecarts": _f("Écarts", INTEGER),
    "non_applicables": _f("Non applicables", INTEGER),
    "rang": _f("Rang", INTEGER, width="small"),
    "a_regarder": _f("À regarder", INTEGER),
    "lignes": _f("Lignes", INTEGER),
    "numero": _f("N°", INTEGER, width="small"),
    "perimetre_vt": _f("Établissements suivis", INTEGER),
    "synchronises": _f("Synchronisés", INTEGER),
    "population_au_dela": _f("Population au-delà du seuil", INTEGER),
    "population_seuil": _f("Population dans le seuil", INTEGER),
    "population_sans_acces": _f("Population sans accès", INTEGER),
    "population_gagnant": _f("Gagnent l'accès", INTEGER),
    "population_perdant": _f("Perdent l'accès", INTEGER),
    "population_dans_seuil_base": _f("Population dans le seuil (actuel)", INTEGER),
    "population_dans_seuil_scenario": _f("Population dans le seuil (scénario)", INTEGER),
    "lus": _f("Lues", INTEGER),
    "conserves": _f("Conservées", INTEGER),
    "rejetes": _f("Rejetées", INTEGER),
    "avertissements": _f("Avertissements", INTEGER),
    "row": _f("Ligne", INTEGER, width="small"),
    "ligne": _f("Ligne", INTEGER, width="small"),
    "cause": _f("Conséquence de", width="medium"),
    # indicators
    "taux": _f("Taux", SHARE, 1),
    "taux_synchronise": _f("Taux synchronisé", SHARE, 1),
    "taux_finalise": _f("Taux de finalisation", SHARE, 1),
    "taux_100k": _f("Pour 100 000 hab.", NUMBER, 1),
    "taux_100k_base": _f("Pour 100 000 hab. (actuel)", NUMBER, 1),
    "taux_100k_scenario": _f("Pour 100 000 hab. (scénario)", NUMBER, 1),
    "delta_taux_100k": _f("Écart pour 100 000 hab.", NUMBER, 2),
    "temps_plus_proche": _f("Temps au plus proche (min)", NUMBER, 1),
    "temps_plus_proche_base": _f("Temps actuel (min)", NUMBER, 1),
    "temps_plus_proche_scenario": _f("Temps scénario (min)", NUMBER, 1),
    "delta_temps_plus_proche": _f("Écart de temps (min)", NUMBER, 2),
    "temps_moyen": _f("Temps moyen (min)", NUMBER, 1),
    "distance_plus_proche": _f("Distance au plus proche (km)", NUMBER, 1),
    "minutes": _f("Minutes", NUMBER, 1),
    "km": _f("km à vol d'oiseau", NUMBER, 1),
    "acces": _f("Accessibilité", NUMBER, 1),
    "acces_e2sfca": _f("Accessibilité E2SFCA", NUMBER, 1),
    "acces_2sfca": _f("Accessibilité 2SFCA", NUMBER, 1),
    "acces_e2sfca_base": _f("E2SFCA actuel", NUMBER, 2),
    "acces_e2sfca_scenario": _f("E2SFCA scénario", NUMBER, 2),
    "delta_acces_e2sfca": _f("Écart E2SFCA", NUMBER, 2),
    "mediane_e2sfca": _f("Médiane E2SFCA", NUMBER, 1),
    "part_seuil": _f("Part dans le seuil", PERCENT, 1),
    "part_au_dela": _f("Part au-delà du seuil", PERCENT, 1),
    "pourcentage": _f("Pourcentage", PERCENT, 1),
    "code_commune": _f("Commune", width="small"),
    "millesime_population": _f("Populations légales", width="small"),
    "fermes_temporairement": _f(
        "Fermés temporairement", INTEGER,
        help="Établissements fermés provisoirement à la date de l'instantané (comptés dans les "
        "chiffres seulement si la case « Inclure les fermetures provisoires » est cochée).",
    ),
    "capacite_fermee_temporairement": _f("Lits + places fermés temporairement", INTEGER),
    # OQOS targets (analysis.oqos)
    "zone": _f("Zone", width="small", key=True),
    "libelle_zone": _f("Libellé de la zone", width="medium", key=True),
    "autorisees": _f("Autorisées", INTEGER),
    "decrites": _f("Décrites (ROR)", INTEGER),
    "demandees": _f("Demandes en attente", INTEGER),
    "min": _f("Minimum", INTEGER),
    "max": _f("Maximum", INTEGER),
    "marge": _f("Marge", INTEGER, help="Maximum − autorisées : implantations encore possibles "
                "(négatif : au-delà du maximum ; vide : pas de maximum)."),
    "libelle_marge": _f("Marge", width="large"),
    "autorisees_avant": _f("Autorisées (actuel)", INTEGER),
    "autorisees_apres": _f("Autorisées (scénario)", INTEGER),
    "statut_avant": _f("Statut (actuel)", CODE, width="medium"),
    "statut_apres": _f("Statut (scénario)", CODE, width="medium"),
    "marge_apres": _f("Marge (scénario)", INTEGER),
    "change": _f("Modifié", BOOLEAN, width="small"),
    "autorisee": _f("Autorisée", BOOLEAN, width="small"),
    "decrite": _f("Décrite", BOOLEAN, width="small"),
    "demandee": _f("Demande en attente", BOOLEAN, width="small"),
    "autorisations": _f("Autorisations", width="medium"),
    "demandes": _f("Demandes", width="small"),
    "demande_id": _f("N° de demande", width="small", key=True),
    "date_depot": _f("Date de dépôt", DATE, width="small"),
    "finess_plus_proche": _f("FINESS le plus proche", width="small"),
    "nom_plus_proche": _f("Établissement le plus proche", width="medium"),
    "finess_plus_proche_base": _f("Plus proche (actuel)", width="small"),
    "finess_plus_proche_scenario": _f("Plus proche (scénario)", width="small"),
    # dates
    "date": _f("Date", DATE, width="small"),
    "date_instantane": _f("Instantané", DATE, width="small"),
    "date_maj": _f("Dernière mise à jour", DATETIME, width="small"),
    "date_maj_ror": _f("Mise à jour ROR", DATETIME, width="small"),
    "date_synchronisation": _f("Dernière synchronisation", DATETIME, width="small"),
    # validation reports
    "table": _f("Table", width="small"),
    "source": _f("Origine", width="small"),
    "column": _f("Colonne", width="small"),
    "value": _f("Valeur", width="medium"),
    "rule": _f("Règle", width="small"),
    "reason": _f("Motif", width="large"),
    "severity": _f("Gravité", CODE, width="small"),
}

_PART_MIN = re.compile(r"^part_(\d+(?:_\d+)?)min$")
_POPULATION_MIN = re.compile(r"^population_(\d+(?:_\d+)?)min$")


def _kind_of(dtype: pl.DataType | None) -> tuple[str, int]:
    if dtype is None:
        return TEXT, 0
    if dtype == pl.Boolean:
        return BOOLEAN, 0
    if dtype.is_integer():
        return INTEGER, 0
    if dtype.is_float() or dtype.is_decimal():
        return NUMBER, 1
    if dtype == pl.Date:
        return DATE, 0
    if isinstance(dtype, pl.Datetime):
        return DATETIME, 0
    return TEXT, 0


def _humanised(name: str) -> str:
    """A header for a column nobody described: « raison_sociale » → « Raison sociale »;
    a name that is already French text stays as it is."""
    if name != name.lower() or " " in name or not re.fullmatch(r"[a-zà-ÿ0-9_]+", name):
        return name
    return name.replace("_", " ").capitalize()


def spec(name: str, dtype: pl.DataType | None = None) -> Format:
    """How the column ``name`` (of type ``dtype``) is shown; see ``Format``."""
    if name in COLUMNS:
        f = COLUMNS[name]
        # a date-time column that holds dates, or a count held as float, keeps its kind
        if f.kind == DATETIME and dtype == pl.Date:
            return replace(f, kind=DATE)
        return f
    m = _PART_MIN.match(name)
    if m:
        return _f(f"Part ≤ {m.group(1).replace('_', ',')} min", PERCENT, 1)
    m = _POPULATION_MIN.match(name)
    if m:
        return _f(f"Population ≤ {m.group(1).replace('_', ',')} min", INTEGER)
    if name.startswith("ratio_mediane"):
        suffix = name.removeprefix("ratio_mediane").strip("_").upper()
        return _f("Ratio à la médiane" + (f" ({suffix})" if suffix else ""), NUMBER, 2)
    kind, decimals = _kind_of(dtype)
    if name in _count_headers():
        return _f(_count_headers()[name], kind if kind != TEXT else INTEGER, decimals)
    if name in _rule_labels():
        return _f(_rule_labels()[name], SHARE if kind == NUMBER else kind, 1)
    label = _schema_label(name) or _note_label(name) or _humanised(name)
    if name.startswith("date") and kind == TEXT:
        kind = DATE
    return _f(label, kind, decimals)


@functools.cache
def _schema_labels() -> dict[str, str]:
    from analysis import schema

    out: dict[str, str] = {}
    for table in schema.TABLES.values():
        for c in table.columns:
            if c.label and c.name not in out:
                out[c.name] = c.label
    return out


def _schema_label(name: str) -> str | None:
    return _schema_labels().get(name)


def _note_label(name: str) -> str | None:
    from analysis import methods

    try:
        return methods.note(name).label
    except KeyError:
        return None


def headers(columns: list[str], schema: Mapping[str, pl.DataType] | None = None,
            overrides: Mapping[str, Format] | None = None) -> dict[str, str]:
    """Column → French header, made unique (a repeated header gets its code in brackets)."""
    overrides = overrides or {}
    out: dict[str, str] = {}
    seen: set[str] = set()
    for c in columns:
        f = overrides.get(c) or spec(c, (schema or {}).get(c))
        label = f.label
        if label in seen:
            label = f"{label} ({c})"
        seen.add(label)
        out[c] = label
    return out


def specs(df: pl.DataFrame, overrides: Mapping[str, Format] | None = None) -> dict[str, Format]:
    """``spec`` of every column of ``df``; a date-time column holding only midnights is a
    date column (« time only where it means something »)."""
    overrides = overrides or {}
    out = {}
    for c, t in df.schema.items():
        f = overrides.get(c) or spec(c, t)
        if f.kind == DATETIME and isinstance(t, pl.Datetime):
            times = df.get_column(c).drop_nulls()
            if times.len() == 0 or (times.dt.truncate("1d") == times).all():
                f = replace(f, kind=DATE)
        if f.kind in NUMERIC_KINDS and not t.is_numeric():
            f = replace(f, kind=TEXT)  # a text column with a numeric name stays text
        out[c] = f
    return out


# ------------------------------------------------------------------------------ frames


def _code_expr(name: str, col: pl.Expr) -> pl.Expr:
    """French labels of a code column (unknown codes stay as they are)."""
    text = col.cast(pl.String)
    if name == "departement":
        return text.replace(
            {**{c: f"{n} ({c})" for c, n in DEPARTEMENTS.items()}, **DEPARTEMENT_SPECIAL}
        )
    if name in ("mention", "mentions"):
        from analysis import nomenclature

        short = {m.code: m.court for m in nomenclature.MENTIONS}
        return (
            text.str.split("|")
            .list.eval(pl.element().str.strip_chars().replace(short))
            .list.join(" ou ")
        )
    labels = code_labels().get(name)
    if not labels:
        return text
    return text.replace(labels)


#: Label columns made redundant by the labels given to a code column (one label per mention).
REDUNDANT: dict[str, tuple[str, ...]] = {
    "mention": ("libelle", "libelle_mention", "court"),
    "mentions": ("libelle_mentions",),
    "ecart": ("libelle_ecart",),
    "evolution": ("libelle_evolution",),
    "statut": ("libelle_statut",),
}


def without_redundant(df: pl.DataFrame, overrides: Mapping[str, Format] | None = None,
                      keep: tuple[str, ...] = ()) -> pl.DataFrame:
    """``df`` without the label columns its code columns make redundant (``REDUNDANT``: the
    legal ``libelle`` beside ``mention``…), except those listed in ``keep``."""
    overrides = overrides or {}
    drop = [
        c for code, extras in REDUNDANT.items()
        if code in df.columns and (overrides.get(code) or spec(code)).kind == CODE
        for c in extras if c in df.columns and c not in keep
    ]
    return df.drop(drop) if drop else df


def code_formatters(df: pl.DataFrame, overrides: Mapping[str, Format] | None = None
                    ) -> dict[str, dict[Any, str]]:
    """Code column → {code: French label} for the values present in ``df``."""
    fmts = specs(df, overrides)
    out = {}
    for c, f in fmts.items():
        if f.kind != CODE:
            continue
        values = df.get_column(c).drop_nulls().unique()
        labels = pl.DataFrame({c: values}).select(_code_expr(c, pl.col(c)))[c]
        out[c] = dict(zip(values.to_list(), labels.to_list(), strict=True))
    return out


def labelled(df: pl.DataFrame, overrides: Mapping[str, Format] | None = None,
             keep: tuple[str, ...] = ()) -> pl.DataFrame:
    """``df`` with its codes turned into French labels (mentions, départements, statuses…)
    and booleans into « oui » / « non »; numbers and dates keep their type. Label columns
    made redundant (``REDUNDANT``: the legal ``libelle`` beside ``mention``…) are dropped
    unless listed in ``keep``."""
    df = without_redundant(df, overrides, keep)
    fmts = specs(df, overrides)
    exprs = []
    for c, f in fmts.items():
        if f.kind == CODE:
            exprs.append(_code_expr(c, pl.col(c)).alias(c))
        elif f.kind == BOOLEAN and df.schema[c] == pl.Boolean:
            exprs.append(
                pl.when(pl.col(c)).then(pl.lit("oui")).when(pl.col(c).not_()).then(pl.lit("non"))
                .otherwise(None).alias(c)
            )
    return df.with_columns(exprs) if exprs else df


def cell(value: Any, f: Format) -> str:
    """One value as shown on a page or in the report (``f``: the column's ``Format``)."""
    if _missing(value) or (isinstance(value, str) and value == ""):
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


def _map(series: pl.Series, fn) -> pl.Series:
    return pl.Series(series.name, [fn(v) for v in series.to_list()], dtype=pl.String)


def text_frame(df: pl.DataFrame, overrides: Mapping[str, Format] | None = None,
               header: bool = True) -> pl.DataFrame:
    """``df`` as it reads on a page: labels for codes, every cell formatted as French text
    (« — » when empty), French headers when ``header``."""
    out = labelled(df, overrides)
    fmts = specs(out, overrides)
    cols = [_map(out.get_column(c), functools.partial(cell, f=f)) for c, f in fmts.items()]
    frame = pl.DataFrame(cols) if cols else out
    return frame.rename(headers(out.columns, out.schema, overrides)) if header else frame


def _spreadsheet_number(value: Any, decimals: int) -> str | None:
    if _missing(value):
        return None
    if isinstance(value, float) and math.isinf(value):
        return None
    return _grouped(value, decimals, "")


def excel_csv_frame(df: pl.DataFrame, overrides: Mapping[str, Format] | None = None
                    ) -> pl.DataFrame:
    """``df`` for « CSV pour Excel »: French headers, labels for codes, numbers rounded as
    displayed with a decimal comma and no thousands separator, rates as percentages (header
    « (%) »), dates ``JJ/MM/AAAA``; empty cells stay empty."""
    out = labelled(df, overrides)
    fmts = specs(out, overrides)
    cols, names = [], {}
    heads = headers(out.columns, out.schema, overrides)
    for c, f in fmts.items():
        s = out.get_column(c)
        name = heads[c]
        if f.kind in (INTEGER, NUMBER):
            d = 0 if f.kind == INTEGER else f.decimals
            s = _map(s, functools.partial(_spreadsheet_number, decimals=d))
        elif f.kind in (SHARE, PERCENT):
            scale = 100 if f.kind == SHARE else 1
            s = _map(s, lambda v, k=scale, d=f.decimals: _spreadsheet_number(
                None if _missing(v) else v * k, d))
            name = f"{name} (%)"
        elif f.kind == DATE:
            s = _map(s, lambda v: None if _missing(v) else date(v))
        elif f.kind == DATETIME:
            s = _map(s, lambda v: None if _missing(v) else datetime(v))
        elif s.dtype != pl.String:
            s = s.cast(pl.String) if not s.dtype.is_nested() else _map(s, str)
        cols.append(s)
        names[c] = name
    frame = pl.DataFrame(cols) if cols else out
    return frame.rename(names)


def parse_csv_excel_number(text: str | None) -> float | None:
    """A number as « CSV pour Excel » writes it (decimal comma) read back; None when empty."""
    if text is None or text.strip() == "":
        return None
    return float(text.replace(NNBSP, "").replace(" ", "").replace(",", "."))
