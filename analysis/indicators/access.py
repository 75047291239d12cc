"""Distances, travel times, nearest establishment, population within thresholds, 2SFCA / E2SFCA.

Origins are the rows of the frame passed as ``communes``, at their representative point
(Lambert-93 metres from the reference geography): the communes of the region, or the origins
of ``geography.origins_from``, where Paris, Lyon and Marseille are split into their arrondissements
(``code_commune`` says which commune an arrondissement belongs to; every per-origin output
carries it, so that arrondissement rows add up to their commune). Destinations are
establishments offering a mention, at their own coordinates (WGS84 → Lambert-93 with
``geography.to_l93``) or, without coordinates, at the point of their origin (their arrondissement
code when they have one; for a split commune given as a whole, the population-weighted centre
of its arrondissements' points). Only the offer open at the snapshot date counts when an
``opening`` rule is given (see :mod:`analysis.indicators.opening`).

Travel time, two sources:

- **model** (default): ``minutes = km × detour_factor / speed_kmh × 60`` on the straight-line
  Lambert-93 distance. Defaults, see :class:`TravelModel`: ``detour_factor = 1.3``, the usual
  ratio of road to straight-line distance (an average "physical detour" of 1.343 was measured
  on the road networks of 300 European cities, Environment and Planning B, 2023,
  doi:10.1177/23998083231168870; circuity studies give 1.2–1.4 for most countries);
  ``speed_kmh = 40``, a door-to-door average mixing urban streets (50 km/h limit, 30 in Paris)
  and interurban roads (80–130 km/h) with congestion, access and parking. With these defaults
  30 minutes ≈ 15.4 km as the crow flies. The model ignores congestion peaks, rivers and
  motorway access points: it ranks places well but is no substitute for a routing engine;
- **table**: a commune → establishment travel-time table (``parameter_files.read_travel_times``,
  e.g. from a routing engine) replaces the model everywhere; a pair absent from the table is
  unreachable. Distances in km are still the straight line, when both points are known. A row
  keyed by an arrondissement applies to that arrondissement (or to its commune when the
  origins are communes: mean time); a row keyed by a split commune applies to each of its
  arrondissements without a row of their own.

Floating catchment accessibility (Luo & Wang 2003 for 2SFCA; Luo & Qi 2009 for E2SFCA), with the
definitions of PySAL ``access`` (``access/fca.py``, ``two_stage_fca``), which the tests use as
an oracle:

1. for each establishment j with supply S_j: R_j = S_j / Σ_i w(t_ij) · P_i over the communes i
   with t_ij <= catchment (bound inclusive);
2. for each commune i: A_i = Σ_j w(t_ij) · R_j over the same pairs (weights in both steps).

2SFCA: w = 1 within the catchment (default 30 min). E2SFCA: step weights by zone, default
Luo & Qi (2009): 0–10 min → 1.00, 10–20 → 0.68, 20–30 → 0.22, beyond → 0 (upper bounds
inclusive, as ``access.weights.step_fn``); a different catchment rescales the zone bounds
proportionally (60 min → 0–20, 20–40, 40–60). Supply = beds + places of the mention at each
establishment (or of one forme); demand = population (under 18 / 75 and over for pédiatrie /
gériatrie when a population-by-age file is given). Results are beds + places per 100,000
inhabitants. Two deliberate differences from PySAL, outside the cases where it is defined:
an establishment whose catchment holds no inhabitant serves nobody (R_j = 0, where PySAL
divides by zero) and a commune reaching no establishment scores 0 (PySAL: missing).
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl
from scipy.spatial import cKDTree

from analysis.geo import geography
from analysis.indicators import coverage
from analysis.indicators.opening import OpeningRule
from analysis.model import nomenclature
from analysis.model.errors import InputError
from analysis.model.memo import same_frames

DEFAULT_SPEED_KMH = 40.0
DEFAULT_DETOUR_FACTOR = 1.3
DEFAULT_CATCHMENT_MIN = 30.0
DEFAULT_THRESHOLDS_MIN: tuple[float, ...] = (15.0, 30.0, 45.0, 60.0)
#: E2SFCA zones (upper bound in minutes, weight), Luo & Qi (2009), Health & Place 15(4).
DEFAULT_ZONES: tuple[tuple[float, float], ...] = ((10.0, 1.0), (20.0, 0.68), (30.0, 0.22))
METHODS: tuple[str, ...] = ("nearest", "2sfca", "e2sfca")
PER = 100_000

# ------------------------------------------------------------------------------- the model


@dataclass(frozen=True)
class TravelModel:
    """Straight-line travel-time model: minutes = km × detour_factor / speed_kmh × 60.

    ``speed_kmh``: door-to-door average speed (km/h), default 40. ``detour_factor``: road
    distance / straight-line distance (≥ 1), default 1.3. See the module docstring for why.
    """

    speed_kmh: float = DEFAULT_SPEED_KMH
    detour_factor: float = DEFAULT_DETOUR_FACTOR

    def __post_init__(self) -> None:
        if not (np.isfinite(self.speed_kmh) and self.speed_kmh > 0):
            raise InputError(f"vitesse invalide ({self.speed_kmh} km/h) : nombre positif attendu")
        if not (np.isfinite(self.detour_factor) and self.detour_factor >= 1):
            raise InputError(
                f"coefficient de détour invalide ({self.detour_factor}) : nombre ≥ 1 attendu"
            )

    def minutes(self, km: np.ndarray | float) -> np.ndarray:
        """Travel time in minutes for straight-line distances in km."""
        return np.asarray(km, dtype=float) * self.detour_factor / self.speed_kmh * 60.0

    def km_within(self, minutes: float) -> float:
        """Straight-line radius in km reached in ``minutes``."""
        return minutes / 60.0 * self.speed_kmh / self.detour_factor


def _check_minutes(value: float, what: str) -> float:
    if not (np.isfinite(value) and value >= 0):
        raise InputError(f"{what} invalide ({value} min) : nombre de minutes positif attendu")
    return float(value)


def validate_zones(zones: Sequence[tuple[float, float]]) -> tuple[tuple[float, float], ...]:
    """Zones as ((upper bound min, weight), …) with increasing bounds and weights in [0, 1]."""
    out = tuple((float(b), float(w)) for b, w in zones)
    if not out:
        raise InputError("zones de pondération vides : au moins une zone attendue")
    bounds = [b for b, _ in out]
    if any(b <= 0 or not np.isfinite(b) for b in bounds) or bounds != sorted(set(bounds)):
        raise InputError(
            "bornes des zones invalides : minutes positives et strictement croissantes attendues"
        )
    if any(not (0 <= w <= 1) for _, w in out):
        raise InputError("poids des zones invalides : valeurs entre 0 et 1 attendues")
    return out


def scaled_zones(
    zones: Sequence[tuple[float, float]], catchment_min: float
) -> tuple[tuple[float, float], ...]:
    """``zones`` with bounds rescaled so that the last one equals ``catchment_min``."""
    zones = validate_zones(zones)
    _check_minutes(catchment_min, "zone d'attraction")
    if catchment_min <= 0:
        raise InputError("zone d'attraction invalide (0 min) pour la méthode E2SFCA")
    factor = catchment_min / zones[-1][0]
    return tuple((b * factor, w) for b, w in zones)


def step_weights(minutes: np.ndarray, zones: Sequence[tuple[float, float]]) -> np.ndarray:
    """Step distance-decay weight of each time: the weight of the first zone whose upper
    bound is >= the time (bounds inclusive), 0 beyond the last zone."""
    bounds = np.array([b for b, _ in zones], dtype=float)
    weights = np.append(np.array([w for _, w in zones], dtype=float), 0.0)
    return weights[np.searchsorted(bounds, np.asarray(minutes, dtype=float), side="left")]


# ------------------------------------------------------------------------------ the points


def _origin_points(communes: pl.DataFrame) -> pl.DataFrame:
    """Points by code: every origin, plus each split commune at the population-weighted
    centre of its arrondissements' points (for establishments that give only the commune)."""
    keys = coverage.with_territory_keys(communes)
    cols = ["x_l93", "y_l93", "lat_point", "lon_point"]
    own = keys.select(pl.col("commune_insee").alias("_k"), *cols)
    split = keys.filter(pl.col("code_commune") != pl.col("commune_insee"))
    if split.height == 0:
        return own
    w = pl.col("population").cast(pl.Float64).fill_null(0)
    centre = split.group_by("code_commune").agg(
        *(
            pl.when(w.sum() > 0).then((pl.col(c) * w).sum() / w.sum()).otherwise(pl.col(c).mean())
            for c in cols
        )
    )
    return pl.concat([own, centre.rename({"code_commune": "_k"}).select(own.columns)])


@same_frames(maxsize=4)
def site_points(etablissements: pl.DataFrame, communes: pl.DataFrame) -> pl.DataFrame:
    """Establishments with a point: finess_eg, raison_sociale, commune_insee (the commune,
    arrondissements mapped), x_l93, y_l93 (metres), lat, lon (degrees) and ``localisation``
    ("coordonnees" or "commune").

    Coordinates are used when both are present; otherwise the point of the establishment's
    origin (see the module docstring). Establishments with neither keep null coordinates
    (``localisation`` null).
    """
    etabs = etablissements.select(
        "finess_eg",
        "raison_sociale",
        pl.col("commune_insee").str.strip_chars().str.to_uppercase().alias("_raw"),
        coverage.commune_code(pl.col("commune_insee")).alias("commune_insee"),
        pl.col("latitude").cast(pl.Float64),
        pl.col("longitude").cast(pl.Float64),
    )
    has = (etabs["latitude"].is_not_null() & etabs["longitude"].is_not_null()).to_numpy()
    x = np.full(etabs.height, np.nan)
    y = np.full(etabs.height, np.nan)
    if has.any():
        x[has], y[has] = geography.to_l93(
            etabs["longitude"].to_numpy()[has], etabs["latitude"].to_numpy()[has]
        )
    pts = _origin_points(communes)
    by_raw = pts.rename({"x_l93": "_rx", "y_l93": "_ry", "lat_point": "_rlat", "lon_point": "_rlon"})
    by_commune = pts.rename(
        {"x_l93": "_mx", "y_l93": "_my", "lat_point": "_mlat", "lon_point": "_mlon"}
    )
    own = pl.Series("_own", has)
    return (
        etabs.with_columns(
            own,
            pl.Series("_x", x).fill_nan(None),
            pl.Series("_y", y).fill_nan(None),
        )
        .join(by_raw, left_on="_raw", right_on="_k", how="left")
        .join(by_commune, left_on="commune_insee", right_on="_k", how="left")
        .with_columns(
            pl.coalesce("_rx", "_mx").alias("_cx"),
            pl.coalesce("_ry", "_my").alias("_cy"),
            pl.coalesce("_rlat", "_mlat").alias("_clat"),
            pl.coalesce("_rlon", "_mlon").alias("_clon"),
        )
        .select(
            "finess_eg",
            "raison_sociale",
            "commune_insee",
            pl.when("_own").then("_x").otherwise("_cx").alias("x_l93"),
            pl.when("_own").then("_y").otherwise("_cy").alias("y_l93"),
            pl.when("_own").then("latitude").otherwise("_clat").alias("lat"),
            pl.when("_own").then("longitude").otherwise("_clon").alias("lon"),
            pl.when("_own")
            .then(pl.lit("coordonnees"))
            .when(pl.col("_cx").is_not_null())
            .then(pl.lit("commune"))
            .otherwise(None)
            .alias("localisation"),
        )
    )


def site_supply(
    tables: Mapping[str, pl.DataFrame],
    mention: str,
    forme: str | None = None,
    opening: OpeningRule | None = None,
) -> pl.DataFrame:
    """Per establishment offering ``mention`` (optionally one forme): finess_eg, unites,
    lits, places, capacite (= lits + places). An offer with no capacity still counts as
    offering the mention (it matters for the nearest establishment, not for 2SFCA).
    ``opening``: only the offer open under that rule."""
    return (
        coverage.offers_by_establishment(tables, [mention], forme, opening)
        .group_by("finess_eg")
        .agg(
            pl.col("uo_id").n_unique().alias("unites"),
            pl.col("lits").sum(),
            pl.col("places").sum(),
        )
        .with_columns((pl.col("lits") + pl.col("places")).alias("capacite"))
        .sort("finess_eg")
    )


def sites_for(
    tables: Mapping[str, pl.DataFrame],
    communes: pl.DataFrame,
    mention: str,
    forme: str | None = None,
    opening: OpeningRule | None = None,
) -> pl.DataFrame:
    """Establishments offering ``mention`` (open under ``opening`` when given): their point
    (see :func:`site_points`) and supply."""
    return site_points(tables["etablissements"], communes).join(
        site_supply(tables, mention, forme, opening), on="finess_eg", how="inner"
    )


def straight_km(x1: np.ndarray, y1: np.ndarray, x2: np.ndarray, y2: np.ndarray) -> np.ndarray:
    """Straight-line distance in km between Lambert-93 points given in metres."""
    return np.hypot(np.asarray(x2) - np.asarray(x1), np.asarray(y2) - np.asarray(y1)) / 1000.0


# ------------------------------------------------------------------------------- the pairs


@dataclass(frozen=True)
class Pairs:
    """Sparse commune → establishment pairs: indices into the origin and site arrays, time
    (minutes) and straight-line distance (km, NaN when a point is unknown)."""

    origin: np.ndarray
    site: np.ndarray
    minutes: np.ndarray
    km: np.ndarray

    def __len__(self) -> int:
        return len(self.origin)


def _xy(frame: pl.DataFrame) -> np.ndarray:
    return frame.select(
        pl.col("x_l93").cast(pl.Float64).fill_null(np.nan),
        pl.col("y_l93").cast(pl.Float64).fill_null(np.nan),
    ).to_numpy()


_TREES: OrderedDict[bytes, cKDTree] = OrderedDict()
_TREES_LOCK = threading.Lock()
_TREES_MAX = 8


def _tree(points: np.ndarray) -> cKDTree:
    """A k-d tree of ``points`` (metres), reused when the same points come again: the
    communes of a region are the origins of every accessibility call (each mention, forme
    and parameter), and building their tree is the largest fixed cost (35,000 points for
    France). Built unbalanced (sliding midpoint), which is twice as quick to build and
    answers the same queries."""
    points = np.ascontiguousarray(points, dtype=float)
    key = hashlib.blake2b(points.tobytes(), digest_size=16).digest() + bytes(str(points.shape),
                                                                            "ascii")
    with _TREES_LOCK:
        tree = _TREES.get(key)
        if tree is not None:
            _TREES.move_to_end(key)
            return tree
    tree = cKDTree(points, balanced_tree=False, compact_nodes=False)
    with _TREES_LOCK:
        _TREES[key] = tree
        while len(_TREES) > _TREES_MAX:
            _TREES.popitem(last=False)
    return tree


def model_pairs(
    origins_xy: np.ndarray, sites_xy: np.ndarray, max_minutes: float, model: TravelModel
) -> Pairs:
    """Every pair within ``max_minutes`` (inclusive) under the straight-line model.

    Sparse: a k-d tree on each side gives the pairs within the radius in one call, so the
    cost grows with the number of pairs, not communes × establishments.
    """
    origins_xy = np.asarray(origins_xy, dtype=float).reshape(-1, 2)
    sites_xy = np.asarray(sites_xy, dtype=float).reshape(-1, 2)
    ok_o = np.flatnonzero(np.isfinite(origins_xy).all(axis=1))
    ok_s = np.flatnonzero(np.isfinite(sites_xy).all(axis=1))
    empty = np.array([], dtype=np.int64)
    if len(ok_o) == 0 or len(ok_s) == 0:
        return Pairs(empty, empty, np.array([]), np.array([]))
    # a hair wider than the radius, then the exact filter on minutes (same rule as the table)
    radius_m = model.km_within(max_minutes) * 1000.0 * (1 + 1e-9) + 1e-6
    found = _tree(origins_xy[ok_o]).sparse_distance_matrix(
        _tree(sites_xy[ok_s]), radius_m, output_type="ndarray"
    )
    km = found["v"] / 1000.0
    minutes = model.minutes(km)
    keep = minutes <= max_minutes
    return Pairs(ok_o[found["i"][keep]], ok_s[found["j"][keep]], minutes[keep], km[keep])


def table_pairs(
    costs: pl.DataFrame,
    origin_codes: Sequence[str],
    site_codes: Sequence[str],
    max_minutes: float | None = None,
    origins_xy: np.ndarray | None = None,
    sites_xy: np.ndarray | None = None,
    origin_communes: Sequence[str] | None = None,
) -> Pairs:
    """Pairs from a travel-time table (``commune_insee, finess_eg, minutes``) restricted to the
    given origins and establishments and to ``max_minutes`` (inclusive) when given.

    A row keyed by an origin applies to it; arrondissement rows (751xx, …) of a commune that is
    an origin map to it, keeping the mean time per establishment; a row keyed by a split
    commune (``origin_communes``: the commune of each origin) applies to each of its
    arrondissements that has no row of its own for that establishment. Straight-line km are
    filled when both points are given.
    """
    o_index = pl.DataFrame(
        {
            "commune_insee": list(origin_codes),
            "_o": np.arange(len(origin_codes)),
            "_cc": list(origin_communes) if origin_communes is not None else list(origin_codes),
        },
        schema={"commune_insee": pl.String, "_o": pl.Int64, "_cc": pl.String},
    )
    s_index = pl.DataFrame({"finess_eg": list(site_codes), "_s": np.arange(len(site_codes))})
    rows = costs.select(
        pl.col("commune_insee").str.strip_chars().str.to_uppercase(), "finess_eg", "minutes"
    )
    direct = rows.join(o_index, on="commune_insee", how="inner").select("_o", "finess_eg",
                                                                         "minutes")
    rest = rows.join(o_index, on="commune_insee", how="anti").with_columns(
        coverage.commune_code(pl.col("commune_insee")).alias("_c")
    )
    mapped = (
        rest.join(o_index, left_on="_c", right_on="commune_insee", how="inner")
        .group_by("_o", "finess_eg")
        .agg(pl.col("minutes").mean())
    )
    split = o_index.filter(pl.col("_cc") != pl.col("commune_insee"))
    shared = rest.join(split, left_on="_c", right_on="_cc", how="inner").select(
        "_o", "finess_eg", "minutes"
    )
    table = (
        pl.concat([direct, mapped.select(direct.columns), shared])
        .unique(["_o", "finess_eg"], keep="first", maintain_order=True)
        .join(s_index, on="finess_eg", how="inner")
    )
    if max_minutes is not None:
        table = table.filter(pl.col("minutes") <= max_minutes)
    table = table.sort("_o", "_s")
    o = table["_o"].to_numpy().astype(np.int64)
    s = table["_s"].to_numpy().astype(np.int64)
    km = np.full(len(o), np.nan)
    if origins_xy is not None and sites_xy is not None and len(o):
        a, b = np.asarray(origins_xy)[o], np.asarray(sites_xy)[s]
        km = straight_km(a[:, 0], a[:, 1], b[:, 0], b[:, 1])
    return Pairs(o, s, table["minutes"].to_numpy().astype(float), km)


def _origin_communes(origins: pl.DataFrame) -> list[str] | None:
    """The commune of each origin (``code_commune``), or None for a plain communes frame."""
    return origins["code_commune"].to_list() if "code_commune" in origins.columns else None


def cost_table_coverage(
    costs: pl.DataFrame, communes: pl.DataFrame, etablissements: pl.DataFrame
) -> dict[str, int]:
    """How much of a travel-time table concerns this region and snapshot: counts of rows,
    of the region's origins (communes or arrondissements) and of the snapshot's
    establishments it mentions. Why: a table for another region or snapshot would silently
    make everything unreachable."""
    raw = costs.select(pl.col("commune_insee").str.strip_chars().str.to_uppercase().alias("c"))
    codes = pl.concat([raw["c"], raw.select(coverage.commune_code(pl.col("c")).alias("c"))["c"]]).unique()
    keys = coverage.with_territory_keys(communes)
    found = keys["commune_insee"].is_in(codes.implode()) | keys["code_commune"].is_in(
        codes.implode()
    )
    return {
        "lignes": costs.height,
        "communes": int(found.sum()),
        "etablissements": int(
            etablissements["finess_eg"].is_in(costs["finess_eg"].unique().implode()).sum()
        ),
    }


def pairs_within(
    origins: pl.DataFrame,
    sites: pl.DataFrame,
    max_minutes: float,
    model: TravelModel | None = None,
    costs: pl.DataFrame | None = None,
) -> Pairs:
    """Pairs within ``max_minutes`` between ``origins`` (commune_insee, x_l93, y_l93) and
    ``sites`` (finess_eg, x_l93, y_l93): the cost table when given, else the model."""
    _check_minutes(max_minutes, "zone d'attraction")
    if costs is not None:
        return table_pairs(
            costs,
            origins["commune_insee"].to_list(),
            sites["finess_eg"].to_list(),
            max_minutes,
            _xy(origins),
            _xy(sites),
            _origin_communes(origins),
        )
    return model_pairs(_xy(origins), _xy(sites), max_minutes, model or TravelModel())


# ----------------------------------------------------------------------------- the nearest


def nearest_site(
    origins: pl.DataFrame,
    sites: pl.DataFrame,
    model: TravelModel | None = None,
    costs: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """For each origin (commune_insee, x_l93, y_l93), the quickest site (finess_eg, x_l93,
    y_l93): commune_insee, finess_eg, minutes, km; nulls when none can be reached.

    Model: a k-d tree query (the nearest in km is the quickest). Table: the smallest time in
    the table (ties → lowest FINESS), km = straight line to that site.
    """
    n = origins.height
    finess = np.full(n, None, dtype=object)
    minutes = np.full(n, np.nan)
    km = np.full(n, np.nan)
    codes = sites["finess_eg"].to_list()
    oxy, sxy = _xy(origins), _xy(sites)
    if costs is not None:
        pairs = table_pairs(
            costs, origins["commune_insee"].to_list(), codes, None, oxy, sxy,
            _origin_communes(origins),
        )
        if len(pairs):
            best = (
                pl.DataFrame(
                    {
                        "o": pairs.origin,
                        "s": pairs.site,
                        "m": pairs.minutes,
                        "k": pairs.km,
                        "f": np.asarray(codes, dtype=object)[pairs.site],
                    }
                )
                .sort("o", "m", "f")
                .unique("o", keep="first")
            )
            o = best["o"].to_numpy()
            finess[o] = best["f"].to_list()
            minutes[o] = best["m"].to_numpy()
            km[o] = best["k"].to_numpy()
    else:
        model = model or TravelModel()
        ok_s = np.flatnonzero(np.isfinite(sxy).all(axis=1))
        ok_o = np.flatnonzero(np.isfinite(oxy).all(axis=1))
        if len(ok_s) and len(ok_o):
            dist, idx = cKDTree(sxy[ok_s]).query(oxy[ok_o], k=1)
            km[ok_o] = dist / 1000.0
            minutes[ok_o] = model.minutes(km[ok_o])
            finess[ok_o] = np.asarray(codes, dtype=object)[ok_s[idx]]
    return pl.DataFrame(
        {
            "commune_insee": origins["commune_insee"],
            "finess_eg": pl.Series(finess.tolist(), dtype=pl.String),
            "minutes": pl.Series(minutes).fill_nan(None),
            "km": pl.Series(km).fill_nan(None),
        }
    )


def nearest_by_mention(
    tables: Mapping[str, pl.DataFrame],
    communes: pl.DataFrame,
    mentions: Sequence[str] | None = None,
    forme: str | None = None,
    model: TravelModel | None = None,
    costs: pl.DataFrame | None = None,
    *,
    opening: OpeningRule | None = None,
) -> pl.DataFrame:
    """Per origin × mention, the quickest establishment offering the mention (or one forme),
    open under ``opening`` when given.

    Columns: commune_insee (the origin: commune or arrondissement), mention, finess_eg,
    raison_sociale, minutes, km (nulls when no establishment offers the mention or none is
    reachable in the cost table), code_commune (the origin's commune).
    """
    mentions = list(mentions) if mentions is not None else [m.code for m in nomenclature.MENTIONS]
    points = site_points(tables["etablissements"], communes)
    keyed = coverage.with_territory_keys(communes)
    origins = keyed.select("commune_insee", "x_l93", "y_l93", "code_commune")
    out = []
    for mention in mentions:
        sites = points.join(
            site_supply(tables, mention, forme, opening), on="finess_eg", how="semi"
        )
        near = nearest_site(origins, sites, model, costs)
        out.append(near.with_columns(pl.lit(mention).alias("mention")))
    names = tables["etablissements"].select("finess_eg", "raison_sociale")
    return (
        pl.concat(out)
        .join(names, on="finess_eg", how="left")
        .join(keyed.select("commune_insee", "code_commune"), on="commune_insee", how="left")
        .select(
            "commune_insee", "mention", "finess_eg", "raison_sociale", "minutes", "km",
            "code_commune",
        )
    )


def threshold_name(t: float) -> str:
    """Column suffix of a time threshold: 30 → "30min", 22.5 → "22_5min"."""
    return f"{t:g}".replace(".", "_") + "min"


def population_within(
    nearest: pl.DataFrame,
    communes: pl.DataFrame,
    level: str = "departement",
    thresholds_min: Sequence[float] = DEFAULT_THRESHOLDS_MIN,
    population: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Per territory × mention: population and share of it within each time threshold.

    ``nearest``: from :func:`nearest_by_mention` (or one mention with a ``mention`` column).
    ``population``: commune_insee, population (the demand; default the reference population).
    Columns: territoire, mention, population, population_sans_acces (no reachable site),
    temps_moyen / km_moyen (population-weighted mean over communes with a reachable site),
    and per threshold t: ``population_<t>min`` and ``part_<t>min`` (% of the population with
    the nearest site at most t minutes away, bound inclusive). Every territory appears.
    """
    level = coverage.check_level(level)
    key = coverage.LEVEL_COLUMNS[level]
    for t in thresholds_min:
        _check_minutes(t, "seuil")
    pop = (
        population
        if population is not None
        else communes.select("commune_insee", pl.col("population").cast(pl.Float64))
    )
    keys = coverage.with_territory_keys(communes).select(
        "commune_insee", *([key] if key != "commune_insee" else [])
    )
    data = (
        nearest.drop("code_commune", strict=False)
        .join(pop, on="commune_insee", how="inner")
        .join(keys, on="commune_insee")
    )
    reach = pl.col("minutes").is_not_null()
    w = pl.col("population")
    aggs = [
        w.sum().alias("population"),
        w.filter(~reach).sum().alias("population_sans_acces"),
        ((pl.col("minutes") * w).filter(reach).sum() / w.filter(reach).sum()).alias("temps_moyen"),
        ((pl.col("km") * w).filter(reach).sum() / w.filter(reach).sum()).alias("km_moyen"),
    ]
    for t in thresholds_min:
        aggs.append(
            w.filter(reach & (pl.col("minutes") <= t))
            .sum()
            .alias(f"population_{threshold_name(t)}")
        )
    out = data.group_by(key, "mention").agg(aggs).rename({key: "territoire"})
    out = out.with_columns(
        pl.when(pl.col("population") > 0)
        .then(pl.col(f"population_{threshold_name(t)}") / pl.col("population") * 100)
        .otherwise(None)
        .alias(f"part_{threshold_name(t)}")
        for t in thresholds_min
    ).with_columns(pl.col("temps_moyen", "km_moyen").fill_nan(None))
    return out.sort("territoire", "mention")


def communes_beyond(
    nearest: pl.DataFrame,
    communes: pl.DataFrame,
    threshold_min: float,
    population: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Origins (communes, or arrondissements of a split commune) whose nearest site is more
    than ``threshold_min`` away or unreachable.

    Columns: commune_insee, nom, departement, epci_nom, mention, population, finess_eg,
    raison_sociale, minutes, km, code_commune (the origin's commune); the most populated
    first. Why: the territories left without access, to act on.
    """
    _check_minutes(threshold_min, "seuil")
    pop = (
        population
        if population is not None
        else communes.select("commune_insee", pl.col("population").cast(pl.Float64))
    )
    if "raison_sociale" not in nearest.columns:
        nearest = nearest.with_columns(pl.lit(None, pl.String).alias("raison_sociale"))
    return (
        nearest.filter(pl.col("minutes").is_null() | (pl.col("minutes") > threshold_min))
        .drop("code_commune", strict=False)
        .join(pop, on="commune_insee", how="inner")
        .join(
            coverage.with_territory_keys(communes).select(
                "commune_insee", "nom", "departement", "code_commune"
            ),
            on="commune_insee",
        )
        .join(communes.select("commune_insee", "epci_nom"), on="commune_insee", how="left")
        .sort(["population", "commune_insee"], descending=[True, False])
        .select(
            "commune_insee",
            "nom",
            "departement",
            "epci_nom",
            "mention",
            "population",
            "finess_eg",
            "raison_sociale",
            "minutes",
            "km",
            "code_commune",
        )
    )


# ----------------------------------------------------------------- floating catchment


def two_step_scores(
    origin: np.ndarray,
    site: np.ndarray,
    weight: np.ndarray,
    demand: np.ndarray,
    supply: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """The two steps of (E)2SFCA on sparse pairs; returns (A per origin, R per site).

    R_j = S_j / Σ_i w_ij P_i (0 when no demand reaches j); A_i = Σ_j w_ij R_j. Units: supply
    per unit of demand. Vectorised with ``np.bincount`` over the pairs.
    """
    demand = np.asarray(demand, dtype=float)
    supply = np.asarray(supply, dtype=float)
    weighted_demand = np.bincount(site, weights=weight * demand[origin], minlength=len(supply))
    ratio = np.divide(supply, weighted_demand, out=np.zeros(len(supply)), where=weighted_demand > 0)
    scores = np.bincount(origin, weights=weight * ratio[site], minlength=len(demand))
    return scores, ratio


def weighted_median(values: np.ndarray, weights: np.ndarray) -> float | None:
    """Population-weighted median: the smallest value at or below which lies at least half of
    the total weight (NaN values and zero weights ignored); None when nothing is left."""
    values = np.asarray(values, dtype=float)
    weights = np.asarray(weights, dtype=float)
    ok = np.isfinite(values) & (weights > 0)
    if not ok.any():
        return None
    order = np.argsort(values[ok], kind="stable")
    v, w = values[ok][order], weights[ok][order]
    cum = np.cumsum(w)
    return float(v[np.searchsorted(cum, cum[-1] / 2.0, side="left")])


@dataclass(frozen=True)
class FcaSettings:
    """The catchment and weights a method resolves to (for display and reuse)."""

    method: str
    catchment_min: float
    zones: tuple[tuple[float, float], ...]


def fca_settings(
    method: str,
    catchment_min: float | None = None,
    zones: Sequence[tuple[float, float]] = DEFAULT_ZONES,
) -> FcaSettings:
    """Resolve a method's catchment and weights: 2SFCA one zone of weight 1 (default 30 min);
    E2SFCA the zones (default Luo & Qi), rescaled when a catchment is given."""
    if method == "2sfca":
        c = _check_minutes(
            DEFAULT_CATCHMENT_MIN if catchment_min is None else catchment_min, "zone d'attraction"
        )
        return FcaSettings(method, c, ((c, 1.0),) if c > 0 else ((0.0, 1.0),))
    if method == "e2sfca":
        z = validate_zones(zones) if catchment_min is None else scaled_zones(zones, catchment_min)
        return FcaSettings(method, z[-1][0], z)
    raise InputError(f"méthode inconnue « {method} » ; méthodes : 2sfca, e2sfca")


def floating_catchment(
    origins: pl.DataFrame,
    sites: pl.DataFrame,
    method: str = "e2sfca",
    catchment_min: float | None = None,
    zones: Sequence[tuple[float, float]] = DEFAULT_ZONES,
    model: TravelModel | None = None,
    costs: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """2SFCA / E2SFCA accessibility per origin, in supply per 100,000 inhabitants.

    ``origins``: commune_insee, x_l93, y_l93, population (demand). ``sites``: finess_eg,
    x_l93, y_l93, capacite (supply). Returns commune_insee, population, acces (supply per
    100,000 demand), sites_atteints (sites reached with a positive weight).
    """
    settings = fca_settings(method, catchment_min, zones)
    sites = sites.filter(pl.col("capacite") > 0)
    pairs = pairs_within(origins, sites, settings.catchment_min, model, costs)
    if method == "2sfca":
        weight = np.ones(len(pairs))
    else:
        weight = step_weights(pairs.minutes, settings.zones)
    keep = weight > 0
    o, s, w = pairs.origin[keep], pairs.site[keep], weight[keep]
    demand = origins["population"].cast(pl.Float64).fill_null(0).to_numpy()
    supply = sites["capacite"].cast(pl.Float64).to_numpy()
    scores, _ = two_step_scores(o, s, w, demand, supply)
    return pl.DataFrame(
        {
            "commune_insee": origins["commune_insee"],
            "population": demand,
            "acces": scores * PER,
            "sites_atteints": np.bincount(o, minlength=origins.height).astype(np.int64),
        }
    )


def accessibility(
    tables: Mapping[str, pl.DataFrame],
    communes: pl.DataFrame,
    mention: str,
    method: str = "e2sfca",
    *,
    forme: str | None = None,
    catchment_min: float | None = None,
    zones: Sequence[tuple[float, float]] = DEFAULT_ZONES,
    model: TravelModel | None = None,
    costs: pl.DataFrame | None = None,
    population_ages: pl.DataFrame | None = None,
    opening: OpeningRule | None = None,
) -> pl.DataFrame:
    """Floating catchment accessibility of one mention for every origin of the region
    (commune, or arrondissement of a split commune), on the offer open under ``opening``.

    Columns: commune_insee, nom, departement, population (the demand), denominateur, acces
    (beds + places per 100,000 inhabitants), ratio_mediane (acces / regional
    population-weighted median, null when that median is 0), sites_atteints, code_commune.
    The median is weighted by population so that it describes the typical inhabitant rather
    than the typical (often tiny, rural) commune.
    """
    den = coverage.denominator(mention, population_ages is not None)
    pops = coverage.population_by_commune(communes, population_ages)
    keyed = coverage.with_territory_keys(communes)
    origins = keyed.select("commune_insee", "x_l93", "y_l93", "code_commune").join(
        pops.select("commune_insee", pl.col(den).alias("population")), on="commune_insee"
    )
    sites = sites_for(tables, communes, mention, forme, opening)
    acc = floating_catchment(origins, sites, method, catchment_min, zones, model, costs)
    median = weighted_median(acc["acces"].to_numpy(), acc["population"].to_numpy())
    ratio = pl.col("acces") / median if median not in (None, 0.0) else pl.lit(None, pl.Float64)
    return (
        acc.with_columns(
            ratio.alias("ratio_mediane"),
            pl.lit(coverage.DENOMINATOR_LABELS[den]).alias("denominateur"),
            pl.lit(mention).alias("mention"),
        )
        .join(
            keyed.select("commune_insee", "nom", "departement", "code_commune"), on="commune_insee"
        )
        .select(
            "commune_insee",
            "nom",
            "departement",
            "mention",
            "population",
            "denominateur",
            "acces",
            "ratio_mediane",
            "sites_atteints",
            "code_commune",
        )
    )
