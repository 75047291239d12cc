"""National ROR quality requirements for SMR: the requirement table, its levels and evaluation.

The national ROR team (ANS) computes every week the quality requirements of the ROR and every
quarter the follow-up of its population (« suivi du peuplement ») and of the ROR →
ViaTrajectoire synchronisation (reference: ``shared/reference/ROR_QUALITY.md``, an own-words
summary of the ANS BI views). This module gives a regional project lead the same figures for
SMR, per département and establishment, before the national report does, with the list of
entities to fix and the reason in French.

Requirements are data (``REQUIREMENTS``), like the campaign checklist: a code, the level of
entity it applies to, a label, the help text for the establishment, the *exclusions* (first
matching one: not applicable, with its reason) and the *failures* (first matching one: écart,
with its reason), as Polars expressions over the level's frame. Adding a requirement is one
entry. Each entity gets ``conforme``, ``ecart`` or ``non_applicable``; the aggregate counts
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

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import polars as pl

from analysis.model import insee, schema
from analysis.model import nomenclature as nom
from analysis.model.syntax import blank

CONFORME, ECART, NON_APPLICABLE = "conforme", "ecart", "non_applicable"
STATUTS: tuple[str, ...] = (CONFORME, ECART, NON_APPLICABLE)
STATUT_LABELS: dict[str, str] = {
    CONFORME: "Conforme",
    ECART: "Écart",
    NON_APPLICABLE: "Non applicable",
}
FINALISE, EN_COURS, A_FAIRE = "finalise", "en_cours", "a_faire"
PEUPLEMENT: tuple[str, ...] = (FINALISE, EN_COURS, A_FAIRE)
PEUPLEMENT_LABELS: dict[str, str] = {FINALISE: "Finalisé", EN_COURS: "En cours", A_FAIRE: "À faire"}

EG_ROR, EG_FINESS, UNITE, AUTORISATION = "eg_ror", "eg_finess", "unite", "autorisation"
LEVELS: dict[str, str] = {
    EG_FINESS: "Établissement (FINESS)",
    EG_ROR: "Établissement (ROR)",
    UNITE: "Unité (ROR)",
    AUTORISATION: "Autorisation SMR",
}

#: Département code of an entity whose département is unknown (national convention).
DEPARTEMENT_INCONNU = "-2"
#: Label of the all-départements rows of the aggregates.
ENSEMBLE = "ensemble"
CHAMP_SMR_LABEL = "SMR"

#: ROR and FINESS states (EX2, ANS wording).
OUVERT, FERME_PRO, FERME_DEF = "Ouvert", "Fermé provisoirement", "Fermé définitivement"
CADUC, NON_RAPPROCHE, AUTORISE = "Caduc", "Non rapproché", "Autorisé"

#: Unit flags of the population follow-up: column → French label of what is missing.
FLAGS: dict[str, str] = {
    "flag_champ": "champ d'activité",
    "flag_mode": "mode de prise en charge",
    "flag_patientele": "patientèle (âges minimum et maximum)",
    "flag_ao": "activité opérationnelle",
    "flag_adresse": "adresse",
    "flag_contact": "contact",
}


@dataclass(frozen=True)
class QualityParams:
    """Parameters of the requirements, with the national values as defaults.

    ``re12_min_offers``: from this number of offers RE1.2 asks a share of fresh offers (below
    it, one fresh offer is enough); ``re12_min_share_pct``: that share in percent;
    ``re12_window_years``: an offer is fresh when updated within this many years before the
    snapshot; ``capacity_formes``: formes whose capacity must be above zero (local rule);
    ``departements``: the région's départements — FINESS establishments elsewhere are left
    out (a national FINESS file would otherwise make every other région's EG an EX1.2 écart);
    empty: no restriction.

    The other fields are the workbench's former readings, each a switch that is off by
    default so that the rules read the data as the national SQL does (``READINGS`` says what
    each one changes, and the table in ``docs/ecarts_vue_nationale.md`` lists them):
    ``count_open_ended_authorisations`` (an authorisation without end date counts in the SMR
    perimeter), ``count_formless_authorisations`` (one without forme counts),
    ``future_dates_pending`` (a closing or opening date after the snapshot date is a planned
    change), ``ex2_closed_absent_conforme`` (an EG closed in the ROR and absent from FINESS
    is conforme), ``ex2_caduc_closed_conforme`` (an EG caduc in FINESS and closed in the ROR
    is conforme), ``ex2_untyped_closure_definitive`` (a ROR closure without type is compared
    as definitive), ``st3_missing_identifier_not_applicable`` (an EG without identifier is
    not applicable), ``st3_missing_category_in_scope`` (an EG without category is in ST3's
    scope), ``re12_smr_offers_only`` (RE1.2 counts the SMR offers only).
    """

    re12_min_offers: int = 8
    re12_min_share_pct: int = 25
    re12_window_years: int = 1
    capacity_formes: tuple[str, ...] = ("HC", "HJ")
    departements: tuple[str, ...] = ()
    count_open_ended_authorisations: bool = False
    count_formless_authorisations: bool = False
    future_dates_pending: bool = False
    ex2_closed_absent_conforme: bool = False
    ex2_caduc_closed_conforme: bool = False
    ex2_untyped_closure_definitive: bool = False
    st3_missing_identifier_not_applicable: bool = False
    st3_missing_category_in_scope: bool = False
    re12_smr_offers_only: bool = False

    def with_former_readings(self) -> QualityParams:
        """The same parameters with every former reading of the workbench switched on."""
        return replace(self, **dict.fromkeys((r.switch for r in READINGS), True))

    def former_readings(self) -> list[str]:
        """The switches that are on (empty: the national reading throughout)."""
        return [r.switch for r in READINGS if getattr(self, r.switch)]


@dataclass(frozen=True)
class Reading:
    """A point where the workbench once read the data otherwise than the national SQL.

    ``switch`` is the ``QualityParams`` field that restores the workbench's reading;
    ``exigences`` the requirements it changes; ``national`` and ``atelier`` say in French how
    each side reads the case; ``sql`` quotes the national view it comes from.
    """

    switch: str
    exigences: tuple[str, ...]
    national: str
    atelier: str
    sql: str
    source: str


#: The deviations from the national views, national by default (``QualityParams``).
READINGS: tuple[Reading, ...] = (
    Reading(
        "count_open_ended_authorisations",
        ("EX1.2", "CP4"),
        "une autorisation sans date de fin ne compte pas dans le périmètre SMR",
        "une autorisation sans date de fin compte (elle est en vigueur)",
        "AND CAST(act.dtfin_acts AS DATE) >= '2021-05-01'",
        "requetes/dimensions/view_V_DIM_AutorisationFINESS.sql",
    ),
    Reading(
        "count_formless_authorisations",
        ("EX1.2", "CP4"),
        "une autorisation sans forme ne compte pas (la comparaison à '05' est inconnue)",
        "une autorisation sans forme compte (seule la forme 05, HAD, est exclue)",
        "cdactivite_acts in ('50',…,'54') AND cdforme_acts != '05'",
        "requetes/dimensions/view_V_DIM_AutorisationFINESS.sql",
    ),
    Reading(
        "future_dates_pending",
        ("EX1.2", "EX2", "ST2", "CO4", "ST3", "RE1.2", "CP4", "LOC-CAPACITE", "LOC-AUTORISATION"),
        "une date de fermeture (ou d'ouverture) renseignée vaut fermeture (ou ouverture), même "
        "postérieure à la date de l'instantané",
        "une date postérieure à l'instantané est une fermeture ou une ouverture prévue : "
        "l'entité reste ouverte (ou n'est pas encore ouverte)",
        "WHEN Ror.DateFermeture IS NULL THEN 'Ouvert' ; AND etb.dtfermestruct_stru IS NULL",
        "requetes/dimensions/view_V_DIM_ExigenceQualite_EX2.sql",
    ),
    Reading(
        "ex2_closed_absent_conforme",
        ("EX2",),
        "un établissement fermé dans le ROR dont le numéro est absent de FINESS est en écart "
        "(FINESS n'a pas de date de fermeture)",
        "conforme : l'extraction FINESS publique ne liste que les établissements en activité",
        "WHEN Finess.dtfermestruct_stru IS NULL AND Ror.DateFermeture IS NOT NULL THEN 'Ecart'",
        "requetes/dimensions/view_V_DIM_ExigenceQualite_EX2.sql",
    ),
    Reading(
        "ex2_caduc_closed_conforme",
        ("EX2",),
        "un établissement caduc dans FINESS et fermé dans le ROR est en écart sans date de "
        "fermeture FINESS, et ses types de fermeture sont comparés sinon",
        "conforme : caduc et fermé disent la même chose",
        "WHEN Finess.dtfermestruct_stru IS NULL AND Ror.DateFermeture IS NOT NULL THEN 'Ecart'",
        "requetes/dimensions/view_V_DIM_ExigenceQualite_EX2.sql",
    ),
    Reading(
        "ex2_untyped_closure_definitive",
        ("EX2",),
        "une fermeture ROR sans type n'est jamais en écart de type (NULL <> 'PRO' n'est pas "
        "vrai) ; un type ROR autre que celui de FINESS est en écart",
        "une fermeture ROR sans type est définitive : en écart face à une fermeture "
        "provisoire dans FINESS ; les types ne sont comparés que si les deux sont fermés",
        "WHEN Finess.cdtypefermestruct_stru = 'PRO' AND Ror.CodeNOS_TypeFermeture <> 'PRO' "
        "THEN 'Ecart'",
        "requetes/dimensions/view_V_DIM_ExigenceQualite_EX2.sql",
    ),
    Reading(
        "st3_missing_identifier_not_applicable",
        ("ST3",),
        "les établissements sans identifiant national sont regroupés : en écart dès qu'ils "
        "sont deux ou plus (non applicable si aucun établissement n'a d'identifiant : "
        "colonne non extraite)",
        "un établissement sans identifiant est non applicable (doublon non vérifiable)",
        "COUNT(*) OVER(PARTITION BY IdNat_Struct, CodeRegion)",
        "requetes/dimensions/view_V_DIM_ExigenceQualite_ST3.sql",
    ),
    Reading(
        "st3_missing_category_in_scope",
        ("ST3",),
        "un établissement sans catégorie est hors du périmètre de ST3",
        "un établissement sans catégorie est dans le périmètre",
        "WHERE DateFermeture IS NULL AND CodeNOS_CategorieEG NOT IN ('SA05','SA07','SA08',"
        "'SA09')",
        "requetes/dimensions/view_V_DIM_ExigenceQualite_ST3.sql",
    ),
    Reading(
        "re12_smr_offers_only",
        ("RE1.2",),
        "toutes les offres non fermées de l'établissement comptent, quel que soit leur champ",
        "seules les offres SMR comptent (champ 02 ou sans champ, comme le peuplement)",
        "WHERE DateFermetureDefinitive IS NULL AND CodeNOS_TypeOI = '4'",
        "requetes/dimensions/view_V_DIM_ExigenceQualite_RE1.2.sql",
    ),
)
READING_BY_SWITCH: dict[str, Reading] = {r.switch: r for r in READINGS}


Condition = tuple[pl.Expr, "pl.Expr | str"]


def _nothing(_: QualityParams) -> list[Condition]:
    return []


@dataclass(frozen=True)
class Requirement:
    """One requirement: scope, checks and what to tell the owner of an entity in écart."""

    code: str
    label: str
    level: str
    help: str
    failures: Callable[[QualityParams], Sequence[Condition]]
    exclusions: Callable[[QualityParams], Sequence[Condition]] = field(default=_nothing)
    value: Callable[[], pl.Expr] | None = None
    national: bool = True
    needs_finess: bool = False  # compares with the FINESS reference: skipped without it


# ------------------------------------------------------------------------ small helpers


def _closed(column: str, as_of: dt.date, future_pending: bool = True) -> pl.Expr:
    """The date column is set and, with ``future_pending``, on or before the snapshot date
    (never null). Without it a date set is enough, as the national views read
    ``DateFermeture IS NULL`` as open."""
    if not future_pending:
        return pl.col(column).is_not_null()
    return (pl.col(column).is_not_null() & (pl.col(column) <= pl.lit(as_of))).fill_null(False)


def _planned(column: str) -> pl.Expr:
    """The date column lies after the snapshot date (``_date_instantane``, set by
    ``evaluate_lazy``): a closure recorded ahead."""
    return (pl.col(column) > pl.col("_date_instantane")).fill_null(False)


def _since(column: str) -> pl.Expr:
    """« depuis le JJ/MM/AAAA », or « fermeture prévue le JJ/MM/AAAA » for a date to come."""
    return pl.when(_planned(column)).then(pl.lit("fermeture prévue le ")).otherwise(
        pl.lit("depuis le ")
    ) + _fmt_date(pl.col(column))


def _fmt_date(expr: pl.Expr) -> pl.Expr:
    return expr.dt.strftime("%d/%m/%Y")


def _table(tables: Mapping[str, pl.DataFrame | pl.LazyFrame], name: str) -> pl.LazyFrame:
    frame = tables.get(name)
    return schema.empty(name).lazy() if frame is None else frame.lazy()


def region_departements(region: str | None) -> tuple[str, ...]:
    """The départements of a région (INSEE code) from the reference index; empty when the
    région is unknown (then nothing is restricted)."""
    if not region:
        return ()
    from analysis.geo import geography

    try:
        return tuple(geography.region_departements(region))
    except Exception:  # noqa: BLE001 - an unknown région only lifts the restriction
        return ()


def has_finess_reference(tables: Mapping[str, pl.DataFrame | pl.LazyFrame]) -> bool:
    """Whether the snapshot (or the file given instead) holds a FINESS reference."""
    frame = tables.get("finess_etablissements")
    if frame is None:
        return False
    lazy = frame.lazy().select(pl.len())
    return bool(lazy.collect().item())


def _departement(commune: str = "commune_insee", finess: str = "finess_eg") -> pl.Expr:
    return insee.departement_expr(commune, finess).fill_null(DEPARTEMENT_INCONNU)


def re12_threshold(as_of: dt.date, years: int = 1) -> dt.datetime:
    """The RE1.2 freshness limit: the snapshot date minus ``years`` years, at 00:00 (an offer
    is fresh when updated strictly after it; 29 February gives 28 February)."""
    try:
        day = as_of.replace(year=as_of.year - years)
    except ValueError:
        day = as_of.replace(year=as_of.year - years, day=28)
    return dt.datetime.combine(day, dt.time())


def rounded_percent(part: pl.Expr, whole: pl.Expr) -> pl.Expr:
    """100 × part ÷ whole rounded half up to a whole percent, in integer arithmetic (the SQL
    ``ROUND(x, 2)`` of a share, without binary floating-point surprises at .5)."""
    return (pl.lit(200) * part + whole) // (pl.lit(2) * whole)


def _end_ok(params: QualityParams) -> pl.Expr:
    """« CAST(act.dtfin_acts AS DATE) >= '2021-05-01' »: a NULL end does not match the join
    (``count_open_ended_authorisations`` counts it)."""
    end_ok = pl.col("date_fin") >= pl.lit(dt.date.fromisoformat(nom.AUTORISATION_FIN_MIN))
    if params.count_open_ended_authorisations:
        end_ok = pl.col("date_fin").is_null() | end_ok
    return end_ok


def smr_authorisation_expr(params: QualityParams | None = None) -> pl.Expr:
    """Authorisation row counting in the SMR perimeter, over the ``autorisations`` table.

    As the national view reads it by default: « cdactivite_acts in (50–59) AND cdforme_acts
    != '05' » joined on « dtfin_acts >= '2021-05-01' », so a row without forme or without
    end date does not count; the SMR-mention rows of the new regime follow the same rule
    [inferred: the view predates them]. With ``count_open_ended_authorisations`` and
    ``count_formless_authorisations`` on, it is ``nomenclature.is_smr_authorisation``.
    """
    params = params or QualityParams()
    forme_ok = pl.col("forme") != nom.HAD_FORME_AUTORISATION
    if params.count_formless_authorisations:
        forme_ok = pl.col("forme").is_null() | forme_ok
    end_ok = _end_ok(params)
    ssr = (pl.col("regime") == "SSR") & pl.col("activite").is_in(sorted(nom.ACTIVITES_SSR))
    smr = (pl.col("regime") == "SMR") & pl.col("mention").is_in(sorted(nom.MENTION_BY_CODE))
    return (forme_ok & end_ok & (ssr | smr)).fill_null(False)


def _had_smr_expr(params: QualityParams | None = None) -> pl.Expr:
    """An SMR activity or mention in the HAD form (counted in MCO by the ANS)."""
    end_ok = _end_ok(params or QualityParams())
    smr = pl.col("activite").is_in(sorted(nom.ACTIVITES_SSR)) | pl.col("mention").is_in(
        sorted(nom.MENTION_BY_CODE)
    )
    return ((pl.col("forme") == nom.HAD_FORME_AUTORISATION) & end_ok & smr).fill_null(False)


# ------------------------------------------------------------------------ unit flags


def _live_units(
    tables: Mapping[str, Any], as_of: dt.date, params: QualityParams | None = None
) -> pl.LazyFrame:
    """Units that are not closed at the snapshot date (a provisional closure keeps them)."""
    future = (params or QualityParams()).future_dates_pending
    closed = _closed("date_fermeture", as_of, future) & pl.col("type_fermeture").ne_missing(
        nom.FERMETURE_PROVISOIRE
    )
    return _table(tables, "unites").unique("uo_id", keep="first").filter(~closed)


def unit_flags(
    tables: Mapping[str, pl.DataFrame | pl.LazyFrame],
    as_of: dt.date,
    params: QualityParams | None = None,
) -> pl.DataFrame:
    """Population flags and status of every live unit (the ANS « suivi du peuplement »).

    Flags (1 = met): ``flag_champ`` (a champ d'activité of TRE_R227), ``flag_mode`` (at
    least one offer row, whose forme carries its NOS mode de prise en charge), ``flag_patientele``
    (minimum and maximum ages both set), ``flag_ao`` (an active SMR activité opérationnelle of
    TRE_R211), ``flag_adresse`` (street, postcode and commune of the unit's establishment:
    the extract has no address per unit), ``flag_contact`` (the unit's phone, or a named
    responsable with a phone or an e-mail: the contact's function and confidentiality level
    are not in the extract). Columns: ``uo_id``, ``finess_eg``, ``nom``, ``champ_activite``,
    the six flags (Int8), ``nb_flags``, ``statut_peuplement`` (finalise / en_cours /
    a_faire), ``manques`` (French list of the missing items), ``compte_smr`` (counts for
    the EG's SMR row: champ 02 or missing).
    """
    units = _live_units(tables, as_of, params)
    etabs = (
        _table(tables, "etablissements")
        .select(
            "finess_eg",
            pl.col("adresse").alias("eg_adresse"),
            pl.col("code_postal").alias("eg_code_postal"),
            pl.col("commune_insee").alias("eg_commune"),
        )
        .unique("finess_eg", keep="first")
    )
    modes = (
        _table(tables, "offres")
        .filter(pl.col("forme").is_in(sorted(nom.FORME_BY_CODE)))
        .group_by("uo_id")
        .agg(pl.len().alias("_offres"))
    )
    codes = pl.col("activite_operationnelle").str.extract_all(r"[0-9A-Za-z]+")
    valid_ao = codes.list.eval(
        pl.element().is_in(sorted(nom.ACTIVITES_OPERATIONNELLES_SMR))
    ).list.any()
    flags = {
        "flag_champ": pl.col("champ_activite").is_in(sorted(nom.CHAMPS_ACTIVITE)),
        "flag_mode": pl.col("_offres").fill_null(0) > 0,
        "flag_patientele": pl.col("age_min").is_not_null() & pl.col("age_max").is_not_null(),
        "flag_ao": valid_ao,
        "flag_adresse": ~blank(pl.col("eg_adresse"))
        & ~blank(pl.col("eg_code_postal"))
        & ~blank(pl.col("eg_commune")),
        "flag_contact": ~blank(pl.col("telephone"))
        | (
            ~blank(pl.col("responsable_nom"))
            & (~blank(pl.col("responsable_telephone")) | ~blank(pl.col("responsable_email")))
        ),
    }
    frame = (
        units.join(etabs, on="finess_eg", how="left")
        .join(modes, on="uo_id", how="left")
        .with_columns(
            [expr.fill_null(False).cast(pl.Int8).alias(name) for name, expr in flags.items()]
        )
        .with_columns(pl.sum_horizontal(list(FLAGS)).cast(pl.Int8).alias("nb_flags"))
    )
    missing = pl.concat_str(
        [pl.when(pl.col(f) == 0).then(pl.lit(label)) for f, label in FLAGS.items()],
        separator=", ",
        ignore_nulls=True,
    )
    closed_ao = codes.list.eval(pl.element().is_in(sorted(nom.ACTIVITES_FERMEES))).list.any()
    return (
        frame.select(
            "uo_id",
            "finess_eg",
            "nom",
            "champ_activite",
            *FLAGS,
            "nb_flags",
            pl.when(pl.col("nb_flags") == len(FLAGS))
            .then(pl.lit(FINALISE))
            .when(pl.col("nb_flags") > 0)
            .then(pl.lit(EN_COURS))
            .otherwise(pl.lit(A_FAIRE))
            .alias("statut_peuplement"),
            pl.when(missing != "")
            .then(
                pl.lit("manque : ")
                + missing
                + pl.when(closed_ao.fill_null(False))
                .then(pl.lit(" (code d'activité opérationnelle fermé)"))
                .otherwise(pl.lit(""))
            )
            .alias("manques"),
            pl.col("champ_activite")
            .is_null()
            .or_(pl.col("champ_activite") == nom.CHAMP_SMR)
            .alias("compte_smr"),
        )
        .sort("finess_eg", "uo_id")
        .collect()
    )


# ------------------------------------------------------------------------ FINESS level


def _finess_reference(tables: Mapping[str, Any]) -> tuple[pl.LazyFrame, str]:
    """The FINESS reference, or (without one) the ROR EGs standing in for it; with its source.

    Without a FINESS reference, an open ROR EG counts as open in FINESS (opening date
    unknown, taken as set), so that the population follow-up still has a target.
    """
    if has_finess_reference(tables):
        return _table(tables, "finess_etablissements").unique("finess_eg", keep="first"), "FINESS"
    ror = _table(tables, "etablissements").unique("finess_eg", keep="first")
    return (
        ror.select(
            "finess_eg",
            "finess_ej",
            "raison_sociale",
            "commune_insee",
            "categorie",
            pl.lit(dt.date(1900, 1, 1)).alias("date_ouverture"),
            "date_fermeture",
            "type_fermeture",
            pl.lit(None, pl.Boolean).alias("caduc"),
            pl.lit(None, pl.Int32).alias("nb_autorisations_smr"),
        ),
        "ROR",
    )


def _authorisation_flags(tables: Mapping[str, Any], params: QualityParams) -> pl.LazyFrame:
    """Per EG of ``autorisations``: its rows, SMR authorisations counted, HAD-SMR ones."""
    return (
        _table(tables, "autorisations")
        .group_by("finess_eg")
        .agg(
            pl.len().cast(pl.Int32).alias("_auth_lignes"),
            smr_authorisation_expr(params).fill_null(False).sum().cast(pl.Int32).alias(
                "_auth_smr"
            ),
            _had_smr_expr(params).fill_null(False).sum().cast(pl.Int32).alias("_auth_had"),
            smr_authorisation_expr(params.with_former_readings())
            .fill_null(False)
            .sum()
            .cast(pl.Int32)
            .alias("_auth_sans_fin_ou_forme"),
        )
    )


def _eg_status(nb: pl.Expr, fin: pl.Expr, enc: pl.Expr) -> pl.Expr:
    """EG status from its counted units: « Finalise: at least one offer, and all offers are
    finalised. En cours: at least one offer is En cours. A faire: anything else »."""
    return (
        pl.when((nb > 0) & (fin == nb))
        .then(pl.lit(FINALISE))
        .when((nb > 0) & (enc > 0))
        .then(pl.lit(EN_COURS))
        .otherwise(pl.lit(A_FAIRE))
    )


def eg_population_status(flags: pl.DataFrame | pl.LazyFrame) -> pl.DataFrame:
    """Per EG, from ``unit_flags`` rows: ``nb_unites`` (units counted for the SMR row),
    ``nb_finalisees``, ``nb_en_cours`` and ``statut_peuplement``. An EG with finalised units
    and units « à faire » but none « en cours » is « à faire », as in the ANS view."""
    return (
        _population_counts_by_eg(flags.lazy())
        .with_columns(
            _eg_status(pl.col("nb_unites"), pl.col("nb_finalisees"), pl.col("nb_en_cours")).alias(
                "statut_peuplement"
            )
        )
        .sort("finess_eg")
        .collect()
    )


def _population_counts_by_eg(flags: pl.LazyFrame) -> pl.LazyFrame:
    return (
        flags.filter(pl.col("compte_smr"))
        .group_by("finess_eg")
        .agg(
            pl.len().cast(pl.Int32).alias("nb_unites"),
            (pl.col("statut_peuplement") == FINALISE).sum().cast(pl.Int32).alias("nb_finalisees"),
            (pl.col("statut_peuplement") == EN_COURS).sum().cast(pl.Int32).alias("nb_en_cours"),
        )
    )


def _population_by_eg(
    tables: Mapping[str, Any], as_of: dt.date, params: QualityParams | None = None
) -> pl.LazyFrame:
    """Per ROR EG: units counted for the SMR row, finalised and in progress."""
    return _population_counts_by_eg(unit_flags(tables, as_of, params).lazy())


def _eg_finess_frame(
    tables: Mapping[str, Any], as_of: dt.date, params: QualityParams
) -> pl.LazyFrame:
    """One row per FINESS EG (reference) with its perimeter flags and population status."""
    ref, source = _finess_reference(tables)
    ror = (
        _table(tables, "etablissements")
        .select("finess_eg", pl.lit(True).alias("dans_ror"))
        .unique("finess_eg")
    )
    future = params.future_dates_pending
    opened = pl.col("date_ouverture").is_not_null()
    if future:
        opened = (opened & (pl.col("date_ouverture") <= pl.lit(as_of))).fill_null(False)
    closed = _closed("date_fermeture", as_of, future)
    # The EG's authorisation rows decide (with the parameters' reading); the FINESS count,
    # made at import, stands in for EGs without rows (absent from the ROR).
    auth = (
        pl.when(pl.col("_auth_lignes").fill_null(0) > 0)
        .then(pl.col("_auth_smr").fill_null(0))
        .otherwise(pl.col("nb_autorisations_smr").fill_null(0))
    )
    status = _eg_status(pl.col("nb_unites"), pl.col("nb_finalisees"), pl.col("nb_en_cours"))
    frame = (
        ref.join(_authorisation_flags(tables, params), on="finess_eg", how="left")
        .join(ror, on="finess_eg", how="left")
        .join(_population_by_eg(tables, as_of, params), on="finess_eg", how="left")
        .with_columns(
            pl.col("dans_ror").fill_null(False),
            _departement().alias("departement"),
            opened.alias("f_ouvert"),
            closed.alias("f_ferme"),
            pl.col("caduc").fill_null(False).alias("f_caduc"),
            auth.cast(pl.Int32).alias("nb_autorisations_retenues"),
            (auth > 0).alias("a_autorisation_smr"),
            (pl.col("_auth_had").fill_null(0) > 0).alias("a_autorisation_had"),
            pl.col("categorie")
            .is_in(sorted(nom.CATEGORIES_SANITAIRES))
            .fill_null(False)
            .alias("sanitaire"),
            pl.lit(source).alias("perimetre_source"),
            *[pl.col(c).fill_null(0) for c in ("nb_unites", "nb_finalisees", "nb_en_cours")],
        )
    )
    if params.departements:
        frame = frame.filter(pl.col("departement").is_in(list(params.departements)))
    in_target = (
        pl.col("f_ouvert")
        & ~pl.col("f_ferme")
        & ~pl.col("f_caduc")
        & (pl.col("departement") != nom.DEPARTEMENT_EXCLU)
        & pl.col("sanitaire")
        & pl.col("a_autorisation_smr")
    )
    return frame.with_columns(
        in_target.alias("cible_smr"),
        status.alias("statut_peuplement"),
        pl.col("finess_eg").alias("entite"),
        pl.col("raison_sociale").alias("nom_entite"),
    )


def _target_exclusions(_: QualityParams) -> list[Condition]:
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


#: Group key of the EGs without national identifier (ST3, as the national view groups NULLs).
_NO_IDENTIFIER = "\x00sans identifiant"


def _re12_units(
    tables: Mapping[str, Any], as_of: dt.date, params: QualityParams
) -> pl.LazyFrame:
    """The offers RE1.2 counts: every live unit of the extract (the national view counts all
    the EG's offers, « CodeNOS_TypeOI = '4' », whatever their champ), or only the SMR ones
    (champ 02 or missing) with ``re12_smr_offers_only``."""
    units = _live_units(tables, as_of, params)
    if params.re12_smr_offers_only:
        units = units.filter(
            pl.col("champ_activite").is_null() | (pl.col("champ_activite") == nom.CHAMP_SMR)
        )
    return units


def re12_scope(
    tables: Mapping[str, pl.DataFrame | pl.LazyFrame],
    as_of: dt.date,
    params: QualityParams | None = None,
) -> dict[str, Any]:
    """What RE1.2 counts in ``tables``: ``offres`` (live offers of the extract), ``offres_smr``
    (champ 02 or missing), ``offres_hors_smr`` (other champs), ``offres_comptees`` (those
    RE1.2 counts with ``params``) and ``smr_seulement`` (the former reading is on)."""
    params = params or QualityParams()
    smr = pl.col("champ_activite").is_null() | (pl.col("champ_activite") == nom.CHAMP_SMR)
    row = (
        _live_units(tables, as_of, params)
        .select(
            pl.len().cast(pl.Int64).alias("offres"),
            smr.sum().cast(pl.Int64).alias("offres_smr"),
        )
        .collect()
        .row(0, named=True)
    )
    row["offres_hors_smr"] = row["offres"] - row["offres_smr"]
    row["smr_seulement"] = params.re12_smr_offers_only
    row["offres_comptees"] = row["offres_smr"] if params.re12_smr_offers_only else row["offres"]
    return row


def re12_scope_text(scope: Mapping[str, Any]) -> str:
    """The French sentence that says what RE1.2 counts (``re12_scope``), for the page."""
    if scope["smr_seulement"]:
        return (
            f"RE1.2 ne compte ici que les offres SMR ({scope['offres_smr']} sur "
            f"{scope['offres']} offres non fermées de l'extraction) : lecture de l'atelier ; "
            "l'indicateur national compte toutes les offres de l'établissement."
        )
    if scope["offres_hors_smr"]:
        part = f"{scope['offres']} offres, dont {scope['offres_hors_smr']} hors SMR"
    else:
        part = f"{scope['offres']} offres, toutes SMR"
    return (
        "RE1.2 compte toutes les offres non fermées de chaque établissement présentes dans "
        f"l'extraction ({part}), comme l'indicateur national qui compte toutes les offres de "
        "l'établissement dans le ROR (MCO, psychiatrie, SMR…) ; une extraction limitée au SMR "
        "ne contient pas les autres : le taux national peut porter sur plus d'offres."
    )


def _eg_ror_frame(tables: Mapping[str, Any], as_of: dt.date, params: QualityParams) -> pl.LazyFrame:
    """One row per ROR EG with its FINESS counterpart, identifier count and offer freshness."""
    ror = _table(tables, "etablissements").unique("finess_eg", keep="first")
    finess = (
        _table(tables, "finess_etablissements")
        .unique("finess_eg", keep="first")
        .select(
            "finess_eg",
            pl.lit(True).alias("f_present"),
            pl.col("finess_ej").alias("f_finess_ej"),
            pl.col("categorie").alias("f_categorie"),
            pl.col("date_ouverture").alias("f_date_ouverture"),
            pl.col("date_fermeture").alias("f_date_fermeture"),
            pl.col("type_fermeture").alias("f_type_fermeture"),
            pl.col("caduc").fill_null(False).alias("f_caduc"),
        )
    )
    threshold = re12_threshold(as_of, params.re12_window_years)
    latest = pl.max_horizontal("date_maj", "date_maj_contacts")
    offers = (
        _re12_units(tables, as_of, params)
        .with_columns(latest.alias("_maj"))
        .group_by("finess_eg")
        .agg(
            pl.len().cast(pl.Int32).alias("nb_offres"),
            (pl.col("_maj") > pl.lit(threshold))
            .fill_null(False)
            .sum()
            .cast(pl.Int32)
            .alias("nb_offres_a_jour"),
            pl.col("_maj").max().alias("derniere_maj_offre"),
        )
    )
    future = params.future_dates_pending
    ror_closed = _closed("date_fermeture", as_of, future)
    frame = (
        ror.join(finess, on="finess_eg", how="left")
        .join(offers, on="finess_eg", how="left")
        .with_columns(
            pl.col("f_present").fill_null(False),
            pl.col("f_caduc").fill_null(False),
            pl.col("nb_offres").fill_null(0),
            pl.col("nb_offres_a_jour").fill_null(0),
            _departement().alias("departement"),
            ror_closed.alias("ror_ferme"),
            _closed("f_date_fermeture", as_of, future).alias("f_ferme"),
            pl.col("categorie")
            .is_in(sorted(nom.CATEGORIES_VILLE_SA))
            .fill_null(False)
            .alias("categorie_sa"),
        )
        .with_columns(
            pl.when(~pl.col("ror_ferme"))
            .then(pl.lit(OUVERT))
            .when(pl.col("type_fermeture") == nom.FERMETURE_PROVISOIRE)
            .then(pl.lit(FERME_PRO))
            .otherwise(pl.lit(FERME_DEF))
            .alias("etat_ror"),
            pl.when(~pl.col("f_present"))
            .then(pl.lit(NON_RAPPROCHE))
            .when(pl.col("f_caduc"))
            .then(pl.lit(CADUC))
            .when(pl.col("f_ferme") & (pl.col("f_type_fermeture") == nom.FERMETURE_PROVISOIRE))
            .then(pl.lit(FERME_PRO))
            .when(pl.col("f_ferme"))
            .then(pl.lit(FERME_DEF))
            .when(
                pl.col("f_date_ouverture").is_null()
                | ((pl.col("f_date_ouverture") > pl.lit(as_of)) & pl.lit(future))
            )
            .then(pl.lit(AUTORISE))
            .otherwise(pl.lit(OUVERT))
            .alias("etat_finess"),
            rounded_percent(pl.col("nb_offres_a_jour"), pl.col("nb_offres")).alias(
                "pct_offres_a_jour"
            ),
        )
    )
    # ST3: identifiers of the open EGs in scope, with how many EGs carry each. As in the
    # national view (« PARTITION BY IdNat_Struct »), EGs without identifier form one group,
    # unless ``st3_missing_identifier_not_applicable``; an EG without category is outside
    # the scope (« CodeNOS_CategorieEG NOT IN (…) » is not true for NULL) unless
    # ``st3_missing_category_in_scope``.
    ident = pl.col("id_nat_struct").str.strip_chars()
    has_ident = ident.is_not_null() & (ident != "")
    category_ok = ~pl.col("categorie_sa")
    if not params.st3_missing_category_in_scope:
        category_ok = category_ok & pl.col("categorie").is_not_null()
    in_st3 = ~pl.col("ror_ferme") & category_ok
    if params.st3_missing_identifier_not_applicable:
        in_st3 = in_st3 & has_ident
    key = pl.when(has_ident).then(ident).otherwise(pl.lit(_NO_IDENTIFIER))
    counts = (
        frame.filter(in_st3)
        .group_by(key.alias("_id"))
        .agg(
            pl.len().cast(pl.Int32).alias("nb_meme_identifiant"),
            pl.col("finess_eg").sort().alias("_porteurs"),
        )
    )
    extracted = frame.select(has_ident.any().alias("identifiants_extraits"))
    return (
        frame.with_columns(
            pl.when(in_st3).then(key).alias("_id"),
            category_ok.fill_null(False).alias("st3_categorie_ok"),
        )
        .join(counts, on="_id", how="left")
        .join(extracted, how="cross")
        .with_columns(
            pl.col("_porteurs")
            .list.set_difference(pl.concat_list(pl.col("finess_eg")))
            .list.join(", ")
            .alias("autres_porteurs"),
            pl.col("finess_eg").alias("entite"),
            pl.col("raison_sociale").alias("nom_entite"),
        )
        .drop("_porteurs")
    )


def _not_open_or_provisional() -> Condition:
    return (
        pl.col("ror_ferme") & (pl.col("etat_ror") == FERME_DEF),
        "hors périmètre : fermé définitivement dans le ROR",
    )


def _st3_failures(_: QualityParams) -> list[Condition]:
    return [
        (
            (pl.col("nb_meme_identifiant") > 1) & (pl.col("_id") == _NO_IDENTIFIER),
            pl.format(
                "identifiant national de structure non renseigné, comme pour {} établissements "
                "ouverts (aussi : {}) : la vue nationale les compte comme un même identifiant",
                pl.col("nb_meme_identifiant"),
                pl.col("autres_porteurs"),
            ),
        ),
        (
            pl.col("nb_meme_identifiant") > 1,
            pl.format(
                "identifiant {} porté par {} établissements ouverts (aussi : {})",
                pl.col("_id"),
                pl.col("nb_meme_identifiant"),
                pl.col("autres_porteurs"),
            ),
        ),
    ]


def _st3_exclusions(params: QualityParams) -> list[Condition]:
    out: list[Condition] = [
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


def _absent_from_finess() -> Condition:
    return (~pl.col("f_present"), "numéro FINESS absent du référentiel FINESS")


def _re12_failures(params: QualityParams) -> list[Condition]:
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


def _ex2_failures(params: QualityParams) -> list[Condition]:
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
            "numéro FINESS inconnu du référentiel FINESS alors que l'établissement est ouvert "
            "dans le ROR",
        ),
        (
            f_present & (f_closed | f_caduc) & ror_open,
            pl.format("{} dans FINESS mais ouvert dans le ROR", pl.col("etat_finess")),
        ),
        (
            third,
            pl.when(~f_present)
            .then(pl.lit("numéro absent du référentiel FINESS (aucune fermeture FINESS) mais "))
            .when(f_caduc)
            .then(pl.lit("caduc dans FINESS sans date de fermeture mais "))
            .otherwise(pl.lit("ouvert dans FINESS mais "))
            + ror_state,
        ),
        (
            gate & (pl.col("f_type_fermeture") == nom.FERMETURE_PROVISOIRE) & not_pro,
            "fermeture provisoire dans FINESS, définitive dans le ROR",
        ),
        (
            gate & (pl.col("f_type_fermeture") == nom.FERMETURE_DEFINITIVE) & not_def,
            "fermeture définitive dans FINESS, provisoire dans le ROR",
        ),
    ]


# ------------------------------------------------------------------------ unit level


def _unite_frame(tables: Mapping[str, Any], as_of: dt.date, params: QualityParams) -> pl.LazyFrame:
    """One row per unit with its full / day hospitalisation offers and their capacities."""
    formes = list(params.capacity_formes)
    capacity = (
        pl.when(
            pl.col("forme").replace_strict(
                {f.code: f.capacite for f in nom.FORMES}, default=None, return_dtype=pl.String
            )
            == "lits"
        )
        .then(pl.col("lits"))
        .otherwise(pl.col("places"))
    )
    kind = pl.col("forme").replace_strict(
        {f.code: f.capacite for f in nom.FORMES}, default="", return_dtype=pl.String
    )
    offers = (
        _table(tables, "offres")
        .filter(pl.col("forme").is_in(formes))
        .with_columns(capacity.alias("_cap"), kind.alias("_kind"))
        .group_by("uo_id")
        .agg(
            pl.len().cast(pl.Int32).alias("nb_offres_hc_hj"),
            pl.concat_str(
                [
                    pl.col("forme"),
                    pl.lit(" "),
                    pl.col("mention"),
                    pl.lit(" : "),
                    pl.when(pl.col("_cap").is_null())
                    .then(pl.lit("non renseigné (") + pl.col("_kind") + pl.lit(")"))
                    .otherwise(pl.col("_cap").cast(pl.String) + pl.lit(" ") + pl.col("_kind")),
                ]
            )
            .filter(pl.col("_cap").is_null() | (pl.col("_cap") <= 0))
            .str.join(" ; ")
            .alias("capacites_nulles"),
            pl.concat_str(
                [
                    pl.col("forme"),
                    pl.lit(" "),
                    pl.col("mention"),
                    pl.lit(" : "),
                    pl.col("_cap").cast(pl.String).fill_null("?"),
                ]
            )
            .str.join(" ; ")
            .alias("capacites"),
        )
    )
    units = _table(tables, "unites").unique("uo_id", keep="first")
    etabs = (
        _table(tables, "etablissements")
        .select("finess_eg", "raison_sociale", "commune_insee")
        .unique("finess_eg", keep="first")
    )
    closed = _closed(
        "date_fermeture", as_of, params.future_dates_pending
    ) & pl.col("type_fermeture").ne_missing(nom.FERMETURE_PROVISOIRE)
    return (
        units.drop("commune_insee", strict=False)
        .join(etabs, on="finess_eg", how="left")
        .join(offers, on="uo_id", how="left")
        .with_columns(
            closed.alias("unite_fermee"),
            pl.col("nb_offres_hc_hj").fill_null(0),
            _departement().alias("departement"),
            pl.col("uo_id").alias("entite"),
            pl.col("nom").alias("nom_entite"),
        )
    )


# ------------------------------------------------------------------- authorisation level


def _autorisation_frame(
    tables: Mapping[str, Any], as_of: dt.date, params: QualityParams
) -> pl.LazyFrame:
    """One row per ROR EG × SMR mention authorised (new regime, outside HAD)."""
    day = pl.lit(as_of)
    in_force = (
        (pl.col("date_mise_en_oeuvre").is_null() | (pl.col("date_mise_en_oeuvre") <= day))
        & (pl.col("date_fin").is_null() | (pl.col("date_fin") >= day))
    ).fill_null(False)
    auth = (
        _table(tables, "autorisations")
        .filter(
            (pl.col("regime") == "SMR")
            & pl.col("mention").is_not_null()
            & pl.col("forme").ne_missing(nom.HAD_FORME_AUTORISATION)
        )
        .group_by("finess_eg", "mention")
        .agg(
            in_force.any().alias("en_vigueur"),
            pl.col("date_mise_en_oeuvre").min().alias("debut"),
            pl.col("date_fin").max().alias("fin"),
            pl.col("forme").drop_nulls().unique().sort().str.join(", ").alias("formes"),
        )
    )
    offered = (
        _table(tables, "offres")
        .join(
            _live_units(tables, as_of, params).select("uo_id", "finess_eg"),
            on="uo_id",
            how="inner",
        )
        .group_by("finess_eg", "mention")
        .agg(pl.col("uo_id").unique().sort().str.join(", ").alias("unites_offrant"))
    )
    etabs = (
        _table(tables, "etablissements")
        .select("finess_eg", "raison_sociale", "commune_insee", "date_fermeture")
        .unique("finess_eg", keep="first")
    )
    return (
        auth.join(etabs, on="finess_eg", how="inner")
        .join(offered, on=["finess_eg", "mention"], how="left")
        .with_columns(
            _closed("date_fermeture", as_of, params.future_dates_pending).alias("eg_ferme"),
            _departement().alias("departement"),
            (pl.col("finess_eg") + pl.lit(" ") + pl.col("mention")).alias("entite"),
            pl.col("mention")
            .replace_strict({m.code: m.libelle for m in nom.MENTIONS}, default=None)
            .alias("nom_entite"),
        )
    )


# ------------------------------------------------------------------------ requirements


def _value_pair(ror: str, finess: str) -> pl.Expr:
    return pl.format(
        "ROR : {} ; FINESS : {}",
        pl.col(ror).cast(pl.String).fill_null("—"),
        pl.col(finess).cast(pl.String).fill_null("—"),
    )


REQUIREMENTS: tuple[Requirement, ...] = (
    Requirement(
        "EX1.2",
        "Établissement FINESS présent dans le ROR",
        EG_FINESS,
        "Créer l'établissement (entité géographique) dans le ROR avec son numéro FINESS, puis "
        "y décrire ses offres SMR.",
        lambda p: [
            (
                ~pl.col("dans_ror"),
                "établissement FINESS titulaire d'une autorisation SMR absent du ROR",
            ),
        ],
        exclusions=_target_exclusions,
        value=lambda: pl.format(
            "catégorie {} ; autorisations SMR {}",
            pl.col("categorie").fill_null("—"),
            pl.col("nb_autorisations_retenues").cast(pl.String),
        ),
        needs_finess=True,
    ),
    Requirement(
        "EX2",
        "État ouvert / fermé conforme à FINESS",
        EG_ROR,
        "Mettre à jour dans le ROR l'état de l'établissement (ouvert, fermeture provisoire ou "
        "définitive, date de fermeture) pour qu'il corresponde à FINESS, ou signaler à l'ARS "
        "une erreur de FINESS.",
        _ex2_failures,
        value=lambda: _value_pair("etat_ror", "etat_finess"),
        needs_finess=True,
    ),
    Requirement(
        "ST2",
        "Entité juridique de rattachement conforme à FINESS",
        EG_ROR,
        "Rattacher dans le ROR l'établissement à l'entité juridique (FINESS EJ) indiquée par "
        "FINESS.",
        lambda p: [
            _absent_from_finess(),
            (
                pl.col("finess_ej").is_null(),
                pl.format(
                    "EJ de rattachement non renseignée dans le ROR (FINESS : {})",
                    pl.col("f_finess_ej").fill_null("—"),
                ),
            ),
            (
                pl.col("finess_ej").ne_missing(pl.col("f_finess_ej")),
                pl.format(
                    "EJ du ROR {} différente de l'EJ FINESS {}",
                    pl.col("finess_ej"),
                    pl.col("f_finess_ej").fill_null("—"),
                ),
            ),
        ],
        exclusions=lambda p: [_not_open_or_provisional()],
        value=lambda: _value_pair("finess_ej", "f_finess_ej"),
        needs_finess=True,
    ),
    Requirement(
        "CO4",
        "Catégorie d'établissement conforme à FINESS",
        EG_ROR,
        "Corriger dans le ROR la catégorie de l'établissement pour qu'elle soit celle de "
        "FINESS (ou signaler à l'ARS une catégorie FINESS erronée).",
        lambda p: [
            _absent_from_finess(),
            (
                pl.col("categorie").ne_missing(pl.col("f_categorie")),
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
        needs_finess=True,
    ),
    Requirement(
        "ST3",
        "Identifiant national de structure unique",
        EG_ROR,
        "Corriger dans le ROR l'identifiant national de structure : chaque établissement "
        "ouvert doit porter le sien (« 1 » + FINESS), sans doublon ; fermer l'éventuelle "
        "fiche en double.",
        _st3_failures,
        exclusions=_st3_exclusions,
        value=lambda: pl.col("id_nat_struct"),
    ),
    Requirement(
        "RE1.2",
        "Offres mises à jour depuis moins d'un an",
        EG_ROR,
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
    Requirement(
        "CP4",
        "Peuplement SMR finalisé",
        EG_FINESS,
        "Compléter dans le ROR chaque offre SMR de l'établissement : champ d'activité, mode "
        "de prise en charge, âges de la patientèle, activité opérationnelle, adresse et "
        "contact.",
        lambda p: [(pl.col("statut_peuplement") != FINALISE, _population_reason())],
        exclusions=_target_exclusions,
        value=lambda: pl.format(
            "{} ; {} / {} offre(s) finalisée(s)",
            pl.col("statut_peuplement").replace_strict(PEUPLEMENT_LABELS),
            pl.col("nb_finalisees"),
            pl.col("nb_unites"),
        ),
    ),
    Requirement(
        "LOC-CAPACITE",
        "Capacité déclarée en hospitalisation complète et de jour",
        UNITE,
        "Déclarer dans le ROR les lits (hospitalisation complète) et places (hospitalisation "
        "de jour) installés de l'unité : une capacité nulle ou vide la rend invisible aux "
        "adresseurs.",
        lambda p: [
            (
                pl.col("capacites_nulles").is_not_null() & (pl.col("capacites_nulles") != ""),
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
    Requirement(
        "LOC-AUTORISATION",
        "Mention autorisée décrite dans le ROR",
        AUTORISATION,
        "Décrire dans le ROR une offre de la mention autorisée (type d'offre SMR de la "
        "mention), ou signaler à l'ARS que l'activité n'est pas mise en œuvre.",
        lambda p: [
            (
                pl.col("unites_offrant").is_null(),
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

REQUIREMENT_BY_CODE: dict[str, Requirement] = {r.code: r for r in REQUIREMENTS}
_LEVEL_FRAMES: dict[str, Callable[[Mapping[str, Any], dt.date, QualityParams], pl.LazyFrame]] = {
    EG_FINESS: _eg_finess_frame,
    EG_ROR: _eg_ror_frame,
    UNITE: _unite_frame,
    AUTORISATION: _autorisation_frame,
}


def requirements_frame(requirements: Sequence[Requirement] = REQUIREMENTS) -> pl.DataFrame:
    """The requirements as a table: ``exigence``, ``libelle``, ``niveau``, ``nationale``,
    ``aide``, ``ordre``."""
    return pl.DataFrame(
        {
            "exigence": [r.code for r in requirements],
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


def skipped(
    tables: Mapping[str, pl.DataFrame | pl.LazyFrame],
    requirements: Sequence[Requirement] = REQUIREMENTS,
) -> dict[str, str]:
    """Requirements that cannot be evaluated on ``tables``, with the French reason."""
    if has_finess_reference(tables):
        return {}
    return {
        r.code: "référentiel FINESS absent de l'instantané (option --finess ou fichier FINESS)"
        for r in requirements
        if r.needs_finess
    }


RESULTS_SCHEMA: dict[str, pl.DataType] = {
    "exigence": pl.String(),
    "niveau": pl.String(),
    "entite": pl.String(),
    "nom_entite": pl.String(),
    "finess_eg": pl.String(),
    "departement": pl.String(),
    "statut": pl.String(),
    "motif": pl.String(),
    "valeur": pl.String(),
}


def _text(why: pl.Expr | str) -> pl.Expr:
    return pl.lit(why) if isinstance(why, str) else why.cast(pl.String)


def _verdict(req: Requirement, params: QualityParams) -> tuple[pl.Expr, pl.Expr]:
    """(statut, motif) of ``req``: first exclusion → not applicable, first failure → écart."""
    cases = [(c, NON_APPLICABLE, why) for c, why in req.exclusions(params)]
    cases += [(c, ECART, why) for c, why in req.failures(params)]
    if not cases:
        return pl.lit(CONFORME), pl.lit(None, pl.String)
    cond, status, why = cases[0]
    statut = pl.when(cond.fill_null(False)).then(pl.lit(status))
    motif = pl.when(cond.fill_null(False)).then(_text(why))
    for cond, status, why in cases[1:]:
        statut = statut.when(cond.fill_null(False)).then(pl.lit(status))
        motif = motif.when(cond.fill_null(False)).then(_text(why))
    return statut.otherwise(pl.lit(CONFORME)), motif.otherwise(pl.lit(None, pl.String))


def evaluate_lazy(
    tables: Mapping[str, pl.DataFrame | pl.LazyFrame],
    as_of: dt.date,
    params: QualityParams | None = None,
    requirements: Sequence[Requirement] = REQUIREMENTS,
) -> pl.LazyFrame:
    """Lazy ``evaluate`` (same columns, not sorted)."""
    params = params or QualityParams()
    missing = skipped(tables, requirements)
    frames: dict[str, pl.LazyFrame] = {}
    limit = re12_threshold(as_of, params.re12_window_years)
    parts = []
    for req in requirements:
        if req.code in missing:
            continue
        if req.level not in frames:
            frames[req.level] = _LEVEL_FRAMES[req.level](tables, as_of, params).with_columns(
                pl.lit(limit).alias("_limite_re12"), pl.lit(as_of).alias("_date_instantane")
            )
        statut, motif = _verdict(req, params)
        value = req.value().cast(pl.String) if req.value is not None else pl.lit(None, pl.String)
        parts.append(
            frames[req.level].select(
                pl.lit(req.code).alias("exigence"),
                pl.lit(req.level).alias("niveau"),
                pl.col("entite").cast(pl.String),
                pl.col("nom_entite").cast(pl.String),
                pl.col("finess_eg"),
                pl.col("departement"),
                statut.alias("statut"),
                motif.alias("motif"),
                value.alias("valeur"),
            )
        )
    if not parts:
        return pl.DataFrame(schema=RESULTS_SCHEMA).lazy()
    return pl.concat(parts, how="vertical_relaxed")


def evaluate(
    tables: Mapping[str, pl.DataFrame | pl.LazyFrame],
    as_of: dt.date,
    params: QualityParams | None = None,
    requirements: Sequence[Requirement] = REQUIREMENTS,
) -> pl.DataFrame:
    """Status of every entity for every requirement of a snapshot (one row per pair).

    ``as_of`` is the snapshot date (the load date of the national views). Columns
    (``RESULTS_SCHEMA``): ``exigence``, ``niveau``, ``entite`` (FINESS, uo_id or « FINESS
    mention »), ``nom_entite``, ``finess_eg``, ``departement``, ``statut`` (conforme / ecart /
    non_applicable), ``motif`` (French reason of an écart or of the exclusion), ``valeur``
    (the values compared). Requirements that need the FINESS reference are left out when the
    tables have none (see ``skipped``). Sorted by requirement order, département, entity.
    """
    order = {r.code: i for i, r in enumerate(requirements)}
    return (
        evaluate_lazy(tables, as_of, params, requirements)
        .with_columns(pl.col("exigence").replace_strict(order, return_dtype=pl.Int32).alias("_o"))
        .sort("_o", "departement", "entite", nulls_last=True)
        .drop("_o")
        .collect()
        .cast(RESULTS_SCHEMA)  # type: ignore[arg-type]
    )


SUMMARY_SCHEMA: dict[str, pl.DataType] = {
    "exigence": pl.String(),
    "libelle": pl.String(),
    "departement": pl.String(),
    "perimetre": pl.Int64(),
    "conformes": pl.Int64(),
    "ecarts": pl.Int64(),
    "non_applicables": pl.Int64(),
    "taux": pl.Float64(),
}


def _counts(frame: pl.LazyFrame, keys: list[str]) -> pl.LazyFrame:
    return (
        frame.group_by(keys)
        .agg(
            (pl.col("statut") == CONFORME).sum().cast(pl.Int64).alias("conformes"),
            (pl.col("statut") == ECART).sum().cast(pl.Int64).alias("ecarts"),
            (pl.col("statut") == NON_APPLICABLE).sum().cast(pl.Int64).alias("non_applicables"),
        )
        .with_columns((pl.col("conformes") + pl.col("ecarts")).alias("perimetre"))
        .with_columns(
            pl.when(pl.col("perimetre") > 0)
            .then(pl.col("conformes") / pl.col("perimetre"))
            .alias("taux")
        )
    )


def evaluated(
    tables: Mapping[str, pl.DataFrame | pl.LazyFrame],
    requirements: Sequence[Requirement] = REQUIREMENTS,
) -> list[str]:
    """Codes of the requirements ``evaluate`` computes on ``tables`` (not ``skipped``)."""
    missing = skipped(tables, requirements)
    return [r.code for r in requirements if r.code not in missing]


def summary(
    results: pl.DataFrame,
    with_total: bool = True,
    requirements: Sequence[Requirement] = REQUIREMENTS,
    codes: Sequence[str] | None = None,
) -> pl.DataFrame:
    """The weekly-table aggregate: one row per requirement × département.

    Columns (``SUMMARY_SCHEMA``): ``exigence``, ``libelle``, ``departement``, ``perimetre``
    (entities in scope: conforme + écart), ``conformes``, ``ecarts``, ``non_applicables``,
    ``taux`` (conformes ÷ périmètre, 0–1, null when the perimeter is empty). With
    ``with_total``, each requirement also has a row ``departement = "ensemble"``. ``codes``
    lists the requirements evaluated (``evaluated``): one without any entity still gets an
    empty ``ensemble`` row, so that it shows as evaluated with an empty perimeter.
    """
    lazy = results.lazy()
    present = set(results["exigence"].unique().to_list())
    empty_codes = [c for c in (codes or []) if c not in present]
    if empty_codes and with_total:
        lazy = pl.concat(
            [
                lazy,
                pl.DataFrame(
                    {
                        "exigence": empty_codes,
                        "departement": [ENSEMBLE] * len(empty_codes),
                        "statut": [None] * len(empty_codes),
                    },
                    schema={"exigence": pl.String, "departement": pl.String, "statut": pl.String},
                ).lazy(),
            ],
            how="diagonal",
        )
    parts = [
        _counts(lazy.filter(~pl.col("exigence").is_in(empty_codes)), ["exigence", "departement"])
    ]
    if with_total:
        parts.append(
            _counts(lazy, ["exigence"]).with_columns(pl.lit(ENSEMBLE).alias("departement"))
        )
    labels = {r.code: r.label for r in requirements}
    order = {r.code: i for i, r in enumerate(requirements)}
    out = (
        pl.concat(
            [p.select(list(SUMMARY_SCHEMA.keys() - {"libelle"})) for p in parts], how="diagonal"
        )
        .with_columns(
            pl.col("exigence").replace_strict(labels, default=None).alias("libelle"),
            pl.col("exigence").replace_strict(order, default=len(order)).alias("_o"),
            (pl.col("departement") == ENSEMBLE).alias("_t"),
        )
        .sort("_o", "_t", "departement")
        .select(list(SUMMARY_SCHEMA))
        .collect()
    )
    return out.cast(SUMMARY_SCHEMA)  # type: ignore[arg-type]


def ecarts(
    results: pl.DataFrame,
    exigence: str | None = None,
    departement: str | None = None,
    requirements: Sequence[Requirement] = REQUIREMENTS,
) -> pl.DataFrame:
    """The entities in écart (optionally of one requirement and one département), with the
    requirement's label and the action expected: ``exigence``, ``libelle``, ``departement``,
    ``finess_eg``, ``entite``, ``nom_entite``, ``motif``, ``valeur``, ``aide``."""
    out = results.filter(pl.col("statut") == ECART)
    if exigence is not None:
        out = out.filter(pl.col("exigence") == exigence)
    if departement is not None and departement != ENSEMBLE:
        out = out.filter(pl.col("departement") == departement)
    meta = requirements_frame(requirements).select("exigence", "libelle", "aide")
    return out.join(meta, on="exigence", how="left").select(
        "exigence",
        "libelle",
        "departement",
        "finess_eg",
        "entite",
        "nom_entite",
        "motif",
        "valeur",
        "aide",
    )


def ecarts_by_establishment(
    results: pl.DataFrame,
    etablissements: pl.DataFrame | None = None,
    requirements: Sequence[Requirement] = REQUIREMENTS,
) -> pl.DataFrame:
    """Écarts per establishment (FINESS EG), one column per requirement, most first.

    Columns: ``finess_eg``, ``raison_sociale`` (from ``etablissements`` when given, else the
    entity's name for EG-level requirements), ``departement``, ``ecarts`` (all requirements)
    and one count per requirement code that has écarts. Unit and authorisation écarts count
    for their establishment.
    """
    found = results.filter(pl.col("statut") == ECART)
    codes = [r.code for r in requirements if r.code in set(found["exigence"].to_list())]
    names = (
        found.filter(pl.col("niveau").is_in([EG_ROR, EG_FINESS]))
        .select("finess_eg", pl.col("nom_entite").alias("_nom"))
        .unique("finess_eg", keep="first")
    )
    out = (
        found.group_by("finess_eg")
        .agg(
            pl.col("departement").first(),
            pl.len().cast(pl.Int64).alias("ecarts"),
            *[(pl.col("exigence") == c).sum().cast(pl.Int64).alias(c) for c in codes],
        )
        .join(names, on="finess_eg", how="left")
    )
    if etablissements is not None:
        info = etablissements.select("finess_eg", pl.col("raison_sociale").alias("_rs")).unique(
            "finess_eg", keep="first"
        )
        out = out.join(info, on="finess_eg", how="left").with_columns(
            pl.coalesce("_rs", "_nom").alias("_nom")
        )
    return out.select(
        "finess_eg", pl.col("_nom").alias("raison_sociale"), "departement", "ecarts", *codes
    ).sort(["ecarts", "finess_eg"], descending=[True, False])


