"""Capacity and rates by territory × mention × forme, and the presence matrix.

For one snapshot and the reference communes of a region, every territory of the region (commune,
EPCI, département, region) gets, for each SMR mention and form of care: the establishments that
offer it, their units, beds (``lits``), places, and beds + places per 100,000 inhabitants
(``taux_100k``). Territories without any capacity appear with zeros, so gaps are visible.

Only the offer open at the snapshot date counts when an :class:`~analysis.indicators.opening.OpeningRule`
is given (``opening``): every public function here takes it and reads the offer through
:func:`offers_by_establishment`, which applies ``opening.open_tables``; the establishments
closed provisionally appear apart (``fermes_temporairement``).

Territories: the frame passed as ``communes`` is either the reference communes or the
*origins* of ``geography.origins_from`` (Paris, Lyon and Marseille split into arrondissements, with
``code_commune`` beside each arrondissement). Levels: ``arrondissement`` (one row per origin:
communes, and arrondissements where the reference has them), ``commune`` (arrondissements
added up into their commune), ``epci``, ``departement``, ``region``. Territory of an
establishment: its ``commune_insee`` when it is an origin (an arrondissement code such as
75113, or a commune); else the commune it maps to (Paris, Lyon and Marseille arrondissement
codes 751xx, 6938x, 132xx map to 75056, 69123, 13055); an establishment of a split commune
without an arrondissement code lies in the arrondissement whose contour contains its
coordinates (else the arrondissement nearest to them, else to the commune's centre). An
establishment whose commune is not in the region's reference is outside every territory (see
:func:`unmapped_establishments`).

Denominators (the ``population`` column, named in ``denominateur``): the reference municipal
population by default. When a population-by-age file is given (see
:mod:`analysis.io.parameter_files` and ``docs/population_par_age.md``: CSV
``commune_insee,moins_18,plus_75,total``), the pédiatrie mentions (ME060, ME061) are divided by
the population under 18, gériatrie (ME059) by the population aged 75 and over, and the other
mentions by the file's ``total`` (so all rates share the file's vintage). The file must cover
every commune of the region; arrondissement rows are summed into their commune, or, when the
origins hold arrondissements, used for them (a commune given only as a whole is shared among
its arrondissements in proportion to their population).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import polars as pl

from analysis.indicators.opening import (
    OpeningRule,
    offer_capacities,
    open_tables,
    provisional_offers,
)
from analysis.model import nomenclature
from analysis.model.errors import InputError
from analysis.model.memo import same_frames
from analysis.model.nomenclature import ALL_FORMES

#: Territory levels; ``arrondissement`` is the finest (the origins: communes, and the
#: arrondissements of Paris, Lyon and Marseille where the frame holds them).
LEVELS: tuple[str, ...] = ("commune", "epci", "departement", "region", "arrondissement")
LEVEL_LABELS: dict[str, str] = {
    "commune": "Commune",
    "epci": "EPCI",
    "departement": "Département",
    "region": "Région",
    "arrondissement": "Commune ou arrondissement",
}
#: Column of the communes (or origins) frame holding each level's code.
LEVEL_COLUMNS: dict[str, str] = {
    "commune": "code_commune",
    "epci": "epci",
    "departement": "departement",
    "region": "region",
    "arrondissement": "commune_insee",
}
#: Level whose territories are the origins themselves.
ORIGIN_LEVEL = "arrondissement"
#: INSEE convention for a commune that belongs to no EPCI (islands such as Île-d'Yeu).
NO_EPCI = "ZZZZZZZZZ"
PER = 100_000

#: Denominator of each kind of mention (column of :func:`population_by_commune`).
DENOMINATOR_LABELS: dict[str, str] = {
    "population": "population totale",
    "moins_18": "population de moins de 18 ans",
    "plus_75": "population de 75 ans et plus",
}


def check_level(level: str) -> str:
    """``level`` if it is a known territory level, else a French ``InputError``."""
    if level not in LEVELS:
        raise InputError(
            f"niveau de territoire inconnu « {level} » ; niveaux : {', '.join(LEVELS)}"
        )
    return level


def commune_code(expr: pl.Expr) -> pl.Expr:
    """INSEE commune code with Paris / Lyon / Marseille arrondissements mapped to the commune."""
    text = expr.str.strip_chars().str.to_uppercase()
    return (
        pl.when(text.str.contains(r"^751(0[1-9]|1\d|20)$"))
        .then(pl.lit("75056"))
        .when(text.str.contains(r"^6938[1-9]$"))
        .then(pl.lit("69123"))
        .when(text.str.contains(r"^132(0[1-9]|1[0-6])$"))
        .then(pl.lit("13055"))
        .otherwise(text)
    )


def denominator(mention: str, with_ages: bool) -> str:
    """Population column dividing a mention's capacity: under 18, 75 and over, or total."""
    if not with_ages:
        return "population"
    if mention in nomenclature.PEDIATRIC_MENTIONS:
        return "moins_18"
    if mention in nomenclature.GERIATRIC_MENTIONS:
        return "plus_75"
    return "population"


@same_frames(maxsize=4)
def with_territory_keys(communes: pl.DataFrame) -> pl.DataFrame:
    """Communes (or origins) with ``epci`` filled for communes outside any EPCI, and
    ``code_commune`` / ``nom_commune`` (the commune itself when the frame has none)."""
    out = communes
    if "code_commune" not in out.columns:
        out = out.with_columns(pl.col("commune_insee").alias("code_commune"))
    if "nom_commune" not in out.columns and "nom" in out.columns:
        out = out.with_columns(pl.col("nom").alias("nom_commune"))
    return out.with_columns(
        pl.col("epci").fill_null(NO_EPCI),
        pl.when(pl.col("epci").is_null())
        .then(pl.lit("Sans EPCI (commune isolée)"))
        .otherwise(pl.col("epci_nom"))
        .alias("epci_nom"),
    )


def values_for_origins(
    values: pl.DataFrame, origins: pl.DataFrame, columns: Sequence[str]
) -> pl.DataFrame:
    """Per origin of ``origins`` (``commune_insee``), the ``columns`` of ``values`` (a table
    keyed by ``commune_insee``: communes and / or arrondissements), as the origins need them.

    An origin's own row wins; an origin without one takes the sum of the rows that map to it
    (arrondissement rows 751xx for a Paris origin 75056); an arrondissement origin without one
    takes its commune's row × its share of the commune's population among its arrondissements.
    Origins the file does not cover are left out (the caller says which). Why: a file at
    commune level and one at arrondissement level give the same commune totals.
    """
    cols = list(columns)
    keys = with_territory_keys(origins).select(
        "commune_insee", "code_commune", pl.col("population").cast(pl.Float64).alias("_pop")
    )
    vals = values.select(
        pl.col("commune_insee").str.strip_chars().str.to_uppercase(), *cols
    )
    own = keys.join(vals, on="commune_insee", how="inner").select("commune_insee", *cols)
    rest = vals.join(keys.select("commune_insee"), on="commune_insee", how="anti")
    summed = (
        rest.with_columns(commune_code(pl.col("commune_insee")).alias("commune_insee"))
        .join(keys.select("commune_insee"), on="commune_insee", how="semi")
        .group_by("commune_insee")
        .agg(pl.col(cols).sum())
        .join(own.select("commune_insee"), on="commune_insee", how="anti")
    )
    split = keys.filter(pl.col("code_commune") != pl.col("commune_insee"))
    shared = (
        split.join(pl.concat([own, summed]).select("commune_insee"), on="commune_insee", how="anti")
        .with_columns(
            (pl.col("_pop") / pl.col("_pop").sum().over("code_commune")).alias("_share"),
            (1.0 / pl.len().over("code_commune")).alias("_even"),
        )
        .join(rest.rename({"commune_insee": "code_commune"}), on="code_commune", how="inner")
        .with_columns(
            pl.when(pl.col("_share").is_finite()).then("_share").otherwise("_even").alias("_s")
        )
        .select("commune_insee", *(pl.col(c) * pl.col("_s") for c in cols))
    )
    return pl.concat([own, summed.select(own.columns), shared.select(own.columns)], how="vertical")


@same_frames(maxsize=4)
def population_by_commune(
    communes: pl.DataFrame, population_ages: pl.DataFrame | None = None
) -> pl.DataFrame:
    """Population per origin of the region: commune_insee, population, moins_18, plus_75.

    Without an age file, ``population`` is the frame's population and the age columns are
    null. With one (from ``parameter_files.read_population_ages``), ``population`` is its
    ``total``, taken per origin by :func:`values_for_origins`; a commune of the region missing
    from the file raises ``InputError``.
    """
    base = communes.select("commune_insee")
    if population_ages is None:
        return base.join(
            communes.select("commune_insee", pl.col("population").cast(pl.Float64)),
            on="commune_insee",
        ).with_columns(
            pl.lit(None, pl.Float64).alias("moins_18"), pl.lit(None, pl.Float64).alias("plus_75")
        )
    ages = values_for_origins(
        population_ages.with_columns(pl.col("moins_18", "plus_75", "total").cast(pl.Float64)),
        communes,
        ["moins_18", "plus_75", "total"],
    )
    joined = base.join(ages, on="commune_insee", how="left")
    missing = (
        with_territory_keys(communes)
        .join(joined.filter(pl.col("total").is_null()), on="commune_insee", how="semi")["code_commune"]
        .unique(maintain_order=True)
        .to_list()
    )
    if missing:
        shown = ", ".join(missing[:5]) + (" …" if len(missing) > 5 else "")
        raise InputError(
            f"fichier de population par âge incomplet : {len(missing)} commune(s) de la région "
            f"absente(s) ({shown}) ; le fichier doit couvrir toutes les communes"
        )
    return joined.select(
        "commune_insee", pl.col("total").alias("population"), "moins_18", "plus_75"
    )


def territory_names(
    communes: pl.DataFrame,
    level: str,
    departement_names: Mapping[str, str] | None = None,
    region_names: Mapping[str, str] | None = None,
) -> pl.DataFrame:
    """Every territory of ``level`` in the region: ``territoire`` (code) and ``nom``.

    Names of communes, arrondissements and EPCI come from the communes (origins) table;
    département and region names from the mappings when given (else the code is the name).
    """
    check_level(level)
    with_keys = with_territory_keys(communes)
    if level == ORIGIN_LEVEL:
        out = with_keys.select(pl.col("commune_insee").alias("territoire"), "nom")
    elif level == "commune":
        out = with_keys.select(
            pl.col("code_commune").alias("territoire"), pl.col("nom_commune").alias("nom")
        ).unique("territoire", keep="first")
    elif level == "epci":
        out = (
            with_keys.group_by("epci")
            .agg(pl.col("epci_nom").first())
            .select(pl.col("epci").alias("territoire"), pl.col("epci_nom").alias("nom"))
        )
    else:
        names = departement_names if level == "departement" else region_names
        out = with_keys.select(pl.col(level).alias("territoire")).unique()
        out = out.with_columns(
            pl.col("territoire")
            .replace_strict(dict(names or {}), default=pl.col("territoire"))
            .alias("nom")
        )
    return out.sort("territoire")


def _locate_in_split(rows: pl.DataFrame, origins: pl.DataFrame) -> list[str | None]:
    """The origin (arrondissement) of each row of a split commune: the contour that contains
    its point, else the nearest arrondissement point, else the one nearest to the commune's
    population-weighted centre. ``rows``: _c (commune), latitude, longitude."""
    from analysis.geo import geography

    out: list[str | None] = []
    for commune, lat, lon in rows.select("_c", "latitude", "longitude").iter_rows():
        arr = origins.filter(pl.col("code_commune") == commune)
        if arr.height == 0:
            out.append(None)
            continue
        codes = arr["commune_insee"].to_list()
        if lat is not None and lon is not None:
            if "contour_wkb" in arr.columns:
                import shapely

                point = shapely.Point(float(lon), float(lat))
                found = [
                    c
                    for c, wkb in zip(codes, arr["contour_wkb"].to_list(), strict=True)
                    if wkb is not None and shapely.from_wkb(wkb).covers(point)
                ]
                if found:
                    out.append(found[0])
                    continue
            x, y = geography.to_l93([lon], [lat])
        else:
            w = arr["population"].cast(pl.Float64).fill_null(0).to_numpy()
            w = w if w.sum() > 0 else np.ones(len(w))
            x = [float(np.average(arr["x_l93"].to_numpy(), weights=w))]
            y = [float(np.average(arr["y_l93"].to_numpy(), weights=w))]
        d = np.hypot(arr["x_l93"].to_numpy() - x[0], arr["y_l93"].to_numpy() - y[0])
        out.append(codes[int(np.argmin(d))])
    return out


@same_frames(maxsize=4)
def establishment_territories(etablissements: pl.DataFrame, communes: pl.DataFrame) -> pl.DataFrame:
    """finess_eg with its origin (``commune_insee``: the arrondissement where the frame splits
    the commune, else the commune), code_commune, epci, departement, region.

    Only establishments located in a commune of the region are returned (see the module
    docstring for how an establishment of a split commune finds its arrondissement).
    """
    keys = with_territory_keys(communes).select(
        "commune_insee", "code_commune", "epci", "departement", "region"
    )
    origin_codes = keys["commune_insee"].implode()
    cols = [c for c in ("latitude", "longitude") if c in etablissements.columns]
    raw = etablissements.select(
        "finess_eg",
        pl.col("commune_insee").str.strip_chars().str.to_uppercase().alias("_raw"),
        commune_code(pl.col("commune_insee")).alias("_c"),
        *(pl.col(c).cast(pl.Float64) for c in cols),
    )
    if len(cols) < 2:
        raw = raw.with_columns(pl.lit(None, pl.Float64).alias(c) for c in ("latitude", "longitude"))
    origin = (
        pl.when(pl.col("_raw").is_in(origin_codes))
        .then(pl.col("_raw"))
        .when(pl.col("_c").is_in(origin_codes))
        .then(pl.col("_c"))
        .otherwise(None)
    )
    raw = raw.with_columns(origin.alias("_o"))
    split_codes = keys.filter(pl.col("code_commune") != pl.col("commune_insee"))["code_commune"]
    todo = raw.filter(pl.col("_o").is_null() & pl.col("_c").is_in(split_codes.implode()))
    if todo.height:
        located = _locate_in_split(todo, with_territory_keys(communes))
        raw = raw.join(
            todo.select("finess_eg").with_columns(pl.Series("_l", located, dtype=pl.String)),
            on="finess_eg",
            how="left",
        ).with_columns(pl.coalesce("_o", "_l").alias("_o"))
    return raw.select("finess_eg", pl.col("_o").alias("commune_insee")).join(
        keys, on="commune_insee", how="inner"
    )


def unmapped_establishments(
    tables: Mapping[str, pl.DataFrame],
    communes: pl.DataFrame,
    opening: OpeningRule | None = None,
) -> pl.DataFrame:
    """Establishments with an (open) offer whose commune is not in the region (counted
    nowhere)."""
    with_offer = offers_by_establishment(tables, opening=opening).select("finess_eg").unique()
    etabs = tables["etablissements"].join(with_offer, on="finess_eg", how="semi")
    mapped = establishment_territories(etabs, communes).select("finess_eg")
    return etabs.join(mapped, on="finess_eg", how="anti").select(
        "finess_eg", "raison_sociale", "commune_insee"
    )


def offers_by_establishment(
    tables: Mapping[str, pl.DataFrame],
    mentions: Sequence[str] | None = None,
    forme: str | None = None,
    opening: OpeningRule | None = None,
) -> pl.DataFrame:
    """Offers joined to their establishment: finess_eg, uo_id, mention, forme, lits, places.

    ``opening``: only the offer open under that rule (``opening.open_tables``); None reads the
    tables as given. Null beds / places count as zero. ``forme`` filters one form of care
    (``ALL_FORMES`` or None keeps them all); ``mentions`` filters mention codes.
    """
    if opening is not None:
        tables = open_tables(tables, opening)
    offres = tables["offres"].join(
        tables["unites"].select("uo_id", "finess_eg"), on="uo_id", how="inner"
    )
    return offer_capacities(offres, mentions, forme)


def _formes_wanted(offres: pl.DataFrame, forme: str | None) -> list[str]:
    """Forme values of the output rows: the aggregate, and every forme present if ``None``."""
    if forme is None:
        present = set(offres["forme"].unique().to_list())
        return (
            [ALL_FORMES]
            + [f.code for f in nomenclature.FORMES if f.code in present]
            + sorted(present - {f.code for f in nomenclature.FORMES})
        )
    return [forme]


def _by_forme(offres: pl.DataFrame, key: str, formes: Sequence[str], aggs: list) -> pl.DataFrame:
    """``aggs`` per territory × mention, for each forme wanted (``ALL_FORMES``: every forme)."""
    parts = []
    for f in formes:
        sub = offres if f == ALL_FORMES else offres.filter(pl.col("forme") == f)
        parts.append(
            sub.group_by(key, "mention")
            .agg(aggs)
            .with_columns(pl.lit(f).alias("forme"))
            .rename({key: "territoire"})
        )
    return pl.concat(parts)


def capacity_by_territory(
    tables: Mapping[str, pl.DataFrame],
    communes: pl.DataFrame,
    level: str = "departement",
    *,
    mentions: Sequence[str] | None = None,
    forme: str | None = None,
    population_ages: pl.DataFrame | None = None,
    departement_names: Mapping[str, str] | None = None,
    region_names: Mapping[str, str] | None = None,
    opening: OpeningRule | None = None,
) -> pl.DataFrame:
    """Capacity and rate per territory × mention × forme; every territory of the region appears.

    Returns columns niveau, territoire, nom, mention, libelle, forme, etablissements, unites,
    lits, places, capacite (lits + places), population, denominateur, taux_100k (beds + places
    per 100,000 inhabitants of the denominator; null when that population is 0),
    fermes_temporairement and capacite_fermee_temporairement (establishments of the territory
    offering the mention that are closed provisionally at the date, and their beds + places:
    counted in the figures only when ``opening.include_provisional``; null without
    ``opening``).

    ``mentions``: codes to report (default all 13). ``forme``: one forme code, ``ALL_FORMES``
    for the aggregate only, or None for the aggregate plus one row per forme present in the
    snapshot. In the aggregate an establishment offering several formes counts once, which is
    why it is computed rather than summed. ``opening``: the open offer only (see
    :mod:`analysis.indicators.opening`). Why: planners compare territories on one screen, including those
    with no capacity at all.
    """
    level = check_level(level)
    key = LEVEL_COLUMNS[level]
    mention_codes = (
        list(mentions) if mentions is not None else [m.code for m in nomenclature.MENTIONS]
    )
    places = establishment_territories(tables["etablissements"], communes)
    offres = offers_by_establishment(tables, mention_codes, None, opening).join(
        places, on="finess_eg", how="inner"
    )
    formes = _formes_wanted(offres, forme)
    agg = _by_forme(
        offres,
        key,
        formes,
        [
            pl.col("finess_eg").n_unique().alias("etablissements"),
            pl.col("uo_id").n_unique().alias("unites"),
            pl.col("lits").sum().alias("lits"),
            pl.col("places").sum().alias("places"),
        ],
    )
    closed = None
    if opening is not None:
        pro = provisional_offers(tables, opening.as_of, mention_codes).join(
            places, on="finess_eg", how="inner"
        )
        closed = _by_forme(
            pro,
            key,
            formes,
            [
                pl.col("finess_eg").n_unique().alias("fermes_temporairement"),
                (pl.col("lits") + pl.col("places")).sum().alias("capacite_fermee_temporairement"),
            ],
        )

    pops = _territory_population(communes, level, population_ages)
    with_ages = population_ages is not None
    grid = (
        territory_names(communes, level, departement_names, region_names)
        .join(pl.DataFrame({"mention": mention_codes}), how="cross")
        .join(pl.DataFrame({"forme": formes}), how="cross")
    )
    grid = grid.join(agg, on=["territoire", "mention", "forme"], how="left")
    counts = ["etablissements", "unites", "lits", "places"]
    closed_cols = ["fermes_temporairement", "capacite_fermee_temporairement"]
    if closed is not None:
        grid = grid.join(closed, on=["territoire", "mention", "forme"], how="left").with_columns(
            pl.col(c).fill_null(0).cast(pl.Int64) for c in closed_cols
        )
    else:
        grid = grid.with_columns(pl.lit(None, pl.Int64).alias(c) for c in closed_cols)
    out = (
        grid.with_columns(pl.col(c).fill_null(0).cast(pl.Int64) for c in counts)
        .with_columns((pl.col("lits") + pl.col("places")).alias("capacite"))
        .with_columns(
            pl.col("mention")
            .replace_strict({m: denominator(m, with_ages) for m in mention_codes})
            .alias("_den")
        )
        .join(pops, on="territoire", how="left")
        .with_columns(
            pl.coalesce(
                pl.when(pl.col("_den") == name).then(pl.col(name)) for name in DENOMINATOR_LABELS
            ).alias("population"),
            pl.col("_den").replace_strict(DENOMINATOR_LABELS).alias("denominateur"),
            pl.col("mention")
            .replace_strict(
                {m.code: m.libelle for m in nomenclature.MENTIONS}, default=pl.col("mention")
            )
            .alias("libelle"),
            pl.lit(level).alias("niveau"),
        )
        .with_columns(
            pl.when(pl.col("population") > 0)
            .then(pl.col("capacite") / pl.col("population") * PER)
            .otherwise(None)
            .alias("taux_100k")
        )
    )
    order = {code: i for i, code in enumerate(mention_codes)}
    forme_order = {f: i for i, f in enumerate(formes)}
    return (
        out.with_columns(
            pl.col("mention").replace_strict(order, return_dtype=pl.Int32).alias("_m"),
            pl.col("forme").replace_strict(forme_order, return_dtype=pl.Int32).alias("_f"),
        )
        .sort("territoire", "_m", "_f")
        .select(
            "niveau",
            "territoire",
            "nom",
            "mention",
            "libelle",
            "forme",
            "etablissements",
            "unites",
            "lits",
            "places",
            "capacite",
            "population",
            "denominateur",
            "taux_100k",
            *closed_cols,
        )
    )


@same_frames(maxsize=4)
def _territory_population(
    communes: pl.DataFrame, level: str, population_ages: pl.DataFrame | None
) -> pl.DataFrame:
    """Per territory of ``level``: population, moins_18, plus_75 (sums over its origins)."""
    key = LEVEL_COLUMNS[level]
    pops = population_by_commune(communes, population_ages).join(
        with_territory_keys(communes).select(
            "commune_insee", *([key] if key != "commune_insee" else [])
        ),
        on="commune_insee",
    )
    out = pops.group_by(key).agg(pl.col("population", "moins_18", "plus_75").sum())
    if population_ages is None:  # the sum of nulls is 0: keep them null
        out = out.with_columns(pl.lit(None, pl.Float64).alias(c) for c in ("moins_18", "plus_75"))
    return out.rename({key: "territoire"})


def presence_matrix(
    tables: Mapping[str, pl.DataFrame],
    communes: pl.DataFrame,
    level: str = "departement",
    *,
    forme: str | None = None,
    departement_names: Mapping[str, str] | None = None,
    region_names: Mapping[str, str] | None = None,
    opening: OpeningRule | None = None,
) -> pl.DataFrame:
    """Territory × mention: how many establishments offer each mention (0 where none).

    One row per territory of the region (``territoire``, ``nom``, ``mentions_presentes``) and
    one column per mention code, in the nomenclature's order. ``forme`` restricts to one
    form of care; ``opening`` to the open offer. Why: planning at a glance, where a mention is
    missing.
    """
    level = check_level(level)
    key = LEVEL_COLUMNS[level]
    codes = [m.code for m in nomenclature.MENTIONS]
    offres = offers_by_establishment(tables, codes, forme, opening).join(
        establishment_territories(tables["etablissements"], communes), on="finess_eg", how="inner"
    )
    counts = (
        offres.group_by(key, "mention")
        .agg(pl.col("finess_eg").n_unique().alias("n"))
        .rename({key: "territoire"})
    )
    wide = territory_names(communes, level, departement_names, region_names)
    for code in codes:
        wide = wide.join(
            counts.filter(pl.col("mention") == code).select("territoire", pl.col("n").alias(code)),
            on="territoire",
            how="left",
        )
    wide = wide.with_columns(pl.col(codes).fill_null(0).cast(pl.Int64))
    return wide.with_columns(
        pl.sum_horizontal(pl.col(c) > 0 for c in codes).cast(pl.Int64).alias("mentions_presentes")
    ).select("territoire", "nom", "mentions_presentes", *codes)
