"""A scenario compared with the current offer: per-commune and per-territory deltas of
coverage, nearest time and accessibility, and the population that gains or loses an
establishment within the threshold (``scenarios`` gives the modified tables).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import polars as pl

from analysis.indicators import coverage, territories
from analysis.indicators.opening import OpeningRule
from analysis.transition.scenarios import ACTIONS, Scenario, _new_site_id, apply_scenario

# --------------------------------------------------------------------------- comparison

#: Indicators compared, as columns of ``territories.territory_indicators``.
COMPARED: tuple[str, ...] = ("temps_plus_proche", "acces_e2sfca", "taux_100k")
#: Smaller differences between baseline and scenario are rounding noise, shown as 0.
DELTA_TOLERANCE = 1e-9
EVOLUTIONS: dict[str, str] = {
    "gagne": "Gagne un accès",
    "perd": "Perd l'accès",
    "inchange": "Inchangé",
}


@dataclass(frozen=True)
class ScenarioComparison:
    """Baseline against scenario for one mention.

    ``communes``: per origin (commune, or arrondissement of Paris, Lyon, Marseille when the
    communes frame splits them), commune_insee, nom, departement, code_commune, population
    (the mention's denominator), ``<indicator>_base``, ``<indicator>_scenario``, ``delta_<indicator>`` for
    temps_plus_proche (minutes), acces_e2sfca and taux_100k (beds + places per 100,000),
    finess_plus_proche_base / _scenario, dans_seuil_base / _scenario (nearest establishment
    within ``threshold_min``) and evolution (gagne / perd / inchange). ``territoires``: the
    same per département and for the region (niveau, territoire, nom; population-weighted
    means as in ``indicators``), plus population_dans_seuil_base / _scenario,
    population_gagnant, population_perdant.
    """

    mention: str
    threshold_min: float
    communes: pl.DataFrame
    territoires: pl.DataFrame

    @property
    def region(self) -> dict[str, Any]:
        """The region row of ``territoires``."""
        return self.territoires.filter(pl.col("niveau") == "region").row(0, named=True)

    def changed_communes(self) -> pl.DataFrame:
        """Communes where any compared indicator or the access within threshold changed."""
        moved = [
            (pl.col(f"delta_{c}") != 0).fill_null(False)
            | (pl.col(f"{c}_base").is_null() != pl.col(f"{c}_scenario").is_null())
            for c in COMPARED
        ]
        return self.communes.filter(pl.any_horizontal(moved) | (pl.col("evolution") != "inchange"))


def _deltas(
    base: pl.DataFrame, scen: pl.DataFrame, keys: list[str], keep: list[str]
) -> pl.DataFrame:
    joined = base.select(*keys, *keep, *COMPARED).join(
        scen.select(*keys, *COMPARED), on=keys, how="left", suffix="_scenario"
    )
    # differences below DELTA_TOLERANCE are floating-point noise (sums taken in another order)
    delta = {c: pl.col(f"{c}_scenario") - pl.col(f"{c}_base") for c in COMPARED}
    return joined.rename({c: f"{c}_base" for c in COMPARED}).with_columns(
        pl.when(d.abs() < DELTA_TOLERANCE).then(0.0).otherwise(d).alias(f"delta_{c}")
        for c, d in delta.items()
    )


def compare_tables(
    base: Mapping[str, pl.DataFrame],
    scenario: Mapping[str, pl.DataFrame],
    communes: pl.DataFrame,
    mention: str,
    *,
    forme: str | None = None,
    params: territories.AccessParams | None = None,
    costs: pl.DataFrame | None = None,
    population_ages: pl.DataFrame | None = None,
    names: Mapping[str, Mapping[str, str]] | None = None,
    opening: OpeningRule | None = None,
) -> ScenarioComparison:
    """Compare two snapshots (baseline, modified) for one mention; see
    :class:`ScenarioComparison`. ``params``: travel model, catchments and the threshold
    ``beyond_min`` (default 30 min), as on the Carte page. ``opening``: both sides count only
    the offer open under that rule."""
    params = params or territories.AccessParams()
    threshold = params.beyond_min

    def side(tables: Mapping[str, pl.DataFrame], level: str) -> pl.DataFrame:
        return territories.territory_indicators(
            tables,
            communes,
            level,
            mention,
            forme=forme,
            params=params,
            costs=costs,
            population_ages=population_ages,
            names=names,
            opening=opening,
        )

    origin = coverage.ORIGIN_LEVEL
    base_c, scen_c = side(base, origin), side(scenario, origin)
    per_commune = (
        _deltas(base_c, scen_c, ["territoire"], ["nom", "population"])
        .join(
            base_c.select(
                "territoire", pl.col("finess_plus_proche").alias("finess_plus_proche_base")
            ),
            on="territoire",
        )
        .join(
            scen_c.select(
                "territoire", pl.col("finess_plus_proche").alias("finess_plus_proche_scenario")
            ),
            on="territoire",
        )
        .rename({"territoire": "commune_insee"})
        .join(
            coverage.with_territory_keys(communes).select(
                "commune_insee", "departement", "code_commune"
            ),
            on="commune_insee",
            how="left",
        )
    )
    within = {
        side_: pl.col(f"temps_plus_proche_{side_}").is_not_null()
        & (pl.col(f"temps_plus_proche_{side_}") <= threshold)
        for side_ in ("base", "scenario")
    }
    per_commune = per_commune.with_columns(
        within["base"].alias("dans_seuil_base"), within["scenario"].alias("dans_seuil_scenario")
    ).with_columns(
        pl.when(~pl.col("dans_seuil_base") & pl.col("dans_seuil_scenario"))
        .then(pl.lit("gagne"))
        .when(pl.col("dans_seuil_base") & ~pl.col("dans_seuil_scenario"))
        .then(pl.lit("perd"))
        .otherwise(pl.lit("inchange"))
        .alias("evolution")
    )
    order = ["commune_insee", "nom", "departement", "code_commune", "population"]
    per_commune = per_commune.select(
        *order,
        *(f"{c}_{s}" for c in COMPARED for s in ("base", "scenario")),
        *(f"delta_{c}" for c in COMPARED),
        "finess_plus_proche_base",
        "finess_plus_proche_scenario",
        "dans_seuil_base",
        "dans_seuil_scenario",
        "evolution",
    ).sort("commune_insee")

    pop = pl.col("population")
    parts = []
    for level in ("departement", "region"):
        key = coverage.LEVEL_COLUMNS[level]
        keyed = (
            per_commune.join(
                communes.select("commune_insee", pl.col(key).alias("_t")), on="commune_insee"
            )
            if level != "departement"
            else per_commune.with_columns(pl.col("departement").alias("_t"))
        )
        people = (
            keyed.group_by("_t")
            .agg(
                pop.filter(pl.col("dans_seuil_base")).sum().alias("population_dans_seuil_base"),
                pop.filter(pl.col("dans_seuil_scenario"))
                .sum()
                .alias("population_dans_seuil_scenario"),
                pop.filter(pl.col("evolution") == "gagne").sum().alias("population_gagnant"),
                pop.filter(pl.col("evolution") == "perd").sum().alias("population_perdant"),
            )
            .rename({"_t": "territoire"})
        )
        parts.append(
            _deltas(side(base, level), side(scenario, level), ["territoire"], ["nom", "population"])
            .join(people, on="territoire", how="left")
            .with_columns(pl.lit(level).alias("niveau"))
        )
    territoires = pl.concat(parts, how="vertical_relaxed").select(
        "niveau",
        "territoire",
        "nom",
        "population",
        *(f"{c}_{s}" for c in COMPARED for s in ("base", "scenario")),
        *(f"delta_{c}" for c in COMPARED),
        "population_dans_seuil_base",
        "population_dans_seuil_scenario",
        "population_gagnant",
        "population_perdant",
    )
    return ScenarioComparison(mention, threshold, per_commune, territoires)


def compare_scenario(
    tables: Mapping[str, pl.DataFrame],
    scenario: Scenario,
    communes: pl.DataFrame,
    mention: str,
    source: object = None,
    **kwargs: Any,
) -> ScenarioComparison:
    """Apply ``scenario`` to ``tables`` and compare (keyword arguments of
    :func:`compare_tables`; ``source`` names the scenario file in errors). Why: "who gains or
    loses access if this decision is taken"."""
    modified = apply_scenario(tables, scenario, communes, source, kwargs.get("opening"))
    return compare_tables(tables, modified, communes, mention, **kwargs)


def access_changes(comparison: ScenarioComparison) -> pl.DataFrame:
    """Communes that gain or lose an establishment within the threshold, most populated
    first: commune_insee, nom, departement, population, evolution, libelle_evolution,
    temps_plus_proche_base / _scenario, finess_plus_proche_base / _scenario."""
    return (
        comparison.communes.filter(pl.col("evolution") != "inchange")
        .with_columns(pl.col("evolution").replace_strict(EVOLUTIONS).alias("libelle_evolution"))
        .sort(["evolution", "population"], descending=[False, True])
        .select(
            "commune_insee",
            "nom",
            "departement",
            "population",
            "evolution",
            "libelle_evolution",
            "temps_plus_proche_base",
            "temps_plus_proche_scenario",
            "finess_plus_proche_base",
            "finess_plus_proche_scenario",
        )
    )


def touched_sites(
    scenario: Scenario, modified: Mapping[str, pl.DataFrame], communes: pl.DataFrame
) -> pl.DataFrame:
    """Establishments a scenario changes, with their point (``access.site_points``): finess_eg,
    raison_sociale, commune_insee, lat, lon, changement (French sentence)."""
    from analysis.indicators import access

    names = dict(
        zip(
            modified["etablissements"]["finess_eg"],
            modified["etablissements"]["raison_sociale"],
            strict=True,
        )
    )
    names |= dict(zip(communes["commune_insee"], communes["nom"], strict=True))
    rows = []
    for i, c in enumerate(scenario.changements, 1):
        finess = c.finess_eg or (_new_site_id(i) if c.action == "nouveau_site" else None)
        rows.append({"finess_eg": finess, "changement": c.describe(names)})
    what = pl.DataFrame(rows, schema={"finess_eg": pl.String, "changement": pl.String})
    what = what.group_by("finess_eg", maintain_order=True).agg(pl.col("changement").str.join(" ; "))
    points = access.site_points(modified["etablissements"], communes)
    return points.join(what, on="finess_eg", how="inner").select(
        "finess_eg", "raison_sociale", "commune_insee", "lat", "lon", "changement"
    )


def scenario_changes_table(
    scenario: Scenario, tables: Mapping[str, pl.DataFrame], communes: pl.DataFrame
) -> pl.DataFrame:
    """The changes as a table for display: numero, action (label), finess_eg, commune_insee,
    mention, forme, lits, places, description."""
    names = dict(
        zip(
            tables["etablissements"]["finess_eg"],
            tables["etablissements"]["raison_sociale"],
            strict=True,
        )
    )
    names |= dict(zip(communes["commune_insee"], communes["nom"], strict=True))
    rows = [
        {
            "numero": i,
            "action": ACTIONS[c.action],
            "finess_eg": c.finess_eg,
            "commune_insee": c.commune_insee,
            "mention": c.mention,
            "forme": c.forme,
            "lits": c.lits,
            "places": c.places,
            "description": c.describe(names),
        }
        for i, c in enumerate(scenario.changements, 1)
    ]
    schema_ = {
        "numero": pl.Int64,
        "action": pl.String,
        "finess_eg": pl.String,
        "commune_insee": pl.String,
        "mention": pl.String,
        "forme": pl.String,
        "lits": pl.Int64,
        "places": pl.Int64,
        "description": pl.String,
    }
    return pl.DataFrame(rows, schema=schema_, orient="row")


