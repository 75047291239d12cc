"""Coverage and access indicators side by side, per commune or territory, for one mention.

This is what the *Carte* and *Territoires* pages and notebooks show: the capacity rate from
``coverage`` and the nearest-establishment, threshold and floating-catchment indicators from
``access``, joined on the territory code. Column names are indicator ids with a method note in
``analysis.present.methods``. Territory values of origin indicators are population-weighted means
(time, distance, accessibility) or population shares, so they describe inhabitants.

Origins are the rows of the ``communes`` frame: the communes, or the origins of
``geography.origins_from`` where Paris, Lyon and Marseille are split into arrondissements. Level
``arrondissement`` gives one row per origin (with its commune in ``code_commune``); level
``commune`` adds a split commune's arrondissements up exactly as any other territory (a
commune with a single origin keeps that origin's values as they are). ``opening`` restricts
every indicator to the offer open at the snapshot date (:mod:`analysis.indicators.opening`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import polars as pl

from analysis.geo import geography
from analysis.indicators import access, coverage
from analysis.indicators.opening import OpeningRule
from analysis.model import nomenclature

#: Indicators a map can show, in the order offered to users.
MAP_INDICATORS: tuple[str, ...] = (
    "taux_100k",
    "temps_plus_proche",
    "acces_e2sfca",
    "acces_2sfca",
    "part_au_dela",
    "distance_plus_proche",
    "etablissements",
)
DEFAULT_BEYOND_MIN = 30.0


@dataclass(frozen=True)
class AccessParams:
    """Every planning parameter of the access indicators, with its documented default.

    ``speed_kmh``, ``detour_factor``: the travel-time model (``access.TravelModel``).
    ``catchment_min``: 2SFCA catchment. ``zones``: E2SFCA (bound min, weight) steps.
    ``thresholds_min``: shares within each threshold. ``beyond_min``: threshold of
    ``part_au_dela``. ``e2sfca_catchment_min``: None keeps the zones as given, a value
    rescales them (see ``access.scaled_zones``). Frozen and hashable, so pages can cache on it.
    """

    speed_kmh: float = access.DEFAULT_SPEED_KMH
    detour_factor: float = access.DEFAULT_DETOUR_FACTOR
    catchment_min: float = access.DEFAULT_CATCHMENT_MIN
    zones: tuple[tuple[float, float], ...] = access.DEFAULT_ZONES
    thresholds_min: tuple[float, ...] = access.DEFAULT_THRESHOLDS_MIN
    beyond_min: float = DEFAULT_BEYOND_MIN
    e2sfca_catchment_min: float | None = None

    @property
    def model(self) -> access.TravelModel:
        """The travel-time model of these parameters."""
        return access.TravelModel(self.speed_kmh, self.detour_factor)


def region_names(region: str, reference_dir: str | None = None) -> dict[str, dict[str, str]]:
    """Names of the region's départements and of the region, for territory tables."""
    deps = geography.load_departements(region, reference_dir)
    names = {"departement": dict(zip(deps["departement"], deps["nom"], strict=True))}
    try:
        summary = geography.region_summary(region, reference_dir)
        names["region"] = {str(summary.get("region", region)): str(summary.get("nom", region))}
    except Exception:  # noqa: BLE001 - a name is a nicety, the code is enough
        names["region"] = {}
    return names


def _commune_access(
    tables: Mapping[str, pl.DataFrame],
    communes: pl.DataFrame,
    mention: str,
    forme: str | None,
    params: AccessParams,
    costs: pl.DataFrame | None,
    population_ages: pl.DataFrame | None,
    opening: OpeningRule | None = None,
) -> pl.DataFrame:
    """Per origin: population (denominator), nearest site, both FCA scores, threshold flags."""
    model = params.model
    den = coverage.denominator(mention, population_ages is not None)
    pops = coverage.population_by_commune(communes, population_ages).select(
        "commune_insee", pl.col(den).alias("population")
    )
    near = access.nearest_by_mention(
        tables, communes, [mention], forme, model, costs, opening=opening
    )
    fca = {}
    for method in ("e2sfca", "2sfca"):
        catchment = params.catchment_min if method == "2sfca" else params.e2sfca_catchment_min
        acc = access.accessibility(
            tables,
            communes,
            mention,
            method,
            forme=forme,
            catchment_min=catchment,
            zones=params.zones,
            model=model,
            costs=costs,
            population_ages=population_ages,
            opening=opening,
        )
        fca[method] = acc.select(
            "commune_insee",
            pl.col("acces").alias(f"acces_{method}"),
            pl.col("ratio_mediane").alias(f"ratio_mediane_{method}"),
        )
    reach = pl.col("temps_plus_proche").is_not_null()
    return (
        pops.join(
            near.select(
                "commune_insee",
                pl.col("finess_eg").alias("finess_plus_proche"),
                pl.col("raison_sociale").alias("nom_plus_proche"),
                pl.col("minutes").alias("temps_plus_proche"),
                pl.col("km").alias("distance_plus_proche"),
                "code_commune",
            ),
            on="commune_insee",
            how="left",
        )
        .join(fca["e2sfca"], on="commune_insee", how="left")
        .join(fca["2sfca"], on="commune_insee", how="left")
        .with_columns(
            pl.when(reach & (pl.col("temps_plus_proche") <= params.beyond_min))
            .then(0.0)
            .otherwise(100.0)
            .alias("part_au_dela"),
            *(
                pl.when(reach & (pl.col("temps_plus_proche") <= t))
                .then(100.0)
                .otherwise(0.0)
                .alias(f"part_{access.threshold_name(t)}")
                for t in params.thresholds_min
            ),
        )
    )


def _aggregate_origins(
    per_origin: pl.DataFrame, communes: pl.DataFrame, key: str, shares: Sequence[str]
) -> pl.DataFrame:
    """Per territory of ``key``: population-weighted means of the origins' indicators (time
    and distance over the origins that reach a site). At commune level, a commune with one
    origin keeps its values (and nearest establishment) exactly; a split commune has no single
    nearest establishment (null)."""
    keys = coverage.with_territory_keys(communes).select("commune_insee", key)
    w = pl.col("population")
    reach = pl.col("temps_plus_proche").is_not_null()

    def wmean(col: str, where: pl.Expr | None = None) -> pl.Expr:
        c, ww = pl.col(col), w
        if where is not None:
            c, ww = c.filter(where), w.filter(where)
        mean = pl.when(ww.sum() > 0).then((c * ww).sum() / ww.sum()).otherwise(None)
        if key == "code_commune":  # one origin: its own value, not a rounding of it
            return pl.when(pl.len() == 1).then(pl.col(col).first()).otherwise(mean)
        return mean

    data = per_origin.drop("code_commune", strict=False).join(keys, on="commune_insee")
    aggs = [
        wmean("temps_plus_proche", reach).alias("temps_plus_proche"),
        wmean("distance_plus_proche", reach).alias("distance_plus_proche"),
        wmean("acces_e2sfca").alias("acces_e2sfca"),
        wmean("acces_2sfca").alias("acces_2sfca"),
        *(wmean(c).alias(c) for c in [*shares, "part_au_dela"]),
    ]
    if key == "code_commune":
        single = pl.len() == 1
        aggs += [
            pl.when(single).then(pl.col(c).first()).otherwise(None).alias(c)
            for c in ("finess_plus_proche", "nom_plus_proche")
        ]
        aggs += [wmean(c).alias(c) for c in ("ratio_mediane_e2sfca", "ratio_mediane_2sfca")]
    return data.group_by(key).agg(aggs).rename({key: "territoire"})


def territory_indicators(
    tables: Mapping[str, pl.DataFrame],
    communes: pl.DataFrame,
    level: str,
    mention: str,
    *,
    forme: str | None = None,
    params: AccessParams | None = None,
    costs: pl.DataFrame | None = None,
    population_ages: pl.DataFrame | None = None,
    names: Mapping[str, Mapping[str, str]] | None = None,
    opening: OpeningRule | None = None,
) -> pl.DataFrame:
    """Every indicator of one mention for every territory of ``level``.

    Columns: territoire, nom, mention, population (denominator), denominateur,
    etablissements, unites, lits, places, taux_100k, fermes_temporairement,
    capacite_fermee_temporairement, temps_plus_proche, distance_plus_proche
    (population-weighted means over origins that reach a site), acces_e2sfca, acces_2sfca
    (population-weighted means; per origin its own value, plus ratio_mediane_*), part_<t>min
    for each threshold and part_au_dela (% of population), population_au_dela. At commune and
    arrondissement level also the nearest establishment, and at arrondissement level the
    origin's commune (``code_commune``). ``opening``: the open offer only.
    """
    params = params or AccessParams()
    forme = forme or coverage.ALL_FORMES
    names = names or {}
    level = coverage.check_level(level)
    key = coverage.LEVEL_COLUMNS[level]
    cap = coverage.capacity_by_territory(
        tables,
        communes,
        level,
        mentions=[mention],
        forme=forme,
        population_ages=population_ages,
        departement_names=names.get("departement"),
        region_names=names.get("region"),
        opening=opening,
    ).select(
        "territoire",
        "nom",
        "mention",
        "population",
        "denominateur",
        "etablissements",
        "unites",
        "lits",
        "places",
        "taux_100k",
        "fermes_temporairement",
        "capacite_fermee_temporairement",
    )
    per_origin = _commune_access(
        tables,
        communes,
        mention,
        None if forme == coverage.ALL_FORMES else forme,
        params,
        costs,
        population_ages,
        opening,
    )
    shares = [f"part_{access.threshold_name(t)}" for t in params.thresholds_min]
    if key == "commune_insee":
        acc = per_origin.drop("population").rename({"commune_insee": "territoire"})
    else:
        acc = _aggregate_origins(per_origin, communes, key, shares)
    out = cap.join(acc, on="territoire", how="left").with_columns(
        (pl.col("part_au_dela") / 100 * pl.col("population")).alias("population_au_dela")
    )
    return out.sort("territoire")


def territory_portrait(
    tables: Mapping[str, pl.DataFrame],
    communes: pl.DataFrame,
    level: str,
    territoire: str,
    *,
    mentions: Sequence[str] | None = None,
    forme: str | None = None,
    params: AccessParams | None = None,
    costs: pl.DataFrame | None = None,
    population_ages: pl.DataFrame | None = None,
    names: Mapping[str, Mapping[str, str]] | None = None,
    opening: OpeningRule | None = None,
) -> pl.DataFrame:
    """One territory, every mention side by side: one row per mention with the columns of
    :func:`territory_indicators` plus ``libelle``. Why: a planner's one-page portrait."""
    codes = list(mentions) if mentions is not None else [m.code for m in nomenclature.MENTIONS]
    rows = [
        territory_indicators(
            tables,
            communes,
            level,
            code,
            forme=forme,
            params=params,
            costs=costs,
            population_ages=population_ages,
            names=names,
            opening=opening,
        ).filter(pl.col("territoire") == territoire)
        for code in codes
    ]
    out = pl.concat(rows, how="diagonal_relaxed")
    labels = {m.code: m.libelle for m in nomenclature.MENTIONS}
    return out.with_columns(
        pl.col("mention").replace_strict(labels, default=pl.col("mention")).alias("libelle")
    ).select("mention", "libelle", pl.exclude("mention", "libelle"))


def communes_without_access(
    tables: Mapping[str, pl.DataFrame],
    communes: pl.DataFrame,
    mention: str,
    *,
    forme: str | None = None,
    params: AccessParams | None = None,
    costs: pl.DataFrame | None = None,
    population_ages: pl.DataFrame | None = None,
    opening: OpeningRule | None = None,
) -> pl.DataFrame:
    """Origins (communes, or arrondissements with their commune in ``code_commune``) whose
    nearest establishment offering ``mention`` is beyond ``params.beyond_min`` minutes (or
    unreachable), most populated first; see ``access.communes_beyond`` for the columns
    (population = the mention's denominator)."""
    params = params or AccessParams()
    forme = None if forme in (None, coverage.ALL_FORMES) else forme
    den = coverage.denominator(mention, population_ages is not None)
    pops = coverage.population_by_commune(communes, population_ages).select(
        "commune_insee", pl.col(den).alias("population")
    )
    near = access.nearest_by_mention(
        tables, communes, [mention], forme, params.model, costs, opening=opening
    )
    return access.communes_beyond(near, communes, params.beyond_min, pops)
