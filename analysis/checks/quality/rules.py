"""National ROR quality requirements for SMR: the requirement table (``REQUIREMENTS``) and
the conditions it uses; evaluation and aggregates are in ``requirements``, the frames of each
level in ``frames``, the parameters and former readings in ``readings``.

The national ROR team (ANS) computes every week the quality requirements of the ROR and every
quarter the follow-up of its population (« suivi du peuplement ») and of the ROR →
ViaTrajectoire synchronisation (reference: ``shared/reference/ROR_QUALITY.md``, an own-words
summary of the ANS BI views). The workbench gives a regional project lead the same figures for
SMR, per département and establishment, before the national report does, with the list of
entities to fix and the reason in French.

Requirements are data (``REQUIREMENTS``), checks of ``analysis.checks.engine`` like the
campaign rules: a code, the level of entity it applies to, a label, the help text for the
establishment, the *exclusions* (first matching one: not applicable, with its reason) and the
*failures* (first matching one: ``FAIL``, an écart, with its reason), as Polars expressions
over the level's frame. Adding a requirement is one entry. Each entity gets ``conforme``,
``ecart`` or ``non_applicable`` (``PASS``, ``FAIL``, ``NOT_APPLICABLE``); the aggregate counts
the perimeter (conforme + écart) and the écarts per requirement × département, like the
national weekly table (``V_IND_QualiteROR``).

Levels: ``eg_ror`` (one ROR EG of ``etablissements``), ``eg_finess`` (one EG of the FINESS
reference ``finess_etablissements``), ``unite`` (one unit of ``unites``), ``autorisation`` (one
ROR EG × SMR mention authorised).

Decisions on semantics (quoted passages are from ROR_QUALITY.md). By default the rules read
the data as the national SQL does (ansforge/ROR-indicateurs-BI-SQL), NULLs included; each
former reading of the workbench is a switch of ``QualityParams`` (``READINGS``, listed with
the SQL line in ``docs/ecarts_vue_nationale.md``):

- **SMR perimeter** (EX1.2, CP4): « open FINESS EGs » (« opening date set, no closing date,
  not caduc. Département 975 is excluded ») of a Sanitaire category (J55 list) holding an SMR
  authorisation: « activity 50–59 with forme ≠ 05 » and « Authorisations count if they end on
  or after 2021-05-01 ». HAD-SMR « counts as MCO » and is left out. New-regime rows (an SMR
  mention, forme ≠ 05) count too [inferred: the ANS view predates them]. As the SQL reads
  it, an authorisation without end date (``dtfin_acts >= '2021-05-01'`` is unknown) or
  without forme (``cdforme_acts != '05'`` is unknown) does not count
  (``count_open_ended_authorisations``, ``count_formless_authorisations``). An EG's rows in
  the snapshot's ``autorisations`` decide; the FINESS reference's count
  (``nb_autorisations_smr``, made at import) stands in for EGs without rows (absent from
  the ROR). EX1.2 is limited to this SMR perimeter (the national one also covers MCO, PSY
  and medico-social EGs, outside an SMR workbench).
- **Dates**: as in the views (``DateFermeture IS NULL``, ``dtouvertstruct_stru IS NOT
  NULL``), a closing or opening date set counts whatever its value
  (``future_dates_pending``: a future one is a planned change, the entity still open or not
  open yet).
- **EX2**: the five WHEN of the view in its order, with ROR states Ouvert / Fermé
  provisoirement (type PRO) / Fermé définitivement (any other type, or none, as in the ANS
  view). The third WHEN (« dtfermestruct_stru IS NULL AND Ror.DateFermeture IS NOT NULL »)
  also holds for a number FINESS does not know and for a caduc EG without closing date
  (``ex2_closed_absent_conforme``, ``ex2_caduc_closed_conforme``); a ROR closure without
  type never differs in type (``ex2_untyped_closure_definitive``).
- **ST2 / CO4**: scope « ROR EGs with a FINESS number that are open or provisionally
  closed »; an EG unknown to the FINESS reference is an écart of both (as in the ANS view,
  where the missing FINESS value differs); CO4 is not applicable to SA05/07/08/09.
- **ST3**: « Conforme if IdNat_Struct occurs once within its region »; a snapshot holds one
  region's extract, so the count is over the snapshot's open EGs of a category other than
  SA05–09 (EJ are not in the extract; an EG without category is not in the view:
  ``st3_missing_category_in_scope``). EGs without identifier form one group, as the view's
  ``PARTITION BY`` does (``st3_missing_identifier_not_applicable``); when no EG has one (the
  column was not extracted) ST3 is not applicable rather than every EG a duplicate.
- **RE1.2**: every live offer of the EG counts, whatever its champ, as in the view
  (``re12_smr_offers_only``: SMR offers only); freshness of an offer (a unit of ``unites``) is
  the latest of its ``date_maj``
  and ``date_maj_contacts``; fresh when strictly after the snapshot date minus one year
  (00:00). Conforme per open EG « if it has no offers; or it has fewer than 8 offers and at
  least 1 is fresh; or it has 8 or more offers and the rounded fresh share is ≥ 0.25 »; the
  share is rounded to two decimals half up (SQL ``ROUND``), in integer arithmetic.
- **CP4 / population follow-up**: unit flags champ, mode de prise en charge, patientèle,
  activité opérationnelle, address, contact (see ``unit_flags``); unit status Finalisé (all
  flags), En cours (at least one), À faire (none). EG status per target EG × champ SMR:
  « Finalise: at least one offer, and all offers are finalised. En cours: at least one offer
  is En cours. A faire: anything else » — so an EG with finalised and À faire units but none
  En cours is À faire, as in the ANS view. Units of the EG count when their champ is 02 or
  missing (the ANS view joins a unit without champ to every champ row of its EG). « A row
  whose StatutPeuplement ≠ 'Finalise' is an Ecart. » Without a FINESS reference the target
  is approached by the ROR EGs open with an SMR authorisation (``perimetre_source`` = ROR).
- **Local rules** (not national): ``LOC-CAPACITE``, units in full or day hospitalisation
  (HC, HJ: NOS 28, 29) need a capacity above zero on each of those offers (a missing one is
  an écart, like CP6 « NbPlacesInstallees > 0 »); ``LOC-AUTORISATION``, each SMR mention
  authorised (new regime, outside HAD, in force at the snapshot date) needs a live unit of
  the EG offering that mention [inferred, pattern of EX3/CO1].

The population follow-up over quarters is in ``population``, the ViaTrajectoire sync report in
``vt_report``, the reading of a FINESS reference file in ``analysis.io.finess_reference``.
"""

import datetime as dt
from collections.abc import Sequence

import polars as pl

from analysis.checks.engine import (
    FAIL,
    NOT_APPLICABLE,
    PASS,
    Check,
    Exclusion,
    Failure,
    Vocabulary,
)
from analysis.checks.quality.frames import (
    _NO_IDENTIFIER,
    AUTORISATION,
    EG_FINESS,
    EG_ROR,
    FERME_DEF,
    FERME_PRO,
    FINALISE,
    PEUPLEMENT_LABELS,
    UNITE,
    _fmt_date,
    _planned,
    _since,
)
from analysis.checks.quality.readings import QualityParams
from analysis.model import nomenclature as nom
from analysis.model.syntax import blank

#: How quality results are written: ``statut`` holds ``conforme`` / ``ecart`` /
#: ``non_applicable``; the scope of a count (``perimetre``) leaves the non applicable out.
VOCABULARY = Vocabulary(
    codes={PASS: "conforme", FAIL: "ecart", NOT_APPLICABLE: "non_applicable"},
    check_column="exigence",
    status_column="statut",
    count_columns={PASS: "conformes", FAIL: "ecarts", NOT_APPLICABLE: "non_applicables"},
    scope_column="perimetre",
)
#: Stored codes of the results (the values of ``statut``).
CONFORME, ECART, NON_APPLICABLE = (VOCABULARY.codes[s] for s in (PASS, FAIL, NOT_APPLICABLE))
STATUTS: tuple[str, ...] = (CONFORME, ECART, NON_APPLICABLE)
STATUT_LABELS: dict[str, str] = {
    CONFORME: "Conforme",
    ECART: "Écart",
    NON_APPLICABLE: "Non applicable",
}

#: Tables a requirement comparing with FINESS needs (skipped without them).
NEEDS_FINESS: tuple[str, ...] = ("finess_etablissements",)

# ------------------------------------------------------------------------ FINESS level

def _target_exclusions(_: QualityParams) -> list[Exclusion]:
    """Why a FINESS EG is outside the SMR perimeter (EX1.2 and CP4), first reason first."""
    return [
        (
            ~pl.col("f_ouvert"),
            pl.when(pl.col("date_ouverture").is_null())
            .then(pl.lit("hors périmètre : pas de date d'ouverture dans FINESS"))
            .otherwise(
                pl.lit("hors périmètre : ouverture prévue le ")
                + _fmt_date(pl.col("date_ouverture"))
            ),
        ),
        (
            pl.col("f_ferme"),
            pl.when(_planned("date_fermeture"))
            .then(pl.lit("hors périmètre : fermeture enregistrée dans FINESS, prévue le "))
            .otherwise(pl.lit("hors périmètre : fermé dans FINESS depuis le "))
            + _fmt_date(pl.col("date_fermeture")),
        ),
        (pl.col("f_caduc"), "hors périmètre : caduc dans FINESS"),
        (
            pl.col("departement") == nom.DEPARTEMENT_EXCLU,
            "hors périmètre : département 975 exclu",
        ),
        (
            ~pl.col("sanitaire"),
            pl.lit("hors périmètre : catégorie ")
            + pl.col("categorie").fill_null("non renseignée")
            + pl.lit(" hors du domaine sanitaire"),
        ),
        (
            ~pl.col("a_autorisation_smr") & pl.col("a_autorisation_had"),
            "hors périmètre : autorisation SMR en hospitalisation à domicile seulement "
            "(forme 05, comptée en MCO)",
        ),
        (
            ~pl.col("a_autorisation_smr")
            & (pl.col("_auth_lignes").fill_null(0) > 0)
            & (pl.col("_auth_sans_fin_ou_forme").fill_null(0) > 0),
            "hors périmètre : autorisation(s) SMR sans date de fin ou sans forme, non comptées "
            "comme dans la vue nationale (fin au 01/05/2021 ou après, forme autre que 05)",
        ),
        (~pl.col("a_autorisation_smr"), "hors périmètre : aucune autorisation SMR en vigueur"),
    ]


def _population_reason() -> pl.Expr:
    nb, fin, enc = pl.col("nb_unites"), pl.col("nb_finalisees"), pl.col("nb_en_cours")
    return (
        pl.when(~pl.col("dans_ror"))
        .then(pl.lit("établissement absent du ROR : aucune offre SMR décrite"))
        .when(nb == 0)
        .then(pl.lit("aucune offre SMR décrite dans le ROR"))
        .otherwise(
            pl.format(
                "peuplement « {} » : {} offre(s) SMR finalisée(s) sur {} ({} en cours)",
                pl.col("statut_peuplement").replace_strict(PEUPLEMENT_LABELS),
                fin,
                nb,
                enc,
            )
        )
    )



# ------------------------------------------------------------------------ ROR EG level


def _not_open_or_provisional() -> Exclusion:
    return (
        pl.col("ror_ferme") & (pl.col("etat_ror") == FERME_DEF),
        "hors périmètre : fermé définitivement dans le ROR",
    )


def _st3_failures(_: QualityParams) -> list[Failure]:
    return [
        (
            (pl.col("nb_meme_identifiant") > 1) & (pl.col("_id") == _NO_IDENTIFIER),
            FAIL,
            pl.format(
                "identifiant national de structure non renseigné, comme pour {} établissements "
                "ouverts (aussi : {}) : la vue nationale les compte comme un même identifiant",
                pl.col("nb_meme_identifiant"),
                pl.col("autres_porteurs"),
            ),
        ),
        (
            pl.col("nb_meme_identifiant") > 1,
            FAIL,
            pl.format(
                "identifiant {} porté par {} établissements ouverts (aussi : {})",
                pl.col("_id"),
                pl.col("nb_meme_identifiant"),
                pl.col("autres_porteurs"),
            ),
        ),
    ]


def _st3_exclusions(params: QualityParams) -> list[Exclusion]:
    out: list[Exclusion] = [
        (pl.col("ror_ferme"), "hors périmètre : fermé dans le ROR"),
        (pl.col("categorie_sa"), "hors périmètre : catégorie SA05, SA07, SA08 ou SA09"),
        (
            ~pl.col("st3_categorie_ok"),
            "hors périmètre : catégorie non renseignée (la vue nationale ne retient que les "
            "catégories renseignées)",
        ),
    ]
    if params.st3_missing_identifier_not_applicable:
        out.append(
            (
                blank(pl.col("id_nat_struct")),
                "identifiant national de structure non renseigné : doublon non vérifiable",
            )
        )
    else:
        out.append(
            (
                ~pl.col("identifiants_extraits"),
                "identifiant national de structure absent de l'extraction : doublon non "
                "vérifiable",
            )
        )
    return out


def _absent_from_finess() -> Failure:
    return (~pl.col("f_present"), FAIL, "numéro FINESS absent du référentiel FINESS")


def _re12_failures(params: QualityParams) -> list[Failure]:
    nb, fresh = pl.col("nb_offres"), pl.col("nb_offres_a_jour")
    last = pl.col("derniere_maj_offre")
    last_text = (
        pl.when(last.is_not_null())
        .then(pl.lit(" ; dernière mise à jour le ") + _fmt_date(last))
        .otherwise(pl.lit(""))
    )
    return [
        (
            (nb > 0) & (nb < params.re12_min_offers) & (fresh == 0),
            FAIL,
            pl.format(
                "aucune des {} offre(s) mise à jour depuis plus d'un an (limite {}){}",
                nb,
                _fmt_date(pl.col("_limite_re12")),
                last_text,
            ),
        ),
        (
            (nb >= params.re12_min_offers)
            & (pl.col("pct_offres_a_jour") < params.re12_min_share_pct),
            FAIL,
            pl.format(
                "{} offre(s) sur {} mises à jour depuis le {} ({} %, au moins {} % attendus)",
                fresh,
                nb,
                _fmt_date(pl.col("_limite_re12")),
                pl.col("pct_offres_a_jour"),
                pl.lit(params.re12_min_share_pct),
            ),
        ),
    ]


def _ex2_failures(params: QualityParams) -> list[Failure]:
    """EX2's écart cases in the national view's order:

    « WHEN Finess.nmfinessetab_stru IS NULL AND Ror.DateFermeture IS NULL THEN 'Ecart'
    WHEN (Finess.dtfermestruct_stru IS NOT NULL OR Finess.cdconstatcaducite_stru = 'O')
    AND Ror.DateFermeture IS NULL THEN 'Ecart'
    WHEN Finess.dtfermestruct_stru IS NULL AND Ror.DateFermeture IS NOT NULL THEN 'Ecart'
    WHEN Finess.cdtypefermestruct_stru = 'PRO' AND Ror.CodeNOS_TypeFermeture <> 'PRO' THEN
    'Ecart' WHEN Finess.cdtypefermestruct_stru = 'DEF' AND Ror.CodeNOS_TypeFermeture <> 'DEF'
    THEN 'Ecart' ». The third case holds for a number FINESS does not know and for a caduc
    EG without closing date (no FINESS date either way); a ROR closure without type never
    differs in type (``<>`` with NULL is not true). The switches restore the workbench's
    former readings (``READINGS``).
    """
    ror_open, f_present = ~pl.col("ror_ferme"), pl.col("f_present")
    f_closed, f_caduc = pl.col("f_ferme"), pl.col("f_caduc")
    third = ~f_closed & pl.col("ror_ferme")
    if params.ex2_closed_absent_conforme:
        third = third & f_present
    if params.ex2_caduc_closed_conforme:
        third = third & ~f_caduc
    ror_state = pl.format(
        "{} dans le ROR ({})", pl.col("etat_ror").str.to_lowercase(), _since("date_fermeture")
    )
    ror_type = pl.col("type_fermeture")
    if params.ex2_untyped_closure_definitive:
        gate = f_present & f_closed & pl.col("ror_ferme")
        not_pro = pl.col("etat_ror") != FERME_PRO
        not_def = pl.col("etat_ror") == FERME_PRO
    else:
        gate = pl.lit(True)
        not_pro = ror_type.is_not_null() & (ror_type != nom.FERMETURE_PROVISOIRE)
        not_def = ror_type.is_not_null() & (ror_type != nom.FERMETURE_DEFINITIVE)
    if params.ex2_caduc_closed_conforme:
        gate = gate & ~f_caduc
    return [
        (
            ~f_present & ror_open,
            FAIL,
            "numéro FINESS inconnu du référentiel FINESS alors que l'établissement est ouvert "
            "dans le ROR",
        ),
        (
            f_present & (f_closed | f_caduc) & ror_open,
            FAIL,
            pl.format("{} dans FINESS mais ouvert dans le ROR", pl.col("etat_finess")),
        ),
        (
            third,
            FAIL,
            pl.when(~f_present)
            .then(pl.lit("numéro absent du référentiel FINESS (aucune fermeture FINESS) mais "))
            .when(f_caduc)
            .then(pl.lit("caduc dans FINESS sans date de fermeture mais "))
            .otherwise(pl.lit("ouvert dans FINESS mais "))
            + ror_state,
        ),
        (
            gate & (pl.col("f_type_fermeture") == nom.FERMETURE_PROVISOIRE) & not_pro,
            FAIL,
            "fermeture provisoire dans FINESS, définitive dans le ROR",
        ),
        (
            gate & (pl.col("f_type_fermeture") == nom.FERMETURE_DEFINITIVE) & not_def,
            FAIL,
            "fermeture définitive dans FINESS, provisoire dans le ROR",
        ),
    ]


# ------------------------------------------------------------------------ the table


def _value_pair(ror: str, finess: str) -> pl.Expr:
    return pl.format(
        "ROR : {} ; FINESS : {}",
        pl.col(ror).cast(pl.String).fill_null("—"),
        pl.col(finess).cast(pl.String).fill_null("—"),
    )


REQUIREMENTS: tuple[Check, ...] = (
    Check(
        "EX1.2",
        EG_FINESS,
        "Établissement FINESS présent dans le ROR",
        "Créer l'établissement (entité géographique) dans le ROR avec son numéro FINESS, puis "
        "y décrire ses offres SMR.",
        lambda p: [
            (
                ~pl.col("dans_ror"),
                FAIL,
                "établissement FINESS titulaire d'une autorisation SMR absent du ROR",
            ),
        ],
        exclusions=_target_exclusions,
        value=lambda: pl.format(
            "catégorie {} ; autorisations SMR {}",
            pl.col("categorie").fill_null("—"),
            pl.col("nb_autorisations_retenues").cast(pl.String),
        ),
        needs=NEEDS_FINESS,
    ),
    Check(
        "EX2",
        EG_ROR,
        "État ouvert / fermé conforme à FINESS",
        "Mettre à jour dans le ROR l'état de l'établissement (ouvert, fermeture provisoire ou "
        "définitive, date de fermeture) pour qu'il corresponde à FINESS, ou signaler à l'ARS "
        "une erreur de FINESS.",
        _ex2_failures,
        value=lambda: _value_pair("etat_ror", "etat_finess"),
        needs=NEEDS_FINESS,
    ),
    Check(
        "ST2",
        EG_ROR,
        "Entité juridique de rattachement conforme à FINESS",
        "Rattacher dans le ROR l'établissement à l'entité juridique (FINESS EJ) indiquée par "
        "FINESS.",
        lambda p: [
            _absent_from_finess(),
            (
                pl.col("finess_ej").is_null(),
                FAIL,
                pl.format(
                    "EJ de rattachement non renseignée dans le ROR (FINESS : {})",
                    pl.col("f_finess_ej").fill_null("—"),
                ),
            ),
            (
                pl.col("finess_ej").ne_missing(pl.col("f_finess_ej")),
                FAIL,
                pl.format(
                    "EJ du ROR {} différente de l'EJ FINESS {}",
                    pl.col("finess_ej"),
                    pl.col("f_finess_ej").fill_null("—"),
                ),
            ),
        ],
        exclusions=lambda p: [_not_open_or_provisional()],
        value=lambda: _value_pair("finess_ej", "f_finess_ej"),
        needs=NEEDS_FINESS,
    ),
    Check(
        "CO4",
        EG_ROR,
        "Catégorie d'établissement conforme à FINESS",
        "Corriger dans le ROR la catégorie de l'établissement pour qu'elle soit celle de "
        "FINESS (ou signaler à l'ARS une catégorie FINESS erronée).",
        lambda p: [
            _absent_from_finess(),
            (
                pl.col("categorie").ne_missing(pl.col("f_categorie")),
                FAIL,
                pl.format(
                    "catégorie du ROR {} différente de la catégorie FINESS {}",
                    pl.col("categorie").fill_null("non renseignée"),
                    pl.col("f_categorie").fill_null("non renseignée"),
                ),
            ),
        ],
        exclusions=lambda p: [
            _not_open_or_provisional(),
            (pl.col("categorie_sa"), "hors périmètre : catégorie SA05, SA07, SA08 ou SA09"),
        ],
        value=lambda: _value_pair("categorie", "f_categorie"),
        needs=NEEDS_FINESS,
    ),
    Check(
        "ST3",
        EG_ROR,
        "Identifiant national de structure unique",
        "Corriger dans le ROR l'identifiant national de structure : chaque établissement "
        "ouvert doit porter le sien (« 1 » + FINESS), sans doublon ; fermer l'éventuelle "
        "fiche en double.",
        _st3_failures,
        exclusions=_st3_exclusions,
        value=lambda: pl.col("id_nat_struct"),
    ),
    Check(
        "RE1.2",
        EG_ROR,
        "Offres mises à jour depuis moins d'un an",
        "Vérifier dans le ROR les offres de l'établissement et leurs contacts, et les "
        "enregistrer : la date de mise à jour atteste la vérification (au moins une offre de "
        "moins d'un an sous 8 offres, au moins 25 % à partir de 8).",
        _re12_failures,
        exclusions=lambda p: [
            (pl.col("ror_ferme"), "hors périmètre : fermé dans le ROR"),
            (pl.col("categorie_sa"), "hors périmètre : catégorie SA05, SA07, SA08 ou SA09"),
        ],
        value=lambda: pl.format(
            "{} offre(s) à jour sur {}", pl.col("nb_offres_a_jour"), pl.col("nb_offres")
        ),
    ),
    Check(
        "CP4",
        EG_FINESS,
        "Peuplement SMR finalisé",
        "Compléter dans le ROR chaque offre SMR de l'établissement : champ d'activité, mode "
        "de prise en charge, âges de la patientèle, activité opérationnelle, adresse et "
        "contact.",
        lambda p: [(pl.col("statut_peuplement") != FINALISE, FAIL, _population_reason())],
        exclusions=_target_exclusions,
        value=lambda: pl.format(
            "{} ; {} / {} offre(s) finalisée(s)",
            pl.col("statut_peuplement").replace_strict(PEUPLEMENT_LABELS),
            pl.col("nb_finalisees"),
            pl.col("nb_unites"),
        ),
    ),
    Check(
        "LOC-CAPACITE",
        UNITE,
        "Capacité déclarée en hospitalisation complète et de jour",
        "Déclarer dans le ROR les lits (hospitalisation complète) et places (hospitalisation "
        "de jour) installés de l'unité : une capacité nulle ou vide la rend invisible aux "
        "adresseurs.",
        lambda p: [
            (
                pl.col("capacites_nulles").is_not_null() & (pl.col("capacites_nulles") != ""),
                FAIL,
                pl.lit("capacité nulle ou non renseignée : ") + pl.col("capacites_nulles"),
            )
        ],
        exclusions=lambda p: [
            (pl.col("unite_fermee"), "hors périmètre : unité fermée"),
            (
                pl.col("nb_offres_hc_hj") == 0,
                "hors périmètre : ni hospitalisation complète ni hospitalisation de jour",
            ),
        ],
        value=lambda: pl.col("capacites"),
        national=False,
    ),
    Check(
        "LOC-AUTORISATION",
        AUTORISATION,
        "Mention autorisée décrite dans le ROR",
        "Décrire dans le ROR une offre de la mention autorisée (type d'offre SMR de la "
        "mention), ou signaler à l'ARS que l'activité n'est pas mise en œuvre.",
        lambda p: [
            (
                pl.col("unites_offrant").is_null(),
                FAIL,
                pl.format(
                    "mention {} autorisée ({}) sans offre dans le ROR",
                    pl.col("mention"),
                    pl.col("formes"),
                ),
            )
        ],
        exclusions=lambda p: [
            (pl.col("eg_ferme"), "hors périmètre : établissement fermé dans le ROR"),
            (
                ~pl.col("en_vigueur"),
                pl.when(pl.col("debut").is_not_null() & (pl.col("debut") > pl.lit(dt.date.min)))
                .then(
                    pl.lit("autorisation pas en vigueur à la date de l'instantané (début ")
                    + _fmt_date(pl.col("debut"))
                    + pl.lit(", fin ")
                    + pl.coalesce(_fmt_date(pl.col("fin")), pl.lit("—"))
                    + pl.lit(")")
                )
                .otherwise(pl.lit("autorisation pas en vigueur à la date de l'instantané")),
            ),
        ],
        value=lambda: pl.col("unites_offrant"),
        national=False,
    ),
)


REQUIREMENT_BY_CODE: dict[str, Check] = {r.id: r for r in REQUIREMENTS}


def requirements_frame(requirements: Sequence[Check] = REQUIREMENTS) -> pl.DataFrame:
    """The requirements as a table: ``exigence``, ``libelle``, ``niveau``, ``nationale``,
    ``aide``, ``ordre``."""
    return pl.DataFrame(
        {
            "exigence": [r.id for r in requirements],
            "libelle": [r.label for r in requirements],
            "niveau": [r.level for r in requirements],
            "nationale": [r.national for r in requirements],
            "aide": [r.help for r in requirements],
            "ordre": list(range(len(requirements))),
        },
        schema={
            "exigence": pl.String,
            "libelle": pl.String,
            "niveau": pl.String,
            "nationale": pl.Boolean,
            "aide": pl.String,
            "ordre": pl.Int32,
        },
    )


