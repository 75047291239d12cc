"""Implantation targets by zone (OQOS): authorised, described, requested, against the bounds.

The regional health plan (schéma régional de santé) sets, for each planning zone, each SMR
mention and, where it says so, each form of care, a minimum and a maximum number of
*implantations* (objectifs quantifiés de l'offre de soins, OQOS). This module counts them at a
snapshot date and places each zone against its bounds. Inputs are frames (read by
``analysis.io.oqos_files``): the targets, the zoning (commune → zone) and, optionally, the
applications; the snapshot's canonical tables; the opening rule (``analysis.opening``).

**Implantation.** A site is an establishment (FINESS EG) placed in the zone of its commune
(``etablissements.commune_insee``; Paris, Lyon and Marseille arrondissements and their
commune are matched both ways, see :func:`zone_lookup`). Per zone × mention × forme:

- *autorisées*: distinct sites holding an SMR authorisation of the mention in force at the
  date: regime SMR, the mention set, outside forme 05 (HAD), ``date_fin`` empty or on/after
  the date (``gaps.active_authorisations``), the establishment open under the opening
  rule (``opening.open_tables``: closed definitively, or provisionally unless the switch keeps
  it, it is out). An authorisation counts for the target forme of its forme of activity
  (:class:`OqosParams`: 01 → HC; 02, 03, 04 → HJ, part-time) and always for ``toutes``; an
  authorisation without forme (or 00) counts for ``toutes`` only;
- *décrites*: distinct open sites with an offer of the mention in the ROR on an open unit (a
  row of ``offres``, whatever its capacity, as the transition gaps read it); offer formes HC
  and HS count for HC, HJ and HN for HJ (:class:`OqosParams`), every forme for ``toutes``;
- *demandées*: distinct sites (an application without FINESS: the application itself) with
  an application pending at the date: filed on or before it (or no filing date) and not
  decided by then (no decision date, or a later one). Applications are not in the snapshot
  tables: they come from an optional file (``analysis.io.oqos_files``); without it the column
  is empty (unknown), never 0.

**Status** against the target's bounds (an empty bound is no bound), on the authorised
count: ``sous_minimum`` when below the minimum, ``au_dessus_maximum`` when above the
maximum, else ``dans_cible`` (a count equal to a bound is inside). ``marge`` = maximum −
authorised (empty without maximum; negative above it): the implantations still possible.

**Lists behind a cell** (:func:`cell_sites`, :func:`cell_gaps`): the sites counted, and the
sites authorised but not described or described but not authorised taken from the transition
gaps (``gaps.transition_gaps``, per establishment × mention, every forme), not
recomputed here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import polars as pl

from analysis.indicators.opening import OpeningRule, open_tables
from analysis.io.oqos_files import (
    ALL_FORMES,
    APPLICATION_SCHEMA,
    TARGET_SCHEMA,
    ZONING_SCHEMA,
    default_zoning,
)
from analysis.model import nomenclature as nom
from analysis.model import schema
from analysis.transition.correspondence import ALTERNATIVE
from analysis.transition.gaps import active_authorisations

#: Re-exported: the planner's files define them (``analysis.io.oqos_files``).
__all__ = ["ALL_FORMES", "APPLICATION_SCHEMA", "TARGET_SCHEMA", "ZONING_SCHEMA", "default_zoning"]

if TYPE_CHECKING:
    import geopandas as gpd

#: Formes a target may name.
TARGET_FORMES: tuple[str, ...] = ("HC", "HJ", ALL_FORMES)
FORME_LABELS: dict[str, str] = {
    "HC": "Hospitalisation complète",
    "HJ": "Hospitalisation de jour",
    ALL_FORMES: "Toutes formes",
}

SOUS, DANS, AU_DESSUS = "sous_minimum", "dans_cible", "au_dessus_maximum"
STATUSES: dict[str, str] = {
    SOUS: "Sous le minimum",
    DANS: "Dans la cible",
    AU_DESSUS: "Au-dessus du maximum",
}
#: A sign per status, so that colour is never the only carrier (matrix, map, text).
SYMBOLS: dict[str, str] = {SOUS: "▼", DANS: "✓", AU_DESSUS: "▲"}
#: Fill per status: Okabe and Ito's vermillion, bluish green and blue (``charts.OKABE_ITO``)
#: lightened to 45 % so that black text reads on them (contrast above 7:1).
STATUS_COLORS: dict[str, str] = {SOUS: "#ECB68C", DANS: "#8CD3C0", AU_DESSUS: "#8CBFDC"}

AUTORISEE, DECRITE, DEMANDEE = "autorisee", "decrite", "demandee"
#: Kinds of implantation → the count column of the result.
COUNT_COLUMNS: dict[str, str] = {
    AUTORISEE: "autorisees",
    DECRITE: "decrites",
    DEMANDEE: "demandees",
}
KIND_LABELS: dict[str, str] = {
    AUTORISEE: "Autorisée",
    DECRITE: "Décrite dans le ROR",
    DEMANDEE: "Demande en attente",
}
#: Gap types of the transition listed behind a cell.
CELL_GAPS: tuple[str, ...] = (
    "autorisee_non_decrite",
    "decrite_non_autorisee",
    "ssr_sans_decision_smr",
)

DETAIL_SCHEMA: dict[str, pl.DataType] = {
    "site": pl.String(),
    "finess_eg": pl.String(),
    "zone": pl.String(),
    "mention": pl.String(),
    "forme": pl.String(),
    "type": pl.String(),
    "reference": pl.String(),
}
#: The result: one row per target (zone × mention × forme), the columns of ``smr oqos``.
RESULT_SCHEMA: dict[str, pl.DataType] = {
    "zone": pl.String(),
    "libelle_zone": pl.String(),
    "mention": pl.String(),
    "forme": pl.String(),
    "autorisees": pl.Int64(),
    "decrites": pl.Int64(),
    "demandees": pl.Int64(),
    "min": pl.Int64(),
    "max": pl.Int64(),
    "statut": pl.String(),
    "marge": pl.Int64(),
}


@dataclass(frozen=True)
class OqosParams:
    """Which formes count for a target forme (HC, HJ). Frozen and hashable (page caches).

    ``authorisation_formes``: target forme → forms of activity of the authorisation (TRE_R276:
    01 hospitalisation complète; 02, 03, 04 hospitalisation à temps partiel de jour et/ou de
    nuit). ``offer_formes``: target forme → ROR modes de prise en charge of the offers (HC and
    HS hold beds, HJ and HN places, as the scenarios map them to 01, 03, 04). [inferred: the
    plans' wording « hospitalisation complète / à temps partiel » is read this way.]
    """

    authorisation_formes: tuple[tuple[str, tuple[str, ...]], ...] = (
        ("HC", ("01",)),
        ("HJ", ("02", "03", "04")),
    )
    offer_formes: tuple[tuple[str, tuple[str, ...]], ...] = (
        ("HC", ("HC", "HS")),
        ("HJ", ("HJ", "HN")),
    )

    def describe(self) -> str:
        """A French sentence for the method note and captions."""
        auth = " ; ".join(f"{f} : {', '.join(c)}" for f, c in self.authorisation_formes)
        offer = " ; ".join(f"{f} : {', '.join(c)}" for f, c in self.offer_formes)
        return (
            f"formes d'activité des autorisations par forme cible ({auth}) ; formes des offres "
            f"du ROR ({offer}) ; « toutes » prend toutes les formes"
        )


def _forme_map(pairs: tuple[tuple[str, tuple[str, ...]], ...]) -> dict[str, str]:
    return {code: target for target, codes in pairs for code in codes}


# ------------------------------------------------------------------------------ zoning


def zone_lookup(zoning: pl.DataFrame, arrondissements: pl.DataFrame | None = None) -> pl.DataFrame:
    """Commune code → zone, libelle_zone, with Paris, Lyon and Marseille matched both ways.

    ``arrondissements``: ``commune_insee`` (751xx…), ``commune_parent`` (75056…), e.g.
    ``geo.load_arrondissements``. A zoning that gives the commune places its arrondissements
    in its zone; one that gives the arrondissements places the commune in theirs when they
    all lie in the same zone (split between zones, the commune itself stays unplaced). Why:
    establishments may carry either code.
    """
    z = zoning.select(list(ZONING_SCHEMA)).unique("commune_insee", keep="first")
    if arrondissements is None or arrondissements.height == 0:
        return z
    arr = arrondissements.select("commune_insee", "commune_parent")
    children = (
        arr.join(z.rename({"commune_insee": "commune_parent"}), on="commune_parent", how="inner")
        .select("commune_insee", "zone", "libelle_zone")
        .join(z, on="commune_insee", how="anti")
    )
    sizes = arr.group_by("commune_parent").agg(pl.len().alias("_n"))
    parents = (
        arr.join(z, on="commune_insee", how="inner")
        .group_by("commune_parent")
        .agg(
            pl.len().alias("_k"),
            pl.col("zone").n_unique().alias("_z"),
            pl.col("zone").first(),
            pl.col("libelle_zone").first(),
        )
        .join(sizes, on="commune_parent")
        .filter((pl.col("_z") == 1) & (pl.col("_k") == pl.col("_n")))
        .select(pl.col("commune_parent").alias("commune_insee"), "zone", "libelle_zone")
        .join(z, on="commune_insee", how="anti")
    )
    return pl.concat([z, children, parents]).cast(ZONING_SCHEMA)


def zone_labels(zoning: pl.DataFrame) -> pl.DataFrame:
    """One row per zone: zone, libelle_zone, communes (count), in zone order."""
    return (
        zoning.group_by("zone")
        .agg(pl.col("libelle_zone").first(), pl.col("commune_insee").n_unique().alias("communes"))
        .sort("zone")
    )


def site_zones(etablissements: pl.DataFrame, lookup: pl.DataFrame) -> pl.DataFrame:
    """Each establishment with its zone: finess_eg, raison_sociale, commune_insee, zone,
    libelle_zone (both null when its commune is in no zone: « hors zonage »)."""
    return (
        etablissements.select("finess_eg", "raison_sociale", "commune_insee")
        .unique("finess_eg", keep="first")
        .join(lookup, on="commune_insee", how="left")
    )


# ------------------------------------------------------------------------ implantations


def _expand_formes(frame: pl.DataFrame, column: str, mapping: dict[str, str]) -> pl.DataFrame:
    """``frame`` with ``forme`` = the target forme of ``column`` (rows of no target forme
    dropped) stacked on a copy with ``forme`` = ``toutes``."""
    specific = (
        frame.with_columns(
            pl.col(column).cast(pl.String).replace_strict(mapping, default=None).alias("_f")
        )
        .filter(pl.col("_f").is_not_null())
        .drop("forme", strict=False)
        .rename({"_f": "forme"})
    )
    every = frame.drop("forme", strict=False).with_columns(pl.lit(ALL_FORMES).alias("forme"))
    return pl.concat([specific.select(every.columns), every])


def pending_applications(applications: pl.DataFrame, date: dt.date) -> pl.DataFrame:
    """Applications pending at ``date``: filed on or before it (or undated) and not decided by
    then (no decision date, or a later one)."""
    return applications.filter(
        (pl.col("date_depot").is_null() | (pl.col("date_depot") <= date))
        & (pl.col("date_decision").is_null() | (pl.col("date_decision") > date))
    )


def implantations(
    tables: Mapping[str, pl.DataFrame],
    rule: OpeningRule,
    lookup: pl.DataFrame,
    applications: pl.DataFrame | None = None,
    params: OqosParams | None = None,
) -> pl.DataFrame:
    """Every implantation counted, one row per site × mention × target forme × kind.

    Columns: site (the FINESS EG, or ``demande:<id>`` for an application without one),
    finess_eg, zone (null: outside the zoning), mention, forme (HC, HJ or ``toutes``), type
    (``autorisee``, ``decrite``, ``demandee``), reference (authorisation ids, unit ids or
    application ids, comma-separated). See the module docstring for the rules; ``tables`` is
    the whole snapshot (the opening rule is applied here).
    """
    params = params or OqosParams()
    auth_map = _forme_map(params.authorisation_formes)
    offer_map = _forme_map(params.offer_formes)
    open_ = open_tables(tables, rule)
    sites = site_zones(open_["etablissements"], lookup).select("finess_eg", "zone")

    autorisations = open_.get("autorisations", schema.empty("autorisations"))
    auth = active_authorisations(autorisations, rule.as_of).filter(
        (pl.col("regime") == "SMR")
        & pl.col("mention").is_not_null()
        & (pl.col("forme").is_null() | (pl.col("forme") != nom.HAD_FORME_AUTORISATION))
    )
    auth = _expand_formes(
        auth.select("finess_eg", "mention", "forme", pl.col("autorisation_id").alias("ref")),
        "forme",
        auth_map,
    ).with_columns(pl.lit(AUTORISEE).alias("type"))

    offers = (
        open_["offres"]
        .join(open_["unites"].select("uo_id", "finess_eg"), on="uo_id", how="inner")
        .select("finess_eg", "mention", "forme", pl.col("uo_id").alias("ref"))
    )
    offers = _expand_formes(offers, "forme", offer_map).with_columns(
        pl.lit(DECRITE).alias("type")
    )
    parts = [
        p.join(sites, on="finess_eg", how="inner").with_columns(
            pl.col("finess_eg").alias("site")
        )
        for p in (auth, offers)
    ]
    if applications is not None and applications.height:
        parts.append(_pending_rows(applications, rule.as_of, sites, lookup))
    out = (
        pl.concat([p.select("site", "finess_eg", "zone", "mention", "forme", "type", "ref")
                   for p in parts])
        .group_by("site", "finess_eg", "zone", "mention", "forme", "type")
        .agg(pl.col("ref").drop_nulls().unique().sort().str.join(", ").alias("reference"))
    )
    return out.cast(DETAIL_SCHEMA).sort("zone", "mention", "forme", "type", "site")


def _pending_rows(
    applications: pl.DataFrame, date: dt.date, sites: pl.DataFrame, lookup: pl.DataFrame
) -> pl.DataFrame:
    """Pending applications placed in a zone: by their establishment's commune when the
    snapshot holds it open, else by the application's own commune."""
    pending = pending_applications(applications, date).with_columns(
        pl.col("forme").fill_null(ALL_FORMES)
    )
    placed = (
        pending.join(sites.rename({"zone": "_zs"}), on="finess_eg", how="left")
        .join(lookup.select("commune_insee", pl.col("zone").alias("_zc")), on="commune_insee",
              how="left")
        .with_columns(
            pl.when(pl.col("_zs").is_not_null()).then("_zs").otherwise("_zc").alias("zone"),
            pl.when(pl.col("finess_eg").is_not_null())
            .then(pl.col("finess_eg"))
            .otherwise(pl.concat_str(pl.lit("demande:"), pl.col("demande_id")))
            .alias("site"),
        )
    )
    specific = placed.filter(pl.col("forme") != ALL_FORMES)
    every = placed.with_columns(pl.lit(ALL_FORMES).alias("forme"))
    return pl.concat([specific, every]).select(
        "site",
        "finess_eg",
        "zone",
        "mention",
        "forme",
        pl.lit(DEMANDEE).alias("type"),
        pl.col("demande_id").alias("ref"),
    )


def implantation_counts(detail: pl.DataFrame) -> pl.DataFrame:
    """Distinct sites per zone × mention × forme: zone, mention, forme, autorisees, decrites,
    demandees (0 when none; rows outside the zoning left out)."""
    counts = (
        detail.filter(pl.col("zone").is_not_null())
        .group_by("zone", "mention", "forme")
        .agg(
            *(
                pl.col("site").filter(pl.col("type") == kind).n_unique().alias(col)
                for kind, col in COUNT_COLUMNS.items()
            )
        )
    )
    return counts.with_columns(pl.col(list(COUNT_COLUMNS.values())).cast(pl.Int64))


# ------------------------------------------------------------------------------ status


def status_expr(count: str = "autorisees") -> pl.Expr:
    """The status of ``count`` against the ``min`` and ``max`` columns (null bound: none)."""
    n = pl.col(count)
    return (
        pl.when(pl.col("min").is_not_null() & (n < pl.col("min")))
        .then(pl.lit(SOUS))
        .when(pl.col("max").is_not_null() & (n > pl.col("max")))
        .then(pl.lit(AU_DESSUS))
        .otherwise(pl.lit(DANS))
    )


def target_status(
    targets: pl.DataFrame,
    counts: pl.DataFrame,
    labels: pl.DataFrame,
    applications_known: bool = True,
) -> pl.DataFrame:
    """One row per target with its counts, status and headroom (``RESULT_SCHEMA``).

    ``targets``: zone, mention, forme, min, max. ``counts``: :func:`implantation_counts`.
    ``labels``: zone → libelle_zone. ``applications_known``: False leaves ``demandees`` empty
    (no application data: unknown, not zero). Rows keep the targets' order.
    """
    out = (
        targets.select(list(TARGET_SCHEMA))
        .with_row_index("_i")
        .join(counts, on=["zone", "mention", "forme"], how="left")
        .join(labels.select("zone", "libelle_zone"), on="zone", how="left")
        .with_columns(pl.col("autorisees", "decrites", "demandees").fill_null(0))
        .with_columns(
            status_expr().alias("statut"),
            (pl.col("max") - pl.col("autorisees")).alias("marge"),
            pl.col("libelle_zone").fill_null(pl.col("zone")),
        )
        .sort("_i")
    )
    if not applications_known:
        out = out.with_columns(pl.lit(None, pl.Int64).alias("demandees"))
    return out.select(list(RESULT_SCHEMA)).cast(RESULT_SCHEMA)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'s' if abs(n) > 1 else ''}"


def marge_text(
    statut: str, autorisees: int, minimum: int | None, maximum: int | None,
    demandees: int | None = None,
) -> str:
    """The headroom in words: « encore 2 implantations possibles », « 1 implantation de plus
    que le maximum », « il manque 1 implantation pour atteindre le minimum », and pending
    applications beyond the headroom."""
    parts = []
    if statut == SOUS and minimum is not None:
        parts.append(
            f"il manque {_plural(minimum - autorisees, 'implantation')} pour atteindre le minimum"
        )
    if maximum is None:
        parts.append("pas de maximum")
    else:
        marge = maximum - autorisees
        if marge > 0:
            parts.append(f"encore {_plural(marge, 'implantation')} possible{'s' * (marge > 1)}")
        elif marge == 0:
            parts.append("maximum atteint")
        else:
            parts.append(f"{_plural(-marge, 'implantation')} de plus que le maximum")
        if demandees and demandees > max(marge, 0):
            room = (f"pour {_plural(marge, 'place')}" if marge > 0
                    else "sans place sous le maximum")
            parts.append(f"{_plural(demandees, 'demande')} en attente {room}")
    return ", ".join(parts)


def with_marge_text(status: pl.DataFrame) -> pl.DataFrame:
    """``status`` with ``libelle_marge``, the headroom in words (:func:`marge_text`)."""
    texts = [
        marge_text(r["statut"], r["autorisees"], r["min"], r["max"], r["demandees"])
        for r in status.iter_rows(named=True)
    ]
    return status.with_columns(pl.Series("libelle_marge", texts, dtype=pl.String))


def cell_text(statut: str, autorisees: int) -> str:
    """The text of a matrix cell or map label: « 3 ✓ », « 1 ▼ », « 5 ▲ »."""
    return f"{autorisees} {SYMBOLS.get(statut, '')}".strip()


def status_totals(status: pl.DataFrame) -> dict[str, int]:
    """Targets per status (every status, 0 when none)."""
    counts = dict(status.group_by("statut").len().iter_rows())
    return {s: int(counts.get(s, 0)) for s in STATUSES}


# ------------------------------------------------------------------------ one call


@dataclass(frozen=True)
class OqosResult:
    """Everything the command and the page show.

    ``status``: one row per target (``RESULT_SCHEMA``). ``detail``: :func:`implantations`.
    ``sites``: each open establishment with its zone (:func:`site_zones`). ``outside``: the
    open establishments implanted (authorised or described) outside the zoning.
    """

    status: pl.DataFrame
    detail: pl.DataFrame
    sites: pl.DataFrame
    outside: pl.DataFrame
    date: dt.date
    applications_known: bool = True
    notes: tuple[str, ...] = field(default=())


def oqos_status(
    tables: Mapping[str, pl.DataFrame],
    targets: pl.DataFrame,
    zoning: pl.DataFrame,
    rule: OpeningRule,
    applications: pl.DataFrame | None = None,
    arrondissements: pl.DataFrame | None = None,
    params: OqosParams | None = None,
) -> OqosResult:
    """Counts, statuses and headroom of every target at ``rule.as_of`` (see the module doc).

    ``tables``: the snapshot; ``targets``: zone, mention, forme, min, max; ``zoning``:
    commune_insee, zone, libelle_zone; ``applications``: ``APPLICATION_SCHEMA`` or None (no
    application data: ``demandees`` empty); ``arrondissements``: Paris / Lyon / Marseille
    arrondissements of the region (:func:`zone_lookup`).
    """
    lookup = zone_lookup(zoning, arrondissements)
    detail = implantations(tables, rule, lookup, applications, params)
    counts = implantation_counts(detail)
    status = target_status(targets, counts, zone_labels(zoning), applications is not None)
    sites = site_zones(open_tables(tables, rule)["etablissements"], lookup)
    outside_ids = (
        detail.filter(pl.col("zone").is_null() & (pl.col("type") != DEMANDEE))["finess_eg"]
        .unique()
        .implode()
    )
    outside = sites.filter(pl.col("finess_eg").is_in(outside_ids)).sort("finess_eg")
    notes = []
    if outside.height:
        notes.append(
            f"{outside.height} établissement(s) autorisé(s) ou décrit(s) hors du zonage "
            "(commune absente du fichier de zonage) : non comptés"
        )
    return OqosResult(status, detail, sites, outside, rule.as_of, applications is not None,
                      tuple(notes))


# ------------------------------------------------------------------------ behind a cell


def _mention_matches(mention: str) -> pl.Expr:
    """A gap row whose mention (or one of its alternatives ``ME062|ME056``) is ``mention``."""
    return pl.col("mention").str.split(ALTERNATIVE).list.contains(mention)


def cell_sites(result: OqosResult, zone: str, mention: str, forme: str) -> pl.DataFrame:
    """The sites counted in one cell: finess_eg (or the application id), raison_sociale,
    commune_insee, autorisee, decrite, demandee (booleans), autorisations, unites, demandes
    (references)."""
    rows = result.detail.filter(
        (pl.col("zone") == zone) & (pl.col("mention") == mention) & (pl.col("forme") == forme)
    )
    wide = rows.group_by("site", "finess_eg").agg(
        *(
            (pl.col("type") == kind).any().alias(kind)
            for kind in (AUTORISEE, DECRITE, DEMANDEE)
        ),
        *(
            pl.col("reference").filter(pl.col("type") == kind).first().alias(name)
            for kind, name in ((AUTORISEE, "autorisations"), (DECRITE, "unites"),
                               (DEMANDEE, "demandes"))
        ),
    )
    names = result.sites.select("finess_eg", "raison_sociale", "commune_insee")
    return (
        wide.join(names, on="finess_eg", how="left")
        .select(
            pl.col("site").alias("finess_eg"),
            "raison_sociale",
            "commune_insee",
            AUTORISEE,
            DECRITE,
            DEMANDEE,
            "autorisations",
            "unites",
            "demandes",
        )
        .sort(AUTORISEE, DECRITE, "finess_eg", descending=[True, True, False])
    )


def cell_gaps(gaps: pl.DataFrame, sites: pl.DataFrame, zone: str, mention: str) -> pl.DataFrame:
    """The transition gaps (``gaps.transition_gaps`` on the same open snapshot) of the
    sites of ``zone`` for ``mention``, limited to ``CELL_GAPS``: authorised but not described,
    described but not authorised, SSR awaiting its SMR decision (every forme: the gaps do
    not distinguish them)."""
    in_zone = sites.filter(pl.col("zone") == zone)["finess_eg"].implode()
    return gaps.filter(
        pl.col("ecart").is_in(list(CELL_GAPS))
        & pl.col("finess_eg").is_in(in_zone)
        & _mention_matches(mention)
    )


# ----------------------------------------------------------------------- what-if


def compare_status(before: pl.DataFrame, after: pl.DataFrame) -> pl.DataFrame:
    """Targets before and after a scenario side by side: zone, libelle_zone, mention, forme,
    min, max, autorisees_avant, autorisees_apres, statut_avant, statut_apres, marge_apres,
    change (True when the count or the status moved). Rows in the targets' order."""
    keys = ["zone", "mention", "forme"]
    right = after.select(
        *keys,
        pl.col("autorisees").alias("autorisees_apres"),
        pl.col("statut").alias("statut_apres"),
        pl.col("marge").alias("marge_apres"),
    )
    return (
        before.select(
            *keys, "libelle_zone", "min", "max",
            pl.col("autorisees").alias("autorisees_avant"),
            pl.col("statut").alias("statut_avant"),
        )
        .join(right, on=keys, how="left", maintain_order="left")
        .with_columns(
            (
                (pl.col("autorisees_avant") != pl.col("autorisees_apres"))
                | (pl.col("statut_avant") != pl.col("statut_apres"))
            ).alias("change")
        )
        .select(
            "zone", "libelle_zone", "mention", "forme", "min", "max", "autorisees_avant",
            "autorisees_apres", "statut_avant", "statut_apres", "marge_apres", "change",
        )
    )


# ---------------------------------------------------------------------------- maps


#: Version of :func:`zone_shapes`' output, part of the key of the outlines kept on disk:
#: raise it when the function draws differently.
ZONE_SHAPES_VERSION = "1"


def zone_shapes(
    communes_geo: gpd.GeoDataFrame, lookup: pl.DataFrame, tolerance_deg: float | None = None
) -> gpd.GeoDataFrame:
    """The zones' outlines: the communes' contours (``geo.load_communes_geo``) dissolved by
    zone, simplified by ``tolerance_deg`` if given (a national map), rings clockwise (the
    rule Vega draws by, DESIGN.md). Columns zone, libelle_zone, lon, lat (a point inside the
    zone, for its label), geometry (WGS84)."""
    import geopandas as gpd
    import shapely
    from shapely.geometry import MultiPolygon, Polygon
    from shapely.geometry.polygon import orient

    def clockwise(geom: Any) -> Any:
        if isinstance(geom, Polygon):
            return orient(geom, sign=-1.0)
        if isinstance(geom, MultiPolygon):
            return MultiPolygon([orient(p, sign=-1.0) for p in geom.geoms])
        return geom

    zones = dict(zip(lookup["commune_insee"].to_list(), lookup["zone"].to_list(), strict=True))
    gdf = communes_geo[["commune_insee", communes_geo.geometry.name]].copy()
    gdf["zone"] = gdf["commune_insee"].map(zones)
    gdf = gdf[gdf["zone"].notna()]
    dissolved = gdf.dissolve(by="zone", as_index=False)[["zone", "geometry"]]
    labels = dict(
        zone_labels(lookup).select("zone", "libelle_zone").iter_rows()
    )
    dissolved["libelle_zone"] = dissolved["zone"].map(labels)
    geoms = dissolved.geometry.values
    if tolerance_deg:
        geoms = shapely.simplify(geoms, tolerance_deg, preserve_topology=True)
    dissolved["geometry"] = [clockwise(g) for g in geoms]
    points = shapely.point_on_surface(dissolved.geometry.values)
    dissolved["lon"] = shapely.get_x(points)
    dissolved["lat"] = shapely.get_y(points)
    return gpd.GeoDataFrame(dissolved, geometry="geometry", crs=communes_geo.crs)


def map_values(status: pl.DataFrame, mention: str, forme: str) -> pl.DataFrame:
    """The rows of ``status`` for one mention and forme, with the cell text (zone, statut,
    autorisees, texte, libelle_marge…), for a map of zones."""
    rows = status.filter((pl.col("mention") == mention) & (pl.col("forme") == forme))
    texts = [cell_text(s, a) for s, a in zip(rows["statut"], rows["autorisees"], strict=True)]
    return with_marge_text(rows).with_columns(pl.Series("texte", texts, dtype=pl.String))


def target_columns(status: pl.DataFrame) -> list[tuple[str, str]]:
    """The (mention, forme) pairs of the targets, in the nomenclature's mention order then
    HC, HJ, toutes: the matrix's columns."""
    order = {m.code: i for i, m in enumerate(nom.MENTIONS)}
    forme_order = {f: i for i, f in enumerate(TARGET_FORMES)}
    pairs = status.select("mention", "forme").unique().iter_rows()
    return sorted(pairs, key=lambda p: (order.get(p[0], 99), forme_order.get(p[1], 9)))


def column_label(mention: str, forme: str) -> str:
    """A matrix column: the mention's short label, with the forme when it is not « toutes »."""
    label = nom.mention_label(mention, short=True)
    return label if forme == ALL_FORMES else f"{label} · {forme}"


def matrix(status: pl.DataFrame, columns: Sequence[tuple[str, str]] | None = None
           ) -> pl.DataFrame:
    """Long frame for the zone × mention matrix: zone, libelle_zone, mention, forme, colonne
    (:func:`column_label`), rang (column order), statut, autorisees, texte, libelle_marge."""
    columns = list(columns or target_columns(status))
    rank = {p: i for i, p in enumerate(columns)}
    rows = with_marge_text(status)
    return rows.with_columns(
        pl.Series(
            "colonne",
            [column_label(m, f) for m, f in zip(rows["mention"], rows["forme"], strict=True)],
            dtype=pl.String,
        ),
        pl.Series(
            "rang",
            [rank.get((m, f), 99) for m, f in zip(rows["mention"], rows["forme"], strict=True)],
            dtype=pl.Int64,
        ),
        pl.Series(
            "texte",
            [cell_text(s, a) for s, a in zip(rows["statut"], rows["autorisees"], strict=True)],
            dtype=pl.String,
        ),
    )
