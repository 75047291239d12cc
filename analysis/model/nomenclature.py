"""SMR nomenclature: mentions, modalities, forms of care, old SSR activities.

Codes come from the NOS tables named in ``reference/DOMAIN.md``: TRE_R383 (SMR mentions),
TRE_R244 / JDV_J238 (ROR type d'offre 100–112), TRE_R213 (mode de prise en charge),
TRE_R274 (old SSR activities 50–59), TRE_R275 (modalities), TRE_R276 (forms of activity).
The SSR → SMR correspondence is a *proposal* (not an official table): it is data here, so
it can be edited, and ambiguous cases are flagged rather than guessed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from analysis.model.text import fold


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
#: (folded legal label, folded short label, code) of each mention, in ``MENTIONS`` order.
_FOLDED_LABELS: tuple[tuple[str, str, str], ...] = tuple(
    (fold(m.libelle), fold(m.court), m.code) for m in MENTIONS
)
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
#: The ``forme`` value that stands for every form of care (a filter that keeps them all, the
#: rows that aggregate them: an establishment counts once, an OQOS target on every forme).
ALL_FORMES = "toutes"
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

#: --- The FINESS « Activités » flow (data.gouv JSON, ``ansforge/finess``) -------------------
#:
#: Each activity of the flow has a ``nature.codeNature`` and keeps its codes in
#: ``nature.caracteristiquesSpecifiques.typeActivite<nature>``. The table below says, for every
#: nature of the published schema (``flux/out/data.gouv/activite/schema/
#: schema-activites-v1-0-1.json``), which keys hold the activity, modality, form and mention
#: codes, and which regime they can give. The old SSR authorisations are TRE_R274 activities
#: 50–59 (natures carrying ``activiteSanitaireRegulee`` or ``activiteAMF``: AASA, ASR, AMF);
#: the new SMR authorisations are ``AMM`` activities whose ``mentionAMM`` (TRE_R383) is an
#: SMR mention (``MENTION_BY_CODE``) [inferred: no SMR row of a real file was read, so
#: ``SMR_ACTIVITES_AMM`` is left empty — any activity with an SMR mention counts; fill it
#: with the TRE_R381 codes of SMR once known to be stricter]. Other natures are médico-social,
#: equipment, teaching or sanitary « diverses » activities, ignored. Spellings: the schema
#: v1.0.1 writes ``AMSR`` and ``ASR``, its first version and the national example file write
#: ``ASMR`` and ``ASRC``; both are read. Pass another table to ``load_finess(natures=…)`` when
#: the flow changes.


@dataclass(frozen=True)
class NatureActivite:
    """Where one nature of the FINESS « Activités » flow keeps its codes, and what it gives."""

    code: str  # codeNature as schema v1.0.1 writes it
    libelle: str
    spellings: tuple[str, ...] = ()  # other spellings read as this nature
    activite: str | None = None  # key of the activity code in typeActivite<nature>
    modalite: str | None = None
    forme: str | None = None
    mention: str | None = None
    regime: str | None = None  # "SSR": activities 50–59 are SSR; "SMR": SMR mentions; None


NATURES_ACTIVITE: tuple[NatureActivite, ...] = (
    NatureActivite("AASA", "autre activité de soins soumise à autorisation",
                   activite="activiteSanitaireRegulee", modalite="modaliteActivite",
                   forme="formeActivite", regime="SSR"),
    NatureActivite("ASR", "activité soumise à reconnaissance", ("ASRC",),
                   activite="activiteSanitaireRegulee", modalite="modaliteActivite",
                   forme="formeActivite", regime="SSR"),
    NatureActivite("AMF", "activité de soins (activité, modalité, forme : ancien régime)",
                   activite="activiteAMF", modalite="modaliteActivite", forme="formeActivite",
                   regime="SSR"),
    NatureActivite("AMM", "activité de soins (activité, modalité, mention : réforme)",
                   activite="activiteAMM", modalite="modaliteAMM", mention="mentionAMM",
                   regime="SMR"),
    NatureActivite("AMSR", "activité médico-sociale régulée", ("ASMR",),
                   activite="activiteSocialeRegulee", modalite="modeFonctionnement",
                   forme="public"),
    NatureActivite("ASOCR", "activité sociale régulée", activite="activiteSocialeRegulee",
                   modalite="modeFonctionnement", forme="public"),
    NatureActivite("ASDR", "activité sanitaire diverse régulée",
                   activite="activiteSanitaireDiverseRegulee", modalite="modeFonctionnement",
                   forme="public"),
    NatureActivite("AER", "activité d'enseignement régulée",
                   activite="activiteEnseignementRegulee", modalite="modeFonctionnement",
                   forme="public"),
    NatureActivite("EML", "équipement matériel lourd", activite="typeEmlId"),
)  # fmt: skip
#: TRE_R381 activity codes that are SMR, when known (empty: the mention alone decides).
SMR_ACTIVITES_AMM: frozenset[str] = frozenset()


def nature_activite(
    code: str | None, natures: Iterable[NatureActivite] = NATURES_ACTIVITE
) -> NatureActivite | None:
    """The nature a ``codeNature`` stands for, whatever its spelling (``ASMR`` → AMSR)."""
    text = (code or "").strip().upper()
    for nature in natures:
        if text == nature.code or text in nature.spellings:
            return nature
    return None


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
    "origine_mention": {
        "type_offre": "Type d'offre ROR (100–112)",
        "activite": "Déduite des activités opérationnelles (à confirmer par l'autorisation)",
        "defaut": "Par défaut : polyvalent (rien de plus précis)",
    },
}


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
    folded = fold(text)
    for libelle, court, code in _FOLDED_LABELS:
        if folded in (libelle, court):
            return code
    valid = ", ".join(f"{m.code} ({m.libelle})" for m in MENTIONS)
    raise KeyError(f"mention inconnue « {value} » ; mentions valides : {valid}")


def mention_label(code: str, short: bool = False) -> str:
    """French label of a mention code (the code itself when unknown)."""
    m = MENTION_BY_CODE.get(code)
    if m is None:
        return code
    return m.court if short else m.libelle


# --- lenient matching of codes and labels found in exports ---------------------------------

#: Prefixes of ROR type d'offre labels (JDV_J238) removed before matching a mention label.
_MENTION_PREFIXES = (
    "soins medicaux et de readaptation (smr)",
    "soins medicaux et de readaptation",
    "smr",
)
#: JDV_J238 wordings that differ from the legal labels (§1.2), folded.
_MENTION_ALIASES = {
    "pediatriques (enfants et adolescents)": "ME060",
    "pediatrique (enfants et adolescents)": "ME060",
    "pediatriques (jeunes enfants, enfants et adolescents)": "ME061",
    "pediatrique (jeunes enfants, enfants et adolescents)": "ME061",
    "oncologie et hematologie": "ME056",
    "onco hematologie": "ME056",
    "digestif, endocrinologie, diabetologie, nutrition": "ME055",
    "systeme digestif, endocrinologie, diabetologie et nutrition": "ME055",
    "cardiovasculaire": "ME053",
    "geriatrique": "ME059",
}


def find_mention(value: str) -> str | None:
    """Mention code of a code, a ROR type d'offre or a label as written in exports; else None.

    Accepts what ``mention_code`` accepts plus the ROR wording (« SMR locomoteur »,
    « Soins Médicaux et de Réadaptation (SMR) pédiatriques (enfants et adolescents) »).
    """
    text = value.strip()
    if not text:
        return None
    try:
        return mention_code(text)
    except KeyError:
        pass
    folded = fold(text)
    for prefix in _MENTION_PREFIXES:
        if folded.startswith(prefix + " "):
            folded = folded[len(prefix) + 1 :].strip()
            break
    if folded in _MENTION_ALIASES:
        return _MENTION_ALIASES[folded]
    for libelle, court, code in _FOLDED_LABELS:
        if folded in (libelle, court):
            return code
    return None


def find_forme(value: str) -> str | None:
    """Forme code of a code (``HC``), a ROR mode de prise en charge (``28``) or a label; else None.

    Labels match without regard to case or accents; a short code in brackets wins
    (« Hospitalisation de jour (HJ) » → ``HJ``).
    """
    text = value.strip()
    if not text:
        return None
    if text.upper() in FORME_BY_CODE:
        return text.upper()
    if text.isdigit() and text.zfill(2) in FORME_BY_NOS:
        return FORME_BY_NOS[text.zfill(2)].code
    bracket = re.search(r"\(([A-Za-z]{2,3})\)", text)
    if bracket and bracket.group(1).upper() in FORME_BY_CODE:
        return bracket.group(1).upper()
    folded = fold(text)
    for f in FORMES:
        if folded == fold(f.libelle):
            return f.code
    return None


# --- legal status --------------------------------------------------------------------------

STATUT_RULES_NOTE = (
    "Statut déduit [inferred] : agrégat de statut juridique FINESS commençant par 1 → public, "
    "21 → privé non lucratif, 22 → privé lucratif ; sinon libellé contenant « public », "
    "« non lucratif » / « intérêt collectif » / « PSPH », ou « commercial » / « lucratif » ; "
    "sinon inconnu (vide)."
)


def statut_from_legal_status(code: str | None = None, label: str | None = None) -> str | None:
    """Canonical ``statut`` of a FINESS legal-status aggregate code or label; None when unknown.

    The rule is our own reading [inferred] (see ``STATUT_RULES_NOTE``): aggregate codes
    starting ``1`` are public bodies, ``21`` private non-profit, ``22`` private commercial.
    Anything else (natural persons, foreign bodies, unknown codes) stays unknown rather
    than guessed.
    """
    digits = (code or "").strip()
    if digits.isdigit():
        if digits.startswith("1"):
            return "public"
        if digits.startswith("21"):
            return "prive_non_lucratif"
        if digits.startswith("22"):
            return "prive_lucratif"
    folded = fold(label or "")
    if not folded:
        return None
    if "non lucratif" in folded or "interet collectif" in folded or (
        "psph" in folded and "non psph" not in folded
    ):
        return "prive_non_lucratif"
    if "commercial" in folded or "lucratif" in folded:
        return "prive_lucratif"
    if "public" in folded and "prive" not in folded:
        return "public"
    return None


# --- SMR mention from ROR activités opérationnelles (DOMAIN.md §2.6) -----------------------

#: TRE_R211 activité opérationnelle → ROR type d'offre (100–112) [inferred, DOMAIN.md §2.6].
ACTIVITE_TYPE_OFFRE: dict[str, str] = {
    "172": "100",
    "241": "101",
    "233": "102",
    "513": "102",
    "234": "103",
    "516": "103",
    "517": "103",
    "518": "103",
    "519": "103",
    "235": "104",
    "514": "104",
    "236": "105",
    "515": "105",
    "237": "106",
    "520": "106",
    "239": "107",
    "240": "108",
    "521": "108",
    "523": "111",
    "238": "112",
}
#: Closed TRE_R211 codes → their successor (accepted on input, mapped first).
ACTIVITES_FERMEES: dict[str, str] = {
    "456": "233",
    "458": "235",
    "459": "234",
    "460": "237",
    "461": "238",
    "462": "236",
    "463": "239",
    "464": "245",
    "171": "172",
    "173": "245",
    "176": "239",
    "331": "076",
}
#: Expertise codes: no mention of their own; polyvalent only when nothing more specific.
ACTIVITES_EXPERTISE: frozenset[str] = frozenset(
    {"243", "244", "245", "246", "247", "248", "465", "531", "532"}
)
#: Generic codes: not an SMR signal on their own (rule 2); polyvalent when nothing else.
ACTIVITES_GENERIQUES: frozenset[str] = frozenset({"283", "090", "076", "416"})
#: Codes whose mention depends on the patientèle: pediatric for minors, else this type d'offre
#: (None: no mention of its own for adults, like an expertise code).
ACTIVITES_SELON_AGE: dict[str, str | None] = {"522": "103", "524": None, "242": "100"}
#: Codes that make an offer SMR without a type d'offre (rule 2: generic codes excluded).
ACTIVITES_SMR: frozenset[str] = (
    frozenset(ACTIVITE_TYPE_OFFRE) | ACTIVITES_EXPERTISE | frozenset(ACTIVITES_SELON_AGE)
)
#: Champ d'activité (TRE_R227) of SMR offers.
CHAMP_SMR = "02"


@dataclass(frozen=True)
class MentionDerivation:
    """Outcome of the §2.6 rule for one offer.

    ``mentions`` holds one code when the mention is known, several when the activities
    disagree (the offer is flagged, nothing is chosen), none when the offer is not SMR.
    ``origine`` is ``type_offre``, ``activite`` or ``defaut``; ``notes`` are French remarks
    for the validation report; ``expertise`` lists activity codes kept as tags.
    """

    mentions: tuple[str, ...]
    origine: str | None
    notes: tuple[str, ...] = ()
    expertise: tuple[str, ...] = field(default=())

    @property
    def is_smr(self) -> bool:
        return bool(self.mentions)


def _pediatric_mention(age_low: float | None) -> str:
    """ME060 (type 109) from 4 years, ME061 (type 110) below or when the lower bound is unknown."""
    return "ME060" if age_low is not None and age_low >= YOUNG_CHILD_AGE else "ME061"


def derive_mention(
    types_offre: Iterable[str] = (),
    champs: Iterable[str] = (),
    activites: Iterable[str] = (),
    age_low: float | None = None,
    age_high: float | None = None,
) -> MentionDerivation:
    """SMR mention(s) of a ROR offer by the loader rule of DOMAIN.md §2.6 [inferred].

    ``types_offre`` are TRE_R244 codes (``category``), ``champs`` TRE_R227 codes (``type``),
    ``activites`` TRE_R211 codes (``specialty``), ages in years. A type d'offre 100–112 always
    wins; otherwise the offer is SMR when its champ is 02 or an SMR activity is present, and
    the mention comes from the activities (closed codes mapped to their successor first, a
    minors-only patientèle giving the pediatric mention). Several distinct mentions are all
    returned, never one picked silently.
    """
    minors = age_high is not None and age_high < MINOR_AGE
    given = [MENTION_BY_TYPE_OFFRE[t].code for t in types_offre if t in MENTION_BY_TYPE_OFFRE]
    if given:
        mentions = tuple(dict.fromkeys(given))
        notes = []
        if minors and not set(mentions) & PEDIATRIC_MENTIONS:
            notes.append(
                f"patientèle réservée aux mineurs (âge max {age_high:g} ans) avec une mention "
                "adulte : à vérifier (exception des 16 ans ou brûlés avec convention ?)"
            )
        return MentionDerivation(mentions, "type_offre", tuple(notes))

    codes = [ACTIVITES_FERMEES.get(c, c) for c in activites]
    closed = [c for c in activites if c in ACTIVITES_FERMEES]
    smr = any(c in ACTIVITES_SMR for c in codes) or any(c == CHAMP_SMR for c in champs)
    if not smr:
        return MentionDerivation((), None)
    notes = [
        f"activité fermée {c} lue comme {ACTIVITES_FERMEES[c]}" for c in dict.fromkeys(closed)
    ]
    specific: dict[str, str] = {}
    low_priority: list[str] = []
    for code in dict.fromkeys(codes):
        if code in ACTIVITES_SELON_AGE:
            target = ACTIVITES_SELON_AGE[code]
            if target is None or code == "242":
                low_priority.append(code)
            elif not minors:
                specific[code] = MENTION_BY_TYPE_OFFRE[target].code
        elif code == "172" or code in ACTIVITES_EXPERTISE or code in ACTIVITES_GENERIQUES:
            low_priority.append(code)
        elif code in ACTIVITE_TYPE_OFFRE:
            specific[code] = MENTION_BY_TYPE_OFFRE[ACTIVITE_TYPE_OFFRE[code]].code
    expertise = tuple(c for c in low_priority if c != "172")
    signal = bool(specific) or "172" in low_priority or bool(expertise)
    if minors:
        mention = _pediatric_mention(age_low)
        notes.append(
            f"patientèle réservée aux mineurs (âge {'?' if age_low is None else f'{age_low:g}'}"
            f"–{age_high:g} ans) : mention pédiatrique {mention}"
        )
        return MentionDerivation(
            (mention,), "activite" if signal else "defaut", tuple(notes), expertise
        )
    distinct = tuple(dict.fromkeys(specific.values()))
    if len(distinct) > 1:
        detail = ", ".join(f"{c} → {m}" for c, m in specific.items())
        notes.append(f"activités de mentions différentes ({detail}) : mention à préciser")
        return MentionDerivation(distinct, "activite", tuple(notes), expertise)
    if distinct:
        return MentionDerivation(distinct, "activite", tuple(notes), expertise)
    origine = "activite" if "172" in low_priority else "defaut"
    return MentionDerivation(("ME050",), origine, tuple(notes), expertise)


# --- ROR quality requirements (ROR_QUALITY.md, ANS BI rules) -------------------------------

#: Champ d'activité of an offer (TRE_R227 / JDV_J20, DOMAIN.md §2.2).
CHAMPS_ACTIVITE: dict[str, str] = {
    "01": "MCO",
    "02": "Soins médicaux et de réadaptation (SMR)",
    "03": "Psychiatrie",
    "04": "Médico-social",
    "05": "Ville",
    "06": "Social",
}
#: Closure types of the ROR (CodeNOS_TypeFermeture): provisional or definitive.
FERMETURE_PROVISOIRE, FERMETURE_DEFINITIVE = "PRO", "DEF"
TYPES_FERMETURE: dict[str, str] = {
    FERMETURE_PROVISOIRE: "Fermeture provisoire",
    FERMETURE_DEFINITIVE: "Fermeture définitive",
}
#: FINESS closure types that end the follow-up of an establishment (ROR_QUALITY.md §5:
#: DEF, ERR, NDI, CHP, EML); only DEF and PRO have a known meaning, the others are kept as
#: written in FINESS [labels unverified].
TYPES_FERMETURE_FINESS_FIN: frozenset[str] = frozenset({"DEF", "ERR", "NDI", "CHP", "EML"})
#: EG categories of the « Sanitaire » domain (J55, DOMAIN.md §4.3, verified): the SMR
#: population target only counts these.
CATEGORIES_SANITAIRES: frozenset[str] = frozenset(
    {
        "101", "106", "109", "114", "122", "127", "128", "129", "131", "141", "146", "156",
        "161", "292", "355", "362", "365", "366", "412", "415", "425", "430", "444", "696",
        "697", "698",
    }
)  # fmt: skip
#: Ville categories outside the CO4, RE1.2 and ST3 scopes (ROR_QUALITY.md §2).
CATEGORIES_VILLE_SA: frozenset[str] = frozenset({"SA05", "SA07", "SA08", "SA09"})
#: FINESS EG categories whose ROR ↔ ViaTrajectoire sync is not followed (ROR_QUALITY.md §5,
#: « 34 listed categories », read from the ANS view V_DIM_SynchroRORVT).
CATEGORIES_SYNCHRO_NON_SUIVIES: frozenset[str] = frozenset(
    {
        "463", "340", "359", "214", "165", "180", "219", "258", "403", "442", "464", "461",
        "462", "124", "132", "126", "294", "213", "347", "439", "433", "695", "699", "422",
        "230", "268", "603", "197", "228", "606", "696", "697", "190", "354",
    }
)  # fmt: skip
#: Domicile categories (SI APA) handled by a separate branch of the national sync report.
CATEGORIES_DOMICILE: frozenset[str] = frozenset({"209", "460"})
#: Département left out of the FINESS perimeter (Saint-Pierre-et-Miquelon).
DEPARTEMENT_EXCLU = "975"
#: Authorisations ending on or after this day count: the reform extended them automatically.
AUTORISATION_FIN_MIN = "2021-05-01"

#: Activités opérationnelles (TRE_R211) an SMR offer may carry, active codes of DOMAIN.md §2.6.
ACTIVITES_OPERATIONNELLES_SMR: frozenset[str] = (
    frozenset(ACTIVITE_TYPE_OFFRE)
    | {"172"}
    | ACTIVITES_EXPERTISE
    | frozenset(ACTIVITES_SELON_AGE)
    | ACTIVITES_GENERIQUES
)
#: Activité opérationnelle proposed for each mention (inverse of ``ACTIVITE_TYPE_OFFRE``,
#: first code of each type d'offre; pediatric mentions take the generic 172) [inferred].
ACTIVITE_DE_MENTION: dict[str, str] = {
    "ME050": "172", "ME059": "241", "ME051": "233", "ME052": "234", "ME053": "235",
    "ME054": "236", "ME055": "237", "ME057": "239", "ME058": "240", "ME060": "172",
    "ME061": "172", "ME062": "523", "ME056": "238",
}  # fmt: skip


def split_codes(value: str | None) -> list[str]:
    """Codes of a cell that may hold several (``"233, 244"``, ``"233;244"``), stripped."""
    if value is None:
        return []
    return [c.strip() for c in re.split(r"[,;|/\s]+", str(value)) if c.strip()]


def _iso_day(value: object) -> str | None:
    """``AAAA-MM-JJ`` of a date, an ISO text or a French ``JJ/MM/AAAA`` text; None if blank."""
    if value is None:
        return None
    text = str(value).strip()
    if not text:
        return None
    french = re.match(r"^(\d{2})/(\d{2})/(\d{4})", text)
    if french:
        return f"{french.group(3)}-{french.group(2)}-{french.group(1)}"
    return text[:10]


def is_smr_authorisation(
    regime: str | None,
    activite: str | None,
    mention: str | None,
    forme: str | None,
    date_fin: object,
) -> bool:
    """Whether an authorisation counts in the SMR perimeter (ROR_QUALITY.md §1, NB_AutorisationSMR).

    Old regime: activity 50–59 outside the HAD form (forme 05, counted as MCO by the ANS);
    new regime: an SMR mention outside the HAD form [inferred: the ANS view only knows the
    50–59 codes]. It must end on or after ``AUTORISATION_FIN_MIN`` or have no end
    (``date_fin``: a date, ISO or ``JJ/MM/AAAA`` text).
    ``analysis.checks.quality.smr_authorisation_expr`` is the same rule as a Polars expression.
    """
    if (forme or "").strip() == HAD_FORME_AUTORISATION:
        return False
    end = _iso_day(date_fin)
    if end is not None and end < AUTORISATION_FIN_MIN:
        return False
    if (regime or "") == "SSR" or (regime is None and activite):
        return (activite or "").strip().zfill(2) in ACTIVITES_SSR
    if regime == "SMR":
        return (mention or "").strip().upper() in MENTION_BY_CODE
    return False


def find_champ(value: str) -> str | None:
    """Champ d'activité code (TRE_R227) of a code (``02``, ``2``) or a label (« SMR »,
    « Soins médicaux et de réadaptation », the old « SSR »); else None."""
    text = value.strip()
    if not text:
        return None
    if text.isdigit() and text.zfill(2) in CHAMPS_ACTIVITE:
        return text.zfill(2)
    folded = fold(text)
    if folded in ("smr", "ssr", "soins medicaux et de readaptation", "soins de suite et de "
                  "readaptation", "soins medicaux et de readaptation (smr)"):
        return CHAMP_SMR
    for code, label in CHAMPS_ACTIVITE.items():
        if folded == fold(label):
            return code
    aliases = {"medecine chirurgie obstetrique": "01", "psy": "03", "psychiatrie": "03",
               "medico social": "04", "medico-social": "04"}
    return aliases.get(folded)


def find_type_fermeture(value: str) -> str | None:
    """ROR closure type (PRO / DEF) of a code or a label (« provisoire », « définitive »…)."""
    folded = fold(value)
    if not folded:
        return None
    if folded.upper() in TYPES_FERMETURE:
        return folded.upper()
    if "provisoire" in folded or "temporaire" in folded:
        return FERMETURE_PROVISOIRE
    if "definitiv" in folded:
        return FERMETURE_DEFINITIVE
    return None


CODE_LISTS["champ_activite"] = CHAMPS_ACTIVITE
CODE_LISTS["type_fermeture"] = TYPES_FERMETURE

# ------------------------------------------------------------ accounts and habilitations
# The campaign guide's prerequisites (campaign_guide_smr_ror_vt.txt, « Quelques prérequis »):
# a ROR account with the role Directeur (edit and validate) or Référent (edit), and a
# ViaTrajectoire habilitation Référent structure or Référent unité with a validity date not
# expired; for each SMR unit, the admissions lead's contact *and habilitation* (VT).

#: Tools an account or habilitation belongs to.
OUTILS_HABILITATION: dict[str, str] = {"ROR": "ROR", "VT": "ViaTrajectoire"}
#: Roles, by code (the ``role`` column): French label as the tools show it.
ROLES_HABILITATION: dict[str, str] = {
    "directeur": "Directeur",
    "referent": "Référent",
    "referent_structure": "Référent structure",
    "referent_unite": "Référent unité",
    "responsable_admissions": "Responsable des admissions",
}
#: Roles that let an establishment do the campaign in each tool (guide, prerequisites).
ROLES_CAMPAGNE: dict[str, tuple[str, ...]] = {
    "ROR": ("directeur", "referent"),
    "VT": ("referent_structure", "referent_unite"),
}
#: Role of the admissions lead's habilitation on a ViaTrajectoire unit.
ROLE_ADMISSIONS = "responsable_admissions"

CODE_LISTS["outil_habilitation"] = OUTILS_HABILITATION
CODE_LISTS["role_habilitation"] = ROLES_HABILITATION
#: Code lists whose values may also be written as their label, with or without accents
#: (« Référent structure » → referent_structure): exports of the tools write labels.
LABELLED_CODE_LISTS: frozenset[str] = frozenset({"outil_habilitation", "role_habilitation"})
