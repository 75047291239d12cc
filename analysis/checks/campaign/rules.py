"""Campaign checklist rules: the rule table (``RULES``, data) and the expressions it uses.

Each rule is a ``Check`` of ``analysis.checks.engine``; its helper expressions sit above it.

During the SSR → SMR campaign every establishment checks and updates its data in the ROR
and in ViaTrajectoire. Each item to check is a *rule*, declared as data in ``RULES``: an
id, the level of entity it applies to, a French label, the help text sent to the
establishment, and the failing conditions as Polars expressions, tried in order:

- the first failing condition gives the result (``MISSING`` or ``INVALID``, stored as
  ``manquant`` or ``invalide``) and a reason (``motif``, French); no failing condition
  gives ``ok``;
- ``value`` is the current value shown in to-do lists (``personal`` ones are masked);
- ``applies`` restricts a rule to some entities (others are not counted at all).

Adding a rule is one entry in ``RULES``: evaluation (``checklist``), completion, progress,
to-do lists, commands and pages pick it up. The frames the rules read are built in
``frames``.

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
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import polars as pl

from analysis.checks.engine import (
    ADVISED,
    INVALID,
    MISSING,
    PASS,
    REQUIRED,
    SEVERITY_LABELS,
    Check,
    Failure,
    Vocabulary,
)
from analysis.indicators import sync
from analysis.model import nomenclature as nom
from analysis.model.nomenclature import (
    BURNS_MENTION,
    MINOR_EXCEPTION_AGE,
    PEDIATRIC_MENTIONS,
    YOUNG_CHILD_AGE,
)
from analysis.model.syntax import any_valid_phone, blank, is_email

#: How campaign results are written: ``resultat`` holds ``ok`` / ``manquant`` / ``invalide``.
VOCABULARY = Vocabulary(
    codes={PASS: "ok", MISSING: "manquant", INVALID: "invalide"},
    check_column="regle",
    status_column="resultat",
    count_columns={PASS: "conformes", MISSING: "manquants", INVALID: "invalides"},
    scope_column="total",
    left_column="reste",
)
#: Stored codes of the results (the values of ``resultat``).
OK, MANQUANT, INVALIDE = (VOCABULARY.codes[s] for s in (PASS, MISSING, INVALID))
RESULTS: tuple[str, ...] = (OK, MANQUANT, INVALIDE)

#: Severity of a rule (campaign guide): *obligatoire* items count in conformity and in
#: « à jour »; *conseillé* ones are shown and listed in to-dos as advice, never counted
#: against the establishment.
OBLIGATOIRE, CONSEILLE = REQUIRED, ADVISED
SEVERITIES: dict[str, str] = SEVERITY_LABELS

ETABLISSEMENT, UNITE, UNITE_VT = "etablissement", "unite", "unite_vt"
LEVELS: dict[str, str] = {
    ETABLISSEMENT: "Établissement",
    UNITE: "Unité (ROR)",
    UNITE_VT: "Unité ViaTrajectoire",
}
#: Source table, key column and display-name column of each level.
LEVEL_SOURCE: dict[str, tuple[str, str, str]] = {
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


#: A campaign rule is a check of the engine (the name stays for callers and notebooks).
Rule = Check

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
            MISSING,
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
            MISSING,
            _missing({"age_min": "âge minimum", "age_max": "âge maximum"}),
        ),
        (
            (amin < lo) | (amax > hi) | (amin > amax),
            INVALID,
            pl.format("tranche d'âge incohérente ({}–{} ans)", amin, amax),
        ),
        (
            (amin < MINOR_EXCEPTION_AGE) & ~_has_pediatric() & ~burns_ok,
            INVALID,
            pl.format(
                "accueille des mineurs dès {} ans sans mention pédiatrique (ME060 ou ME061) ; "
                "sans elle, seuls les mineurs de {} ans et plus peuvent être admis",
                amin,
                pl.lit(MINOR_EXCEPTION_AGE),
            ),
        ),
        (
            (amin < YOUNG_CHILD_AGE) & ~_has(YOUNG_CHILD_MENTION) & ~burns_ok,
            INVALID,
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
            INVALID,
            pl.format("guichet unique « {} » inconnu de ViaTrajectoire", pl.col("guichet_id")),
        ),
        (
            in_guichet & _any_blank("g_responsable_nom", "g_telephone", "g_email"),
            MISSING,
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
            INVALID,
            pl.lit("guichet unique : téléphone ou e-mail invalide"),
        ),
        (
            unit & _any_blank("responsable_admissions_nom", "responsable_admissions_email"),
            MISSING,
            _missing(
                {
                    "responsable_admissions_nom": "nom du responsable des admissions",
                    "responsable_admissions_email": "e-mail du responsable des admissions",
                }
            ),
        ),
        (
            unit & _bad_email("responsable_admissions_email"),
            INVALID,
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
                MISSING,
                f"aucun compte {name} avec le rôle {roles}",
            ),
            (
                pl.col(f"{p}_valides") == 0,
                INVALID,
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
            MISSING,
            "aucune habilitation ViaTrajectoire connue pour le responsable des admissions",
        ),
        (
            ~pl.col("adm_valide"),
            INVALID,
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
            MISSING,
            _missing(
                {
                    "directeur_telephone": "téléphone du directeur",
                    "directeur_email": "e-mail du directeur",
                }
            )
            + pl.lit(" (ni, à défaut, ceux du président de CME)"),
        ),
        (neither & _bad_phone("directeur_telephone"), INVALID, "téléphone du directeur invalide"),
        (neither & _bad_email("directeur_email"), INVALID, "e-mail du directeur mal formé"),
        (
            neither & _bad_phone("cme_president_telephone"),
            INVALID,
            "téléphone du président de CME invalide",
        ),
        (
            neither & _bad_email("cme_president_email"),
            INVALID,
            "e-mail du président de CME mal formé",
        ),
    ]


# ------------------------------------------------------------------------------ rules

RULES: tuple[Check, ...] = (
    Check(
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
    Check(
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
    Check(
        "eg_surnom",
        ETABLISSEMENT,
        "Surnom de l'établissement (si nécessaire)",
        "Conseillé : vérifier dans le ROR (fiche EG) le surnom de l'établissement et le "
        "renseigner si nécessaire (flèche d'action, « Renommer », puis « Enregistrer »).",
        lambda p: [(blank(pl.col("surnom")), MISSING, "surnom non renseigné")],
        value=lambda: pl.col("surnom"),
        severity=ADVISED,
    ),
    Check(
        "eg_nom_officiel",
        ETABLISSEMENT,
        "Nom officiel (comparé au FINESS)",
        "Vérifier dans le ROR (fiche EG) le nom officiel de l'établissement. L'établissement "
        "ne peut pas le modifier lui-même : s'il est incorrect, le signaler au support.",
        lambda p: [
            (
                _folded("raison_sociale") != _folded("finess_raison_sociale"),
                INVALID,
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
    Check(
        "eg_adresse",
        ETABLISSEMENT,
        "Adresse de l'établissement",
        "Vérifier dans le ROR (fiche EG) l'adresse de l'établissement (numéro et voie, code "
        "postal à 5 chiffres). L'établissement ne peut pas la modifier lui-même : si elle est "
        "incorrecte ou incomplète, la signaler au support.",
        lambda p: [
            (
                _any_blank("adresse", "code_postal"),
                MISSING,
                _missing({"adresse": "adresse", "code_postal": "code postal"})
                + pl.lit(" : à signaler au support"),
            ),
            (
                ~pl.col("code_postal").str.strip_chars().str.contains(r"^\d{5}$"),
                INVALID,
                pl.lit("code postal invalide (5 chiffres attendus) : à signaler au support"),
            ),
        ],
        value=lambda: pl.concat_str(
            [pl.col("adresse"), pl.col("code_postal")], separator=", ", ignore_nulls=True
        ),
        support=True,
    ),
    Check(
        "eg_email_alerte",
        ETABLISSEMENT,
        "E-mail d'alerte (cyberattaque)",
        "Renseigner dans le ROR (fiche EG) le mail d'alerte, utile en cas de cyberattaque : "
        "une adresse fonctionnelle et surveillée en permanence.",
        lambda p: [
            (blank(pl.col("email_alerte")), MISSING, "e-mail d'alerte non renseigné"),
            (_bad_email("email_alerte"), INVALID, "e-mail d'alerte mal formé"),
        ],
        value=lambda: pl.col("email_alerte"),
        personal=True,
    ),
    Check(
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
    Check(
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
    Check(
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
                MISSING,
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
    Check(
        "uo_nom_smr",
        UNITE,
        "Nom de l'unité : SSR remplacé par SMR (conseillé)",
        "Conseillé, facultatif : dans l'attente de la mise à jour des autorisations, remplacer "
        "l'appellation « SSR » par « SMR » dans le nom de l'unité (fiche UO du ROR, flèche "
        "d'action, « Renommer »). Le grand groupe de discipline « SSR » et le « Type d'UO » "
        "seront modifiés ultérieurement de façon automatique : rien à faire de votre part.",
        lambda p: [
            (blank(pl.col("nom")), MISSING, "nom de l'unité non renseigné"),
            (
                pl.col("nom").str.contains(SSR_PATTERN),
                INVALID,
                "le nom mentionne encore le SSR (le renommer en SMR est conseillé)",
            ),
        ],
        value=lambda: pl.col("nom"),
        severity=ADVISED,
    ),
    Check(
        "uo_telephone",
        UNITE,
        "Téléphone de l'unité",
        "Renseigner dans le ROR (fiche UO) au moins un numéro de contact joignable par des "
        "professionnels externes à votre structure (numéro à 10 chiffres, pas un poste "
        "interne).",
        lambda p: [
            (blank(pl.col("telephone")), MISSING, "téléphone de l'unité non renseigné"),
            (
                _bad_phone("telephone"),
                INVALID,
                "aucun numéro joignable de l'extérieur (10 chiffres attendus, pas un poste "
                "interne)",
            ),
        ],
        value=lambda: pl.col("telephone"),
    ),
    Check(
        "uo_responsable",
        UNITE,
        "Responsable de l'unité",
        "Renseigner dans le ROR (encadré « Responsable » de la fiche UO) les coordonnées du "
        "responsable de l'unité (médecin, cadre infirmier…) : son nom et au moins un moyen de "
        "le joindre (téléphone direct ou e-mail).",
        lambda p: [
            (blank(pl.col("responsable_nom")), MISSING, "nom du responsable non renseigné"),
            (
                blank(pl.col("responsable_telephone")) & blank(pl.col("responsable_email")),
                MISSING,
                "ni téléphone ni e-mail du responsable",
            ),
            (_bad_phone("responsable_telephone"), INVALID, "téléphone du responsable invalide"),
            (_bad_email("responsable_email"), INVALID, "e-mail du responsable mal formé"),
        ],
        value=lambda: _joined(
            ("responsable_nom", "nom"),
            ("responsable_telephone", "tél."),
            ("responsable_email", "e-mail"),
        ),
        personal=True,
    ),
    Check(
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
    Check(
        "uo_verifie",
        UNITE,
        "Fiche unité vérifiée",
        "Vérifier la fiche de l'unité dans le ROR et l'enregistrer, même si rien n'a changé "
        "(par défaut avec la date du jour) : la date de mise à jour atteste la vérification.",
        _not_verified,
        value=_date_value,
        enabled=lambda p: p.start is not None,
    ),
    Check(
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
                MISSING,
                "aucune unité ViaTrajectoire rattachée à cette unité du ROR : à signaler au "
                "support",
            )
        ],
        support=True,
    ),
    Check(
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
    Check(
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
    Check(
        "vt_synchronise",
        UNITE_VT,
        "Unité synchronisée avec le ROR",
        "Les données de l'unité (nom, téléphone, âges) viennent du ROR par la synchronisation "
        "quotidienne de 18 h : ne pas les ressaisir dans ViaTrajectoire. Une unité non "
        "synchronisée ou sans lien avec le ROR est un problème de synchronisation : le "
        "signaler au support.",
        lambda p: [
            (pl.col("statut_sync") == sync.ABSENT_ROR, MISSING, pl.col("motif_sync")),
            (pl.col("statut_sync") == sync.DESYNCHRONISE, INVALID, pl.col("motif_sync")),
        ],
        value=lambda: pl.col("ecarts"),
        support=True,
    ),
)

RULE_BY_ID: dict[str, Check] = {r.id: r for r in RULES}


def rules_frame(rules: Sequence[Check] = RULES) -> pl.DataFrame:
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
