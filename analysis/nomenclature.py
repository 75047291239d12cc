"""SMR nomenclature: mentions, modalities, forms of care, old SSR activities.

Codes come from the NOS tables named in ``reference/DOMAIN.md``: TRE_R383 (SMR mentions),
TRE_R244 / JDV_J238 (ROR type d'offre 100–112), TRE_R213 (mode de prise en charge),
TRE_R274 (old SSR activities 50–59), TRE_R275 (modalities), TRE_R276 (forms of activity).
The SSR → SMR correspondence is a *proposal* (not an official table): it is data here, so
it can be edited, and ambiguous cases are flagged rather than guessed.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass


@dataclass(frozen=True)
class Mention:
    """One SMR mention (CSP R6123-121) with its NOS and ROR codes."""

    code: str  # TRE_R383, e.g. "ME050"
    libelle: str  # legal label
    court: str  # short label for charts and tables
    type_offre: str  # ROR type d'offre (TRE_R244), "100".."112"
    modalite: str | None = None  # "pediatrie" or "cancers" for the two modalities
    rarete: str = "courante"  # used by the demo: courante / moyenne / rare


MENTIONS: tuple[Mention, ...] = (
    Mention("ME050", "Polyvalent", "Polyvalent", "100"),
    Mention("ME059", "Gériatrie", "Gériatrie", "101"),
    Mention("ME051", "Locomoteur", "Locomoteur", "102"),
    Mention("ME052", "Système nerveux", "Système nerveux", "103"),
    Mention("ME053", "Cardio-vasculaire", "Cardio-vasculaire", "104", rarete="moyenne"),
    Mention("ME054", "Pneumologie", "Pneumologie", "105", rarete="moyenne"),
    Mention(
        "ME055",
        "Système digestif, endocrinologie, diabétologie, nutrition",
        "Digestif, endocrino., nutrition",
        "106",
        rarete="moyenne",
    ),
    Mention("ME057", "Brûlés", "Brûlés", "107", rarete="rare"),
    Mention("ME058", "Conduites addictives", "Conduites addictives", "108", rarete="moyenne"),
    Mention(
        "ME060",
        "Enfants et adolescents",
        "Pédiatrie (≥ 4 ans)",
        "109",
        modalite="pediatrie",
        rarete="rare",
    ),
    Mention(
        "ME061",
        "Jeunes enfants, enfants et adolescents",
        "Pédiatrie (tous âges)",
        "110",
        modalite="pediatrie",
        rarete="rare",
    ),
    Mention("ME062", "Oncologie", "Oncologie", "111", modalite="cancers", rarete="moyenne"),
    Mention(
        "ME056",
        "Oncologie et hématologie",
        "Onco-hématologie",
        "112",
        modalite="cancers",
        rarete="rare",
    ),
)

MENTION_BY_CODE: dict[str, Mention] = {m.code: m for m in MENTIONS}
MENTION_BY_TYPE_OFFRE: dict[str, Mention] = {m.type_offre: m for m in MENTIONS}
PEDIATRIC_MENTIONS: frozenset[str] = frozenset(
    m.code for m in MENTIONS if m.modalite == "pediatrie"
)
CANCER_MENTIONS: frozenset[str] = frozenset(m.code for m in MENTIONS if m.modalite == "cancers")
GERIATRIC_MENTIONS: frozenset[str] = frozenset({"ME059"})
BURNS_MENTION = "ME057"

MODALITES = {
    "pediatrie": "Modalité pédiatrie",
    "cancers": "Modalité cancers",
}

# Age rules (CSP R6123-121 II–V). Kept as named defaults so that callers can override them.
MINOR_AGE = 18  # under this age a patient is a minor (pediatric)
YOUNG_CHILD_AGE = 4  # under this age only ME061 may treat (6 under the old SSR rules)
MINOR_EXCEPTION_AGE = 16  # any SMR holder may treat a minor from this age (with consent)


@dataclass(frozen=True)
class Forme:
    """A form of care at offer level (ROR mode de prise en charge, TRE_R213)."""

    code: str  # short code used in the canonical tables
    libelle: str
    nos: str  # TRE_R213 code
    capacite: str  # "lits" or "places": which capacity column it fills


FORMES: tuple[Forme, ...] = (
    Forme("HC", "Hospitalisation complète", "28", "lits"),
    Forme("HS", "Hospitalisation de semaine", "34", "lits"),
    Forme("HJ", "Hospitalisation de jour", "29", "places"),
    Forme("HN", "Hospitalisation de nuit", "30", "places"),
    Forme("CS", "Consultation ou séance", "32", "places"),
    Forme("AMB", "Soins externes et traitements ambulatoires", "20", "places"),
    Forme("EM", "Équipe mobile", "11", "places"),
)
FORME_BY_CODE: dict[str, Forme] = {f.code: f for f in FORMES}
FORME_BY_NOS: dict[str, Forme] = {f.nos: f for f in FORMES}

#: Forms of activity on authorisations (TRE_R276, JDV_J134).
FORMES_AUTORISATION: dict[str, str] = {
    "00": "Pas de forme",
    "01": "Hospitalisation complète",
    "02": "Hospitalisation à temps partiel de jour ou de nuit",
    "03": "Hospitalisation à temps partiel de jour",
    "04": "Hospitalisation à temps partiel de nuit",
    "05": "Hospitalisation à domicile",
    "06": "Anesthésie ambulatoire",
    "07": "Chirurgie ambulatoire",
    "08": "Consultation extérieure indifférenciée",
    "09": "Placement familial thérapeutique",
}
HAD_FORME_AUTORISATION = "05"

#: Old SSR activities (TRE_R274 ActiviteSanitaireRegulee 50–59).
ACTIVITES_SSR: dict[str, str] = {
    "50": "SSR non spécialisés",
    "51": "SSR spécialisés – affections de l'appareil locomoteur",
    "52": "SSR spécialisés – affections du système nerveux",
    "53": "SSR spécialisés – affections cardio-vasculaires",
    "54": "SSR spécialisés – affections respiratoires",
    "55": "SSR spécialisés – affections des systèmes digestif, métabolique et endocrinien",
    "56": "SSR spécialisés – affections onco-hématologiques",
    "57": "SSR spécialisés – affections des brûlés",
    "58": "SSR spécialisés – affections liées aux conduites addictives",
    "59": "SSR spécialisés – affections de la personne âgée polypathologique, dépendante "
    "ou à risque de dépendance",
}

#: Age modalities of old authorisations (TRE_R275).
MODALITES_AUTORISATION: dict[str, str] = {
    "00": "Pas de modalité",
    "09": "Adulte (âge ≥ 18 ans)",
    "10": "Pédiatrique",
    "76": "Adulte et pédiatrique",
    "77": "Enfant (< 6 ans)",
    "78": "Juvénile (≥ 6 et < 18 ans)",
    "79": "Pédiatrie – âges non différenciés",
}
PEDIATRIC_MODALITES = frozenset({"10", "77", "78", "79"})

#: Proposed SSR activity → SMR mention(s) [inferred, DOMAIN.md §1.6]. Several candidates
#: mean the new decision must say which: the mapping flags it instead of choosing.
SSR_TO_SMR: dict[str, tuple[str, ...]] = {
    "50": ("ME050",),
    "51": ("ME051",),
    "52": ("ME052",),
    "53": ("ME053",),
    "54": ("ME054",),
    "55": ("ME055",),
    "56": ("ME062", "ME056"),
    "57": ("ME057",),
    "58": ("ME058",),
    "59": ("ME059",),
}

#: Every code list a column may be checked against (see ``schema.Column.codes``).
CODE_LISTS: dict[str, dict[str, str]] = {
    "mention": {m.code: m.libelle for m in MENTIONS},
    "forme": {f.code: f.libelle for f in FORMES},
    "forme_autorisation": FORMES_AUTORISATION,
    "activite_ssr": ACTIVITES_SSR,
    "modalite": MODALITES_AUTORISATION,
    "statut": {
        "public": "Public",
        "prive_non_lucratif": "Privé non lucratif",
        "prive_lucratif": "Privé lucratif",
    },
    "discipline": {"SSR": "SSR (ancien régime)", "SMR": "SMR"},
    "regime": {"SSR": "SSR (avant le 1er juin 2023)", "SMR": "SMR"},
}


def _fold(text: str) -> str:
    """Lower-case, accent-free, single-spaced text for tolerant label matching."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return " ".join(text.lower().replace("-", " ").split())


def mention_code(value: str) -> str:
    """The mention code for a code (``ME050``), a ROR type d'offre (``100``) or a label.

    Labels match without regard to case or accents (``geriatrie`` → ``ME059``). Raises
    ``KeyError`` with the list of valid codes when nothing matches.
    """
    text = value.strip()
    if text.upper() in MENTION_BY_CODE:
        return text.upper()
    if text in MENTION_BY_TYPE_OFFRE:
        return MENTION_BY_TYPE_OFFRE[text].code
    folded = _fold(text)
    for m in MENTIONS:
        if folded in (_fold(m.libelle), _fold(m.court)):
            return m.code
    valid = ", ".join(f"{m.code} ({m.libelle})" for m in MENTIONS)
    raise KeyError(f"mention inconnue « {value} » ; mentions valides : {valid}")


def mention_label(code: str, short: bool = False) -> str:
    """French label of a mention code (the code itself when unknown)."""
    m = MENTION_BY_CODE.get(code)
    if m is None:
        return code
    return m.court if short else m.libelle
