"""SSR → SMR transition, gaps between authorisations and the ROR.

**Gaps** (:func:`transition_gaps`), per establishment × mention, on the authorisations active
at the snapshot date (``date_fin`` null or on/after it) and outside forme 05:

- ``autorisee_non_decrite``: authorised (an SMR decision, or expected from an active SSR
  authorisation whose mention has no SMR decision yet) but no offer of the mention in the ROR
  (for an ambiguous expectation: none of its candidates);
- ``decrite_non_autorisee``: an offer in the ROR whose mention is neither decided nor
  expected from an SSR authorisation still waiting for its decision;
- ``ssr_sans_decision_smr``: an active SSR authorisation whose expected mention (none of its
  candidates) has no SMR decision at the establishment. Per mention: an establishment whose
  decision granted some mentions still waits for the others, and its old authorisation
  for them stays in force until it ends;
- ``unite_libellee_ssr``: units still named SSR (the word « SSR » or « soins de suite » in
  ``nom``), one row per establishment × mention of their offers; renaming is optional advice
  in the campaign guide;
- ``migration_automatique``: units still typed SSR (``discipline``): the guide says the
  discipline group and the type d'UO will be changed automatically, so this is no
  establishment action but the regional ROR team's to follow (``ROR_TEAM_GAPS``, shown apart);
- ``correspondance_inconnue``: an SSR authorisation the mapping table does not cover.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

import polars as pl

from analysis.indicators import sync
from analysis.model import nomenclature as nom
from analysis.model import schema
from analysis.transition.correspondence import (
    ALTERNATIVE,
    IN_SCOPE,
    MAPPING_STATUSES,
    correspondance_ssr,
    mention_text,
)

# -------------------------------------------------------------------------------- gaps

#: Gap type → (French label, what to do).
GAP_TYPES: dict[str, tuple[str, str]] = {
    "autorisee_non_decrite": (
        "Autorisée mais non décrite dans le ROR",
        "Décrire dans le ROR une offre de cette mention (unité, type d'offre, forme, "
        "capacités) ; si l'activité n'est pas exercée, le signaler à l'ARS.",
    ),
    "decrite_non_autorisee": (
        "Décrite dans le ROR sans autorisation",
        "Vérifier le type d'offre de l'unité dans le ROR et le corriger s'il est erroné ; "
        "sinon vérifier l'autorisation avec l'ARS.",
    ),
    "ssr_sans_decision_smr": (
        "Autorisation SSR sans décision SMR",
        "Instruire la demande d'autorisation SMR pour cette mention ; l'autorisation SSR "
        "reste prorogée jusqu'à la décision.",
    ),
    "unite_libellee_ssr": (
        "Unité encore nommée SSR (renommage conseillé)",
        "Facultatif, conseillé par le guide de la campagne : dans l'attente de la mise à jour "
        "des autorisations, remplacer « SSR » par « SMR » dans le nom de l'unité (fiche UO du "
        "ROR, « Renommer »).",
    ),
    "migration_automatique": (
        "Discipline ou type d'UO encore SSR : migration automatique en attente",
        "Aucune action de l'établissement : le grand groupe de discipline « SSR » et le "
        "« Type d'UO » seront modifiés ultérieurement de façon automatique ; à suivre par "
        "l'équipe régionale du ROR.",
    ),
    "correspondance_inconnue": (
        "Autorisation SSR sans correspondance SMR",
        "Compléter la table de correspondance SSR → SMR pour cette activité et cette modalité.",
    ),
}
#: Short labels of the gap types, for figures and narrow table headers.
GAP_SHORT_LABELS: dict[str, str] = {
    "autorisee_non_decrite": "Autorisées, non décrites",
    "decrite_non_autorisee": "Décrites, non autorisées",
    "ssr_sans_decision_smr": "SSR sans décision SMR",
    "unite_libellee_ssr": "Unités nommées « SSR »",
    "migration_automatique": "Migration automatique en attente",
    "correspondance_inconnue": "Hors table de correspondance",
}
#: Gap types that are the regional ROR team's to follow, not an establishment's action:
#: shown apart from the list sent to establishments.
ROR_TEAM_GAPS: tuple[str, ...] = ("migration_automatique",)
#: A unit is « named SSR » when its name contains one of these (case-insensitive).
SSR_NAME_PATTERN = r"(?i)\bSSR\b|soins de suite"

GAP_SCHEMA: dict[str, pl.DataType] = {
    "finess_eg": pl.String(),
    "raison_sociale": pl.String(),
    "departement": pl.String(),
    "mention": pl.String(),
    "libelle_mention": pl.String(),
    "ecart": pl.String(),
    "libelle_ecart": pl.String(),
    "action": pl.String(),
    "detail": pl.String(),
    "correspondance": pl.String(),
    "autorisations": pl.String(),
    "unites": pl.String(),
}


def active_authorisations(autorisations: pl.DataFrame, date: dt.date) -> pl.DataFrame:
    """Authorisations in force at ``date``: ``date_fin`` null or on/after the date."""
    return autorisations.filter(pl.col("date_fin").is_null() | (pl.col("date_fin") >= date))


def _joined(col: str) -> pl.Expr:
    return pl.col(col).drop_nulls().unique().sort().str.join(", ")


def _part(frame: pl.DataFrame, ecart: str, **columns: pl.Expr) -> pl.DataFrame:
    """Rows of one gap type: finess_eg, mention, ecart and the given detail columns."""
    exprs = {
        "detail": pl.lit(None, pl.String),
        "correspondance": pl.lit(None, pl.String),
        "autorisations": pl.lit(None, pl.String),
        "unites": pl.lit(None, pl.String),
    } | columns
    return frame.select(
        "finess_eg",
        pl.col("mention").cast(pl.String),
        pl.lit(ecart).alias("ecart"),
        *(e.cast(pl.String).alias(k) for k, e in exprs.items()),
    )


def _units_named_ssr(
    unites: pl.DataFrame, offres: pl.DataFrame, by_discipline: bool = False
) -> pl.DataFrame:
    """Units named SSR (or, with ``by_discipline``, typed SSR: the automatic migration), per
    establishment × mention of their offers (null mention for a unit without offer):
    finess_eg, mention, unites (ids), _units (names for detail)."""
    which = (
        pl.col("discipline") == "SSR"
        if by_discipline
        else pl.col("nom").fill_null("").str.contains(SSR_NAME_PATTERN)
    )
    flagged = unites.filter(which).with_columns(
        pl.concat_str(
            pl.col("nom").fill_null("(sans nom)"),
            pl.lit(" ("),
            pl.col("uo_id"),
            pl.when(pl.col("discipline") == "SSR")
            .then(pl.lit(", discipline SSR"))
            .otherwise(pl.lit("")),
            pl.lit(")"),
        ).alias("_unit")
    )
    return (
        flagged.join(offres.select("uo_id", "mention").unique(), on="uo_id", how="left")
        .group_by("finess_eg", "mention")
        .agg(_joined("uo_id").alias("unites"), _joined("_unit").alias("_units"))
    )


def transition_gaps(
    tables: Mapping[str, pl.DataFrame],
    date: dt.date,
    mapping: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """The list to act on: one row per establishment × mention × gap type (see module doc).

    ``tables``: canonical snapshot frames (etablissements, unites, offres, autorisations).
    ``date``: the snapshot date (authorisations ended before it are ignored). ``mapping``: SSR
    → SMR rules (default :func:`default_mapping`). Columns: finess_eg, raison_sociale,
    departement, mention (code, alternatives ``ME062|ME056``, or null for a unit without
    offer), libelle_mention, ecart, libelle_ecart, action, detail, correspondance (mapping
    status of an expectation from SSR), autorisations, unites (identifiers, comma-separated).
    Why: every gap of the transition on one list, to send or to follow up.
    """
    autorisations = tables.get("autorisations", schema.empty("autorisations"))
    active = active_authorisations(autorisations, date)
    not_had = pl.col("forme").is_null() | (pl.col("forme") != nom.HAD_FORME_AUTORISATION)
    decided = (
        active.filter((pl.col("regime") == "SMR") & pl.col("mention").is_not_null() & not_had)
        .group_by("finess_eg", "mention")
        .agg(_joined("autorisation_id").alias("autorisations"))
    )
    slots = correspondance_ssr(active, mapping)
    rank = {s: i for i, s in enumerate(("a_preciser", "approximation", "proposee"))}
    expected = (
        slots.filter(pl.col("statut").is_in(IN_SCOPE))
        .with_columns(pl.col("statut").replace_strict(rank, return_dtype=pl.Int8).alias("_r"))
        .group_by("finess_eg", "mention")
        .agg(
            pl.col("mentions").first(),
            pl.col("statut").sort_by("_r").first(),
            _joined("autorisation_id").alias("autorisations"),
            _joined("remarque").alias("remarque"),
        )
    )
    candidates = expected.with_columns(pl.col("mentions").alias("_c")).explode(
        "_c", empty_as_null=False
    )
    covered = (
        candidates.join(
            decided, left_on=["finess_eg", "_c"], right_on=["finess_eg", "mention"], how="semi"
        )
        .select("finess_eg", "mention")
        .unique()
    )
    waiting = expected.join(covered, on=["finess_eg", "mention"], how="anti")

    described = (
        tables["offres"]
        .join(tables["unites"].select("uo_id", "finess_eg"), on="uo_id", how="inner")
        .group_by("finess_eg", "mention")
        .agg(_joined("uo_id").alias("unites"))
    )
    authorised = pl.concat(
        [
            decided.select(
                "finess_eg",
                "mention",
                pl.concat_list("mention").alias("mentions"),
                "autorisations",
                pl.lit(None, pl.String).alias("statut"),
                pl.lit("décision SMR").alias("_source"),
            ),
            waiting.select(
                "finess_eg",
                "mention",
                "mentions",
                "autorisations",
                "statut",
                pl.lit("autorisation SSR en attente de décision SMR").alias("_source"),
            ),
        ]
    )
    auth_candidates = authorised.with_columns(pl.col("mentions").alias("_c")).explode(
        "_c", empty_as_null=False
    )
    satisfied = (
        auth_candidates.join(
            described, left_on=["finess_eg", "_c"], right_on=["finess_eg", "mention"], how="semi"
        )
        .select("finess_eg", "mention")
        .unique()
    )
    not_described = authorised.join(satisfied, on=["finess_eg", "mention"], how="anti")
    not_authorised = described.join(
        auth_candidates.select("finess_eg", pl.col("_c").alias("mention")).unique(),
        on=["finess_eg", "mention"],
        how="anti",
    )

    named = _units_named_ssr(tables["unites"], tables["offres"])
    typed = _units_named_ssr(tables["unites"], tables["offres"], by_discipline=True)
    unmapped = (
        slots.filter(pl.col("statut") == "sans_correspondance")
        .group_by("finess_eg")
        .agg(
            _joined("autorisation_id").alias("autorisations"), _joined("remarque").alias("remarque")
        )
        .with_columns(pl.lit(None, pl.String).alias("mention"))
    )

    parts = [
        _part(
            not_described,
            "autorisee_non_decrite",
            detail=pl.concat_str(pl.col("_source"), pl.lit(" : "), pl.col("autorisations")),
            correspondance=pl.col("statut"),
            autorisations=pl.col("autorisations"),
        ),
        _part(
            not_authorised,
            "decrite_non_autorisee",
            detail=pl.lit("offre(s) du ROR sans décision SMR ni autorisation SSR en attente"),
            unites=pl.col("unites"),
        ),
        _part(
            waiting,
            "ssr_sans_decision_smr",
            detail=pl.when(pl.col("remarque") != "")
            .then(
                pl.concat_str(
                    pl.lit("autorisation(s) SSR : "), "autorisations", pl.lit(" ; "), "remarque"
                )
            )
            .otherwise(pl.concat_str(pl.lit("autorisation(s) SSR : "), "autorisations")),
            correspondance=pl.col("statut"),
            autorisations=pl.col("autorisations"),
        ),
        _part(named, "unite_libellee_ssr", detail=pl.col("_units"), unites=pl.col("unites")),
        _part(typed, "migration_automatique", detail=pl.col("_units"), unites=pl.col("unites")),
        _part(
            unmapped,
            "correspondance_inconnue",
            detail=pl.col("remarque"),
            correspondance=pl.lit("sans_correspondance"),
            autorisations=pl.col("autorisations"),
        ),
    ]
    gaps = pl.concat(parts)
    info = (
        sync.establishments_info(tables["etablissements"])
        .select("finess_eg", "raison_sociale", "departement")
        .collect()
    )
    ecart_order = {g: i for i, g in enumerate(GAP_TYPES)}
    mention_order = {m.code: i for i, m in enumerate(nom.MENTIONS)}
    out = (
        gaps.join(info, on="finess_eg", how="left")
        .with_columns(
            pl.col("departement").fill_null(pl.col("finess_eg").str.slice(0, 2)),
            pl.col("mention")
            .map_elements(mention_text, return_dtype=pl.String, skip_nulls=False)
            .alias("libelle_mention"),
            pl.col("ecart")
            .replace_strict({k: v[0] for k, v in GAP_TYPES.items()})
            .alias("libelle_ecart"),
            pl.col("ecart").replace_strict({k: v[1] for k, v in GAP_TYPES.items()}).alias("action"),
            pl.col("ecart").replace_strict(ecart_order, return_dtype=pl.Int32).alias("_e"),
            pl.col("mention")
            .str.split(ALTERNATIVE)
            .list.first()
            .replace_strict(mention_order, default=99, return_dtype=pl.Int32)
            .alias("_m"),
        )
        .sort("departement", "finess_eg", "_e", "_m", nulls_last=True)
    )
    return out.select(list(GAP_SCHEMA)).cast(GAP_SCHEMA)


def filter_gaps(
    gaps: pl.DataFrame,
    ecarts: Sequence[str] | None = None,
    departements: Sequence[str] | None = None,
    mentions: Sequence[str] | None = None,
    text: str | None = None,
) -> pl.DataFrame:
    """The rows of the gap list matching every filter given (empty or None: no filter).

    ``mentions`` keeps a row whose mention, or one of its alternatives, is listed; ``text``
    is searched, case-insensitive, in the FINESS number and the establishment name.
    """
    out = gaps
    if ecarts:
        out = out.filter(pl.col("ecart").is_in(list(ecarts)))
    if departements:
        out = out.filter(pl.col("departement").is_in(list(departements)))
    if mentions:
        out = out.filter(
            pl.col("mention")
            .str.split(ALTERNATIVE)
            .list.set_intersection(list(mentions))
            .list.len()
            > 0
        )
    needle = (text or "").strip().lower()
    if needle:
        out = out.filter(
            pl.col("finess_eg").str.to_lowercase().str.contains(needle, literal=True)
            | pl.col("raison_sociale").str.to_lowercase().str.contains(needle, literal=True)
        )
    return out


def status_counts(slots: pl.DataFrame) -> pl.DataFrame:
    """Rows of :func:`correspondance_ssr` per mapping status (every status, 0 when none):
    statut, correspondances."""
    counts = slots.group_by("statut").agg(pl.len().alias("correspondances"))
    return (
        pl.DataFrame({"statut": list(MAPPING_STATUSES)})
        .join(counts, on="statut", how="left")
        .with_columns(pl.col("correspondances").fill_null(0).cast(pl.Int64))
    )


def gap_totals(gaps: pl.DataFrame) -> pl.DataFrame:
    """Per gap type (every type, 0 when none): ecart, libelle_ecart, lignes (rows of the list),
    etablissements (distinct establishments concerned)."""
    counts = gaps.group_by("ecart").agg(
        pl.len().alias("lignes"), pl.col("finess_eg").n_unique().alias("etablissements")
    )
    return (
        pl.DataFrame(
            {"ecart": list(GAP_TYPES), "libelle_ecart": [v[0] for v in GAP_TYPES.values()]}
        )
        .join(counts, on="ecart", how="left")
        .with_columns(pl.col("lignes", "etablissements").fill_null(0).cast(pl.Int64))
    )


def gap_counts_by_departement(
    gaps: pl.DataFrame, departement_names: Mapping[str, str] | None = None
) -> pl.DataFrame:
    """Rows of the gap list per département: departement, nom, one column per gap type, total.

    Every département of ``departement_names`` appears (zeros included), plus any other
    département found in the list. Why: where the transition work lies.
    """
    names = dict(departement_names or {})
    deps = sorted(set(names) | set(gaps["departement"].drop_nulls().to_list()))
    wide = pl.DataFrame({"departement": deps}, schema={"departement": pl.String}).with_columns(
        pl.col("departement").replace_strict(names, default=pl.col("departement")).alias("nom")
    )
    for ecart in GAP_TYPES:
        counts = (
            gaps.filter(pl.col("ecart") == ecart).group_by("departement").agg(pl.len().alias(ecart))
        )
        wide = wide.join(counts, on="departement", how="left")
    wide = wide.with_columns(pl.col(list(GAP_TYPES)).fill_null(0).cast(pl.Int64))
    return wide.with_columns(pl.sum_horizontal(list(GAP_TYPES)).alias("total"))


