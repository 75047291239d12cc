"""Campaign checklist: the rules per entity, their evaluation and completion.

During the SSR → SMR campaign every establishment checks and updates its data in the ROR
and in ViaTrajectoire. Each item to check is a *rule*, declared as data in ``RULES``: an
id, the level of entity it applies to, a French label, the help text sent to the
establishment, and the failing conditions as Polars expressions, tried in order:

- the first failing condition gives the result (``manquant`` or ``invalide``) and a reason
  (``motif``, French); no failing condition gives ``ok``;
- ``value`` is the current value shown in to-do lists (``personal`` ones are masked);
- ``applies`` restricts a rule to some entities (others are not counted at all).

Adding a rule is one entry in ``RULES``: evaluation, completion, progress, to-do lists,
commands and pages pick it up. Evaluation is vectorised: one ``select`` per level.

Levels and their entities: ``etablissement`` (one row of ``etablissements``), ``unite``
(one ROR unit of ``unites``), ``unite_vt`` (one ViaTrajectoire unit of ``vt_unites``).

Decisions on rule semantics (see also each rule's help text):

- ``uo_nom_smr``: *invalide* when the name still says SSR (« SSR », « S.S.R. », « soins de
  suite… ») or when the ROR discipline is still SSR, even if the name was changed (the unit
  was renamed but not re-classified); *manquant* when the name says neither SSR nor SMR. A
  null discipline does not count against the unit (the name decides).
- ``uo_telephone``: the unit's ``telephone`` cell may hold several numbers (``;``, ``/``,
  ``ou``); at least one must be a French number reachable from outside (10 digits, or
  +33 / overseas codes). A short internal extension alone is *invalide*.
- ``uo_patientele``: both ages required; bounds 0–120 and min ≤ max. Minors (age_min < 16)
  need a pédiatrie mention (ME060 or ME061); from 16 the legal exception applies (any SMR
  holder may take them, consent being a per-patient matter we cannot see); under 4 needs
  ME061 (ME060 starts at 4). Burns units (ME057) may take minors only under a convention
  with a ME061 holder, which the data cannot show: by default (``burns_convention=True``)
  the convention is presumed and the unit passes; set it to False to flag them instead.
- ``eg_verifie`` / ``uo_verifie``: the entity counts as *vérifié* when its ``date_maj`` is
  on or after the campaign start (00:00), even if nothing changed. Without a start date the
  two rules are not evaluated.
- ``uo_presente_vt``: a ROR unit that no ViaTrajectoire unit links to (sync status
  ``absent_vt``) is *manquant*: the establishment has to create or link it in VT.
- ``vt_responsable_admissions``: when the VT unit belongs to a guichet unique, the
  guichet's responsable, phone and e-mail are required (the unit's own admissions lead is
  then not needed); otherwise the admissions lead's name and e-mail. A guichet id that is
  not in ``vt_guichets`` is *invalide*.
- ``vt_synchronise``: ``synchronise`` and ``en_attente`` (VT will get the change at the next
  daily sync) are *ok*; ``desynchronise`` is *invalide*; ``absent_ror`` (no or dangling
  ROR link) is *manquant*. See ``analysis.indicators.sync``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import polars as pl

from analysis.indicators import sync
from analysis.model import nomenclature as nom
from analysis.model import schema
from analysis.model.nomenclature import (
    BURNS_MENTION,
    MINOR_EXCEPTION_AGE,
    PEDIATRIC_MENTIONS,
    YOUNG_CHILD_AGE,
)
from analysis.model.syntax import any_valid_phone, blank, is_email

OK, MANQUANT, INVALIDE = "ok", "manquant", "invalide"
RESULTS: tuple[str, ...] = (OK, MANQUANT, INVALIDE)

#: Severity of a rule (campaign guide): *obligatoire* items count in conformity and in
#: « à jour »; *conseillé* ones are shown and listed in to-dos as advice, never counted
#: against the establishment.
OBLIGATOIRE, CONSEILLE = "obligatoire", "conseille"
SEVERITIES: dict[str, str] = {OBLIGATOIRE: "Obligatoire", CONSEILLE: "Conseillé"}

ETABLISSEMENT, UNITE, UNITE_VT = "etablissement", "unite", "unite_vt"
LEVELS: dict[str, str] = {
    ETABLISSEMENT: "Établissement",
    UNITE: "Unité (ROR)",
    UNITE_VT: "Unité ViaTrajectoire",
}
#: Source table, key column and display-name column of each level.
_LEVEL_SOURCE: dict[str, tuple[str, str, str]] = {
    ETABLISSEMENT: ("etablissements", "finess_eg", "raison_sociale"),
    UNITE: ("unites", "uo_id", "nom"),
    UNITE_VT: ("vt_unites", "vt_id", "nom"),
}

YOUNG_CHILD_MENTION = "ME061"  # the only mention for children under YOUNG_CHILD_AGE
AGE_BOUNDS = (0, 120)

#: Words that mark a name as SSR-era or SMR (case-insensitive, accents optional).
SSR_PATTERN = r"(?i)\bS\.?\s?S\.?\s?R\b|\bsoins de suite\b"
SMR_PATTERN = r"(?i)\bS\.?\s?M\.?\s?R\b|\bsoins m[ée]dicaux et de r[ée]adaptation\b"


@dataclass(frozen=True)
class CampaignParams:
    """Parameters of a campaign evaluation.

    ``start``: campaign start date (entities updated since count as verified; None: the
    *vérifié* rules are skipped). ``sync_time``: daily ROR → VT sync hour.
    ``burns_convention``: presume that burns units taking minors have their convention.
    """

    start: dt.date | None = None
    sync_time: dt.time = sync.DEFAULT_SYNC_TIME
    burns_convention: bool = True


Failure = tuple[pl.Expr, str, "pl.Expr | str"]


def _always(_: CampaignParams) -> pl.Expr | None:
    return None


def _enabled(_: CampaignParams) -> bool:
    return True


@dataclass(frozen=True)
class Rule:
    """One checklist item: what is checked on which entities and what to tell the owner."""

    id: str
    level: str
    label: str
    help: str
    failures: Callable[[CampaignParams], Sequence[Failure]]
    value: Callable[[], pl.Expr] | None = None
    personal: bool = False  # the value is personal data (names, e-mails, phones)
    applies: Callable[[CampaignParams], pl.Expr | None] = field(default=_always)
    enabled: Callable[[CampaignParams], bool] = field(default=_enabled)
    severity: str = OBLIGATOIRE  # obligatoire: counted; conseille: advice only
    support: bool = False  # only the support can fix it (the help text says so)


# ------------------------------------------------------------------------ rule helpers


def _missing(fields: Mapping[str, str], prefix: str = "non renseigné : ") -> pl.Expr:
    """French reason naming which of ``fields`` (column → label) are blank."""
    names = pl.concat_str(
        [pl.when(blank(pl.col(c))).then(pl.lit(label)) for c, label in fields.items()],
        separator=", ",
        ignore_nulls=True,
    )
    return pl.lit(prefix) + names


def _any_blank(*cols: str) -> pl.Expr:
    return pl.any_horizontal([blank(pl.col(c)) for c in cols])


def _bad_email(col: str) -> pl.Expr:
    """Filled and malformed (never null)."""
    return (~blank(pl.col(col)) & ~is_email(pl.col(col))).fill_null(False)


def _bad_phone(col: str) -> pl.Expr:
    """Filled and without any valid French number (never null)."""
    return (~blank(pl.col(col)) & ~any_valid_phone(pl.col(col))).fill_null(False)


def _joined(*parts: tuple[str, str]) -> pl.Expr:
    """« label : value » pairs of the non-blank columns, joined by « ; » (null if none)."""
    text = pl.concat_str(
        [
            pl.when(~blank(pl.col(c))).then(pl.lit(f"{label} : ") + pl.col(c).cast(pl.String))
            for c, label in parts
        ],
        separator=" ; ",
        ignore_nulls=True,
    )
    return pl.when(text != "").then(text)


def _start_moment(params: CampaignParams) -> dt.datetime:
    assert params.start is not None
    return dt.datetime.combine(params.start, dt.time(0, 0))


def _not_verified(params: CampaignParams) -> list[Failure]:
    start = _start_moment(params)
    last = pl.col("date_maj").dt.strftime("%d/%m/%Y")
    return [
        (
            (pl.col("date_maj").is_null() | (pl.col("date_maj") < start)).fill_null(True),
            MANQUANT,
            pl.when(pl.col("date_maj").is_null())
            .then(pl.lit("jamais mis à jour"))
            .otherwise(
                pl.format(
                    "pas de mise à jour depuis le début de la campagne ({}) ; dernière le {}",
                    pl.lit(params.start.strftime("%d/%m/%Y")),
                    last,
                )
            ),
        )
    ]


def _date_value() -> pl.Expr:
    return pl.col("date_maj").dt.strftime("%d/%m/%Y %H:%M")


def _has(mention: str) -> pl.Expr:
    return pl.col("mentions").list.contains(mention)


def _has_pediatric() -> pl.Expr:
    return pl.col("mentions").list.eval(pl.element().is_in(sorted(PEDIATRIC_MENTIONS))).list.any()


def _patientele_failures(params: CampaignParams) -> list[Failure]:
    amin, amax = pl.col("age_min"), pl.col("age_max")
    lo, hi = AGE_BOUNDS
    burns_ok = _has(BURNS_MENTION) & pl.lit(params.burns_convention)
    return [
        (
            amin.is_null() | amax.is_null(),
            MANQUANT,
            _missing({"age_min": "âge minimum", "age_max": "âge maximum"}),
        ),
        (
            (amin < lo) | (amax > hi) | (amin > amax),
            INVALIDE,
            pl.format("tranche d'âge incohérente ({}–{} ans)", amin, amax),
        ),
        (
            (amin < MINOR_EXCEPTION_AGE) & ~_has_pediatric() & ~burns_ok,
            INVALIDE,
            pl.format(
                "accueille des mineurs dès {} ans sans mention pédiatrique (ME060 ou ME061) ; "
                "sans elle, seuls les mineurs de {} ans et plus peuvent être admis",
                amin,
                pl.lit(MINOR_EXCEPTION_AGE),
            ),
        ),
        (
            (amin < YOUNG_CHILD_AGE) & ~_has(YOUNG_CHILD_MENTION) & ~burns_ok,
            INVALIDE,
            pl.format(
                "accueille des enfants dès {} ans : avant {} ans, la mention « jeunes enfants, "
                "enfants et adolescents » (ME061) est nécessaire",
                amin,
                pl.lit(YOUNG_CHILD_AGE),
            ),
        ),
    ]


def _patientele_value() -> pl.Expr:
    ages = pl.format("{}–{} ans", pl.col("age_min"), pl.col("age_max"))
    mentions = pl.col("mentions").list.join(", ")
    return pl.concat_str(
        [
            ages,
            pl.lit("mentions : ")
            + pl.when(mentions != "").then(mentions).otherwise(pl.lit("aucune")),
        ],
        separator=" ; ",
        ignore_nulls=True,
    )


def _guichet_failures(_: CampaignParams) -> list[Failure]:
    in_guichet = ~blank(pl.col("guichet_id"))
    unit = ~in_guichet
    return [
        (
            in_guichet & ~pl.col("g_connu"),
            INVALIDE,
            pl.format("guichet unique « {} » inconnu de ViaTrajectoire", pl.col("guichet_id")),
        ),
        (
            in_guichet & _any_blank("g_responsable_nom", "g_telephone", "g_email"),
            MANQUANT,
            _missing(
                {
                    "g_responsable_nom": "responsable",
                    "g_telephone": "téléphone",
                    "g_email": "e-mail",
                },
                "guichet unique, non renseigné : ",
            ),
        ),
        (
            in_guichet & (_bad_phone("g_telephone") | _bad_email("g_email")),
            INVALIDE,
            pl.lit("guichet unique : téléphone ou e-mail invalide"),
        ),
        (
            unit & _any_blank("responsable_admissions_nom", "responsable_admissions_email"),
            MANQUANT,
            _missing(
                {
                    "responsable_admissions_nom": "nom du responsable des admissions",
                    "responsable_admissions_email": "e-mail du responsable des admissions",
                }
            ),
        ),
        (
            unit & _bad_email("responsable_admissions_email"),
            INVALIDE,
            pl.lit("e-mail du responsable des admissions mal formé"),
        ),
    ]


def _guichet_value() -> pl.Expr:
    return (
        pl.when(~blank(pl.col("guichet_id")))
        .then(
            pl.lit("guichet ")
            + pl.col("guichet_id")
            + pl.lit(" ; ")
            + _joined(
                ("g_responsable_nom", "responsable"), ("g_telephone", "tél."), ("g_email", "e-mail")
            ).fill_null("")
        )
        .otherwise(
            _joined(
                ("responsable_admissions_nom", "responsable"),
                ("responsable_admissions_email", "e-mail"),
            )
        )
    )


# ------------------------------------------------------------------- prerequisites

def _fmt_day(expr: pl.Expr) -> pl.Expr:
    return expr.dt.strftime("%d/%m/%Y")


def _account_failures(tool: str) -> Callable[[CampaignParams], list[Failure]]:
    """No account of the campaign roles in ``tool`` → manquant; all ended → invalide."""
    roles = " ou ".join(nom.ROLES_HABILITATION[r] for r in nom.ROLES_CAMPAGNE[tool])
    name = nom.OUTILS_HABILITATION[tool]
    p = tool.lower()

    def failures(_: CampaignParams) -> list[Failure]:
        return [
            (
                pl.col(f"{p}_comptes") == 0,
                MANQUANT,
                f"aucun compte {name} avec le rôle {roles}",
            ),
            (
                pl.col(f"{p}_valides") == 0,
                INVALIDE,
                pl.format(
                    "compte(s) {} {} expiré(s) : dernière fin de validité le {}",
                    pl.lit(name),
                    pl.lit(roles),
                    _fmt_day(pl.col(f"{p}_fin")),
                ),
            ),
        ]

    return failures


def _account_value(tool: str) -> Callable[[], pl.Expr]:
    p = tool.lower()
    return lambda: pl.format(
        "{} compte(s), {} valide(s)", pl.col(f"{p}_comptes"), pl.col(f"{p}_valides")
    )


def _admissions_habilitation_failures(_: CampaignParams) -> list[Failure]:
    return [
        (
            pl.col("adm_fin").is_null(),
            MANQUANT,
            "aucune habilitation ViaTrajectoire connue pour le responsable des admissions",
        ),
        (
            ~pl.col("adm_valide"),
            INVALIDE,
            pl.format(
                "habilitation du responsable des admissions expirée le {}",
                _fmt_day(pl.col("adm_fin")),
            ),
        ),
    ]


def _folded(col: str) -> pl.Expr:
    """Lower-case, accent-free words of ``col`` (official names compared with FINESS)."""
    return (
        pl.col(col)
        .str.normalize("NFKD")
        .str.replace_all(r"\p{M}", "")
        .str.to_lowercase()
        .str.replace_all(r"\.", "")  # S.M.R. = SMR
        .str.replace_all(r"[^a-z0-9]+", " ")
        .str.strip_chars()
    )


def _director_failures(_: CampaignParams) -> list[Failure]:
    """Director's phone and e-mail, or else the CME president's (campaign guide)."""
    director = ("directeur_telephone", "directeur_email")
    cme = ("cme_president_telephone", "cme_president_email")

    def complete(cols: tuple[str, str]) -> pl.Expr:
        return ~_any_blank(*cols) & ~_bad_phone(cols[0]) & ~_bad_email(cols[1])

    neither = ~complete(director) & ~complete(cme)
    return [
        (
            neither & _any_blank(*director) & _any_blank(*cme),
            MANQUANT,
            _missing(
                {
                    "directeur_telephone": "téléphone du directeur",
                    "directeur_email": "e-mail du directeur",
                }
            )
            + pl.lit(" (ni, à défaut, ceux du président de CME)"),
        ),
        (neither & _bad_phone("directeur_telephone"), INVALIDE, "téléphone du directeur invalide"),
        (neither & _bad_email("directeur_email"), INVALIDE, "e-mail du directeur mal formé"),
        (
            neither & _bad_phone("cme_president_telephone"),
            INVALIDE,
            "téléphone du président de CME invalide",
        ),
        (
            neither & _bad_email("cme_president_email"),
            INVALIDE,
            "e-mail du président de CME mal formé",
        ),
    ]


# ------------------------------------------------------------------------------ rules

RULES: tuple[Rule, ...] = (
    Rule(
        "eg_compte_ror",
        ETABLISSEMENT,
        "Compte ROR (Directeur ou Référent)",
        "Prérequis de la campagne : disposer d'un compte ROR avec le rôle Directeur (modifier "
        "et valider les informations du ROR) ou Référent (modifier les informations du ROR), "
        "en cours de validité. Pour obtenir un compte ou mettre à jour un rôle, contacter le "
        "support utilisateurs.",
        _account_failures("ROR"),
        value=_account_value("ROR"),
        applies=lambda p: pl.col("ror_connu"),
        support=True,
    ),
    Rule(
        "eg_compte_vt",
        ETABLISSEMENT,
        "Habilitation ViaTrajectoire (Référent structure ou unité)",
        "Prérequis de la campagne : disposer dans ViaTrajectoire (« Mes habilitations ») de "
        "l'habilitation Référent structure ou Référent unité, à une date de validité non "
        "expirée. Pour obtenir ou prolonger une habilitation, contacter le support "
        "utilisateurs.",
        _account_failures("VT"),
        value=_account_value("VT"),
        applies=lambda p: pl.col("vt_connu"),
        support=True,
    ),
    Rule(
        "eg_surnom",
        ETABLISSEMENT,
        "Surnom de l'établissement (si nécessaire)",
        "Conseillé : vérifier dans le ROR (fiche EG) le surnom de l'établissement et le "
        "renseigner si nécessaire (flèche d'action, « Renommer », puis « Enregistrer »).",
        lambda p: [(blank(pl.col("surnom")), MANQUANT, "surnom non renseigné")],
        value=lambda: pl.col("surnom"),
        severity=CONSEILLE,
    ),
    Rule(
        "eg_nom_officiel",
        ETABLISSEMENT,
        "Nom officiel (comparé au FINESS)",
        "Vérifier dans le ROR (fiche EG) le nom officiel de l'établissement. L'établissement "
        "ne peut pas le modifier lui-même : s'il est incorrect, le signaler au support.",
        lambda p: [
            (
                _folded("raison_sociale") != _folded("finess_raison_sociale"),
                INVALIDE,
                pl.format(
                    "nom officiel du ROR différent de celui du FINESS (« {} ») : à signaler "
                    "au support",
                    pl.col("finess_raison_sociale"),
                ),
            )
        ],
        value=lambda: pl.col("raison_sociale"),
        applies=lambda p: pl.col("finess_raison_sociale").is_not_null(),
        support=True,
    ),
    Rule(
        "eg_adresse",
        ETABLISSEMENT,
        "Adresse de l'établissement",
        "Vérifier dans le ROR (fiche EG) l'adresse de l'établissement (numéro et voie, code "
        "postal à 5 chiffres). L'établissement ne peut pas la modifier lui-même : si elle est "
        "incorrecte ou incomplète, la signaler au support.",
        lambda p: [
            (
                _any_blank("adresse", "code_postal"),
                MANQUANT,
                _missing({"adresse": "adresse", "code_postal": "code postal"})
                + pl.lit(" : à signaler au support"),
            ),
            (
                ~pl.col("code_postal").str.strip_chars().str.contains(r"^\d{5}$"),
                INVALIDE,
                pl.lit("code postal invalide (5 chiffres attendus) : à signaler au support"),
            ),
        ],
        value=lambda: pl.concat_str(
            [pl.col("adresse"), pl.col("code_postal")], separator=", ", ignore_nulls=True
        ),
        support=True,
    ),
    Rule(
        "eg_email_alerte",
        ETABLISSEMENT,
        "E-mail d'alerte (cyberattaque)",
        "Renseigner dans le ROR (fiche EG) le mail d'alerte, utile en cas de cyberattaque : "
        "une adresse fonctionnelle et surveillée en permanence.",
        lambda p: [
            (blank(pl.col("email_alerte")), MANQUANT, "e-mail d'alerte non renseigné"),
            (_bad_email("email_alerte"), INVALIDE, "e-mail d'alerte mal formé"),
        ],
        value=lambda: pl.col("email_alerte"),
        personal=True,
    ),
    Rule(
        "eg_directeur",
        ETABLISSEMENT,
        "Coordonnées du directeur (ou du président de CME)",
        "Renseigner dans le ROR (fiche EG) les coordonnées du directeur d'établissement, "
        "voire celles du président de CME : numéro de téléphone (joignable de l'extérieur) "
        "et e-mail ; puis cliquer sur « Modifier » en bas de la page.",
        _director_failures,
        value=lambda: _joined(
            ("directeur_nom", "nom"),
            ("directeur_telephone", "tél."),
            ("directeur_email", "e-mail"),
            ("cme_president_nom", "président de CME"),
            ("cme_president_telephone", "tél. CME"),
            ("cme_president_email", "e-mail CME"),
        ),
        personal=True,
    ),
    Rule(
        "eg_verifie",
        ETABLISSEMENT,
        "Fiche établissement vérifiée",
        "Vérifier la fiche de l'établissement dans le ROR et l'enregistrer, même si rien n'a "
        "changé (par défaut avec la date du jour) : la date de mise à jour atteste la "
        "vérification.",
        _not_verified,
        value=_date_value,
        enabled=lambda p: p.start is not None,
    ),
    Rule(
        "eg_offre_autorisee",
        ETABLISSEMENT,
        "Offre de soins décrite pour chaque mention SMR autorisée",
        "À partir de juin 2023 (entrée en vigueur de la réforme) : mettre à jour dans le ROR "
        "l'offre de soins en lien avec les autorisations SMR accordées à l'établissement, une "
        "offre pour chaque mention autorisée. L'ajout de nouvelles unités peut nécessiter la "
        "validation de votre direction (Dossier Collaboratif).",
        lambda p: [
            (
                pl.col("mentions_autorisees").list.set_difference("mentions_decrites").list.len()
                > 0,
                MANQUANT,
                pl.lit("mention(s) SMR autorisée(s) sans offre dans le ROR : ")
                + pl.col("mentions_autorisees")
                .list.set_difference("mentions_decrites")
                .list.sort()
                .list.join(", "),
            )
        ],
        value=lambda: pl.col("mentions_autorisees").list.join(", "),
        applies=lambda p: pl.col("mentions_autorisees").list.len() > 0,
    ),
    Rule(
        "uo_nom_smr",
        UNITE,
        "Nom de l'unité : SSR remplacé par SMR (conseillé)",
        "Conseillé, facultatif : dans l'attente de la mise à jour des autorisations, remplacer "
        "l'appellation « SSR » par « SMR » dans le nom de l'unité (fiche UO du ROR, flèche "
        "d'action, « Renommer »). Le grand groupe de discipline « SSR » et le « Type d'UO » "
        "seront modifiés ultérieurement de façon automatique : rien à faire de votre part.",
        lambda p: [
            (blank(pl.col("nom")), MANQUANT, "nom de l'unité non renseigné"),
            (
                pl.col("nom").str.contains(SSR_PATTERN),
                INVALIDE,
                "le nom mentionne encore le SSR (le renommer en SMR est conseillé)",
            ),
        ],
        value=lambda: pl.col("nom"),
        severity=CONSEILLE,
    ),
    Rule(
        "uo_telephone",
        UNITE,
        "Téléphone de l'unité",
        "Renseigner dans le ROR (fiche UO) au moins un numéro de contact joignable par des "
        "professionnels externes à votre structure (numéro à 10 chiffres, pas un poste "
        "interne).",
        lambda p: [
            (blank(pl.col("telephone")), MANQUANT, "téléphone de l'unité non renseigné"),
            (
                _bad_phone("telephone"),
                INVALIDE,
                "aucun numéro joignable de l'extérieur (10 chiffres attendus, pas un poste "
                "interne)",
            ),
        ],
        value=lambda: pl.col("telephone"),
    ),
    Rule(
        "uo_responsable",
        UNITE,
        "Responsable de l'unité",
        "Renseigner dans le ROR (encadré « Responsable » de la fiche UO) les coordonnées du "
        "responsable de l'unité (médecin, cadre infirmier…) : son nom et au moins un moyen de "
        "le joindre (téléphone direct ou e-mail).",
        lambda p: [
            (blank(pl.col("responsable_nom")), MANQUANT, "nom du responsable non renseigné"),
            (
                blank(pl.col("responsable_telephone")) & blank(pl.col("responsable_email")),
                MANQUANT,
                "ni téléphone ni e-mail du responsable",
            ),
            (_bad_phone("responsable_telephone"), INVALIDE, "téléphone du responsable invalide"),
            (_bad_email("responsable_email"), INVALIDE, "e-mail du responsable mal formé"),
        ],
        value=lambda: _joined(
            ("responsable_nom", "nom"),
            ("responsable_telephone", "tél."),
            ("responsable_email", "e-mail"),
        ),
        personal=True,
    ),
    Rule(
        "uo_patientele",
        UNITE,
        "Patientèle (âges) cohérente avec les mentions",
        "Renseigner dans le ROR (fiche UO, patientèle) l'âge minimum et l'âge maximum des "
        "patients accueillis au sein de l'unité, en "
        "cohérence avec les mentions autorisées : mineurs de moins de 16 ans seulement avec "
        "une mention pédiatrique, enfants de moins de 4 ans seulement avec la mention « jeunes "
        "enfants, enfants et adolescents ».",
        _patientele_failures,
        value=_patientele_value,
    ),
    Rule(
        "uo_verifie",
        UNITE,
        "Fiche unité vérifiée",
        "Vérifier la fiche de l'unité dans le ROR et l'enregistrer, même si rien n'a changé "
        "(par défaut avec la date du jour) : la date de mise à jour atteste la vérification.",
        _not_verified,
        value=_date_value,
        enabled=lambda p: p.start is not None,
    ),
    Rule(
        "uo_presente_vt",
        UNITE,
        "Unité présente dans ViaTrajectoire",
        "Les unités du ROR sont reprises automatiquement dans ViaTrajectoire (synchronisation "
        "quotidienne à 18 h) : ne pas créer l'unité à la main dans ViaTrajectoire, ce serait "
        "la double saisie que la synchronisation évite. Une unité du ROR absente de "
        "ViaTrajectoire est un problème de synchronisation : le signaler au support.",
        lambda p: [
            (
                ~pl.col("dans_vt"),
                MANQUANT,
                "aucune unité ViaTrajectoire rattachée à cette unité du ROR : à signaler au "
                "support",
            )
        ],
        support=True,
    ),
    Rule(
        "vt_responsable_admissions",
        UNITE_VT,
        "Responsable des admissions (ViaTrajectoire)",
        "Renseigner dans ViaTrajectoire (fiche de l'unité SMR, partie Admissions) le nom, le "
        "prénom et le mail du responsable des admissions ; si l'unité possède un guichet "
        "unique d'admission, renseigner sur la fiche du guichet le responsable des "
        "admissions, le téléphone et le mail.",
        _guichet_failures,
        value=_guichet_value,
        personal=True,
    ),
    Rule(
        "vt_habilitation_admissions",
        UNITE_VT,
        "Habilitation du responsable des admissions (ViaTrajectoire)",
        "Vérifier dans ViaTrajectoire l'habilitation du responsable des admissions de "
        "l'unité : elle doit être à une date de validité non expirée. Pour obtenir ou "
        "prolonger une habilitation, contacter le support utilisateurs.",
        _admissions_habilitation_failures,
        value=lambda: pl.lit("fin de validité : ") + _fmt_day(pl.col("adm_fin")),
        applies=lambda p: pl.col("adm_connu"),
        support=True,
    ),
    Rule(
        "vt_synchronise",
        UNITE_VT,
        "Unité synchronisée avec le ROR",
        "Les données de l'unité (nom, téléphone, âges) viennent du ROR par la synchronisation "
        "quotidienne de 18 h : ne pas les ressaisir dans ViaTrajectoire. Une unité non "
        "synchronisée ou sans lien avec le ROR est un problème de synchronisation : le "
        "signaler au support.",
        lambda p: [
            (pl.col("statut_sync") == sync.ABSENT_ROR, MANQUANT, pl.col("motif_sync")),
            (pl.col("statut_sync") == sync.DESYNCHRONISE, INVALIDE, pl.col("motif_sync")),
        ],
        value=lambda: pl.col("ecarts"),
        support=True,
    ),
)

RULE_BY_ID: dict[str, Rule] = {r.id: r for r in RULES}


def rules_frame(rules: Sequence[Rule] = RULES) -> pl.DataFrame:
    """The rule list as a table: ``regle``, ``niveau``, ``libelle``, ``aide``, ``ordre``,
    ``severite`` (obligatoire / conseille) and ``support`` (only the support can fix it)."""
    return pl.DataFrame(
        {
            "regle": [r.id for r in rules],
            "niveau": [r.level for r in rules],
            "libelle": [r.label for r in rules],
            "aide": [r.help for r in rules],
            "ordre": list(range(len(rules))),
            "severite": [r.severity for r in rules],
            "support": [r.support for r in rules],
        },
        schema={
            "regle": pl.String,
            "niveau": pl.String,
            "libelle": pl.String,
            "aide": pl.String,
            "ordre": pl.Int32,
            "severite": pl.String,
            "support": pl.Boolean,
        },
    )


def active_rules(params: CampaignParams, rules: Sequence[Rule] = RULES) -> list[Rule]:
    """The rules that can be evaluated with ``params`` (e.g. *vérifié* needs a start)."""
    return [r for r in rules if r.enabled(params)]


# ------------------------------------------------------------------------- evaluation

#: Columns a level frame derives from other tables, and what they need.
_DERIVED: dict[str, dict[str, tuple[str, ...]]] = {
    "mentions": {"offres": ("uo_id", "mention")},
    "dans_vt": {"vt_unites": ("uo_id",)},
    "statut_sync": dict(sync.COLUMNS),  # unites, vt_unites and the establishment fields
    "motif_sync": {},
    "ecarts": {},
    "g_connu": {"vt_guichets": ("guichet_id",)},
    "g_responsable_nom": {"vt_guichets": ("guichet_id", "responsable_nom")},
    "g_telephone": {"vt_guichets": ("guichet_id", "telephone")},
    "g_email": {"vt_guichets": ("guichet_id", "email")},
}
_DERIVED["motif_sync"] = _DERIVED["ecarts"] = _DERIVED["statut_sync"]
_ACCOUNTS = ("outil", "role", "finess_eg", "date_fin_validite")
for _p in ("ror", "vt"):
    for _suffix in ("comptes", "valides", "fin", "connu"):
        _DERIVED[f"{_p}_{_suffix}"] = {"habilitations": _ACCOUNTS}
_DERIVED["adm_fin"] = _DERIVED["adm_valide"] = _DERIVED["adm_connu"] = {
    "habilitations": ("outil", "role", "vt_id", "date_fin_validite"),
    "vt_unites": ("habilitation_fin",),
}
_DERIVED["finess_raison_sociale"] = {"finess_etablissements": ("finess_eg", "raison_sociale")}
_DERIVED["mentions_decrites"] = {"offres": ("uo_id", "mention"), "unites": ("uo_id", "finess_eg")}
_DERIVED["mentions_autorisees"] = {
    "autorisations": ("finess_eg", "regime", "mention", "forme", "date_fin")
}

_INFO_COLUMNS = ("finess_eg", "raison_sociale", "commune_insee", "statut")


def _rule_exprs(rule: Rule, params: CampaignParams) -> list[pl.Expr]:
    exprs = [cond for cond, _, _ in rule.failures(params)]
    exprs += [why for _, _, why in rule.failures(params) if isinstance(why, pl.Expr)]
    if rule.value is not None:
        exprs.append(rule.value())
    applies = rule.applies(params)
    if applies is not None:
        exprs.append(applies)
    return exprs


def _referenced(rules: Iterable[Rule], params: CampaignParams) -> dict[str, set[str]]:
    """Column names each level's rules refer to."""
    names: dict[str, set[str]] = {}
    for rule in rules:
        bucket = names.setdefault(rule.level, set())
        for expr in _rule_exprs(rule, params):
            bucket.update(expr.meta.root_names())
    return names


def columns_needed(
    params: CampaignParams | None = None, rules: Sequence[Rule] = RULES
) -> dict[str, list[str]]:
    """Columns to read from each table to evaluate ``rules`` (nothing else is read)."""
    params = params or CampaignParams()
    wanted: dict[str, set[str]] = {"etablissements": set(_INFO_COLUMNS)}
    for level, names in _referenced(active_rules(params, rules), params).items():
        table, key, label = _LEVEL_SOURCE[level]
        own = set(schema.TABLES[table].names)
        bucket = wanted.setdefault(table, set())
        bucket.update({key, label, "finess_eg"} | (names & own))
        for name in names - own:
            for other, cols in _DERIVED.get(name, {}).items():
                wanted.setdefault(other, set()).update(cols)
    return {t: [c for c in schema.TABLES[t].names if c in cols] for t, cols in wanted.items()}


def _table(
    tables: Mapping[str, pl.DataFrame | pl.LazyFrame], name: str, snapshot_col: str | None = None
) -> pl.LazyFrame:
    frame = tables.get(name)
    if frame is not None:
        return frame.lazy()
    empty = schema.empty(name).lazy()
    if snapshot_col:
        return empty.select(pl.lit(None, pl.Date).alias(snapshot_col), pl.all())
    return empty


def _as_of_day(as_of: dt.date | dt.datetime | None, snapshot_col: str | None) -> pl.Expr:
    """The snapshot day as an expression (each row's own with stacked snapshots)."""
    if snapshot_col:
        return pl.col(snapshot_col)
    if isinstance(as_of, dt.datetime):
        as_of = as_of.date()
    return pl.lit(as_of, pl.Date)


def _snapshot_flags(
    frame: pl.LazyFrame, keys: list[str], flags: Sequence[pl.Expr]
) -> pl.LazyFrame:
    """One row per snapshot (a single row without ``keys``) of boolean ``flags``."""
    if keys:
        return frame.group_by(keys).agg(flags)
    return frame.select(flags)


def _join_flags(lf: pl.LazyFrame, flags: pl.LazyFrame, keys: list[str]) -> pl.LazyFrame:
    names = [c for c in flags.collect_schema().names() if c not in keys]
    joined = lf.join(flags, on=keys, how="left") if keys else lf.join(flags, how="cross")
    return joined.with_columns(pl.col(names).fill_null(False))


def _with_habilitations(
    lf: pl.LazyFrame,
    tables: Mapping[str, pl.DataFrame | pl.LazyFrame],
    names: set[str],
    as_of: dt.date | dt.datetime | None,
    keys: list[str],
    snapshot_col: str | None,
) -> pl.LazyFrame:
    """Accounts of the campaign roles per establishment (``ror_*``, ``vt_*``: accounts,
    valid ones at the snapshot date, latest end, whether the snapshot lists that tool's
    accounts at all) or the admissions lead's habilitation per VT unit (``adm_*``).

    Valid: no end date, or an end on or after the snapshot day. The admissions lead's end is
    the later of ``vt_unites.habilitation_fin`` and the ``habilitations`` rows of role
    responsable_admissions on the unit.
    """
    day = _as_of_day(as_of, snapshot_col)
    hab = _table(tables, "habilitations", snapshot_col)
    if snapshot_col is None:
        hab = hab.with_columns(day.alias("_day"))
        day = pl.col("_day")
    end = pl.col("date_fin_validite")
    valid = end.is_null() | (end >= day)
    for tool in ("ROR", "VT"):
        p = tool.lower()
        if not names & {f"{p}_comptes", f"{p}_valides", f"{p}_fin", f"{p}_connu"}:
            continue
        mine = (pl.col("outil") == tool) & pl.col("role").is_in(list(nom.ROLES_CAMPAGNE[tool]))
        per_eg = (
            hab.filter(mine)
            .group_by([*keys, "finess_eg"])
            .agg(
                pl.len().cast(pl.Int64).alias(f"{p}_comptes"),
                valid.sum().cast(pl.Int64).alias(f"{p}_valides"),
                end.max().alias(f"{p}_fin"),
            )
        )
        lf = lf.join(per_eg, on=[*keys, "finess_eg"], how="left").with_columns(
            pl.col(f"{p}_comptes", f"{p}_valides").fill_null(0)
        )
        known = _snapshot_flags(hab, keys, [(pl.col("outil") == tool).any().alias(f"{p}_connu")])
        lf = _join_flags(lf, known, keys)
    if names & {"adm_fin", "adm_valide", "adm_connu"}:
        admissions = pl.col("role") == nom.ROLE_ADMISSIONS
        per_unit = (
            hab.filter((pl.col("outil") == "VT") & admissions & pl.col("vt_id").is_not_null())
            .group_by([*keys, "vt_id"])
            .agg(end.max().alias("_adm_table"))
        )
        lf = lf.join(per_unit, on=[*keys, "vt_id"], how="left").with_columns(
            pl.max_horizontal("habilitation_fin", "_adm_table").alias("adm_fin")
        )
        lf = lf.with_columns(
            (pl.col("adm_fin") >= _as_of_day(as_of, snapshot_col)).fill_null(False)
            .alias("adm_valide")
        )
        # Evaluated only where the snapshot gives some admissions habilitation at all.
        known = _snapshot_flags(
            lf, keys, [pl.col("adm_fin").is_not_null().any().alias("adm_connu")]
        )
        lf = _join_flags(lf, known, keys)
    return lf


def _with_offer_mentions(
    lf: pl.LazyFrame,
    tables: Mapping[str, pl.DataFrame | pl.LazyFrame],
    as_of: dt.date | dt.datetime | None,
    keys: list[str],
    snapshot_col: str | None,
) -> pl.LazyFrame:
    """Per establishment: ``mentions_decrites`` (mentions of its ROR offers) and
    ``mentions_autorisees`` (mentions of its SMR decisions in force at the snapshot date,
    ``date_fin`` null or on/after it, HAD form 05 excluded)."""
    described = (
        _table(tables, "offres", snapshot_col)
        .select(*keys, "uo_id", "mention")
        .join(
            _table(tables, "unites", snapshot_col).select(*keys, "uo_id", "finess_eg"),
            on=[*keys, "uo_id"],
            how="inner",
        )
        .group_by([*keys, "finess_eg"])
        .agg(pl.col("mention").drop_nulls().unique().sort().alias("mentions_decrites"))
    )
    auth = _table(tables, "autorisations", snapshot_col)
    day = _as_of_day(as_of, snapshot_col)
    if snapshot_col is None:
        auth = auth.with_columns(day.alias("_day"))
        day = pl.col("_day")
    in_force = (
        (pl.col("regime") == "SMR")
        & pl.col("mention").is_not_null()
        & (pl.col("forme").is_null() | (pl.col("forme") != nom.HAD_FORME_AUTORISATION))
        & (pl.col("date_fin").is_null() | (pl.col("date_fin") >= day))
    )
    authorised = (
        auth.filter(in_force)
        .group_by([*keys, "finess_eg"])
        .agg(pl.col("mention").unique().sort().alias("mentions_autorisees"))
    )
    empty = pl.lit([], pl.List(pl.String))
    return (
        lf.join(described, on=[*keys, "finess_eg"], how="left")
        .join(authorised, on=[*keys, "finess_eg"], how="left")
        .with_columns(
            pl.col("mentions_decrites").fill_null(empty),
            pl.col("mentions_autorisees").fill_null(empty),
        )
    )


def _level_frame(
    level: str,
    tables: Mapping[str, pl.DataFrame | pl.LazyFrame],
    names: set[str],
    as_of: dt.date | dt.datetime | None,
    params: CampaignParams,
    snapshot_col: str | None = None,
) -> pl.LazyFrame:
    """The entities of ``level`` with the derived columns their rules use (per snapshot when
    ``snapshot_col`` names the column of stacked snapshots, see ``evaluate_lazy``)."""
    table, key, label = _LEVEL_SOURCE[level]
    keys = [snapshot_col] if snapshot_col else []
    # a history only counts: the first row of a key is kept either way, its order is not
    lf = _table(tables, table, snapshot_col).unique(
        [*keys, key], keep="first", maintain_order=not keys
    )
    if "mentions" in names:
        mentions = (
            _table(tables, "offres", snapshot_col)
            .group_by([*keys, "uo_id"])
            .agg(pl.col("mention").drop_nulls().unique().sort().alias("mentions"))
        )
        lf = lf.join(mentions, on=[*keys, "uo_id"], how="left").with_columns(
            pl.col("mentions").fill_null(pl.lit([], pl.List(pl.String)))
        )
    if "dans_vt" in names:
        linked = (
            _table(tables, "vt_unites", snapshot_col)
            .select(*keys, pl.col("uo_id").str.strip_chars())
            .drop_nulls()
            .unique()
            .with_columns(pl.lit(True).alias("dans_vt"))
        )
        lf = lf.join(linked, on=[*keys, "uo_id"], how="left").with_columns(
            pl.col("dans_vt").fill_null(False)
        )
    if names & {"g_connu", "g_responsable_nom", "g_telephone", "g_email"}:
        guichets = (
            _table(tables, "vt_guichets", snapshot_col)
            .select(
                *keys,
                "guichet_id",
                pl.col("responsable_nom").alias("g_responsable_nom"),
                pl.col("telephone").alias("g_telephone"),
                pl.col("email").alias("g_email"),
                pl.lit(True).alias("g_connu"),
            )
            .unique([*keys, "guichet_id"], keep="first")
        )
        lf = lf.join(guichets, on=[*keys, "guichet_id"], how="left").with_columns(
            pl.col("g_connu").fill_null(False)
        )
    accounts = {f"{p}_{x}" for p in ("ror", "vt") for x in ("comptes", "valides", "fin", "connu")}
    if names & (accounts | {"adm_fin", "adm_valide", "adm_connu"}):
        lf = _with_habilitations(lf, tables, names, as_of, keys, snapshot_col)
    if "finess_raison_sociale" in names:
        reference = (
            _table(tables, "finess_etablissements", snapshot_col)
            .select(*keys, "finess_eg", pl.col("raison_sociale").alias("finess_raison_sociale"))
            .filter(pl.col("finess_raison_sociale").is_not_null())
            .unique([*keys, "finess_eg"], keep="first")
        )
        lf = lf.join(reference, on=[*keys, "finess_eg"], how="left")
    if names & {"mentions_decrites", "mentions_autorisees"}:
        lf = _with_offer_mentions(lf, tables, as_of, keys, snapshot_col)
    if names & {"statut_sync", "motif_sync", "ecarts"}:
        status = (
            sync.unit_status_lazy(
                _table(tables, "unites", snapshot_col),
                _table(tables, "vt_unites", snapshot_col),
                as_of,
                params.sync_time,
                snapshot_col,
                etablissements=_table(tables, "etablissements", snapshot_col),
            )
            .filter(pl.col("vt_id").is_not_null())
            .select(
                *keys,
                "vt_id",
                pl.col("statut").alias("statut_sync"),
                pl.col("motif").alias("motif_sync"),
                "ecarts",
            )
            .unique([*keys, "vt_id"], keep="first")
        )
        lf = lf.join(status, on=[*keys, "vt_id"], how="left")
    return lf.with_columns(pl.col(key).alias("entite"), pl.col(label).alias("nom_entite"))


def _first_failure(rule: Rule, params: CampaignParams) -> pl.Expr:
    """Index of the first failing condition of ``rule`` (null when none fails)."""
    failures = list(rule.failures(params))
    first = pl.when(failures[0][0].fill_null(False)).then(pl.lit(0, pl.Int8))
    for i, (cond, _, _) in enumerate(failures[1:], start=1):
        first = first.when(cond.fill_null(False)).then(pl.lit(i, pl.Int8))
    return first.otherwise(pl.lit(None, pl.Int8)).alias(f"_i_{rule.id}")


def _verdict(rule: Rule, params: CampaignParams) -> pl.Expr:
    """Struct (resultat, motif, valeur) of ``rule``; null where the rule does not apply.

    Reads the column ``_first_failure`` wrote, so each condition is evaluated only once.
    """
    failures = list(rule.failures(params))
    first = pl.col(f"_i_{rule.id}")
    result = first.replace_strict(
        {i: res for i, (_, res, _) in enumerate(failures)}, default=OK, return_dtype=pl.String
    )
    if all(isinstance(why, str) for _, _, why in failures):
        reason = first.replace_strict(
            {i: why for i, (_, _, why) in enumerate(failures)},
            default=None,
            return_dtype=pl.String,
        )
    else:
        reason = pl.when(first == 0).then(_text(failures[0][2]))
        for i, (_, _, why) in enumerate(failures[1:], start=1):
            reason = reason.when(first == i).then(_text(why))
        reason = reason.otherwise(pl.lit(None, pl.String))
    value = rule.value().cast(pl.String) if rule.value is not None else pl.lit(None, pl.String)
    out = pl.struct(result.alias("resultat"), reason.alias("motif"), value.alias("valeur"))
    applies = rule.applies(params)
    if applies is not None:
        out = pl.when(applies.fill_null(False)).then(out)
    return out.alias(rule.id)


def _text(why: pl.Expr | str) -> pl.Expr:
    return pl.lit(why) if isinstance(why, str) else why.cast(pl.String)


RESULTS_SCHEMA: dict[str, pl.DataType] = {
    "niveau": pl.String(),
    "regle": pl.String(),
    "finess_eg": pl.String(),
    "raison_sociale": pl.String(),
    "departement": pl.String(),
    "statut": pl.String(),
    "entite": pl.String(),
    "nom_entite": pl.String(),
    "resultat": pl.String(),
    "motif": pl.String(),
    "valeur": pl.String(),
    "severite": pl.String(),
}


def evaluate_lazy(
    tables: Mapping[str, pl.DataFrame | pl.LazyFrame],
    as_of: dt.date | dt.datetime | None,
    params: CampaignParams | None = None,
    rules: Sequence[Rule] = RULES,
    snapshot_col: str | None = None,
) -> pl.LazyFrame:
    """Lazy version of ``evaluate`` (same columns, not sorted).

    With ``snapshot_col`` the tables hold several snapshots stacked, told apart by that
    ``Date`` column (``store.scan_table`` names it ``date_snapshot``): every join, unique
    and window stays within a snapshot, ``as_of`` is each row's snapshot date (the argument
    is ignored) and the column comes first in the result. One lazy plan then evaluates the
    rules of a whole history, with the same results as snapshot by snapshot.
    """
    params = params or CampaignParams()
    chosen = active_rules(params, rules)
    referenced = _referenced(chosen, params)
    keys = [snapshot_col] if snapshot_col else []
    parts = []
    for level in LEVELS:
        level_rules = [r for r in chosen if r.level == level]
        if not level_rules:
            continue
        lf = _level_frame(
            level, tables, referenced.get(level, set()), as_of, params, snapshot_col
        )
        wide = lf.with_columns([_first_failure(r, params) for r in level_rules]).select(
            *keys,
            pl.lit(level).alias("niveau"),
            "finess_eg",
            "entite",
            "nom_entite",
            *[_verdict(r, params) for r in level_rules],
        )
        long = (
            wide.unpivot(
                on=[r.id for r in level_rules],
                index=[*keys, "niveau", "finess_eg", "entite", "nom_entite"],
                variable_name="regle",
                value_name="_v",
            )
            .filter(pl.col("_v").is_not_null())
            .unnest("_v")
        )
        parts.append(long)
    out_schema = {**dict.fromkeys(keys, pl.Date()), **RESULTS_SCHEMA}
    if not parts:
        return pl.DataFrame(schema=out_schema).lazy()
    results = sync.with_establishment(
        pl.concat(parts, how="vertical_relaxed"),
        _table(tables, "etablissements", snapshot_col),
        "statut",
        snapshot_col,
    ).with_columns(
        pl.col("regle")
        .replace_strict({r.id: r.severity for r in chosen}, return_dtype=pl.String)
        .alias("severite")
    )
    return results.select(list(out_schema))


def evaluate(
    tables: Mapping[str, pl.DataFrame | pl.LazyFrame],
    as_of: dt.date | dt.datetime,
    params: CampaignParams | None = None,
    rules: Sequence[Rule] = RULES,
) -> pl.DataFrame:
    """Result of every rule on every entity of a snapshot: one row per (entity, rule).

    ``as_of`` is the snapshot date (or exact moment), used by the synchronisation rule.
    Columns (``RESULTS_SCHEMA``): ``niveau``, ``regle``, ``finess_eg``, ``raison_sociale``,
    ``departement``, ``statut`` (legal status), ``entite`` (FINESS, uo_id or vt_id),
    ``nom_entite``, ``resultat`` (ok / manquant / invalide), ``motif``, ``valeur``.
    Sorted by establishment, level, entity and rule order.
    """
    order = {r.id: i for i, r in enumerate(rules)}
    levels = {lvl: i for i, lvl in enumerate(LEVELS)}
    return (
        evaluate_lazy(tables, as_of, params, rules)
        .with_columns(
            pl.col("regle").replace_strict(order, return_dtype=pl.Int32).alias("_r"),
            pl.col("niveau").replace_strict(levels, return_dtype=pl.Int32).alias("_l"),
        )
        .sort("finess_eg", "_l", "entite", "_r", nulls_last=True)
        .drop("_r", "_l")
        .collect()
    )


# ------------------------------------------------------------------------- completion


def _counts(frame: pl.LazyFrame | pl.DataFrame, keys: Sequence[str]) -> pl.LazyFrame:
    """Items, ok / manquant / invalide counts, what remains and the ok share, per ``keys``."""
    return (
        frame.lazy()
        .group_by(list(keys) if keys else pl.lit("ensemble").alias("ensemble"))
        .agg(
            (pl.col("resultat") == OK).sum().cast(pl.Int64).alias("conformes"),
            (pl.col("resultat") == MANQUANT).sum().cast(pl.Int64).alias("manquants"),
            (pl.col("resultat") == INVALIDE).sum().cast(pl.Int64).alias("invalides"),
            pl.len().cast(pl.Int64).alias("total"),
        )
        .with_columns(
            (pl.col("manquants") + pl.col("invalides")).alias("reste"),
            (pl.col("conformes") / pl.col("total")).alias("taux"),
        )
    )


def _obligatory(results: pl.DataFrame) -> pl.DataFrame:
    """The results of *obligatoire* rules: the only ones counted against an establishment
    (results without a ``severite`` column count whole)."""
    if "severite" not in results.columns:
        return results
    return results.filter(pl.col("severite").fill_null(OBLIGATOIRE) == OBLIGATOIRE)


def _advice_left(results: pl.DataFrame, keys: Sequence[str]) -> pl.LazyFrame:
    """Per ``keys``: ``conseils``, the *conseillé* items not ok (advice, not counted)."""
    advice = (
        pl.col("severite") == CONSEILLE if "severite" in results.columns else pl.lit(False)
    )
    return (
        results.lazy()
        .group_by(list(keys))
        .agg(((pl.col("resultat") != OK) & advice).sum().cast(pl.Int64).alias("conseils"))
    )


def completion_by_rule(results: pl.DataFrame, rules: Sequence[Rule] = RULES) -> pl.DataFrame:
    """Per rule: ``regle``, ``niveau``, ``libelle``, ``conformes``, ``manquants``,
    ``invalides``, ``reste``, ``total``, ``taux`` (ok share, 0–1) and ``severite``, in rule
    order. *Conseillé* rules are listed with their own rates (they count nowhere else).

    Rules with no entity in scope are left out.
    """
    return (
        _counts(results, ["regle"])
        .join(rules_frame(rules).lazy().drop("aide"), on="regle", how="inner")
        .sort("ordre")
        .select(
            "regle",
            "niveau",
            "libelle",
            "conformes",
            "manquants",
            "invalides",
            "reste",
            "total",
            "taux",
            "severite",
        )
        .collect()
    )


def completion_overall(results: pl.DataFrame) -> dict[str, float | int]:
    """All *obligatoire* items together: ``conformes``, ``manquants``, ``invalides``,
    ``reste``, ``total``, ``taux``; ``conseils`` (*conseillé* items not ok, never counted);
    ``etablissements`` and ``etablissements_complets`` (no obligatoire item left)."""
    counted = _obligatory(results)
    row = (
        _counts(counted, []).collect().row(0, named=True)
        if counted.height
        else {"conformes": 0, "manquants": 0, "invalides": 0, "reste": 0, "total": 0, "taux": None}
    )
    per_eg = (
        results.select("finess_eg")
        .unique()
        .join(_counts(counted, ["finess_eg"]).collect(), on="finess_eg", how="left")
        .with_columns(pl.col("reste").fill_null(0))
    )
    row.pop("ensemble", None)
    row["conseils"] = int(_advice_left(results, []).collect()["conseils"].sum()) if (
        results.height
    ) else 0
    row["etablissements"] = per_eg.height
    row["etablissements_complets"] = int((per_eg["reste"] == 0).sum())
    return row


def completion_by(
    results: pl.DataFrame, by: str | Sequence[str], rules: Sequence[Rule] = RULES
) -> pl.DataFrame:
    """Completion per group and rule (long): ``by`` columns, ``regle``, counts, ``taux``.

    ``by`` is any column of the results: ``departement``, ``statut``, ``finess_eg``…
    """
    keys = [by] if isinstance(by, str) else list(by)
    order = {r.id: i for i, r in enumerate(rules)}
    return (
        _counts(results, [*keys, "regle"])
        .with_columns(
            pl.col("regle")
            .replace_strict(order, default=len(order), return_dtype=pl.Int32)
            .alias("_o")
        )
        .sort([*keys, "_o"], nulls_last=True)
        .drop("_o")
        .collect()
    )


def completion_table(results: pl.DataFrame, by: str, rules: Sequence[Rule] = RULES) -> pl.DataFrame:
    """Wide completion table per group: ``by`` (with the name and département when ``by`` is
    ``finess_eg``), ``total``, ``conformes``, ``reste``, ``taux`` (*obligatoire* rules), then
    one ok share column per rule, *conseillé* ones included (named by rule id; null where
    the rule has no entity)."""
    keys = ["finess_eg", "raison_sociale", "departement"] if by == "finess_eg" else [by]
    overall = _counts(_obligatory(results), keys).select(
        *keys, "total", "conformes", "reste", "taux"
    )
    per_rule = completion_by(results, keys, rules)
    present = [r.id for r in rules if r.id in set(per_rule["regle"].to_list())]
    if per_rule.height:
        wide = per_rule.pivot(on="regle", index=keys, values="taux").lazy()
        out = overall.join(wide, on=keys, how="left", nulls_equal=True)
    else:
        out = overall
    return (
        out.select(*keys, "total", "conformes", "reste", "taux", *present)
        .sort(keys, nulls_last=True)
        .collect()
    )


def establishment_ranking(results: pl.DataFrame) -> pl.DataFrame:
    """Establishments ranked by what remains to do (most first, then lowest ok share),
    counting *obligatoire* items only.

    Columns: ``rang``, ``finess_eg``, ``raison_sociale``, ``departement``, ``statut``,
    ``total``, ``conformes``, ``manquants``, ``invalides``, ``reste``, ``taux``,
    ``conseils`` (*conseillé* items not ok, advice only).
    """
    keys = ["finess_eg", "raison_sociale", "departement", "statut"]
    return (
        _counts(_obligatory(results), keys)
        .join(_advice_left(results, keys), on=keys, how="left", nulls_equal=True)
        .with_columns(pl.col("conseils").fill_null(0))
        .sort(["reste", "taux", "finess_eg"], descending=[True, False, False])
        .with_row_index("rang", offset=1)
        .select(
            "rang", *keys, "total", "conformes", "manquants", "invalides", "reste", "taux",
            "conseils",
        )
        .collect()
    )


