"""Parameters of the quality requirements (``QualityParams``) and the points where the
workbench once read the data otherwise than the national SQL (``READINGS``), each a switch
that is off by default (listed with the SQL line in ``docs/ecarts_vue_nationale.md``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace


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
