"""The frames the quality requirements read, one per level, and the shared expressions.

Levels: ``eg_ror`` (one ROR EG of ``etablissements``), ``eg_finess`` (one EG of the FINESS
reference ``finess_etablissements``), ``unite`` (one unit of ``unites``), ``autorisation`` (one
ROR EG × SMR mention authorised). Each frame has ``entite``, ``nom_entite``, ``finess_eg``,
``departement`` and the columns the requirements of ``rules`` read; the population flags of
the units (``unit_flags``, the ANS « suivi du peuplement ») feed the FINESS level.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

import polars as pl

from analysis.checks.quality.readings import QualityParams
from analysis.model import insee, schema
from analysis.model import nomenclature as nom
from analysis.model.syntax import blank

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
    the EG's SMR row: champ 02 or missing). Sorted by ``finess_eg`` then ``uo_id``.
    """
    return _unit_flags_lazy(tables, as_of, params).sort("finess_eg", "uo_id").collect()


def _unit_flags_lazy(
    tables: Mapping[str, pl.DataFrame | pl.LazyFrame],
    as_of: dt.date,
    params: QualityParams | None = None,
) -> pl.LazyFrame:
    """``unit_flags`` as a lazy plan, not sorted (a part of the requirements' plans)."""
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
    return _population_counts_by_eg(_unit_flags_lazy(tables, as_of, params))


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
    # Each offer's texts are built row by row, then joined per unit (``str.join`` skips the
    # nulls): plain aggregations instead of expressions evaluated group by group.
    described = pl.concat_str(
        [pl.col("forme"), pl.lit(" "), pl.col("mention"), pl.lit(" : "), pl.col("_cap_text")]
    )
    offers = (
        _table(tables, "offres")
        .filter(pl.col("forme").is_in(formes))
        .with_columns(capacity.alias("_cap"), kind.alias("_kind"))
        .with_columns(
            pl.when(pl.col("_cap").is_null())
            .then(pl.lit("non renseigné (") + pl.col("_kind") + pl.lit(")"))
            .otherwise(pl.col("_cap").cast(pl.String) + pl.lit(" ") + pl.col("_kind"))
            .alias("_cap_text"),
        )
        .with_columns(
            pl.when(pl.col("_cap").is_null() | (pl.col("_cap") <= 0))
            .then(described)
            .alias("_nulle"),
            pl.concat_str(
                [
                    pl.col("forme"),
                    pl.lit(" "),
                    pl.col("mention"),
                    pl.lit(" : "),
                    pl.col("_cap").cast(pl.String).fill_null("?"),
                ]
            ).alias("_offre"),
        )
        .group_by("uo_id")
        .agg(
            pl.len().cast(pl.Int32).alias("nb_offres_hc_hj"),
            pl.col("_nulle").str.join(" ; ").alias("capacites_nulles"),
            pl.col("_offre").str.join(" ; ").alias("capacites"),
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
        .select("finess_eg", "mention", "uo_id")
        .unique()
        .sort("uo_id")  # the order within a group follows the frame's
        .group_by("finess_eg", "mention")
        .agg(pl.col("uo_id").str.join(", ").alias("unites_offrant"))
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




LEVEL_FRAMES: dict[str, Callable[[Mapping[str, Any], dt.date, QualityParams], pl.LazyFrame]] = {
    EG_FINESS: _eg_finess_frame,
    EG_ROR: _eg_ror_frame,
    UNITE: _unite_frame,
    AUTORISATION: _autorisation_frame,
}
